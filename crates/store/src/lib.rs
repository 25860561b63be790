//! Persistence for the airisk register: embedded SQLite by default, PostgreSQL for shared
//! deployments, with identical behaviour.
//!
//! What it is: versioned migrations applied on open; the register's objects stored as
//! canonical JSON documents keyed by (kind, id); every write recorded as history (who,
//! when, field-level before and after) in the same transaction; writes checked against
//! what the writer read (compare-and-swap), so two writers never silently overwrite each
//! other.
//!
//! What it is not: it holds no register rules (`airisk-model` does) and knows nothing of
//! files. The PostgreSQL client is synchronous and runs its own small runtime: call it
//! from plain threads, never from inside an async runtime (use `spawn_blocking`).
//!
//! Invariants: a failed `commit` leaves the database exactly as it was; every stored body
//! is the canonical form of a valid model object.

pub mod accounts;
pub mod evidence;
pub mod group;
pub mod ledger;
mod ledger_api;
mod postgres_backend;
mod register_tx;
mod sqlite_backend;

use accounts::{Account, Credential};
use airisk_ledger::tree::NodeId;
use airisk_ledger::{EntryKind, Hash, SignerKey};
use airisk_model::{FieldChange, Object, ObjectKind, PlannedChange, Register};
use chrono::{DateTime, SecondsFormat, Utc};
use evidence::{EvidenceRecord, NewEvidence};
use ledger::{AppendContext, AppendOutcome, CheckpointPolicy, NewEntry};
pub use ledger_api::{payload_text, LedgerIdentity, LedgerProblem, LedgerVerification};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error(
        "{kind} {id} was changed by someone else since it was read; nothing was written, run the command again"
    )]
    Conflict { kind: String, id: String },
    #[error("stored {kind} {id} is unreadable: {message}")]
    Corrupt {
        kind: String,
        id: String,
        message: String,
    },
    #[error("the database schema is version {found}, newer than this airisk understands ({supported}); upgrade airisk")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("cannot open database {location}: {message}")]
    Open { location: String, message: String },
    #[error("ledger: {0}")]
    Ledger(String),
    #[error("ledger: {0}")]
    LedgerFormat(#[from] airisk_ledger::LedgerError),
    #[error("{0}")]
    NotFound(String),
}

/// The server's own message (and detail) where there is one; the client's otherwise.
pub fn postgres_message(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

/// Where the database lives, parsed from `--db` / `AIRISK_DB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite://PATH` or any other
    /// text is a SQLite file path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            Location::Sqlite(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }

    /// A printable form that never shows a password.
    pub fn redacted(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact_url(url),
        }
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

/// One object write, as the backends carry it out.
pub(crate) struct Write {
    kind: &'static str,
    id: String,
    create: bool,
    before: Option<serde_json::Value>,
    after: String,
    changes: String,
}

impl Write {
    fn action(&self) -> &'static str {
        if self.create {
            "create"
        } else {
            "update"
        }
    }
}

pub(crate) struct Batch {
    at: String,
    actor: String,
    summary: String,
    writes: Vec<Write>,
}

/// A history row: one change to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub seq: i64,
    /// All changes written by one command share a changeset.
    pub changeset: i64,
    pub at: String,
    pub actor: String,
    pub kind: ObjectKind,
    pub id: String,
    pub action: String,
    pub revision: i64,
    pub changes: Vec<FieldChange>,
    /// The ledger entry that records this change.
    pub ledger_index: Option<u64>,
}

pub(crate) struct HistoryRow {
    ledger_index: Option<i64>,
    seq: i64,
    changeset: i64,
    at: String,
    actor: String,
    kind: String,
    id: String,
    action: String,
    revision: i64,
    changes: String,
}

