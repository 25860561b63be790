//! The AI system inventory (M1), use-case tiering (M5) and EU AI Act classification.

use crate::issue::IssueSink;
use crate::level::Level;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    /// Built and trained in-house.
    Proprietary,
    /// A third-party model adapted with the organisation's own data.
    FineTuned,
    /// A third-party foundation model used as supplied (API or weights).
    ThirdPartyFoundation,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    /// Staff only.
    Internal,
    /// Known external parties (customers, partners, applicants) after sign-in.
    External,
    /// Anyone on the internet.
    Public,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Proposed,
    Design,
    Development,
    Validation,
    Deployed,
    Retired,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DataSensitivity {
    Public,
    Internal,
    Confidential,
    /// Personal data (GDPR Art. 4(1)).
    Personal,
    /// Special-category or otherwise regulated data (health, biometrics, GDPR Art. 9, payment data).
    SpecialCategory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SideEffect {
    /// Reads nothing outside the conversation and changes nothing.
    None,
    ReadsData,
    WritesData,
    /// Moves money or commits the organisation financially.
    Financial,
    /// Sends messages or requests outside the organisation.
    ExternalCommunication,
    CodeExecution,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelComponent {
    pub name: String,
    pub provider: String,
    pub version: String,
    /// What the component does in the system, e.g. `generation`, `embedding`, `scoring`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    pub name: String,
    pub sensitivity: DataSensitivity,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    /// Permissions or scopes the tool runs with, e.g. `orders:read`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    pub side_effects: Vec<SideEffect>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl Tool {
    pub fn acts(&self) -> bool {
        self.side_effects.iter().any(|e| *e != SideEffect::None)
    }
}

/// Named owners by role; each value is a person id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Owners {
    pub business: String,
    pub technical: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

impl Owners {
    /// (role, person id) for every role that is filled.
    pub fn roles(&self) -> Vec<(&'static str, &str)> {
        let mut roles = vec![
            ("business", self.business.as_str()),
            ("technical", self.technical.as_str()),
        ];
        for (role, who) in [
            ("data", &self.data),
            ("policy", &self.policy),
            ("incident", &self.incident),
        ] {
            if let Some(who) = who {
                roles.push((role, who.as_str()));
            }
        }
        roles
    }
}

/// The use-case classification questions of M5. Every answer is explicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    /// Do people outside the organisation use it or see its output?
    pub external_users: bool,
    /// Does it process personal or otherwise regulated data?
    pub personal_or_regulated_data: bool,
    /// Does it make or materially shape decisions about people (credit, jobs, benefits, access)?
    pub consequential_decisions: bool,
    /// Can it call tools or take actions beyond producing text?
    pub tools_or_actions: bool,
    /// Is it used in a regulated sector, or by or about children?
    pub regulated_sector_or_children: bool,
    /// Does it rely on a model the organisation did not build?
    pub third_party_models: bool,
}

/// The risk tier of a use case; it sets the depth and frequency of reviews.
pub type Tier = Level;

impl Classification {
    /// Points per answer: the three answers that can harm people directly weigh double.
    pub fn points(&self) -> u32 {
        let weighted = [
            (self.external_users, 1),
            (self.personal_or_regulated_data, 1),
            (self.consequential_decisions, 2),
            (self.tools_or_actions, 2),
            (self.regulated_sector_or_children, 2),
            (self.third_party_models, 1),
        ];
        weighted
            .iter()
            .filter(|(yes, _)| *yes)
            .map(|(_, p)| p)
            .sum()
    }

    /// 0–1 points low, 2–3 medium, 4–6 high, 7–9 critical.
    pub fn tier(&self) -> Tier {
        match self.points() {
            0..=1 => Level::Low,
            2..=3 => Level::Medium,
            4..=6 => Level::High,
            _ => Level::Critical,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EuAiActClass {
    /// An Article 5 practice: may not be placed on the market or used.
    Prohibited,
    /// Article 6: an Annex III use or a safety component under Annex I legislation.
    HighRisk,
    /// Article 50 transparency obligations only (chatbots, synthetic content, emotion recognition).
    Transparency,
    Minimal,
}

/// The eight Annex III areas of the EU AI Act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnnexIiiArea {
    Biometrics,
    CriticalInfrastructure,
    EducationAndTraining,
    EmploymentAndWorkers,
    EssentialServices,
    LawEnforcement,
    MigrationAsylumBorder,
    JusticeAndDemocracy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EuAiActClassification {
    pub class: EuAiActClass,
    /// Required for a high-risk system classified through Annex III.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annex_iii_area: Option<AnnexIiiArea>,
    /// For a high-risk safety component: the Annex I legislation that applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annex_i_legislation: Option<String>,
    /// Why this class applies (recorded for the auditor).
    pub reason: String,
}

/// An AI system in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiSystem {
    pub id: String,
    pub name: String,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub intended_use: String,
    pub model_type: ModelType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ModelComponent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<DataSource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected_parties: Vec<String>,
    /// Where it runs, e.g. `production, eu-west-1, Kubernetes`.
    pub environment: String,
    pub exposure: Exposure,
    /// Business criticality of the system.
    pub criticality: Level,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendors: Vec<String>,
    pub lifecycle: Lifecycle,
    pub owners: Owners,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eu_ai_act: Option<EuAiActClassification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reviewed: Option<NaiveDate>,
    /// Overrides the review cycle the tier gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_cycle_months: Option<u32>,
}

impl AiSystem {
    /// The tier from the classification answers, raised to at least `high` for an EU AI
    /// Act high-risk system and to `critical` for a prohibited one. `None` until classified.
    pub fn tier(&self) -> Option<Tier> {
        let from_answers = self.classification?.tier();
        let floor = match self.eu_ai_act.as_ref().map(|c| c.class) {
            Some(EuAiActClass::Prohibited) => Level::Critical,
            Some(EuAiActClass::HighRisk) => Level::High,
            _ => Level::Low,
        };
        Some(from_answers.max(floor))
    }

    pub(crate) fn validate(&self, sink: &mut IssueSink) {
        for (field, value) in [
            ("name", &self.name),
            ("purpose", &self.purpose),
            ("environment", &self.environment),
        ] {
            if value.trim().is_empty() {
                sink.push(field, "must not be empty");
            }
        }
        for (i, component) in self.components.iter().enumerate() {
            for (field, value) in [
                ("name", &component.name),
                ("provider", &component.provider),
                ("version", &component.version),
            ] {
                if value.trim().is_empty() {
                    sink.push(format!("components[{i}].{field}"), "must not be empty");
                }
            }
        }
        for (i, tool) in self.tools.iter().enumerate() {
            if tool.side_effects.is_empty() {
                sink.push(
                    format!("tools[{i}].side_effects"),
                    "list the side effects (use [none] for a tool that changes nothing)",
                );
            }
        }
        if self.review_cycle_months == Some(0) {
            sink.push(
                "review_cycle_months",
                "a review cycle must be at least 1 month",
            );
        }
        if let Some(eu) = &self.eu_ai_act {
            if eu.reason.trim().is_empty() {
                sink.push(
                    "eu_ai_act.reason",
                    "record why this EU AI Act class applies",
                );
            }
            let has_basis = eu.annex_iii_area.is_some() || eu.annex_i_legislation.is_some();
            match eu.class {
                EuAiActClass::HighRisk if !has_basis => sink.push(
                    "eu_ai_act.annex_iii_area",
                    "a high-risk system needs its Annex III area (or annex_i_legislation for a safety component)",
                ),
                EuAiActClass::HighRisk => {}
                _ if has_basis => sink.push(
                    "eu_ai_act.annex_iii_area",
                    "an Annex III area or Annex I legislation only applies to class high_risk",
                ),
                _ => {}
            }
        }
        if let Some(answers) = &self.classification {
            self.check_answers_match_facts(answers, sink);
        }
    }

    /// Answers that contradict what the inventory itself records are mistakes, not opinions.
    fn check_answers_match_facts(&self, answers: &Classification, sink: &mut IssueSink) {
        if self.exposure != Exposure::Internal && !answers.external_users {
            sink.push(
                "classification.external_users",
                format!(
                    "answered false, but the system's exposure is {}",
                    serde_json::to_value(self.exposure)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ),
            );
        }
        if let Some(tool) = self.tools.iter().find(|t| t.acts()) {
            if !answers.tools_or_actions {
                sink.push(
                    "classification.tools_or_actions",
                    format!("answered false, but tool `{}` has side effects", tool.name),
                );
            }
        }
        if self.model_type != ModelType::Proprietary && !answers.third_party_models {
            sink.push(
                "classification.third_party_models",
                "answered false, but the model type is a third-party or fine-tuned model",
            );
        }
        if let Some(source) = self
            .data_sources
            .iter()
            .find(|d| d.sensitivity >= DataSensitivity::Personal)
        {
            if !answers.personal_or_regulated_data {
                sink.push(
                    "classification.personal_or_regulated_data",
                    format!(
                        "answered false, but data source `{}` holds personal or regulated data",
                        source.name
                    ),
                );
            }
        }
    }
}
