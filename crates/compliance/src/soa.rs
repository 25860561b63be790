//! The Statement of Applicability: every control of a framework, applicable or excluded
//! with a reason, justified by the risks it treats, with status, owners and evidence.

use crate::assess::{assess_control, ControlAssessment};
use crate::evidence::EvidenceIndex;
use crate::items::soa_items;
use airisk_catalog::Catalog;
use airisk_model::{ControlStatus, EffectivenessRating, Level, Register, RiskStatus};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Soa {
    pub catalog: String,
    pub framework: String,
    pub version: String,
    pub as_of: NaiveDate,
    pub rows: Vec<SoaRow>,
    pub summary: SoaSummary,
    pub problems: Vec<SoaProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicability {
    /// Decided applicable.
    Applicable,
    /// No decision recorded, but a control in the register implements it.
    ApplicableImplied,
    Excluded,
    /// No decision and no control: the SoA is incomplete.
    Undecided,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Applicable => "applicable",
            Applicability::ApplicableImplied => "applicable (implied by a control)",
            Applicability::Excluded => "excluded",
            Applicability::Undecided => "undecided",
        }
    }

    pub fn is_applicable(self) -> bool {
        matches!(
            self,
            Applicability::Applicable | Applicability::ApplicableImplied
        )
    }
}

/// How far the item's controls have got: the most advanced status of its live controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    NotImplemented,
    Planned,
    Implemented,
    Operating,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::NotImplemented => "not implemented",
            ItemStatus::Planned => "planned",
            ItemStatus::Implemented => "implemented",
            ItemStatus::Operating => "operating",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskLink {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoaRow {
    /// The item id within its catalog (`A.6.2.4`).
    pub item: String,
    /// `catalog:item`.
    pub reference: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub applicability: Applicability,
    /// The recorded reason (always present for a well-made exclusion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_on: Option<NaiveDate>,
    /// The risks its controls treat: why the item is applicable.
    pub justification: Vec<RiskLink>,
    pub status: ItemStatus,
    /// Owners of its live controls.
    pub owners: Vec<String>,
    pub controls: Vec<ControlAssessment>,
    pub evidence_count: usize,
    /// The weakest rating among its in-place controls that have test evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effectiveness: Option<EffectivenessRating>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoaSummary {
    pub items: usize,
    pub applicable: usize,
    pub excluded: usize,
    pub undecided: usize,
    pub implemented: usize,
    pub with_evidence: usize,
}

/// Something an auditor would flag. `code` is stable for scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoaProblem {
    pub code: &'static str,
    /// The framework item, risk or control concerned.
    pub subject: String,
    pub message: String,
}

