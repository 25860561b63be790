//! JSON forms of inclusion and consistency proofs.
//!
//! ```json
//! {"leaf_index": 5, "tree_size": 8, "hashes": ["<64 hex>", ...]}
//! {"old_size": 3, "new_size": 8, "hashes": ["<64 hex>", ...]}
//! ```
//! Hashes are lower-case hex, in RFC 9162 order (nearest the leaf / deepest first).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::entry::parse_hex_hash;
use crate::error::Result;
use crate::hash::{to_hex, Hash};
use crate::tree::{verify_consistency, verify_inclusion};

/// Most hashes accepted in a parsed proof (a tree of 2^64 leaves needs at most 65).
pub const MAX_PROOF_HASHES: usize = 70;

/// An inclusion proof of one leaf in a tree of `tree_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Index of the leaf.
    pub leaf_index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// The audit path.
    #[serde(serialize_with = "ser_hashes", deserialize_with = "de_hashes")]
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// Verifies the proof for `leaf_hash` against `root`.
    pub fn verify(&self, leaf_hash: &Hash, root: &Hash) -> Result<()> {
        verify_inclusion(
            leaf_hash,
            self.leaf_index,
            self.tree_size,
            &self.hashes,
            root,
        )
    }
}

/// A consistency proof between two tree sizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The older (smaller) tree size.
    pub old_size: u64,
    /// The newer tree size.
    pub new_size: u64,
    /// The proof hashes.
    #[serde(serialize_with = "ser_hashes", deserialize_with = "de_hashes")]
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    /// Verifies the proof between `old_root` and `new_root`.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<()> {
        verify_consistency(
            self.old_size,
            self.new_size,
            old_root,
            new_root,
            &self.hashes,
        )
    }
}

fn ser_hashes<S: Serializer>(h: &[Hash], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(h.iter().map(to_hex))
}

fn de_hashes<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Hash>, D::Error> {
    use serde::de::Error;
    let v: Vec<String> = Vec::deserialize(d)?;
    if v.len() > MAX_PROOF_HASHES {
        return Err(D::Error::custom(format!(
            "proof has {} hashes, at most {MAX_PROOF_HASHES} allowed",
            v.len()
        )));
    }
    v.iter()
        .map(|s| parse_hex_hash(s).map_err(D::Error::custom))
        .collect()
}
