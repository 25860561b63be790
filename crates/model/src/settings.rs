//! Register-wide settings: which criteria set scores the register and the review cycles.

use crate::level::Level;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Months between reviews for each level (or tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewCycles {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
}

impl Default for ReviewCycles {
    /// Critical and high quarterly, medium six-monthly, low yearly (M15).
    fn default() -> Self {
        ReviewCycles {
            critical: 3,
            high: 3,
            medium: 6,
            low: 12,
        }
    }
}

impl ReviewCycles {
    pub fn months(&self, level: Level) -> u32 {
        match level {
            Level::Critical => self.critical,
            Level::High => self.high,
            Level::Medium => self.medium,
            Level::Low => self.low,
        }
    }
}

/// The settings object of a register. There is at most one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The organisation or register name shown in reports.
    pub name: String,
    /// Id of the criteria set that scores this register.
    pub criteria: String,
    /// Review cycles of risks by their current level.
    #[serde(default)]
    pub review_cycles: ReviewCycles,
    /// Review cycles of systems by their tier.
    #[serde(default)]
    pub tier_review_cycles: ReviewCycles,
}

/// The id of the settings object (there is only one).
pub const SETTINGS_ID: &str = "register";
