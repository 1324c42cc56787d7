//! The counts query over police records, and the facts the dashboard needs about coverage.

use alliance_core::domain::{CountField, CountFilter, CountRow, Month};
use sqlx::Row;

use crate::params::Params;
use crate::{Db, DbError};

/// The SQL expression behind each field, over the records (`c`, with `l` the LSOA joined).
fn expression(field: CountField) -> &'static str {
    match field {
        CountField::Month => "c.month",
        CountField::CrimeType => "c.crime_type",
        CountField::District => "l.district_code",
        CountField::Lsoa => "c.lsoa_code",
        CountField::Outcome => "c.outcome",
    }
}

/// The same over the summary `police_month_counts` (`m`), for the fields it holds.
fn summary_expression(field: CountField) -> Option<&'static str> {
    match field {
        CountField::Month => Some("m.month"),
        CountField::CrimeType => Some("m.crime_type"),
        CountField::District => Some("m.district_code"),
        CountField::Lsoa | CountField::Outcome => None,
    }
}

impl Db {
    /// Counts police records (crimes and anti-social behaviour incidents: every row counts
    /// once) grouped by `fields`, sorted by the group values with missing values first, so
    /// both backends give identical output.
    ///
    /// Counts by month, crime type and district (with any filter: the filter's fields are
    /// those three) are summed from the summary `police_month_counts`, kept exact by every
    /// import (see `police::month_counts`); a count by LSOA or outcome reads the records (those
    /// of the filter's districts by the area index). The filter is applied as given: choosing
    /// the partnership's districts is the caller's (`alliance_app::counts`).
    pub async fn counts(&self, fields: &[CountField], filter: &CountFilter) -> Result<Vec<CountRow>, DbError> {
        let summary: Option<Vec<&str>> = fields.iter().map(|f| summary_expression(*f)).collect();
        let (exprs, from, count) = match &summary {
            Some(exprs) => (exprs.clone(), "police_month_counts m", "SUM(m.n)"),
            None => (fields.iter().map(|f| expression(*f)).collect(), "police_crimes c", "COUNT(*)"),
        };
        let column = |name: &str| if summary.is_some() { format!("m.{name}") } else { format!("c.{name}") };
        let mut sql = String::from("SELECT ");
        for (i, e) in exprs.iter().enumerate() {
            sql.push_str(&format!("{e} AS g{i}, "));
        }
        sql.push_str(&format!("CAST(COALESCE({count}, 0) AS BIGINT) AS n FROM {from}"));
        if fields.contains(&CountField::District) && summary.is_none() {
            sql.push_str(" LEFT JOIN lsoas l ON l.code = c.lsoa_code");
        }
        let mut params = Params::new();
        let mut conditions = Vec::new();
        if let Some(from) = filter.from {
            conditions.push(format!("{} >= {}", column("month"), params.push(from.to_string())));
        }
        if let Some(to) = filter.to {
            conditions.push(format!("{} <= {}", column("month"), params.push(to.to_string())));
        }
        if let Some(t) = &filter.crime_type {
            conditions.push(format!("{} = {}", column("crime_type"), params.push(t.clone())));
        }
        let districts: Vec<String> = filter.districts.iter().map(|d| d.to_string()).collect();
        let by_area_index = !districts.is_empty() && summary.is_none();
        if !districts.is_empty() {
            conditions.push(match summary {
                Some(_) => format!("m.district_code IN ({})", params.list(districts)),
                // The records by their area index, as the SNA reads an area's records.
                None => Db::records_in_districts(&mut params, &districts),
            });
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        if !exprs.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&exprs.join(", "));
        }
        let rows = self.fetch_police_rows(&sql, &params, by_area_index).await?;
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
