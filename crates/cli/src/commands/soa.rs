//! `airisk soa` and `airisk coverage`: the register's applied controls against a framework.

use crate::commands::catalog::library;
use crate::context::{Context, EXIT_ATTENTION};
use crate::render::{self, truncate};
use airisk_catalog::Library;
use airisk_compliance::{
    build_soa, coverage, oscal, render as report, Coverage, EvidenceFact, EvidenceIndex, Soa,
};
use airisk_model::Register;
use airisk_store::Store;
use anyhow::{anyhow, Context as _, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SoaFormat {
    /// A table on the terminal.
    Text,
    Md,
    Json,
    Csv,
    Html,
    /// OSCAL component definition (JSON).
    Oscal,
}

#[derive(Args)]
pub struct SoaArgs {
    /// The framework: a catalog id or a framework name with one version.
    #[arg(long, default_value = "iso42001")]
    framework: String,
    #[arg(long, value_enum, default_value = "text")]
    format: SoaFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with status 3 when the SoA has problems (for CI).
    #[arg(long)]
    check: bool,
    /// Also load the catalog and crosswalk files in this folder.
    #[arg(long, value_name = "DIR")]
    with: Option<PathBuf>,
}

#[derive(Args)]
pub struct CoverageArgs {
    /// The framework: a catalog id or a framework name with one version.
    #[arg(long)]
    framework: String,
    #[arg(long)]
    json: bool,
    /// Print Markdown instead of a table.
    #[arg(long, conflicts_with = "json")]
    md: bool,
    /// Also load the catalog and crosswalk files in this folder.
    #[arg(long, value_name = "DIR")]
    with: Option<PathBuf>,
}

/// The register, the catalogs and the stored evidence: everything a compliance view joins.
pub struct ComplianceInputs {
    pub register: Register,
    pub library: Library,
    pub evidence: EvidenceIndex,
}

pub fn inputs(ctx: &Context, with: Option<&PathBuf>) -> Result<ComplianceInputs> {
    let (mut store, register) = ctx.load()?;
    Ok(ComplianceInputs {
        evidence: evidence_index(&mut store)?,
        register,
        library: library(with)?,
    })
}

pub fn evidence_index(store: &mut Store) -> Result<EvidenceIndex> {
    let records = store.evidence(None).context("reading evidence")?;
    let mut facts = Vec::with_capacity(records.len());
    for r in &records {
        let fact = EvidenceFact::from_stored(
            r.id,
            &r.target,
            r.ledger_index,
            &r.created_at,
            r.outcome,
            &r.file_name,
        )
        .ok_or_else(|| anyhow!("evidence {} has a malformed date `{}`", r.id, r.created_at))?;
        facts.push(fact);
    }
    Ok(EvidenceIndex::new(facts))
}

pub fn run_soa(ctx: &Context, args: SoaArgs) -> Result<ExitCode> {
    let inputs = inputs(ctx, args.with.as_ref())?;
    let catalog = inputs
        .library
        .find_catalog(&args.framework)
        .map_err(|e| anyhow!("--framework {}: {e}", args.framework))?;
    let soa = build_soa(&inputs.register, catalog, &inputs.evidence, ctx.today);
    let organisation = inputs
        .register
        .settings
        .as_ref()
        .map_or("The organisation".to_string(), |s| s.name.clone());
    let text = match args.format {
        SoaFormat::Text => text_soa(&soa),
        SoaFormat::Md => report::soa_markdown(&soa),
        SoaFormat::Json => pretty(&soa)?,
        SoaFormat::Csv => report::soa_csv(&soa).context("writing CSV")?,
        SoaFormat::Html => report::soa_html(&soa),
        SoaFormat::Oscal => pretty(&oscal::soa_component_definition(&soa, &organisation))?,
    };
    emit(&text, args.output.as_ref())?;
    Ok(if args.check && !soa.problems.is_empty() {
        ExitCode::from(EXIT_ATTENTION)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn run_coverage(ctx: &Context, args: CoverageArgs) -> Result<ExitCode> {
    let inputs = inputs(ctx, args.with.as_ref())?;
    let catalog = inputs
        .library
        .find_catalog(&args.framework)
        .map_err(|e| anyhow!("--framework {}: {e}", args.framework))?;
    let result = coverage(
        &inputs.register,
        &inputs.library,
        catalog,
        &inputs.evidence,
        ctx.today,
    );
    if args.json {
        render::print_json(&result)?;
    } else if args.md {
        print!("{}", report::coverage_markdown(&result));
    } else {
        print_coverage(&result);
    }
    Ok(ExitCode::SUCCESS)
}

fn pretty<T: serde::Serialize>(value: &T) -> Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

fn emit(text: &str, output: Option<&PathBuf>) -> Result<()> {
    match output {
        Some(path) => {
            // Write beside the target and rename, so a failed write never leaves half a report.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut file = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("writing {}", path.display()))?;
            std::io::Write::write_all(&mut file, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            file.persist(path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn text_soa(soa: &Soa) -> String {
    let s = &soa.summary;
    let mut table = render::table(&[
        "Item",
        "Title",
        "Applicability",
        "Status",
        "Owner",
        "Controls",
        "Evidence",
    ]);
    for row in &soa.rows {
        table.add_row(vec![
            row.item.clone(),
            truncate(&row.title, 40),
            row.applicability.as_str().to_string(),
            row.status.as_str().to_string(),
            row.owners.join(", "),
            row.controls
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            match (row.evidence_count, row.effectiveness) {
                (0, _) => "-".to_string(),
                (n, Some(r)) => format!("{n} {}", r.as_str()),
                (n, None) => n.to_string(),
            },
        ]);
    }
    let mut out = format!(
        "Statement of Applicability: {} as of {}\n{} items: {} applicable, {} excluded, {} undecided; {} implemented, {} with evidence\n{table}\n",
        soa.framework, soa.as_of, s.items, s.applicable, s.excluded, s.undecided, s.implemented, s.with_evidence
    );
    out.push_str(&format!("Problems ({})\n", soa.problems.len()));
    for p in &soa.problems {
        out.push_str(&format!("  {:<28} {}\n", p.code, p.message));
    }
    out
}

fn print_coverage(c: &Coverage) {
    println!(
        "Coverage of {} as of {}: {} items ({} excluded) — {:.1}% covered, {:.1}% covered with evidence",
        c.framework, c.as_of, c.items, c.excluded, c.percent_covered, c.percent_with_evidence
    );
    println!(
        "  {} with evidence, {} without evidence, {} partial, {} uncovered",
        c.evidenced, c.covered, c.partial, c.uncovered
    );
    let mut table = render::table(&["Item", "Title", "State", "Controls"]);
    for row in &c.rows {
        table.add_row(vec![
            row.item.clone(),
            truncate(&row.title, 44),
            row.state.as_str().to_string(),
            row.controls
                .iter()
                .map(|cc| match &cc.via {
                    airisk_compliance::Via::Direct => cc.control.clone(),
                    airisk_compliance::Via::Crosswalk { from, .. } => {
                        format!("{} (via {from})", cc.control)
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    println!("{table}");
}
