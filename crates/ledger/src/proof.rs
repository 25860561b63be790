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
use crate::tree::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, HashSource,
};

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
    /// Generates the proof of leaf `leaf_index` in the tree of `tree_size` leaves.
    pub fn generate<S: HashSource + ?Sized>(
        source: &S,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<Self> {
        Ok(InclusionProof {
            leaf_index,
            tree_size,
            hashes: inclusion_proof(source, leaf_index, tree_size)?,
        })
    }

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
    /// Generates the proof between the trees of `old_size` and `new_size` leaves.
    pub fn generate<S: HashSource + ?Sized>(
        source: &S,
        old_size: u64,
        new_size: u64,
    ) -> Result<Self> {
        Ok(ConsistencyProof {
            old_size,
            new_size,
            hashes: consistency_proof(source, old_size, new_size)?,
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compact::MemoryTree;
    use crate::hash::leaf_hash;

    #[test]
    fn json_round_trip_and_verify() {
        let leaves: Vec<Hash> = (0..11u8).map(|i| leaf_hash(&[i])).collect();
        let t = MemoryTree::from_leaf_hashes(leaves.clone(), 1);
        let p = InclusionProof::generate(&t, 4, 11).unwrap();
        let j = serde_json::to_string(&p).unwrap();
        assert!(j.starts_with("{\"leaf_index\":4,\"tree_size\":11,\"hashes\":[\""));
        let back: InclusionProof = serde_json::from_str(&j).unwrap();
        back.verify(&leaves[4], &t.root()).unwrap();
        let c = ConsistencyProof::generate(&t, 6, 11).unwrap();
        let back: ConsistencyProof =
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        back.verify(&t.root_at(6).unwrap(), &t.root()).unwrap();
        assert!(serde_json::from_str::<InclusionProof>(
            r#"{"leaf_index":1,"tree_size":2,"hashes":["AB"]}"#
        )
        .is_err());
        assert!(serde_json::from_str::<InclusionProof>(
            r#"{"leaf_index":1,"tree_size":2,"hashes":[],"x":1}"#
        )
        .is_err());
    }
}
