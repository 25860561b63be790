//! Applied controls (M8): what the organisation actually does to treat its risks, which
//! framework items each measure satisfies, and how well the evidence says it works.

use crate::issue::IssueSink;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    /// Decided, not yet in place.
    Planned,
    /// In place, not yet shown to run (no operating record yet).
    Implemented,
    /// In place and running; evidence is expected.
    Operating,
    /// No longer in use; kept for history.
    Retired,
}

impl ControlStatus {
    pub const ALL: [ControlStatus; 4] = [
        ControlStatus::Planned,
        ControlStatus::Implemented,
        ControlStatus::Operating,
        ControlStatus::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Planned => "planned",
            ControlStatus::Implemented => "implemented",
            ControlStatus::Operating => "operating",
            ControlStatus::Retired => "retired",
        }
    }

    /// Whether the control currently does anything (implemented or operating).
    pub fn is_in_place(self) -> bool {
        matches!(self, ControlStatus::Implemented | ControlStatus::Operating)
    }
}

/// A control the organisation applies: taken from a framework catalog (`implements`) or
/// custom (no `implements`), linked to the systems and risks it treats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub id: String,
    pub title: String,
    /// How it is implemented here: the mechanism, where it runs, who operates it.
    pub description: String,
    /// Person id of the control owner. An applicable framework item whose controls have no
    /// owner is a Statement of Applicability problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub status: ControlStatus,
    /// Framework items this control satisfies, as `catalog-id:item-id`
    /// (`iso42001-2023:A.6.2.4`). Empty for a custom control.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implements: Vec<String>,
    /// System ids the control is applied to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub systems: Vec<String>,
    /// Risk ids the control treats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<String>,
    /// Further evidence references: `evidence:ID`, `ledger:INDEX` or a URL. Evidence stored
    /// with `airisk evidence add --for control:ID` is linked without being listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// How often evidence must be renewed for the control to count as effective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_valid_days: Option<u32>,
}

/// Evidence older than this no longer shows a control works, unless the control says otherwise.
pub const DEFAULT_EVIDENCE_VALID_DAYS: u32 = 365;

impl Control {
    pub fn is_custom(&self) -> bool {
        self.implements.is_empty()
    }

    pub fn evidence_valid_days(&self) -> u32 {
        self.evidence_valid_days
            .unwrap_or(DEFAULT_EVIDENCE_VALID_DAYS)
    }

    pub(crate) fn validate(&self, sink: &mut IssueSink) {
        if self.title.trim().is_empty() {
            sink.push("title", "must not be empty");
        }
        if self.description.trim().is_empty() {
            sink.push("description", "describe how the control is implemented");
        }
        for (i, reference) in self.implements.iter().enumerate() {
            if !is_item_reference(reference) {
                sink.push(
                    format!("implements[{i}]"),
                    format!("`{reference}` is not a framework item reference; write CATALOG:ITEM, e.g. iso42001-2023:A.6.2.4"),
                );
            }
        }
        for (field, list) in [
            ("implements", &self.implements),
            ("systems", &self.systems),
            ("risks", &self.risks),
        ] {
            if let Some((i, dup)) = first_duplicate(list) {
                sink.push(format!("{field}[{i}]"), format!("`{dup}` is listed twice"));
            }
        }
        for (i, reference) in self.evidence.iter().enumerate() {
            if let Err(message) = check_evidence_reference(reference) {
                sink.push(format!("evidence[{i}]"), message);
            }
        }
        if self.evidence_valid_days == Some(0) {
            sink.push("evidence_valid_days", "must be at least 1 day");
        }
    }
}

/// `catalog-id:item-id` with both parts non-empty and no spaces.
pub fn is_item_reference(reference: &str) -> bool {
    match reference.split_once(':') {
        Some((catalog, item)) => {
            !catalog.is_empty() && !item.is_empty() && !reference.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn first_duplicate(list: &[String]) -> Option<(usize, &str)> {
    let mut seen = std::collections::HashSet::new();
    list.iter()
        .enumerate()
        .find(|(_, v)| !seen.insert(v.as_str()))
        .map(|(i, v)| (i, v.as_str()))
}

fn check_evidence_reference(reference: &str) -> Result<(), String> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Err("empty evidence reference".into());
    }
    for (prefix, what) in [
        ("evidence:", "an evidence id"),
        ("ledger:", "a ledger entry index"),
    ] {
        if let Some(number) = reference.strip_prefix(prefix) {
            return match number.parse::<u64>() {
                Ok(_) => Ok(()),
                Err(_) => Err(format!(
                    "`{reference}`: after `{prefix}` comes {what} (a whole number)"
                )),
            };
        }
    }
    Ok(())
}

/// The applicability decision for one framework item in the Statement of Applicability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoaDecision {
    /// The framework item, `catalog-id:item-id` (`iso42001-2023:A.10.3`). Also the id.
    pub item: String,
    pub applicable: bool,
    /// Why the item is excluded (required for an exclusion), or a note on why it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Person id of whoever took the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_on: Option<NaiveDate>,
}