/// The operations each database must provide, with the same meaning on both.
pub(crate) trait Backend: Send {
    /// Applies pending migrations; returns the schema version.
    fn migrate(&mut self, migrations: &[(i64, &str)]) -> Result<i64, StoreError>;
    /// Every stored object as (kind, id, body).
    fn objects(&mut self) -> Result<Vec<(String, String, String)>, StoreError>;
    /// Carries out a batch in one transaction, appending one ledger entry per write.
    /// `unchanged(kind, stored_body, expected)` says whether what is stored is still
    /// what the writer read.
    fn commit(
        &mut self,
        batch: &Batch,
        unchanged: &dyn Fn(&str, &str, &serde_json::Value) -> bool,
        ledger: &AppendContext,
    ) -> Result<i64, StoreError>;
    fn history(
        &mut self,
        kind: Option<&str>,
        id: Option<&str>,
    ) -> Result<Vec<HistoryRow>, StoreError>;

    /// Appends entries in one transaction (one durable write for the whole batch).
    fn ledger_append(
        &mut self,
        entries: &[NewEntry],
        ctx: &AppendContext,
    ) -> Result<AppendOutcome, StoreError>;
    /// Signs a checkpoint of the current tree now (if it grew since the last one).
    fn ledger_checkpoint(&mut self, ctx: &AppendContext) -> Result<Option<u64>, StoreError>;
    /// Records the ledger's origin and verifier key unless already set; returns what is set.
    fn ledger_set_identity(
        &mut self,
        origin: &str,
        verifier_key: &str,
    ) -> Result<(String, String), StoreError>;
    fn ledger_state(&mut self) -> Result<(u64, ledger::SigningState), StoreError>;
    /// Entries with index in `[from, to)`, ordered by index.
    fn ledger_rows(&mut self, from: u64, to: u64) -> Result<Vec<ledger::EntryRow>, StoreError>;
    fn ledger_subtree_hashes(&mut self, nodes: &[NodeId]) -> Result<Vec<Hash>, StoreError>;
    /// Every stored leaf hash, by index.
    fn ledger_leaf_hashes(&mut self) -> Result<Vec<Hash>, StoreError>;
    /// Every checkpoint as (size, note, created_at), by size.
    fn ledger_checkpoints(&mut self) -> Result<Vec<(u64, String, String)>, StoreError>;
    fn ledger_erase(
        &mut self,
        index: u64,
        at: &str,
        by: &str,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// Stores the file (once per content), links it, and appends its ledger entry.
    fn evidence_add(
        &mut self,
        evidence: &NewEvidence,
        sha256: &str,
        entry: &NewEntry,
        at: &str,
        ctx: &AppendContext,
    ) -> Result<(i64, AppendOutcome), StoreError>;
    fn evidence_list(&mut self, target: Option<&str>) -> Result<Vec<EvidenceRecord>, StoreError>;
    fn evidence_content(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// The sequence number of the latest history row (0 for an empty register): changes
    /// whenever the register does, so caches can tell they are stale.
    fn revision(&mut self) -> Result<i64, StoreError>;
    /// Creates or replaces an account.
    fn account_put(&mut self, account: &Account) -> Result<(), StoreError>;
    fn account_get(&mut self, username: &str) -> Result<Option<Account>, StoreError>;
    fn accounts(&mut self) -> Result<Vec<Account>, StoreError>;
    fn credential_put(&mut self, credential: &Credential) -> Result<(), StoreError>;
    fn credential_get(&mut self, secret_sha256: &str) -> Result<Option<Credential>, StoreError>;
    /// Removes one credential; returns whether it existed.
    fn credential_delete(&mut self, secret_sha256: &str) -> Result<bool, StoreError>;
    fn credentials_of(&mut self, username: &str) -> Result<Vec<Credential>, StoreError>;
}

/// Both databases store integers as i64; ledger sizes and indices never come near 2^63.
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The ledger entry that records one register write. Its payload is the change itself:
/// what changed, field by field, and the object as it now stands.
pub(crate) fn register_change_entry(
    batch: &Batch,
    write: &Write,
    changeset: i64,
    revision: i64,
) -> NewEntry {
    let payload = serde_json::json!({
        "changeset": changeset,
        "at": batch.at,
        "kind": write.kind,
        "id": write.id,
        "action": write.action(),
        "revision": revision,
        "changes": serde_json::from_str::<serde_json::Value>(&write.changes).unwrap_or_default(),
        "body": serde_json::from_str::<serde_json::Value>(&write.after).unwrap_or_default(),
    });
    NewEntry {
        kind: EntryKind::RegisterChange,
        actor: batch.actor.clone(),
        subject: format!("{}:{}", write.kind, write.id),
        payload: payload.to_string().into_bytes(),
    }
}

/// The register's database.
pub struct Store {
    backend: Box<dyn Backend>,
    location: Location,
    schema_version: i64,
    signer: Option<SignerKey>,
    policy: CheckpointPolicy,
}

/// What it takes to open another connection like a given store's: its location, checkpoint
/// signer and checkpoint policy (a server keeps a pool of them).
#[derive(Clone)]
pub struct StoreOpener {
    location: Location,
    signer: Option<SignerKey>,
    policy: CheckpointPolicy,
}

impl StoreOpener {
    /// Opens a new connection (migrations are already applied, so this only checks them).
    pub fn open(&self) -> Result<Store, StoreError> {
        let mut store = Store::open(&self.location)?;
        store.signer = self.signer.clone();
        store.policy = self.policy;
        Ok(store)
    }
}

/// What a commit wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitSummary {
    pub changeset: i64,
    pub created: usize,
    pub updated: usize,
}

impl Store {
    /// Opens (creating when needed) the database and applies pending migrations.
    pub fn open(location: &Location) -> Result<Store, StoreError> {
        let (mut backend, migrations): (Box<dyn Backend>, &[(i64, &str)]) = match location {
            Location::Sqlite(path) => (
                Box::new(sqlite_backend::SqliteBackend::open(path)?),
                sqlite_backend::MIGRATIONS,
            ),
            Location::Postgres(url) => (
                Box::new(postgres_backend::PostgresBackend::connect(url)?),
                postgres_backend::MIGRATIONS,
            ),
        };
        let schema_version = backend.migrate(migrations)?;
        Ok(Store {
            backend,
            location: location.clone(),
            schema_version,
            signer: None,
            policy: CheckpointPolicy::default(),
        })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Opens further connections configured like this one.
    pub fn opener(&self) -> StoreOpener {
        StoreOpener {
            location: self.location.clone(),
            signer: self.signer.clone(),
            policy: self.policy,
        }
    }

    pub fn schema_version(&self) -> i64 {
        self.schema_version
    }

    /// Reads the whole register.
    pub fn load_register(&mut self) -> Result<Register, StoreError> {
        let mut register = Register::default();
        for (kind, id, body) in self.backend.objects()? {
            register.insert(decode(&kind, &id, &body)?);
        }
        Ok(register)
    }

    /// Writes the changes of a plan in one transaction, with their history. Fails with
    /// `Conflict`, writing nothing, if any object changed since the plan was made.
    pub fn commit<'a>(
        &mut self,
        changes: impl IntoIterator<Item = &'a PlannedChange>,
        actor: &str,
        at: DateTime<Utc>,
        summary: &str,
    ) -> Result<CommitSummary, StoreError> {
        let mut writes = Vec::new();
        let (mut created, mut updated) = (0, 0);
        for change in changes {
            let create = match change.action {
                airisk_model::Action::Unchanged => continue,
                airisk_model::Action::Create => true,
                airisk_model::Action::Update => false,
            };
            if create {
                created += 1;
            } else {
                updated += 1;
            }
            writes.push(Write {
                kind: change.kind.as_str(),
                id: change.id.clone(),
                create,
                before: change.before.clone(),
                after: change.after.to_string(),
                changes: serde_json::to_string(&change.fields).unwrap_or_else(|_| "[]".into()),
            });
        }
        if writes.is_empty() {
            return Ok(CommitSummary {
                changeset: 0,
                created: 0,
                updated: 0,
            });
        }
        let batch = Batch {
            at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            actor: actor.to_string(),
            summary: summary.to_string(),
            writes,
        };
        // Compare canonical forms, so a body stored by an older airisk (say, before a
        // field gained a default) still counts as what the writer read.
        let unchanged = |kind: &str, stored: &str, expected: &serde_json::Value| {
            ObjectKind::parse(kind)
                .and_then(|k| {
                    let value = serde_json::from_str(stored).ok()?;
                    Object::from_value(k, value).ok()
                })
                .is_some_and(|o| o.to_value() == *expected)
        };
        let changeset =
            self.with_context(at, |backend, ctx| backend.commit(&batch, &unchanged, ctx))?;
        Ok(CommitSummary {
            changeset,
            created,
            updated,
        })
    }

