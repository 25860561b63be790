use crate::context::{Context, EXIT_FAILURE};
use crate::render;
use airisk_catalog::Library;
use airisk_model::{plan, Action, Plan};
use airisk_regfile::{Diagnostic, Loaded};
use airisk_store::Store;
use anyhow::{Context as _, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ApplyArgs {
    /// A register YAML file, or a folder of them (read recursively).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    path: PathBuf,
    /// Show what would change, field by field, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Also accept references to the catalogs in this folder (besides the built-in ones).
    #[arg(long, value_name = "DIR")]
    with: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: ApplyArgs) -> Result<ExitCode> {
    let loaded = match airisk_regfile::load_path(&args.path) {
        Ok(loaded) => loaded,
        Err(diagnostics) => return Ok(report_invalid(&diagnostics)),
    };
    let mut store = ctx.open()?;
    let label = format!("apply -f {}", args.path.display());
    let output = if args.json {
        Output::Json
    } else {
        Output::Plan
    };
    let library = crate::commands::catalog::library(args.with.as_ref())?;
    apply_loaded(
        ctx,
        &mut store,
        loaded,
        &library,
        &label,
        args.dry_run,
        output,
    )
}

/// How `apply_loaded` reports what it did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Every change, field by field, then the summary.
    Plan,
    /// The summary line only.
    Summary,
    Json,
}

/// Plans, validates and (unless `dry_run`) commits loaded objects in one transaction.
pub fn apply_loaded(
    ctx: &Context,
    store: &mut Store,
    loaded: Loaded,
    library: &Library,
    label: &str,
    dry_run: bool,
    output: Output,
) -> Result<ExitCode> {
    let current = store.load_register().context("reading the register")?;
    let objects = loaded.objects.clone();
    let plan = plan(&current, objects);
    let mut issues = plan.result.validate();
    // Framework references are checked against the catalogs, which the model does not know.
    issues.extend(airisk_compliance::check_references(&plan.result, library));
    if !issues.is_empty() {
        let diagnostics: Vec<Diagnostic> = issues.iter().map(|i| loaded.locate(i)).collect();
        return Ok(report_invalid(&diagnostics));
    }
    let changeset = if dry_run || plan.is_noop() {
        None
    } else {
        let summary = store
            .commit(plan.writes(), &ctx.actor, chrono::Utc::now(), label)
            .context("writing the register")?;
        Some(summary.changeset)
    };
    match output {
        Output::Json => render::print_json(&PlanReport::new(&plan, dry_run, changeset))?,
        Output::Plan => print_plan(&plan, dry_run, changeset, true),
        Output::Summary => print_plan(&plan, dry_run, changeset, false),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints every diagnostic and says that nothing was written.
pub fn report_invalid(diagnostics: &[Diagnostic]) -> ExitCode {
    for d in diagnostics {
        eprintln!("error: {d}");
    }
    let n = diagnostics.len();
    eprintln!(
        "error: {n} problem{} found; nothing was written",
        if n == 1 { "" } else { "s" }
    );
    ExitCode::from(EXIT_FAILURE)
}

fn print_plan(plan: &Plan, dry_run: bool, changeset: Option<i64>, each_change: bool) {
    for change in plan.writes().filter(|_| each_change) {
        println!("{} {} {}", change.action.as_str(), change.kind, change.id);
        if change.action == Action::Update {
            render::print_field_changes(&change.fields);
        }
    }
    let (created, updated, unchanged) = (
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Unchanged),
    );
    if plan.is_noop() {
        println!("No changes: the register already matches ({unchanged} objects unchanged).");
    } else if dry_run {
        println!(
            "Dry run: would create {created}, update {updated}, leave {unchanged} unchanged. Nothing was written."
        );
    } else {
        println!(
            "Applied: {created} created, {updated} updated, {unchanged} unchanged (changeset {}).",
            changeset.unwrap_or_default()
        );
    }
}

#[derive(Serialize)]
struct PlanReport<'a> {
    dry_run: bool,
    /// The history changeset written, or null when nothing was written.
    changeset: Option<i64>,
    created: usize,
    updated: usize,
    unchanged: usize,
    changes: &'a [airisk_model::PlannedChange],
}

impl<'a> PlanReport<'a> {
    fn new(plan: &'a Plan, dry_run: bool, changeset: Option<i64>) -> PlanReport<'a> {
        PlanReport {
            dry_run,
            changeset,
            created: plan.count(Action::Create),
            updated: plan.count(Action::Update),
            unchanged: plan.count(Action::Unchanged),
            changes: &plan.changes,
        }
    }
}
