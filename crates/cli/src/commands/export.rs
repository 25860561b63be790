use crate::context::Context;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ExportArgs {
    /// The folder to write register files into (created if missing).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: PathBuf,
}

pub fn run(ctx: &Context, args: ExportArgs) -> Result<ExitCode> {
    let (_, register) = ctx.load()?;
    let files = airisk_regfile::write_dir(&register, &args.out)?;
    println!(
        "Exported {} objects to {} ({} files).",
        register.len(),
        args.out.display(),
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}
