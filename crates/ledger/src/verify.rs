//! Full verification of a stored log: recompute the tree from every entry, check every
//! checkpoint against it and against each other, and name the first bad index.

use std::collections::BTreeMap;
use std::fmt;

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::compact::MemoryTree;
use crate::entry::EntryRef;
use crate::error::{LedgerError, Result};
use crate::hash::{leaf_hash, to_hex, Hash};
use crate::note::{Note, VerifierKey};
use crate::tree::verify_consistency;

/// What is wrong, as `airisk ledger verify` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Diagnosis {
    /// An entry's bytes differ from what was committed (undecodable, stored leaf hash
    /// mismatch, or a root that no longer matches a signed checkpoint).
    Modified,
    /// A gap: the entry with this index is absent.
    Missing,
    /// Entries are out of order (swapped or duplicated).
    Reordered,
    /// Fewer entries are stored than a signed checkpoint covers.
    Truncated,
    /// Two validly signed checkpoints cannot both describe this log (a fork).
    CheckpointInconsistent,
    /// A checkpoint's signature by the log key is missing or invalid.
    BadSignature,
    /// A stored checkpoint cannot be parsed, or names another origin.
    MalformedCheckpoint,
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Diagnosis::Modified => "modified",
            Diagnosis::Missing => "missing",
            Diagnosis::Reordered => "reordered",
            Diagnosis::Truncated => "truncated",
            Diagnosis::CheckpointInconsistent => "checkpoint inconsistent",
            Diagnosis::BadSignature => "bad signature",
            Diagnosis::MalformedCheckpoint => "malformed checkpoint",
        })
    }
}

/// One problem found by [`LogVerifier::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The first entry index the problem makes untrustworthy. For a checkpoint-only
    /// problem (bad signature, inconsistency), the size of that checkpoint.
    pub index: u64,
    /// What is wrong.
    pub diagnosis: Diagnosis,
    /// Position of the offending checkpoint in the input, when a checkpoint is involved.
    pub checkpoint: Option<usize>,
    /// Human-readable explanation.
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "index {}: {}: {}",
            self.index, self.diagnosis, self.detail
        )
    }
}

/// The outcome of a failed verification: the first finding by index, and all of them
/// (at most [`MAX_FINDINGS`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFailure {
    /// The finding with the lowest index.
    pub first: Finding,
    /// Every finding, sorted by index.
    pub findings: Vec<Finding>,
}

impl fmt::Display for LogFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ledger verification failed at {}", self.first)?;
        if self.findings.len() > 1 {
            write!(f, " (and {} more findings)", self.findings.len() - 1)?;
        }
        Ok(())
    }
}

/// Most findings kept in a [`LogFailure`].
pub const MAX_FINDINGS: usize = 1000;

/// The outcome of a successful verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogReport {
    /// Number of entries checked.
    pub entries: u64,
    /// Root of the whole recomputed tree.
    pub root: Hash,
    /// Number of checkpoints whose signature and root were verified.
    pub checkpoints_verified: usize,
    /// The largest verified checkpoint.
    pub latest_checkpoint: Option<Checkpoint>,
    /// Entries after the latest checkpoint: intact as far as the tree goes, but not yet
    /// covered by a signature (a deletion there could not be detected).
    pub unsigned_tail: u64,
}

/// Verifies a whole stored log. Configure with the builder methods, then call
/// [`LogVerifier::verify`].
#[derive(Clone, Debug)]
pub struct LogVerifier {
    key: VerifierKey,
    origin: Option<String>,
    threads: usize,
}

/// Per-leaf results of the bulk pass, kept in flat arrays to limit memory traffic.
struct Decoded {
    hashes: Vec<Hash>,
    indexes: Vec<Option<u64>>,
    /// (position, reason) of undecodable leaves, in position order.
    errors: Vec<(usize, String)>,
}

