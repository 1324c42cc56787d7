//! The stored data computed indicators read, one query per source: police crimes of some
//! crime types in the partnership's area or a district (with its population), emergency
//! department assaults of some methods, a partner series' values (all ages and sexes) and
//! referrals by what happened to them. The definitions and the rules are
//! `alliance_core::governance::computed`; the figures are made in `alliance_app::indicators`.

use std::collections::BTreeMap;

use alliance_core::domain::{Month, MonthRange};
use alliance_core::governance::{ReferralEvent, SeriesValue};
use sqlx::Row;

use super::PoliceFigure;
use crate::params::{placeholders, Params};
use crate::{Db, DbError};

/// Emergency department assaults counted for a period, with how many of its months the
/// current ED files' reporting periods cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdFigure {
    pub months: MonthRange,
    pub months_covered: i64,
    pub count: i64,
}

impl EdFigure {
    pub fn complete(&self) -> bool {
        self.months_covered == self.months.len()
    }
}

/// A partner series' period as stored (`YYYY-MM`, the first and last month); a stored period
/// Alliance did not write is a damaged record.
fn period_month(text: &str) -> Result<Month, DbError> {
    text.parse::<Month>().map_err(|e| DbError::corrupt(format!("partner_indicator_values period: {e}")))
}

/// A partner series' value as stored, by column name (both months are text, so a swap would
/// not fail to decode).
#[derive(sqlx::FromRow)]
struct SeriesValueRow {
    area_code: String,
    area_kind: String,
    period_start: String,
    period_end: String,
    value: f64,
    unit: String,
}

/// A partner series and a period it holds values for, by column name.
#[derive(sqlx::FromRow)]
struct SeriesPeriodRow {
    indicator: String,
    period_start: String,
    period_end: String,
}

