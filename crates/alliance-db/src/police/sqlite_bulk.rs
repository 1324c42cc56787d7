//! The SQLite import path: one dedicated connection for a whole run of files, fed by a
//! parsing thread that checksums and parses the next file while this one is written.
//!
//! This is the SQLite [`PoliceStore`]; the per-file algorithm and its bookkeeping SQL are
//! `per_file.rs`'s, shared with PostgreSQL. Each file is its own transaction (a bad file
//! imports nothing; the others stand). The driver is `rusqlite` rather than `sqlx`, because
//! binding millions of values through `sqlx` cost more than SQLite's own work; both link the
//! same SQLite library (see the `rusqlite` line of the workspace `Cargo.toml`).
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
use std::sync::Arc;

use alliance_core::domain::{Month, PoliceFileKind};
use alliance_ingest::{IngestError, SourceFile};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, OptionalExtension, ToSql};

pub(crate) use bulk::finish_interrupted_run;

use self::borrowed::{Binder, BorrowedInsert};
use self::known::KnownOutcomes;
use super::latest::{LatestOutcomes, Staged};
use super::outcomes::REFRESH;
use super::per_file::{self, Arg, By, PoliceStore};
use super::{is_outcomes_file, parse_into, run_order, Batch, Message, RunEvent};
use crate::{Backend, DbError};

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
        // `OR FAIL`: a row that breaks a constraint stops the statement without undoing the
        // rows before it, so SQLite keeps no statement journal (a copy of every page each
        // statement changes, written to a temporary file). Nothing partial survives: the
        // error rolls the file's whole transaction back.
        let sql = |n: usize| {
            format!("INSERT OR FAIL INTO {table} ({}) VALUES {}", columns.join(","), vec![row.as_str(); n].join(","))
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

/// The run's own connection. Temporary storage is a file (SQLite's default), not memory: the
/// sorts that rebuild a bulk run's indexes spill there once past the page cache, and in memory
/// a national archive's sorts (20 million keys each) raised the import's peak to 1.2 GB.
pub(crate) fn open(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    crate::sqlite_wait::poll_rusqlite(&conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -65536; PRAGMA temp_store = FILE; PRAGMA wal_autocheckpoint = 0; PRAGMA threads = 2;",
    )?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

/// A run that keeps the indexes (a month's update of a large database) inserts into them at
/// random places: with the bulk run's 64 MiB page cache, pages were written out and read back
/// within each file's transaction, and multi-row inserts' statement journals went to temporary
/// files. A larger cache and journals in memory (such a run sorts nothing big) made a month's
/// update of 20 million records faster and shortened the write lock each file holds
/// (`BENCHMARKS-import.md`).
const INDEXED_RUN_PRAGMAS: &str = "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;";

/// One file as the parsing thread hands it over: its checksum, then its messages.
struct Feed {
    checksum: Result<String, IngestError>,
    messages: Receiver<Message>,
}

/// The parsing thread: reads each file (once, when small), checksums and parses it in turn. A
/// file's messages wait in a bounded channel, so memory stays flat; dropping a file's receiver
/// (the file was found unchanged, or failed) makes the parser move on to the next. Batches the
/// writer is done with come back on `used` to be freed here: freeing memory on the thread that
/// allocated it is cheap, and this thread has time to spare.
///
/// Street rows are looked up in the run's map of latest outcomes here rather than on the
/// writer, which is the run's slower thread: before its first street file the parser waits
/// for the writer to hand the map over (`handoff`) once every outcomes file is in (`None`:
/// there is no map to use).
fn feed(
    files: &[SourceFile],
    out: &SyncSender<Feed>,
    used: &Receiver<Batch>,
    handoff: &Receiver<Option<Arc<LatestOutcomes>>>,
) {
    let mut known: Option<Option<Arc<LatestOutcomes>>> = None;
    for file in files {
        let (file, checksum) = match file.in_memory_when_small(super::READ_WHOLE_BYTES) {
            Ok(file) => {
                let checksum = file.checksum();
                (Some(file), checksum)
            }
            Err(e) => (None, Err(e)),
        };
        let parse = checksum.is_ok();
        let (tx, rx) = sync_channel::<Message>(8);
        if out.send(Feed { checksum, messages: rx }).is_err() {
            return;
        }
        if let (true, Some(file)) = (parse, &file) {
            let known = match is_outcomes_file(file) {
                true => None,
                false => known.get_or_insert_with(|| handoff.recv().ok().flatten()).as_deref(),
            };
            parse_into(file, known, |m| {
                used.try_iter().for_each(drop);
                tx.send(m).is_ok()
            });
        }
    }
}

/// Imports `files` in order into the SQLite database at `path`, each in its own transaction,
/// reporting progress and each file's result, in order, through `notify`. An `Err` of the run
/// itself means the database could not be opened or the run could not be finished. Runs on a
/// blocking thread; `handle` drives the per-file algorithm, which never waits on it (the store
/// and the channel here block instead).
pub(super) fn import_run(
    handle: &tokio::runtime::Handle,
    path: &Path,
    files: &[SourceFile],
    by: By<'_>,
    notify: &dyn Fn(RunEvent),
) -> Result<(), DbError> {
    let mut conn = open(path)?;
    // The only foreign key these inserts could break is `import_id`, which is the id this
    // run inserted in the same transaction; checking it cost a lookup of `imports` per row.
    conn.execute_batch("PRAGMA foreign_keys = OFF;")?;
    let mode = bulk::begin(&mut conn, path, files)?;
    if !mode.rebuilds() {
        conn.execute_batch(INDEXED_RUN_PRAGMAS)?;
    }
    let bulk = mode.queues();
    let mut known = KnownOutcomes::start(&conn, mode.rebuilds())?;
    let conn = conn;
    let mut inserts = Inserts::prepare(&conn)?;
    let order = run_order(files);
    let ordered: Vec<SourceFile> = order.iter().map(|&i| files[i].clone()).collect();
    let (feed_tx, feed_rx) = sync_channel::<Feed>(1);
    let (used_tx, used_rx) = std::sync::mpsc::channel::<Batch>();
    let (checkpoint_tx, checkpoint_rx) = sync_channel::<()>(1);
    let (handoff_tx, handoff_rx) = sync_channel::<Option<Arc<LatestOutcomes>>>(1);
    let mut store = SqliteStore {
        conn: &conn,
        inserts: &mut inserts,
        known: &mut known,
        bulk,
        used: &used_tx,
        file: FileState::default(),
        last_yield: std::time::Instant::now(),
    };
    std::thread::scope(|scope| {
        let ordered = &ordered;
        scope.spawn(move || feed(ordered, &feed_tx, &used_rx, &handoff_rx));
        scope.spawn(move || checkpoint_as_files_land(path, &checkpoint_rx));
        let mut feeds = feed_rx.iter();
        let mut handoff = Some(handoff_tx);
        for (&index, file) in order.iter().zip(ordered) {
            // Every outcomes file is in: the parser, about to parse the first street file, may
            // look its rows up in the map (which no longer changes).
            if let (false, Some(tx)) = (is_outcomes_file(file), &handoff) {
                let _ = tx.send(store.known.as_ref().map(KnownOutcomes::shared));
                handoff = None;
            }
            let result = match feeds.next() {
                Some(Feed { checksum: Ok(checksum), messages }) => {
                    handle.block_on(per_file::import_file(&mut store, &mut &messages, file, &checksum, by, &|rows| {
                        notify(RunEvent::Rows { index, rows })
                    }))
                }
                Some(Feed { checksum: Err(e), .. }) => Err(e.into()),
                None => Err(DbError::Task("the police file parser stopped early".into())),
            };
            notify(RunEvent::Finished { index, result });
            let _ = checkpoint_tx.try_send(());
        }
        drop(checkpoint_tx);
    });
    drop(store);
    drop(inserts);
    // The map of latest outcomes (up to 300 MB at national scale) is not needed by the
    // rebuilds: its memory goes before their sorts take theirs.
    drop(known);
    let mut conn = conn;
    bulk::end(&mut conn, path, mode)?;
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

/// The SQLite [`PoliceStore`]: the run's `rusqlite` connection and prepared inserts, the
/// run's map of latest outcomes, and what the file in progress has staged for it.
struct SqliteStore<'c, 'r> {
    conn: &'c Connection,
    inserts: &'r mut Inserts<'c>,
    known: &'r mut Option<KnownOutcomes>,
    bulk: bool,
    /// Where finished batches go back to be freed.
    used: &'r std::sync::mpsc::Sender<Batch>,
    file: FileState,
    /// When the run last left the write lock free for other writers ([`YIELD_AFTER`]).
    last_yield: std::time::Instant,
}

/// After a commit, once the run has held the write lock this long since it last let go, it
/// leaves the lock free for [`YIELD_FOR`]: long enough for a writer polling every millisecond
/// (`sqlite_wait`) to take it, so a public report or a sign-in waits at most about this long
/// plus one file, not the whole run. Costs a run about 2% (10 ms in every 500).
const YIELD_AFTER: std::time::Duration = std::time::Duration::from_millis(500);
/// How long the lock is left free each time.
const YIELD_FOR: std::time::Duration = std::time::Duration::from_millis(10);

/// What the file in progress leaves for after its commit.
#[derive(Default)]
struct FileState {
    /// The rows of the file's month as stored, made once.
    month: Option<(Month, String)>,
    /// An outcomes file's rows, packed for the map of latest outcomes once committed.
    staged: Staged,
    /// After `replace`: the file's kind, the import it replaced, the last outcome row id.
    settled: Option<(PoliceFileKind, Option<i64>, i64)>,
}

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Arg::Real(v) => ToSqlOutput::Borrowed(ValueRef::Real(v)),
            Arg::Text(v) | Arg::OptText(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Arg::OptText(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Arg::Texts(_) | Arg::Reals(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure("SQLite has no array values".into()))
            }
        })
    }
}

