//! The evidence ledger on top of the database: appending entries (inside the caller's
//! transaction), keeping the complete-subtree hashes proofs need, and cutting signed
//! checkpoints. The tree math and formats are `airisk-ledger`'s; this module only decides
//! what to store and when to sign.

use crate::StoreError;
use airisk_ledger::tree::{decompose, NodeId};
use airisk_ledger::{Checkpoint, Entry, EntryKind, Frontier, Hash, SignerKey};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::time::Duration;

/// An entry to append; its index is assigned by the database.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub kind: EntryKind,
    pub actor: String,
    pub subject: String,
    pub payload: Vec<u8>,
}

/// When checkpoints are cut automatically (besides `Store::checkpoint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Sign a new checkpoint once this many entries are not yet covered by one.
    pub every_entries: u64,
    /// … or once the latest checkpoint is this old and new entries exist.
    pub every: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy {
            every_entries: 1000,
            every: Duration::from_secs(300),
        }
    }
}

/// What the signing side of the ledger knows.
#[derive(Debug, Clone, Default)]
pub(crate) struct SigningState {
    pub origin: Option<String>,
    pub verifier_key: Option<String>,
    pub last_checkpoint: Option<(u64, String)>,
    pub last_checkpoint_at: Option<String>,
}

/// The database operations appending needs, implemented once per backend on its open
/// transaction. Every method runs inside that transaction.
pub(crate) trait LedgerSql {
    /// The current tree size, locking the ledger against other appenders until commit.
    fn lock_size(&mut self) -> Result<u64, StoreError>;
    /// Hashes of complete subtrees: level 0 from the entries, higher levels from nodes.
    fn subtree_hashes(&mut self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError>;
    /// Inserts entries (with their payloads) and completed subtree hashes; one call per
    /// append, so a backend can send each table's rows in one statement.
    fn insert(&mut self, entries: &[LeafRow], nodes: &[(NodeId, Hash)]) -> Result<(), StoreError>;
    fn set_size(&mut self, size: u64) -> Result<(), StoreError>;
    fn signing_state(&mut self) -> Result<SigningState, StoreError>;
    fn insert_checkpoint(&mut self, size: u64, note: &str, at: &str) -> Result<(), StoreError>;
}

/// One encoded entry ready to store.
pub(crate) struct LeafRow<'a> {
    pub index: u64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Hash,
    pub payload: &'a [u8],
}

/// What an append needs besides the entries: the time, and a key to sign with.
pub(crate) struct AppendContext<'a> {
    pub now: DateTime<Utc>,
    pub signer: Option<&'a SignerKey>,
    pub policy: CheckpointPolicy,
}

/// The result of appending: the indices given to the entries, and a checkpoint if one
/// was cut in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppendOutcome {
    pub first_index: u64,
    pub count: u64,
    pub tree_size: u64,
    pub checkpoint: Option<u64>,
}

pub(crate) fn frontier(sql: &mut dyn LedgerSql, size: u64) -> Result<Frontier, StoreError> {
    let mut ids = Vec::with_capacity(64);
    decompose(0, size, &mut ids);
    let hashes = sql.subtree_hashes(&ids)?;
    Frontier::from_parts(size, hashes).map_err(StoreError::from)
}

/// Appends entries at the end of the log, inside the caller's transaction.
pub(crate) fn append(
    sql: &mut dyn LedgerSql,
    entries: &[NewEntry],
    ctx: &AppendContext,
) -> Result<AppendOutcome, StoreError> {
    let first = sql.lock_size()?;
    let mut frontier = frontier(sql, first)?;
    let timestamp_ms = u64::try_from(ctx.now.timestamp_millis()).unwrap_or(0);
    let mut completed = Vec::new();
    let mut rows = Vec::with_capacity(entries.len());
    for (offset, new) in entries.iter().enumerate() {
        let index = first + offset as u64;
        let entry = Entry::for_payload(
            index,
            timestamp_ms,
            new.kind.clone(),
            new.actor.clone(),
            new.subject.clone(),
            &new.payload,
        )?;
        let leaf = entry.encode()?;
        let leaf_hash = airisk_ledger::leaf_hash(&leaf);
        frontier.append_with(leaf_hash, |node, hash| {
            if node.level > 0 {
                completed.push((node, *hash));
            }
        });
        rows.push(LeafRow {
            index,
            leaf,
            leaf_hash,
            payload: &new.payload,
        });
    }
    sql.insert(&rows, &completed)?;
    let size = frontier.size();
    sql.set_size(size)?;
    let checkpoint = match ctx.signer {
        Some(signer) => maybe_checkpoint(sql, &frontier, signer, ctx, false)?,
        None => None,
    };
    Ok(AppendOutcome {
        first_index: first,
        count: entries.len() as u64,
        tree_size: size,
        checkpoint,
    })
}

