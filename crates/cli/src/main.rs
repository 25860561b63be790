//! The `airisk` binary: argument parsing and wiring only. Business rules live in
//! `airisk-model`, files in `airisk-regfile`, storage in `airisk-store`.

mod commands;
mod context;
mod render;

use clap::{Parser, Subcommand};
use context::Context;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// airisk — the AI system inventory, risk register and evidence for AI risk management.
#[derive(Parser)]
#[command(name = "airisk", version, about, long_about = None)]
struct Cli {
    /// The database: a SQLite file path (created if missing) or a postgres:// URL.
    #[arg(long, global = true, env = "AIRISK_DB", default_value = "airisk.db")]
    db: String,
    /// Who is making changes, recorded in the history.
    #[arg(long = "as", global = true, env = "AIRISK_USER", value_name = "NAME")]
    actor: Option<String>,
    /// The date to evaluate reviews and deadlines against (YYYY-MM-DD); defaults to today.
    #[arg(long, global = true, env = "AIRISK_TODAY", value_name = "DATE")]
    today: Option<String>,
    /// The private key that signs ledger checkpoints (created by `airisk init`); default:
    /// beside the SQLite file (DB.ledger-key), or ./airisk-ledger.key for PostgreSQL.
    #[arg(long, global = true, env = "AIRISK_LEDGER_KEY", value_name = "PATH")]
    ledger_key: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database (or bring its schema up to date).
    Init,
    /// Load the example register into a fresh database and print an overview.
    Demo(commands::demo::DemoArgs),
    /// Create and update register objects from YAML files (register as code).
    Apply(commands::apply::ApplyArgs),
    /// Write the register as YAML files that `apply` reads back unchanged.
    Export(commands::export::ExportArgs),
    /// The AI system inventory.
    #[command(subcommand)]
    System(commands::system::SystemCommand),
    /// The risk register.
    #[command(subcommand)]
    Risk(commands::risk::RiskCommand),
    /// Change history of any object (all of it, one kind, or one object).
    History(commands::history::HistoryArgs),
    /// Heat map of open risks: inherent and residual.
    Matrix(commands::matrix::MatrixArgs),
    /// Systems × risk categories: covered, not applicable, or a gap.
    Screening(commands::screening::ScreeningArgs),
    /// What needs attention: overdue reviews and treatments, nonconformities, unapproved risks.
    Due(commands::due::DueArgs),
    /// The tamper-evident ledger: verify, checkpoints, proofs, bundles.
    #[command(subcommand)]
    Ledger(commands::ledger::LedgerCommand),
    /// Evidence files linked to risks, treatments, systems and controls.
    #[command(subcommand)]
    Evidence(commands::evidence::EvidenceCommand),
    /// Framework catalogs: ISO/IEC 42001, NIST AI RMF, EU AI Act, OWASP, MITRE ATLAS, MIT.
    #[command(subcommand)]
    Catalog(commands::catalog::CatalogCommand),
    /// Serve the web application and its JSON API.
    Serve(commands::serve::ServeArgs),
    /// Accounts of the web application: add, list, tokens, disable.
    #[command(subcommand)]
    User(commands::serve::UserCommand),
    /// Applied controls: status, owner, evidence and effectiveness.
    #[command(subcommand)]
    Control(commands::control::ControlCommand),
    /// Statement of Applicability: every control of a framework, applicable or excluded, with problems.
    Soa(commands::soa::SoaArgs),
    /// Which framework items the applied controls cover, directly or through crosswalks.
    Coverage(commands::soa::CoverageArgs),
    /// The mappings between two frameworks (e.g. nist-ai-rmf-1.0 iso42001-2023).
    Crosswalk {
        from: String,
        to: String,
        /// Also load the catalog and crosswalk files in this folder.
        #[arg(long, value_name = "DIR")]
        with: Option<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// LLM gateway: an OpenAI-compatible proxy that enforces guard policies and logs to the ledger.
    Gateway(commands::gateway::GatewayArgs),
    /// Runtime guardrails: check prompts, context, outputs and tool calls against a policy.
    Guard(commands::guard::GuardArgs),
    /// Pre-launch red teaming: attack suites, converters, judges, reports and release gates.
    Redteam(commands::redteam::RedteamArgs),
    /// Print the JSON Schema of register files.
    Schema,
}

fn main() -> ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    let result =
        Context::new(cli.db, cli.actor, cli.today, cli.ledger_key).and_then(|ctx| {
            match cli.command {
                Command::Init => commands::init::run(&ctx),
                Command::Serve(args) => commands::serve::run_serve(&ctx, args),
                Command::User(command) => commands::serve::run_user(&ctx, command),
                Command::Control(command) => commands::control::run(&ctx, command),
                Command::Soa(args) => commands::soa::run_soa(&ctx, args),
                Command::Coverage(args) => commands::soa::run_coverage(&ctx, args),
                Command::Demo(args) => commands::demo::run(&ctx, args),
                Command::Apply(args) => commands::apply::run(&ctx, args),
                Command::Export(args) => commands::export::run(&ctx, args),
                Command::System(command) => commands::system::run(&ctx, command),
                Command::Risk(command) => commands::risk::run(&ctx, command),
                Command::History(args) => commands::history::run(&ctx, args),
                Command::Matrix(args) => commands::matrix::run(&ctx, args),
                Command::Screening(args) => commands::screening::run(&ctx, args),
                Command::Due(args) => commands::due::run(&ctx, args),
                Command::Ledger(command) => commands::ledger::run(&ctx, command),
                Command::Evidence(command) => commands::evidence::run(&ctx, command),
                Command::Catalog(command) => commands::catalog::run(command),
                Command::Crosswalk {
                    from,
                    to,
                    with,
                    json,
                } => commands::catalog::crosswalk(&from, &to, with.as_ref(), json),
                Command::Gateway(args) => commands::gateway::run(&ctx, args),
                Command::Guard(args) => commands::guard::run(&ctx, args),
                Command::Redteam(args) => commands::redteam::run(&ctx, args),
                Command::Schema => {
                    print!("{}", airisk_regfile::register_file_schema());
                    Ok(ExitCode::SUCCESS)
                }
            }
        });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(context::EXIT_FAILURE)
        }
    }
}

/// Rust ignores SIGPIPE, so `airisk due | head` would fail writing to a closed pipe and
/// panic. Like other command-line tools, end quietly instead.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
