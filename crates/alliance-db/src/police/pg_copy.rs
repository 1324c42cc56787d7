//! The PostgreSQL [`PoliceStore`] of the police import (the algorithm is `per_file.rs`'s), over
//! dedicated `PgConnection`s, with rows sent by `COPY … FROM STDIN` straight into the police
//! tables instead of multi-row `INSERT`s.
//!
//! `COPY` skips parsing, planning and binding a statement per thousand rows: the server only
//! splits lines and converts text, and stores the rows by its multi-row insert (one write-ahead
//! log record per page instead of one per row). `sqlx`'s `Any` driver has no `COPY`, so a run
//! opens `PgConnection`s of its own (several, so that files go several at a time: see [`import_run`];
//! the SQLite path opens one `rusqlite` connection), and every statement of a
//! file's transaction (the provenance row, the `COPY`s, the replacement of an earlier import,
//! the outcome refresh, the counts, the audit row) runs on one of them, so a failure anywhere
//! rolls the whole file back.
//!
//! A street file's crimes take their latest outcome on the way in, so no crime row is written
//! twice: from the run's map of latest outcomes ([`PgKnown`]) while `police_outcomes` holds only
//! what this run wrote, else by asking the server for the latest outcomes of a chunk's Crime IDs
//! ([`LATEST_OUTCOMES`], by the outcomes' Crime ID index). (Earlier the rows
//! went through temporary staging tables and one `INSERT … SELECT` per file: that wrote every
//! row twice, stored them one log record per row, and emptying the staging tables cost a few
//! milliseconds at every commit.)
//!
//! Files' commits do not wait for the disk, but their results are reported only once the
//! server's log is on disk past them ([`Held`]), so a crash cannot lose an acknowledged import.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use alliance_core::domain::{PoliceFileKind, PoliceOutcome, StreetCrime};
use alliance_ingest::SourceFile;
use futures_util::future::join_all;
use sqlx::postgres::PgArguments;
use sqlx::{Connection, PgConnection, Postgres, Row};
use tokio::sync::mpsc;

use super::latest::{LatestOutcomes, Staged};
use super::per_file::{self, Arg, By, PoliceStore};
use super::{is_outcomes_file, outcomes, parse_into, pg_deferred, run_order, Batch, Message, RunProgress};
use crate::imports::{ImportCounts, ImportOutcome};
use crate::{Backend, DbError};

/// The `COPY` of a street file's rows, in the column order [`encode_crimes`] writes.
const COPY_CRIMES: &str = "COPY police_crimes (import_id, crime_id, crime_key, month, longitude, latitude, location, \
     lsoa_code, crime_type, street_outcome, outcome, outcome_month) FROM STDIN";
/// The `COPY` of an outcomes file's rows, in the column order [`encode_outcomes`] writes.
const COPY_OUTCOMES: &str =
    "COPY police_outcomes (import_id, crime_id, crime_key, month, lsoa_code, outcome_type) FROM STDIN";

/// The latest outcome of each (crime key, Crime ID) among the crimes whose keys `$1` (an array)
/// holds: the outcome of the latest month recorded in the outcomes files, the last row of that
/// month (highest id) when there are several. One sort (`DISTINCT ON`) of the outcomes the keys'
/// index lookups find; the set-based form of `outcomes::REFRESH`.
const LATEST_OUTCOMES: &str = "\
    SELECT DISTINCT ON (o.crime_key, o.crime_id) o.crime_key, o.crime_id, o.outcome_type, o.month \
    FROM police_outcomes o WHERE o.crime_key = ANY($1) \
    ORDER BY o.crime_key, o.crime_id, o.month DESC, o.id DESC";

/// Rows in PostgreSQL's `COPY` text format: columns separated by tabs, rows ended by a
/// newline, `\N` for NULL, and a backslash escape for the four characters that would
/// otherwise end a column or row or start an escape (backslash, tab, newline, carriage
/// return). Everything else, quotes and non-ASCII text included, goes through as it is:
/// unlike CSV, the text format has no quoting.
pub(super) struct CopyText {
    buf: String,
    /// No column written yet in the current row (so no tab before the next).
    row_start: bool,
}

impl CopyText {
    pub fn new() -> CopyText {
        CopyText { buf: String::with_capacity(256 * 1024), row_start: true }
    }

    fn separate(&mut self) {
        if !self.row_start {
            self.buf.push('\t');
        }
        self.row_start = false;
    }

    /// A text value, escaped.
    pub fn text(&mut self, value: &str) {
        self.separate();
        // Multi-byte UTF-8 sequences never contain ASCII bytes, so escaping by byte is safe.
        let mut from = 0;
        for (at, byte) in value.bytes().enumerate() {
            let escape = match byte {
                b'\\' => "\\\\",
                b'\t' => "\\t",
                b'\n' => "\\n",
                b'\r' => "\\r",
                _ => continue,
            };
            self.buf.push_str(&value[from..at]);
            self.buf.push_str(escape);
            from = at + 1;
        }
        self.buf.push_str(&value[from..]);
    }

