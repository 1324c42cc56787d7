//! The PostgreSQL [`PoliceStore`] of the police import (the algorithm is `per_file.rs`'s), over
//! a dedicated `PgConnection`, with rows sent by `COPY … FROM STDIN` instead of multi-row
//! `INSERT`s.
//!
//! `COPY` skips parsing, planning and binding a statement per thousand rows: the server only
//! splits lines and converts text. `sqlx`'s `Any` driver has no `COPY`, so a run opens one
//! `PgConnection` of its own (as the SQLite path opens one `rusqlite` connection), and every
//! statement of a file's transaction (the provenance row, the `COPY`s, the replacement of an
//! earlier import, the outcome refresh, the counts, the audit row) runs on it, so a failure
//! anywhere rolls the whole file back.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use alliance_core::domain::PoliceFileKind;
use alliance_ingest::SourceFile;
use sqlx::postgres::PgArguments;
use sqlx::{Connection, PgConnection, Postgres, Row};
use tokio::sync::mpsc;

use super::per_file::{self, Arg, By, PoliceStore};
use super::{outcomes, parse_into, pg_deferred, Batch, Message, RunProgress};
use crate::imports::{ImportCounts, ImportOutcome};
use crate::{Backend, DbError};

/// The staging tables a file's rows are sent to by `COPY`: temporary (never written to the
/// write-ahead log), without indexes, constraints or triggers, emptied at every commit. One
/// `INSERT … SELECT` then moves a file's rows into the police tables, numbered `n` in the
/// order of the file, street rows taking their latest outcome on the way ([`MOVE_CRIMES`]).
const CREATE_STAGING: &str = "\
    CREATE TEMPORARY TABLE IF NOT EXISTS police_crimes_staging (n BIGINT NOT NULL, crime_id TEXT, crime_key BIGINT, \
        month TEXT NOT NULL, longitude DOUBLE PRECISION, latitude DOUBLE PRECISION, location TEXT NOT NULL, \
        lsoa_code TEXT, crime_type TEXT NOT NULL, street_outcome TEXT) ON COMMIT DELETE ROWS; \
    CREATE TEMPORARY TABLE IF NOT EXISTS police_outcomes_staging (n BIGINT NOT NULL, crime_id TEXT NOT NULL, \
        crime_key BIGINT NOT NULL, month TEXT NOT NULL, lsoa_code TEXT, outcome_type TEXT NOT NULL) ON COMMIT DELETE ROWS";
const COPY_CRIMES: &str = "COPY police_crimes_staging (n, crime_id, crime_key, month, longitude, latitude, location, \
     lsoa_code, crime_type, street_outcome) FROM STDIN";
const COPY_OUTCOMES: &str =
    "COPY police_outcomes_staging (n, crime_id, crime_key, month, lsoa_code, outcome_type) FROM STDIN";

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

/// Writes a batch's rows in the column order of [`COPY_CRIMES`] or [`COPY_OUTCOMES`], numbering
/// them from `*n` on. The columns mean what they mean on SQLite (`sqlite_bulk.rs`); a crime's
/// `outcome` and `outcome_month` are set as it leaves the staging table.
fn encode(batch: &Batch, n: &mut i64, out: &mut CopyText) {
    match batch {
        Batch::Street(rows, keys) => {
            for (c, key) in rows.iter().zip(keys) {
                *n += 1;
                out.plain(*n);
                out.opt_text(c.crime_id.as_deref());
                out.opt_int(*key);
                out.plain(c.month);
                out.opt_double(c.location.map(|l| l.0));
                out.opt_double(c.location.map(|l| l.1));
                out.text(&c.location_description);
                out.opt_text(c.lsoa_code.as_ref().map(|l| l.as_str()));
                out.text(&c.crime_type);
                out.opt_text(c.last_outcome.as_deref());
                out.end_row();
            }
        }
        Batch::Outcomes(rows, keys) => {
            for (o, key) in rows.iter().zip(keys) {
                *n += 1;
                out.plain(*n);
                out.text(&o.crime_id);
                out.plain(key);
                out.plain(o.month);
                out.opt_text(o.lsoa_code.as_ref().map(|l| l.as_str()));
                out.text(&o.outcome_type);
                out.end_row();
            }
        }
    }
}

/// Flush the rows gathered to the server by one `COPY` when they reach this size.
const COPY_CHUNK_BYTES: usize = 1024 * 1024;

