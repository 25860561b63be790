use crate::context::{Context, EXIT_ATTENTION};
use crate::render::{self, opt, truncate};
use airisk_model::{DueReport, Register};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct DueArgs {
    /// Exit with status 3 when anything needs attention (for CI and schedulers).
    #[arg(long)]
    check: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: DueArgs) -> Result<ExitCode> {
    let (_, register) = ctx.load()?;
    let report = register.due(ctx.today);
    if args.json {
        render::print_json(&report)?;
    } else {
        print_report(&report, &register);
    }
    Ok(if args.check && report.item_count() > 0 {
        ExitCode::from(EXIT_ATTENTION)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn print_report(report: &DueReport, register: &Register) {
    println!(
        "Due as of {} — {} items need attention",
        report.today,
        report.item_count()
    );
    let title = |id: &str| {
        register
            .risks
            .get(id)
            .map(|r| truncate(&r.title, 50))
            .unwrap_or_default()
    };
    section(
        "Overdue risk reviews",
        report.overdue_risk_reviews.len(),
        || {
            for r in &report.overdue_risk_reviews {
                println!(
                    "  {:<8} {:<50} {:<8} owner {:<12} due {} ({} days overdue)",
                    r.id,
                    truncate(&r.title, 50),
                    opt(r.level),
                    r.owner,
                    r.next_review,
                    r.days_overdue
                );
            }
        },
    );
    section(
        "Overdue system reviews",
        report.overdue_system_reviews.len(),
        || {
            for r in &report.overdue_system_reviews {
                println!(
                    "  {:<12} {:<46} tier {:<8} owner {:<12} due {} ({} days overdue)",
                    r.id,
                    truncate(&r.title, 46),
                    opt(r.level),
                    r.owner,
                    r.next_review,
                    r.days_overdue
                );
            }
        },
    );
    section(
        "Overdue treatments",
        report.overdue_treatments.len(),
        || {
            for t in &report.overdue_treatments {
                println!(
                    "  {:<8} {} for {} ({}) owner {:<12} target {} ({} days overdue), status {}",
                    t.id,
                    t.option.as_str(),
                    t.risk,
                    title(&t.risk),
                    t.owner,
                    opt(t.target_date),
                    t.days_overdue,
                    t.status.as_str()
                );
            }
        },
    );
    section(
        "Nonconformities (past target date, no evidence)",
        report.nonconformities.len(),
        || {
            for t in &report.nonconformities {
                println!(
                    "  {:<8} {} for {} owner {:<12} target {} ({} days past), status {}",
                    t.id,
                    t.option.as_str(),
                    t.risk,
                    t.owner,
                    opt(t.target_date),
                    t.days_overdue,
                    t.status.as_str()
                );
            }
        },
    );
    section(
        "Above the acceptance threshold without an approved treatment",
        report.above_threshold_without_approved_treatment.len(),
        || {
            for r in &report.above_threshold_without_approved_treatment {
                println!(
                    "  {:<8} {:<50} {:<8} owner {}",
                    r.id,
                    truncate(&r.title, 50),
                    opt(r.level),
                    r.owner
                );
            }
        },
    );
    section(
        "Risks not yet assessed",
        report.unassessed_risks.len(),
        || {
            for r in &report.unassessed_risks {
                println!(
                    "  {:<8} {:<50} owner {}",
                    r.id,
                    truncate(&r.title, 50),
                    r.owner
                );
            }
        },
    );
    section(
        "Systems not yet classified (no tier)",
        report.unclassified_systems.len(),
        || {
            for s in &report.unclassified_systems {
                println!(
                    "  {:<12} {:<46} owner {}",
                    s.id,
                    truncate(&s.name, 46),
                    s.owner
                );
            }
        },
    );
}

fn section(title: &str, count: usize, body: impl FnOnce()) {
    if count == 0 {
        return;
    }
    println!();
    println!("{title} ({count})");
    body();
}
