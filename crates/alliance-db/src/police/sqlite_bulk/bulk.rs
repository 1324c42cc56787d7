//! Bulk mode of a SQLite import run: the police tables' indexes by Crime ID are dropped at the
//! start of a large run and rebuilt by one sort each at its end, and the outcome refreshes that
//! need them wait in `police_refresh_pending` until then.
//!
//! A run is large when its files hold (by their size) more rows than `police_crimes` already
//! has: rebuilding an index by one sort then costs less than inserting into it row by row.
//! Everything needed to finish is in the database (`police_deferred_indexes` holds the
//! dropped indexes' own SQL), so an interrupted run is completed by the next connection.
//!
//! The deferred work belongs to the run that deferred it while that run lives: the run holds
//! a [`RunLock`] from before it drops the indexes until after it has rebuilt them. Another
//! process's `Db::connect` finishes the work only when it can take that lock (the run was
//! killed: the operating system released its lock), and another run meanwhile neither drops
//! nor rebuilds anything: it queues its outcome refreshes and, at its end, waits for the bulk
//! run to end and applies whatever is still queued.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alliance_ingest::SourceFile;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::super::outcomes::REFRESH;
use crate::DbError;

/// The indexes whose keys arrive in random order: by Crime ID, and by LSOA (migration 0038).
/// The import and month indexes stay: a run imports files one at a time and street files month
/// by month, so their keys arrive in order and rows are appended to them cheaply (measured:
/// rebuilding them cost more than it saved).
const DEFERRED_INDEXES: &[&str] = &["police_crimes_crime_key", "police_outcomes_crime_key", "police_crimes_area"];

/// A conservative size of one row in a data.police.uk file, in bytes (street rows are
/// 230–300 bytes, outcomes rows about 200).
const BYTES_PER_ROW: u64 = 200;

/// Below this many incoming rows a run keeps its indexes: small imports into a large table
/// must not pay for rebuilding it.
const MIN_BULK_ROWS: u64 = 50_000;

/// How long a run that found another run in bulk mode waits, at its end, for that run to
/// rebuild its indexes before leaving its queued refreshes to the next connection.
const GUEST_WAIT: Duration = Duration::from_secs(600);

/// The lock of a bulk run: an exclusive transaction on a small SQLite file beside the database
/// (`FILE-bulk-lock`), held from before the indexes are dropped until after they are rebuilt.
/// SQLite's file locks are the operating system's: released when the connection closes or
/// the process dies, and seen by other connections in the same process as well.
pub(crate) struct RunLock {
    _conn: Connection,
}

impl RunLock {
    fn path(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push("-bulk-lock");
        PathBuf::from(name)
    }

    /// Takes the lock of the database at `database`, waiting up to `wait`; `None` when a
    /// live bulk run holds it still.
    pub(crate) fn take(database: &Path, wait: Duration) -> Result<Option<RunLock>, DbError> {
        let conn = Connection::open(RunLock::path(database))?;
        conn.busy_timeout(wait)?;
        match conn.execute_batch("BEGIN EXCLUSIVE") {
            Ok(()) => Ok(Some(RunLock { _conn: conn })),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// How a run treats the indexes keyed by Crime ID.
pub(super) enum Mode {
    /// A small run with no bulk run in progress: indexes kept, refreshes made per file.
    Plain,
    /// This run dropped the indexes; it holds the lock until it has rebuilt them.
    Owner(RunLock),
    /// Another run is in bulk mode: its indexes are left to it, this run's refreshes are
    /// queued, and at its end it waits for that run and applies what is still queued.
    Guest,
}

impl Mode {
    /// Whether outcome refreshes wait in `police_refresh_pending` for the end of the run.
    pub(super) fn queues(&self) -> bool {
        !matches!(self, Mode::Plain)
    }

    /// Whether this run rebuilds the dropped indexes at its end (by sorts that spill to disk).
    pub(super) fn rebuilds(&self) -> bool {
        matches!(self, Mode::Owner(_))
    }
}

/// Decides whether the run is large and, if so, drops the police indexes (recording each
/// one's SQL first) under the run's lock. Work an abandoned run left (its lock is free) is
/// finished first; a run that finds the lock held is a guest of the run holding it.
pub(super) fn begin(conn: &mut Connection, path: &Path, files: &[SourceFile]) -> Result<Mode, DbError> {
    let Some(lock) = RunLock::take(path, Duration::ZERO)? else { return Ok(Mode::Guest) };
    if owes_work(conn)? {
        finish(conn)?;
    }
    let incoming = files.iter().map(SourceFile::approximate_len).sum::<u64>() / BYTES_PER_ROW;
    let existing: i64 = conn.query_row("SELECT COALESCE(MAX(id), 0) FROM police_crimes", [], |r| r.get(0))?;
    if incoming < MIN_BULK_ROWS || incoming <= existing.max(0) as u64 {
        return Ok(Mode::Plain);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for name in DEFERRED_INDEXES {
        let sql: Option<String> = tx
            .query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1", [name], |r| r.get(0))
            .optional()?;
        if let Some(sql) = sql {
            tx.execute("INSERT INTO police_deferred_indexes (name, sql) VALUES (?1, ?2)", params![name, sql])?;
            tx.execute_batch(&format!("DROP INDEX {name}"))?;
        }
    }
    tx.commit()?;
    Ok(Mode::Owner(lock))
}

/// Ends a run: the owner rebuilds its indexes and applies the queue, then lets its lock go; a
/// guest waits for the owner and then applies what is still queued (its own refreshes, when
/// they were committed after the owner finished).
pub(super) fn end(conn: &mut Connection, path: &Path, mode: Mode) -> Result<(), DbError> {
    match mode {
        Mode::Plain => Ok(()),
        Mode::Owner(lock) => {
            finish(conn)?;
            drop(lock);
            Ok(())
        }
        Mode::Guest => match RunLock::take(path, GUEST_WAIT)? {
            Some(_lock) if owes_work(conn)? => finish(conn),
            Some(_) => Ok(()),
            None => {
                tracing::warn!("a police import still in bulk mode: this run's outcome refreshes wait for it");
                Ok(())
            }
        },
    }
}

/// Whether a run's work is recorded as still to do.
fn owes_work(conn: &Connection) -> Result<bool, DbError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM police_deferred_indexes) OR EXISTS (SELECT 1 FROM police_refresh_pending)",
        [],
        |r| r.get(0),
    )?)
}