    /// History, oldest first; all of it, one kind's, or one object's.
    pub fn history(
        &mut self,
        kind: Option<ObjectKind>,
        id: Option<&str>,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = self.backend.history(kind.map(|k| k.as_str()), id)?;
        rows.into_iter()
            .map(|row| {
                let corrupt = |message: String| StoreError::Corrupt {
                    kind: row.kind.clone(),
                    id: row.id.clone(),
                    message,
                };
                let kind = ObjectKind::parse(&row.kind)
                    .ok_or_else(|| corrupt(format!("unknown kind `{}` in history", row.kind)))?;
                let changes = serde_json::from_str(&row.changes)
                    .map_err(|e| corrupt(format!("history row {}: {e}", row.seq)))?;
                Ok(HistoryEntry {
                    seq: row.seq,
                    changeset: row.changeset,
                    at: row.at,
                    actor: row.actor,
                    kind,
                    id: row.id,
                    action: row.action,
                    revision: row.revision,
                    changes,
                    ledger_index: row.ledger_index.and_then(|i| u64::try_from(i).ok()),
                })
            })
            .collect()
    }
}

fn decode(kind: &str, id: &str, body: &str) -> Result<Object, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        kind: kind.to_string(),
        id: id.to_string(),
        message,
    };
    let object_kind =
        ObjectKind::parse(kind).ok_or_else(|| corrupt(format!("unknown kind `{kind}`")))?;
    let value = serde_json::from_str(body).map_err(|e| corrupt(e.to_string()))?;
    Object::from_value(object_kind, value)
        .map_err(|e| corrupt(format!("{} at `{}`", e.message, e.path)))
}

