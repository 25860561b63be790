//! The embedded SQLite backend.

use crate::{Backend, Batch, HistoryRow, StoreError};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;

pub(crate) const MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("migrations/sqlite/0001_register.sql"))];

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
    ) -> Result<i64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO changesets (at, actor, summary) VALUES (?1, ?2, ?3)",
            params![batch.at, batch.actor, batch.summary],
        )?;
        let changeset = tx.last_insert_rowid();
        for write in &batch.writes {
            let stored: Option<(String, i64)> = tx
                .query_row(
                    "SELECT body, revision FROM objects WHERE kind = ?1 AND id = ?2",
                    params![write.kind, write.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let conflict = || StoreError::Conflict {
                kind: write.kind.to_string(),
                id: write.id.clone(),
            };
            let revision = match (&stored, write.create, &write.before) {
                (None, true, _) => {
                    tx.execute(
                        "INSERT INTO objects (kind, id, body, revision, created_at, created_by, updated_at, updated_by)
                         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?4, ?5)",
                        params![write.kind, write.id, write.after, batch.at, batch.actor],
                    )?;
                    1
                }
                (Some((body, revision)), false, Some(before))
                    if unchanged(write.kind, body, before) =>
                {
                    tx.execute(
                        "UPDATE objects SET body = ?3, revision = ?4, updated_at = ?5, updated_by = ?6
                         WHERE kind = ?1 AND id = ?2",
                        params![write.kind, write.id, write.after, revision + 1, batch.at, batch.actor],
                    )?;
                    revision + 1
                }
                _ => return Err(conflict()),
            };
            tx.execute(
                "INSERT INTO history (changeset, at, actor, kind, object_id, action, revision, changes, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    changeset,
                    batch.at,
                    batch.actor,
                    write.kind,
                    write.id,
                    if write.create { "create" } else { "update" },
                    revision,
                    write.changes,
                    write.after
                ],
            )?;
        }
        tx.commit()?;
        Ok(changeset)
    }

    fn history(
        &mut self,
        kind: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, changeset, at, actor, kind, object_id, action, revision, changes FROM history
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
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
