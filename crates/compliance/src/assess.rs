//! One applied control, assessed: its status, owner, evidence and effectiveness.

use crate::evidence::{EvidenceIndex, EvidenceRef};
use airisk_model::{assess_effectiveness, Control, ControlStatus, Effectiveness, Observation};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlAssessment {
    pub id: String,
    pub title: String,
    pub status: ControlStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// No catalog item: the organisation's own control.
    pub custom: bool,
    pub implements: Vec<String>,
    pub systems: Vec<String>,
    pub risks: Vec<String>,
    pub evidence: Vec<EvidenceRef>,
    /// References in the control that point at evidence which does not exist.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_evidence: Vec<String>,
    pub effectiveness: Effectiveness,
}

impl ControlAssessment {
    /// In place and backed by at least one piece of evidence.
    pub fn is_evidenced(&self) -> bool {
        self.status.is_in_place() && !self.evidence.is_empty()
    }
}

pub fn assess_control(
    control: &Control,
    evidence: &EvidenceIndex,
    today: NaiveDate,
) -> ControlAssessment {
    let (found, missing) = evidence.for_control(control);
    let observations: Vec<Observation> =
        found.iter().filter_map(EvidenceRef::observation).collect();
    ControlAssessment {
        id: control.id.clone(),
        title: control.title.clone(),
        status: control.status,
        owner: control.owner.clone(),
        custom: control.is_custom(),
        implements: control.implements.clone(),
        systems: control.systems.clone(),
        risks: control.risks.clone(),
        effectiveness: assess_effectiveness(&observations, today, control.evidence_valid_days()),
        evidence: found,
        missing_evidence: missing,
    }
}
