//! The performance framework: indicators, their baselines and targets, values entered (typed
//! or uploaded) and figures computed from imported police data.

use std::collections::{BTreeMap, HashMap};

use alliance_core::domain::{Month, MonthRange};
use alliance_core::governance::{Direction, Frequency, IndicatorKind, IndicatorSource, Quarter};
use alliance_ingest::governance_values::UploadedValue;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::{audit, num};
use crate::audit::Actor;
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::versions::{self, Versioned};
use crate::{Db, DbError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Indicator {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// An [`IndicatorKind`] code.
    pub kind: String,
    pub definition: String,
    pub unit: String,
    /// A [`Frequency`] code.
    pub frequency: String,
    #[sqlx(try_from = "String")]
    pub direction: Direction,
    pub baseline: Option<f64>,
    pub baseline_period: Option<String>,
    pub target: Option<f64>,
    pub tolerance: Option<f64>,
    pub owner_org_id: Option<i64>,
    pub priority_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub source: IndicatorSource,
    /// Counts the changes of its target: what the target form names ([`crate::versions`]).
    pub version: i64,
}

const INDICATOR_SELECT: &str = "SELECT id, code, name, kind, definition, unit, frequency, direction, baseline, \
     baseline_period, target, tolerance, owner_org_id, priority_id, source, version FROM indicators";

/// What an indicator is created with.
#[derive(Debug, Clone)]
pub struct NewIndicator<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub definition: &'a str,
    pub unit: &'a str,
    pub frequency: &'a str,
    pub direction: Direction,
    pub baseline: Option<f64>,
    pub baseline_period: Option<&'a str>,
    pub target: Option<f64>,
    pub tolerance: Option<f64>,
    pub owner_org_id: Option<i64>,
    pub priority_id: Option<i64>,
    pub source: IndicatorSource,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct IndicatorValue {
    pub indicator_id: i64,
    pub period: String,
    pub value: f64,
    pub note: String,
    pub entered_by: String,
}

/// A computed police figure and what it was computed from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PoliceFigure {
    pub crime_type: String,
    pub months: MonthRange,
    /// Months of the range with a police street-level import.
    pub months_covered: i64,
    pub count: i64,
    /// Resident population of the partnership's LSOAs (rate figures only).
    pub population: Option<i64>,
    /// Where that population comes from (e.g. "IoD 2019 population denominators (mid-2015)").
    pub population_sources: Vec<String>,
}

impl PoliceFigure {
    pub fn complete(&self) -> bool {
        self.months_covered == self.months.len()
    }

    /// Per 1,000 residents, when the population is known.
    pub fn per_1000(&self) -> Option<f64> {
        self.population.filter(|p| *p > 0).map(|p| self.count as f64 / p as f64 * 1000.0)
    }
}

/// A tolerance is a distance from the target: not negative.
fn check_tolerance(tolerance: Option<f64>) -> Result<(), DbError> {
    match tolerance {
        Some(t) if !t.is_finite() || t < 0.0 => {
            Err(DbError::invalid("tolerance", format!("{t} is not a distance from the target: enter 0 or more")))
        }
        _ => Ok(()),
    }
}

/// A figure as the audit log says it: `40`, `12.5`, or `none`.
fn figure(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_else(|| "none".into())
}

pub(super) async fn insert_indicator(
    tx: &mut Transaction<'static, Any>,
    ind: &NewIndicator<'_>,
) -> Result<i64, DbError> {
    if ind.name.trim().is_empty() {
        return Err(DbError::invalid("name", "Enter the indicator's name"));
    }
    if ind.code.trim().is_empty() {
        return Err(DbError::invalid("code", "Enter a code for the indicator"));
    }
    let kind = IndicatorKind::parse(ind.kind).map_err(|e| DbError::invalid("kind", e.to_string()))?;
    let frequency = Frequency::parse(ind.frequency).map_err(|e| DbError::invalid("frequency", e.to_string()))?;
    ind.source.validate(frequency).map_err(|e| DbError::invalid("source", e))?;
    check_tolerance(ind.tolerance)?;
    let taken = sqlx::query("SELECT id FROM indicators WHERE code = $1")
        .bind(ind.code.trim())
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Err(DbError::conflict(
            "code",
            format!("There is already an indicator with the code \"{}\"", ind.code.trim()),
        ));
    }
    let row = sqlx::query(
        "INSERT INTO indicators (code, name, kind, definition, unit, frequency, direction, baseline, baseline_period, \
         target, tolerance, owner_org_id, priority_id, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         CAST($8 AS DOUBLE PRECISION), $9, CAST($10 AS DOUBLE PRECISION), CAST($11 AS DOUBLE PRECISION), $12, $13, $14, $15) \
         RETURNING id",
    )
    .bind(ind.code.trim())
    .bind(ind.name.trim())
    .bind(kind.code())
    .bind(ind.definition.trim())
    .bind(ind.unit.trim())
    .bind(frequency.code())
    .bind(ind.direction.as_str())
    .bind(num(ind.baseline))
    .bind(ind.baseline_period)
    .bind(num(ind.target))
    .bind(num(ind.tolerance))
    .bind(ind.owner_org_id)
    .bind(ind.priority_id)
    .bind(ind.source.as_string())
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

