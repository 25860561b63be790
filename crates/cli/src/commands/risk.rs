use crate::commands::system::enum_text;
use crate::context::Context;
use crate::render::{self, opt, truncate};
use airisk_model::{Category, Level, Risk, RiskStatus, RiskView, Treatment};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum RiskCommand {
    /// List risks with their inherent and residual levels.
    List(ListArgs),
    /// Show one risk with its scores, rationale and treatments.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// The change history of one risk, field by field.
    History {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ListArgs {
    /// Only risks affecting this system.
    #[arg(long)]
    system: Option<String>,
    /// Only risks in this category (primary or secondary), e.g. security.
    #[arg(long)]
    category: Option<String>,
    /// Only risks whose current level is this one (low, medium, high, critical).
    #[arg(long)]
    level: Option<String>,
    /// Only risks owned by this person.
    #[arg(long)]
    owner: Option<String>,
    /// Only risks with this status (identified, assessed, treated, accepted, closed).
    #[arg(long)]
    status: Option<String>,
    /// Only risks whose current level is above the acceptance threshold.
    #[arg(long)]
    above_threshold: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, command: RiskCommand) -> Result<ExitCode> {
    match command {
        RiskCommand::List(args) => list(ctx, args),
        RiskCommand::Show { id, json } => show(ctx, &id, json),
        RiskCommand::History { id, json } => {
            let (mut store, register) = ctx.load()?;
            if !register.risks.contains_key(&id) {
                bail!("no risk with id `{id}` (see `airisk risk list`)");
            }
            let entries = store.history(Some(airisk_model::ObjectKind::Risk), Some(&id))?;
            crate::commands::history::print_entries(&entries, json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_filter<T>(
    value: Option<String>,
    what: &str,
    parse: fn(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>> {
    value
        .map(|v| {
            parse(&v).ok_or_else(|| {
                anyhow!("--{what}: unknown value `{v}` (expected one of: {expected})")
            })
        })
        .transpose()
}

fn list(ctx: &Context, args: ListArgs) -> Result<ExitCode> {
    let category = parse_filter(
        args.category,
        "category",
        Category::parse,
        &Category::ALL.map(|c| c.as_str()).join(", "),
    )?;
    let level = parse_filter(
        args.level,
        "level",
        Level::parse,
        "low, medium, high, critical",
    )?;
    let status = parse_filter(
        args.status,
        "status",
        RiskStatus::parse,
        "identified, assessed, treated, accepted, closed",
    )?;
    let (_, register) = ctx.load()?;
    if let Some(system) = &args.system {
        if !register.systems.contains_key(system) {
            bail!("--system: no system with id `{system}`");
        }
    }
    if let Some(owner) = &args.owner {
        if !register.people.contains_key(owner) {
            bail!("--owner: no person with id `{owner}`");
        }
    }
    let views: Vec<RiskView> = register
        .risk_views(ctx.today)
        .into_iter()
        .filter(|v| {
            let risk = &register.risks[&v.id];
            args.system.as_ref().is_none_or(|s| v.systems.contains(s))
                && category.is_none_or(|c| risk.categories().any(|rc| rc == c))
                && level.is_none_or(|l| v.level == Some(l))
                && args.owner.as_ref().is_none_or(|o| &v.owner == o)
                && status.is_none_or(|s| v.status == s)
                && (!args.above_threshold || v.above_threshold)
        })
        .collect();
    if args.json {
        render::print_json(&serde_json::json!({
            "today": ctx.today,
            "criteria": register.active_criteria().map(|c| &c.id),
            "risks": views,
        }))?;
    } else {
        print_table(&views);
    }
    Ok(ExitCode::SUCCESS)
}

fn score_text(view: &Option<airisk_model::ScoreView>) -> String {
    match view {
        Some(s) => format!("{}×{} {}", s.likelihood, s.consequence, opt(s.level)),
        None => "—".to_string(),
    }
}

pub fn print_table(views: &[RiskView]) {
    let mut table = render::table(&[
        "ID",
        "Title",
        "Category",
        "Systems",
        "Inherent",
        "Residual",
        "Status",
        "Owner",
        "Next review",
    ]);
    for v in views {
        let next = match (v.next_review, v.review_overdue) {
            (Some(d), true) => format!("{d} OVERDUE"),
            (Some(d), false) => d.to_string(),
            (None, _) => "—".to_string(),
        };
        table.add_row(vec![
            v.id.clone(),
            truncate(&v.title, 40),
            v.category.short().to_string(),
            v.systems.join(", "),
            score_text(&v.inherent),
            score_text(&v.residual),
            v.status.as_str().to_string(),
            v.owner.clone(),
            next,
        ]);
    }
    println!("Risks ({})", views.len());
    println!("{table}");
}

/// `airisk risk show ID --json`.
#[derive(Serialize)]
struct RiskDetail<'a> {
    risk: &'a Risk,
    computed: RiskView,
    acceptance_threshold: Option<Level>,
    treatments: Vec<&'a Treatment>,
}

fn show(ctx: &Context, id: &str, json: bool) -> Result<ExitCode> {
    let (_, register) = ctx.load()?;
    let Some(risk) = register.risks.get(id) else {
        bail!("no risk with id `{id}` (see `airisk risk list`)");
    };
    let view = register.risk_view(risk, ctx.today);
    let mut treatments: Vec<&Treatment> = register.treatments_for(id).collect();
    treatments.sort_by(|a, b| airisk_model::natural_cmp(&a.id, &b.id));
    let threshold = register.active_criteria().map(|c| c.acceptance_threshold);
    if json {
        render::print_json(&RiskDetail {
            risk,
            computed: view,
            acceptance_threshold: threshold,
            treatments,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} — {}", risk.id, risk.title);
    println!("  event:        {}", risk.event);
    println!("  cause:        {}", risk.cause);
    println!("  consequence:  {}", risk.consequence);
    let mut categories = vec![risk.category.as_str().to_string()];
    categories.extend(
        risk.secondary_categories
            .iter()
            .map(|c| format!("{} (secondary)", c.as_str())),
    );
    println!("  category:     {}", categories.join(", "));
    if !risk.risk_sources.is_empty() {
        let sources: Vec<String> = risk.risk_sources.iter().map(enum_text).collect();
        println!("  risk sources: {}", sources.join(", "));
    }
    println!("  systems:      {}", risk.systems.join(", "));
    println!(
        "  owner:        {}   status: {}",
        risk.owner,
        risk.status.as_str()
    );
    for (name, score, computed) in [
        ("inherent", &risk.inherent, &view.inherent),
        ("residual", &risk.residual, &view.residual),
    ] {
        match (score, computed) {
            (Some(s), Some(c)) => {
                println!(
                    "  {name}:     likelihood {} × consequence {} = {}",
                    s.likelihood,
                    s.consequence,
                    opt(c.level)
                );
                println!("                {}", s.rationale.trim());
            }
            _ => println!("  {name}:     not assessed"),
        }
    }
    if let Some(threshold) = threshold {
        println!(
            "  threshold:    {threshold}{}",
            if view.above_threshold {
                " — current level is ABOVE it"
            } else {
                ""
            }
        );
    }
    println!(
        "  review:       every {} months; last {}; next {}{}",
        opt(view.review_cycle_months),
        opt(risk.last_reviewed),
        opt(view.next_review),
        if view.review_overdue {
            " (OVERDUE)"
        } else {
            ""
        }
    );
    if treatments.is_empty() {
        println!("  treatments:   none");
    }
    for t in treatments {
        let flags = [
            t.is_overdue(ctx.today).then_some("OVERDUE"),
            t.is_nonconformity(ctx.today).then_some("NONCONFORMITY"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        println!(
            "  treatment {}: {} — {} [{}; owner {}; target {}; evidence {}; approved by {}] {flags}",
            t.id,
            t.option.as_str(),
            truncate(t.description.trim(), 70),
            t.status.as_str(),
            t.owner,
            opt(t.target_date),
            t.evidence.len(),
            opt(t.approved_by.as_deref()),
        );
    }
    Ok(ExitCode::SUCCESS)
}
