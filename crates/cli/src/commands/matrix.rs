use crate::context::Context;
use crate::render::{self, level_style, RESET};
use airisk_model::{natural_cmp, CriteriaSet, Level, Register, RiskStatus, Score};
use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Args)]
pub struct MatrixArgs {
    /// Include closed risks.
    #[arg(long)]
    all: bool,
    #[arg(long)]
    json: bool,
}

/// One cell of `airisk matrix --json`: `cells[likelihood-1][consequence-1]`.
#[derive(Serialize, Clone, Default)]
struct CellRisks {
    level: Option<Level>,
    inherent: Vec<String>,
    residual: Vec<String>,
}

#[derive(Serialize)]
struct MatrixReport<'a> {
    criteria: &'a str,
    likelihood: Vec<&'a str>,
    consequence: Vec<&'a str>,
    acceptance_threshold: Level,
    cells: Vec<Vec<CellRisks>>,
}

fn build<'a>(
    register: &Register,
    criteria: &'a CriteriaSet,
    include_closed: bool,
) -> MatrixReport<'a> {
    let (rows, cols) = (criteria.likelihood_steps(), criteria.consequence_steps());
    let mut cells = vec![vec![CellRisks::default(); cols]; rows];
    for (l, row) in cells.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            cell.level = criteria.level(l as u8 + 1, c as u8 + 1);
        }
    }
    let mut risks: Vec<_> = register
        .risks
        .values()
        .filter(|r| include_closed || r.status != RiskStatus::Closed)
        .collect();
    risks.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    // A score outside the scales cannot be stored (validation rejects it); skip it anyway.
    let slot = |score: &Option<Score>| -> Option<(usize, usize)> {
        let s = score.as_ref()?;
        let (l, c) = (s.likelihood as usize, s.consequence as usize);
        (1..=rows).contains(&l).then_some(())?;
        (1..=cols).contains(&c).then_some((l - 1, c - 1))
    };
    for risk in risks {
        if let Some((l, c)) = slot(&risk.inherent) {
            cells[l][c].inherent.push(risk.id.clone());
        }
        if let Some((l, c)) = slot(&risk.residual) {
            cells[l][c].residual.push(risk.id.clone());
        }
    }
    MatrixReport {
        criteria: &criteria.id,
        likelihood: criteria
            .likelihood
            .iter()
            .map(|s| s.label.as_str())
            .collect(),
        consequence: criteria
            .consequence
            .iter()
            .map(|s| s.label.as_str())
            .collect(),
        acceptance_threshold: criteria.acceptance_threshold,
        cells,
    }
}

pub fn run(ctx: &Context, args: MatrixArgs) -> Result<ExitCode> {
    let (_, register) = ctx.load()?;
    let Some(criteria) = register.active_criteria() else {
        bail!("the register has no criteria set to draw a matrix with (apply one first)");
    };
    let report = build(&register, criteria, args.all);
    if args.json {
        render::print_json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn print_heat_maps(register: &Register) {
    if let Some(criteria) = register.active_criteria() {
        print_report(&build(register, criteria, false));
    }
}

fn print_report(report: &MatrixReport) {
    let color = render::use_color();
    let inherent = grid_lines(report, color, |c| c.inherent.len());
    let residual = grid_lines(report, color, |c| c.residual.len());
    let width = inherent.iter().map(|(_, w)| *w).max().unwrap_or(0) + 4;
    println!(
        "Heat map of open risks (criteria {}, acceptance threshold {})",
        report.criteria, report.acceptance_threshold
    );
    let titles = ("Inherent", "Residual");
    println!("{:<width$}{}", titles.0, titles.1);
    for ((left, left_width), (right, _)) in inherent.iter().zip(residual.iter()) {
        let pad = width.saturating_sub(*left_width);
        println!("{left}{}{right}", " ".repeat(pad));
    }
    println!(
        "Each cell: number of risks, then the cell's level (L low, M medium, H high, C critical)."
    );
}

/// The lines of one grid (most likely row first) with their visible widths.
fn grid_lines(
    report: &MatrixReport,
    color: bool,
    count: impl Fn(&CellRisks) -> usize,
) -> Vec<(String, usize)> {
    let label_width = report
        .likelihood
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(14);
    let mut lines = Vec::new();
    let mut header = format!("{:>w$} ", "L \\ C", w = label_width + 3);
    for c in 1..=report.consequence.len() {
        header.push_str(&format!("  {c}   "));
    }
    let header_width = header.chars().count();
    lines.push((header, header_width));
    for l in (1..=report.likelihood.len()).rev() {
        let label: String = report.likelihood[l - 1].chars().take(label_width).collect();
        let mut line = format!("{l} {label:<label_width$} ");
        let mut visible = line.chars().count();
        for cell in &report.cells[l - 1] {
            let n = count(cell);
            let initial = cell
                .level
                .map(|lv| lv.as_str()[..1].to_uppercase())
                .unwrap_or_else(|| "?".into());
            let number = if n == 0 {
                "·".to_string()
            } else {
                n.to_string()
            };
            let text = format!("{number:>3} {initial} ");
            visible += text.chars().count();
            match (color, cell.level) {
                (true, Some(level)) => {
                    line.push_str(&format!("{}{text}{RESET}", level_style(level)))
                }
                _ => line.push_str(&text),
            }
        }
        lines.push((line, visible));
    }
    let mut axis = format!("{:>w$} ", "", w = label_width + 3);
    axis.push_str("consequence →");
    let axis_width = axis.chars().count();
    lines.push((axis, axis_width));
    lines
}
