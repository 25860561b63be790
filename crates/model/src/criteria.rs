//! Risk criteria (M2): likelihood and consequence scales, the level grid, the acceptance
//! threshold and consequence categories. Scoring a risk means looking up its cell here.

use crate::issue::IssueSink;
use crate::level::Level;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MIN_SCALE_STEPS: usize = 3;
pub const MAX_SCALE_STEPS: usize = 6;

/// The consequence categories of PRODUCT.md M2, used when a criteria set names none.
pub const DEFAULT_CONSEQUENCE_CATEGORIES: [&str; 6] = [
    "financial",
    "operational",
    "regulatory",
    "reputational",
    "safety",
    "societal",
];

/// One step of a likelihood or consequence scale. Its value is its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleStep {
    pub label: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// Minimum likelihood × consequence product for each level above `low`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreBands {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<u32>,
}

impl ScoreBands {
    fn level_for(&self, score: u32) -> Level {
        let reached = |min: Option<u32>| min.is_some_and(|m| score >= m);
        if reached(self.critical) {
            Level::Critical
        } else if reached(self.high) {
            Level::High
        } else if reached(self.medium) {
            Level::Medium
        } else {
            Level::Low
        }
    }
}

/// A named set of criteria; a register names the one it scores with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CriteriaSet {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Likelihood steps, least likely first (value 1).
    pub likelihood: Vec<ScaleStep>,
    /// Consequence steps, least severe first (value 1).
    pub consequence: Vec<ScaleStep>,
    /// Explicit level grid: one row per likelihood value (1 first), one column per
    /// consequence value (1 first). Give either `grid` or `bands`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<Vec<Vec<Level>>>,
    /// Levels from the product likelihood × consequence. Give either `grid` or `bands`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<ScoreBands>,
    /// The highest residual level the organisation accepts without a recorded
    /// justification and approver.
    pub acceptance_threshold: Level,
    #[serde(default = "default_consequence_categories")]
    pub consequence_categories: Vec<String>,
}

fn default_consequence_categories() -> Vec<String> {
    DEFAULT_CONSEQUENCE_CATEGORIES
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// A likelihood/consequence pair that has been checked against a criteria set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub likelihood: u8,
    pub consequence: u8,
}

impl CriteriaSet {
    pub fn likelihood_steps(&self) -> usize {
        self.likelihood.len()
    }

    pub fn consequence_steps(&self) -> usize {
        self.consequence.len()
    }

    /// The level of a cell, or `None` when the cell is outside the scales or the set has
    /// no usable grid (an invalid set; `validate` says why).
    pub fn level(&self, likelihood: u8, consequence: u8) -> Option<Level> {
        let (l, c) = (likelihood as usize, consequence as usize);
        if l == 0 || c == 0 || l > self.likelihood_steps() || c > self.consequence_steps() {
            return None;
        }
        match (&self.grid, &self.bands) {
            (Some(grid), None) => grid.get(l - 1)?.get(c - 1).copied(),
            (None, Some(bands)) => Some(bands.level_for((l * c) as u32)),
            _ => None,
        }
    }

    /// True when a residual level needs a recorded justification and approver to be accepted.
    pub fn above_threshold(&self, level: Level) -> bool {
        level > self.acceptance_threshold
    }

    /// The full grid, whichever way the set defines it (rows = likelihood, 1 first).
    pub fn resolved_grid(&self) -> Option<Vec<Vec<Level>>> {
        let mut rows = Vec::with_capacity(self.likelihood_steps());
        for l in 1..=self.likelihood_steps() {
            let mut row = Vec::with_capacity(self.consequence_steps());
            for c in 1..=self.consequence_steps() {
                row.push(self.level(l as u8, c as u8)?);
            }
            rows.push(row);
        }
        Some(rows)
    }