    /// A text value or NULL (an empty string stays an empty string).
    pub fn opt_text(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A value whose display form never holds a character needing escape (integers, months).
    pub fn plain(&mut self, value: impl std::fmt::Display) {
        self.separate();
        // Writing to a String cannot fail.
        let _ = write!(self.buf, "{value}");
    }

    pub fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    /// A double or NULL. Rust prints the shortest text that reads back as the same double;
    /// the non-finite values get PostgreSQL's spellings (Rust's `inf` is not one).
    pub fn opt_double(&mut self, value: Option<f64>) {
        match value {
            Some(v) if v.is_nan() => self.plain("NaN"),
            Some(v) if v == f64::INFINITY => self.plain("Infinity"),
            Some(v) if v == f64::NEG_INFINITY => self.plain("-Infinity"),
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    pub fn null(&mut self) {
        self.separate();
        self.buf.push_str("\\N");
    }

    pub fn end_row(&mut self) {
        self.buf.push('\n');
        self.row_start = true;
    }

    /// The rows written since the last [`CopyText::clear`].
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }

    /// Empties the buffer for the next batch, keeping its allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.row_start = true;
    }
}

/// The latest outcome of a Crime ID: its type and the month it was recorded in.
struct Latest {
    crime_id: String,
    outcome_type: String,
    month: String,
}

/// Latest outcomes by crime key (a key names one Crime ID but for a rare collision).
type LatestByKey = HashMap<i64, Vec<Latest>>;

/// Where a chunk of street rows finds its crimes' latest outcomes.
enum Outcomes<'m> {
    /// The run's map ([`PgKnown`]).
    Map(&'m LatestOutcomes),
    /// What the server answered for the chunk's Crime IDs ([`LATEST_OUTCOMES`]).
    Found(LatestByKey),
}

impl Outcomes<'_> {
    /// The latest outcome and its month of a Crime ID and its key.
    fn get(&self, crime_id: &str, key: i64) -> Option<(&str, &str)> {
        match self {
            Outcomes::Map(map) => map.get(crime_id, key),
            Outcomes::Found(found) => {
                let l = found.get(&key)?.iter().find(|l| l.crime_id == crime_id)?;
                Some((l.outcome_type.as_str(), l.month.as_str()))
            }
        }
    }
}

/// Writes street rows in the column order of [`COPY_CRIMES`], each crime with its latest
/// outcome and its month from `latest` (by Crime ID and key) when it has one, else the street file's (as `outcomes::REFRESH` sets
/// it): `outcome_month` is the outcome's month, NULL for the street file's. The other columns
/// mean what they mean on SQLite (`sqlite_bulk.rs`).
fn encode_crimes(rows: &[StreetCrime], keys: &[Option<i64>], import_id: i64, latest: &Outcomes, out: &mut CopyText) {
    for (c, key) in rows.iter().zip(keys) {
        let found = match (key, c.crime_id.as_deref()) {
            (Some(k), Some(id)) => latest.get(id, *k),
            _ => None,
        };
        out.plain(import_id);
        out.opt_text(c.crime_id.as_deref());
        out.opt_int(*key);
        out.plain(c.month);
        out.opt_double(c.location.map(|l| l.0));
        out.opt_double(c.location.map(|l| l.1));
        out.text(&c.location_description);
        out.opt_text(c.lsoa_code.as_ref().map(|l| l.as_str()));
        out.text(&c.crime_type);
        out.opt_text(c.last_outcome.as_deref());
        match found {
            Some((outcome, month)) => {
                out.text(outcome);
                out.text(month);
            }
            None => {
                out.opt_text(c.last_outcome.as_deref());
                out.null();
            }
        }
        out.end_row();
    }
}

/// Writes outcomes rows in the column order of [`COPY_OUTCOMES`].
fn encode_outcomes(rows: &[PoliceOutcome], keys: &[i64], import_id: i64, out: &mut CopyText) {
    for (o, key) in rows.iter().zip(keys) {
        out.plain(import_id);
        out.text(&o.crime_id);
        out.plain(key);
        out.plain(o.month);
        out.opt_text(o.lsoa_code.as_ref().map(|l| l.as_str()));
        out.text(&o.outcome_type);
        out.end_row();
    }
}

/// Outcomes imports of other runs, counted in the statement that relies on none having been
/// added ([`PgKnown`]).
const OTHER_OUTCOMES_IMPORTS: &str =
    "SELECT COUNT(*) FROM imports WHERE source = 'police' AND kind = 'outcomes' AND id <> ALL($1)";

/// The run's map of latest outcomes on PostgreSQL ([`LatestOutcomes`]), kept while
/// `police_outcomes` holds only rows this run wrote, so that the street files' crimes need no
/// look-up of their outcomes (about a quarter of the server's work on a fresh import).
///
/// It starts only when the table is empty, and is checked in each street file's transaction,
/// before its first rows go: every row of `police_outcomes` belongs to an import, imports are
/// never deleted, and rows are removed only by a later import of the same unit. So while the
/// outcomes imports not made by this run number as many as when it began (when they held no
/// rows), the table holds exactly this run's committed outcomes. The check is one count over
/// `imports` (a few thousand rows for a national archive) instead of the table's rows.
/// It sees what is committed when it runs, as the look-up it replaces would.
struct PgKnown {
    map: LatestOutcomes,
    /// This run's committed outcomes imports.
    ours: Vec<i64>,
    /// Other outcomes imports when the run began (none of them with rows).
    others: i64,
}

