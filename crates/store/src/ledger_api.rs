//! The ledger and evidence operations of [`Store`].

use crate::evidence::{EvidenceRecord, NewEvidence};
use crate::ledger::{
    hex_of, to_hash, AppendContext, AppendOutcome, CheckpointPolicy, NewEntry, PayloadState,
    StoredEntry,
};
use crate::{Backend, Store, StoreError};
use airisk_ledger::tree::{HashSource, NodeId};
use airisk_ledger::{
    Bundle, ConsistencyProof, Entry, EntryKind, Hash, InclusionProof, LedgerError, LogVerifier,
    MemoryTree, SignerKey, VerifierKey,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::cell::RefCell;

/// The ledger's signing identity as recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerIdentity {
    /// The checkpoint origin line (also the key name).
    pub origin: String,
    /// The verifier key in C2SP signed-note form.
    pub verifier_key: String,
}

/// One problem found by [`Store::verify_ledger`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerProblem {
    pub index: u64,
    /// `modified`, `missing`, `reordered`, `truncated`, `checkpoint inconsistent`,
    /// `bad signature`, `malformed checkpoint` or `payload modified`.
    pub diagnosis: String,
    pub detail: String,
}

/// The outcome of a full verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerVerification {
    pub entries: u64,
    /// Hex root of the recomputed tree.
    pub root: String,
    pub checkpoints_verified: usize,
    pub latest_checkpoint_size: Option<u64>,
    /// Entries after the latest checkpoint (intact, but not yet signed).
    pub unsigned_tail: u64,
    /// Entries whose payload was erased on purpose (not tampering).
    pub erased_payloads: u64,
    /// Empty when the log verifies. Sorted by index; the first is the first bad index.
    pub problems: Vec<LedgerProblem>,
}

impl LedgerVerification {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Serves stored subtree hashes to the proof code, which asks through `&self`.
struct StoredHashes<'a> {
    backend: RefCell<&'a mut Box<dyn Backend>>,
}

impl HashSource for StoredHashes<'_> {
    fn subtree_hash(&self, node: NodeId) -> airisk_ledger::Result<Hash> {
        Ok(self.subtree_hashes(&[node])?[0])
    }

    fn subtree_hashes(&self, nodes: &[NodeId]) -> airisk_ledger::Result<Vec<Hash>> {
        self.backend
            .borrow_mut()
            .ledger_subtree_hashes(nodes)
            .map_err(|e| {
                let first = nodes.first().copied().unwrap_or(NodeId::leaf(0));
                LedgerError::HashSource {
                    level: first.level,
                    index: first.index,
                    message: e.to_string(),
                }
            })
    }
}

impl Store {
    /// The key that signs checkpoints; without one, entries are appended but not signed.
    pub fn set_signer(&mut self, signer: Option<SignerKey>) {
        self.signer = signer;
    }

    pub fn set_checkpoint_policy(&mut self, policy: CheckpointPolicy) {
        self.policy = policy;
    }

