//! Risk treatment (M6): avoid, mitigate, transfer or accept, with owners, dates and evidence.

use crate::issue::IssueSink;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentOption {
    Avoid,
    Mitigate,
    Transfer,
    Accept,
}

impl TreatmentOption {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatmentOption::Avoid => "avoid",
            TreatmentOption::Mitigate => "mitigate",
            TreatmentOption::Transfer => "transfer",
            TreatmentOption::Accept => "accept",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentStatus {
    Planned,
    InProgress,
    Done,
    Cancelled,
}

impl TreatmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatmentStatus::Planned => "planned",
            TreatmentStatus::InProgress => "in_progress",
            TreatmentStatus::Done => "done",
            TreatmentStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, TreatmentStatus::Planned | TreatmentStatus::InProgress)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Treatment {
    pub id: String,
    /// The risk this treats (id).
    pub risk: String,
    pub option: TreatmentOption,
    pub description: String,
    /// Person id of the treatment owner.
    pub owner: String,
    /// When the treatment must be complete. Required except for `accept`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_date: Option<NaiveDate>,
    pub status: TreatmentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<NaiveDate>,
    /// References to evidence of completion: URLs, document ids, ledger entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// For `transfer`: who carries the risk (insurer, vendor, contract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_to: Option<String>,
    /// Why the organisation takes this decision; required to accept above the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Person id of whoever approved the treatment plan (or the acceptance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<NaiveDate>,
}

impl Treatment {
    pub fn is_approved(&self) -> bool {
        self.approved_by.is_some()
    }

    /// Past its target date with no evidence: a nonconformity (M6), whatever its status says.
    pub fn is_nonconformity(&self, today: NaiveDate) -> bool {
        self.status != TreatmentStatus::Cancelled
            && self.evidence.is_empty()
            && self.target_date.is_some_and(|d| d < today)
    }

    /// Still open after its target date.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status.is_open() && self.target_date.is_some_and(|d| d < today)
    }

    pub(crate) fn validate(&self, sink: &mut IssueSink) {
        if self.description.trim().is_empty() {
            sink.push("description", "must not be empty");
        }
        if self.option != TreatmentOption::Accept && self.target_date.is_none() {
            sink.push(
                "target_date",
                format!("a {} treatment needs a target date", self.option.as_str()),
            );
        }
        match (self.status, self.completed_on) {
            (TreatmentStatus::Done, None) => {
                sink.push("completed_on", "a done treatment needs its completion date")
            }
            (status, Some(_)) if status != TreatmentStatus::Done => sink.push(
                "completed_on",
                format!(
                    "only a done treatment has a completion date (status is {})",
                    status.as_str()
                ),
            ),
            _ => {}
        }
        if self.option == TreatmentOption::Transfer
            && self
                .transfer_to
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
        {
            sink.push("transfer_to", "a transfer names who carries the risk");
        }
        if self.approved_on.is_some() && self.approved_by.is_none() {
            sink.push("approved_by", "an approval date needs the approver");
        }
        for (i, reference) in self.evidence.iter().enumerate() {
            if reference.trim().is_empty() {
                sink.push(format!("evidence[{i}]"), "empty evidence reference");
            }
        }
    }
}
