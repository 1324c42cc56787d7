//! The SQLite import path: one dedicated connection, one transaction, and a prepared
//! single-row insert per table, fed by a parsing thread. The SQL is the same as the pooled
//! path's; only the driver differs (`rusqlite` over the same bundled SQLite library), because
//! binding millions of values through `sqlx` cost more than SQLite's own work.

use std::path::Path;
use std::sync::mpsc::sync_channel;

use alliance_core::domain::police::crime_key;
use alliance_core::domain::PoliceFileKind;
use alliance_ingest::SourceFile;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::outcomes::REFRESH;
use super::{parse_into, Batch, Message};
use crate::imports::{ImportCounts, ImportOutcome};
use crate::DbError;

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError::Invalid(format!("SQLite: {e}"))
    }
}

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
];
const OUTCOME_COLUMNS: &[&str] = &["import_id", "crime_id", "crime_key", "month", "lsoa_code", "outcome_type"];

/// Rows per multi-row `INSERT`: one statement step per 64 rows instead of one per row.
const ROWS_PER_STATEMENT: usize = 64;

/// Inserts rows with a prepared multi-row statement (anonymous `?` parameters, bound by
/// position) for full groups and a single-row one for the rest.
struct RowInserter<'c> {
    many: rusqlite::Statement<'c>,
    one: rusqlite::Statement<'c>,
    width: usize,
}

impl<'c> RowInserter<'c> {
    fn new(tx: &'c Transaction<'_>, table: &str, columns: &[&str]) -> Result<RowInserter<'c>, DbError> {
        let row = format!("({})", vec!["?"; columns.len()].join(","));
        let sql = |n: usize| {
            format!("INSERT INTO {table} ({}) VALUES {}", columns.join(","), vec![row.as_str(); n].join(","))
        };
        Ok(RowInserter { many: tx.prepare(&sql(ROWS_PER_STATEMENT))?, one: tx.prepare(&sql(1))?, width: columns.len() })
    }

    /// Binds each row with `bind(statement, first_parameter_index, row)` and executes.
    fn insert<T>(
        &mut self,
        rows: &[T],
        bind: impl Fn(&mut rusqlite::Statement<'c>, usize, &T) -> rusqlite::Result<()>,
    ) -> Result<(), DbError> {
        let mut groups = rows.chunks_exact(ROWS_PER_STATEMENT);
        for group in groups.by_ref() {
            for (i, row) in group.iter().enumerate() {
                bind(&mut self.many, 1 + i * self.width, row)?;
            }
            self.many.raw_execute()?;
        }
        for row in groups.remainder() {
            bind(&mut self.one, 1, row)?;
            self.one.raw_execute()?;
        }
        Ok(())
    }
}

fn open(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
    )?;
    Ok(conn)
}

/// Imports one police file into the SQLite database at `path`.
pub(super) fn import(
    path: &Path,
    file: &SourceFile,
    checksum: &str,
    who: &str,
    progress: &dyn Fn(u64),
) -> Result<ImportOutcome, DbError> {
    let (tx_rows, rx) = sync_channel::<Message>(8);
    let parser = {
        let file = file.clone();
        std::thread::spawn(move || parse_into(&file, |m| tx_rows.send(m).is_ok()))
    };
    let result = import_from(path, file, checksum, who, progress, &rx);
    drop(rx);
    let _ = parser.join();
    result
}

