//! `airisk control`: applied controls with their status, evidence and effectiveness.

use crate::commands::soa::evidence_index;
use crate::context::Context;
use crate::render::{self, truncate};
use airisk_compliance::{assess_control, ControlAssessment};
use anyhow::{bail, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ControlCommand {
    /// Every applied control, optionally only those of one system or risk.
    List {
        #[arg(long)]
        system: Option<String>,
        #[arg(long)]
        risk: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One control: what it implements, what it treats, its evidence and effectiveness.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context, command: ControlCommand) -> Result<ExitCode> {
    let (mut store, register) = ctx.load()?;
    let evidence = evidence_index(&mut store)?;
    match command {
        ControlCommand::List { system, risk, json } => {
            let mut controls: Vec<ControlAssessment> = register
                .controls
                .values()
                .filter(|c| system.as_ref().is_none_or(|s| c.systems.contains(s)))
                .filter(|c| risk.as_ref().is_none_or(|r| c.risks.contains(r)))
                .map(|c| assess_control(c, &evidence, ctx.today))
                .collect();
            controls.sort_by(|a, b| airisk_model::natural_cmp(&a.id, &b.id));
            if json {
                render::print_json(&serde_json::json!({ "controls": controls }))?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = render::table(&[
                "ID",
                "Title",
                "Status",
                "Owner",
                "Implements",
                "Evidence",
                "Effectiveness",
            ]);
            for c in &controls {
                table.add_row(vec![
                    c.id.clone(),
                    truncate(&c.title, 36),
                    c.status.as_str().to_string(),
                    c.owner.clone().unwrap_or_else(|| "-".into()),
                    if c.custom {
                        "custom".to_string()
                    } else {
                        truncate(&c.implements.join(", "), 40)
                    },
                    c.evidence.len().to_string(),
                    c.effectiveness.rating.as_str().to_string(),
                ]);
            }
            println!("Applied controls ({})\n{table}", controls.len());
        }
        ControlCommand::Show { id, json } => {
            let Some(control) = register.controls.get(&id) else {
                bail!("no control with id `{id}` (see `airisk control list`)");
            };
            let c = assess_control(control, &evidence, ctx.today);
            if json {
                render::print_json(&serde_json::json!({
                    "control": c,
                    "description": control.description,
                }))?;
                return Ok(ExitCode::SUCCESS);
            }
            println!("{}: {}", c.id, c.title);
            println!("  status:      {}", c.status.as_str());
            println!("  owner:       {}", c.owner.as_deref().unwrap_or("(none)"));
            println!("  description: {}", control.description);
            if c.custom {
                println!("  implements:  (custom control)");
            } else {
                println!("  implements:  {}", c.implements.join(", "));
            }
            println!("  systems:     {}", c.systems.join(", "));
            println!("  risks:       {}", c.risks.join(", "));
            let e = &c.effectiveness;
            println!(
                "  effectiveness: {} ({} passed, {} failed in the last {} days{})",
                e.rating.as_str(),
                e.passed,
                e.failed,
                control.evidence_valid_days(),
                e.latest_test
                    .map(|d| format!("; latest test {d}"))
                    .unwrap_or_default()
            );
            println!("  evidence ({}):", c.evidence.len());
            for r in &c.evidence {
                println!(
                    "    {}{}{}{}",
                    r.reference,
                    r.on.map(|d| format!(" on {d}")).unwrap_or_default(),
                    r.outcome
                        .map(|o| format!(", {}", o.as_str()))
                        .unwrap_or_default(),
                    r.ledger_index
                        .map(|i| format!(" (ledger entry {i}; airisk ledger proof {i})"))
                        .unwrap_or_default()
                );
            }
            for m in &c.missing_evidence {
                println!("    {m} (missing: no such evidence is stored)");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