impl SoaDecision {
    /// An exclusion is only defensible with a reason.
    pub fn lacks_exclusion_reason(&self) -> bool {
        !self.applicable && self.reason.as_deref().is_none_or(|r| r.trim().is_empty())
    }

    pub(crate) fn validate(&self, sink: &mut IssueSink) {
        if !is_item_reference(&self.item) {
            sink.push(
                "item",
                format!("`{}` is not a framework item reference; write CATALOG:ITEM, e.g. iso42001-2023:A.2.2", self.item),
            );
        }
        if self.decided_on.is_some() && self.decided_by.is_none() {
            sink.push("decided_by", "a decision date needs who decided");
        }
    }
}

/// What one piece of evidence says about the control it is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceOutcome {
    Pass,
    Fail,
}

impl EvidenceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceOutcome::Pass => "pass",
            EvidenceOutcome::Fail => "fail",
        }
    }

    pub fn parse(text: &str) -> Option<EvidenceOutcome> {
        match text {
            "pass" => Some(EvidenceOutcome::Pass),
            "fail" => Some(EvidenceOutcome::Fail),
            _ => None,
        }
    }
}

/// One dated piece of evidence for a control; `outcome` is `None` for evidence that
/// documents without testing (a procedure, a design record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub on: NaiveDate,
    /// Where the evidence sits in recording order (for stored evidence, its ledger index), so
    /// that two tests on the same day are ordered as they happened; `None` for a reference that
    /// carries a date only.
    pub seq: Option<u64>,
    pub outcome: Option<EvidenceOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EffectivenessRating {
    /// No test evidence at all (documents alone do not show a control works).
    NotAssessed,
    /// Test evidence exists but all of it is older than the control's validity window.
    Stale,
    /// Every test in the window passed.
    Effective,
    /// The latest test passed but an earlier one in the window failed.
    PartiallyEffective,
    /// The latest test in the window failed.
    Ineffective,
}

impl EffectivenessRating {
    pub fn as_str(self) -> &'static str {
        match self {
            EffectivenessRating::NotAssessed => "not_assessed",
            EffectivenessRating::Stale => "stale",
            EffectivenessRating::Effective => "effective",
            EffectivenessRating::PartiallyEffective => "partially_effective",
            EffectivenessRating::Ineffective => "ineffective",
        }
    }
}

/// A control's effectiveness computed from its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Effectiveness {
    pub rating: EffectivenessRating,
    /// Tests in the validity window that passed and failed.
    pub passed: u32,
    pub failed: u32,
    /// Share of passing tests in the window, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass_rate: Option<f64>,
    /// Date of the newest test evidence, inside the window or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_test: Option<NaiveDate>,
}

/// Rates a control from its evidence: only tests (evidence with an outcome) count, only
/// those no older than `valid_days` before `today`, and the latest test decides between
/// effective and not. Observations dated after `today` are treated as dated today.
///
/// "Latest" is by date, then, on one day, by recording order where both tests have one (a
/// re-test after a fix counts as later than the failure it fixes). A same-day test without a
/// recording order is placed conservatively: a failure after, a pass before, every recorded
/// test of that day, so an undated-in-order result never hides a failure.
pub fn assess_effectiveness(
    observations: &[Observation],
    today: NaiveDate,
    valid_days: u32,
) -> Effectiveness {
    let window_start = today - chrono::Days::new(u64::from(valid_days));
    let mut tests: Vec<(NaiveDate, EvidenceOutcome, Option<u64>)> = observations
        .iter()
        .filter_map(|o| o.outcome.map(|outcome| (o.on.min(today), outcome, o.seq)))
        .collect();
    tests.sort_by_key(|&(on, outcome, seq)| {
        let fail = outcome == EvidenceOutcome::Fail;
        // Unordered passes first, then ordered tests by their order, then unordered failures;
        // equal keys put a failure last, so one bad result is never hidden by a good one.
        let rank = match (seq, fail) {
            (None, false) => 0,
            (Some(_), _) => 1,
            (None, true) => 2,
        };
        (on, rank, seq, fail)
    });
    let latest_test = tests.last().map(|(on, _, _)| *on);
    let in_window: Vec<&(NaiveDate, EvidenceOutcome, Option<u64>)> = tests
        .iter()
        .filter(|(on, _, _)| *on >= window_start)
        .collect();
    let passed = in_window
        .iter()
        .filter(|(_, o, _)| *o == EvidenceOutcome::Pass)
        .count() as u32;
    let failed = in_window.len() as u32 - passed;
    let rating = match (tests.is_empty(), in_window.last()) {
        (true, _) => EffectivenessRating::NotAssessed,
        (false, None) => EffectivenessRating::Stale,
        (false, Some((_, EvidenceOutcome::Fail, _))) => EffectivenessRating::Ineffective,
        (false, Some(_)) if failed == 0 => EffectivenessRating::Effective,
        (false, Some(_)) => EffectivenessRating::PartiallyEffective,
    };
    let pass_rate = (passed + failed > 0).then(|| f64::from(passed) / f64::from(passed + failed));
    Effectiveness {
        rating,
        passed,
        failed,
        pass_rate,
        latest_test,
    }
}