/// Moves a street file's rows from staging into `police_crimes` (`$1`: the import's id), each
/// crime taking its latest outcome on the way: the outcome of the latest month recorded for its
/// Crime ID in the outcomes files (the last row of that month), or else the street file's. The
/// latest outcomes of the file's crimes are found by one sort (`DISTINCT ON`) of their outcomes,
/// so no crime row is written twice (a refresh after the insert rewrote the row and every index
/// entry of each crime with an outcome).
const MOVE_CRIMES: &str = "\
    INSERT INTO police_crimes (import_id, crime_id, crime_key, month, longitude, latitude, location, lsoa_code, \
        crime_type, street_outcome, outcome, outcome_month) \
    SELECT $1, s.crime_id, s.crime_key, s.month, s.longitude, s.latitude, s.location, s.lsoa_code, s.crime_type, \
        s.street_outcome, COALESCE(l.outcome_type, s.street_outcome), l.month \
    FROM police_crimes_staging s LEFT JOIN ( \
        SELECT DISTINCT ON (o.crime_key, o.crime_id) o.crime_key, o.crime_id, o.outcome_type, o.month \
        FROM police_outcomes o \
        WHERE o.crime_key IN (SELECT crime_key FROM police_crimes_staging WHERE crime_key IS NOT NULL) \
        ORDER BY o.crime_key, o.crime_id, o.month DESC, o.id DESC) l \
      ON l.crime_key = s.crime_key AND l.crime_id = s.crime_id \
    ORDER BY s.n";

/// Moves an outcomes file's rows from staging into `police_outcomes` (`$1`: the import's id).
const MOVE_OUTCOMES: &str = "\
    INSERT INTO police_outcomes (import_id, crime_id, crime_key, month, lsoa_code, outcome_type) \
    SELECT $1, crime_id, crime_key, month, lsoa_code, outcome_type FROM police_outcomes_staging ORDER BY n";

/// Time spent in each step of a run, logged at debug level when the run ends.
#[derive(Default)]
struct Timings {
    copy: Duration,
    moving: Duration,
    replace: Duration,
    commit: Duration,
    other: Duration,
}

/// The PostgreSQL [`PoliceStore`]: the run's own connection, on which each file's
/// transaction is begun and ended by statements (so no borrow of the connection outlives a
/// call). Rows are gathered in `COPY` text, sent to a staging table by one `COPY` per megabyte,
/// and moved into the police tables by one statement when the file ends.
struct PgStore<'c> {
    conn: &'c mut PgConnection,
    rows: CopyText,
    /// The `COPY` statement of the rows gathered (street or outcomes).
    copy: &'static str,
    /// The import whose rows are staged (none before the file's first batch), and how many.
    staged: Option<i64>,
    n: i64,
    timings: Timings,
}

impl PgStore<'_> {
    async fn flush(&mut self) -> Result<(), DbError> {
        if self.rows.as_bytes().is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let mut copy = self.conn.copy_in_raw(self.copy).await?;
        if let Err(e) = copy.send(self.rows.as_bytes()).await {
            // End the COPY so the connection can roll back; its own error would hide the cause.
            let _ = copy.abort(e.to_string()).await;
            return Err(e.into());
        }
        copy.finish().await?;
        self.rows.clear();
        self.timings.copy += started.elapsed();
        Ok(())
    }

    /// Forgets the staged rows (the staging tables empty themselves when the transaction ends).
    fn forget(&mut self) {
        self.rows.clear();
        self.staged = None;
        self.n = 0;
    }
}

fn bind_args<'q>(
    mut q: sqlx::query::Query<'q, Postgres, PgArguments>,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    for a in args {
        q = match *a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::OptText(v) => q.bind(v),
        };
    }
    q
}

