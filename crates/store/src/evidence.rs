//! Evidence files: stored once by content (SHA-256), linked to register objects, and
//! recorded in the ledger.

use serde::Serialize;

/// One link of an evidence file to a register object, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRecord {
    pub id: i64,
    /// Hex SHA-256 of the file's content.
    pub sha256: String,
    pub size: u64,
    /// What it is evidence for: `risk:R-1`, `treatment:T-1`, `system:S`, `control:CATALOG:ITEM`.
    pub target: String,
    pub file_name: String,
    pub note: String,
    /// The ledger entry that records it.
    pub ledger_index: u64,
    pub created_at: String,
    pub created_by: String,
}

/// A new evidence link, before the database gives it an id and a ledger index.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub content: Vec<u8>,
    pub target: String,
    pub file_name: String,
    pub note: String,
}
