//! The counts query over police records, and the facts the dashboard needs about coverage.

use alliance_core::domain::{CountField, CountFilter, CountRow, Month};
use sqlx::Row;

use crate::params::Params;
use crate::{Db, DbError};

/// The SQL expression behind each field.
fn expression(field: CountField) -> &'static str {
    match field {
        CountField::Month => "c.month",
        CountField::CrimeType => "c.crime_type",
        CountField::District => "l.district_code",
        CountField::Lsoa => "c.lsoa_code",
        CountField::Outcome => "c.outcome",
    }
}

impl Db {
    /// Counts police records (crimes and anti-social behaviour incidents: every row counts
    /// once) grouped by `fields`, sorted by the group values with missing values first, so
    /// both backends give identical output.
    pub async fn counts(&self, fields: &[CountField], filter: &CountFilter) -> Result<Vec<CountRow>, DbError> {
        let mut sql = String::from("SELECT ");
        for (i, f) in fields.iter().enumerate() {
            sql.push_str(&format!("{} AS g{i}, ", expression(*f)));
        }
        sql.push_str("CAST(COUNT(*) AS BIGINT) AS n FROM police_crimes c");
        let needs_district = fields.contains(&CountField::District) || filter.district.is_some();
        if needs_district {
            sql.push_str(" LEFT JOIN lsoas l ON l.code = c.lsoa_code");
        }
        let mut params = Params::new();
        let mut conditions = Vec::new();
        if let Some(from) = filter.from {
            conditions.push(format!("c.month >= {}", params.push(from.to_string())));
        }
        if let Some(to) = filter.to {
            conditions.push(format!("c.month <= {}", params.push(to.to_string())));
        }
        if let Some(t) = &filter.crime_type {
            conditions.push(format!("c.crime_type = {}", params.push(t.clone())));
        }
        if let Some(d) = &filter.district {
            conditions.push(format!("l.district_code = {}", params.push(d.to_string())));
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" GROUP BY ");
        sql.push_str(&(0..fields.len()).map(|i| expression(fields[i])).collect::<Vec<_>>().join(", "));
        let query = params.bind(sqlx::query(&sql), 0);
        let rows = query.fetch_all(&self.pool).await?;
        let mut out = rows
            .iter()
            .map(|r| {
                let values =
                    (0..fields.len()).map(|i| r.try_get::<Option<String>, _>(i)).collect::<Result<Vec<_>, _>>()?;
                Ok(CountRow { values, count: r.try_get("n")? })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        out.sort_by(|a, b| a.values.cmp(&b.values));
        Ok(out)
    }

    /// The months covered by current street-level imports (a covered month with no matching
    /// records counts as zero; an uncovered month is unknown).
    pub async fn police_months_covered(&self) -> Result<Vec<Month>, DbError> {
        let rows = sqlx::query(
            "SELECT DISTINCT month FROM imports WHERE source = 'police' AND kind = 'street' AND superseded_by IS NULL ORDER BY month",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get(0)?;
                text.parse().map_err(|e| DbError::corrupt(format!("imports.month: {e}")))
            })
            .collect()
    }

    /// Number of police records stored.
    pub async fn police_record_count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM police_crimes").fetch_one(&self.pool).await?.try_get(0)?)
    }
}
