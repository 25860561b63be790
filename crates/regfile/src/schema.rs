//! The JSON Schema of a register file, generated from the model types so it cannot drift.

use airisk_model::{
    AiSystem, Control, CriteriaSet, Person, Risk, ScreeningDecision, Settings, SoaDecision,
    Treatment,
};
use schemars::JsonSchema;

/// One register file. Every key is optional; a register is the union of its files.
#[allow(dead_code)] // Only its schema is used.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "airisk register file",
    description = "A YAML file of the airisk register (format airisk/v1). A register is the union of all files in a folder."
)]
struct RegisterFile {
    /// The file format version, `airisk/v1`.
    format: Option<String>,
    settings: Option<Settings>,
    people: Option<Vec<Person>>,
    criteria: Option<Vec<CriteriaSet>>,
    systems: Option<Vec<AiSystem>>,
    risks: Option<Vec<Risk>>,
    treatments: Option<Vec<Treatment>>,
    screening: Option<Vec<ScreeningDecision>>,
    /// Applied controls: catalog or custom controls linked to systems and risks.
    controls: Option<Vec<Control>>,
    /// Statement of Applicability decisions, one per framework item.
    soa: Option<Vec<SoaDecision>>,
}

/// The schema as pretty-printed JSON, with a trailing newline.
pub fn register_file_schema() -> String {
    let schema = schemars::schema_for!(RegisterFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
