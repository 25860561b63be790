//! The evidence a control can point at: records from the store and references in the file.

use airisk_model::{Control, EvidenceOutcome, Observation};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

/// One stored evidence record, as the caller read it from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFact {
    pub id: i64,
    /// `control:ID`, `risk:ID`, …
    pub target: String,
    pub ledger_index: u64,
    pub on: NaiveDate,
    pub outcome: Option<EvidenceOutcome>,
    pub file_name: String,
}

impl EvidenceFact {
    /// A fact from a stored record's fields; `created_at` is the store's RFC 3339 timestamp.
    /// `None` when that timestamp cannot be read.
    pub fn from_stored(
        id: i64,
        target: &str,
        ledger_index: u64,
        created_at: &str,
        outcome: Option<EvidenceOutcome>,
        file_name: &str,
    ) -> Option<EvidenceFact> {
        let on = chrono::DateTime::parse_from_rfc3339(created_at)
            .ok()?
            .date_naive();
        Some(EvidenceFact {
            id,
            target: target.to_string(),
            ledger_index,
            on,
            outcome,
            file_name: file_name.to_string(),
        })
    }
}

/// A piece of evidence of one control, whichever way it was linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRef {
    /// `evidence:ID`, `ledger:INDEX` or a URL.
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<EvidenceOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

impl EvidenceRef {
    pub fn observation(&self) -> Option<Observation> {
        self.on.map(|on| Observation {
            on,
            seq: self.ledger_index,
            outcome: self.outcome,
        })
    }

    fn from_fact(fact: &EvidenceFact) -> EvidenceRef {
        EvidenceRef {
            reference: format!("evidence:{}", fact.id),
            ledger_index: Some(fact.ledger_index),
            on: Some(fact.on),
            outcome: fact.outcome,
            file_name: Some(fact.file_name.clone()),
        }
    }
}

/// Evidence records by id, by ledger index and by target.
#[derive(Debug, Default)]
pub struct EvidenceIndex {
    facts: Vec<EvidenceFact>,
    by_id: HashMap<i64, usize>,
    by_ledger: HashMap<u64, usize>,
    by_target: HashMap<String, Vec<usize>>,
}

impl EvidenceIndex {
    pub fn new(facts: impl IntoIterator<Item = EvidenceFact>) -> EvidenceIndex {
        let mut index = EvidenceIndex::default();
        for fact in facts {
            let at = index.facts.len();
            index.by_id.insert(fact.id, at);
            index.by_ledger.insert(fact.ledger_index, at);
            index
                .by_target
                .entry(fact.target.clone())
                .or_default()
                .push(at);
            index.facts.push(fact);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.facts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// Every piece of evidence of a control: records stored for `control:ID`, then the
    /// control's own references, each once. The second list holds references that point at
    /// evidence which does not exist.
    pub fn for_control(&self, control: &Control) -> (Vec<EvidenceRef>, Vec<String>) {
        let mut found: Vec<EvidenceRef> = self
            .by_target
            .get(&format!("control:{}", control.id))
            .into_iter()
            .flatten()
            .map(|&i| EvidenceRef::from_fact(&self.facts[i]))
            .collect();
        let mut missing = Vec::new();
        for reference in &control.evidence {
            let reference = reference.trim();
            let resolved = if let Some(id) = reference.strip_prefix("evidence:") {
                match id.parse::<i64>().ok().and_then(|id| self.by_id.get(&id)) {
                    Some(&i) => Some(EvidenceRef::from_fact(&self.facts[i])),
                    None => {
                        missing.push(reference.to_string());
                        None
                    }
                }
            } else if let Some(index) = reference.strip_prefix("ledger:") {
                index
                    .parse::<u64>()
                    .ok()
                    .map(|index| match self.by_ledger.get(&index) {
                        Some(&i) => EvidenceRef::from_fact(&self.facts[i]),
                        // A ledger entry that is not an evidence file (a guard decision, a
                        // red-team result): still proof, without a date or outcome here.
                        None => EvidenceRef {
                            reference: reference.to_string(),
                            ledger_index: Some(index),
                            on: None,
                            outcome: None,
                            file_name: None,
                        },
                    })
            } else {
                Some(EvidenceRef {
                    reference: reference.to_string(),
                    ledger_index: None,
                    on: None,
                    outcome: None,
                    file_name: None,
                })
            };
            if let Some(r) = resolved {
                let duplicate = found.iter().any(|f| {
                    f.reference == r.reference
                        || (f.ledger_index.is_some() && f.ledger_index == r.ledger_index)
                });
                if !duplicate {
                    found.push(r);
                }
            }
        }
        (found, missing)
    }
}