/// Signs a checkpoint of the current tree when the policy says so (or `force`). Before
/// signing, the previous signed root is recomputed from the stored hashes: if it no longer
/// matches, the log was altered and nothing is signed — the ledger never signs two
/// inconsistent checkpoints.
pub(crate) fn maybe_checkpoint(
    sql: &mut dyn LedgerSql,
    frontier: &Frontier,
    signer: &SignerKey,
    ctx: &AppendContext,
    force: bool,
) -> Result<Option<u64>, StoreError> {
    let state = sql.signing_state()?;
    let origin = match (&state.origin, &state.verifier_key) {
        (Some(origin), Some(key)) if *key == signer.verifier().to_string() => origin.clone(),
        (Some(_), Some(_)) => {
            return Err(StoreError::Ledger(
                "the ledger key file does not belong to this database's ledger (its verifier key differs)".into(),
            ))
        }
        _ => {
            return Err(StoreError::Ledger(
                "this database's ledger has no signing identity yet; run `airisk init`".into(),
            ))
        }
    };
    let size = frontier.size();
    let last_size = state.last_checkpoint.as_ref().map(|c| c.0).unwrap_or(0);
    if size < last_size {
        return Err(StoreError::Ledger(format!(
            "the log has {size} entries but a checkpoint of size {last_size} exists: entries were removed"
        )));
    }
    if size == last_size {
        return Ok(None); // also covers the empty log, which has no checkpoint
    }
    let last_at = state
        .last_checkpoint_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let old_enough =
        last_at.is_none_or(|t| (ctx.now - t).to_std().unwrap_or_default() >= ctx.policy.every);
    let due = force || size - last_size >= ctx.policy.every_entries || old_enough;
    if !due {
        return Ok(None);
    }
    if let Some((old_size, note)) = &state.last_checkpoint {
        let previous = Checkpoint::open(note, &signer.verifier())?;
        let recomputed = self::frontier(sql, *old_size)?.root();
        if recomputed != previous.checkpoint.root {
            return Err(StoreError::Ledger(format!(
                "refusing to sign: the stored tree no longer matches the signed checkpoint of size {old_size}; run `airisk ledger verify`"
            )));
        }
    }
    let note = Checkpoint::new(origin, size, frontier.root()).sign(signer)?;
    let at = ctx.now.to_rfc3339_opts(SecondsFormat::Millis, true);
    sql.insert_checkpoint(size, &note, &at)?;
    Ok(Some(size))
}

/// A stored entry as read back for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEntry {
    pub index: u64,
    /// Milliseconds since the Unix epoch (UTC), as in the leaf.
    pub timestamp_ms: u64,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    /// Hex SHA-256 of the payload, as committed in the leaf.
    pub payload_sha256: String,
    /// Hex leaf hash.
    pub leaf_hash: String,
    pub payload: PayloadState,
}

/// What is known of an entry's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PayloadState {
    Present {
        #[serde(skip)]
        bytes: Vec<u8>,
        size: usize,
    },
    Erased {
        at: String,
        by: String,
        reason: String,
    },
    Missing,
}

/// Raw rows of one entry, as a backend returns them.
pub(crate) struct EntryRow {
    pub index: u64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Vec<u8>,
    pub payload: Option<Vec<u8>>,
    pub erased: Option<(String, String, String)>,
}

impl EntryRow {
    pub fn into_stored(self) -> Result<StoredEntry, StoreError> {
        let entry = Entry::decode(&self.leaf).map_err(|e| {
            StoreError::Ledger(format!("entry {} cannot be decoded: {e}", self.index))
        })?;
        let payload = match (self.payload, self.erased) {
            (_, Some((at, by, reason))) => PayloadState::Erased { at, by, reason },
            (Some(bytes), None) => PayloadState::Present {
                size: bytes.len(),
                bytes,
            },
            (None, None) => PayloadState::Missing,
        };
        Ok(StoredEntry {
            index: self.index,
            timestamp_ms: entry.timestamp_ms,
            kind: entry.kind.as_str().to_string(),
            actor: entry.actor,
            subject: entry.subject,
            payload_sha256: airisk_ledger::hash::to_hex(&entry.payload_sha256),
            leaf_hash: hex_of(&self.leaf_hash),
            payload,
        })
    }
}

pub(crate) fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn to_hash(bytes: &[u8], what: &str) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Ledger(format!("stored {what} is {} bytes, not 32", bytes.len())))
}

/// Joins entry rows and payload rows (each sorted by index) without a per-row lookup in
/// the database: two sequential scans are much faster than a join for a full verify.
pub(crate) fn merge_rows(
    entries: Vec<(u64, Vec<u8>, Vec<u8>)>,
    payloads: Vec<PayloadRow>,
) -> Vec<EntryRow> {
    let mut payloads = payloads.into_iter().peekable();
    entries
        .into_iter()
        .map(|(index, leaf, leaf_hash)| {
            while payloads.next_if(|p| p.index < index).is_some() {}
            let (payload, erased) = match payloads.next_if(|p| p.index == index) {
                Some(p) => (p.payload, p.erased),
                None => (None, None),
            };
            EntryRow {
                index,
                leaf,
                leaf_hash,
                payload,
                erased,
            }
        })
        .collect()
}

pub(crate) struct PayloadRow {
    pub index: u64,
    pub payload: Option<Vec<u8>>,
    pub erased: Option<(String, String, String)>,
}
