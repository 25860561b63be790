//! The PostgreSQL backend, for deployments where several instances share one register.

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
use postgres::{Client, GenericClient, NoTls, Transaction};

pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/postgres/0001_register.sql")),
    (2, include_str!("migrations/postgres/0002_ledger.sql")),
    (
        3,
        include_str!("migrations/postgres/0003_evidence_outcome.sql"),
    ),
    (4, include_str!("migrations/postgres/0004_accounts.sql")),
];

/// The open write transaction, seen through the register and ledger traits.
struct PgTx<'a, 'c>(&'a mut Transaction<'c>);

impl LedgerSql for PgTx<'_, '_> {
    fn lock_size(&mut self) -> Result<u64, StoreError> {
        // The row lock sequences appenders from every process sharing the database.
        let size: i64 = self
            .0
            .query_one("SELECT size FROM ledger_state WHERE id = 1 FOR UPDATE", &[])?
            .get(0);
        Ok(size as u64)
    }

    fn subtree_hashes(&mut self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        subtree_hashes(self.0, nodes)
    }

    fn insert(&mut self, entries: &[LeafRow], nodes: &[(NodeId, Hash)]) -> Result<(), StoreError> {
        // One statement per table for the whole batch: a round trip per row would cap
        // appends at a few thousand per second.
        let indices: Vec<i64> = entries.iter().map(|r| int(r.index)).collect();
        let leaves: Vec<&[u8]> = entries.iter().map(|r| r.leaf.as_slice()).collect();
        let hashes: Vec<&[u8]> = entries.iter().map(|r| &r.leaf_hash[..]).collect();
        let payloads: Vec<&[u8]> = entries.iter().map(|r| r.payload).collect();
        self.0.execute(
            "INSERT INTO ledger_entries (idx, leaf, leaf_hash)
             SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BYTEA[])",
            &[&indices, &leaves, &hashes],
        )?;
        self.0.execute(
            "INSERT INTO ledger_payloads (idx, payload) SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[])",
            &[&indices, &payloads],
        )?;
        if !nodes.is_empty() {
            let levels: Vec<i64> = nodes.iter().map(|(n, _)| i64::from(n.level)).collect();
            let node_indices: Vec<i64> = nodes.iter().map(|(n, _)| int(n.index)).collect();
            let node_hashes: Vec<&[u8]> = nodes.iter().map(|(_, h)| &h[..]).collect();
            self.0.execute(
                "INSERT INTO ledger_nodes (level, idx, hash)
                 SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BYTEA[])",
                &[&levels, &node_indices, &node_hashes],
            )?;
        }
        Ok(())
    }

    fn set_size(&mut self, size: u64) -> Result<(), StoreError> {
        self.0.execute(
            "UPDATE ledger_state SET size = $1 WHERE id = 1",
            &[&int(size)],
        )?;
        Ok(())
    }

    fn signing_state(&mut self) -> Result<SigningState, StoreError> {
        signing_state(self.0)
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str, at: &str) -> Result<(), StoreError> {
        self.0.execute(
            "INSERT INTO ledger_checkpoints (size, note, created_at) VALUES ($1, $2, $3)",
            &[&int(size), &note, &at],
        )?;
        self.0.execute(
            "UPDATE ledger_state SET last_checkpoint_at = $1 WHERE id = 1",
            &[&at],
        )?;
        Ok(())
    }
}

impl RegisterSql for PgTx<'_, '_> {
    fn as_ledger(&mut self) -> &mut dyn LedgerSql {
        self
    }

    fn insert_changeset(&mut self, batch: &Batch) -> Result<i64, StoreError> {
        Ok(self
            .0
            .query_one(
                "INSERT INTO changesets (at, actor, summary) VALUES ($1, $2, $3) RETURNING id",
                &[&batch.at, &batch.actor, &batch.summary],
            )?
            .get(0))
    }

