//! The stored records of intervention evaluations (a design, the areas as resolved, the
//! data used and the plain-number input of the statistics, kept as JSON with each
//! evaluation) and the queries an evaluation reads: located crimes in a box, crimes per LSOA
//! and month, the current street imports, and area boundaries by code or district.
//!
//! Running an evaluation (resolving the areas, selecting, the statistics) is the use case
//! `alliance_app::evaluation`.

use std::collections::BTreeMap;

use alliance_core::analytics::evaluation::areas::{LocatedCrime, ScoredCandidate};
use alliance_core::analytics::evaluation::{evaluate, AreaLabels, EvaluationInput, EvaluationResult, HarmWeight};
use alliance_core::domain::{Month, MonthRange};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::areas::StoredBoundary;
use crate::params::placeholders;
use crate::{Db, DbError};

/// How many codes one boundary query binds: far below the smallest limit on bound values
/// (SQLite's 32,766), and few enough that each statement stays small.
const CODES_PER_QUERY: usize = 500;

/// How an area of a design is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AreaSpec {
    /// GeoJSON in WGS84: a geometry, a feature or a feature collection of Polygons and
    /// MultiPolygons, and Points with a `radius_metres` property (circles).
    Geojson { geojson: serde_json::Value },
    /// LSOAs by code (all of the 2011 or all of the 2021 census), with their boundaries.
    Lsoa { codes: Vec<String> },
    /// Wards by code, by their boundaries.
    Ward { codes: Vec<String> },
    /// Places of the register (`crate::places`) by name: parks, town centres, zones.
    Place { names: Vec<String> },
    /// Comparison only: the `count` LSOAs most alike the target before the intervention
    /// (see `alliance_core::analytics::evaluation::areas::suggest_comparison`).
    Suggested { count: usize },
}

/// An evaluation design: where, when and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationDesign {
    pub target: AreaSpec,
    /// Width in metres of the buffer ring around the target (and around the comparison).
    #[serde(default)]
    pub buffer_metres: Option<f64>,
    #[serde(default)]
    pub comparison: Option<AreaSpec>,
    pub before: MonthRange,
    pub after: MonthRange,
    /// Only these data.police.uk crime types (none: all).
    #[serde(default)]
    pub crime_types: Vec<String>,
    #[serde(default)]
    pub harm_weights: Option<Vec<HarmWeight>>,
    /// The target was chosen because its crime was high (regression to the mean).
    #[serde(default)]
    pub selected_for_high_crime: bool,
    /// Months of history before the before period, for the regression-to-the-mean check
    /// (only months with data imported are used).
    #[serde(default = "default_history")]
    pub history_months: i64,
    #[serde(default)]
    pub labels: Option<AreaLabels>,
}

fn default_history() -> i64 {
    24
}

/// What an evaluation's area is, as resolved (stored as its snake-case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// Outlines drawn on the map or given as GeoJSON (polygons and circles).
    Geojson,
    /// LSOAs chosen by code.
    Lsoa,
    /// Wards chosen by code.
    Ward,
    /// Places of the register by name (parks, town centres, zones…).
    Place,
    /// LSOAs suggested as the comparison (most alike the target before).
    Suggested,
}

/// An area as resolved, for the report and the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaDescription {
    pub kind: AreaKind,
    /// The LSOA or ward codes, or the places' names, of an area chosen that way.
    #[serde(default)]
    pub codes: Vec<String>,
    /// For places of the register: each place's kind (an
    /// `alliance_core::domain::place::PlaceKind` code), in the order of `codes`. Empty in
    /// evaluations stored before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub place_kinds: Vec<String>,
    /// The census of LSOA codes (2011 or 2021).
    #[serde(default)]
    pub lsoa_census: Option<i64>,
    /// The outline as a GeoJSON FeatureCollection in WGS84 (circles as Points with `radius_metres`).
    pub geometry: serde_json::Value,
}

/// The areas of an evaluation as resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportAreas {
    pub target: AreaDescription,
    pub buffer_metres: Option<f64>,
    pub comparison: Option<AreaDescription>,
    /// The ranked candidates when the comparison was suggested.
    #[serde(default)]
    pub suggestion: Option<Vec<ScoredCandidate>>,
    /// How crimes are assigned to areas.
    pub conventions: String,
}

/// Which data an evaluation used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataUsed {
    /// The current street-file imports of the months counted.
    pub import_ids: Vec<i64>,
    /// Months counted (history, before, any gap, after), each with data imported.
    pub months: Vec<Month>,
    /// Located crimes fetched near the areas in those months (before the exact tests).
    pub crimes_considered: usize,
    /// Crimes the selection placed in an area.
    pub crimes_placed: usize,
}

/// Everything needed to reproduce an evaluation's figures: the design, the areas, the
/// data used and the plain-number input of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationBasis {
    pub design: EvaluationDesign,
    pub areas: ReportAreas,
    pub data: DataUsed,
    pub input: EvaluationInput,
}

/// An evaluation with its results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationReport {
    #[serde(flatten)]
    pub basis: EvaluationBasis,
    pub result: EvaluationResult,
}