/// Builds the SoA of `catalog` for `register` as of `today`.
pub fn build_soa(
    register: &Register,
    catalog: &Catalog,
    evidence: &EvidenceIndex,
    today: NaiveDate,
) -> Soa {
    let mut problems = Vec::new();
    let views: std::collections::HashMap<String, airisk_model::RiskView> = register
        .risk_views(today)
        .into_iter()
        .map(|v| (v.id.clone(), v))
        .collect();
    let mut rows = Vec::new();
    for item in soa_items(catalog) {
        let reference = format!("{}:{}", catalog.id(), item.id);
        let decision = register.soa.get(&reference);
        let controls: Vec<ControlAssessment> = register
            .controls_implementing(&reference)
            .map(|c| assess_control(c, evidence, today))
            .collect();
        let live: Vec<&ControlAssessment> = controls
            .iter()
            .filter(|c| c.status != ControlStatus::Retired)
            .collect();
        let applicability = match decision {
            Some(d) if d.applicable => Applicability::Applicable,
            Some(_) => Applicability::Excluded,
            None if !live.is_empty() => Applicability::ApplicableImplied,
            None => Applicability::Undecided,
        };
        let mut owners: Vec<String> = live.iter().filter_map(|c| c.owner.clone()).collect();
        owners.sort();
        owners.dedup();
        let mut justification: Vec<RiskLink> = Vec::new();
        for risk_id in live.iter().flat_map(|c| c.risks.iter()) {
            if justification.iter().any(|r| &r.id == risk_id) {
                continue;
            }
            if let Some(view) = views.get(risk_id) {
                justification.push(RiskLink {
                    id: view.id.clone(),
                    title: view.title.clone(),
                    level: view.level,
                });
            }
        }
        justification.sort_by(|a, b| airisk_model::natural_cmp(&a.id, &b.id));
        let status = live
            .iter()
            .map(|c| match c.status {
                ControlStatus::Planned => ItemStatus::Planned,
                ControlStatus::Implemented => ItemStatus::Implemented,
                ControlStatus::Operating => ItemStatus::Operating,
                ControlStatus::Retired => ItemStatus::NotImplemented,
            })
            .max()
            .unwrap_or(ItemStatus::NotImplemented);
        let evidence_count = live.iter().map(|c| c.evidence.len()).sum();
        let effectiveness = live
            .iter()
            .filter(|c| c.status.is_in_place())
            .map(|c| c.effectiveness.rating)
            .filter(|r| *r != EffectivenessRating::NotAssessed)
            .min_by_key(|r| severity_rank(*r));
        let label = format!("{} {}", item.id, item.title);
        match applicability {
            Applicability::Excluded => {
                if decision.is_some_and(|d| d.lacks_exclusion_reason()) {
                    problems.push(problem(
                        "excluded_without_reason",
                        &reference,
                        format!("{label} is excluded without a reason"),
                    ));
                }
                if let Some(c) = live.iter().find(|c| c.status.is_in_place()) {
                    problems.push(problem(
                        "excluded_but_implemented",
                        &reference,
                        format!("{label} is excluded, but control {} implements it", c.id),
                    ));
                }
            }
            Applicability::Undecided => problems.push(problem(
                "undecided",
                &reference,
                format!("{label} has no applicability decision and no control"),
            )),
            Applicability::Applicable | Applicability::ApplicableImplied => {
                if live.is_empty() {
                    problems.push(problem(
                        "applicable_without_control",
                        &reference,
                        format!("{label} is applicable but no applied control implements it"),
                    ));
                } else if owners.is_empty() {
                    problems.push(problem(
                        "applicable_without_owner",
                        &reference,
                        format!("{label} is applicable but none of its controls has an owner"),
                    ));
                }
            }
        }
        for c in live.iter().filter(|c| c.status.is_in_place()) {
            let e = &c.effectiveness;
            match e.rating {
                EffectivenessRating::Ineffective => problems.push(problem(
                    "ineffective_control",
                    &c.id,
                    format!(
                        "control {} failed its latest test ({}); the items it implements are not shown to work",
                        c.id,
                        e.latest_test.map_or_else(String::new, |d| d.to_string())
                    ),
                )),
                EffectivenessRating::Stale => problems.push(problem(
                    "stale_evidence",
                    &c.id,
                    format!(
                        "control {}'s latest test ({}) is older than its evidence validity",
                        c.id,
                        e.latest_test.map_or_else(String::new, |d| d.to_string())
                    ),
                )),
                _ => {}
            }
        }
        for c in &controls {
            for missing in &c.missing_evidence {
                problems.push(problem(
                    "unknown_evidence",
                    &c.id,
                    format!("control {} lists {missing}, which is not stored", c.id),
                ));
            }
        }
        rows.push(SoaRow {
            item: item.id.clone(),
            group: item.parent.as_ref().map(|p| match catalog.item(p) {
                Some(parent) => format!("{} {}", parent.id, parent.title),
                None => p.clone(),
            }),
            title: item.title.clone(),
            reference,
            applicability,
            reason: decision.and_then(|d| d.reason.clone()),
            decided_by: decision.and_then(|d| d.decided_by.clone()),
            decided_on: decision.and_then(|d| d.decided_on),
            justification,
            status,
            owners,
            evidence_count,
            effectiveness,
            controls,
        });
    }
    let criteria = register.active_criteria();
    for view in views.values() {
        if !view.above_threshold || view.status == RiskStatus::Closed {
            continue;
        }
        let has_control = register
            .controls_for_risk(&view.id)
            .any(|c| c.status != ControlStatus::Retired);
        if !has_control {
            problems.push(problem(
                "risk_without_control",
                &view.id,
                format!(
                    "risk {} ({}) is at level {} above the acceptance threshold{} and no applied control treats it",
                    view.id,
                    view.title,
                    view.level.map_or("?".to_string(), |l| l.to_string()),
                    criteria
                        .map(|c| format!(" {}", c.acceptance_threshold))
                        .unwrap_or_default()
                ),
            ));
        }
    }
    problems.sort_by(|a, b| {
        a.code
            .cmp(b.code)
            .then_with(|| airisk_model::natural_cmp(&a.subject, &b.subject))
            .then_with(|| a.message.cmp(&b.message))
    });
    // A control that implements several items reports its missing evidence once.
    problems.dedup();
    let summary = SoaSummary {
        items: rows.len(),
        applicable: rows
            .iter()
            .filter(|r| r.applicability.is_applicable())
            .count(),
        excluded: rows
            .iter()
            .filter(|r| r.applicability == Applicability::Excluded)
            .count(),
        undecided: rows
            .iter()
            .filter(|r| r.applicability == Applicability::Undecided)
            .count(),
        implemented: rows
            .iter()
            .filter(|r| r.status >= ItemStatus::Implemented)
            .count(),
        with_evidence: rows
            .iter()
            .filter(|r| r.controls.iter().any(ControlAssessment::is_evidenced))
            .count(),
    };
    Soa {
        catalog: catalog.id().to_string(),
        framework: catalog.meta.name.clone(),
        version: catalog.meta.version.clone(),
        as_of: today,
        rows,
        summary,
        problems,
    }
}

/// Lower is worse; the SoA shows an item's weakest control.
fn severity_rank(rating: EffectivenessRating) -> u8 {
    match rating {
        EffectivenessRating::Ineffective => 0,
        EffectivenessRating::Stale => 1,
        EffectivenessRating::PartiallyEffective => 2,
        EffectivenessRating::NotAssessed => 3,
        EffectivenessRating::Effective => 4,
    }
}

fn problem(code: &'static str, subject: &str, message: String) -> SoaProblem {
    SoaProblem {
        code,
        subject: subject.to_string(),
        message,
    }
}
