use crate::context::Context;
use crate::render::{self, opt, truncate};
use airisk_model::{natural_cmp, AiSystem, Level, Register, RiskStatus, RiskView, ScreeningRow};
use anyhow::{bail, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SystemCommand {
    /// List every AI system with its tier, exposure and open risks.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one system: inventory details, classification, screening row and risks.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// One row of `airisk system list --json`.
#[derive(Serialize)]
struct SystemSummary<'a> {
    id: &'a str,
    name: &'a str,
    exposure: airisk_model::Exposure,
    lifecycle: airisk_model::system::Lifecycle,
    criticality: Level,
    /// Null until the classification questions are answered.
    tier: Option<Level>,
    eu_ai_act: Option<airisk_model::EuAiActClass>,
    business_owner: &'a str,
    open_risks: usize,
    highest_open_level: Option<Level>,
}

fn summaries<'a>(register: &'a Register, today: NaiveDate) -> Vec<SystemSummary<'a>> {
    let mut systems: Vec<&AiSystem> = register.systems.values().collect();
    systems.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    systems
        .into_iter()
        .map(|s| {
            let open: Vec<RiskView> = register
                .risks_for(&s.id)
                .filter(|r| r.status != RiskStatus::Closed)
                .map(|r| register.risk_view(r, today))
                .collect();
            SystemSummary {
                id: &s.id,
                name: &s.name,
                exposure: s.exposure,
                lifecycle: s.lifecycle,
                criticality: s.criticality,
                tier: s.tier(),
                eu_ai_act: s.eu_ai_act.as_ref().map(|e| e.class),
                business_owner: &s.owners.business,
                open_risks: open.len(),
                highest_open_level: open.iter().filter_map(|r| r.level).max(),
            }
        })
        .collect()
}

pub fn run(ctx: &Context, command: SystemCommand) -> Result<ExitCode> {
    let (_, register) = ctx.load()?;
    match command {
        SystemCommand::List { json: true } => {
            render::print_json(&serde_json::json!({ "systems": summaries(&register, ctx.today) }))?
        }
        SystemCommand::List { json: false } => print_list(&register, ctx.today),
        SystemCommand::Show { id, json } => {
            let Some(system) = register.systems.get(&id) else {
                bail!("no system with id `{id}` (see `airisk system list`)");
            };
            let risks: Vec<RiskView> = register
                .risk_views(ctx.today)
                .into_iter()
                .filter(|r| r.systems.contains(&id))
                .collect();
            let screening = register
                .screening_matrix()
                .into_iter()
                .find(|row| row.system == id);
            if json {
                render::print_json(&SystemDetail {
                    system,
                    tier: system.tier(),
                    tier_points: system.classification.map(|c| c.points()),
                    screening,
                    risks,
                })?;
            } else {
                print_detail(&register, system, screening.as_ref(), &risks);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `airisk system show ID --json`.
#[derive(Serialize)]
struct SystemDetail<'a> {
    system: &'a AiSystem,
    tier: Option<Level>,
    tier_points: Option<u32>,
    screening: Option<ScreeningRow>,
    risks: Vec<RiskView>,
}

pub fn print_list(register: &Register, today: NaiveDate) {
    let mut table = render::table(&[
        "ID",
        "Name",
        "Exposure",
        "Lifecycle",
        "Tier",
        "EU AI Act",
        "Open risks",
        "Highest",
        "Owner",
    ]);
    for s in summaries(register, today) {
        table.add_row(vec![
            s.id.to_string(),
            truncate(s.name, 34),
            enum_text(&s.exposure),
            enum_text(&s.lifecycle),
            opt(s.tier),
            s.eu_ai_act
                .map(|c| enum_text(&c))
                .unwrap_or_else(|| "—".into()),
            s.open_risks.to_string(),
            opt(s.highest_open_level),
            s.business_owner.to_string(),
        ]);
    }
    println!("AI systems ({})", register.systems.len());
    println!("{table}");
}

fn print_detail(
    register: &Register,
    system: &AiSystem,
    screening: Option<&ScreeningRow>,
    risks: &[RiskView],
) {
    println!("{} — {}", system.id, system.name);
    println!("  purpose:      {}", system.purpose);
    if !system.intended_use.is_empty() {
        println!("  intended use: {}", system.intended_use);
    }
    println!("  model type:   {}", enum_text(&system.model_type));
    println!(
        "  exposure:     {}   environment: {}",
        enum_text(&system.exposure),
        system.environment
    );
    println!(
        "  lifecycle:    {}   criticality: {}",
        enum_text(&system.lifecycle),
        system.criticality
    );
    match (system.tier(), system.classification) {
        (Some(tier), Some(c)) => {
            println!("  tier:         {tier} ({} points)", c.points());
            let answers = [
                ("external users", c.external_users),
                ("personal or regulated data", c.personal_or_regulated_data),
                ("consequential decisions", c.consequential_decisions),
                ("tools or actions", c.tools_or_actions),
                (
                    "regulated sector or children",
                    c.regulated_sector_or_children,
                ),
                ("third-party models", c.third_party_models),
            ];
            let yes: Vec<&str> = answers.iter().filter(|a| a.1).map(|a| a.0).collect();
            println!(
                "  answers yes:  {}",
                if yes.is_empty() {
                    "none".to_string()
                } else {
                    yes.join(", ")
                }
            );
        }
        _ => println!("  tier:         unclassified (answer the classification questions)"),
    }
    println!(
        "  review:       every {} months; last {}; next {}",
        opt(register.system_review_cycle(system)),
        opt(system.last_reviewed),
        opt(register.system_next_review(system))
    );
    if let Some(eu) = &system.eu_ai_act {
        let area = eu
            .annex_iii_area
            .map(|a| format!(", Annex III: {}", enum_text(&a)))
            .unwrap_or_default();
        println!(
            "  EU AI Act:    {}{area} — {}",
            enum_text(&eu.class),
            eu.reason
        );
    }
    let owners: Vec<String> = system
        .owners
        .roles()
        .into_iter()
        .map(|(role, who)| format!("{role}={who}"))
        .collect();
    println!("  owners:       {}", owners.join(", "));
    for c in &system.components {
        println!("  component:    {} ({} {})", c.name, c.provider, c.version);
    }
    for d in &system.data_sources {
        println!("  data source:  {} [{}]", d.name, enum_text(&d.sensitivity));
    }
    for t in &system.tools {
        let effects: Vec<String> = t.side_effects.iter().map(enum_text).collect();
        let permissions = if t.permissions.is_empty() {
            String::new()
        } else {
            format!(" permissions: {}", t.permissions.join(", "))
        };
        println!(
            "  tool:         {} [{}]{permissions}",
            t.name,
            effects.join(", ")
        );
    }
    if !system.users.is_empty() {
        println!("  users:        {}", system.users.join(", "));
    }
    if !system.affected_parties.is_empty() {
        println!("  affected:     {}", system.affected_parties.join(", "));
    }
    if !system.vendors.is_empty() {
        println!("  vendors:      {}", system.vendors.join(", "));
    }
    if let Some(row) = screening {
        let gaps: Vec<&str> = row
            .cells
            .iter()
            .filter(|c| c.cell.is_gap())
            .map(|c| c.category.as_str())
            .collect();
        if gaps.is_empty() {
            println!("  screening:    complete");
        } else {
            println!("  screening:    gaps in {}", gaps.join(", "));
        }
    }
    println!();
    crate::commands::risk::print_table(risks);
}

/// The snake_case name serde gives an enum value.
pub fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".to_string(),
    }
}
