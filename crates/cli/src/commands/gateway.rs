//! `airisk gateway`: the OpenAI-compatible LLM gateway (`airisk-gateway`), logging to this
//! database's ledger.

use crate::context::Context;
use airisk_gateway::{GatewayConfig, LogContent};
use anyhow::{anyhow, bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run the LLM gateway: an OpenAI-compatible proxy that enforces guard policies inline and
/// records every exchange in the ledger. Either one route from flags, or `--config FILE`.
#[derive(Args, Debug)]
pub struct GatewayArgs {
    /// Address to listen on (overrides the config file's `listen`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Upstream base URL including the version, e.g. https://api.openai.com/v1.
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    pub upstream: Option<String>,
    /// Guard policy file, or `default` for the built-in policy.
    #[arg(long, value_name = "FILE", conflicts_with = "config")]
    pub policy: Option<String>,
    /// The register's AI system id recorded on every ledger entry.
    #[arg(long, value_name = "ID", conflicts_with = "config")]
    pub system: Option<String>,
    /// YAML file with several routes, keys and limits (see docs/gateway.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What the ledger keeps of bodies: none, hashes or full (overrides the config file).
    #[arg(long, value_name = "MODE")]
    pub log_content: Option<String>,
    /// Erase logged bodies (log-content full) older than this many days.
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// Threads serving requests (overrides the config file's `workers`; default: one per
    /// available core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Check the configuration and its policies, then exit without serving.
    #[arg(long)]
    pub check: bool,
}

pub fn run(ctx: &Context, args: GatewayArgs) -> Result<ExitCode> {
    let mut config = match (&args.config, &args.upstream) {
        (Some(path), _) => GatewayConfig::load(path)?,
        (None, Some(upstream)) => GatewayConfig::single(
            args.listen
                .clone()
                .unwrap_or_else(|| "127.0.0.1:8787".into()),
            upstream.clone(),
            args.policy.clone().unwrap_or_else(|| "default".into()),
            args.system.clone(),
        )?,
        (None, None) => bail!("give --upstream URL (and --policy FILE), or --config FILE"),
    };
    if let Some(listen) = args.listen {
        config.spec.listen = listen;
    }
    if let Some(mode) = &args.log_content {
        config.spec.log_content = LogContent::parse(mode)
            .ok_or_else(|| anyhow!("--log-content: `{mode}` is not none, hashes or full"))?;
    }
    if args.retention_days.is_some() {
        config.spec.retention_days = args.retention_days;
    }
    if let Some(workers) = args.workers {
        if !(1..=1024).contains(&workers) {
            bail!("--workers must be between 1 and 1024");
        }
        config.spec.workers = Some(workers);
    }
    if args.check {
        airisk_gateway::Gateway::new(&config, None)?;
        println!(
            "{}: {} route(s), policies compile",
            config.source,
            config.spec.routes.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = ctx.open()?;
    airisk_gateway::run_blocking(&config, Some(store))?;
    Ok(ExitCode::SUCCESS)
}