impl EvaluationBasis {
    /// Runs the statistics of a stored basis (pure and deterministic: the stored basis always
    /// gives the same result, so a basis that does not evaluate was not stored by Alliance).
    pub fn report(self) -> Result<EvaluationReport, DbError> {
        let result = evaluate(&self.input).map_err(|e| DbError::corrupt(format!("stored evaluation: {e}")))?;
        Ok(EvaluationReport { basis: self, result })
    }
}

/// A month as stored (`YYYY-MM`); one Alliance did not write is a damaged record.
fn stored_month(text: &str) -> Result<Month, DbError> {
    text.parse().map_err(|e| DbError::corrupt(format!("stored month: {e}")))
}

/// A located record, by column name.
#[derive(sqlx::FromRow)]
struct LocatedRow {
    id: i64,
    month: String,
    longitude: f64,
    latitude: f64,
    lsoa_code: Option<String>,
    crime_type: String,
}

/// Records of an LSOA in a month, by column name (the code and the month are both text, so
/// a swap would not fail to decode).
#[derive(sqlx::FromRow)]
struct LsoaMonthCount {
    lsoa_code: String,
    month: String,
    n: i64,
}

impl Db {
    /// Located street crimes in a WGS84 box and a period, optionally of some crime types.
    /// Crimes without a location are not returned. Read LSOA by LSOA where few LSOAs' records
    /// meet the box ([`Db::located_rows_in_box`]).
    pub async fn located_crimes(
        &self,
        bbox: [f64; 4],
        months: MonthRange,
        crime_types: &[String],
    ) -> Result<Vec<(i64, LocatedCrime)>, DbError> {
        let columns = "c.id, c.month, c.longitude, c.latitude, c.lsoa_code, c.crime_type";
        let rows = self.located_rows_in_box(columns, bbox, (Some(months.from), Some(months.to)), crime_types).await?;
        rows.iter()
            .map(|r| {
                let r = LocatedRow::from_row(r)?;
                Ok((
                    r.id,
                    LocatedCrime {
                        month: stored_month(&r.month)?,
                        longitude: r.longitude,
                        latitude: r.latitude,
                        lsoa_code: r.lsoa_code,
                        crime_type: r.crime_type,
                    },
                ))
            })
            .collect()
    }

    /// Street crimes per (LSOA code, month) in a period, optionally of some crime types, for
    /// the LSOAs `codes` (a suggested comparison's candidates). Read by the records' area
    /// index, LSOA by LSOA: on a national archive a period's records of every LSOA are
    /// millions, the candidates' a few thousand. Codes go [`CODES_PER_QUERY`] to a query.
    pub async fn lsoa_month_counts(
        &self,
        months: MonthRange,
        crime_types: &[String],
        codes: &[String],
    ) -> Result<BTreeMap<(String, Month), u64>, DbError> {
        let mut out = BTreeMap::new();
        for chunk in codes.chunks(CODES_PER_QUERY) {
            let mut params = crate::params::Params::new();
            let sql = format!(
                "SELECT c.lsoa_code, c.month, COUNT(*) AS n FROM police_crimes c WHERE c.lsoa_code IN ({}){} \
                 GROUP BY c.lsoa_code, c.month",
                params.list(chunk.iter().cloned()),
                crate::spatial::period_and_types(&mut params, (Some(months.from), Some(months.to)), crime_types),
            );
            for r in self.fetch_police_rows(&sql, &params, true).await? {
                let r = LsoaMonthCount::from_row(&r)?;
                out.insert((r.lsoa_code, stored_month(&r.month)?), r.n.max(0) as u64);
            }
        }
        Ok(out)
    }

    /// Current street-file imports per month.
    pub async fn street_imports(&self) -> Result<BTreeMap<Month, Vec<i64>>, DbError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, month FROM imports WHERE source = 'police' AND kind = 'street' AND superseded_by IS NULL AND month IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<Month, Vec<i64>> = BTreeMap::new();
        for (id, month) in rows {
            out.entry(stored_month(&month)?).or_default().push(id);
        }
        Ok(out)
    }

    /// The stored boundaries of some kinds (`lsoa11`, `lsoa21`, `ward`) with some codes, in
    /// kind and code order. The codes go [`CODES_PER_QUERY`] to a query, as an area of many
    /// districts names more LSOAs than a statement may bind.
    pub async fn boundaries_by_code(&self, kinds: &[&str], codes: &[String]) -> Result<Vec<StoredBoundary>, DbError> {
        let mut found: Vec<StoredBoundary> = Vec::new();
        for chunk in codes.chunks(CODES_PER_QUERY) {
            let sql = format!(
                "SELECT kind, code, name, district_code, geometry FROM area_boundaries WHERE kind IN ({}) AND code IN ({})",
                placeholders(1, kinds.len()),
                placeholders(1 + kinds.len(), chunk.len())
            );
            let mut query = sqlx::query_as(&sql);
            for k in kinds {
                query = query.bind(*k);
            }
            for c in chunk {
                query = query.bind(c.as_str());
            }
            found.extend(query.fetch_all(&self.pool).await?);
        }
        found.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.code.cmp(&b.code)));
        found.dedup_by(|a, b| a.kind == b.kind && a.code == b.code);
        Ok(found)
    }
}
