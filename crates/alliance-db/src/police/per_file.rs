//! The import of one police file, written once for both backends.
//!
//! Each backend supplies a [`PoliceStore`]: its own connection for the run (`rusqlite` on
//! SQLite, a `PgConnection` on PostgreSQL, see the module above), able to run a statement,
//! write a batch of rows and replace an earlier import's rows. Everything else is here, once:
//! the order of the steps, the counts, and the bookkeeping, whose SQL is `imports.rs`'s and
//! `audit.rs`'s.
//!
//! One file is one transaction: the unit's current import is read inside it (after the unit's
//! lock on PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the database's write lock), so two runs
//! of the same files at once import each file exactly once, whatever their timing; the file's
//! audit row, when asked for, is appended in the same transaction.

use alliance_core::domain::{Month, PoliceFileKind};
use alliance_ingest::police::PoliceFileUnit;
use alliance_ingest::{IngestError, SourceFile};

use super::extents::Extents;
use super::{Batch, Message};
use crate::audit::chain;
use crate::imports::{
    imported_detail, ImportAudit, ImportCounts, ImportOutcome, NewImport, CURRENT_SQL, FINISH_IMPORT_SQL, HOLD_SQL,
    INSERT_IMPORT_SQL, LOCK_UNIT_SQL, SUPERSEDE_SQL,
};
use crate::{Backend, DbError};

