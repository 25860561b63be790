//! The PostgreSQL backend, for deployments where several instances share one register.

use crate::{Backend, Batch, HistoryRow, StoreError};
use postgres::{Client, NoTls};

pub(crate) const MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("migrations/postgres/0001_register.sql"))];

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
    ) -> Result<i64, StoreError> {
        let mut tx = self.client.transaction()?;
        let changeset: i64 = tx
            .query_one(
                "INSERT INTO changesets (at, actor, summary) VALUES ($1, $2, $3) RETURNING id",
                &[&batch.at, &batch.actor, &batch.summary],
            )?
            .get(0);
        for write in &batch.writes {
            // FOR UPDATE holds the row until commit, so a concurrent writer waits and
            // then sees our version, failing its own compare-and-swap.
            let stored = tx.query_opt(
                "SELECT body, revision FROM objects WHERE kind = $1 AND id = $2 FOR UPDATE",
                &[&write.kind, &write.id],
            )?;
            let stored: Option<(String, i64)> = stored.map(|r| (r.get(0), r.get(1)));
            let conflict = || StoreError::Conflict {
                kind: write.kind.to_string(),
                id: write.id.clone(),
            };
            let revision: i64 = match (&stored, write.create, &write.before) {
                (None, true, _) => {
                    let inserted = tx.execute(
                        "INSERT INTO objects (kind, id, body, revision, created_at, created_by, updated_at, updated_by)
                         VALUES ($1, $2, $3, 1, $4, $5, $4, $5) ON CONFLICT (kind, id) DO NOTHING",
                        &[&write.kind, &write.id, &write.after, &batch.at, &batch.actor],
                    )?;
                    if inserted == 0 {
                        return Err(conflict());
                    }
                    1
                }
                (Some((body, revision)), false, Some(before))
                    if unchanged(write.kind, body, before) =>
                {
                    tx.execute(
                        "UPDATE objects SET body = $3, revision = $4, updated_at = $5, updated_by = $6
                         WHERE kind = $1 AND id = $2",
                        &[&write.kind, &write.id, &write.after, &(revision + 1), &batch.at, &batch.actor],
                    )?;
                    revision + 1
                }
                _ => return Err(conflict()),
            };
            let action = if write.create { "create" } else { "update" };
            tx.execute(
                "INSERT INTO history (changeset, at, actor, kind, object_id, action, revision, changes, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &changeset,
                    &batch.at,
                    &batch.actor,
                    &write.kind,
                    &write.id,
                    &action,
                    &revision,
                    &write.changes,
                    &write.after,
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
        let rows = self.client.query(
            "SELECT seq, changeset, at, actor, kind, object_id, action, revision, changes FROM history
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
            })
            .collect())
    }
}
