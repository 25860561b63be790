//! The risk register (M3) and the taxonomy (M4).

use crate::criteria::CriteriaSet;
use crate::issue::IssueSink;
use crate::level::Level;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The eight risk categories every system is screened against (M4).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    BiasFairness,
    ExplainabilityTransparency,
    Security,
    Privacy,
    Safety,
    Societal,
    Operational,
    SupplyChain,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::BiasFairness,
        Category::ExplainabilityTransparency,
        Category::Security,
        Category::Privacy,
        Category::Safety,
        Category::Societal,
        Category::Operational,
        Category::SupplyChain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::BiasFairness => "bias_fairness",
            Category::ExplainabilityTransparency => "explainability_transparency",
            Category::Security => "security",
            Category::Privacy => "privacy",
            Category::Safety => "safety",
            Category::Societal => "societal",
            Category::Operational => "operational",
            Category::SupplyChain => "supply_chain",
        }
    }

    /// A short label for narrow columns.
    pub fn short(self) -> &'static str {
        match self {
            Category::BiasFairness => "bias",
            Category::ExplainabilityTransparency => "explain",
            Category::Security => "security",
            Category::Privacy => "privacy",
            Category::Safety => "safety",
            Category::Societal => "societal",
            Category::Operational => "ops",
            Category::SupplyChain => "supply",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Risk sources of ISO/IEC 42001 Annex C (identifiers and our own short names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskSource {
    ComplexityOfEnvironment,
    LackOfTransparency,
    LevelOfAutomation,
    MachineLearning,
    SystemHardware,
    SystemLifeCycle,
    TechnologyReadiness,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskStatus {
    Identified,
    Assessed,
    Treated,
    Accepted,
    Closed,
}

impl RiskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskStatus::Identified => "identified",
            RiskStatus::Assessed => "assessed",
            RiskStatus::Treated => "treated",
            RiskStatus::Accepted => "accepted",
            RiskStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<RiskStatus> {
        [
            RiskStatus::Identified,
            RiskStatus::Assessed,
            RiskStatus::Treated,
            RiskStatus::Accepted,
            RiskStatus::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A likelihood and consequence on the register's criteria scales, with the reasoning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Score {
    /// 1-based position on the likelihood scale.
    pub likelihood: u8,
    /// 1-based position on the consequence scale.
    pub consequence: u8,
    /// Why these values: the evidence and assumptions behind them.
    pub rationale: String,
}

/// A risk: an event, its cause and its consequence, for one or more AI systems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub id: String,
    pub title: String,
    /// What could happen.
    pub event: String,
    /// Why it could happen.
    pub cause: String,
    /// What follows if it does.
    pub consequence: String,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_categories: Vec<Category>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_sources: Vec<RiskSource>,
    /// Affected AI systems (ids).
    pub systems: Vec<String>,
    /// Consequence categories from the criteria set (financial, regulatory, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consequence_categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherent: Option<Score>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residual: Option<Score>,
    /// Person id of the risk owner.
    pub owner: String,
    pub status: RiskStatus,
    /// Overrides the review cycle the risk's level gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_cycle_months: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reviewed: Option<NaiveDate>,
}

impl Risk {
    /// Every category the risk covers for screening: the primary one and the secondary ones.
    pub fn categories(&self) -> impl Iterator<Item = Category> + '_ {
        std::iter::once(self.category).chain(self.secondary_categories.iter().copied())
    }

    pub(crate) fn validate(&self, criteria: Option<&CriteriaSet>, sink: &mut IssueSink) {
        for (field, value) in [
            ("title", &self.title),
            ("event", &self.event),
            ("cause", &self.cause),
            ("consequence", &self.consequence),
        ] {
            if value.trim().is_empty() {
                sink.push(field, "must not be empty");
            }
        }
        if self.systems.is_empty() {
            sink.push("systems", "name at least one affected system");
        }
        if self.secondary_categories.contains(&self.category) {
            sink.push(
                "secondary_categories",
                format!("repeats the primary category {}", self.category.as_str()),
            );
        }
        if self.review_cycle_months == Some(0) {
            sink.push(
                "review_cycle_months",
                "a review cycle must be at least 1 month",
            );
        }
        if self.status > RiskStatus::Identified && self.inherent.is_none() {
            sink.push(
                "inherent",
                format!(
                    "status {} needs an inherent score (likelihood, consequence, rationale)",
                    self.status.as_str()
                ),
            );
        }
        if matches!(self.status, RiskStatus::Treated | RiskStatus::Accepted)
            && self.residual.is_none()
        {
            sink.push(
                "residual",
                format!(
                    "status {} needs a residual score after treatment",
                    self.status.as_str()
                ),
            );
        }
        if self.inherent.is_none() && self.residual.is_some() {
            sink.push("residual", "a residual score needs an inherent score first");
        }
        let Some(criteria) = criteria else {
            return;
        };
        for (i, category) in self.consequence_categories.iter().enumerate() {
            if !criteria.consequence_categories.contains(category) {
                sink.push(
                    format!("consequence_categories[{i}]"),
                    format!(
                        "`{category}` is not a consequence category of criteria set {} (expected one of: {})",
                        criteria.id,
                        criteria.consequence_categories.join(", ")
                    ),
                );
            }
        }
        let inherent = self
            .inherent
            .as_ref()
            .and_then(|s| check_score(criteria, "inherent", s, sink));
        let residual = self
            .residual
            .as_ref()
            .and_then(|s| check_score(criteria, "residual", s, sink));
        if let (Some(inherent), Some(residual)) = (inherent, residual) {
            if residual > inherent {
                sink.push(
                    "residual",
                    format!(
                        "residual level {residual} is above inherent level {inherent}: treatment cannot raise a risk (record a new risk instead)"
                    ),
                );
            }
        }
    }
}

/// Checks a score against the scales; returns its level when it is valid.
fn check_score(
    criteria: &CriteriaSet,
    field: &str,
    score: &Score,
    sink: &mut IssueSink,
) -> Option<Level> {
    let mut ok = true;
    for (axis, value, steps) in [
        ("likelihood", score.likelihood, criteria.likelihood_steps()),
        (
            "consequence",
            score.consequence,
            criteria.consequence_steps(),
        ),
    ] {
        if value == 0 || value as usize > steps {
            sink.push(
                format!("{field}.{axis}"),
                format!(
                    "{value} is outside the {axis} scale of criteria set {} (1..{steps})",
                    criteria.id
                ),
            );
            ok = false;
        }
    }
    if score.rationale.trim().is_empty() {
        sink.push(
            format!("{field}.rationale"),
            "write down why these values were chosen",
        );
    }
    if !ok {
        return None;
    }
    criteria.level(score.likelihood, score.consequence)
}