impl PgKnown {
    /// Starts when `police_outcomes` is empty; `None` otherwise.
    async fn start(conn: &mut PgConnection) -> Result<Option<PgKnown>, DbError> {
        // One statement, one snapshot: no import can land between the two answers.
        let (empty, others): (bool, i64) = sqlx::query_as(
            "SELECT NOT EXISTS (SELECT 1 FROM police_outcomes), \
             (SELECT COUNT(*) FROM imports WHERE source = 'police' AND kind = 'outcomes')",
        )
        .fetch_one(&mut *conn)
        .await?;
        Ok(empty.then(|| PgKnown { map: LatestOutcomes::default(), ours: Vec::new(), others }))
    }

    /// Whether the table still holds only this run's outcomes (inside the file's transaction).
    async fn still_complete(&self, conn: &mut PgConnection) -> Result<bool, DbError> {
        let others: i64 = sqlx::query_scalar(OTHER_OUTCOMES_IMPORTS).bind(&self.ours).fetch_one(&mut *conn).await?;
        Ok(others == self.others)
    }
}

/// The map while the outcomes files build it, shared by the connections importing them; `None`
/// once given up.
type Building = std::sync::Mutex<Option<PgKnown>>;

/// What a store does with the run's map of latest outcomes.
enum Known<'k> {
    /// None is kept: the table held outcomes when the run began, or the run has no street files.
    Off,
    /// The outcomes files: each adds its rows once committed.
    Building(&'k Building),
    /// The street files: each reads it while the check in its transaction holds.
    Reading(&'k PgKnown),
}

impl Known<'_> {
    /// Whether the outcomes file in progress should keep its rows for the map.
    fn building(&self) -> bool {
        match self {
            Known::Building(shared) => shared.lock().unwrap_or_else(|e| e.into_inner()).is_some(),
            _ => false,
        }
    }
}

/// A connection of the run's own, with the settings of the server's pool (no JIT: the
/// refreshes of a run into stored crimes were planned with it, 45 functions compiled for each).
async fn connect(url: &str) -> Result<PgConnection, DbError> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::raw_sql(crate::pool::POSTGRES_SETTINGS).execute(&mut conn).await?;
    Ok(conn)
}

/// Whether `police_crimes` holds any committed row (or one of the open transaction's).
async fn crimes_stored(conn: &mut PgConnection) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM police_crimes)").fetch_one(&mut *conn).await?)
}

/// Send an outcomes file's rows to the server by one `COPY` when they reach this size.
const COPY_CHUNK_BYTES: usize = 1024 * 1024;

/// Look up the latest outcomes of a street file's crimes, and send them by one `COPY`, this many
/// rows at a time (about 2 MB of `COPY` text): fewer round trips and statement-level import
/// checks (migration 0036) per file, while the memory held stays bounded however large the file.
const STREET_CHUNK_ROWS: usize = 8 * super::BATCH_ROWS;

/// Rebuilds the outcomes' Crime ID index a bulk run dropped for its outcomes files, and says
/// how long it took.
async fn rebuild_outcomes_index(conn: &mut PgConnection) -> Result<(), DbError> {
    let started = Instant::now();
    pg_deferred::rebuild_outcomes_index(conn).await?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "outcomes' Crime ID index rebuilt after the outcomes files"
    );
    Ok(())
}

/// `start` plus the time each store spent in each step.
fn total_timings(stores: &[PgStore], start: Timings) -> Timings {
    stores.iter().fold(start, |sum, store| sum.plus(&store.timings))
}

/// Connections a run's files go on at once. The server's work on a file (the `COPY`, its
/// indexes and import check) runs on one core a connection, and each file also waits on
/// round trips (a dozen statements) and on the client between chunks: with two connections a
/// 2-core server was idle 12–20% of a run (vmstat, 2 million rows); a third fills the gaps.
const WORKERS: usize = 3;

/// Time spent in each step of a run, logged at debug level when the run ends.
#[derive(Default)]
struct Timings {
    copy: Duration,
    lookup: Duration,
    replace: Duration,
    commit: Duration,
    other: Duration,
}

impl Timings {
    fn plus(self, other: &Timings) -> Timings {
        Timings {
            copy: self.copy + other.copy,
            lookup: self.lookup + other.lookup,
            replace: self.replace + other.replace,
            commit: self.commit + other.commit,
            other: self.other + other.other,
        }
    }
}