    /// Runs `f` on the backend with the append context (time, signing key, checkpoint
    /// policy), borrowing the key rather than copying it.
    pub(crate) fn with_context<R>(
        &mut self,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut dyn Backend, &AppendContext) -> R,
    ) -> R {
        let ctx = AppendContext {
            now,
            signer: self.signer.as_ref(),
            policy: self.policy,
        };
        f(self.backend.as_mut(), &ctx)
    }

    /// Records the signer's identity as the ledger's, the first time; afterwards checks
    /// that the signer is the one recorded.
    pub fn init_ledger(&mut self, signer: &SignerKey) -> Result<LedgerIdentity, StoreError> {
        let verifier = signer.verifier().to_string();
        // Read first: every command opens the store, and most must not write.
        let (origin, key) = match self.ledger_identity()? {
            Some(identity) => (identity.origin, identity.verifier_key),
            None => self.backend.ledger_set_identity(signer.name(), &verifier)?,
        };
        if key != verifier {
            return Err(StoreError::Ledger(format!(
                "this database's ledger is signed by {key}, not by the given key file ({verifier})"
            )));
        }
        Ok(LedgerIdentity {
            origin,
            verifier_key: key,
        })
    }

    pub fn ledger_identity(&mut self) -> Result<Option<LedgerIdentity>, StoreError> {
        let (_, state) = self.backend.ledger_state()?;
        Ok(match (state.origin, state.verifier_key) {
            (Some(origin), Some(verifier_key)) => Some(LedgerIdentity {
                origin,
                verifier_key,
            }),
            _ => None,
        })
    }

    pub fn ledger_size(&mut self) -> Result<u64, StoreError> {
        Ok(self.backend.ledger_state()?.0)
    }

    /// Appends a batch of entries in one transaction: one durable write for all of them
    /// (group commit). Returns only after the transaction has committed.
    pub fn append(
        &mut self,
        entries: &[NewEntry],
        now: DateTime<Utc>,
    ) -> Result<AppendOutcome, StoreError> {
        if entries.is_empty() {
            let size = self.ledger_size()?;
            return Ok(AppendOutcome {
                first_index: size,
                count: 0,
                tree_size: size,
                checkpoint: None,
            });
        }
        self.with_context(now, |backend, ctx| backend.ledger_append(entries, ctx))
    }

    /// Signs a checkpoint of the whole log now. `None` when the log has not grown since
    /// the latest checkpoint.
    pub fn checkpoint(&mut self, now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
        if self.signer.is_none() {
            return Err(StoreError::Ledger(
                "no ledger signing key is loaded; run `airisk init` to create one".into(),
            ));
        }
        self.with_context(now, |backend, ctx| backend.ledger_checkpoint(ctx))
    }

    /// Every checkpoint as (size, signed note, created at), by size.
    pub fn checkpoints(&mut self) -> Result<Vec<(u64, String, String)>, StoreError> {
        self.backend.ledger_checkpoints()
    }

    /// Entries with index in `[from, to)`.
    pub fn ledger_entries(&mut self, from: u64, to: u64) -> Result<Vec<StoredEntry>, StoreError> {
        self.backend
            .ledger_rows(from, to)?
            .into_iter()
            .map(|row| row.into_stored())
            .collect()
    }

    pub fn ledger_entry(&mut self, index: u64) -> Result<StoredEntry, StoreError> {
        self.ledger_entries(index, index + 1)?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("no ledger entry with index {index}")))
    }

    /// Erases an entry's payload (privacy request, retention). The leaf keeps the
    /// payload's hash, so every proof still holds; the entry shows as erased.
    pub fn erase_payload(
        &mut self,
        index: u64,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::Ledger("say why the payload is erased".into()));
        }
        self.ledger_entry(index)?;
        let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        self.backend.ledger_erase(index, &at, by, reason)
    }

    fn hashes(&mut self) -> StoredHashes<'_> {
        StoredHashes {
            backend: RefCell::new(&mut self.backend),
        }
    }

    /// Inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(&mut self, index: u64, size: u64) -> Result<InclusionProof, StoreError> {
        self.check_size(size)?;
        Ok(InclusionProof::generate(&self.hashes(), index, size)?)
    }

    /// Consistency proof between the trees of `old` and `new` entries.
    pub fn consistency_proof(
        &mut self,
        old: u64,
        new: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.check_size(new)?;
        Ok(ConsistencyProof::generate(&self.hashes(), old, new)?)
    }

    /// The root of the tree of the first `size` entries.
    pub fn root(&mut self, size: u64) -> Result<Hash, StoreError> {
        self.check_size(size)?;
        Ok(airisk_ledger::tree::root_from_source(&self.hashes(), size)?)
    }

    fn check_size(&mut self, size: u64) -> Result<(), StoreError> {
        let current = self.ledger_size()?;
        if size > current {
            return Err(StoreError::NotFound(format!(
                "the ledger has {current} entries; there is no tree of size {size}"
            )));
        }
        Ok(())
    }

    /// A self-contained bundle for entry `index`: the entry, its payload (unless erased),
    /// an inclusion proof and the smallest signed checkpoint that covers it.
    pub fn bundle(&mut self, index: u64, with_payload: bool) -> Result<Bundle, StoreError> {
        let row = self
            .backend
            .ledger_rows(index, index + 1)?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("no ledger entry with index {index}")))?;
        let entry = Entry::decode(&row.leaf)?;
        let (size, note, _) = self
            .checkpoints()?
            .into_iter()
            .find(|(size, _, _)| *size > index)
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "entry {index} is not covered by a signed checkpoint yet; run `airisk ledger checkpoint`"
                ))
            })?;
        let proof = self.inclusion_proof(index, size)?;
        let payload = match (with_payload, row.erased, row.payload) {
            (true, None, Some(bytes)) => Some(bytes),
            _ => None,
        };
        Ok(Bundle::new(entry, payload, proof, note))
    }

    /// Recomputes the whole tree from the stored entries, checks every checkpoint (its
    /// signature by `key`, its root, and its consistency with the others) and every
    /// payload that is not erased against the hash its entry commits to.
    pub fn verify_ledger(&mut self, key: &VerifierKey) -> Result<LedgerVerification, StoreError> {
        let rows = self.backend.ledger_rows(0, u64::MAX)?;
        let notes: Vec<String> = self
            .checkpoints()?
            .into_iter()
            .map(|(_, note, _)| note)
            .collect();
        let mut leaves = Vec::with_capacity(rows.len());
        let mut stored_hashes = Vec::with_capacity(rows.len());
        for row in &rows {
            leaves.push(row.leaf.as_slice());
            stored_hashes.push(to_hash(&row.leaf_hash, "leaf hash").unwrap_or([0; 32]));
        }
        let erased = rows.iter().filter(|r| r.erased.is_some()).count() as u64;
        let mut verifier = LogVerifier::new(key.clone());
        if let Some(identity) = self.ledger_identity()? {
            verifier = verifier.origin(identity.origin);
        }
        // Payload hashes are checked on a second thread while the tree is recomputed.
        let (report, payload_problems) = std::thread::scope(|scope| {
            let payloads = scope.spawn(|| check_payloads(&rows));
            let report = verifier.verify(&leaves, Some(&stored_hashes), &notes);
            (report, payloads.join().unwrap_or_default())
        });
        let mut problems = Vec::new();
        let mut outcome = LedgerVerification {
            entries: rows.len() as u64,
            root: String::new(),
            checkpoints_verified: 0,
            latest_checkpoint_size: None,
            unsigned_tail: 0,
            erased_payloads: erased,
            problems: Vec::new(),
        };
        match report {
            Ok(report) => {
                outcome.root = hex_of(&report.root);
                outcome.checkpoints_verified = report.checkpoints_verified;
                outcome.latest_checkpoint_size = report.latest_checkpoint.map(|c| c.size);
                outcome.unsigned_tail = report.unsigned_tail;
            }
            Err(LedgerError::LogVerification(failure)) => {
                problems.extend(failure.findings.into_iter().map(|f| LedgerProblem {
                    index: f.index,
                    diagnosis: f.diagnosis.to_string(),
                    detail: f.detail,
                }));
            }
            Err(other) => return Err(other.into()),
        }
        // At one index, the tree's finding (modified, reordered) explains the payload
        // mismatch it causes, so it comes first; the sort is stable.
        problems.extend(payload_problems);
        problems.sort_by_key(|p| p.index);
        outcome.problems = problems;
        Ok(outcome)
    }

    /// The whole tree in memory (about 64 bytes per entry), loaded in one scan: for
    /// processes that serve many proofs (≥ 100,000/s) rather than one.
    pub fn memory_tree(&mut self) -> Result<MemoryTree, StoreError> {
        let leaves = self.backend.ledger_leaf_hashes()?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(MemoryTree::from_leaf_hashes(leaves, threads))
    }

    /// Stores an evidence file (once per content), links it to `target`, and appends its
    /// ledger entry, all in one transaction.
    pub fn add_evidence(
        &mut self,
        evidence: NewEvidence,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(EvidenceRecord, AppendOutcome), StoreError> {
        let sha256 = hex_of(&airisk_ledger::sha256(&evidence.content));
        let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let payload = serde_json::json!({
            "sha256": sha256,
            "size": evidence.content.len(),
            "target": evidence.target,
            "file_name": evidence.file_name,
            "note": evidence.note,
            "outcome": evidence.outcome.map(|o| o.as_str()),
            "at": at,
        });
        let entry = NewEntry {
            kind: EntryKind::Evidence,
            actor: actor.to_string(),
            subject: evidence.target.clone(),
            payload: payload.to_string().into_bytes(),
        };
        let (id, outcome) = self.with_context(now, |backend, ctx| {
            backend.evidence_add(&evidence, &sha256, &entry, &at, ctx)
        })?;
        let record = EvidenceRecord {
            id,
            sha256,
            size: evidence.content.len() as u64,
            target: evidence.target,
            file_name: evidence.file_name,
            note: evidence.note,
            ledger_index: outcome.first_index,
            created_at: at,
            created_by: actor.to_string(),
            outcome: evidence.outcome,
        };
        Ok((record, outcome))
    }

    pub fn evidence(&mut self, target: Option<&str>) -> Result<Vec<EvidenceRecord>, StoreError> {
        self.backend.evidence_list(target)
    }

    /// The stored content of an evidence file, by its hex SHA-256.
    pub fn evidence_content(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.backend.evidence_content(sha256)
    }
}

/// Entries still carry their payload unless erased; a convenience for display.
pub fn payload_text(entry: &StoredEntry) -> Option<String> {
    match &entry.payload {
        PayloadState::Present { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    }
}

/// Every payload that is not erased must hash to what its entry commits to.
fn check_payloads(rows: &[crate::ledger::EntryRow]) -> Vec<LedgerProblem> {
    let mut problems = Vec::new();
    for row in rows {
        if row.erased.is_some() {
            continue;
        }
        let Ok(entry) = Entry::decode(&row.leaf) else {
            continue; // the tree check reports an undecodable entry
        };
        match &row.payload {
            Some(payload) if airisk_ledger::sha256(payload) == entry.payload_sha256 => {}
            Some(payload) => problems.push(LedgerProblem {
                index: row.index,
                diagnosis: "payload modified".into(),
                detail: format!(
                    "the stored payload hashes to {}, the entry commits to {}",
                    hex_of(&airisk_ledger::sha256(payload)),
                    hex_of(&entry.payload_sha256)
                ),
            }),
            None => problems.push(LedgerProblem {
                index: row.index,
                diagnosis: "payload modified".into(),
                detail: "the payload is gone but was not erased through `airisk ledger erase`"
                    .into(),
            }),
        }
    }
    problems
}
