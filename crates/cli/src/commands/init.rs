use crate::context::Context;
use airisk_store::Location;
use anyhow::Result;
use std::process::ExitCode;

pub fn run(ctx: &Context) -> Result<ExitCode> {
    let existed = match &ctx.location {
        Location::Sqlite(path) => path.exists(),
        Location::Postgres(_) => true,
    };
    let store = ctx.open()?;
    let what = match &ctx.location {
        Location::Sqlite(_) if existed => "SQLite database is up to date",
        Location::Sqlite(_) => "Created SQLite database",
        Location::Postgres(_) => "PostgreSQL database is ready",
    };
    println!(
        "{what}: {} (schema version {})",
        ctx.location.redacted(),
        store.schema_version()
    );
    Ok(ExitCode::SUCCESS)
}