/// The PostgreSQL [`PoliceStore`]: the run's own connection, on which each file's
/// transaction is begun and ended by statements (so no borrow of the connection outlives a
/// call). Outcomes rows are gathered in `COPY` text and sent by one `COPY` per megabyte; street
/// rows are held as parsed until a chunk is full, then sent with their latest outcomes.
struct PgStore<'c, 'k> {
    conn: &'c mut PgConnection,
    known: Known<'k>,
    /// Whether the map may be read for the file in progress (checked at its first street rows).
    known_complete: Option<bool>,
    /// An outcomes file's rows, for the map once the file commits.
    staged: Staged,
    /// After `replace`: the file's kind, import and the import it replaced.
    settled: Option<(PoliceFileKind, i64, Option<i64>)>,
    rows: CopyText,
    /// Street batches waiting for their latest outcomes, and how many rows they hold.
    street: Vec<Batch>,
    street_rows: usize,
    /// The import whose rows are being written (none before the file's first batch), how many
    /// rows it was given and how many the server stored.
    import_id: Option<i64>,
    given: u64,
    stored: u64,
    /// Whether the file's commit waits for its log to reach the disk (see [`Held`]).
    durable_commit: bool,
    /// Whether an outcomes file queues its refresh for the run to apply once all are in
    /// (`outcomes::apply_queued`) instead of refreshing the crimes it names now.
    queue_refresh: bool,
    timings: Timings,
}

impl<'c, 'k> PgStore<'c, 'k> {
    fn new(conn: &'c mut PgConnection, known: Known<'k>) -> PgStore<'c, 'k> {
        PgStore {
            conn,
            known,
            known_complete: None,
            staged: Staged::default(),
            settled: None,
            rows: CopyText::new(),
            street: Vec::new(),
            street_rows: 0,
            import_id: None,
            given: 0,
            stored: 0,
            durable_commit: true,
            queue_refresh: false,
            timings: Timings::default(),
        }
    }

    /// Sends the rows in `self.rows` by `sql` (a `COPY … FROM STDIN`).
    async fn copy(&mut self, sql: &str) -> Result<(), DbError> {
        if self.rows.as_bytes().is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let mut copy = self.conn.copy_in_raw(sql).await?;
        if let Err(e) = copy.send(self.rows.as_bytes()).await {
            // End the COPY so the connection can roll back; its own error would hide the cause.
            let _ = copy.abort(e.to_string()).await;
            return Err(e.into());
        }
        self.stored += copy.finish().await?;
        self.rows.clear();
        self.timings.copy += started.elapsed();
        Ok(())
    }

    /// Sends the street rows held, each crime with its latest outcome.
    async fn flush_street(&mut self) -> Result<(), DbError> {
        let Some(import_id) = self.import_id else { return Ok(()) };
        if self.street.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        if let (Known::Reading(known), None) = (&self.known, self.known_complete) {
            self.known_complete = Some(known.still_complete(self.conn).await?);
        }
        let latest = match self.known {
            Known::Reading(known) if self.known_complete == Some(true) => Outcomes::Map(&known.map),
            _ => {
                let mut keys: Vec<i64> = Vec::with_capacity(self.street_rows);
                for batch in &self.street {
                    if let Batch::Street(_, k, _) = batch {
                        keys.extend(k.iter().flatten());
                    }
                }
                keys.sort_unstable();
                keys.dedup();
                let mut found = LatestByKey::new();
                if !keys.is_empty() {
                    for row in sqlx::query(LATEST_OUTCOMES).bind(&keys).fetch_all(&mut *self.conn).await? {
                        let key: i64 = row.try_get(0)?;
                        let l =
                            Latest { crime_id: row.try_get(1)?, outcome_type: row.try_get(2)?, month: row.try_get(3)? };
                        found.entry(key).or_default().push(l);
                    }
                }
                Outcomes::Found(found)
            }
        };
        for batch in self.street.drain(..) {
            if let Batch::Street(rows, keys, _) = batch {
                encode_crimes(&rows, &keys, import_id, &latest, &mut self.rows);
            }
        }
        self.street_rows = 0;
        self.timings.lookup += started.elapsed();
        self.copy(COPY_CRIMES).await
    }

    /// Forgets the rows held (the transaction that ends keeps or drops those sent).
    fn forget(&mut self) {
        self.known_complete = None;
        self.staged.clear();
        self.settled = None;
        self.rows.clear();
        self.street.clear();
        self.street_rows = 0;
        self.import_id = None;
        self.given = 0;
        self.stored = 0;
    }
}

fn bind_args<'q>(
    mut q: sqlx::query::Query<'q, Postgres, PgArguments>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    for a in args {
        q = match *a {
            Arg::Int(v) => q.bind(v),
            Arg::Real(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Texts(v) => q.bind(v),
            Arg::Reals(v) => q.bind(v),
            Arg::OptText(v) => q.bind(v),
        };
    }
    q
}

