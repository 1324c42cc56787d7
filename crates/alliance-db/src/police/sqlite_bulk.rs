//! The SQLite import path: one dedicated connection for a whole run of files, fed by a
//! parsing thread that checksums and parses the next file while this one is written.
//!
//! Each file is still its own transaction (a bad file imports nothing; the others stand). The
//! SQL is the pooled path's; only the driver differs (`rusqlite` over the same bundled SQLite
//! library), because binding millions of values through `sqlx` cost more than SQLite's own work.
//!
//! Where the time goes, and what each measure saved on the shared data (401,346 rows, from
//! 2.9 s to about 1 s on a 2-core machine; `BENCHMARKS-import.md`):
//! - **Order.** Outcomes files go first, then street files month by month: crimes can then take
//!   their latest outcome as they are inserted ([`known`]) instead of being rewritten by a
//!   refresh, and the month index grows at its end.
//! - **Bulk mode.** When a run brings more rows than the tables already hold, the indexes keyed
//!   by Crime ID (random order) are dropped for the run and rebuilt by one sort at its end
//!   ([`bulk`]). Outcome refreshes that need them are queued in `police_refresh_pending` in the
//!   file's own transaction and applied when the indexes are back. The dropped indexes and the
//!   queue are recorded in the database, so a run killed half-way is finished the next time
//!   Alliance opens the database ([`finish_interrupted_run`]).
//! - **Checkpoints in the background.** A second connection copies committed pages from the
//!   write-ahead log into the database file as files land, on the core the parser leaves idle.

mod borrowed;
mod bulk;
mod known;

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use alliance_core::domain::PoliceFileKind;
use alliance_ingest::{IngestError, SourceFile};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

pub(crate) use bulk::finish_interrupted_run;

use self::borrowed::{Binder, BorrowedInsert};
use self::known::KnownOutcomes;
use super::outcomes::REFRESH;
use super::{parse_into, Batch, Message, RunEvent};
use crate::imports::{ImportCounts, ImportOutcome};
use crate::DbError;

const CRIME_COLUMNS: &[&str] = &[
    "import_id",
    "crime_id",
    "crime_key",
    "month",
    "longitude",
    "latitude",
    "location",
    "lsoa_code",
    "crime_type",
    "street_outcome",
    "outcome",
    "outcome_month",
];
const OUTCOME_COLUMNS: &[&str] = &["import_id", "crime_id", "crime_key", "month", "lsoa_code", "outcome_type"];

/// Rows per multi-row `INSERT`: one statement step per 64 rows instead of one per row.
const ROWS_PER_STATEMENT: usize = 64;

/// Inserts rows into one table with statements prepared once for the run: a multi-row one
/// (anonymous `?` parameters, bound by position, texts borrowed in place) for full groups
/// and a single-row one for the rest.
struct RowInserter<'c> {
    many: BorrowedInsert<'c>,
    one: BorrowedInsert<'c>,
    width: usize,
}

impl<'c> RowInserter<'c> {
    fn new(conn: &'c Connection, table: &str, columns: &[&str]) -> Result<RowInserter<'c>, DbError> {
        let row = format!("({})", vec!["?"; columns.len()].join(","));
        let sql = |n: usize| {
            format!("INSERT INTO {table} ({}) VALUES {}", columns.join(","), vec![row.as_str(); n].join(","))
        };
        Ok(RowInserter {
            many: BorrowedInsert::prepare(conn, &sql(ROWS_PER_STATEMENT))?,
            one: BorrowedInsert::prepare(conn, &sql(1))?,
            width: columns.len(),
        })
    }

    /// Inserts rows `0..n`, binding row `i` with `bind(binder, first_parameter_index, i)`.
    fn insert<'v>(
        &mut self,
        n: usize,
        bind: impl Fn(&mut Binder<'_, 'v>, usize, usize) -> rusqlite::Result<()>,
    ) -> Result<(), DbError> {
        let mut next = 0;
        while n - next >= ROWS_PER_STATEMENT {
            let first = next;
            self.many.execute(|b| (0..ROWS_PER_STATEMENT).try_for_each(|j| bind(b, 1 + j * self.width, first + j)))?;
            next += ROWS_PER_STATEMENT;
        }
        for i in next..n {
            self.one.execute(|b| bind(b, 1, i))?;
        }
        Ok(())
    }
}

/// The run's prepared inserts, one pair of statements per table.
struct Inserts<'c> {
    crimes: RowInserter<'c>,
    outcomes: RowInserter<'c>,
}

