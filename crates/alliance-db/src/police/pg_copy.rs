//! PostgreSQL import of one police file over a dedicated `PgConnection`, with rows sent by
//! `COPY … FROM STDIN` instead of multi-row `INSERT`s.
//!
//! `COPY` skips parsing, planning and binding a statement per thousand rows: the server only
//! splits lines and converts text. `sqlx`'s `Any` driver has no `COPY`, so a run opens one
//! `PgConnection` of its own (as the SQLite path opens one `rusqlite` connection), and every
//! statement of a file's transaction (the provenance row, the `COPY`, the replacement of an
//! earlier import, the outcome refresh, the counts) runs on it, so a failure anywhere rolls
//! the whole file back.

use std::fmt::Write as _;

use alliance_core::domain::PoliceFileKind;
use alliance_ingest::SourceFile;
use sqlx::{Connection, PgConnection, Row};
use tokio::sync::mpsc;

use super::{outcomes, parse_into, Batch, Message};
use crate::imports::{ImportCounts, ImportOutcome, NewImport, FINISH_IMPORT_SQL, INSERT_IMPORT_SQL, SUPERSEDE_SQL};
use crate::{Db, DbError};

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

/// Records a new import inside the file's transaction and returns its id (the statement of
/// `imports::begin_import`, on this connection).
async fn begin_import(conn: &mut PgConnection, import: &NewImport<'_>) -> Result<i64, DbError> {
    let row = sqlx::query(INSERT_IMPORT_SQL)
        .bind(import.source)
        .bind(import.kind)
        .bind(import.unit)
        .bind(import.force)
        .bind(import.month)
        .bind(import.file_name)
        .bind(import.checksum)
        .bind(import.imported_by)
        .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

/// Fills in the counts and marks the replaced import superseded (the statements of
/// `imports::finish_import`, on this connection).
async fn finish_import(
    conn: &mut PgConnection,
    id: i64,
    counts: ImportCounts,
    replaces: Option<i64>,
) -> Result<(), DbError> {
    sqlx::query(FINISH_IMPORT_SQL)
        .bind(counts.rows_read)
        .bind(counts.rows_added)
        .bind(counts.rows_replaced)
        .bind(counts.rows_without_location)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if let Some(old) = replaces {
        sqlx::query(SUPERSEDE_SQL).bind(id).bind(old).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Imports one file in one transaction on `conn`. `checksum` is the file's SHA-256; the
/// current import of the unit is read through the pool, as it is outside the transaction.
pub(super) async fn import_file(
    db: &Db,
    conn: &mut PgConnection,
    file: &SourceFile,
    checksum: &str,
    who: &str,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportOutcome, DbError> {
    let (tx_rows, mut rx) = mpsc::channel::<Message>(8);
    let parser = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || parse_into(&file, |m| tx_rows.blocking_send(m).is_ok()))
    };
    let unit = match rx.recv().await {
        Some(Message::Unit(unit)) => unit,
        Some(Message::Failed(e)) => return Err(e.into()),
        _ => return Err(DbError::Task("the police file parser stopped without a result".into())),
    };
    let key = unit.key();
    let current = db.current_import(&key).await?;
    if let Some(current) = current.as_ref().filter(|c| c.checksum == checksum) {
        drop(rx);
        let _ = parser.await;
        return Ok(ImportOutcome::Unchanged { import_id: current.id, unit: key });
    }

    let mut tx = conn.begin().await?;
    let month = unit.month.to_string();
    let import_id = begin_import(
        &mut tx,
        &NewImport {
            source: "police",
            kind: unit.kind.as_str(),
            unit: &key,
            force: Some(unit.force.as_str()),
            month: Some(&month),
            file_name: &file.name,
            checksum,
            imported_by: who,
        },
    )
    .await?;
    let mut counts = ImportCounts::default();
    let mut rows = CopyText::new();
    let mut copy = tx
        .copy_in_raw(match unit.kind {
            PoliceFileKind::Street => COPY_CRIMES,
            PoliceFileKind::Outcomes => COPY_OUTCOMES,
        })
        .await?;
    while let Some(message) = rx.recv().await {
        match message {
            Message::Rows(batch) => {
                counts.rows_without_location += batch.without_location() as i64;
                counts.rows_read += batch.len() as i64;
                rows.clear();
                encode(&batch, import_id, &mut rows);
                copy.send(rows.as_bytes()).await?;
            }
            Message::Failed(e) => {
                // The transaction is rolled back when dropped; the COPY is ended first so the
                // connection is ready for the next file. Its own error would hide the cause.
                let _ = copy.abort(e.to_string()).await;
                return Err(e.into());
            }
            Message::Unit(_) => {}
        }
        progress(counts.rows_read as u64);
    }
    copy.finish().await?;
    parser.await.map_err(|e| DbError::Task(e.to_string()))?;
    counts.rows_added = counts.rows_read;
    let replaced = current.map(|c| c.id);
    match unit.kind {
        PoliceFileKind::Street => {
            if let Some(old) = replaced {
                counts.rows_replaced = outcomes::delete_rows(&mut tx, "police_crimes", old).await?;
            }
            outcomes::refresh_for_street_import(&mut tx, import_id).await?;
        }
        PoliceFileKind::Outcomes => {
            outcomes::refresh_for_outcomes_import(&mut tx, import_id, replaced, &mut counts).await?;
        }
    }
    finish_import(&mut tx, import_id, counts, replaced).await?;
    tx.commit().await?;
    Ok(ImportOutcome::Imported { import_id, unit: key, counts, replaced })
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
