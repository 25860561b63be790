//! Evidence bundles: one self-contained JSON file proving that an entry is in the log,
//! verifiable with nothing but the log's verifier key.
//!
//! ```json
//! {
//!   "format": "airisk-ledger-bundle/1",
//!   "entry": {"index": 5, "timestamp_ms": 1700000000000, "kind": "evidence",
//!             "actor": "alice", "subject": "risk:R-12", "payload_sha256": "<64 hex>"},
//!   "payload": "<base64>",            // optional; absent or null when erased/omitted
//!   "inclusion_proof": {"leaf_index": 5, "tree_size": 8, "hashes": ["<64 hex>", ...]},
//!   "checkpoint": "<signed checkpoint note>"
//! }
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::entry::Entry;
use crate::error::{LedgerError, Result};
use crate::hash::{sha256, to_hex};
use crate::note::VerifierKey;
use crate::proof::InclusionProof;

/// Value of the bundle's `format` field.
pub const BUNDLE_FORMAT: &str = "airisk-ledger-bundle/1";
/// Largest bundle accepted by [`verify_bundle`], in bytes.
pub const MAX_BUNDLE_LEN: usize = 512 << 20;

/// An evidence bundle (see the module documentation for its JSON form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The entry, whose canonical encoding is the leaf.
    pub entry: Entry,
    /// The payload, base64 in JSON; `None` when erased or left out.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "payload_b64")]
    pub payload: Option<Vec<u8>>,
    /// Inclusion proof of the entry in the checkpoint's tree.
    pub inclusion_proof: InclusionProof,
    /// The signed checkpoint note the proof leads to.
    pub checkpoint: String,
}

mod payload_b64 {
    use super::B64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(b) => s.serialize_str(&B64.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        use serde::de::Error;
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| {
            B64.decode(s)
                .map_err(|e| D::Error::custom(format!("payload is not valid base64: {e}")))
        })
        .transpose()
    }
}

impl Bundle {
    /// Assembles a bundle.
    pub fn new(
        entry: Entry,
        payload: Option<Vec<u8>>,
        inclusion_proof: InclusionProof,
        checkpoint: String,
    ) -> Self {
        Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            entry,
            payload,
            inclusion_proof,
            checkpoint,
        }
    }

    /// Pretty-printed JSON bytes.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut v = serde_json::to_vec_pretty(self)
            .map_err(|e| LedgerError::Bundle(format!("cannot serialise: {e}")))?;
        v.push(b'\n');
        Ok(v)
    }

    /// Parses bundle JSON strictly (unknown fields rejected), without verifying it.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_BUNDLE_LEN {
            return Err(LedgerError::Bundle(format!(
                "file is {} bytes, more than the {MAX_BUNDLE_LEN} accepted",
                bytes.len()
            )));
        }
        let b: Bundle = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                LedgerError::Bundle(format!("file is truncated: {e}"))
            } else {
                LedgerError::Bundle(e.to_string())
            }
        })?;
        if b.format != BUNDLE_FORMAT {
            return Err(LedgerError::Bundle(format!(
                "unknown format {:?}, expected {BUNDLE_FORMAT:?}",
                b.format
            )));
        }
        Ok(b)
    }
}

/// Whether a verified bundle carried its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadStatus {
    /// The payload was included and matches the entry's payload hash.
    Present(Vec<u8>),
    /// The payload was not included (erased or left out); the entry is still proven.
    Absent,
}

/// A bundle whose every claim has been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// The entry, proven to be leaf `entry.index` of the checkpoint's tree.
    pub entry: Entry,
    /// The payload, if included (verified against the entry's hash).
    pub payload: PayloadStatus,
    /// The checkpoint, signed by the verifier key.
    pub checkpoint: SignedCheckpoint,
}

/// Verifies an evidence bundle with only the log's verifier key: the checkpoint's
/// signature, the entry's inclusion in the checkpoint's tree, and the payload's hash.
pub fn verify_bundle(bytes: &[u8], key: &VerifierKey) -> Result<VerifiedBundle> {
    let b = Bundle::parse(bytes)?;
    let checkpoint = Checkpoint::open(&b.checkpoint, key)?;
    let cp = &checkpoint.checkpoint;
    let p = &b.inclusion_proof;
    if p.leaf_index != b.entry.index {
        return Err(LedgerError::BundleMismatch(format!(
            "proof is for leaf {}, entry has index {}",
            p.leaf_index, b.entry.index
        )));
    }
    if p.tree_size != cp.size {
        return Err(LedgerError::BundleMismatch(format!(
            "proof is for a tree of size {}, checkpoint has size {}",
            p.tree_size, cp.size
        )));
    }
    let leaf = b.entry.leaf_hash()?;
    p.verify(&leaf, &cp.root)?;
    let payload = match b.payload {
        Some(data) => {
            let actual = sha256(&data);
            if actual != b.entry.payload_sha256 {
                return Err(LedgerError::PayloadMismatch {
                    expected: to_hex(&b.entry.payload_sha256),
                    actual: to_hex(&actual),
                });
            }
            PayloadStatus::Present(data)
        }
        None => PayloadStatus::Absent,
    };
    Ok(VerifiedBundle {
        entry: b.entry,
        payload,
        checkpoint,
    })
}
