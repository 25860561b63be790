use crate::commands::apply::{apply_loaded, report_invalid, Output};
use crate::context::Context;
use airisk_store::evidence::{EvidenceOutcome, NewEvidence};
use airisk_store::Location;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

include!(concat!(env!("OUT_DIR"), "/example_register.rs"));

/// Evidence the demo stores for the example's applied controls:
/// (file name, control, outcome, note, content).
const EXAMPLE_EVIDENCE: [(&str, &str, Option<EvidenceOutcome>, &str, &str); 4] = [
    (
        "ai-policy-v3-approval.md",
        "CTL-AI-POLICY",
        None,
        "Board approval of AI policy v3",
        include_str!("../../../../examples/evidence/ai-policy-v3-approval.md"),
    ),
    (
        "fairness-test-credit-r4.2.json",
        "CTL-FAIRNESS-TESTING",
        Some(EvidenceOutcome::Pass),
        "Release 4.2 fairness gate",
        include_str!("../../../../examples/evidence/fairness-test-credit-r4.2.json"),
    ),
    (
        "redteam-support-assistant-r7.json",
        "CTL-REDTEAM",
        Some(EvidenceOutcome::Pass),
        "Release 7 red-team run",
        include_str!("../../../../examples/evidence/redteam-support-assistant-r7.json"),
    ),
    (
        "drift-credit-week46.json",
        "CTL-DRIFT-MONITORING",
        Some(EvidenceOutcome::Fail),
        "Week 46 drift alert",
        include_str!("../../../../examples/evidence/drift-credit-week46.json"),
    ),
];

#[derive(Args)]
pub struct DemoArgs {
    /// Keep the demo database at this path (default: a fresh temporary file).
    #[arg(long, value_name = "PATH")]
    keep: Option<PathBuf>,
    /// Serve the web application on this address once loaded.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Print the overview and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
}

/// Demo accounts, one per role: (username, role, register person). Each password is
/// `USERNAME-demo-pass`; the database is a throwaway on loopback.
const DEMO_ACCOUNTS: [(&str, airisk_web::access::Role, Option<&str>); 5] = [
    ("admin", airisk_web::access::Role::Admin, None),
    (
        "risk",
        airisk_web::access::Role::RiskManager,
        Some("a.khan"),
    ),
    (
        "owner",
        airisk_web::access::Role::Owner,
        Some("e.lindqvist"),
    ),
    (
        "contributor",
        airisk_web::access::Role::Contributor,
        Some("l.moreau"),
    ),
    ("auditor", airisk_web::access::Role::Auditor, None),
];

pub fn run(ctx: &Context, args: DemoArgs) -> Result<ExitCode> {
    if EXAMPLE_REGISTER.is_empty() {
        bail!("this airisk was built without the example register (examples/register)");
    }
    let temp = tempfile::tempdir()?;
    let path = match args.keep {
        Some(path) => {
            if path.exists() {
                bail!(
                    "{} already exists; the demo starts from a fresh database",
                    path.display()
                );
            }
            path
        }
        None => temp.path().join("demo.db"),
    };
    let mut key = path.as_os_str().to_owned();
    key.push(".ledger-key");
    let demo = Context {
        location: Location::Sqlite(path.clone()),
        actor: ctx.actor.clone(),
        today: ctx.today,
        ledger_key: key.into(),
    };
    crate::commands::init::ensure_ledger_key(&demo)?;
    let sources = EXAMPLE_REGISTER
        .iter()
        .map(|(name, text)| {
            (
                PathBuf::from("examples/register").join(name),
                text.to_string(),
            )
        })
        .collect();
    let loaded = match airisk_regfile::load_sources(sources) {
        Ok(loaded) => loaded,
        Err(diagnostics) => return Ok(report_invalid(&diagnostics)),
    };
    let mut store = demo.open()?;
    println!("Loading the example register into {} …", path.display());
    let library = crate::commands::catalog::library(None)?;
    let code = apply_loaded(
        &demo,
        &mut store,
        loaded,
        &library,
        "demo",
        false,
        Output::Summary,
    )?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    for (file_name, control, outcome, note, content) in EXAMPLE_EVIDENCE {
        store.add_evidence(
            NewEvidence {
                content: content.as_bytes().to_vec(),
                target: format!("control:{control}"),
                file_name: file_name.to_string(),
                note: note.to_string(),
                outcome,
            },
            &demo.actor,
            chrono::Utc::now(),
        )?;
    }
    let register = store.load_register()?;
    let checkpoints = store.checkpoints()?;
    println!(
        "Every change is in the tamper-evident ledger: {} entries, latest signed checkpoint covers {}.",
        store.ledger_size()?,
        checkpoints.last().map(|c| c.0).unwrap_or(0)
    );
    println!();
    crate::commands::system::print_list(&register, demo.today);
    println!();
    crate::commands::matrix::print_heat_maps(&register);
    println!();
    crate::commands::due::print_report(&register.due(demo.today), &register);
    println!();
    let evidence = crate::commands::soa::evidence_index(&mut store)?;
    if let Ok(iso) = library.find_catalog("iso42001") {
        let soa = airisk_compliance::build_soa(&register, iso, &evidence, demo.today);
        let s = &soa.summary;
        println!(
            "Statement of Applicability (ISO/IEC 42001 Annex A): {} controls, {} applicable, {} excluded, {} undecided, {} with evidence; {} problem{} (airisk soa).",
            s.items,
            s.applicable,
            s.excluded,
            s.undecided,
            s.with_evidence,
            soa.problems.len(),
            if soa.problems.len() == 1 { "" } else { "s" }
        );
        println!();
    }
    println!(
        "Explore it: airisk --db {} risk list | matrix | screening | due | soa | control list | coverage --framework nist-ai-rmf",
        path.display()
    );
    if ctx.today != chrono::Local::now().date_naive() {
        println!("(dates evaluated as of {})", ctx.today);
    }
    if path.starts_with(temp.path()) {
        // Keep the temporary database for the commands suggested above.
        let _ = temp.keep();
    }
    for (username, role, person) in DEMO_ACCOUNTS {
        let request = airisk_web::api::NewAccount {
            username: username.to_string(),
            display_name: format!("Demo {}", role.as_str().replace('_', " ")),
            role,
            person_id: person.map(str::to_string),
            password: format!("{username}-demo-pass"),
        };
        crate::commands::serve::put_account(&mut store, &request, None)?;
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    let library = crate::commands::catalog::library(None)?;
    let options = crate::commands::serve::ServeOptions {
        listen: args.listen,
        secure_cookies: false,
        store_connections: airisk_web::Config::default().store_connections,
    };
    crate::commands::serve::serve_store(store, library, &demo, options, |url| {
        println!();
        println!("The web application is at {url}");
        println!("Sign in as any of (password = USERNAME-demo-pass):");
        for (username, role, person) in DEMO_ACCOUNTS {
            println!(
                "  {username:<12} {:<13} {}",
                role.as_str(),
                person.map(|p| format!("acts as {p}")).unwrap_or_default()
            );
        }
        println!("Ctrl-C stops the server.");
    })
}