/// Queues the outcome refresh of a file imported in bulk mode: the crimes a street import
/// added, or those an outcomes import names (only those up to `crimes_up_to`, when set: the
/// later ones took its outcomes from the run's map). (When an outcomes import replaced an
/// earlier one, the caller has already queued the crimes the earlier one named, by key.)
pub(super) fn queue_refresh(tx: &Connection, import_id: i64, crimes_up_to: Option<i64>) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO police_refresh_pending (import_id, crimes_up_to) VALUES (?1, ?2)",
        params![import_id, crimes_up_to],
    )?;
    Ok(())
}

/// Rebuilds the dropped indexes and applies the queued outcome refreshes: one transaction per
/// index, then one for the refreshes, with the lock left free between them, so a writer waits
/// for one step, not all (on 20 million records one transaction held the lock for 44–64 s,
/// past the 30 s a writer waits; one index takes 13–16 s on a busy machine). Each step removes
/// its own record, so a run stopped between two steps leaves only what is still owed.
pub(super) fn finish(conn: &mut Connection) -> Result<(), DbError> {
    for name in DEFERRED_INDEXES {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql: Option<String> =
            tx.query_row("SELECT sql FROM police_deferred_indexes WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        if let Some(sql) = sql {
            let started = std::time::Instant::now();
            tx.execute_batch(&sql)?;
            tx.execute("DELETE FROM police_deferred_indexes WHERE name = ?1", [name])?;
            tx.commit()?;
            tracing::info!(index = name, seconds = started.elapsed().as_secs_f64(), "police index rebuilt");
            // The lock free for a moment, so a waiting writer goes before the next step.
            std::thread::sleep(super::YIELD_FOR);
        }
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let queued: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM police_refresh_pending)", [], |r| r.get(0))?;
    if queued {
        let started = std::time::Instant::now();
        refresh_queued(&tx)?;
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "queued outcome refreshes applied");
    }
    tx.execute_batch("DELETE FROM police_deferred_indexes; DELETE FROM police_refresh_pending;")?;
    tx.commit()?;
    Ok(())
}

/// Refreshes the crimes named by queued keys or outcomes imports, then the crimes of queued
/// street imports that have outcomes but were not reached by the first two statements.
///
/// An outcomes import queued with a bound (`crimes_up_to`) refreshes only the crimes stored
/// up to it, the ones there before the run (a national run into a database holding one
/// force: that force's crimes, not the 20 million the run added). They are reached from the
/// crimes' side, by a range of ids and a look-up of each one's outcomes by key; one bound,
/// the highest, serves every such import (refreshing a crime more than needed changes
/// nothing). The last statement asks about each queued street import's crimes by key: written
/// as `crime_key IN (SELECT crime_key FROM police_outcomes)`, SQLite first listed the keys of
/// every outcome, 45 s at national scale even with no street import queued.
fn refresh_queued(tx: &Transaction<'_>) -> Result<(), DbError> {
    tx.execute(
        &format!(
            "{REFRESH} WHERE crime_key IN (SELECT crime_key FROM police_refresh_pending WHERE crime_key IS NOT NULL \
             UNION SELECT o.crime_key FROM police_outcomes o WHERE o.import_id IN \
             (SELECT import_id FROM police_refresh_pending WHERE import_id IS NOT NULL AND crimes_up_to IS NULL))"
        ),
        [],
    )?;
    tx.execute(
        &format!(
            "{REFRESH} WHERE id <= (SELECT MAX(crimes_up_to) FROM police_refresh_pending) \
             AND EXISTS (SELECT 1 FROM police_outcomes o WHERE o.crime_key = police_crimes.crime_key \
             AND o.import_id IN (SELECT import_id FROM police_refresh_pending WHERE crimes_up_to IS NOT NULL))"
        ),
        [],
    )?;
    tx.execute(
        &format!(
            "{REFRESH} WHERE import_id IN (SELECT import_id FROM police_refresh_pending WHERE import_id IS NOT NULL) \
             AND outcome_month IS NULL \
             AND EXISTS (SELECT 1 FROM police_outcomes o WHERE o.crime_key = police_crimes.crime_key)"
        ),
        [],
    )?;
    Ok(())
}

/// Completes a bulk run that stopped before its end (the process was killed): rebuilds its
/// indexes and applies its queued refreshes. Returns whether there was anything to do. Work
/// whose run still lives (its lock is held) is left to it.
pub(crate) fn finish_interrupted_run(path: &Path) -> Result<bool, DbError> {
    let Some(_lock) = RunLock::take(path, Duration::ZERO)? else {
        tracing::debug!("a police import in bulk mode is running: its deferred indexes are left to it");
        return Ok(false);
    };
    let mut conn = super::open(path)?;
    let unfinished = owes_work(&conn)?;
    if unfinished {
        finish(&mut conn)?;
    }
    Ok(unfinished)
}
