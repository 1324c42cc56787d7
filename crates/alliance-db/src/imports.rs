//! Import provenance: which file was imported, by whom, when, with what checksum, and what
//! it changed. Every import of every source is recorded here.

use alliance_ingest::IngestError;
use alliance_ingest::SourceFile;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::audit::Actor;
use crate::{Backend, Db, DbError};

/// One recorded import.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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

impl<'a> NewImport<'a> {
    /// An import of a whole file that belongs to no force or month (areas, postcodes,
    /// partner data): the one place those two are left empty.
    pub fn of_file(
        source: &'a str,
        kind: &'a str,
        unit: &'a str,
        file_name: &'a str,
        checksum: &'a str,
        imported_by: &'a str,
    ) -> NewImport<'a> {
        NewImport { source, kind, unit, force: None, month: None, file_name, checksum, imported_by }
    }
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
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports ORDER BY id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The latest import's id (None before the first): every import of police, area or
    /// partner data adds one, so a cache of analyses keyed by it is out of date as soon as it
    /// changes. Ids only grow (imports are never deleted).
    pub async fn import_generation(&self) -> Result<Option<i64>, DbError> {
        let row = sqlx::query("SELECT MAX(id) FROM imports").fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    /// The police forces (data.police.uk slugs) with at least one police file in force, in
    /// order: whose records the crime figures count, whatever the partnership's profile says.
    pub async fn police_forces_held(&self) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query(
            "SELECT DISTINCT force FROM imports WHERE source = 'police' AND superseded_by IS NULL AND force IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut forces = rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>()?;
        forces.sort();
        Ok(forces)
    }

    /// The import currently in force for a unit (not superseded), if any.
    pub async fn current_import(&self, unit: &str) -> Result<Option<ImportRecord>, DbError> {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports WHERE unit = $1 AND superseded_by IS NULL"))
            .bind(unit)
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// The statements recording an import: the one place they are spelled. The pooled imports
/// (areas, ED, indicators) run them through the functions below; the police import runs them
/// on its own connection (`police/`), as `rusqlite` (SQLite reads `$N` as positional) or over
/// a `PgConnection`.
///
/// One current import per unit is enforced by the database (the unique index
/// `imports_one_current`, migration 0014), and an import reads "the current import of this
/// unit" only inside its own write transaction, after [`LOCK_UNIT_SQL`] on PostgreSQL (on
/// SQLite the transaction is `BEGIN IMMEDIATE`, which already holds the database's write lock).
/// Two imports of the same unit started at once therefore run one after the other: the second
/// sees the first's import, and is `Unchanged` (same checksum) or replaces it.
///
/// While a new import is written, the import it replaces is marked as superseded by itself
/// ([`HOLD_SQL`]) so that the index holds at every statement; [`SUPERSEDE_SQL`] then points it
/// at its successor. Both happen in the same transaction, so no other reader ever sees it.
pub(crate) const CURRENT_SQL: &str = "SELECT id, checksum FROM imports WHERE unit = $1 AND superseded_by IS NULL";
/// A transaction-scoped PostgreSQL advisory lock per unit: the class "IMPT" and the unit's hash
/// (a collision only serialises two imports that could have run side by side).
pub(crate) const LOCK_UNIT_SQL: &str = "SELECT pg_advisory_xact_lock(1229803604, hashtext($1))";
pub(crate) const HOLD_SQL: &str = "UPDATE imports SET superseded_by = id WHERE id = $1";
pub(crate) const INSERT_IMPORT_SQL: &str =
    "INSERT INTO imports (source, kind, unit, force, month, file_name, checksum, imported_by, imported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
pub(crate) const FINISH_IMPORT_SQL: &str =
    "UPDATE imports SET rows_read = $1, rows_added = $2, rows_replaced = $3, rows_without_location = $4 WHERE id = $5";
pub(crate) const SUPERSEDE_SQL: &str = "UPDATE imports SET superseded_by = $1 WHERE id = $2";

/// The current import of `unit` (id and checksum), read inside the caller's write
/// transaction from [`Db::begin_write`], after taking the unit's lock on PostgreSQL.
pub(crate) async fn current_in(
    tx: &mut AnyConnection,
    backend: Backend,
    unit: &str,
) -> Result<Option<(i64, String)>, DbError> {
    if backend == Backend::Postgres {
        sqlx::query(LOCK_UNIT_SQL).bind(unit).execute(&mut *tx).await?;
    }
    Ok(sqlx::query_as(CURRENT_SQL).bind(unit).fetch_optional(&mut *tx).await?)
}

/// Records a new import inside the import's transaction and returns its id. `replaces` is the
/// unit's current import from [`current_in`], held (see [`HOLD_SQL`]) until [`finish_import`].
pub(crate) async fn begin_import(
    tx: &mut AnyConnection,
    import: &NewImport<'_>,
    replaces: Option<i64>,
) -> Result<i64, DbError> {
    if let Some(old) = replaces {
        sqlx::query(HOLD_SQL).bind(old).execute(&mut *tx).await?;
    }
    let row = sqlx::query(INSERT_IMPORT_SQL)
        .bind(import.source)
        .bind(import.kind)
        .bind(import.unit)
        .bind(import.force)
        .bind(import.month)
        .bind(import.file_name)
        .bind(import.checksum)
        .bind(import.imported_by)
        .bind(crate::clock::now())
        .fetch_one(&mut *tx)
        .await?;
    Ok(row.try_get(0)?)
}

/// [`begin_import`] for an import whose file replaces the earlier import's rows whole (a
/// partner's ED or indicator file): also deletes the replaced import's rows from `table`,
/// whose rows carry their `import_id`. Returns the new import's id and its counts so far
/// (`rows_replaced`, the rows deleted).
pub(crate) async fn begin_replacing(
    tx: &mut AnyConnection,
    import: &NewImport<'_>,
    replaces: Option<i64>,
    table: &'static str,
) -> Result<(i64, ImportCounts), DbError> {
    let import_id = begin_import(tx, import, replaces).await?;
    let mut counts = ImportCounts::default();
    if let Some(old) = replaces {
        let sql = format!("DELETE FROM {table} WHERE import_id = $1");
        counts.rows_replaced = sqlx::query(&sql).bind(old).execute(&mut *tx).await?.rows_affected() as i64;
    }
    Ok((import_id, counts))
}

/// Fills in an import's counts and marks the import it replaces as superseded by it.
pub(crate) async fn finish_import(
    tx: &mut AnyConnection,
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
        .execute(&mut *tx)
        .await?;
    if let Some(old) = replaces {
        sqlx::query(SUPERSEDE_SQL).bind(id).bind(old).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Who imports, and what the audit row of each import that changes data says. An import
/// given an `ImportAudit` writes that row in its own transaction, so the data and its audit
/// row are stored together or not at all; imports that change nothing (unchanged, refused,
/// failed) are audited by the caller.
#[derive(Debug, Clone)]
pub struct ImportAudit {
    pub actor: Actor,
    /// The audit action, e.g. `import police`.
    pub action: &'static str,
}

impl ImportAudit {
    pub fn new(actor: Actor, action: &'static str) -> ImportAudit {
        ImportAudit { actor, action }
    }
}

/// The audit detail of an import that changed data.
pub fn imported_detail(import_id: i64, counts: &ImportCounts, replaced: Option<i64>) -> String {
    let replaced = match replaced {
        Some(id) => format!(", replacing import {id} ({} rows)", counts.rows_replaced),
        None => String::new(),
    };
    format!(
        "imported as import {import_id}: {} rows, {} without location{replaced}",
        counts.rows_read, counts.rows_without_location
    )
}

/// The checksum of `file` and what `read` makes of it, both worked out on a blocking thread
/// (each reads the whole file): the first step of an import, before its transaction.
pub(crate) async fn checksum_and_read<T: Send + 'static>(
    file: &SourceFile,
    read: impl FnOnce(&SourceFile) -> Result<T, IngestError> + Send + 'static,
) -> Result<(String, T), DbError> {
    let file = file.clone();
    Ok(tokio::task::spawn_blocking(move || Ok::<_, IngestError>((file.checksum()?, read(&file)?))).await??)
}

/// Appends the audit row of an import inside its transaction (a no-op without an audit).
pub(crate) async fn audit_in(
    tx: &mut AnyConnection,
    chain: &crate::audit::AuditChain,
    audit: Option<&ImportAudit>,
    file_name: &str,
    detail: &str,
) -> Result<(), DbError> {
    if let Some(a) = audit {
        crate::audit::append(tx, chain, &a.actor.event(a.action, file_name, detail)).await?;
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
