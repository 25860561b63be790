use crate::context::Context;
use crate::render;
use airisk_model::{Category, ScreeningCell, ScreeningRow};
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Args)]
pub struct ScreeningArgs {
    /// List only the gaps (and conflicts).
    #[arg(long)]
    gaps: bool,
    #[arg(long)]
    json: bool,
}

/// A cell that needs work: no risk and no decision, or a decision contradicted by risks.
#[derive(Serialize)]
struct Gap<'a> {
    system: &'a str,
    category: Category,
    #[serde(flatten)]
    cell: &'a ScreeningCell,
}

pub fn run(ctx: &Context, args: ScreeningArgs) -> Result<ExitCode> {
    let (_, register) = ctx.load()?;
    let rows = register.screening_matrix();
    let gaps: Vec<Gap> = rows
        .iter()
        .flat_map(|row| {
            row.cells.iter().filter(|c| c.cell.is_gap()).map(|c| Gap {
                system: &row.system,
                category: c.category,
                cell: &c.cell,
            })
        })
        .collect();
    if args.json {
        if args.gaps {
            render::print_json(&serde_json::json!({ "gaps": gaps }))?;
        } else {
            render::print_json(&serde_json::json!({ "systems": rows, "gaps": gaps }))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.gaps {
        print_matrix(&rows);
        println!();
    }
    if gaps.is_empty() {
        println!("Screening is complete: every system has a risk or a recorded decision for every category.");
    } else {
        println!("Screening gaps ({}):", gaps.len());
        for gap in &gaps {
            match gap.cell {
                ScreeningCell::Conflict { risks, reason } => println!(
                    "  {} × {}: declared not applicable ({reason}) but risks {} are recorded",
                    gap.system,
                    gap.category.as_str(),
                    risks.join(", ")
                ),
                _ => println!(
                    "  {} × {}: no risk and no not-applicable decision",
                    gap.system,
                    gap.category.as_str()
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_matrix(rows: &[ScreeningRow]) {
    let mut header = vec!["System"];
    header.extend(Category::ALL.iter().map(|c| c.short()));
    let mut table = render::table(&header);
    for row in rows {
        let mut cells = vec![row.system.clone()];
        for entry in &row.cells {
            cells.push(match &entry.cell {
                ScreeningCell::Risks { risks } => format!(
                    "{} risk{}",
                    risks.len(),
                    if risks.len() == 1 { "" } else { "s" }
                ),
                ScreeningCell::NotApplicable { .. } => "n/a".to_string(),
                ScreeningCell::Conflict { .. } => "CONFLICT".to_string(),
                ScreeningCell::Gap => "GAP".to_string(),
            });
        }
        table.add_row(cells);
    }
    println!("Screening: systems × risk categories");
    println!("{table}");
}
