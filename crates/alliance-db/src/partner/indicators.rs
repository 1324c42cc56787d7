//! Partner indicator series: importing and reading.
//!
//! The unit of replacement is the supplier and the file's name (without `.gz`, see
//! [`IndicatorSupplier::unit`]): a newer file of the same name from the same organisation
//! replaces the values of its earlier one (partners resend a corrected or extended series
//! under the same name); another organisation's file of that name replaces nothing; the same
//! file again (same checksum) changes nothing. A file whose value for an (indicator, area,
//! period, breakdown) is already held from a *different* file is refused, naming that file, so
//! no figure is ever held twice.

use std::collections::{BTreeSet, HashMap};

use alliance_ingest::indicators::{read_indicator_file, IndicatorValue};
use alliance_ingest::{IngestError, SourceFile};
use serde::Serialize;

use super::insert_sql;
use crate::imports::{
    audit_in, begin_replacing, current_in, finish_import, imported_detail, ImportAudit, ImportOutcome, NewImport,
    LOCK_UNIT_SQL,
};
use crate::{Backend, Db, DbError};

const COLUMNS: &[&str] = &[
    "import_id",
    "indicator",
    "area_code",
    "area_kind",
    "period",
    "period_kind",
    "period_start",
    "period_end",
    "age_band",
    "sex",
    "value",
];
const DOUBLES: &[usize] = &[10];
const ROWS_PER_INSERT: usize = 80;

/// A stored indicator value.
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct StoredIndicatorValue {
    pub indicator: String,
    pub area_code: String,
    pub area_kind: String,
    pub period: String,
    pub period_kind: String,
    pub period_start: String,
    pub period_end: String,
    pub age_band: String,
    pub sex: String,
    pub value: f64,
}

/// Which values to read; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct IndicatorFilter {
    pub indicator: Option<String>,
    pub area_code: Option<String>,
    /// Periods whose first month is on or after this month (YYYY-MM).
    pub from_month: Option<String>,
    /// Periods whose last month is on or before this month (YYYY-MM).
    pub to_month: Option<String>,
}

/// Who supplies an indicator file: an organisation (web and API uploads), whose imports
/// replace only that organisation's own earlier imports of the same file name, or the
/// operator at the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorSupplier {
    Organisation(i64),
    Operator,
}

impl IndicatorSupplier {
    /// The unit of replacement of a file of this supplier: `indicators/org/<id>/<file>` or,
    /// for the operator, `indicators/<file>`.
    pub fn unit(self, logical_name: &str) -> String {
        match self {
            IndicatorSupplier::Organisation(id) => format!("indicators/org/{id}/{logical_name}"),
            IndicatorSupplier::Operator => format!("indicators/{logical_name}"),
        }
    }
}

impl Db {
    /// Imports one indicator file (CSV or .xlsx) for the operator (the command line).
    pub async fn import_indicator_file(&self, file: &SourceFile, who: &str) -> Result<ImportOutcome, DbError> {
        let values = parse(file).await?;
        self.import_indicator_values(file, values, who, IndicatorSupplier::Operator, None).await
    }

    /// Imports the values of one indicator file, already read (the caller has checked the
    /// supplier may send their datasets), writing the audit row of an import in its
    /// transaction.
    pub async fn import_indicator_values_audited(
        &self,
        file: &SourceFile,
        values: Vec<IndicatorValue>,
        supplier: IndicatorSupplier,
        audit: &ImportAudit,
    ) -> Result<ImportOutcome, DbError> {
        self.import_indicator_values(file, values, &audit.actor.name, supplier, Some(audit)).await
    }

    async fn import_indicator_values(
        &self,
        file: &SourceFile,
        values: Vec<IndicatorValue>,
        who: &str,
        supplier: IndicatorSupplier,
        audit: Option<&ImportAudit>,
    ) -> Result<ImportOutcome, DbError> {
        let checksum = {
            let file = file.clone();
            tokio::task::spawn_blocking(move || file.checksum()).await??
        };
        let unit = supplier.unit(file.logical_name());
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Every indicator import checks the values held from other files: one at a time.
            sqlx::query(LOCK_UNIT_SQL).bind("indicators").execute(&mut *tx).await?;
        }
        let current = current_in(&mut tx, self.backend(), &unit).await?;
        if let Some((id, _)) = current.as_ref().filter(|(_, c)| *c == checksum) {
            return Ok(ImportOutcome::Unchanged { import_id: *id, unit });
        }
        let replaced = current.map(|(id, _)| id);

