//! The one error type of this crate.

use crate::verify::LogFailure;

/// Everything that can go wrong in this crate. Parsers of untrusted input return
/// one of these instead of panicking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A leaf index is not below the tree size.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// An old tree size is larger than a new one, or a size is not available.
    #[error("invalid tree sizes: {0}")]
    InvalidSize(String),
    /// An inclusion proof does not lead to the expected root.
    #[error("inclusion proof does not verify: {0}")]
    InclusionProof(String),
    /// A consistency proof does not link the two roots.
    #[error("consistency proof does not verify: {0}")]
    ConsistencyProof(String),
    /// A [`crate::HashSource`] could not deliver a subtree hash.
    #[error("hash source failed for subtree (level {level}, index {index}): {message}")]
    HashSource {
        /// Level of the subtree asked for (0 = leaf).
        level: u8,
        /// Index of the subtree within its level.
        index: u64,
        /// What the source reported.
        message: String,
    },
    /// A ledger entry, or its canonical encoding, is malformed.
    #[error("malformed ledger entry: {0}")]
    Entry(String),
    /// A signer or verifier key string is malformed.
    #[error("malformed key: {0}")]
    Key(String),
    /// A signed note is malformed.
    #[error("malformed signed note: {0}")]
    Note(String),
    /// A checkpoint body is malformed.
    #[error("malformed checkpoint: {0}")]
    Checkpoint(String),
    /// The note carries no signature by the expected key (wrong key, or unsigned).
    #[error("the note has no signature by key {name}+{key_id:08x}")]
    NoSignatureByKey {
        /// Name of the expected key.
        name: String,
        /// Key ID of the expected key.
        key_id: u32,
    },
    /// A signature line names the expected key but the signature is invalid.
    #[error("invalid signature by key {name}+{key_id:08x}")]
    BadSignature {
        /// Name of the key.
        name: String,
        /// Key ID of the key.
        key_id: u32,
    },
    /// An evidence bundle is malformed or truncated.
    #[error("malformed evidence bundle: {0}")]
    Bundle(String),
    /// An evidence bundle's proof does not match its entry or its checkpoint.
    #[error("evidence bundle does not verify: {0}")]
    BundleMismatch(String),
    /// A payload does not hash to the payload hash recorded in its entry.
    #[error("payload does not match the entry's payload hash: entry has {expected}, payload hashes to {actual}")]
    PayloadMismatch {
        /// Hex SHA-256 recorded in the entry.
        expected: String,
        /// Hex SHA-256 of the payload supplied.
        actual: String,
    },
    /// Full log verification found a problem; the first one by index.
    #[error("{0}")]
    LogVerification(Box<LogFailure>),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Rng(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;