impl PoliceStore for PgStore<'_, '_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        self.forget();
        sqlx::raw_sql("BEGIN").execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DbError> {
        let started = Instant::now();
        let done = bind_args(sqlx::query(sql), args).execute(&mut *self.conn).await?.rows_affected();
        self.timings.other += started.elapsed();
        Ok(done)
    }

    async fn fetch_id_text(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<(i64, String)>, DbError> {
        let row = bind_args(sqlx::query(sql), args).fetch_optional(&mut *self.conn).await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    async fn fetch_int(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<i64, DbError> {
        Ok(bind_args(sqlx::query(sql), args).fetch_one(&mut *self.conn).await?.try_get(0)?)
    }

    async fn write(&mut self, import_id: i64, batch: Batch) -> Result<(), DbError> {
        self.import_id = Some(import_id);
        self.given += batch.len() as u64;
        match batch {
            Batch::Street(..) => {
                self.street_rows += batch.len();
                self.street.push(batch);
                if self.street_rows >= STREET_CHUNK_ROWS {
                    self.flush_street().await?;
                }
            }
            Batch::Outcomes(rows, keys) => {
                encode_outcomes(&rows, &keys, import_id, &mut self.rows);
                if self.known.building() {
                    self.staged.push(&rows, &keys);
                }
                if self.rows.as_bytes().len() >= COPY_CHUNK_BYTES {
                    self.copy(COPY_OUTCOMES).await?;
                }
            }
        }
        Ok(())
    }

    async fn end_rows(&mut self) -> Result<(), DbError> {
        // Only one of the two holds rows: a file is of one kind.
        self.flush_street().await?;
        self.copy(COPY_OUTCOMES).await?;
        if self.stored != self.given {
            return Err(DbError::Task(format!("{} of {} police rows were stored", self.stored, self.given)));
        }
        Ok(())
    }

    async fn replace(&mut self, kind: PoliceFileKind, import_id: i64, replaced: Option<i64>) -> Result<i64, DbError> {
        let started = Instant::now();
        let mut counts = ImportCounts::default();
        match kind {
            // The crimes took their latest outcomes as they went in (`PgStore::flush_street`).
            PoliceFileKind::Street => {
                if let Some(old) = replaced {
                    counts.rows_replaced = outcomes::delete_rows(self.conn, "police_crimes", old).await?;
                }
            }
            PoliceFileKind::Outcomes => {
                // Queued for the run to apply once its outcomes files are in; else refreshed now,
                // unless no crime is stored and nothing is replaced (a new database's outcomes
                // files come first): none to refresh, and nothing to delete.
                if self.queue_refresh {
                    outcomes::queue_refresh(self.conn, import_id, replaced, &mut counts).await?;
                } else if replaced.is_some() || crimes_stored(self.conn).await? {
                    outcomes::refresh_for_outcomes_import(self.conn, import_id, replaced, &mut counts).await?;
                }
            }
        }
        self.settled = Some((kind, import_id, replaced));
        self.timings.replace += started.elapsed();
        Ok(counts.rows_replaced)
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        let started = Instant::now();
        // See `Held`: the result is acknowledged only once the log is on disk past this commit.
        let sql = if self.durable_commit { "COMMIT" } else { "SET LOCAL synchronous_commit = off; COMMIT" };
        sqlx::raw_sql(sql).execute(&mut *self.conn).await?;
        self.timings.commit += started.elapsed();
        if let (Known::Building(shared), Some((PoliceFileKind::Outcomes, import_id, replaced))) =
            (&self.known, self.settled)
        {
            let mut building = shared.lock().unwrap_or_else(|e| e.into_inner());
            // A replacement removed rows the map holds: give it up (as on SQLite). Files of
            // other months may commit in any order: the map keeps each crime's latest month.
            let kept = match building.as_mut() {
                Some(known) if replaced.is_none() => {
                    let added = known.map.add(&self.staged);
                    known.ours.push(import_id);
                    added
                }
                _ => false,
            };
            if !kept {
                *building = None;
            }
        }
        self.forget();
        Ok(())
    }

    async fn rollback(&mut self) {
        self.forget();
        // Harmless when no transaction is open (the server only warns).
        if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut *self.conn).await {
            tracing::warn!("rolling back a police import: {e}");
        }
    }
}

/// The write-ahead log's insert and flush positions (bytes from its start).
const WAL_POSITIONS: &str = "SELECT CAST(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0') AS BIGINT), \
     CAST(pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0') AS BIGINT)";

/// How long the end of a run waits for the server to flush its log before giving up on
/// confirming the results it holds (the server flushes within three `wal_writer_delay`s).
const FLUSH_WAIT: Duration = Duration::from_secs(30);

/// Files' results held back until the write-ahead log is on disk past what they acknowledge.
///
/// Every file but the run's last commits with `synchronous_commit = off`: the commit returns
/// without waiting for the disk, and the server's log writer flushes it within a fraction of a
/// second, while the run goes on with the next file (each commit's wait for the disk was 7 to
/// 30 ms). That alone would be unacceptable: a crash of the server (or of the machine) before the
/// flush would lose a file the run had already reported as imported. So no result is reported
/// (to the progress callback or the caller) before the log is on disk past the file's commit:
/// after each file the run reads the log's insert and flush positions, and reports, in the order
/// the files were imported, the results the flush position covers. The run's last file commits
/// synchronously, which flushes every commit before it; a run whose last file imported nothing
/// waits for the log writer. An `unchanged` result is held likewise (the import it names may be
/// another run's, committed but not yet on disk); a failure acknowledges nothing and waits only
/// for the results before it. A crash can lose only imports never reported, which is what it can
/// do to a synchronous commit under way; each file is still one transaction.
#[derive(Default)]
struct Held {
    /// (file index, result, log position the result needs on disk: 0 for none), oldest first.
    queue: std::collections::VecDeque<(usize, Result<ImportOutcome, DbError>, i64)>,
    /// The flush position last read.
    flushed: i64,
    /// Why the log's position could not be read, when it could not.
    lost: Option<String>,
}

impl Held {
    /// Holds a file's result (committed durably when `durable`).
    async fn push(
        &mut self,
        conn: &mut PgConnection,
        index: usize,
        result: Result<ImportOutcome, DbError>,
        durable: bool,
    ) {
        let needs_flush = match &result {
            Ok(ImportOutcome::Imported { .. }) => !durable,
            Ok(ImportOutcome::Unchanged { .. }) => true,
            _ => false,
        };
        let mut needs = 0;
        if needs_flush || !self.queue.is_empty() {
            // Unknown position: never covered, so reported as unconfirmed.
            let insert = self.positions(conn).await.map_or(i64::MAX, |(insert, _)| insert);
            if needs_flush {
                needs = insert;
            }
        }
        self.queue.push_back((index, result, needs));
    }

    /// Reads the log's positions, remembering the flush position (or why it could not).
    async fn positions(&mut self, conn: &mut PgConnection) -> Option<(i64, i64)> {
        if self.lost.is_some() {
            return None;
        }
        let read = async {
            let row = sqlx::query(WAL_POSITIONS).fetch_one(&mut *conn).await?;
            Ok::<_, sqlx::Error>((row.try_get::<i64, _>(0)?, row.try_get::<i64, _>(1)?))
        };
        match read.await {
            Ok((insert, flush)) => {
                self.flushed = self.flushed.max(flush);
                Some((insert, flush))
            }
            Err(e) => {
                self.lost = Some(e.to_string());
                None
            }
        }
    }

    /// Reports the results the log on disk covers, in order; with `all`, waits for the log
    /// writer until every result is covered. A result whose flush cannot be confirmed (the
    /// connection failed) is reported as an error: the file may or may not have been kept.
    async fn release(&mut self, conn: &mut PgConnection, all: bool, report: &Report<'_>) {
        let waiting_since = Instant::now();
        loop {
            while let Some((_, _, needs)) = self.queue.front() {
                if *needs > self.flushed && self.lost.is_none() {
                    break;
                }
                let Some((index, result, needs)) = self.queue.pop_front() else { break };
                match (&self.lost, result) {
                    (Some(why), Ok(_)) if needs > self.flushed => {
                        report(index, Err(DbError::Task(format!("the import could not be confirmed stored: {why}"))))
                    }
                    (_, result) => report(index, result),
                }
            }
            if !all || self.queue.is_empty() {
                return;
            }
            if waiting_since.elapsed() > FLUSH_WAIT {
                self.lost = Some("the server did not flush its log".into());
                continue;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.positions(conn).await;
        }
    }
}

/// A file being checksummed and parsed on blocking threads, ahead of its turn.
struct Prepared {
    checksum: tokio::sync::oneshot::Receiver<Result<String, alliance_ingest::IngestError>>,
    parser: tokio::task::JoinHandle<()>,
    rows: mpsc::Receiver<Message>,
}

/// Reads the file once (see [`SourceFile::in_memory_when_small`]), hands its checksum over,
/// then parses it.
fn prepare(file: &SourceFile) -> Prepared {
    let (tx_checksum, checksum) = tokio::sync::oneshot::channel();
    // At most eight batches of a file wait for the writer.
    let (tx_rows, rows) = mpsc::channel::<Message>(8);
    let parser = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            let file = match file.in_memory_when_small(super::READ_WHOLE_BYTES) {
                Ok(file) => file,
                Err(e) => {
                    let _ = tx_checksum.send(Err(e));
                    return;
                }
            };
            let summed = file.checksum();
            let parse = summed.is_ok();
            if tx_checksum.send(summed).is_ok() && parse {
                parse_into(&file, None, |m| tx_rows.blocking_send(m).is_ok());
            }
        })
    };
    Prepared { checksum, parser, rows }
}

