//! Screening (M4): every system against every category, with a risk or an explicit
//! "not applicable because …".

use crate::risk::Category;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A recorded decision that a category does not apply to a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningDecision {
    pub system: String,
    pub category: Category,
    /// Why no risk of this category can arise for this system.
    pub not_applicable_because: String,
}

impl ScreeningDecision {
    /// Screening decisions are identified by their system and category.
    pub fn key(system: &str, category: Category) -> String {
        format!("{system}/{}", category.as_str())
    }

    pub fn id(&self) -> String {
        ScreeningDecision::key(&self.system, self.category)
    }
}

/// The state of one cell of the screening matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ScreeningCell {
    /// Risks are recorded for this system and category.
    Risks {
        risks: Vec<String>,
    },
    NotApplicable {
        reason: String,
    },
    /// Risks are recorded although the category was declared not applicable.
    Conflict {
        risks: Vec<String>,
        reason: String,
    },
    /// Neither a risk nor a decision: the system has not been screened for this category.
    Gap,
}

impl ScreeningCell {
    pub fn is_gap(&self) -> bool {
        matches!(self, ScreeningCell::Gap | ScreeningCell::Conflict { .. })
    }
}