        // Values already held from other files (other names, or other suppliers' files).
        let names: BTreeSet<&str> = values.iter().map(|v| v.indicator.as_str()).collect();
        let mut held: HashMap<(String, String, String, String, String), String> = HashMap::new();
        for name in &names {
            let rows: Vec<HeldValueRow> = sqlx::query_as(
                "SELECT v.area_code, v.period, v.age_band, v.sex, i.file_name, i.id AS import_id \
                 FROM partner_indicator_values v JOIN imports i ON i.id = v.import_id WHERE v.indicator = $1",
            )
            .bind(*name)
            .fetch_all(&mut *tx)
            .await?;
            for r in rows {
                if Some(r.import_id) == replaced {
                    continue;
                }
                held.insert((name.to_string(), r.area_code, r.period, r.age_band, r.sex), r.file_name);
            }
        }
        if !held.is_empty() {
            for v in &values {
                let key = (
                    v.indicator.clone(),
                    v.area_code.clone(),
                    v.period.text.clone(),
                    v.age_band.clone(),
                    v.sex.clone(),
                );
                if let Some(other) = held.get(&key) {
                    return Err(DbError::Ingest(IngestError::file(
                        &file.name,
                        format!(
                            "the value of {} for {} in {} is already held from the file {other}; send corrections under \
                             that file's name so they replace it",
                            v.indicator, v.area_code, v.period.text
                        ),
                    )));
                }
            }
        }

        let kind = if file.logical_name().to_ascii_lowercase().ends_with(".xlsx") { "xlsx" } else { "csv" };
        let (import_id, mut counts) = begin_replacing(
            &mut tx,
            &NewImport::of_file("indicators", kind, &unit, &file.name, &checksum, who),
            replaced,
            "partner_indicator_values",
        )
        .await?;
        write_values(self.backend(), &mut tx, import_id, &values).await?;
        counts.rows_read = values.len() as i64;
        counts.rows_added = counts.rows_read;
        finish_import(&mut tx, import_id, counts, replaced).await?;
        audit_in(&mut tx, self.audit_chain(), audit, &file.name, &imported_detail(import_id, &counts, replaced))
            .await?;
        tx.commit().await?;
        Ok(ImportOutcome::Imported { import_id, unit, counts, replaced })
    }

    /// Indicator values (current imports only), sorted by indicator, area, period start,
    /// age band, sex.
    pub async fn partner_indicator_values(
        &self,
        filter: &IndicatorFilter,
    ) -> Result<Vec<StoredIndicatorValue>, DbError> {
        let rows = sqlx::query_as(
            "SELECT indicator, area_code, area_kind, period, period_kind, period_start, period_end, age_band, sex, value \
             FROM partner_indicator_values WHERE ($1 IS NULL OR indicator = $1) AND ($2 IS NULL OR area_code = $2) \
             AND ($3 IS NULL OR period_start >= $3) AND ($4 IS NULL OR period_end <= $4)",
        )
        .bind(filter.indicator.as_deref())
        .bind(filter.area_code.as_deref())
        .bind(filter.from_month.as_deref())
        .bind(filter.to_month.as_deref())
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<StoredIndicatorValue> = rows;
        out.sort_by(|a, b| {
            (&a.indicator, &a.area_code, &a.period_start, &a.period_end, &a.age_band, &a.sex).cmp(&(
                &b.indicator,
                &b.area_code,
                &b.period_start,
                &b.period_end,
                &b.age_band,
                &b.sex,
            ))
        });
        Ok(out)
    }

    /// The indicators held, with their number of values.
    pub async fn partner_indicator_names(&self) -> Result<Vec<(String, i64)>, DbError> {
        let mut out: Vec<(String, i64)> =
            sqlx::query_as("SELECT indicator, COUNT(*) FROM partner_indicator_values GROUP BY indicator")
                .fetch_all(&self.pool)
                .await?;
        out.sort();
        Ok(out)
    }
}

/// A value already held for an indicator, with the file it came from, by column name (the
/// area, period, age band, sex and file name are all text).
#[derive(sqlx::FromRow)]
struct HeldValueRow {
    area_code: String,
    period: String,
    age_band: String,
    sex: String,
    file_name: String,
    import_id: i64,
}

async fn write_values(
    backend: crate::Backend,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    import_id: i64,
    values: &[IndicatorValue],
) -> Result<(), DbError> {
    let mut cached: Option<(usize, String)> = None;
    for chunk in values.chunks(ROWS_PER_INSERT) {
        if cached.as_ref().map(|(n, _)| *n) != Some(chunk.len()) {
            cached =
                Some((chunk.len(), insert_sql(backend, "partner_indicator_values", COLUMNS, DOUBLES, chunk.len())));
        }
        let sql = cached.as_ref().map(|(_, s)| s.as_str()).unwrap_or_default();
        let mut q = sqlx::query(sql);
        for v in chunk {
            q = q
                .bind(import_id)
                .bind(v.indicator.as_str())
                .bind(v.area_code.as_str())
                .bind(v.area_kind.as_str())
                .bind(v.period.text.as_str())
                .bind(v.period.kind)
                .bind(v.period.start.as_str())
                .bind(v.period.end.as_str())
                .bind(v.age_band.as_str())
                .bind(v.sex.as_str())
                .bind(format!("{}", v.value));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Reads an indicator file (CSV or .xlsx) on a blocking thread.
pub async fn parse(file: &SourceFile) -> Result<Vec<IndicatorValue>, DbError> {
    let file = file.clone();
    Ok(tokio::task::spawn_blocking(move || read_indicator_file(&file)).await??)
}