    fn stored(&mut self, kind: &str, id: &str) -> Result<Option<(String, i64)>, StoreError> {
        // FOR UPDATE holds the row until commit, so a concurrent writer waits and then
        // sees our version, failing its own compare-and-swap.
        Ok(self
            .0
            .query_opt(
                "SELECT body, revision FROM objects WHERE kind = $1 AND id = $2 FOR UPDATE",
                &[&kind, &id],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn insert_object(&mut self, batch: &Batch, write: &Write) -> Result<bool, StoreError> {
        let inserted = self.0.execute(
            "INSERT INTO objects (kind, id, body, revision, created_at, created_by, updated_at, updated_by)
             VALUES ($1, $2, $3, 1, $4, $5, $4, $5) ON CONFLICT (kind, id) DO NOTHING",
            &[&write.kind, &write.id, &write.after, &batch.at, &batch.actor],
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
            "UPDATE objects SET body = $3, revision = $4, updated_at = $5, updated_by = $6
             WHERE kind = $1 AND id = $2",
            &[
                &write.kind,
                &write.id,
                &write.after,
                &revision,
                &batch.at,
                &batch.actor,
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &changeset,
                &batch.at,
                &batch.actor,
                &write.kind,
                &write.id,
                &write.action(),
                &revision,
                &write.changes,
                &write.after,
                &int(ledger_index),
            ],
        )?;
        Ok(())
    }
}

fn subtree_hashes(
    client: &mut impl GenericClient,
    nodes: &[NodeId],
) -> Result<Vec<Hash>, StoreError> {
    // Two queries per call (leaves, inner nodes) rather than one per node.
    let leaf_ids: Vec<i64> = nodes
        .iter()
        .filter(|n| n.level == 0)
        .map(|n| int(n.index))
        .collect();
    let mut found = std::collections::HashMap::with_capacity(nodes.len());
    if !leaf_ids.is_empty() {
        for row in client.query(
            "SELECT idx, leaf_hash FROM ledger_entries WHERE idx = ANY($1)",
            &[&leaf_ids],
        )? {
            found.insert((0i64, row.get::<_, i64>(0)), row.get::<_, Vec<u8>>(1));
        }
    }
    let inner: Vec<&NodeId> = nodes.iter().filter(|n| n.level > 0).collect();
    if !inner.is_empty() {
        let levels: Vec<i64> = inner.iter().map(|n| i64::from(n.level)).collect();
        let indices: Vec<i64> = inner.iter().map(|n| int(n.index)).collect();
        for row in client.query(
            "SELECT n.level, n.idx, n.hash FROM ledger_nodes n
             JOIN UNNEST($1::BIGINT[], $2::BIGINT[]) AS wanted(level, idx)
               ON n.level = wanted.level AND n.idx = wanted.idx",
            &[&levels, &indices],
        )? {
            found.insert(
                (row.get::<_, i64>(0), row.get::<_, i64>(1)),
                row.get::<_, Vec<u8>>(2),
            );
        }
    }
    nodes
        .iter()
        .map(|node| {
            let bytes = found
                .get(&(i64::from(node.level), int(node.index)))
                .ok_or_else(|| {
                    StoreError::Ledger(format!(
                        "stored hash of subtree (level {}, index {}) is missing",
                        node.level, node.index
                    ))
                })?;
            to_hash(bytes, "subtree hash")
        })
        .collect()
}

fn signing_state(client: &mut impl GenericClient) -> Result<SigningState, StoreError> {
    let row = client.query_one(
        "SELECT origin, verifier_key, last_checkpoint_at FROM ledger_state WHERE id = 1",
        &[],
    )?;
    let last_checkpoint = client
        .query_opt(
            "SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
            &[],
        )?
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)));
    Ok(SigningState {
        origin: row.get(0),
        verifier_key: row.get(1),
        last_checkpoint,
        last_checkpoint_at: row.get(2),
    })
}

/// Serialises migrations between instances starting at once (an arbitrary constant).
const MIGRATION_LOCK: i64 = 0x0a1_715c;

pub(crate) struct PostgresBackend {
    client: Client,
}

impl PostgresBackend {
    pub fn connect(url: &str) -> Result<PostgresBackend, StoreError> {
        let client = Client::connect(url, NoTls).map_err(|e| StoreError::Open {
            location: crate::Location::Postgres(url.to_string()).redacted(),
            message: crate::postgres_message(&e),
        })?;
        Ok(PostgresBackend { client })
    }
}