impl Db {
    /// Adds an indicator (a code already used is a `Conflict` on `code`). Without a form's key
    /// (the command line, imports, benches); a form calls [`Db::create_indicator_keyed`].
    pub async fn create_indicator(&self, ind: &NewIndicator<'_>, actor: &Actor) -> Result<i64, DbError> {
        self.create_indicator_keyed(ind, None, actor).await
    }

    /// [`Db::create_indicator`] from a form: the same form sent again (its `submission` key)
    /// adds nothing and returns the first one's id, rather than refusing the code the first
    /// one took.
    pub async fn create_indicator_keyed(
        &self,
        ind: &NewIndicator<'_>,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let key = submissions::key("indicator", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let id = insert_indicator(&mut tx, ind).await?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!(
            "indicator {} added: {} ({}, {})",
            ind.code.trim(),
            ind.name.trim(),
            ind.kind,
            ind.source.as_string()
        );
        self.commit_governance(tx, actor, &format!("/indicators/{id}"), &detail).await?;
        Ok(id)
    }

    /// Sets the baseline, target and tolerance of an indicator; audited with the figures
    /// before and after (nothing is recorded when nothing changed). `seen` is the
    /// [`Indicator::version`] the form was opened on: a stale form is refused
    /// ([`crate::versions::claim`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn set_indicator_target(
        &self,
        id: i64,
        baseline: Option<f64>,
        baseline_period: Option<&str>,
        target: Option<f64>,
        tolerance: Option<f64>,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        check_tolerance(tolerance)?;
        let period = baseline_period.map(str::trim).filter(|s| !s.is_empty());
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Indicator, id, seen).await? {
            return Err(DbError::not_found(format!("indicator {id}")));
        }
        let old: Indicator = sqlx::query_as(&format!("{INDICATOR_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::not_found(format!("indicator {id}")))?;
        sqlx::query(
            "UPDATE indicators SET baseline = CAST($1 AS DOUBLE PRECISION), baseline_period = $2, \
             target = CAST($3 AS DOUBLE PRECISION), tolerance = CAST($4 AS DOUBLE PRECISION) WHERE id = $5",
        )
        .bind(num(baseline))
        .bind(period)
        .bind(num(target))
        .bind(num(tolerance))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let changes: Vec<String> = [
            ("baseline", figure(old.baseline), figure(baseline)),
            (
                "baseline period",
                old.baseline_period.clone().unwrap_or_else(|| "none".into()),
                period.unwrap_or("none").to_string(),
            ),
            ("target", figure(old.target), figure(target)),
            ("tolerance", figure(old.tolerance), figure(tolerance)),
        ]
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(what, old, new)| format!("{what} {old} → {new}"))
        .collect();
        if !changes.is_empty() {
            let detail = format!("indicator {}: {}", old.code, changes.join("; "));
            audit(&mut tx, self.audit_chain(), actor, &format!("/indicators/{id}"), &detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn indicators(&self) -> Result<Vec<Indicator>, DbError> {
        Ok(sqlx::query_as(&format!("{INDICATOR_SELECT} ORDER BY id")).fetch_all(&self.pool).await?)
    }

    pub async fn indicator(&self, id: i64) -> Result<Option<Indicator>, DbError> {
        Ok(sqlx::query_as(&format!("{INDICATOR_SELECT} WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    pub async fn indicator_by_code(&self, code: &str) -> Result<Option<Indicator>, DbError> {
        Ok(sqlx::query_as(&format!("{INDICATOR_SELECT} WHERE code = $1"))
            .bind(code.trim())
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores entered values `(indicator code, period, value, note)` in one transaction:
    /// refused whole if any names an unknown or computed indicator or a bad period (the error
    /// names the row, counting from 1, and the field).
    pub async fn enter_indicator_values(
        &self,
        values: &[(String, String, f64, String)],
        actor: &Actor,
    ) -> Result<usize, DbError> {
        let rows: Vec<(String, &UploadedValue)> =
            values.iter().enumerate().map(|(n, v)| (format!("row {}", n + 1), v)).collect();
        self.store_indicator_values(&rows, |at, column| format!("{at}: {column}"), actor, None).await
    }

    /// [`Db::enter_indicator_values`] for the values of an uploaded file, each with its line
    /// (`alliance_ingest::governance_values::parse_numbered_indicator_values`): an error names
    /// the file, line and column as the parser's do (`values.csv:3: column "code": …`).
    pub async fn enter_indicator_values_from(
        &self,
        file: &str,
        values: &[(u64, UploadedValue)],
        actor: &Actor,
    ) -> Result<usize, DbError> {
        let rows: Vec<(String, &UploadedValue)> =
            values.iter().map(|(line, v)| (format!("{file}:{line}"), v)).collect();
        self.store_indicator_values(&rows, |at, column| format!("{at}: column \"{column}\""), actor, Some(file)).await
    }

    /// Stores `(where, value)` pairs in one transaction with their audit row, or none;
    /// `place(where, column)` says where a bad cell is; `file` is the uploaded file's name.
    async fn store_indicator_values(
        &self,
        values: &[(String, &UploadedValue)],
        place: impl Fn(&str, &str) -> String,
        actor: &Actor,
        file: Option<&str>,
    ) -> Result<usize, DbError> {
        let indicators: HashMap<String, Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let mut tx = self.begin_write().await?;
        let at = now();
        let mut stored: Vec<(i64, String, f64)> = Vec::new();
        for (row, (code, period, value, note)) in values {
            let ind = indicators.get(code.trim()).ok_or_else(|| {
                DbError::invalid(
                    "code",
                    format!("{}: indicator \"{code}\" is not in the framework", place(row, "code")),
                )
            })?;
            if let Some(computed) = ind.source.computed() {
                let why = match &computed.data {
                    alliance_core::governance::ComputedData::PartnerSeries { series, .. } => format!(
                        "takes its values from the partner series \"{series}\": upload the series on the partner data \
                         page (Partner data, Upload) and the indicator follows, so the figures are never typed twice"
                    ),
                    _ => "is computed from imported data and cannot be typed".to_string(),
                };
                return Err(DbError::invalid("code", format!("{}: indicator \"{code}\" {why}", place(row, "code"))));
            }
            // A monthly indicator's values are per month (`2025-08`); the others' per quarter.
            let q: String = if ind.frequency.parse::<Frequency>() == Ok(Frequency::Monthly) {
                period.trim().parse::<Month>().map(|m| m.to_string()).map_err(|_| {
                    DbError::invalid(
                        "period",
                        format!(
                            "{}: \"{}\" is not a month: indicator \"{code}\" is monthly, so each value is for a month \
                             like 2025-08",
                            place(row, "period"),
                            period.trim()
                        ),
                    )
                })?
            } else {
                period
                    .parse::<Quarter>()
                    .map(|q| q.to_string())
                    .map_err(|e: String| DbError::invalid("period", format!("{}: {e}", place(row, "period"))))?
            };
            if !value.is_finite() {
                return Err(DbError::invalid("value", format!("{}: not a number", place(row, "value"))));
            }
            // As partner files are bounded (`alliance_ingest::indicators::MAX_VALUE_MAGNITUDE`):
            // a figure of 10¹⁹ is a typing or unit error, not a value to publish.
            if value.abs() > alliance_ingest::indicators::MAX_VALUE_MAGNITUDE {
                return Err(DbError::invalid(
                    "value",
                    format!("{}: {value:e} is beyond the ±10¹² an indicator's value can be", place(row, "value")),
                ));
            }
            sqlx::query(
                "INSERT INTO indicator_values (indicator_id, period, value, note, entered_by, entered_at) \
                 VALUES ($1, $2, CAST($3 AS DOUBLE PRECISION), $4, $5, $6) ON CONFLICT (indicator_id, period) DO UPDATE \
                 SET value = EXCLUDED.value, note = EXCLUDED.note, entered_by = EXCLUDED.entered_by, entered_at = EXCLUDED.entered_at",
            )
            .bind(ind.id)
            .bind(&q)
            .bind(num(Some(*value)))
            .bind(note.trim())
            .bind(&actor.name)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            stored.push((ind.id, q, *value));
        }
        let (target, detail) = match (file, stored.as_slice()) {
            (Some(file), _) => {
                ("/indicators".to_string(), format!("{} indicator values uploaded from {file}", stored.len()))
            }
            (None, [(id, q, v)]) => (format!("/indicators/{id}"), format!("value for {q}: {v}")),
            (None, _) => ("/indicators".to_string(), format!("{} indicator values entered", stored.len())),
        };
        self.commit_governance(tx, actor, &target, &detail).await?;
        Ok(values.len())
    }

    /// Entered values of every indicator, keyed by indicator id, in period order.
    pub async fn indicator_values(&self) -> Result<BTreeMap<i64, Vec<IndicatorValue>>, DbError> {
        let rows: Vec<IndicatorValue> =
            sqlx::query_as("SELECT indicator_id, period, value, note, entered_by FROM indicator_values")
                .fetch_all(&self.pool)
                .await?;
        let mut out: BTreeMap<i64, Vec<IndicatorValue>> = BTreeMap::new();
        for v in rows {
            out.entry(v.indicator_id).or_default().push(v);
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| a.period.cmp(&b.period));
        }
        Ok(out)
    }

    /// Police-recorded crimes of `crime_type` over `months` in the partnership's area
    /// ([`Db::police_figure_of`] for one crime type and the whole area).
    pub async fn police_figure(
        &self,
        crime_type: &str,
        months: MonthRange,
        with_population: bool,
    ) -> Result<PoliceFigure, DbError> {
        self.police_figure_of(&[crime_type.to_string()], months, None, with_population).await
    }
}
