//! The embedded SQLite backend.

use crate::accounts::{Account, Credential, CredentialKind};
use crate::evidence::{parse_outcome, EvidenceRecord, NewEvidence};
use crate::ledger::{
    self, to_hash, AppendContext, AppendOutcome, EntryRow, LeafRow, LedgerSql, NewEntry,
    PayloadRow, SigningState,
};
use crate::register_tx::{commit_batch, RegisterSql};
use crate::{int, Backend, Batch, HistoryRow, StoreError, Write};
use airisk_ledger::tree::NodeId;
use airisk_ledger::Hash;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::Path;

pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/sqlite/0001_register.sql")),
    (2, include_str!("migrations/sqlite/0002_ledger.sql")),
    (
        3,
        include_str!("migrations/sqlite/0003_evidence_outcome.sql"),
    ),
    (4, include_str!("migrations/sqlite/0004_accounts.sql")),
];

/// The open write transaction, seen through the register and ledger traits.
struct SqliteTx<'a, 'c>(&'a Transaction<'c>);

impl LedgerSql for SqliteTx<'_, '_> {
    fn lock_size(&mut self) -> Result<u64, StoreError> {
        // The transaction is IMMEDIATE: it already holds the write lock.
        let size: i64 =
            self.0
                .query_row("SELECT size FROM ledger_state WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        Ok(size as u64)
    }

    fn subtree_hashes(&mut self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        subtree_hashes(self.0, nodes)
    }

    fn insert(&mut self, entries: &[LeafRow], nodes: &[(NodeId, Hash)]) -> Result<(), StoreError> {
        // Prepared statements in one transaction: SQLite has no round trips to save.
        let mut entry = self.0.prepare_cached(
            "INSERT INTO ledger_entries (idx, leaf, leaf_hash) VALUES (?1, ?2, ?3)",
        )?;
        let mut body = self
            .0
            .prepare_cached("INSERT INTO ledger_payloads (idx, payload) VALUES (?1, ?2)")?;
        for row in entries {
            entry.execute(params![int(row.index), row.leaf, &row.leaf_hash[..]])?;
            body.execute(params![int(row.index), row.payload])?;
        }
        let mut node = self
            .0
            .prepare_cached("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?;
        for (id, hash) in nodes {
            node.execute(params![id.level, int(id.index), &hash[..]])?;
        }
        Ok(())
    }

    fn set_size(&mut self, size: u64) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE ledger_state SET size = ?1 WHERE id = 1",
            params![int(size)],
        )?;
        Ok(())
    }

    fn signing_state(&mut self) -> Result<SigningState, StoreError> {
        signing_state(self.0)
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO ledger_checkpoints (size, note, created_at) VALUES (?1, ?2, ?3)",
            params![int(size), note, at],
        )?;
        self.0.execute(
            "UPDATE ledger_state SET last_checkpoint_at = ?1 WHERE id = 1",
            params![at],
        )?;
        Ok(())
    }
}

impl RegisterSql for SqliteTx<'_, '_> {
    fn as_ledger(&mut self) -> &mut dyn LedgerSql {
        self
    }