impl Db {
    /// Police-recorded crimes of any of `crime_types` over `months`, counting rows whose
    /// LSOA lies in the partnership's area ([`Db::partnership_area`]: the profile's districts
    /// that stored LSOAs lie in; every stored LSOA with a district when the profile names none
    /// that is held) or, with `district`, in that district; with the resident population of
    /// the same LSOAs when `with_population` (the 2011 LSOAs' published denominators when
    /// loaded, else the 2021 LSOAs').
    ///
    /// The area is the profile's, not every LSOA held: the deprivation files are published
    /// for the whole of England (and Wales), so a partnership that loads them holds every
    /// district, and a force's files hold records just over its border.
    pub async fn police_figure_of(
        &self,
        crime_types: &[String],
        months: MonthRange,
        district: Option<&str>,
        with_population: bool,
    ) -> Result<PoliceFigure, DbError> {
        let covered = self.police_months_covered().await?.into_iter().filter(|m| months.contains(*m)).count() as i64;
        let districts = match district {
            Some(d) => vec![d.to_string()],
            None => self.partnership_area().await?,
        };
        // `district_code IN (…)` over the area's districts, or any district when there are none.
        let in_area = |params: &mut Params| {
            if districts.is_empty() {
                "district_code IS NOT NULL".to_string()
            } else {
                format!("district_code IN ({})", params.list(districts.iter().cloned()))
            }
        };
        let count: i64 = if crime_types.is_empty() {
            0
        } else {
            // From the summary kept exact by every import (`police::month_counts`): its district
            // is the one the record's LSOA lies in, so this counts the same rows as a scan of
            // the records would, without reading them (millions at national scale).
            let mut params = Params::new();
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(m.n), 0) AS BIGINT) FROM police_month_counts m \
                 WHERE m.month >= {} AND m.month <= {} AND m.{} AND m.crime_type IN ({})",
                params.push(months.from.to_string()),
                params.push(months.to.to_string()),
                in_area(&mut params),
                params.list(crime_types.iter().cloned()),
            );
            params.bind(sqlx::query(&sql), 0).fetch_one(&self.pool).await?.try_get(0)?
        };
        let (population, population_sources) = if with_population {
            // The published 2011-LSOA denominators when loaded; the 2021 LSOAs' populations
            // are apportioned from them (and an LSOA held in 2021 only has none to share), so
            // they are the fallback only.
            let mut found = (None, Vec::new());
            for column in ["in_2011", "in_2021"] {
                let mut params = Params::new();
                let held = format!("{column} = 1 AND {}", in_area(&mut params));
                let total: Option<i64> = params
                    .bind(sqlx::query(&format!("SELECT CAST(SUM(population) AS BIGINT) FROM lsoas WHERE {held}")), 0)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get(0)?;
                if let Some(total) = total.filter(|t| *t > 0) {
                    let sql = format!(
                        "SELECT DISTINCT population_source FROM lsoas WHERE {held} AND population_source IS NOT NULL"
                    );
                    let rows = params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await?;
                    let mut sources = rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>()?;
                    sources.sort();
                    found = (Some(total), sources);
                    break;
                }
            }
            found
        } else {
            (None, Vec::new())
        };
        Ok(PoliceFigure {
            crime_type: crime_types.join(", "),
            months,
            months_covered: covered,
            count,
            population,
            population_sources,
        })
    }

    /// The months the current emergency department files' reporting periods cover (from
    /// their units, `ed/<site>/<start>..<end>`), in order.
    pub async fn ed_months_covered(&self) -> Result<Vec<Month>, DbError> {
        let units: Vec<String> =
            sqlx::query_scalar("SELECT unit FROM imports WHERE source = 'ed' AND superseded_by IS NULL")
                .fetch_all(&self.pool)
                .await?;
        let mut months = std::collections::BTreeSet::new();
        for unit in units {
            let Some((start, end)) = unit.rsplit('/').next().and_then(|p| p.split_once("..")) else { continue };
            let (Some(start), Some(end)) = (start.get(..7), end.get(..7)) else { continue };
            if let (Ok(from), Ok(to)) = (start.parse::<Month>(), end.parse::<Month>()) {
                if let Some(range) = MonthRange::new(from, to) {
                    months.extend(range.months());
                }
            }
        }
        Ok(months.into_iter().collect())
    }

    /// The periods partner series hold values for (current files): `(series, first month,
    /// last month)`, each once, sorted. The pages' default quarter reads them
    /// (`alliance_app::board_pack::latest_quarter_seen_by`).
    pub async fn partner_series_periods(&self) -> Result<Vec<(String, Month, Month)>, DbError> {
        let rows: Vec<SeriesPeriodRow> = sqlx::query_as(
            "SELECT DISTINCT v.indicator, v.period_start, v.period_end FROM partner_indicator_values v \
             JOIN imports i ON i.id = v.import_id WHERE i.superseded_by IS NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .into_iter()
            .map(|r| Ok((r.indicator, period_month(&r.period_start)?, period_month(&r.period_end)?)))
            .collect::<Result<Vec<_>, DbError>>()?;
        out.sort();
        Ok(out)
    }

    /// Emergency department assaults (current files) whose assault month is in `months`,
    /// of any of `methods` (`None`: every method).
    pub async fn ed_figure(&self, months: MonthRange, methods: Option<&[String]>) -> Result<EdFigure, DbError> {
        let covered = self.ed_months_covered().await?.into_iter().filter(|m| months.contains(*m)).count() as i64;
        let base = "SELECT CAST(COUNT(*) AS BIGINT) FROM ed_assaults e WHERE e.assault_month >= $1 \
                    AND e.assault_month <= $2 AND e.import_id IN (SELECT id FROM imports WHERE source = 'ed' \
                    AND superseded_by IS NULL)";
        let count: i64 = match methods {
            Some([]) => 0,
            Some(methods) => {
                let sql = format!("{base} AND e.method IN ({})", placeholders(3, methods.len()));
                let mut q = sqlx::query(&sql).bind(months.from.to_string()).bind(months.to.to_string());
                for m in methods {
                    q = q.bind(m.as_str());
                }
                q.fetch_one(&self.pool).await?.try_get(0)?
            }
            None => sqlx::query(base)
                .bind(months.from.to_string())
                .bind(months.to.to_string())
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        };
        Ok(EdFigure { months, months_covered: covered, count })
    }

    /// The values of the partner series `name` for all ages and both sexes, from current
    /// files; with `org`, only those that organisation supplied (files it uploaded, unit
    /// `indicators/org/<id>/…`).
    pub async fn partner_series_values(&self, name: &str, org: Option<i64>) -> Result<Vec<SeriesValue>, DbError> {
        let rows: Vec<SeriesValueRow> = sqlx::query_as(
            "SELECT v.area_code, v.area_kind, v.period_start, v.period_end, v.value, i.unit \
             FROM partner_indicator_values v JOIN imports i ON i.id = v.import_id \
             WHERE v.indicator = $1 AND v.age_band = '' AND v.sex = '' AND i.superseded_by IS NULL",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        let prefix = org.map(|o| format!("indicators/org/{o}/"));
        let mut out = Vec::new();
        for r in rows {
            if prefix.as_ref().is_some_and(|p| !r.unit.starts_with(p.as_str())) {
                continue;
            }
            out.push(SeriesValue {
                area_code: r.area_code,
                area_kind: r.area_kind,
                start: period_month(&r.period_start)?,
                end: period_month(&r.period_end)?,
                value: r.value,
            });
        }
        out.sort_by(|a, b| (a.start, a.end, &a.area_code).cmp(&(b.start, b.end, &b.area_code)));
        Ok(out)
    }

    /// Referrals to each service (by service id) for which `event` happened in `months`:
    /// received, accepted, or closed with an outcome, by the date it happened. Services with
    /// referrals but none in the period are given with 0, so a total can be checked against
    /// each of its parts.
    pub async fn referral_event_counts(
        &self,
        event: ReferralEvent,
        months: MonthRange,
    ) -> Result<BTreeMap<String, i64>, DbError> {
        let (column, extra) = match event {
            ReferralEvent::Made => ("received_on", ""),
            ReferralEvent::Accepted => ("accepted_on", ""),
            ReferralEvent::ClosedWithOutcome => ("closed_on", " AND outcome IS NOT NULL"),
        };
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT service_id, CAST(SUM(CASE WHEN {column} >= $1 AND {column} <= $2{extra} THEN 1 ELSE 0 END) AS BIGINT) \
             FROM referrals GROUP BY service_id"
        ))
        .bind(format!("{}-01", months.from))
        .bind(format!("{}-31", months.to))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}