impl Backend for PostgresBackend {
    fn migrate(&mut self, migrations: &[(i64, &str)]) -> Result<i64, StoreError> {
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?
            .get(0);
        let supported = migrations.last().map(|m| m.0).unwrap_or(0);
        if current > supported {
            return Err(StoreError::SchemaTooNew {
                found: current,
                supported,
            });
        }
        for (version, sql) in migrations.iter().filter(|m| m.0 > current) {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[version, &chrono::Utc::now().to_rfc3339()],
            )?;
        }
        tx.commit()?;
        Ok(supported.max(current))
    }

    fn objects(&mut self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = self
            .client
            .query("SELECT kind, id, body FROM objects ORDER BY kind, id", &[])?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn commit(
        &mut self,
        batch: &Batch,
        unchanged: &dyn Fn(&str, &str, &serde_json::Value) -> bool,
        ledger_ctx: &AppendContext,
    ) -> Result<i64, StoreError> {
        let mut tx = self.client.transaction()?;
        let changeset = commit_batch(&mut PgTx(&mut tx), batch, unchanged, ledger_ctx)?;
        tx.commit()?;
        Ok(changeset)
    }

    fn history(
        &mut self,
        kind: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let rows = self.client.query(
            "SELECT seq, changeset, at, actor, kind, object_id, action, revision, changes, ledger_idx FROM history
             WHERE ($1::TEXT IS NULL OR kind = $1) AND ($2::TEXT IS NULL OR object_id = $2)
             ORDER BY seq",
            &[&kind, &id],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryRow {
                seq: r.get(0),
                changeset: r.get(1),
                at: r.get(2),
                actor: r.get(3),
                kind: r.get(4),
                id: r.get(5),
                action: r.get(6),
                revision: r.get(7),
                changes: r.get(8),
                ledger_index: r.get(9),
            })
            .collect())
    }

    fn ledger_append(
        &mut self,
        entries: &[NewEntry],
        ctx: &AppendContext,
    ) -> Result<AppendOutcome, StoreError> {
        let mut tx = self.client.transaction()?;
        let outcome = ledger::append(&mut PgTx(&mut tx), entries, ctx)?;
        tx.commit()?;
        Ok(outcome)
    }

    fn ledger_checkpoint(&mut self, ctx: &AppendContext) -> Result<Option<u64>, StoreError> {
        let mut tx = self.client.transaction()?;
        let mut sql = PgTx(&mut tx);
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
        let mut tx = self.client.transaction()?;
        tx.execute(
            "UPDATE ledger_state SET origin = $1, verifier_key = $2 WHERE id = 1 AND origin IS NULL",
            &[&origin, &verifier_key],
        )?;
        let row = tx.query_one(
            "SELECT origin, verifier_key FROM ledger_state WHERE id = 1",
            &[],
        )?;
        let set = (row.get(0), row.get(1));
        tx.commit()?;
        Ok(set)
    }

    fn ledger_state(&mut self) -> Result<(u64, SigningState), StoreError> {
        let size: i64 = self
            .client
            .query_one("SELECT size FROM ledger_state WHERE id = 1", &[])?
            .get(0);
        Ok((size as u64, signing_state(&mut self.client)?))
    }

    fn ledger_rows(&mut self, from: u64, to: u64) -> Result<Vec<EntryRow>, StoreError> {
        let (from, to) = (int(from), int(to));
        let entries = self
            .client
            .query(
                "SELECT idx, leaf, leaf_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&from, &to],
            )?
            .into_iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1), r.get(2)))
            .collect();
        let payloads = self
            .client
            .query(
                "SELECT idx, payload, erased_at, erased_by, erased_reason FROM ledger_payloads
                 WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&from, &to],
            )?
            .into_iter()
            .map(|r| {
                let erased_at: Option<String> = r.get(2);
                PayloadRow {
                    index: r.get::<_, i64>(0) as u64,
                    payload: r.get(1),
                    erased: erased_at.map(|at| {
                        (
                            at,
                            r.get::<_, Option<String>>(3).unwrap_or_default(),
                            r.get::<_, Option<String>>(4).unwrap_or_default(),
                        )
                    }),
                }
            })
            .collect();
        Ok(ledger::merge_rows(entries, payloads))
    }

    fn ledger_leaf_hashes(&mut self) -> Result<Vec<Hash>, StoreError> {
        self.client
            .query("SELECT leaf_hash FROM ledger_entries ORDER BY idx", &[])?
            .into_iter()
            .map(|r| to_hash(&r.get::<_, Vec<u8>>(0), "leaf hash"))
            .collect()
    }

    fn ledger_subtree_hashes(&mut self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        subtree_hashes(&mut self.client, nodes)
    }

    fn ledger_checkpoints(&mut self) -> Result<Vec<(u64, String, String)>, StoreError> {
        let rows = self.client.query(
            "SELECT size, note, created_at FROM ledger_checkpoints ORDER BY size",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1), r.get(2)))
            .collect())
    }

    fn ledger_erase(
        &mut self,
        index: u64,
        at: &str,
        by: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.client.execute(
            "UPDATE ledger_payloads SET payload = NULL, erased_at = $2, erased_by = $3, erased_reason = $4
             WHERE idx = $1",
            &[&int(index), &at, &by, &reason],
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
        let mut tx = self.client.transaction()?;
        tx.execute(
            "INSERT INTO evidence_blobs (sha256, size, content) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
            &[&sha256, &(evidence.content.len() as i64), &evidence.content],
        )?;
        let outcome = ledger::append(&mut PgTx(&mut tx), std::slice::from_ref(entry), ctx)?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO evidence (sha256, target, file_name, note, ledger_idx, created_at, created_by, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &sha256,
                    &evidence.target,
                    &evidence.file_name,
                    &evidence.note,
                    &int(outcome.first_index),
                    &at,
                    &entry.actor,
                    &evidence.outcome.map(|o| o.as_str()),
                ],
            )?
            .get(0);
        tx.commit()?;
        Ok((id, outcome))
    }

    fn evidence_list(&mut self, target: Option<&str>) -> Result<Vec<EvidenceRecord>, StoreError> {
        let rows = self.client.query(
            "SELECT e.id, e.sha256, b.size, e.target, e.file_name, e.note, e.ledger_idx, e.created_at, e.created_by, e.outcome
             FROM evidence e JOIN evidence_blobs b ON b.sha256 = e.sha256
             WHERE ($1::TEXT IS NULL OR e.target = $1) ORDER BY e.id",
            &[&target],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| EvidenceRecord {
                id: r.get(0),
                sha256: r.get(1),
                size: r.get::<_, i64>(2) as u64,
                target: r.get(3),
                file_name: r.get(4),
                note: r.get(5),
                ledger_index: r.get::<_, i64>(6) as u64,
                created_at: r.get(7),
                created_by: r.get(8),
                outcome: parse_outcome(r.get::<_, Option<String>>(9)),
            })
            .collect())
    }

    fn evidence_content(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .client
            .query_opt(
                "SELECT content FROM evidence_blobs WHERE sha256 = $1",
                &[&sha256],
            )?
            .map(|r| r.get(0)))
    }

    fn revision(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .client
            .query_one("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM history", &[])?
            .get(0))
    }

    fn account_put(&mut self, a: &Account) -> Result<(), StoreError> {
        self.client.execute(
            "INSERT INTO accounts (username, display_name, role, person_id, password_hash, disabled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
               role = excluded.role, person_id = excluded.person_id,
               password_hash = excluded.password_hash, disabled = excluded.disabled",
            &[&a.username, &a.display_name, &a.role, &a.person_id, &a.password_hash, &a.disabled, &a.created_at],
        )?;
        Ok(())
    }

    fn account_get(&mut self, username: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .client
            .query_opt(
                &format!("{ACCOUNT_COLUMNS} WHERE username = $1"),
                &[&username],
            )?
            .map(|r| account_row(&r)))
    }

    fn accounts(&mut self) -> Result<Vec<Account>, StoreError> {
        Ok(self
            .client
            .query(&format!("{ACCOUNT_COLUMNS} ORDER BY username"), &[])?
            .iter()
            .map(account_row)
            .collect())
    }

    fn credential_put(&mut self, c: &Credential) -> Result<(), StoreError> {
        self.client.execute(
            "INSERT INTO credentials (secret_sha256, kind, username, name, csrf, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&c.secret_sha256, &c.kind.as_str(), &c.username, &c.name, &c.csrf, &c.created_at, &c.expires_at],
        )?;
        Ok(())
    }

    fn credential_get(&mut self, secret_sha256: &str) -> Result<Option<Credential>, StoreError> {
        Ok(self
            .client
            .query_opt(
                &format!("{CREDENTIAL_COLUMNS} WHERE secret_sha256 = $1"),
                &[&secret_sha256],
            )?
            .map(|r| credential_row(&r)))
    }

    fn credential_delete(&mut self, secret_sha256: &str) -> Result<bool, StoreError> {
        Ok(self.client.execute(
            "DELETE FROM credentials WHERE secret_sha256 = $1",
            &[&secret_sha256],
        )? > 0)
    }

    fn credentials_of(&mut self, username: &str) -> Result<Vec<Credential>, StoreError> {
        Ok(self
            .client
            .query(
                &format!("{CREDENTIAL_COLUMNS} WHERE username = $1 ORDER BY created_at"),
                &[&username],
            )?
            .iter()
            .map(credential_row)
            .collect())
    }
}

const ACCOUNT_COLUMNS: &str =
    "SELECT username, display_name, role, person_id, password_hash, disabled, created_at FROM accounts";

fn account_row(r: &postgres::Row) -> Account {
    Account {
        username: r.get(0),
        display_name: r.get(1),
        role: r.get(2),
        person_id: r.get(3),
        password_hash: r.get(4),
        disabled: r.get(5),
        created_at: r.get(6),
    }
}

const CREDENTIAL_COLUMNS: &str =
    "SELECT secret_sha256, kind, username, name, csrf, created_at, expires_at FROM credentials";

fn credential_row(r: &postgres::Row) -> Credential {
    Credential {
        secret_sha256: r.get(0),
        kind: CredentialKind::parse(r.get::<_, &str>(1)),
        username: r.get(2),
        name: r.get(3),
        csrf: r.get(4),
        created_at: r.get(5),
        expires_at: r.get(6),
    }
}