pub mod testing {
    //! Helpers for tests that must run against both databases.

    use super::Location;

    /// The PostgreSQL server URL for tests, from `AIRISK_TEST_POSTGRES_URL`.
    /// When it is unset the PostgreSQL half of a test is skipped — unless
    /// `AIRISK_REQUIRE_POSTGRES=1`, as CI sets it, in which case this panics.
    pub fn postgres_server() -> Option<String> {
        match std::env::var("AIRISK_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                if std::env::var("AIRISK_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                    panic!("AIRISK_REQUIRE_POSTGRES=1 but AIRISK_TEST_POSTGRES_URL is not set");
                }
                eprintln!("note: AIRISK_TEST_POSTGRES_URL is not set; skipping the PostgreSQL half of this test");
                None
            }
        }
    }

    /// Creates a fresh, empty database on the test server and returns its location.
    pub fn fresh_postgres() -> Option<Location> {
        let server = postgres_server()?;
        let name = format!(
            "airisk_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let mut client = postgres::Client::connect(&server, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test server {server}: {e}"));
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            client.batch_execute(&sql).unwrap_or_else(|e| {
                panic!(
                    "cannot create test database {name}: {}",
                    super::postgres_message(&e)
                )
            });
        }
        Some(Location::Postgres(with_database(&server, &name)))
    }

    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    /// Replaces the database name in a `postgres://user:pw@host:port/db?opts` URL.
    fn with_database(url: &str, name: &str) -> String {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (url, String::new()),
        };
        let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
        let base = match base[authority_start..].find('/') {
            Some(slash) => &base[..authority_start + slash],
            None => base,
        };
        format!("{base}/{name}{query}")
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn replaces_the_database_name() {
            assert_eq!(
                super::with_database(
                    "postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable",
                    "x"
                ),
                "postgres://u:p@127.0.0.1:5432/x?sslmode=disable"
            );
            assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_hide_passwords() {
        assert_eq!(
            Location::parse("airisk.db"),
            Location::Sqlite("airisk.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///tmp/x.db"),
            Location::Sqlite("/tmp/x.db".into())
        );
        let pg = Location::parse("postgres://alice:secret@db:5432/airisk");
        assert_eq!(pg.redacted(), "postgres://alice:***@db:5432/airisk");
    }
}