impl PoliceStore for PgStore<'_> {
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
        self.copy = match batch {
            Batch::Street(..) => COPY_CRIMES,
            Batch::Outcomes(..) => COPY_OUTCOMES,
        };
        self.staged = Some(import_id);
        encode(&batch, &mut self.n, &mut self.rows);
        if self.rows.as_bytes().len() >= COPY_CHUNK_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn end_rows(&mut self) -> Result<(), DbError> {
        self.flush().await?;
        let Some(import_id) = self.staged else { return Ok(()) };
        let started = Instant::now();
        let sql = if self.copy == COPY_CRIMES { MOVE_CRIMES } else { MOVE_OUTCOMES };
        let moved = sqlx::query(sql).bind(import_id).execute(&mut *self.conn).await?.rows_affected();
        self.timings.moving += started.elapsed();
        if moved != self.n as u64 {
            return Err(DbError::Task(format!("{moved} of {} staged police rows were stored", self.n)));
        }
        Ok(())
    }

    async fn replace(&mut self, kind: PoliceFileKind, import_id: i64, replaced: Option<i64>) -> Result<i64, DbError> {
        let started = Instant::now();
        let mut counts = ImportCounts::default();
        match kind {
            // The crimes took their latest outcomes as they went in (`MOVE_CRIMES`).
            PoliceFileKind::Street => {
                if let Some(old) = replaced {
                    counts.rows_replaced = outcomes::delete_rows(self.conn, "police_crimes", old).await?;
                }
            }
            PoliceFileKind::Outcomes => {
                outcomes::refresh_for_outcomes_import(self.conn, import_id, replaced, &mut counts).await?;
            }
        }
        self.timings.replace += started.elapsed();
        Ok(counts.rows_replaced)
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        let started = Instant::now();
        sqlx::raw_sql("COMMIT").execute(&mut *self.conn).await?;
        self.timings.commit += started.elapsed();
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

/// A file being checksummed and parsed on blocking threads, ahead of its turn.
struct Prepared {
    checksum: tokio::task::JoinHandle<Result<String, alliance_ingest::IngestError>>,
    parser: tokio::task::JoinHandle<()>,
    rows: mpsc::Receiver<Message>,
}

fn prepare(file: &SourceFile) -> Prepared {
    let checksum = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || file.checksum())
    };
    // At most eight batches of a file wait for the writer.
    let (tx_rows, rows) = mpsc::channel::<Message>(8);
    let parser = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || parse_into(&file, |m| tx_rows.blocking_send(m).is_ok()))
    };
    Prepared { checksum, parser, rows }
}

/// Imports `files` on one connection of the run's own, each file in its own transaction,
/// reporting progress and results through `on_progress` (by the file's index in `files`) and
/// returning the results in the order given.
///
/// As on SQLite, outcomes files go first and then street files by month (data.police.uk names
/// start with it), so that a street file's crimes take their latest outcome as they go in
/// instead of being rewritten by the outcomes files that follow. The result is the same in any
/// order (`outcomes.rs`); only the work differs. The next file is checksummed and parsed while
/// this one is written.
pub(super) async fn import_run(
    url: &str,
    files: &[SourceFile],
    by: By<'_>,
    on_progress: &(dyn Fn(RunProgress) + Send + Sync),
) -> Result<Vec<Result<ImportOutcome, DbError>>, DbError> {
    let run_started = Instant::now();
    let mut conn = PgConnection::connect(url).await?;
    sqlx::raw_sql(CREATE_STAGING).execute(&mut conn).await?;
    let bulk = pg_deferred::begin(&mut conn, files).await?;
    let mut store = PgStore {
        conn: &mut conn,
        rows: CopyText::new(),
        copy: COPY_CRIMES,
        staged: None,
        n: 0,
        timings: Timings::default(),
    };
    let is_outcomes = |f: &SourceFile| f.logical_name().ends_with("-outcomes.csv");
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| (!is_outcomes(&files[i]), files[i].logical_name().get(..7).unwrap_or_default().to_string()));
    let mut results: Vec<Option<Result<ImportOutcome, DbError>>> = (0..files.len()).map(|_| None).collect();
    let mut next = order.first().map(|&i| prepare(&files[i]));
    for (at, &index) in order.iter().enumerate() {
        let Some(Prepared { checksum, parser, mut rows }) = next.take() else { break };
        next = order.get(at + 1).map(|&i| prepare(&files[i]));
        let file = &files[index];
        let result = async {
            let checksum = checksum.await.map_err(|e| DbError::Task(e.to_string()))??;
            per_file::import_file(&mut store, &mut rows, file, &checksum, by, &|n| {
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
        on_progress(RunProgress::Finished { index, result: &result });
        results[index] = Some(result);
    }
    let t = &store.timings;
    let finishing = Instant::now();
    if bulk {
        pg_deferred::finish(store.conn).await?;
    }
    tracing::debug!(
        files = files.len(),
        bulk,
        rebuild_ms = finishing.elapsed().as_millis() as u64,
        total_ms = run_started.elapsed().as_millis() as u64,
        copy_ms = t.copy.as_millis() as u64,
        move_ms = t.moving.as_millis() as u64,
        replace_and_refresh_ms = t.replace.as_millis() as u64,
        other_statements_ms = t.other.as_millis() as u64,
        commit_ms = t.commit.as_millis() as u64,
        "PostgreSQL police import run"
    );
    // Every file's transaction has ended; a failure to say goodbye changes nothing.
    let _ = conn.close().await;
    results.into_iter().map(|r| r.ok_or_else(|| DbError::Task("the import did not report every file".into()))).collect()
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