impl<'c> Inserts<'c> {
    fn prepare(conn: &'c Connection) -> Result<Inserts<'c>, DbError> {
        Ok(Inserts {
            crimes: RowInserter::new(conn, "police_crimes", CRIME_COLUMNS)?,
            outcomes: RowInserter::new(conn, "police_outcomes", OUTCOME_COLUMNS)?,
        })
    }
}

pub(crate) fn open(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0; PRAGMA threads = 2;",
    )?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

/// One file as the parsing thread hands it over: its checksum, then its messages.
struct Feed {
    checksum: Result<String, IngestError>,
    messages: Receiver<Message>,
}

/// The parsing thread: checksums and parses each file in turn. A file's messages wait in a
/// bounded channel, so memory stays flat; dropping a file's receiver (the file was found
/// unchanged, or failed) makes the parser move on to the next. Batches the writer is done
/// with come back on `used` to be freed here: freeing memory on the thread that allocated it
/// is cheap, and this thread has time to spare.
fn feed(files: &[SourceFile], out: &SyncSender<Feed>, used: &Receiver<Batch>) {
    for file in files {
        let checksum = file.checksum();
        let parse = checksum.is_ok();
        let (tx, rx) = sync_channel::<Message>(8);
        if out.send(Feed { checksum, messages: rx }).is_err() {
            return;
        }
        if parse {
            parse_into(file, |m| {
                used.try_iter().for_each(drop);
                tx.send(m).is_ok()
            });
        }
    }
}

/// Imports `files` in order into the SQLite database at `path`, each in its own transaction,
/// reporting progress and each file's result, in order, through `notify`. An `Err` of the run
/// itself means the database could not be opened or the run could not be finished.
pub(super) fn import_run(
    path: &Path,
    files: &[SourceFile],
    who: &str,
    notify: &dyn Fn(RunEvent),
) -> Result<(), DbError> {
    let mut conn = open(path)?;
    // The only foreign key these inserts could break is `import_id`, which is the id this
    // run inserted in the same transaction; checking it cost a lookup of `imports` per row.
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    let bulk = bulk::begin(&mut conn, files)?;
    let mut known = KnownOutcomes::start(&conn)?;
    let conn = conn;
    let mut inserts = Inserts::prepare(&conn)?;
    // Outcomes files first, so crimes can take their latest outcome as they are inserted;
    // then street files by month (data.police.uk names start with it), so the month index
    // grows at its end.
    let is_outcomes = |f: &SourceFile| f.logical_name().ends_with("-outcomes.csv");
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| (!is_outcomes(&files[i]), files[i].logical_name().get(..7).unwrap_or_default().to_string()));
    let ordered: Vec<SourceFile> = order.iter().map(|&i| files[i].clone()).collect();
    let (feed_tx, feed_rx) = sync_channel::<Feed>(1);
    let (used_tx, used_rx) = std::sync::mpsc::channel::<Batch>();
    let (checkpoint_tx, checkpoint_rx) = sync_channel::<()>(1);
    std::thread::scope(|scope| {
        let ordered = &ordered;
        scope.spawn(move || feed(ordered, &feed_tx, &used_rx));
        scope.spawn(move || checkpoint_as_files_land(path, &checkpoint_rx));
        let mut feeds = feed_rx.iter();
        for (&index, file) in order.iter().zip(ordered) {
            let result = match feeds.next() {
                Some(Feed { checksum: Ok(checksum), messages }) => {
                    let run = Run { who, bulk, rx: &messages, used: &used_tx };
                    import_file(&conn, &mut inserts, file, &checksum, &run, &mut known, &|rows| {
                        notify(RunEvent::Rows { index, rows })
                    })
                }
                Some(Feed { checksum: Err(e), .. }) => Err(e.into()),
                None => Err(DbError::Task("the police file parser stopped early".into())),
            };
            notify(RunEvent::Finished { index, result });
            let _ = checkpoint_tx.try_send(());
        }
        drop(checkpoint_tx);
    });
    drop(inserts);
    let mut conn = conn;
    if bulk {
        bulk::finish(&mut conn)?;
    }
    conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);")?;
    Ok(())
}

/// Copies committed pages from the write-ahead log into the database file while the run goes
/// on, on the core the parser leaves idle, so little is left to copy at the end. A passive
/// checkpoint never blocks the writer; one that cannot finish is simply done later.
fn checkpoint_as_files_land(path: &Path, landed: &Receiver<()>) {
    let conn = match open(path) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::debug!("no background checkpoint: {e}");
            return;
        }
    };
    for () in landed.iter() {
        if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::debug!("background checkpoint deferred: {e}");
        }
    }
}

