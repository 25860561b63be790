//! Evidence files: stored once by content (SHA-256), linked to register objects, and
//! recorded in the ledger.

pub use airisk_model::EvidenceOutcome;
use serde::Serialize;

/// One link of an evidence file to a register object, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRecord {
    pub id: i64,
    /// Hex SHA-256 of the file's content.
    pub sha256: String,
    pub size: u64,
    /// What it is evidence for: `risk:R-1`, `treatment:T-1`, `system:S`, `control:ID` (an applied control).
    pub target: String,
    pub file_name: String,
    pub note: String,
    /// The ledger entry that records it.
    pub ledger_index: u64,
    pub created_at: String,
    pub created_by: String,
    /// What the evidence says: a passing or failing test, or nothing (documentation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<EvidenceOutcome>,
}

/// A new evidence link, before the database gives it an id and a ledger index.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub content: Vec<u8>,
    pub target: String,
    pub file_name: String,
    pub note: String,
    /// `Some` when the evidence is a test result; control effectiveness is computed from these.
    pub outcome: Option<EvidenceOutcome>,
}

/// Reads the stored outcome column; the database's CHECK constraint admits only these values.
pub(crate) fn parse_outcome(text: Option<String>) -> Option<EvidenceOutcome> {
    text.as_deref().and_then(EvidenceOutcome::parse)
}
