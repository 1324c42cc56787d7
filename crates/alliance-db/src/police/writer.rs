//! Batched multi-row inserts: one prepared statement per batch size, so the per-statement
//! cost is paid once per thousand rows rather than once per row.

use alliance_core::domain::police::crime_key;
use alliance_core::domain::{PoliceOutcome, StreetCrime};
use sqlx::{Any, Transaction};

use crate::{Backend, DbError};

const CRIME_COLUMNS: &str =
    "import_id, crime_id, crime_key, month, longitude, latitude, location, lsoa_code, crime_type, street_outcome, outcome";
const CRIME_WIDTH: usize = 11;
const OUTCOME_COLUMNS: &str = "import_id, crime_id, crime_key, month, lsoa_code, outcome_type";
const OUTCOME_WIDTH: usize = 6;

/// `INSERT INTO table (columns) VALUES ($1, …), (…), …` for `rows` rows.
///
/// SQLite gets anonymous `?` placeholders: its lookup of a numbered parameter's name is a
/// linear scan, which makes binding thousands of `$N` parameters quadratic.
///
/// Columns listed in `text_cast` (position, SQL type) are bound as text and cast in SQL: the
/// `Any` driver declares a NULL parameter with a type of its own, so a prepared statement
/// first run with a NULL double would refuse a real double later on PostgreSQL.
fn insert_sql(backend: Backend, table: &str, columns: &str, width: usize, rows: usize) -> String {
    let text_cast: &[(usize, &str)] =
        if table == "police_crimes" { &[(4, "DOUBLE PRECISION"), (5, "DOUBLE PRECISION")] } else { &[] };
    let mut sql = String::with_capacity(32 + columns.len() + rows * width * 7);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(columns);
    sql.push_str(") VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            let placeholder = match backend {
                Backend::Sqlite => "?".to_string(),
                Backend::Postgres => format!("${n}"),
            };
            match text_cast.iter().find(|(col, _)| *col == c) {
                Some((_, ty)) => sql.push_str(&format!("CAST({placeholder} AS {ty})")),
                None => sql.push_str(&placeholder),
            }
        }
        sql.push(')');
    }
    sql
}

/// Keeps the SQL text of the last batch sizes used (the driver caches the prepared statement
/// by its text).
pub(super) struct BatchWriter {
    crimes_sql: Option<(usize, String)>,
    outcomes_sql: Option<(usize, String)>,
    /// Rows per statement, below each backend's limit on bound parameters.
    max_rows: usize,
    backend: Backend,
}

impl BatchWriter {
    pub fn new(backend: Backend) -> BatchWriter {
        let max_rows = match backend {
            Backend::Sqlite => 500,
            Backend::Postgres => 1000,
        };
        BatchWriter { crimes_sql: None, outcomes_sql: None, max_rows, backend }
    }

    fn sql<'a>(
        backend: Backend,
        cache: &'a mut Option<(usize, String)>,
        table: &str,
        columns: &str,
        width: usize,
        rows: usize,
    ) -> &'a str {
        if cache.as_ref().map(|(n, _)| *n) != Some(rows) {
            *cache = Some((rows, insert_sql(backend, table, columns, width, rows)));
        }
        cache.as_ref().map(|(_, s)| s.as_str()).unwrap_or_default()
    }

    pub async fn insert_crimes(
        &mut self,
        tx: &mut Transaction<'_, Any>,
        import_id: i64,
        rows: &[StreetCrime],
    ) -> Result<(), DbError> {
        for chunk in rows.chunks(self.max_rows) {
            let sql =
                Self::sql(self.backend, &mut self.crimes_sql, "police_crimes", CRIME_COLUMNS, CRIME_WIDTH, chunk.len());
            let mut query = sqlx::query(sql);
            for c in chunk {
                query = query
                    .bind(import_id)
                    .bind(c.crime_id.as_deref())
                    .bind(c.crime_id.as_deref().map(crime_key))
                    .bind(c.month.to_string())
                    .bind(c.location.map(|l| l.0.to_string()))
                    .bind(c.location.map(|l| l.1.to_string()))
                    .bind(c.location_description.as_str())
                    .bind(c.lsoa_code.as_ref().map(|l| l.as_str()))
                    .bind(c.crime_type.as_str())
                    .bind(c.last_outcome.as_deref())
                    .bind(c.last_outcome.as_deref());
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub async fn insert_outcomes(
        &mut self,
        tx: &mut Transaction<'_, Any>,
        import_id: i64,
        rows: &[PoliceOutcome],
    ) -> Result<(), DbError> {
        for chunk in rows.chunks(self.max_rows) {
            let sql = Self::sql(
                self.backend,
                &mut self.outcomes_sql,
                "police_outcomes",
                OUTCOME_COLUMNS,
                OUTCOME_WIDTH,
                chunk.len(),
            );
            let mut query = sqlx::query(sql);
            for o in chunk {
                query = query
                    .bind(import_id)
                    .bind(o.crime_id.as_str())
                    .bind(crime_key(&o.crime_id))
                    .bind(o.month.to_string())
                    .bind(o.lsoa_code.as_ref().map(|l| l.as_str()))
                    .bind(o.outcome_type.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_parameters_row_by_row() {
        use crate::Backend;
        assert_eq!(
            super::insert_sql(Backend::Postgres, "t", "a, b", 2, 2),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4)"
        );
        assert_eq!(super::insert_sql(Backend::Sqlite, "t", "a, b", 2, 2), "INSERT INTO t (a, b) VALUES (?,?),(?,?)");
        let crimes = super::insert_sql(Backend::Postgres, "police_crimes", "a", 6, 1);
        assert!(
            crimes.ends_with("($1,$2,$3,$4,CAST($5 AS DOUBLE PRECISION),CAST($6 AS DOUBLE PRECISION))"),
            "{crimes}"
        );
    }
}
