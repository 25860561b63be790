//! Writing a batch of register changes, once for both databases: compare-and-swap on
//! every object, one ledger entry per change, one history row per change.

use crate::ledger::{self, AppendContext, LedgerSql, NewEntry};
use crate::{register_change_entry, Batch, StoreError, Write};

/// The statements a register commit needs, implemented by each backend on its open
/// transaction.
pub(crate) trait RegisterSql: LedgerSql {
    fn as_ledger(&mut self) -> &mut dyn LedgerSql;
    fn insert_changeset(&mut self, batch: &Batch) -> Result<i64, StoreError>;
    /// The stored body and revision, locked until commit where the database can.
    fn stored(&mut self, kind: &str, id: &str) -> Result<Option<(String, i64)>, StoreError>;
    /// Inserts a new object; `false` when it already exists (someone created it meanwhile).
    fn insert_object(&mut self, batch: &Batch, write: &Write) -> Result<bool, StoreError>;
    fn update_object(
        &mut self,
        batch: &Batch,
        write: &Write,
        revision: i64,
    ) -> Result<(), StoreError>;
    fn insert_history(
        &mut self,
        changeset: i64,
        batch: &Batch,
        write: &Write,
        revision: i64,
        ledger_index: u64,
    ) -> Result<(), StoreError>;
}

/// Carries out a batch inside the caller's transaction; the caller commits.
pub(crate) fn commit_batch(
    sql: &mut dyn RegisterSql,
    batch: &Batch,
    unchanged: &dyn Fn(&str, &str, &serde_json::Value) -> bool,
    ledger_ctx: &AppendContext,
) -> Result<i64, StoreError> {
    let changeset = sql.insert_changeset(batch)?;
    let mut revisions = Vec::with_capacity(batch.writes.len());
    for write in &batch.writes {
        let conflict = || StoreError::Conflict {
            kind: write.kind.to_string(),
            id: write.id.clone(),
        };
        let stored = sql.stored(write.kind, &write.id)?;
        let revision = match (&stored, write.create, &write.before) {
            (None, true, _) => {
                if !sql.insert_object(batch, write)? {
                    return Err(conflict());
                }
                1
            }
            (Some((body, revision)), false, Some(before))
                if unchanged(write.kind, body, before) =>
            {
                sql.update_object(batch, write, revision + 1)?;
                revision + 1
            }
            _ => return Err(conflict()),
        };
        revisions.push(revision);
    }
    let entries: Vec<NewEntry> = batch
        .writes
        .iter()
        .zip(&revisions)
        .map(|(w, r)| register_change_entry(batch, w, changeset, *r))
        .collect();
    let appended = ledger::append(sql.as_ledger(), &entries, ledger_ctx)?;
    for (offset, (write, revision)) in batch.writes.iter().zip(&revisions).enumerate() {
        sql.insert_history(
            changeset,
            batch,
            write,
            *revision,
            appended.first_index + offset as u64,
        )?;
    }
    Ok(changeset)
}
