//! RFC 9162 §2.1 Merkle tree math: roots, inclusion and consistency proofs and their
//! verification, computed from any [`HashSource`] of complete-subtree hashes.
//!
//! Proof generation never rehashes the tree: it plans which ranges of leaves the proof
//! needs (following the recursive definitions of RFC 9162 §2.1.3.1 and §2.1.4.1), splits
//! each range into complete subtrees, asks the source for all of them in one batch, and
//! folds the few incomplete right-edge ranges (O(log² n) node hashes at worst).

use crate::error::{LedgerError, Result};
use crate::hash::{empty_root, node_hash, Hash};

/// A complete (perfect) subtree: at `level` L, `index` i covers leaves
/// `[i·2^L, (i+1)·2^L)`. Level 0 nodes are leaves. This is the addressing of C2SP
/// tlog-tiles, so a store can keep tiles or one row per node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height of the subtree (0 = a single leaf).
    pub level: u8,
    /// Position of the subtree among the subtrees of its level.
    pub index: u64,
}

impl NodeId {
    /// The node of leaf `index`.
    pub const fn leaf(index: u64) -> Self {
        NodeId { level: 0, index }
    }
    /// First leaf covered.
    pub const fn begin(self) -> u64 {
        self.index << self.level
    }
    /// One past the last leaf covered.
    pub const fn end(self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// Where proof generation gets the hashes of complete subtrees. A store implements it
/// over its stored leaf hashes (level 0) and, optionally, stored interior nodes or tiles.
///
/// The tree code only asks for subtrees lying entirely inside the tree size it works on.
pub trait HashSource {
    /// The hash of one complete subtree.
    fn subtree_hash(&self, node: NodeId) -> Result<Hash>;

    /// The hashes of several complete subtrees, in the order asked. Override it to fetch
    /// a whole proof's worth in one round trip.
    fn subtree_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>> {
        nodes.iter().map(|n| self.subtree_hash(*n)).collect()
    }
}

impl<T: HashSource + ?Sized> HashSource for &T {
    fn subtree_hash(&self, node: NodeId) -> Result<Hash> {
        (**self).subtree_hash(node)
    }
    fn subtree_hashes(&self, nodes: &[NodeId]) -> Result<Vec<Hash>> {
        (**self).subtree_hashes(nodes)
    }
}

/// A plain slice of leaf hashes as a [`HashSource`]: interior subtrees are recomputed on
/// demand (O(2^level) each). Fine for small trees and tests; use [`crate::MemoryTree`] or
/// stored node hashes for large ones.
#[derive(Clone, Copy, Debug)]
pub struct LeafSlice<'a>(pub &'a [Hash]);

impl HashSource for LeafSlice<'_> {
    fn subtree_hash(&self, node: NodeId) -> Result<Hash> {
        let missing = || LedgerError::HashSource {
            level: node.level,
            index: node.index,
            message: format!("only {} leaves available", self.0.len()),
        };
        if node.level >= 64 {
            return Err(missing());
        }
        let begin = usize::try_from(node.begin()).map_err(|_| missing())?;
        let end = usize::try_from(node.end()).map_err(|_| missing())?;
        let leaves = self.0.get(begin..end).ok_or_else(missing)?;
        Ok(perfect_root(leaves))
    }
}

/// Root of a power-of-two number of leaves (or any number: the lone rightmost node of
/// a level is carried up unchanged, which is exactly the left-balanced RFC 9162 tree).
fn perfect_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        _ => {
            let mut level: Vec<Hash> = leaves
                .chunks(2)
                .map(|p| {
                    if p.len() == 2 {
                        node_hash(&p[0], &p[1])
                    } else {
                        p[0]
                    }
                })
                .collect();
            while level.len() > 1 {
                let next: Vec<Hash> = level
                    .chunks(2)
                    .map(|p| {
                        if p.len() == 2 {
                            node_hash(&p[0], &p[1])
                        } else {
                            p[0]
                        }
                    })
                    .collect();
                level = next;
            }
            level[0]
        }
    }
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Splits `[begin, end)` into complete subtrees, left to right. For the ranges RFC 9162
/// proofs use (and for every prefix `[0, n)`), the sizes strictly decrease.
pub fn decompose(begin: u64, end: u64, out: &mut Vec<NodeId>) {
    let mut b = begin;
    while b < end {
        let by_len = 63 - (end - b).leading_zeros();
        let by_align = if b == 0 { 63 } else { b.trailing_zeros() };
        let level = by_len.min(by_align);
        out.push(NodeId {
            level: level as u8,
            index: b >> level,
        });
        b += 1u64 << level;
    }
}

/// Folds the decreasing complete subtrees of one range into the range's hash.
fn fold_right(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    let mut acc = *last;
    for h in iter {
        acc = node_hash(h, &acc);
    }
    acc
}

/// Ranges whose hashes form the inclusion proof of `index` in a tree of `size`,
/// in proof order (nearest the leaf first). RFC 9162 §2.1.3.1.
fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(64);
    let (mut off, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            out.push((off + k, off + n));
            n = k;
        } else {
            out.push((off, off + k));
            off += k;
            m -= k;
            n -= k;
        }
    }
    out.reverse();
    out
}

