//! Terminal output: tables, colours for levels, JSON.

use airisk_model::Level;
use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};
use serde::Serialize;
use serde_json::Value;
use std::io::IsTerminal;

pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A short one-line rendering of a JSON value for diffs.
pub fn json_brief(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(Value::String(s)) => {
            let one_line = s.replace('\n', "⏎");
            if one_line.chars().count() > 60 {
                let cut: String = one_line.chars().take(57).collect();
                format!("{cut:?}…")
            } else {
                format!("{one_line:?}")
            }
        }
        Some(other) => {
            let text = other.to_string();
            if text.chars().count() > 60 {
                format!("{}…", text.chars().take(57).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// One indented line per changed field: `path: before → after`.
pub fn print_field_changes(changes: &[airisk_model::FieldChange]) {
    for change in changes {
        println!(
            "    {}: {} → {}",
            change.path,
            json_brief(change.before.as_ref()),
            json_brief(change.after.as_ref())
        );
    }
}

pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(Cell::new));
    table
}

/// Colours are for people at a terminal; pipes and `NO_COLOR` get plain text.
pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// ANSI background for a level, with dark text.
pub fn level_style(level: Level) -> &'static str {
    match level {
        Level::Low => "\x1b[30;42m",
        Level::Medium => "\x1b[30;43m",
        Level::High => "\x1b[30;48;5;208m",
        Level::Critical => "\x1b[97;41m",
    }
}

pub const RESET: &str = "\x1b[0m";

pub fn opt<T: ToString>(value: Option<T>) -> String {
    value
        .map(|v| v.to_string())
        .unwrap_or_else(|| "—".to_string())
}

pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}
