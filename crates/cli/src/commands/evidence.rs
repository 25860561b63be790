use crate::context::Context;
use crate::render;
use airisk_store::evidence::{EvidenceOutcome, EvidenceRecord, NewEvidence};
use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// Evidence files above this size are refused (they belong in a document store, linked by URL).
const MAX_EVIDENCE_BYTES: u64 = 64 << 20;

#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// Store a file as evidence for a risk, treatment, system or control, and record it in the ledger.
    Add {
        file: PathBuf,
        /// risk:ID, treatment:ID, system:ID or control:ID (an applied control, e.g. control:CTL-HUMAN-REVIEW).
        #[arg(long = "for", value_name = "TARGET")]
        target: String,
        #[arg(long, default_value = "")]
        note: String,
        /// The evidence is a test result: `pass` or `fail`. Control effectiveness counts only these.
        #[arg(long, value_parser = parse_outcome)]
        outcome: Option<EvidenceOutcome>,
        #[arg(long)]
        json: bool,
    },
    /// List evidence, optionally for one target.
    List {
        #[arg(long = "for", value_name = "TARGET")]
        target: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one evidence record; `--output` writes the stored file back out.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(ctx: &Context, command: EvidenceCommand) -> Result<ExitCode> {
    match command {
        EvidenceCommand::Add {
            file,
            target,
            note,
            outcome,
            json,
        } => {
            let (mut store, register) = ctx.load()?;
            check_target(&register, &target)?;
            let size = std::fs::metadata(&file)
                .with_context(|| format!("reading {}", file.display()))?
                .len();
            if size > MAX_EVIDENCE_BYTES {
                bail!(
                    "{} is {size} bytes; evidence files are limited to {MAX_EVIDENCE_BYTES} bytes",
                    file.display()
                );
            }
            let content =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (record, appended) = store.add_evidence(
                NewEvidence {
                    content,
                    target,
                    file_name,
                    note,
                    outcome,
                },
                &ctx.actor,
                chrono::Utc::now(),
            )?;
            if json {
                render::print_json(&record)?;
            } else {
                println!(
                    "Evidence {} ({} bytes, sha256 {}) recorded for {} as ledger entry {}{}.",
                    record.id,
                    record.size,
                    record.sha256,
                    record.target,
                    record.ledger_index,
                    appended
                        .checkpoint
                        .map(|s| format!(", signed in checkpoint {s}"))
                        .unwrap_or_default()
                );
            }
        }
        EvidenceCommand::List { target, json } => {
            let mut store = ctx.open()?;
            let records = store.evidence(target.as_deref())?;
            if json {
                render::print_json(&serde_json::json!({ "evidence": records }))?;
            } else {
                print_table(&records);
            }
        }
        EvidenceCommand::Show { id, json, output } => {
            let mut store = ctx.open()?;
            let Some(record) = store.evidence(None)?.into_iter().find(|r| r.id == id) else {
                bail!("no evidence with id {id} (see `airisk evidence list`)");
            };
            if let Some(path) = output {
                let content = store.evidence_content(&record.sha256)?.ok_or_else(|| {
                    anyhow::anyhow!("the stored content of evidence {id} is missing")
                })?;
                if airisk_ledger::hash::to_hex(&airisk_ledger::sha256(&content)) != record.sha256 {
                    bail!("the stored content of evidence {id} no longer matches its hash");
                }
                std::fs::write(&path, content)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if json {
                render::print_json(&record)?;
            } else {
                println!(
                    "evidence {}: {} for {}",
                    record.id, record.file_name, record.target
                );
                println!("  sha256:  {} ({} bytes)", record.sha256, record.size);
                println!("  note:    {}", record.note);
                if let Some(outcome) = record.outcome {
                    println!("  outcome: {}", outcome.as_str());
                }
                println!("  added:   {} by {}", record.created_at, record.created_by);
                println!(
                    "  ledger:  entry {} (airisk ledger proof {})",
                    record.ledger_index, record.ledger_index
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Evidence must point at something that exists.
fn check_target(register: &airisk_model::Register, target: &str) -> Result<()> {
    let Some((kind, id)) = target.split_once(':') else {
        bail!(
            "--for `{target}`: expected KIND:ID with KIND one of risk, treatment, system, control"
        );
    };
    let exists = match kind {
        "risk" => register.risks.contains_key(id),
        "treatment" => register.treatments.contains_key(id),
        "system" => register.systems.contains_key(id),
        "control" => register.controls.contains_key(id),
        _ => bail!(
            "--for `{target}`: unknown kind `{kind}` (expected risk, treatment, system or control)"
        ),
    };
    if !exists {
        if kind == "control" && id.contains(':') {
            bail!("--for `{target}`: evidence is linked to an applied control (control:ID from controls.yaml), not to a framework item; the item's controls carry it to the SoA");
        }
        bail!("--for `{target}`: no {kind} with id `{id}`");
    }
    Ok(())
}

fn parse_outcome(text: &str) -> Result<EvidenceOutcome, String> {
    EvidenceOutcome::parse(text).ok_or_else(|| format!("`{text}`: expected pass or fail"))
}

fn print_table(records: &[EvidenceRecord]) {
    let mut table = render::table(&[
        "ID", "For", "File", "Size", "SHA-256", "Ledger", "Added", "By",
    ]);
    for r in records {
        table.add_row(vec![
            r.id.to_string(),
            r.target.clone(),
            render::truncate(&r.file_name, 30),
            r.size.to_string(),
            r.sha256[..16].to_string(),
            r.ledger_index.to_string(),
            r.created_at.clone(),
            r.created_by.clone(),
        ]);
    }
    println!("Evidence ({})", records.len());
    println!("{table}");
}

/// Where a test's result is filed: a system, risks and applied controls, all checked to exist
/// before the test runs (a long run should not fail at the end on a typo).
pub struct TestLinks {
    pub system: Option<String>,
    pub risks: Vec<String>,
    pub controls: Vec<String>,
}

impl TestLinks {
    pub fn is_empty(&self) -> bool {
        self.system.is_none() && self.risks.is_empty() && self.controls.is_empty()
    }

    /// Fails, naming the flag, on any id the register does not have.
    pub fn check(&self, ctx: &Context) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let (_, register) = ctx.load()?;
        if let Some(system) = &self.system {
            if !register.systems.contains_key(system) {
                bail!("--system {system}: no such system in the register");
            }
        }
        for r in &self.risks {
            if !register.risks.contains_key(r) {
                bail!("--risk {r}: no such risk in the register");
            }
        }
        for c in &self.controls {
            if !register.controls.contains_key(c) {
                bail!("--control {c}: no such applied control in the register (see `airisk control list`)");
            }
        }
        Ok(())
    }

    /// The evidence targets: `system:…`, `risk:…`, `control:…`.
    pub fn targets(&self) -> Vec<String> {
        let mut targets: Vec<String> = self.system.iter().map(|s| format!("system:{s}")).collect();
        targets.extend(self.risks.iter().map(|r| format!("risk:{r}")));
        targets.extend(self.controls.iter().map(|c| format!("control:{c}")));
        targets
    }
}

/// Stores one test report as evidence for every linked target, each with the same outcome
/// (`None` for a run without gates: a measurement, not a test result).
pub fn record_test_report(
    store: &mut airisk_store::Store,
    ctx: &Context,
    links: &TestLinks,
    file_name: &str,
    content: &[u8],
    note: &str,
    outcome: Option<EvidenceOutcome>,
) -> Result<Vec<EvidenceRecord>> {
    let mut records = vec![];
    for target in links.targets() {
        let (rec, _) = store.add_evidence(
            NewEvidence {
                content: content.to_vec(),
                target,
                file_name: file_name.into(),
                note: note.into(),
                outcome,
            },
            &ctx.actor,
            chrono::Utc::now(),
        )?;
        records.push(rec);
    }
    Ok(records)
}

/// The ids of `records`, comma-separated, for the "recorded as evidence …" line.
pub fn record_ids(records: &[EvidenceRecord]) -> String {
    records
        .iter()
        .map(|r| r.id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