impl LogVerifier {
    /// A verifier for checkpoints signed by `key`, using all available cores.
    pub fn new(key: VerifierKey) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        LogVerifier {
            key,
            origin: None,
            threads,
        }
    }

    /// Also require every checkpoint to carry this origin line.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Number of hashing threads (at least 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Verifies the log.
    ///
    /// * `leaves`: the encoded entries (leaf data) in stored order, position `i`
    ///   expected to hold the entry with index `i`.
    /// * `stored_leaf_hashes`: the leaf hashes the store kept, if any, aligned with
    ///   `leaves`; a mismatch pinpoints a modified entry exactly.
    /// * `checkpoints`: every stored signed checkpoint note, in any order.
    ///
    /// Returns [`LedgerError::LogVerification`] naming the first bad index.
    pub fn verify<L, C>(
        &self,
        leaves: &[L],
        stored_leaf_hashes: Option<&[Hash]>,
        checkpoints: &[C],
    ) -> Result<LogReport>
    where
        L: AsRef<[u8]> + Sync,
        C: AsRef<str>,
    {
        let mut findings = Vec::new();
        let n = leaves.len() as u64;

        // 1. Decode and hash every leaf (parallel).
        let decoded = self.hash_leaves(leaves);
        if let Some(stored) = stored_leaf_hashes {
            if stored.len() != leaves.len() {
                findings.push(Finding {
                    index: stored.len().min(leaves.len()) as u64,
                    diagnosis: Diagnosis::Missing,
                    checkpoint: None,
                    detail: format!(
                        "{} entries but {} stored leaf hashes",
                        leaves.len(),
                        stored.len()
                    ),
                });
            }
        }
        let mut first_structural: Option<u64> = None;
        let mut errors = decoded.errors.iter().peekable();
        for (i, hash) in decoded.hashes.iter().enumerate() {
            let mut note = |f: Finding| {
                if first_structural.is_none() {
                    first_structural = Some(f.index);
                }
                findings.push(f);
            };
            if let Some((_, e)) = errors.next_if(|(p, _)| *p == i) {
                note(Finding {
                    index: i as u64,
                    diagnosis: Diagnosis::Modified,
                    checkpoint: None,
                    detail: format!("entry cannot be decoded: {e}"),
                });
                continue;
            }
            if let Some(stored) = stored_leaf_hashes.and_then(|s| s.get(i)) {
                if stored != hash {
                    note(Finding {
                        index: i as u64,
                        diagnosis: Diagnosis::Modified,
                        checkpoint: None,
                        detail: format!(
                            "entry hashes to {}, stored leaf hash is {}",
                            to_hex(hash),
                            to_hex(stored)
                        ),
                    });
                }
            }
        }
        // Index order: only the first disagreement matters, the rest follows from it.
        let indexes = &decoded.indexes;
        if let Some(pos) = indexes
            .iter()
            .enumerate()
            .position(|(i, x)| x.is_some_and(|x| x != i as u64))
        {
            let claimed = indexes[pos].unwrap_or_default();
            let expected = pos as u64;
            let later = indexes[pos + 1..].iter().position(|x| *x == Some(expected));
            let (diagnosis, detail) = match later {
                Some(off) => (
                    Diagnosis::Reordered,
                    format!(
                        "position {pos} holds entry {claimed}; entry {expected} is at position {}",
                        pos + 1 + off
                    ),
                ),
                None if claimed > expected => (
                    Diagnosis::Missing,
                    format!("position {pos} holds entry {claimed}; entries {expected}..{claimed} are absent"),
                ),
                None => (
                    Diagnosis::Reordered,
                    format!("position {pos} holds entry {claimed} again (duplicate or out of order)"),
                ),
            };
            first_structural = Some(first_structural.map_or(expected, |s| s.min(expected)));
            findings.push(Finding {
                index: expected,
                diagnosis,
                checkpoint: None,
                detail,
            });
        }

        // 2. Recompute the tree.
        let tree = MemoryTree::from_leaf_hashes(decoded.hashes, self.threads);

        // 3. Checkpoints: signature, origin, then against the tree and each other.
        let mut good: Vec<(usize, SignedCheckpoint)> = Vec::new();
        for (pos, c) in checkpoints.iter().enumerate() {
            let text = c.as_ref();
            let claimed_size = Note::parse(text)
                .ok()
                .and_then(|n| Checkpoint::parse(&n.text).ok())
                .map(|c| c.size);
            match Checkpoint::open(text, &self.key) {
                Ok(sc) => {
                    if let Some(o) = &self.origin {
                        if &sc.checkpoint.origin != o {
                            findings.push(Finding {
                                index: sc.checkpoint.size,
                                diagnosis: Diagnosis::MalformedCheckpoint,
                                checkpoint: Some(pos),
                                detail: format!(
                                    "origin is {:?}, expected {o:?}",
                                    sc.checkpoint.origin
                                ),
                            });
                            continue;
                        }
                    }
                    good.push((pos, sc));
                }
                Err(e) => {
                    let diagnosis = match e {
                        LedgerError::BadSignature { .. } | LedgerError::NoSignatureByKey { .. } => {
                            Diagnosis::BadSignature
                        }
                        _ => Diagnosis::MalformedCheckpoint,
                    };
                    findings.push(Finding {
                        index: claimed_size.unwrap_or(0),
                        diagnosis,
                        checkpoint: Some(pos),
                        detail: format!("checkpoint #{pos}: {e}"),
                    });
                }
            }
        }
        good.sort_by_key(|(_, sc)| sc.checkpoint.size);

        // Same size, different roots: the key signed a fork.
        let mut by_size: BTreeMap<u64, (usize, Hash)> = BTreeMap::new();
        let mut flagged = std::collections::BTreeSet::new();
        for (pos, sc) in &good {
            let c = &sc.checkpoint;
            match by_size.get(&c.size) {
                Some((p0, r0)) if r0 != &c.root => {
                    flagged.insert(*pos);
                    findings.push(Finding {
                        index: c.size,
                        diagnosis: Diagnosis::CheckpointInconsistent,
                        checkpoint: Some(*pos),
                        detail: format!(
                            "checkpoints #{p0} and #{pos} both sign size {} with different roots",
                            c.size
                        ),
                    })
                }
                Some(_) => {}
                None => {
                    by_size.insert(c.size, (*pos, c.root));
                }
            }
        }

        let roots: Vec<Option<Hash>> = good
            .iter()
            .map(|(_, sc)| tree.root_at(sc.checkpoint.size).ok())
            .collect();
        let matches = |j: usize| roots[j].as_ref() == Some(&good[j].1.checkpoint.root);
        let mut last_good_size = 0u64;
        let mut last_good: Option<usize> = None;
        let mut verified = 0usize;
        for j in 0..good.len() {
            let (pos, sc) = &good[j];
            let c = &sc.checkpoint;
            if c.size > n {
                findings.push(Finding {
                    index: n,
                    diagnosis: Diagnosis::Truncated,
                    checkpoint: Some(*pos),
                    detail: format!(
                        "checkpoint #{pos} covers {} entries, only {n} are stored",
                        c.size
                    ),
                });
                continue;
            }
            if matches(j) {
                if let Some(k) = last_good {
                    let old = &good[k].1.checkpoint;
                    let ok = tree
                        .consistency_proof(old.size, c.size)
                        .and_then(|p| verify_consistency(old.size, c.size, &old.root, &c.root, &p));
                    if let Err(e) = ok {
                        findings.push(Finding {
                            index: c.size,
                            diagnosis: Diagnosis::CheckpointInconsistent,
                            checkpoint: Some(*pos),
                            detail: e.to_string(),
                        });
                        continue;
                    }
                }
                verified += 1;
                last_good = Some(j);
                last_good_size = c.size;
                continue;
            }
            if flagged.contains(pos) {
                continue;
            }
            // Root mismatch: if another checkpoint at least as large matches the stored
            // log, this one is the odd one out (the key signed a fork); otherwise the
            // entries changed. A structural finding below this size already explains it.
            if first_structural.is_some_and(|s| s < c.size) {
                continue;
            }
            let other_match = (0..good.len())
                .find(|&k| k != j && good[k].1.checkpoint.size >= c.size && matches(k));
            match other_match {
                Some(k) => findings.push(Finding {
                    index: c.size,
                    diagnosis: Diagnosis::CheckpointInconsistent,
                    checkpoint: Some(*pos),
                    detail: format!(
                        "checkpoint #{pos} (size {}) is not a prefix of checkpoint #{} (size {}), which matches the stored entries",
                        c.size, good[k].0, good[k].1.checkpoint.size
                    ),
                }),
                None => {
                    findings.push(Finding {
                        index: last_good_size,
                        diagnosis: Diagnosis::Modified,
                        checkpoint: Some(*pos),
                        detail: format!(
                            "entries {last_good_size}..{} do not match signed checkpoint #{pos} (root {}, recomputed {})",
                            c.size,
                            to_hex(&c.root),
                            roots[j].map(|r| to_hex(&r)).unwrap_or_default()
                        ),
                    });
                }
            }
        }

        if !findings.is_empty() {
            findings.sort_by_key(|f| (f.index, f.diagnosis));
            findings.truncate(MAX_FINDINGS);
            let first = findings[0].clone();
            return Err(LedgerError::LogVerification(Box::new(LogFailure {
                first,
                findings,
            })));
        }
        let latest = last_good.map(|j| good[j].1.checkpoint.clone());
        Ok(LogReport {
            entries: n,
            root: tree.root(),
            checkpoints_verified: verified,
            unsigned_tail: n - latest.as_ref().map_or(0, |c| c.size),
            latest_checkpoint: latest,
        })
    }

    fn hash_leaves<L: AsRef<[u8]> + Sync>(&self, leaves: &[L]) -> Decoded {
        let n = leaves.len();
        let mut hashes = vec![[0u8; 32]; n];
        let mut indexes = vec![None; n];
        // Hashes and decodes one contiguous run of leaves starting at position `base`.
        let run = |base: usize, ls: &[L], hs: &mut [Hash], xs: &mut [Option<u64>]| {
            let mut errs = Vec::new();
            for (j, ((l, h), x)) in ls.iter().zip(hs).zip(xs).enumerate() {
                let data = l.as_ref();
                *h = leaf_hash(data);
                match EntryRef::decode(data) {
                    Ok(e) => *x = Some(e.index),
                    Err(e) => errs.push((base + j, e.to_string())),
                }
            }
            errs
        };
        let errors = if self.threads == 1 || n < 8192 {
            run(0, leaves, &mut hashes, &mut indexes)
        } else {
            let chunk = n.div_ceil(self.threads);
            std::thread::scope(|s| {
                let handles: Vec<_> = leaves
                    .chunks(chunk)
                    .zip(hashes.chunks_mut(chunk))
                    .zip(indexes.chunks_mut(chunk))
                    .enumerate()
                    .map(|(k, ((ls, hs), xs))| s.spawn(move || run(k * chunk, ls, hs, xs)))
                    .collect();
                let mut all = Vec::new();
                for h in handles {
                    match h.join() {
                        Ok(v) => all.extend(v),
                        Err(p) => std::panic::resume_unwind(p),
                    }
                }
                all
            })
        };
        Decoded {
            hashes,
            indexes,
            errors,
        }
    }
}