/// The files one worker takes its turn at, shared by the workers of a phase: each takes the
/// next file in order when it starts one.
struct Queue<'f> {
    order: &'f [usize],
    taken: std::sync::atomic::AtomicUsize,
}

impl<'f> Queue<'f> {
    fn new(order: &'f [usize]) -> Queue<'f> {
        Queue { order, taken: std::sync::atomic::AtomicUsize::new(0) }
    }

    fn take(&self) -> Option<usize> {
        self.order.get(self.taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed)).copied()
    }
}

/// Where a worker reports a file's result once it is durable ([`Held`]).
type Report<'r> = dyn Fn(usize, Result<ImportOutcome, DbError>) + Sync + 'r;

/// Imports the files `queue` hands this worker, one transaction each, preparing its next file
/// while it writes this one, and reports each result once it is durable.
async fn work(
    store: &mut PgStore<'_, '_>,
    files: &[SourceFile],
    queue: &Queue<'_>,
    by: By<'_>,
    on_progress: &(dyn Fn(RunProgress) + Send + Sync),
    report: &Report<'_>,
) {
    let mut held = Held::default();
    let mut next = queue.take().map(|i| (i, prepare(&files[i])));
    while let Some((index, Prepared { checksum, parser, mut rows })) = next.take() {
        next = queue.take().map(|i| (i, prepare(&files[i])));
        let file = &files[index];
        // A worker's last file commits synchronously, flushing the log of every file before it.
        store.durable_commit = next.is_none();
        let result = async {
            let checksum = checksum.await.map_err(|e| DbError::Task(e.to_string()))??;
            per_file::import_file(store, &mut rows, file, &checksum, by, &|n| {
                on_progress(RunProgress::Rows { index, rows: n })
            })
            .await
        }
        .await;
        // An unchanged or failed file's parser stops when its channel closes.
        drop(rows);
        let result = match parser.await {
            Err(e) if result.is_ok() => Err(DbError::Task(e.to_string())),
            _ => result,
        };
        held.push(store.conn, index, result, store.durable_commit).await;
        held.release(store.conn, false, report).await;
    }
    held.release(store.conn, true, report).await;
}