    fn insert_changeset(&mut self, batch: &Batch) -> Result<i64, StoreError> {
        self.0.execute(
            "INSERT INTO changesets (at, actor, summary) VALUES (?1, ?2, ?3)",
            params![batch.at, batch.actor, batch.summary],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    fn stored(&mut self, kind: &str, id: &str) -> Result<Option<(String, i64)>, StoreError> {
        // The IMMEDIATE transaction already excludes other writers.
        Ok(self
            .0
            .query_row(
                "SELECT body, revision FROM objects WHERE kind = ?1 AND id = ?2",
                params![kind, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn insert_object(&mut self, batch: &Batch, write: &Write) -> Result<bool, StoreError> {
        let inserted = self.0.execute(
            "INSERT INTO objects (kind, id, body, revision, created_at, created_by, updated_at, updated_by)
             VALUES (?1, ?2, ?3, 1, ?4, ?5, ?4, ?5) ON CONFLICT (kind, id) DO NOTHING",
            params![write.kind, write.id, write.after, batch.at, batch.actor],
        )?;
        Ok(inserted == 1)
    }

    fn update_object(
        &mut self,
        batch: &Batch,
        write: &Write,
        revision: i64,
    ) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE objects SET body = ?3, revision = ?4, updated_at = ?5, updated_by = ?6
             WHERE kind = ?1 AND id = ?2",
            params![
                write.kind,
                write.id,
                write.after,
                revision,
                batch.at,
                batch.actor
            ],
        )?;
        Ok(())
    }

    fn insert_history(
        &mut self,
        changeset: i64,
        batch: &Batch,
        write: &Write,
        revision: i64,
        ledger_index: u64,
    ) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO history (changeset, at, actor, kind, object_id, action, revision, changes, body, ledger_idx)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                changeset,
                batch.at,
                batch.actor,
                write.kind,
                write.id,
                write.action(),
                revision,
                write.changes,
                write.after,
                int(ledger_index)
            ],
        )?;
        Ok(())
    }
}

fn subtree_hashes(conn: &Connection, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
    let mut leaf = conn.prepare_cached("SELECT leaf_hash FROM ledger_entries WHERE idx = ?1")?;
    let mut inner =
        conn.prepare_cached("SELECT hash FROM ledger_nodes WHERE level = ?1 AND idx = ?2")?;
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        let found: Option<Vec<u8>> = if node.level == 0 {
            leaf.query_row(params![int(node.index)], |r| r.get(0))
                .optional()?
        } else {
            inner
                .query_row(params![node.level, int(node.index)], |r| r.get(0))
                .optional()?
        };
        let bytes = found.ok_or_else(|| {
            StoreError::Ledger(format!(
                "stored hash of subtree (level {}, index {}) is missing",
                node.level, node.index
            ))
        })?;
        out.push(to_hash(&bytes, "subtree hash")?);
    }
    Ok(out)
}

fn signing_state(conn: &Connection) -> Result<SigningState, StoreError> {
    let (origin, verifier_key, last_checkpoint_at) = conn.query_row(
        "SELECT origin, verifier_key, last_checkpoint_at FROM ledger_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let last_checkpoint = conn
        .query_row(
            "SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )
        .optional()?;
    Ok(SigningState {
        origin,
        verifier_key,
        last_checkpoint,
        last_checkpoint_at,
    })
}

pub(crate) struct SqliteBackend {
    conn: Connection,
}

impl SqliteBackend {
    pub fn open(path: &Path) -> Result<SqliteBackend, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(StoreError::Open {
                    location: path.display().to_string(),
                    message: format!("folder {} does not exist", parent.display()),
                });
            }
        }
        let conn = Connection::open(path)?;
        // WAL lets readers run beside a writer; FULL sync keeps every acknowledged
        // register change on disk; the busy timeout waits out a concurrent writer.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(SqliteBackend { conn })
    }
}