impl SqliteStore<'_, '_> {
    /// For an outcomes file whose rows the run's map is about to take in: the highest crime
    /// id now stored. Crimes stored after it take the file's outcomes from the map as they are
    /// inserted (or, should the map end, are queued by their own street file), so the file's
    /// queued refresh concerns only crimes up to it. `None`: every crime the file names.
    fn crimes_served_by_map(&self, kind: PoliceFileKind, replaced: Option<i64>) -> Result<Option<i64>, DbError> {
        if kind != PoliceFileKind::Outcomes || replaced.is_some() || self.known.is_none() {
            return Ok(None);
        }
        Ok(Some(self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM police_crimes", [], |r| r.get(0))?))
    }
}

impl PoliceStore for SqliteStore<'_, '_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        self.file = FileState::default();
        // Takes the database's write lock at once (waiting under the busy timeout for another
        // writer), so what the file reads next cannot change before it commits.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        if let Some(k) = self.known.as_ref() {
            if !k.still_complete(self.conn)? {
                *self.known = None;
            }
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DbError> {
        Ok(self.conn.prepare_cached(sql)?.execute(params_from_iter(args))? as u64)
    }

    async fn fetch_id_text(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<(i64, String)>, DbError> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    async fn fetch_int(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<i64, DbError> {
        Ok(self.conn.prepare_cached(sql)?.query_row(params_from_iter(args), |r| r.get(0))?)
    }

    async fn write(&mut self, import_id: i64, batch: Batch) -> Result<(), DbError> {
        // Every row of a file is of the file's month (checked by the caller); bind it once.
        let first = match &batch {
            Batch::Street(rows, ..) => rows.first().map(|c| c.month),
            Batch::Outcomes(rows, _) => rows.first().map(|o| o.month),
        };
        let Some(first) = first else { return Ok(()) };
        if self.file.month.as_ref().is_none_or(|(m, _)| *m != first) {
            self.file.month = Some((first, first.to_string()));
        }
        let month = self.file.month.as_ref().map(|(_, t)| t.as_str()).unwrap_or_default();
        let known = self.known.as_ref();
        match &batch {
            Batch::Street(rows, keys, found) => self.inserts.crimes.insert(rows.len(), |b, at, i| {
                let (c, key) = (&rows[i], keys[i]);
                b.int(at, import_id)?;
                b.opt_text(at + 1, c.crime_id.as_deref())?;
                b.opt_int(at + 2, key)?;
                b.text(at + 3, month)?;
                b.real(at + 4, c.location.map(|l| l.0))?;
                b.real(at + 5, c.location.map(|l| l.1))?;
                b.text(at + 6, &c.location_description)?;
                b.opt_text(at + 7, c.lsoa_code.as_ref().map(|l| l.as_str()))?;
                b.text(at + 8, &c.crime_type)?;
                b.opt_text(at + 9, c.last_outcome.as_deref())?;
                // Found by the parser when it had the map, else looked up here.
                let latest = known.and_then(|k| match found.get(i) {
                    Some(at) => k.texts((*at)?),
                    None => k.get(c.crime_id.as_deref()?, key?),
                });
                b.opt_text(at + 10, latest.map(|l| l.0).or(c.last_outcome.as_deref()))?;
                b.opt_text(at + 11, latest.map(|l| l.1))
            })?,
            Batch::Outcomes(rows, keys) => self.inserts.outcomes.insert(rows.len(), |b, at, i| {
                let o = &rows[i];
                b.int(at, import_id)?;
                b.text(at + 1, &o.crime_id)?;
                b.int(at + 2, keys[i])?;
                b.text(at + 3, month)?;
                b.opt_text(at + 4, o.lsoa_code.as_ref().map(|l| l.as_str()))?;
                b.text(at + 5, &o.outcome_type)
            })?,
        }
        if let (Batch::Outcomes(rows, keys), Some(_)) = (&batch, known) {
            self.file.staged.push(rows, keys);
        }
        let _ = self.used.send(batch);
        Ok(())
    }

    async fn end_rows(&mut self) -> Result<(), DbError> {
        Ok(())
    }

    async fn replace(&mut self, kind: PoliceFileKind, import_id: i64, replaced: Option<i64>) -> Result<i64, DbError> {
        let tx = self.conn;
        // The refresh can be skipped when it has nothing to do: the crimes of a street file took
        // their latest outcome as they went in, or an outcomes file names no crimes yet.
        let refresh = match kind {
            PoliceFileKind::Street if self.known.is_some() => Refresh::Skip,
            PoliceFileKind::Outcomes
                if !tx.query_row::<bool, _, _>("SELECT EXISTS (SELECT 1 FROM police_crimes)", [], |r| r.get(0))? =>
            {
                Refresh::Skip
            }
            _ if self.bulk => Refresh::Queue { crimes_up_to: self.crimes_served_by_map(kind, replaced)? },
            _ => Refresh::Now,
        };
        let removed = settle(tx, kind, import_id, replaced, refresh)?;
        let last_outcome_id: i64 = match (kind, self.known.is_some()) {
            (PoliceFileKind::Outcomes, true) => {
                tx.query_row("SELECT COALESCE(MAX(id), 0) FROM police_outcomes", [], |r| r.get(0))?
            }
            _ => 0,
        };
        self.file.settled = Some((kind, replaced, last_outcome_id));
        Ok(removed)
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        self.conn.execute_batch("COMMIT")?;
        if self.last_yield.elapsed() >= YIELD_AFTER {
            std::thread::sleep(YIELD_FOR);
            self.last_yield = std::time::Instant::now();
        }
        if let Some(k) = self.known.as_mut() {
            k.committed(self.conn)?;
        }
        if let Some((PoliceFileKind::Outcomes, replaced, last_outcome_id)) = self.file.settled {
            let staged = std::mem::take(&mut self.file.staged);
            let keep = replaced.is_none() && self.known.as_mut().is_some_and(|k| k.add(&staged, last_outcome_id));
            if !keep {
                *self.known = None;
            }
        }
        Ok(())
    }

    async fn rollback(&mut self) {
        self.file = FileState::default();
        if !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!("rolling back a police import: {e}");
            }
        }
    }
}

/// How a file's crimes get their latest outcome once its rows are in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Refresh {
    /// Nothing to recompute (see the caller).
    Skip,
    /// Queued for the end of a bulk run, when the indexes it needs are back; for an outcomes
    /// file, only for the crimes up to `crimes_up_to` when set (see
    /// [`SqliteStore::crimes_served_by_map`]).
    Queue { crimes_up_to: Option<i64> },
    /// Recomputed now (the statements of `outcomes.rs`, as on PostgreSQL).
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
        (PoliceFileKind::Outcomes, Refresh::Queue { .. }) => ("police_outcomes", Some("police_refresh_pending")),
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
        (_, Refresh::Queue { crimes_up_to }) => bulk::queue_refresh(tx, import_id, crimes_up_to)?,
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