    pub(crate) fn validate(&self, sink: &mut IssueSink) {
        check_scale(sink, "likelihood", &self.likelihood);
        check_scale(sink, "consequence", &self.consequence);
        match (&self.grid, &self.bands) {
            (Some(_), Some(_)) => sink.push("grid", "give either grid or bands, not both"),
            (None, None) => sink.push(
                "grid",
                "the criteria set needs a level grid (grid) or score bands (bands)",
            ),
            (Some(grid), None) => self.check_grid(sink, grid),
            (None, Some(bands)) => check_bands(
                sink,
                bands,
                (self.likelihood_steps() * self.consequence_steps()) as u32,
            ),
        }
        if self.consequence_categories.is_empty() {
            sink.push(
                "consequence_categories",
                "at least one consequence category is needed",
            );
        }
        let mut seen = BTreeMap::new();
        for (i, category) in self.consequence_categories.iter().enumerate() {
            if category.trim().is_empty() {
                sink.push(format!("consequence_categories[{i}]"), "empty category");
            } else if let Some(first) = seen.insert(category.as_str(), i) {
                sink.push(
                    format!("consequence_categories[{i}]"),
                    format!("duplicate category `{category}` (also at index {first})"),
                );
            }
        }
    }

    fn check_grid(&self, sink: &mut IssueSink, grid: &[Vec<Level>]) {
        if grid.len() != self.likelihood_steps() {
            sink.push(
                "grid",
                format!(
                    "the grid has {} rows but the likelihood scale has {} steps",
                    grid.len(),
                    self.likelihood_steps()
                ),
            );
            return;
        }
        for (r, row) in grid.iter().enumerate() {
            if row.len() != self.consequence_steps() {
                sink.push(
                    format!("grid[{r}]"),
                    format!(
                        "row {} has {} cells but the consequence scale has {} steps",
                        r + 1,
                        row.len(),
                        self.consequence_steps()
                    ),
                );
                return;
            }
        }
        // A more likely or more severe event must never score a lower level.
        for r in 0..grid.len() {
            for c in 0..grid[r].len() {
                if c > 0 && grid[r][c] < grid[r][c - 1] {
                    sink.push(
                        format!("grid[{r}][{c}]"),
                        format!(
                            "level {} at likelihood {}, consequence {} is lower than {} at consequence {}: levels must not decrease as consequence grows",
                            grid[r][c], r + 1, c + 1, grid[r][c - 1], c
                        ),
                    );
                }
                if r > 0 && grid[r][c] < grid[r - 1][c] {
                    sink.push(
                        format!("grid[{r}][{c}]"),
                        format!(
                            "level {} at likelihood {}, consequence {} is lower than {} at likelihood {}: levels must not decrease as likelihood grows",
                            grid[r][c], r + 1, c + 1, grid[r - 1][c], r
                        ),
                    );
                }
            }
        }
    }
}

fn check_scale(sink: &mut IssueSink, field: &str, steps: &[ScaleStep]) {
    if !(MIN_SCALE_STEPS..=MAX_SCALE_STEPS).contains(&steps.len()) {
        sink.push(
            field,
            format!(
                "a scale needs {MIN_SCALE_STEPS} to {MAX_SCALE_STEPS} steps, found {}",
                steps.len()
            ),
        );
    }
    let mut seen = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        if step.label.trim().is_empty() {
            sink.push(format!("{field}[{i}].label"), "empty label");
        } else if let Some(first) = seen.insert(step.label.trim().to_lowercase(), i) {
            sink.push(
                format!("{field}[{i}].label"),
                format!("duplicate label `{}` (also step {})", step.label, first + 1),
            );
        }
    }
}

fn check_bands(sink: &mut IssueSink, bands: &ScoreBands, highest_score: u32) {
    let given: Vec<(&str, u32)> = [
        ("medium", bands.medium),
        ("high", bands.high),
        ("critical", bands.critical),
    ]
    .into_iter()
    .filter_map(|(name, min)| min.map(|m| (name, m)))
    .collect();
    if given.is_empty() {
        sink.push(
            "bands",
            "bands must give a minimum score for at least one level",
        );
    }
    for (name, min) in &given {
        if *min > highest_score {
            sink.push(
                format!("bands.{name}"),
                format!(
                    "minimum score {min} can never be reached: the highest likelihood × consequence is {highest_score}"
                ),
            );
        }
        if *min < 2 {
            sink.push(
                format!("bands.{name}"),
                format!("minimum score {min} would leave no cell at level low; use 2 or more"),
            );
        }
    }
    for pair in given.windows(2) {
        if pair[1].1 <= pair[0].1 {
            sink.push(
                format!("bands.{}", pair[1].0),
                format!(
                    "minimum score {} must be greater than the {} minimum {}",
                    pair[1].1, pair[0].0, pair[0].1
                ),
            );
        }
    }
}