/// A parameter of a bookkeeping statement.
#[derive(Debug, Clone, Copy)]
pub(super) enum Arg<'a> {
    Int(i64),
    Real(f64),
    Text(&'a str),
    /// A list of texts, bound as an array (PostgreSQL only).
    Texts(&'a [String]),
    /// A list of numbers, bound as an array (PostgreSQL only).
    Reals(&'a [f64]),
    OptText(Option<&'a str>),
}

/// What the per-file algorithm needs of a backend. Every method runs on the run's own
/// connection, inside the transaction [`PoliceStore::begin`] started.
pub(super) trait PoliceStore {
    fn backend(&self) -> Backend;
    /// Starts the file's write transaction.
    async fn begin(&mut self) -> Result<(), DbError>;
    /// Runs a statement, returning the rows it changed.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DbError>;
    /// Runs a query whose first row (if any) starts with an integer and a text.
    async fn fetch_id_text(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<(i64, String)>, DbError>;
    /// Runs a query returning one integer (`INSERT … RETURNING id`).
    async fn fetch_int(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<i64, DbError>;
    /// Writes a batch of the file's rows (all of the file's kind and month).
    async fn write(&mut self, import_id: i64, batch: Batch) -> Result<(), DbError>;
    /// Writes whatever the store still holds of the file's rows.
    async fn end_rows(&mut self) -> Result<(), DbError>;
    /// Deletes the rows of the import this one replaces (returning how many) and brings the
    /// latest outcome of every crime either import names up to date (or queues that).
    async fn replace(&mut self, kind: PoliceFileKind, import_id: i64, replaced: Option<i64>) -> Result<i64, DbError>;
    /// Commits the file's transaction.
    async fn commit(&mut self) -> Result<(), DbError>;
    /// Abandons the file's transaction, keeping nothing of it.
    async fn rollback(&mut self);
}

/// Where a file's parsed rows arrive from: the parsing thread's channel.
pub(super) trait Inbox {
    async fn next(&mut self) -> Option<Message>;
}

impl Inbox for tokio::sync::mpsc::Receiver<Message> {
    async fn next(&mut self) -> Option<Message> {
        self.recv().await
    }
}

impl Inbox for &std::sync::mpsc::Receiver<Message> {
    async fn next(&mut self) -> Option<Message> {
        self.recv().ok()
    }
}

/// Who imports and how the import is audited.
#[derive(Clone, Copy)]
pub(super) struct By<'a> {
    pub who: &'a str,
    pub audit: Option<&'a ImportAudit>,
    /// The key the audit row is chained with.
    pub key: &'a crate::audit::AuditKey,
}

/// Imports one file whose checksum is `checksum` and whose parsed rows arrive in `inbox`.
pub(super) async fn import_file(
    store: &mut impl PoliceStore,
    inbox: &mut impl Inbox,
    file: &SourceFile,
    checksum: &str,
    by: By<'_>,
    progress: &dyn Fn(u64),
) -> Result<ImportOutcome, DbError> {
    let unit = match inbox.next().await {
        Some(Message::Unit(unit)) => unit,
        Some(Message::Failed(e)) => return Err(e.into()),
        _ => return Err(DbError::Task("the police file parser stopped without a result".into())),
    };
    store.begin().await?;
    let result = match in_transaction(store, inbox, file, checksum, by, &unit, progress).await {
        Ok(outcome @ ImportOutcome::Imported { .. }) => store.commit().await.map(|()| outcome),
        other => other,
    };
    if !matches!(result, Ok(ImportOutcome::Imported { .. })) {
        store.rollback().await;
    }
    result
}

async fn in_transaction(
    store: &mut impl PoliceStore,
    inbox: &mut impl Inbox,
    file: &SourceFile,
    checksum: &str,
    by: By<'_>,
    unit: &PoliceFileUnit,
    progress: &dyn Fn(u64),
) -> Result<ImportOutcome, DbError> {
    let key = unit.key();
    if store.backend() == Backend::Postgres {
        store.execute(LOCK_UNIT_SQL, &[Arg::Text(&key)]).await?;
    }
    let current = store.fetch_id_text(CURRENT_SQL, &[Arg::Text(&key)]).await?;
    if let Some((id, _)) = current.as_ref().filter(|(_, c)| c == checksum) {
        return Ok(ImportOutcome::Unchanged { import_id: *id, unit: key });
    }
    let replaced = current.map(|(id, _)| id);
    let month = unit.month.to_string();
    let import_id = record(
        store,
        &NewImport {
            source: "police",
            kind: unit.kind.as_str(),
            unit: &key,
            force: Some(unit.force.as_str()),
            month: Some(&month),
            file_name: &file.name,
            checksum,
            imported_by: by.who,
        },
        replaced,
    )
    .await?;
    let mut counts = ImportCounts::default();
    let extents: Extents = loop {
        match inbox.next().await {
            Some(Message::Rows(batch)) => {
                counts.rows_read += batch.len() as i64;
                counts.rows_without_location += batch.without_location() as i64;
                if let Some(other) = batch.month_other_than(unit.month) {
                    let reason = format!("a row of {other} in a file of {}", unit.month);
                    return Err(DbError::Ingest(IngestError::file(&file.name, reason)));
                }
                store.write(import_id, batch).await?;
                progress(counts.rows_read as u64);
            }
            Some(Message::Failed(e)) => return Err(e.into()),
            Some(Message::Unit(_)) => {}
            Some(Message::End(extents)) => break extents,
            None => return Err(DbError::Task("the police file parser stopped before the end of the file".into())),
        }
    };
    store.end_rows().await?;
    counts.rows_added = counts.rows_read;
    counts.rows_replaced = store.replace(unit.kind, import_id, replaced).await?;
    if unit.kind == PoliceFileKind::Street {
        // The summary the pages count from, in the same transaction (see `month_counts`).
        if let Some(old) = replaced {
            store.execute(super::month_counts::DROP_SQL, &[Arg::Int(old)]).await?;
        }
        store.execute(super::month_counts::ADD_SQL, &[Arg::Int(import_id)]).await?;
        // Where its LSOAs' records lie, likewise (see `extents`).
        for (sql, args) in extents.columns().widening(store.backend()) {
            store.execute(&sql, &args).await?;
        }
    }
    let c = counts;
    store
        .execute(
            FINISH_IMPORT_SQL,
            &[
                Arg::Int(c.rows_read),
                Arg::Int(c.rows_added),
                Arg::Int(c.rows_replaced),
                Arg::Int(c.rows_without_location),
                Arg::Int(import_id),
            ],
        )
        .await?;
    if let Some(old) = replaced {
        store.execute(SUPERSEDE_SQL, &[Arg::Int(import_id), Arg::Int(old)]).await?;
    }
    if let Some(audit) = by.audit {
        let detail = imported_detail(import_id, &counts, replaced);
        append_audit(store, by.key, audit, &file.name, &detail).await?;
    }
    Ok(ImportOutcome::Imported { import_id, unit: key, counts, replaced })
}

/// Records the new import (holding the one it replaces, see `imports.rs`) and returns its id.
async fn record(store: &mut impl PoliceStore, import: &NewImport<'_>, replaces: Option<i64>) -> Result<i64, DbError> {
    if let Some(old) = replaces {
        store.execute(HOLD_SQL, &[Arg::Int(old)]).await?;
    }
    let now = crate::clock::now();
    store
        .fetch_int(
            INSERT_IMPORT_SQL,
            &[
                Arg::Text(import.source),
                Arg::Text(import.kind),
                Arg::Text(import.unit),
                Arg::OptText(import.force),
                Arg::OptText(import.month),
                Arg::Text(import.file_name),
                Arg::Text(import.checksum),
                Arg::Text(import.imported_by),
                Arg::Text(&now),
            ],
        )
        .await
}

/// Appends the file's audit row inside its transaction, as `audit::append` does.
async fn append_audit(
    store: &mut impl PoliceStore,
    key: &crate::audit::AuditKey,
    audit: &ImportAudit,
    target: &str,
    detail: &str,
) -> Result<(), DbError> {
    if store.backend() == Backend::Postgres {
        store.execute(chain::LOCK_SQL, &[Arg::Int(chain::lock_key())]).await?;
    }
    let last = store.fetch_id_text(chain::LAST_SQL, &[]).await?;
    let e = chain::entry_after(key, last, &audit.actor.event(audit.action, target, detail));
    store
        .execute(
            &chain::insert_sql(),
            &[
                Arg::Int(e.id),
                Arg::Text(&e.at),
                Arg::Text(&e.actor),
                Arg::Text(&e.action),
                Arg::Text(&e.target),
                Arg::Text(&e.detail),
                Arg::Text(&e.ip),
                Arg::Text(&e.prev_hash),
                Arg::Text(&e.hash),
            ],
        )
        .await?;
    Ok(())
}

impl Batch {
    /// The month of a row that is not `month`, if any (the reader refuses such rows; checked
    /// again because the rows are stored under the file's unit).
    fn month_other_than(&self, month: Month) -> Option<Month> {
        match self {
            Batch::Street(rows, ..) => rows.iter().map(|c| c.month).find(|m| *m != month),
            Batch::Outcomes(rows, _) => rows.iter().map(|o| o.month).find(|m| *m != month),
        }
    }
}
