use crate::context::Context;
use crate::render;
use airisk_model::ObjectKind;
use airisk_store::HistoryEntry;
use anyhow::{anyhow, Result};
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct HistoryArgs {
    /// Only this kind: settings, person, criteria, system, risk, treatment, screening.
    kind: Option<String>,
    /// Only this object (needs KIND).
    id: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: HistoryArgs) -> Result<ExitCode> {
    let kind = args
        .kind
        .map(|k| {
            ObjectKind::parse(&k).ok_or_else(|| {
                anyhow!(
                    "unknown kind `{k}` (expected one of: {})",
                    ObjectKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
        })
        .transpose()?;
    let mut store = ctx.open()?;
    let entries = store.history(kind, args.id.as_deref())?;
    print_entries(&entries, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub fn print_entries(entries: &[HistoryEntry], json: bool) -> Result<()> {
    if json {
        return render::print_json(&serde_json::json!({ "history": entries }));
    }
    if entries.is_empty() {
        println!("No history.");
    }
    for e in entries {
        println!(
            "{}  {} {} {} {} (revision {}, changeset {})",
            e.at, e.actor, e.action, e.kind, e.id, e.revision, e.changeset
        );
        if e.action == "update" {
            render::print_field_changes(&e.changes);
        }
    }
    Ok(())
}