/// What every file of a run shares.
struct Run<'a> {
    who: &'a str,
    bulk: bool,
    /// The file's messages from the parsing thread.
    rx: &'a Receiver<Message>,
    /// Where finished batches go back to be freed.
    used: &'a std::sync::mpsc::Sender<Batch>,
}

/// Imports one file whose parsed rows arrive on `run.rx`.
fn import_file(
    conn: &Connection,
    inserts: &mut Inserts<'_>,
    file: &SourceFile,
    checksum: &str,
    run: &Run<'_>,
    known: &mut Option<KnownOutcomes>,
    progress: &dyn Fn(u64),
) -> Result<ImportOutcome, DbError> {
    let Run { who, bulk, rx, used } = *run;
    let unit = match rx.recv() {
        Ok(Message::Unit(unit)) => unit,
        Ok(Message::Failed(e)) => return Err(e.into()),
        _ => return Err(DbError::Task("the police file parser stopped without a result".into())),
    };
    let key = unit.key();
    let current: Option<(i64, String)> = conn
        .query_row("SELECT id, checksum FROM imports WHERE unit = ?1 AND superseded_by IS NULL", [&key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((id, _)) = current.as_ref().filter(|(_, c)| c == checksum) {
        return Ok(ImportOutcome::Unchanged { import_id: *id, unit: key });
    }
    // `new_unchecked` takes the connection by shared reference (the run's prepared statements
    // borrow it too); the transaction rolls back when dropped uncommitted.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let import_id: i64 = tx.query_row(
        "INSERT INTO imports (source, kind, unit, force, month, file_name, checksum, imported_by, imported_at) \
         VALUES ('police', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        params![
            unit.kind.as_str(),
            key,
            unit.force.as_str(),
            unit.month.to_string(),
            file.name,
            checksum,
            who,
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ],
        |r| r.get(0),
    )?;
    if let Some(k) = known.as_ref() {
        if !k.still_complete(&tx)? {
            *known = None;
        }
    }
    let mut staged = Vec::new();
    // Every row of a file is of the file's month (the reader refuses others); bind it once.
    let month = unit.month.to_string();
    let other_month = |m: alliance_core::domain::Month| {
        DbError::Legacy(format!("{}: a row of {m} in a file of {}", file.name, unit.month))
    };
    let mut counts = ImportCounts::default();
    for message in rx.iter() {
        let batch = match message {
            Message::Rows(batch) => batch,
            Message::Failed(e) => return Err(e.into()),
            Message::Unit(_) => continue,
        };
        counts.rows_read += batch.len() as i64;
        counts.rows_without_location += batch.without_location() as i64;
        let known = known.as_ref();
        match &batch {
            Batch::Street(rows, keys) => {
                if let Some(c) = rows.iter().find(|c| c.month != unit.month) {
                    return Err(other_month(c.month));
                }
                inserts.crimes.insert(rows.len(), |b, at, i| {
                    let (c, key) = (&rows[i], keys[i]);
                    b.int(at, import_id)?;
                    b.opt_text(at + 1, c.crime_id.as_deref())?;
                    b.opt_int(at + 2, key)?;
                    b.text(at + 3, &month)?;
                    b.real(at + 4, c.location.map(|l| l.0))?;
                    b.real(at + 5, c.location.map(|l| l.1))?;
                    b.text(at + 6, &c.location_description)?;
                    b.opt_text(at + 7, c.lsoa_code.as_ref().map(|l| l.as_str()))?;
                    b.text(at + 8, &c.crime_type)?;
                    b.opt_text(at + 9, c.last_outcome.as_deref())?;
                    let latest = known.and_then(|k| k.get(c.crime_id.as_deref()?, key?));
                    b.opt_text(at + 10, latest.map(|l| l.0).or(c.last_outcome.as_deref()))?;
                    b.opt_text(at + 11, latest.map(|l| l.1))
                })?
            }
            Batch::Outcomes(rows, keys) => {
                if let Some(o) = rows.iter().find(|o| o.month != unit.month) {
                    return Err(other_month(o.month));
                }
                inserts.outcomes.insert(rows.len(), |b, at, i| {
                    let o = &rows[i];
                    b.int(at, import_id)?;
                    b.text(at + 1, &o.crime_id)?;
                    b.int(at + 2, keys[i])?;
                    b.text(at + 3, &month)?;
                    b.opt_text(at + 4, o.lsoa_code.as_ref().map(|l| l.as_str()))?;
                    b.text(at + 5, &o.outcome_type)
                })?;
            }
        }
        match batch {
            Batch::Outcomes(rows, _) if known.is_some() => known::stage(rows, &mut staged),
            batch => {
                let _ = used.send(batch);
            }
        }
        progress(counts.rows_read as u64);
    }
    counts.rows_added = counts.rows_read;
    let replaced = current.map(|(id, _)| id);
    // The refresh can be skipped when it has nothing to do: the crimes of a street file took
    // their latest outcome as they went in, or an outcomes file names no crimes yet.
    let refresh = match unit.kind {
        PoliceFileKind::Street if known.is_some() => Refresh::Skip,
        PoliceFileKind::Outcomes
            if !tx.query_row::<bool, _, _>("SELECT EXISTS (SELECT 1 FROM police_crimes)", [], |r| r.get(0))? =>
        {
            Refresh::Skip
        }
        _ if bulk => Refresh::Queue,
        _ => Refresh::Now,
    };
    counts.rows_replaced = settle(&tx, unit.kind, import_id, replaced, refresh)?;
    let last_outcome_id: i64 = match (unit.kind, known.is_some()) {
        (PoliceFileKind::Outcomes, true) => {
            tx.query_row("SELECT COALESCE(MAX(id), 0) FROM police_outcomes", [], |r| r.get(0))?
        }
        _ => 0,
    };
    tx.execute(
        "UPDATE imports SET rows_read = ?1, rows_added = ?2, rows_replaced = ?3, rows_without_location = ?4 WHERE id = ?5",
        params![counts.rows_read, counts.rows_added, counts.rows_replaced, counts.rows_without_location, import_id],
    )?;
    if let Some(old) = replaced {
        tx.execute("UPDATE imports SET superseded_by = ?1 WHERE id = ?2", params![import_id, old])?;
    }
    tx.commit()?;
    if let Some(k) = known.as_mut() {
        k.committed(conn)?;
    }
    if unit.kind == PoliceFileKind::Outcomes {
        let keep = replaced.is_none() && known.as_mut().is_some_and(|k| k.add(staged, last_outcome_id));
        if !keep {
            *known = None;
        }
    }
    Ok(ImportOutcome::Imported { import_id, unit: key, counts, replaced })
}

