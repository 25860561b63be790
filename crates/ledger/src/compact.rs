//! Incremental tree state: the frontier (compact range `[0, n)`) and an in-memory tree.

use crate::error::{LedgerError, Result};
use crate::hash::{empty_root, node_hash, Hash};
use crate::tree::{self, decompose, HashSource, NodeId};

/// The roots of the complete subtrees that make up the tree `[0, size)`: one per set bit
/// of `size`, largest (leftmost) first. Appending a leaf and computing the root are
/// O(log n); the frontier is all an appender has to keep in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from its parts, e.g. as persisted by a store.
    /// `nodes` must hold one hash per set bit of `size`, largest subtree first.
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Result<Self> {
        if nodes.len() != size.count_ones() as usize {
            return Err(LedgerError::InvalidSize(format!(
                "a frontier of size {size} has {} subtrees, got {}",
                size.count_ones(),
                nodes.len()
            )));
        }
        Ok(Frontier { size, nodes })
    }

    /// Loads the frontier of the tree `[0, size)` from stored complete-subtree hashes
    /// (at most 64 lookups, one batch call).
    pub fn from_source<S: HashSource + ?Sized>(source: &S, size: u64) -> Result<Self> {
        let mut ids = Vec::with_capacity(64);
        decompose(0, size, &mut ids);
        let nodes = source.subtree_hashes(&ids)?;
        Self::from_parts(size, nodes)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The complete subtrees, largest first, with their positions.
    pub fn subtrees(&self) -> impl Iterator<Item = (NodeId, &Hash)> + '_ {
        let mut ids = Vec::with_capacity(self.nodes.len());
        decompose(0, self.size, &mut ids);
        ids.into_iter().zip(self.nodes.iter())
    }

    /// Appends one leaf hash.
    pub fn append(&mut self, leaf: Hash) {
        self.append_with(leaf, |_, _| {});
    }

    /// Appends one leaf hash and reports every complete subtree it completes (the leaf
    /// itself at level 0, then each new interior node), so a store can persist them and
    /// later serve proofs as a [`HashSource`].
    pub fn append_with(&mut self, leaf: Hash, mut completed: impl FnMut(NodeId, &Hash)) {
        let mut id = NodeId::leaf(self.size);
        let mut h = leaf;
        completed(id, &h);
        while id.index & 1 == 1 {
            // Invariant: a set bit of `size` at this level means a left sibling is stored.
            let Some(left) = self.nodes.pop() else { break };
            h = node_hash(&left, &h);
            id = NodeId {
                level: id.level + 1,
                index: id.index >> 1,
            };
            completed(id, &h);
        }
        self.nodes.push(h);
        self.size += 1;
    }

    /// The RFC 9162 root of the tree.
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        let mut acc = *last;
        for h in iter {
            acc = node_hash(h, &acc);
        }
        acc
    }
}

/// Every complete-subtree hash of a tree, kept in memory level by level (about 2n
/// hashes, 64 bytes per leaf). Appends are amortised O(1) hashes; proofs read stored
/// hashes only. Used by full verification and as a reference [`HashSource`].
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` = hash of [`NodeId`] `{ level: l, index: i }`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the tree from leaf hashes, hashing levels on up to `threads` threads.
    pub fn from_leaf_hashes(leaves: Vec<Hash>, threads: usize) -> Self {
        let mut levels = vec![leaves];
        loop {
            let below = levels.last().map(Vec::as_slice).unwrap_or_default();
            if below.len() < 2 {
                break;
            }
            let next = parallel_pairs(below, threads);
            levels.push(next);
        }
        if levels[0].is_empty() {
            levels.clear();
        }
        MemoryTree { levels }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut h = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(h);
            let len = self.levels[level].len();
            if len % 2 == 1 {
                break;
            }
            h = node_hash(&self.levels[level][len - 2], &self.levels[level][len - 1]);
            level += 1;
        }
    }

    /// Root of the whole tree.
    pub fn root(&self) -> Hash {
        self.root_at(self.size()).unwrap_or_else(|_| empty_root())
    }

    /// Root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        tree::root_from_source(self, size)
    }

    /// Inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        tree::inclusion_proof(self, index, size)
    }

    /// Consistency proof between the trees of `old_size` and `new_size` leaves.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
        self.check_size(new_size)?;
        tree::consistency_proof(self, old_size, new_size)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size() {
            return Err(LedgerError::InvalidSize(format!(
                "tree size {size} exceeds the {} leaves present",
                self.size()
            )));
        }
        Ok(())
    }
}

impl HashSource for MemoryTree {
    fn subtree_hash(&self, node: NodeId) -> Result<Hash> {
        self.levels
            .get(node.level as usize)
            .and_then(|l| l.get(usize::try_from(node.index).ok()?))
            .copied()
            .ok_or_else(|| LedgerError::HashSource {
                level: node.level,
                index: node.index,
                message: "no such complete subtree in memory".into(),
            })
    }
}

/// Hashes adjacent pairs of `below` (dropping an unpaired last element), splitting the
/// work across threads when it is large enough to pay for them.
fn parallel_pairs(below: &[Hash], threads: usize) -> Vec<Hash> {
    let pairs = below.len() / 2;
    let mut out = vec![[0u8; 32]; pairs];
    let threads = threads.max(1);
    if threads == 1 || pairs < 16 * 1024 {
        for (o, p) in out.iter_mut().zip(below.chunks_exact(2)) {
            *o = node_hash(&p[0], &p[1]);
        }
        return out;
    }
    let chunk = pairs.div_ceil(threads);
    std::thread::scope(|s| {
        for (i, o) in out.chunks_mut(chunk).enumerate() {
            let src = &below[i * chunk * 2..];
            s.spawn(move || {
                for (o, p) in o.iter_mut().zip(src.chunks_exact(2)) {
                    *o = node_hash(&p[0], &p[1]);
                }
            });
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn parallel_build_matches_frontier() {
        // Large enough for the threaded path (≥ 16Ki pairs on the lowest levels).
        let leaves: Vec<Hash> = (0..40_003u32)
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect();
        let mut f = Frontier::new();
        let mut m = MemoryTree::new();
        for l in &leaves {
            f.append(*l);
            m.push(*l);
        }
        for threads in [1, 2, 3, 8] {
            let t = MemoryTree::from_leaf_hashes(leaves.clone(), threads);
            assert_eq!(t.root(), f.root(), "threads={threads}");
            assert_eq!(t.root_at(32_768).unwrap(), m.root_at(32_768).unwrap());
            assert_eq!(t.levels, m.levels);
        }
    }
}