/// Ranges whose hashes form the consistency proof from `old` to `new` (0 < old < new),
/// in proof order. RFC 9162 §2.1.4.1.
fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(64);
    let (mut off, mut n, mut m, mut whole) = (0u64, new, old, true);
    loop {
        if m == n {
            if !whole {
                out.push((off, off + m));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            out.push((off + k, off + n));
            n = k;
        } else {
            out.push((off, off + k));
            off += k;
            m -= k;
            n -= k;
            whole = false;
        }
    }
    out.reverse();
    out
}

/// Fetches and folds the hashes of several ranges with one batch call to the source.
fn hash_ranges<S: HashSource + ?Sized>(source: &S, ranges: &[(u64, u64)]) -> Result<Vec<Hash>> {
    let mut ids = Vec::with_capacity(ranges.len() * 2);
    let mut bounds = Vec::with_capacity(ranges.len());
    for &(b, e) in ranges {
        let start = ids.len();
        decompose(b, e, &mut ids);
        bounds.push((start, ids.len()));
    }
    let hashes = source.subtree_hashes(&ids)?;
    if hashes.len() != ids.len() {
        return Err(LedgerError::HashSource {
            level: 0,
            index: 0,
            message: format!("asked for {} hashes, got {}", ids.len(), hashes.len()),
        });
    }
    Ok(bounds
        .iter()
        .map(|&(s, e)| fold_right(&hashes[s..e]))
        .collect())
}

/// The root (RFC 9162 Merkle Tree Hash) of the first `size` leaves of `source`.
pub fn root_from_source<S: HashSource + ?Sized>(source: &S, size: u64) -> Result<Hash> {
    if size == 0 {
        return Ok(empty_root());
    }
    Ok(hash_ranges(source, &[(0, size)])?[0])
}

/// The root of a list of leaf hashes. The empty list has root `SHA-256()`.
pub fn root(leaves: &[Hash]) -> Hash {
    perfect_root(leaves)
}

/// Inclusion proof (audit path) of leaf `index` in the tree of the first `size` leaves,
/// nearest-the-leaf hash first. RFC 9162 §2.1.3.1.
pub fn inclusion_proof<S: HashSource + ?Sized>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    hash_ranges(source, &inclusion_ranges(index, size))
}

/// Consistency proof between the trees of the first `old_size` and `new_size` leaves.
/// RFC 9162 §2.1.4.1: empty when `old_size` is 0 or equal to `new_size`.
pub fn consistency_proof<S: HashSource + ?Sized>(
    source: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>> {
    if old_size > new_size {
        return Err(LedgerError::InvalidSize(format!(
            "old size {old_size} is larger than new size {new_size}"
        )));
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    hash_ranges(source, &consistency_ranges(old_size, new_size))
}

/// Inclusion proof from a plain slice of leaf hashes (tree size = `leaves.len()`).
pub fn inclusion_proof_from_leaves(leaves: &[Hash], index: u64) -> Result<Vec<Hash>> {
    inclusion_proof(&LeafSlice(leaves), index, leaves.len() as u64)
}

/// Consistency proof from a plain slice of leaf hashes (new size = `leaves.len()`).
pub fn consistency_proof_from_leaves(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>> {
    consistency_proof(&LeafSlice(leaves), old_size, leaves.len() as u64)
}

/// Recomputes the root from a leaf hash and its inclusion proof (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(LedgerError::InclusionProof(format!(
                "proof of {} hashes is too long for index {index} in a tree of size {size}",
                proof.len()
            )));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(LedgerError::InclusionProof(format!(
            "proof of {} hashes is too short for index {index} in a tree of size {size}",
            proof.len()
        )));
    }
    Ok(r)
}

/// Verifies that `leaf` is at `index` in the tree of `size` leaves with root `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<()> {
    let computed = root_from_inclusion_proof(leaf, index, size, proof)?;
    if &computed != root {
        return Err(LedgerError::InclusionProof(format!(
            "computed root {} differs from expected root {}",
            hex::encode(computed),
            hex::encode(root)
        )));
    }
    Ok(())
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a prefix of the
/// tree of `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<()> {
    let fail = |why: &str| {
        Err(LedgerError::ConsistencyProof(format!(
            "{old_size} -> {new_size}: {why}"
        )))
    };
    if old_size > new_size {
        return fail("old size is larger than new size");
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return fail("proof between equal sizes must be empty");
        }
        if old_root != new_root {
            return fail("roots of equal-size trees differ");
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return fail("proof from the empty tree must be empty");
        }
        if old_root != &empty_root() {
            return fail("root of the empty tree is not SHA-256()");
        }
        return Ok(());
    }
    if proof.is_empty() {
        return fail("proof is empty");
    }
    // An old tree that is a complete subtree is itself the first proof node.
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (&proof[0], &proof[1..])
    };
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return fail("proof is too long");
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return fail("proof is too short");
    }
    if &fr != old_root {
        return fail("proof does not lead to the old root");
    }
    if &sr != new_root {
        return fail("proof does not lead to the new root");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decompose_prefixes() {
        let mut v = Vec::new();
        decompose(0, 7, &mut v);
        assert_eq!(
            v,
            vec![
                NodeId { level: 2, index: 0 },
                NodeId { level: 1, index: 2 },
                NodeId { level: 0, index: 6 }
            ]
        );
        v.clear();
        decompose(3, 9, &mut v);
        let covered: u64 = v.iter().map(|n| n.end() - n.begin()).sum();
        assert_eq!(covered, 6);
        assert_eq!(v[0].begin(), 3);
        assert_eq!(v.last().unwrap().end(), 9);
    }

    #[test]
    fn split_points() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(1 << 40), 1 << 39);
    }
}