/// How a file's crimes get their latest outcome once its rows are in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refresh {
    /// Nothing to recompute (see the caller).
    Skip,
    /// Queued for the end of a bulk run, when the indexes it needs are back.
    Queue,
    /// Recomputed now, as the pooled path's `outcomes` module does.
    Now,
}

/// Removes the replaced import's rows (returning how many) and recomputes, queues or skips
/// the latest outcomes of the crimes either import names. The crimes an old outcomes import
/// named are noted before its rows go.
fn settle(
    tx: &Connection,
    kind: PoliceFileKind,
    import_id: i64,
    replaced: Option<i64>,
    refresh: Refresh,
) -> Result<i64, DbError> {
    let (table, affected) = match (kind, refresh) {
        (PoliceFileKind::Street, _) => ("police_crimes", None),
        (PoliceFileKind::Outcomes, Refresh::Skip) => ("police_outcomes", None),
        (PoliceFileKind::Outcomes, Refresh::Queue) => ("police_outcomes", Some("police_refresh_pending")),
        (PoliceFileKind::Outcomes, Refresh::Now) => {
            tx.execute_batch("CREATE TEMPORARY TABLE IF NOT EXISTS affected_crimes (crime_key BIGINT NOT NULL); DELETE FROM affected_crimes;")?;
            ("police_outcomes", Some("temp.affected_crimes"))
        }
    };
    let note_affected = |import: i64| -> Result<(), DbError> {
        if let Some(queue) = affected {
            tx.execute(
                &format!("INSERT INTO {queue} (crime_key) SELECT DISTINCT crime_key FROM police_outcomes WHERE import_id = ?1"),
                [import],
            )?;
        }
        Ok(())
    };
    let mut removed = 0;
    if let Some(old) = replaced {
        note_affected(old)?;
        removed = tx.execute(&format!("DELETE FROM {table} WHERE import_id = ?1"), [old])? as i64;
    }
    match (kind, refresh) {
        (_, Refresh::Skip) => {}
        (_, Refresh::Queue) => bulk::queue_refresh(tx, import_id)?,
        (PoliceFileKind::Street, Refresh::Now) => {
            tx.execute(
                &format!("{REFRESH} WHERE import_id = ?1 AND EXISTS (SELECT 1 FROM police_outcomes o WHERE o.crime_key = police_crimes.crime_key)"),
                [import_id],
            )?;
        }
        (PoliceFileKind::Outcomes, Refresh::Now) => {
            note_affected(import_id)?;
            tx.execute(&format!("{REFRESH} WHERE crime_key IN (SELECT crime_key FROM affected_crimes)"), [])?;
            tx.execute("DELETE FROM affected_crimes", [])?;
        }
    }
    Ok(removed)
}
