//! Import provenance: which file was imported, by whom, when, with what checksum, and what
//! it changed. Every import of every source is recorded here.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{Db, DbError};

/// One recorded import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub source: String,
    pub kind: String,
    pub unit: String,
    pub force: Option<String>,
    pub month: Option<String>,
    pub file_name: String,
    pub checksum: String,
    pub rows_read: i64,
    pub rows_added: i64,
    pub rows_replaced: i64,
    pub rows_without_location: i64,
    pub imported_by: String,
    pub imported_at: String,
    /// The later import that replaced this one, if any.
    pub superseded_by: Option<i64>,
}

const COLUMNS: &str =
    "id, source, kind, unit, force, month, file_name, checksum, rows_read, rows_added, rows_replaced, \
     rows_without_location, imported_by, imported_at, superseded_by";

fn from_row(r: &AnyRow) -> Result<ImportRecord, sqlx::Error> {
    Ok(ImportRecord {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        kind: r.try_get("kind")?,
        unit: r.try_get("unit")?,
        force: r.try_get("force")?,
        month: r.try_get("month")?,
        file_name: r.try_get("file_name")?,
        checksum: r.try_get("checksum")?,
        rows_read: r.try_get("rows_read")?,
        rows_added: r.try_get("rows_added")?,
        rows_replaced: r.try_get("rows_replaced")?,
        rows_without_location: r.try_get("rows_without_location")?,
        imported_by: r.try_get("imported_by")?,
        imported_at: r.try_get("imported_at")?,
        superseded_by: r.try_get("superseded_by")?,
    })
}

/// What a new import is: written first, its counts filled in when the rows are in.
pub(crate) struct NewImport<'a> {
    pub source: &'a str,
    pub kind: &'a str,
    pub unit: &'a str,
    pub force: Option<&'a str>,
    pub month: Option<&'a str>,
    pub file_name: &'a str,
    pub checksum: &'a str,
    pub imported_by: &'a str,
}

/// The counts an import ends with.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct ImportCounts {
    pub rows_read: i64,
    pub rows_added: i64,
    pub rows_replaced: i64,
    pub rows_without_location: i64,
}

impl Db {
    /// Imports, newest first.
    pub async fn imports(&self, limit: i64) -> Result<Vec<ImportRecord>, DbError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM imports ORDER BY id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// The latest import's id (None before the first): every import of police, area or
    /// partner data adds one, so a cache of analyses keyed by it is out of date as soon as it
    /// changes. Ids only grow (imports are never deleted).
    pub async fn import_generation(&self) -> Result<Option<i64>, DbError> {
        let row = sqlx::query("SELECT MAX(id) FROM imports").fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    /// The import currently in force for a unit (not superseded), if any.
    pub async fn current_import(&self, unit: &str) -> Result<Option<ImportRecord>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM imports WHERE unit = $1 AND superseded_by IS NULL"))
            .bind(unit)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }
}

/// The statements recording an import, shared with the PostgreSQL police import, which runs
/// them on its own connection (`police/pg_copy.rs`).
pub(crate) const INSERT_IMPORT_SQL: &str =
    "INSERT INTO imports (source, kind, unit, force, month, file_name, checksum, imported_by, imported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
pub(crate) const FINISH_IMPORT_SQL: &str =
    "UPDATE imports SET rows_read = $1, rows_added = $2, rows_replaced = $3, rows_without_location = $4 WHERE id = $5";
pub(crate) const SUPERSEDE_SQL: &str = "UPDATE imports SET superseded_by = $1 WHERE id = $2";

/// Records a new import inside the import's transaction and returns its id.
pub(crate) async fn begin_import(tx: &mut Transaction<'_, Any>, import: &NewImport<'_>) -> Result<i64, DbError> {
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
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get(0)?)
}

/// Fills in an import's counts and marks the import it replaces as superseded.
pub(crate) async fn finish_import(
    tx: &mut Transaction<'_, Any>,
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
        .execute(&mut **tx)
        .await?;
    if let Some(old) = replaces {
        sqlx::query(SUPERSEDE_SQL).bind(id).bind(old).execute(&mut **tx).await?;
    }
    Ok(())
}

/// How one file's import ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ImportOutcome {
    /// The rows are in; `replaced` names the earlier import of the same unit, if any.
    Imported { import_id: i64, unit: String, counts: ImportCounts, replaced: Option<i64> },
    /// The same file (by checksum) is already the current import of its unit.
    Unchanged { import_id: i64, unit: String },
    /// Not a file of a kind Alliance knows (only when found by a folder search).
    Skipped { reason: String },
}