fn import_from(
    path: &Path,
    file: &SourceFile,
    checksum: &str,
    who: &str,
    progress: &dyn Fn(u64),
    rx: &std::sync::mpsc::Receiver<Message>,
) -> Result<ImportOutcome, DbError> {
    let unit = match rx.recv() {
        Ok(Message::Unit(unit)) => unit,
        Ok(Message::Failed(e)) => return Err(e.into()),
        _ => return Err(DbError::Task("the police file parser stopped without a result".into())),
    };
    let key = unit.key();
    let mut conn = open(path)?;
    let current: Option<(i64, String)> = conn
        .query_row("SELECT id, checksum FROM imports WHERE unit = ?1 AND superseded_by IS NULL", [&key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((id, _)) = current.as_ref().filter(|(_, c)| c == checksum) {
        return Ok(ImportOutcome::Unchanged { import_id: *id, unit: key });
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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
    let mut counts = ImportCounts::default();
    {
        let mut crimes = RowInserter::new(&tx, "police_crimes", CRIME_COLUMNS)?;
        let mut outcomes = RowInserter::new(&tx, "police_outcomes", OUTCOME_COLUMNS)?;
        for message in rx.iter() {
            let batch = match message {
                Message::Rows(batch) => batch,
                Message::Failed(e) => return Err(e.into()),
                Message::Unit(_) => continue,
            };
            counts.rows_read += batch.len() as i64;
            counts.rows_without_location += batch.without_location() as i64;
            match batch {
                Batch::Street(rows) => crimes.insert(&rows, |stmt, at, c| {
                    stmt.raw_bind_parameter(at, import_id)?;
                    stmt.raw_bind_parameter(at + 1, c.crime_id.as_deref())?;
                    stmt.raw_bind_parameter(at + 2, c.crime_id.as_deref().map(crime_key))?;
                    stmt.raw_bind_parameter(at + 3, c.month.to_string())?;
                    stmt.raw_bind_parameter(at + 4, c.location.map(|l| l.0))?;
                    stmt.raw_bind_parameter(at + 5, c.location.map(|l| l.1))?;
                    stmt.raw_bind_parameter(at + 6, c.location_description.as_str())?;
                    stmt.raw_bind_parameter(at + 7, c.lsoa_code.as_ref().map(|l| l.as_str()))?;
                    stmt.raw_bind_parameter(at + 8, c.crime_type.as_str())?;
                    stmt.raw_bind_parameter(at + 9, c.last_outcome.as_deref())?;
                    stmt.raw_bind_parameter(at + 10, c.last_outcome.as_deref())
                })?,
                Batch::Outcomes(rows) => outcomes.insert(&rows, |stmt, at, o| {
                    stmt.raw_bind_parameter(at, import_id)?;
                    stmt.raw_bind_parameter(at + 1, o.crime_id.as_str())?;
                    stmt.raw_bind_parameter(at + 2, crime_key(&o.crime_id))?;
                    stmt.raw_bind_parameter(at + 3, o.month.to_string())?;
                    stmt.raw_bind_parameter(at + 4, o.lsoa_code.as_ref().map(|l| l.as_str()))?;
                    stmt.raw_bind_parameter(at + 5, o.outcome_type.as_str())
                })?,
            }
            progress(counts.rows_read as u64);
        }
    }
    counts.rows_added = counts.rows_read;
    let replaced = current.map(|(id, _)| id);
    refresh_outcomes(&tx, unit.kind, import_id, replaced, &mut counts)?;
    tx.execute(
        "UPDATE imports SET rows_read = ?1, rows_added = ?2, rows_replaced = ?3, rows_without_location = ?4 WHERE id = ?5",
        params![counts.rows_read, counts.rows_added, counts.rows_replaced, counts.rows_without_location, import_id],
    )?;
    if let Some(old) = replaced {
        tx.execute("UPDATE imports SET superseded_by = ?1 WHERE id = ?2", params![import_id, old])?;
    }
    tx.commit()?;
    Ok(ImportOutcome::Imported { import_id, unit: key, counts, replaced })
}

/// Removes the replaced import's rows and recomputes latest outcomes, as the pooled path's
/// `outcomes` module does.
fn refresh_outcomes(
    tx: &Transaction<'_>,
    kind: PoliceFileKind,
    import_id: i64,
    replaced: Option<i64>,
    counts: &mut ImportCounts,
) -> Result<(), DbError> {
    match kind {
        PoliceFileKind::Street => {
            if let Some(old) = replaced {
                counts.rows_replaced = tx.execute("DELETE FROM police_crimes WHERE import_id = ?1", [old])? as i64;
            }
            tx.execute(
                &format!("{REFRESH} WHERE import_id = ?1 AND EXISTS (SELECT 1 FROM police_outcomes o WHERE o.crime_key = police_crimes.crime_key)"),
                [import_id],
            )?;
        }
        PoliceFileKind::Outcomes => {
            tx.execute_batch("CREATE TEMPORARY TABLE IF NOT EXISTS affected_crimes (crime_key BIGINT NOT NULL); DELETE FROM affected_crimes;")?;
            if let Some(old) = replaced {
                tx.execute(
                    "INSERT INTO affected_crimes (crime_key) SELECT DISTINCT crime_key FROM police_outcomes WHERE import_id = ?1",
                    [old],
                )?;
                counts.rows_replaced = tx.execute("DELETE FROM police_outcomes WHERE import_id = ?1", [old])? as i64;
            }
            tx.execute(
                "INSERT INTO affected_crimes (crime_key) SELECT DISTINCT crime_key FROM police_outcomes WHERE import_id = ?1",
                [import_id],
            )?;
            tx.execute(&format!("{REFRESH} WHERE crime_key IN (SELECT crime_key FROM affected_crimes)"), [])?;
            tx.execute("DELETE FROM affected_crimes", [])?;
        }
    }
    Ok(())
}