impl Backend for SqliteBackend {
    fn migrate(&mut self, migrations: &[(i64, &str)]) -> Result<i64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        let current: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        let supported = migrations.last().map(|m| m.0).unwrap_or(0);
        if current > supported {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported,
            });
        }
        for (version, sql) in migrations.iter().filter(|m| m.0 > current) {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, chrono::Utc::now().to_rfc3339()],
            )?;
        }
        tx.commit()?;
        Ok(supported.max(current))
    }

    fn objects(&mut self) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT kind, id, body FROM objects ORDER BY kind, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn commit(
        &mut self,
        batch: &Batch,
        unchanged: &dyn Fn(&str, &str, &serde_json::Value) -> bool,
        ledger_ctx: &AppendContext,
    ) -> Result<i64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changeset = commit_batch(&mut SqliteTx(&tx), batch, unchanged, ledger_ctx)?;
        tx.commit()?;
        Ok(changeset)
    }

    fn history(
        &mut self,
        kind: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, changeset, at, actor, kind, object_id, action, revision, changes, ledger_idx FROM history
             WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR object_id = ?2)
             ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![kind, id], |r| {
            Ok(HistoryRow {
                seq: r.get(0)?,
                changeset: r.get(1)?,
                at: r.get(2)?,
                actor: r.get(3)?,
                kind: r.get(4)?,
                id: r.get(5)?,
                action: r.get(6)?,
                revision: r.get(7)?,
                changes: r.get(8)?,
                ledger_index: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn ledger_append(
        &mut self,
        entries: &[NewEntry],
        ctx: &AppendContext,
    ) -> Result<AppendOutcome, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = ledger::append(&mut SqliteTx(&tx), entries, ctx)?;
        tx.commit()?;
        Ok(outcome)
    }

    fn ledger_checkpoint(&mut self, ctx: &AppendContext) -> Result<Option<u64>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut sql = SqliteTx(&tx);
        let size = sql.lock_size()?;
        let frontier = ledger::frontier(&mut sql, size)?;
        let Some(signer) = ctx.signer else {
            return Ok(None);
        };
        let cut = ledger::maybe_checkpoint(&mut sql, &frontier, signer, ctx, true)?;
        tx.commit()?;
        Ok(cut)
    }

    fn ledger_set_identity(
        &mut self,
        origin: &str,
        verifier_key: &str,
    ) -> Result<(String, String), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE ledger_state SET origin = ?1, verifier_key = ?2 WHERE id = 1 AND origin IS NULL",
            params![origin, verifier_key],
        )?;
        let set = tx.query_row(
            "SELECT origin, verifier_key FROM ledger_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.commit()?;
        Ok(set)
    }

    fn ledger_state(&mut self) -> Result<(u64, SigningState), StoreError> {
        let size: i64 =
            self.conn
                .query_row("SELECT size FROM ledger_state WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        Ok((size as u64, signing_state(&self.conn)?))
    }

    fn ledger_rows(&mut self, from: u64, to: u64) -> Result<Vec<EntryRow>, StoreError> {
        let mut entries = self.conn.prepare(
            "SELECT idx, leaf, leaf_hash FROM ledger_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let entries = entries
            .query_map(params![int(from), int(to)], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut payloads = self.conn.prepare(
            "SELECT idx, payload, erased_at, erased_by, erased_reason FROM ledger_payloads
             WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let payloads = payloads
            .query_map(params![int(from), int(to)], |r| {
                let erased_at: Option<String> = r.get(2)?;
                Ok(PayloadRow {
                    index: r.get::<_, i64>(0)? as u64,
                    payload: r.get(1)?,
                    erased: match erased_at {
                        Some(at) => Some((
                            at,
                            r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                            r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                        )),
                        None => None,
                    },
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ledger::merge_rows(entries, payloads))
    }

    fn ledger_leaf_hashes(&mut self) -> Result<Vec<Hash>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT leaf_hash FROM ledger_entries ORDER BY idx")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| to_hash(&r?, "leaf hash")).collect()
    }

    fn ledger_subtree_hashes(&mut self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        subtree_hashes(&self.conn, nodes)
    }

    fn ledger_checkpoints(&mut self) -> Result<Vec<(u64, String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, note, created_at FROM ledger_checkpoints ORDER BY size")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn ledger_erase(
        &mut self,
        index: u64,
        at: &str,
        by: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE ledger_payloads SET payload = NULL, erased_at = ?2, erased_by = ?3, erased_reason = ?4
             WHERE idx = ?1",
            params![int(index), at, by, reason],
        )?;
        Ok(())
    }

    fn evidence_add(
        &mut self,
        evidence: &NewEvidence,
        sha256: &str,
        entry: &NewEntry,
        at: &str,
        ctx: &AppendContext,
    ) -> Result<(i64, AppendOutcome), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO evidence_blobs (sha256, size, content) VALUES (?1, ?2, ?3) ON CONFLICT (sha256) DO NOTHING",
            params![sha256, evidence.content.len() as i64, evidence.content],
        )?;
        let outcome = ledger::append(&mut SqliteTx(&tx), std::slice::from_ref(entry), ctx)?;
        tx.execute(
            "INSERT INTO evidence (sha256, target, file_name, note, ledger_idx, created_at, created_by, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![sha256, evidence.target, evidence.file_name, evidence.note, int(outcome.first_index), at, entry.actor, evidence.outcome.map(|o| o.as_str())],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok((id, outcome))
    }

    fn evidence_list(&mut self, target: Option<&str>) -> Result<Vec<EvidenceRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.id, e.sha256, b.size, e.target, e.file_name, e.note, e.ledger_idx, e.created_at, e.created_by, e.outcome
             FROM evidence e JOIN evidence_blobs b ON b.sha256 = e.sha256
             WHERE (?1 IS NULL OR e.target = ?1) ORDER BY e.id",
        )?;
        let rows = stmt.query_map(params![target], |r| {
            Ok(EvidenceRecord {
                id: r.get(0)?,
                sha256: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                target: r.get(3)?,
                file_name: r.get(4)?,
                note: r.get(5)?,
                ledger_index: r.get::<_, i64>(6)? as u64,
                created_at: r.get(7)?,
                created_by: r.get(8)?,
                outcome: parse_outcome(r.get::<_, Option<String>>(9)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn evidence_content(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT content FROM evidence_blobs WHERE sha256 = ?1",
                params![sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn revision(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM history", [], |r| {
                r.get(0)
            })?)
    }

    fn account_put(&mut self, a: &Account) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO accounts (username, display_name, role, person_id, password_hash, disabled, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
               role = excluded.role, person_id = excluded.person_id,
               password_hash = excluded.password_hash, disabled = excluded.disabled",
            params![a.username, a.display_name, a.role, a.person_id, a.password_hash, a.disabled, a.created_at],
        )?;
        Ok(())
    }

    fn account_get(&mut self, username: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("{ACCOUNT_COLUMNS} WHERE username = ?1"),
                params![username],
                account_row,
            )
            .optional()?)
    }

    fn accounts(&mut self) -> Result<Vec<Account>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("{ACCOUNT_COLUMNS} ORDER BY username"))?;
        let rows = stmt.query_map([], account_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn credential_put(&mut self, c: &Credential) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO credentials (secret_sha256, kind, username, name, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![c.secret_sha256, c.kind.as_str(), c.username, c.name, c.csrf, c.created_at, c.expires_at],
        )?;
        Ok(())
    }

    fn credential_get(&mut self, secret_sha256: &str) -> Result<Option<Credential>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("{CREDENTIAL_COLUMNS} WHERE secret_sha256 = ?1"),
                params![secret_sha256],
                credential_row,
            )
            .optional()?)
    }

    fn credential_delete(&mut self, secret_sha256: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM credentials WHERE secret_sha256 = ?1",
            params![secret_sha256],
        )? > 0)
    }

    fn credentials_of(&mut self, username: &str) -> Result<Vec<Credential>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{CREDENTIAL_COLUMNS} WHERE username = ?1 ORDER BY created_at"
        ))?;
        let rows = stmt.query_map(params![username], credential_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

const ACCOUNT_COLUMNS: &str =
    "SELECT username, display_name, role, person_id, password_hash, disabled, created_at FROM accounts";

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        username: r.get(0)?,
        display_name: r.get(1)?,
        role: r.get(2)?,
        person_id: r.get(3)?,
        password_hash: r.get(4)?,
        disabled: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const CREDENTIAL_COLUMNS: &str =
    "SELECT secret_sha256, kind, username, name, csrf, created_at, expires_at FROM credentials";

fn credential_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        secret_sha256: r.get(0)?,
        kind: CredentialKind::parse(&r.get::<_, String>(1)?),
        username: r.get(2)?,
        name: r.get(3)?,
        csrf: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
    })
}