/// Imports `files` on connections of the run's own, each file in its own transaction,
/// reporting progress and results through `on_progress` (by the file's index in `files`) and
/// returning the results in the order given.
///
/// As on SQLite, every outcomes file goes first, in month order, and only then the street
/// files, so that a street file's crimes take their latest outcome as they go in instead of
/// being rewritten by the outcomes files that follow. The result is the same in any order
/// (`outcomes.rs`); only the work differs. Files go [`WORKERS`] at a time, one a connection
/// (see there). Street files never read or write each other's rows. Outcomes files do,
/// through the refresh of the crimes they name, so they go several at a time only while no
/// crime is stored (no refresh to run; a crime's latest outcome is by month, and by row id
/// only among one file's rows of a month) or while a large run queues their refreshes for one
/// statement after them, else one after another. Row ids then interleave
/// between files, which nothing else reads an order into. Each worker checksums and parses its next file while it writes this one, and reports
/// files as their results become durable ([`Held`]).
pub(super) async fn import_run(
    url: &str,
    files: &[SourceFile],
    by: By<'_>,
    on_progress: &(dyn Fn(RunProgress) + Send + Sync),
) -> Result<Vec<Result<ImportOutcome, DbError>>, DbError> {
    let run_started = Instant::now();
    let mut conn = connect(url).await?;
    let order = run_order(files);
    let outcomes_files = order.iter().take_while(|&&i| is_outcomes_file(&files[i])).count();
    let (outcomes_order, street_order) = order.split_at(outcomes_files);
    let stored = crimes_stored(&mut conn).await?;
    let bulk = pg_deferred::begin(&mut conn, files).await?;
    // A bulk run into stored crimes queues its outcomes files' refreshes and applies them in one
    // statement once all are in: refreshed file by file, one after another, the 20 M national
    // set took 452 s into a database holding the demo data against 170 s into an empty one.
    let queue_refreshes = bulk && stored && !outcomes_order.is_empty();
    let results: std::sync::Mutex<Vec<Option<Result<ImportOutcome, DbError>>>> =
        std::sync::Mutex::new((0..files.len()).map(|_| None).collect());
    let report = |index: usize, result: Result<ImportOutcome, DbError>| {
        on_progress(RunProgress::Finished { index, result: &result });
        if let Some(slot) = results.lock().unwrap_or_else(|e| e.into_inner()).get_mut(index) {
            *slot = Some(result);
        }
    };
    // With no crime stored, or their refreshes queued, the outcomes files refresh nothing, so
    // they too go several at a time (each crime's latest outcome is by month, then by row id
    // within one file, whatever the order files commit in); otherwise one after another. (With
    // no crime stored, one replacing an earlier import refreshes at once, in turn under the
    // refresh lock: it finds no crime to update.)
    let parallel_outcomes = outcomes_order.len() > 1 && (!stored || queue_refreshes);
    // Nor do they need the outcomes' Crime ID index then: a bulk run builds it after them. With
    // crimes stored it was kept until the twelfth session's queue covered replacements too: the
    // national set's outcomes files then took 110 s into the demo database against 61 s (with
    // the build) into an empty one (`BENCHMARKS-import.md`, thirteenth session).
    let outcomes_index_deferred = bulk && parallel_outcomes;
    if outcomes_index_deferred {
        pg_deferred::defer_outcomes_index(&mut conn).await?;
    }
    // Connections beyond the first that cannot be opened leave the files to those that were.
    let mut extra: Vec<PgConnection> = Vec::new();
    if parallel_outcomes || street_order.len() > 1 {
        for _ in 1..WORKERS {
            match connect(url).await {
                Ok(conn) => extra.push(conn),
                Err(e) => {
                    tracing::warn!("importing the police files on {} connection(s): {e}", 1 + extra.len());
                    break;
                }
            }
        }
    }
    // The map of latest outcomes is built only when street files can read it.
    let building: Building = std::sync::Mutex::new(match (outcomes_order.is_empty(), street_order.is_empty()) {
        (false, false) => PgKnown::start(&mut conn).await?,
        _ => None,
    });
    let outcomes = Queue::new(outcomes_order);
    let outcomes_timings = {
        let helpers = if parallel_outcomes { extra.len() } else { 0 };
        let mut stores: Vec<PgStore> = std::iter::once(&mut conn)
            .chain(extra.iter_mut().take(helpers))
            .map(|c| PgStore { queue_refresh: queue_refreshes, ..PgStore::new(c, Known::Building(&building)) })
            .collect();
        join_all(stores.iter_mut().map(|store| work(store, files, &outcomes, by, on_progress, &report))).await;
        total_timings(&stores, Timings::default())
    };
    let known = building.into_inner().unwrap_or_else(|e| e.into_inner());
    if queue_refreshes {
        // The queued refreshes read the outcomes by Crime ID: the index first.
        if outcomes_index_deferred {
            rebuild_outcomes_index(&mut conn).await?;
        }
        let started = Instant::now();
        outcomes::apply_queued(&mut conn).await?;
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "queued outcome refreshes applied");
    }
    let reading = || known.as_ref().map_or(Known::Off, Known::Reading);
    // Street files read the outcomes' Crime ID index only to look up what the map cannot
    // answer. With the map kept, the first connection builds the index while the others begin
    // the street files (CREATE INDEX blocks writes to the outcomes only), then joins them; a
    // street file that finds the map no longer complete meanwhile reads the outcomes without
    // the index, slower but the same. Without the map, the index is built before them.
    let index_owed = outcomes_index_deferred && !queue_refreshes;
    let build_beside = index_owed && known.is_some() && !extra.is_empty();
    if index_owed && !build_beside {
        rebuild_outcomes_index(&mut conn).await?;
    }
    let street = Queue::new(street_order);
    let first = async {
        if build_beside {
            rebuild_outcomes_index(&mut conn).await?;
        }
        let mut store = PgStore::new(&mut conn, reading());
        work(&mut store, files, &street, by, on_progress, &report).await;
        Ok::<_, DbError>(std::mem::take(&mut store.timings))
    };
    let mut others: Vec<PgStore> = extra.iter_mut().map(|c| PgStore::new(c, reading())).collect();
    let others_done = join_all(others.iter_mut().map(|store| work(store, files, &street, by, on_progress, &report)));
    let (first, _) = tokio::join!(first, others_done);
    let t = total_timings(&others, outcomes_timings.plus(&first?));
    drop(others);
    for conn in extra {
        // Every file's transaction on it has ended.
        let _ = conn.close().await;
    }
    let finishing = Instant::now();
    if bulk {
        pg_deferred::finish(&mut conn, url).await?;
    }
    tracing::debug!(
        files = files.len(),
        bulk,
        outcomes_map = known.is_some(),
        parallel_outcomes,
        rebuild_ms = finishing.elapsed().as_millis() as u64,
        total_ms = run_started.elapsed().as_millis() as u64,
        copy_ms = t.copy.as_millis() as u64,
        lookup_ms = t.lookup.as_millis() as u64,
        replace_and_refresh_ms = t.replace.as_millis() as u64,
        other_statements_ms = t.other.as_millis() as u64,
        commit_ms = t.commit.as_millis() as u64,
        "PostgreSQL police import run (times summed over its connections)"
    );
    // Every file's transaction has ended; a failure to say goodbye changes nothing.
    let _ = conn.close().await;
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.ok_or_else(|| DbError::Task("the import did not report every file".into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::CopyText;

    fn row(write: impl FnOnce(&mut CopyText)) -> String {
        let mut out = CopyText::new();
        write(&mut out);
        out.end_row();
        String::from_utf8_lossy(out.as_bytes()).into_owned()
    }

    #[test]
    fn escapes_the_characters_that_end_a_column_or_row() {
        assert_eq!(row(|o| o.text("a\tb\nc\\d\re")), "a\\tb\\nc\\\\d\\re\n");
        // A lone backslash-period would read as the end-of-data marker; escaped it cannot.
        assert_eq!(row(|o| o.text("\\.")), "\\\\.\n");
    }

    #[test]
    fn quotes_and_non_ascii_text_go_through_unchanged() {
        assert_eq!(row(|o| o.text("\"On or near O'Brien's\", Café ✓")), "\"On or near O'Brien's\", Café ✓\n");
    }

    #[test]
    fn null_differs_from_an_empty_string() {
        assert_eq!(row(|o| o.opt_text(None)), "\\N\n");
        assert_eq!(row(|o| o.opt_text(Some(""))), "\n");
        assert_eq!(
            row(|o| {
                o.opt_text(Some(""));
                o.opt_text(None);
                o.text("");
            }),
            "\t\\N\t\n"
        );
    }

    #[test]
    fn numbers_read_back_as_the_same_values() {
        let text = row(|o| {
            o.plain(42_i64);
            o.opt_int(Some(-7));
            o.opt_int(None);
            o.opt_double(Some(-0.134_697));
            o.opt_double(Some(51.507_351));
            o.opt_double(None);
            o.opt_double(Some(f64::INFINITY));
            o.opt_double(Some(f64::NAN));
        });
        assert_eq!(text, "42\t-7\t\\N\t-0.134697\t51.507351\t\\N\tInfinity\tNaN\n");
    }

    #[test]
    fn rows_are_separated_by_newlines() {
        let mut out = CopyText::new();
        out.text("a");
        out.plain(1);
        out.end_row();
        out.text("b");
        out.null();
        out.end_row();
        assert_eq!(out.as_bytes(), b"a\t1\nb\t\\N\n");
        out.clear();
        assert_eq!(out.as_bytes(), b"");
    }
}
