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

use alliance_core::domain::PoliceFileKind;
use alliance_ingest::SourceFile;
use sqlx::postgres::PgArguments;
use sqlx::{Connection, PgConnection, Postgres, Row};
use tokio::sync::mpsc;

use super::per_file::{self, Arg, By, PoliceStore};
use super::{outcomes, parse_into, Batch, Message, RunProgress};
use crate::imports::{ImportCounts, ImportOutcome};
use crate::{Backend, DbError};

const COPY_CRIMES: &str = "COPY police_crimes (import_id, crime_id, crime_key, month, longitude, latitude, location, \
     lsoa_code, crime_type, street_outcome, outcome) FROM STDIN";
const COPY_OUTCOMES: &str =
    "COPY police_outcomes (import_id, crime_id, crime_key, month, lsoa_code, outcome_type) FROM STDIN";

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

/// Writes a batch's rows in the column order of [`COPY_CRIMES`] or [`COPY_OUTCOMES`]. The
/// columns mean what they mean on SQLite (`sqlite_bulk.rs`): `outcome` starts as the street
/// file's last outcome and `outcome_month` is left NULL, both set by the refresh that follows.
fn encode(batch: &Batch, import_id: i64, out: &mut CopyText) {
    match batch {
        Batch::Street(rows, keys) => {
            for (c, key) in rows.iter().zip(keys) {
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
                out.opt_text(c.last_outcome.as_deref());
                out.end_row();
            }
        }
        Batch::Outcomes(rows, keys) => {
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
    }
}

/// Flush the rows gathered to the server by one `COPY` when they reach this size.
const COPY_CHUNK_BYTES: usize = 1024 * 1024;

/// The PostgreSQL [`PoliceStore`]: the run's own connection, on which each file's
/// transaction is begun and ended by statements (so no borrow of the connection outlives a
/// call). Rows are gathered in `COPY` text and sent by one `COPY` per few megabytes.
struct PgStore<'c> {
    conn: &'c mut PgConnection,
    rows: CopyText,
    /// The `COPY` statement of the rows gathered (street or outcomes).
    copy: &'static str,
}

impl PgStore<'_> {
    async fn flush(&mut self) -> Result<(), DbError> {
        if self.rows.as_bytes().is_empty() {
            return Ok(());
        }
        let mut copy = self.conn.copy_in_raw(self.copy).await?;
        if let Err(e) = copy.send(self.rows.as_bytes()).await {
            // End the COPY so the connection can roll back; its own error would hide the cause.
            let _ = copy.abort(e.to_string()).await;
            return Err(e.into());
        }
        copy.finish().await?;
        self.rows.clear();
        Ok(())
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
        self.rows.clear();
        sqlx::raw_sql("BEGIN").execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, DbError> {
        Ok(bind_args(sqlx::query(sql), args).execute(&mut *self.conn).await?.rows_affected())
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
        encode(&batch, import_id, &mut self.rows);
        if self.rows.as_bytes().len() >= COPY_CHUNK_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    async fn end_rows(&mut self) -> Result<(), DbError> {
        self.flush().await
    }

    async fn replace(&mut self, kind: PoliceFileKind, import_id: i64, replaced: Option<i64>) -> Result<i64, DbError> {
        let mut counts = ImportCounts::default();
        match kind {
            PoliceFileKind::Street => {
                if let Some(old) = replaced {
                    counts.rows_replaced = outcomes::delete_rows(self.conn, "police_crimes", old).await?;
                }
                outcomes::refresh_for_street_import(self.conn, import_id).await?;
            }
            PoliceFileKind::Outcomes => {
                outcomes::refresh_for_outcomes_import(self.conn, import_id, replaced, &mut counts).await?;
            }
        }
        Ok(counts.rows_replaced)
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        sqlx::raw_sql("COMMIT").execute(&mut *self.conn).await?;
        Ok(())
    }

    async fn rollback(&mut self) {
        self.rows.clear();
        // Harmless when no transaction is open (the server only warns).
        if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut *self.conn).await {
            tracing::warn!("rolling back a police import: {e}");
        }
    }
}

/// Imports `files` in order on one connection of the run's own, each file in its own
/// transaction, reporting progress and results through `on_progress`.
pub(super) async fn import_run(
    url: &str,
    files: &[SourceFile],
    by: By<'_>,
    on_progress: &(dyn Fn(RunProgress) + Send + Sync),
) -> Result<Vec<Result<ImportOutcome, DbError>>, DbError> {
    let mut conn = PgConnection::connect(url).await?;
    let mut store = PgStore { conn: &mut conn, rows: CopyText::new(), copy: COPY_CRIMES };
    let mut results = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let result = async {
            let checksum = {
                let file = file.clone();
                tokio::task::spawn_blocking(move || file.checksum())
                    .await
                    .map_err(|e| DbError::Task(e.to_string()))??
            };
            let (tx_rows, mut rx) = mpsc::channel::<Message>(8);
            let parser = {
                let file = file.clone();
                tokio::task::spawn_blocking(move || parse_into(&file, |m| tx_rows.blocking_send(m).is_ok()))
            };
            let outcome = per_file::import_file(&mut store, &mut rx, file, &checksum, by, &|rows| {
                on_progress(RunProgress::Rows { index, rows })
            })
            .await;
            // An unchanged or failed file's parser stops when its channel closes.
            drop(rx);
            parser.await.map_err(|e| DbError::Task(e.to_string()))?;
            outcome
        }
        .await;
        on_progress(RunProgress::Finished { index, result: &result });
        results.push(result);
    }
    // Every file's transaction has ended; a failure to say goodbye changes nothing.
    let _ = conn.close().await;
    Ok(results)
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
