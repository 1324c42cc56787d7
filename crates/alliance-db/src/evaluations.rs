//! Running an intervention evaluation against the stored police data: resolve the design's
//! areas (GeoJSON, LSOA or ward codes, or a suggested comparison), fetch the located crimes
//! near them, select with [`alliance_core::analytics::evaluation::areas`], and evaluate
//! with [`alliance_core::analytics::evaluation::evaluate`].
//!
//! The crime fetch filters on a longitude/latitude bounding box in SQL (the areas' box
//! widened by the buffer) and the exact spatial tests run in Rust on BNG metres.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use alliance_core::analytics::evaluation::areas::{
    lsoa_vintage_of, suggest_comparison, tally, AreaSelection, Candidate, Circle, CodeMembership, LocatedCrime,
    ScoredCandidate, SelectionArea,
};
use alliance_core::analytics::evaluation::{
    evaluate, AreaLabels, EvaluationInput, EvaluationResult, HarmInput, HarmWeight,
};
use alliance_core::domain::{LsoaVintage, Month, MonthRange};
use alliance_core::geo::projection::BngProjector;
use geo::{BoundingRect, MultiPolygon};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Db, DbError};

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
    /// Comparison only: the `count` LSOAs most alike the target before the intervention
    /// (see [`suggest_comparison`]).
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

/// An area as resolved, for the report and the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaDescription {
    /// `geojson`, `lsoa`, `ward` or `suggested`.
    pub kind: String,
    #[serde(default)]
    pub codes: Vec<String>,
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
    /// Runs the statistics (pure and deterministic: the stored basis always gives the same result).
    pub fn report(self) -> Result<EvaluationReport, DbError> {
        let result = evaluate(&self.input).map_err(|e| DbError::Legacy(format!("evaluation: {e}")))?;
        Ok(EvaluationReport { basis: self, result })
    }
}

/// The conventions, stated in every report.
pub const CONVENTIONS: &str = "Distances are measured in metres on the British National Grid. A crime is in an area \
when its point is inside or on the area's boundary (or within a circle's radius); for LSOAs chosen by code, in months \
whose data.police.uk files use the same census's codes a crime is in the area when its recorded LSOA code is one of \
the codes (exactly as data.police.uk assigned it), and in other months when its point is inside the boundaries. The \
buffer ring holds crimes more than 0 m and at most the buffer width from the target, not in the target. Each crime \
counts in one area only, in the order target, buffer, comparison, comparison buffer. Crimes without a location are \
not counted.";

/// A resolved area: WGS84 outlines, circles and code membership.
struct Resolved {
    description: AreaDescription,
    polygons: Vec<MultiPolygon<f64>>,
    circles: Vec<Circle>,
    codes: Option<CodeMembership>,
}

impl Resolved {
    /// WGS84 box `[min lon, min lat, max lon, max lat]` widened by `metres`.
    fn bbox(&self, metres: f64) -> Option<[f64; 4]> {
        let mut b: Option<[f64; 4]> = None;
        let mut add = |r: [f64; 4]| {
            b = Some(match b {
                None => r,
                Some(a) => [a[0].min(r[0]), a[1].min(r[1]), a[2].max(r[2]), a[3].max(r[3])],
            });
        };
        for p in &self.polygons {
            if let Some(r) = p.bounding_rect() {
                add([r.min().x, r.min().y, r.max().x, r.max().y]);
            }
        }
        for c in &self.circles {
            let (dlon, dlat) = degrees(c.radius_metres, c.latitude);
            add([c.longitude - dlon, c.latitude - dlat, c.longitude + dlon, c.latitude + dlat]);
        }
        b.map(|b| {
            // 10% and 50 m of slack: the box only pre-filters, the exact test follows in BNG.
            let (dlon, dlat) = degrees(metres * 1.1 + 50.0, b[1].abs().max(b[3].abs()));
            [b[0] - dlon, b[1] - dlat, b[2] + dlon, b[3] + dlat]
        })
    }
}

/// Degrees of longitude and latitude spanning at least `metres` at latitude `lat`.
fn degrees(metres: f64, lat: f64) -> (f64, f64) {
    let dlat = metres / 110_000.0;
    let dlon = metres / (110_000.0 * lat.to_radians().cos().max(0.01));
    (dlon, dlat)
}

/// Parses GeoJSON (geometry, feature or collection) into polygons and circles.
pub fn parse_places(value: &serde_json::Value) -> Result<(Vec<MultiPolygon<f64>>, Vec<Circle>), String> {
    let geojson = geojson::GeoJson::from_json_value(value.clone()).map_err(|e| format!("not GeoJSON: {e}"))?;
    let mut items: Vec<(geojson::Geometry, Option<f64>)> = Vec::new();
    let radius = |f: &geojson::Feature| {
        f.property("radius_metres").or_else(|| f.property("radius")).and_then(serde_json::Value::as_f64)
    };
    match geojson {
        geojson::GeoJson::Geometry(g) => items.push((g, None)),
        geojson::GeoJson::Feature(f) => {
            let r = radius(&f);
            items.extend(f.geometry.map(|g| (g, r)));
        }
        geojson::GeoJson::FeatureCollection(fc) => {
            for f in fc.features {
                let r = radius(&f);
                items.extend(f.geometry.map(|g| (g, r)));
            }
        }
    }
    let (mut polygons, mut circles) = (Vec::new(), Vec::new());
    for (n, (geometry, radius)) in items.into_iter().enumerate() {
        let n = n + 1;
        match geometry.value {
            v @ geojson::Value::Polygon(_) => polygons
                .push(MultiPolygon(vec![geo::Polygon::<f64>::try_from(v).map_err(|e| format!("shape {n}: {e}"))?])),
            v @ geojson::Value::MultiPolygon(_) => {
                polygons.push(geo::MultiPolygon::<f64>::try_from(v).map_err(|e| format!("shape {n}: {e}"))?)
            }
            geojson::Value::Point(p) if p.len() >= 2 => {
                let radius = radius.filter(|r| r.is_finite() && *r > 0.0).ok_or_else(|| {
                    format!("shape {n}: a Point needs a positive \"radius_metres\" property (a circle)")
                })?;
                circles.push(Circle { longitude: p[0], latitude: p[1], radius_metres: radius });
            }
            other => {
                return Err(format!(
                    "shape {n}: {} is not an area (use Polygon, MultiPolygon or Point with radius_metres)",
                    other.type_name()
                ))
            }
        }
    }
    for (lon, lat) in polygons
        .iter()
        .flat_map(|m| m.0.iter().flat_map(|p| p.exterior().0.iter().map(|c| (c.x, c.y))))
        .chain(circles.iter().map(|c| (c.longitude, c.latitude)))
    {
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(format!("coordinate ({lon}, {lat}) is not WGS84 longitude/latitude"));
        }
    }
    if polygons.is_empty() && circles.is_empty() {
        return Err("no Polygon, MultiPolygon or Point with radius_metres found".to_string());
    }
    Ok((polygons, circles))
}

fn feature_collection(polygons: &[(Option<String>, MultiPolygon<f64>)], circles: &[Circle]) -> serde_json::Value {
    let mut features = Vec::new();
    for (name, p) in polygons {
        let geometry = geojson::Geometry::new(geojson::Value::from(p));
        features.push(serde_json::json!({"type": "Feature", "properties": {"name": name}, "geometry": geometry}));
    }
    for c in circles {
        features.push(serde_json::json!({"type": "Feature", "properties": {"radius_metres": c.radius_metres},
            "geometry": {"type": "Point", "coordinates": [c.longitude, c.latitude]}}));
    }
    serde_json::json!({"type": "FeatureCollection", "features": features})
}

fn parse_stored_geometry(kind: &str, code: &str, text: &str) -> Result<MultiPolygon<f64>, DbError> {
    let geometry: geojson::Geometry = text
        .parse::<geojson::GeoJson>()
        .ok()
        .and_then(|g| geojson::Geometry::try_from(g).ok())
        .ok_or_else(|| DbError::Legacy(format!("stored boundary {kind} {code} is not GeoJSON geometry")))?;
    match geometry.value {
        v @ geojson::Value::Polygon(_) => geo::Polygon::<f64>::try_from(v).map(|p| MultiPolygon(vec![p])),
        v => MultiPolygon::<f64>::try_from(v),
    }
    .map_err(|e| DbError::Legacy(format!("stored boundary {kind} {code}: {e}")))
}

/// A stored boundary with its parsed outline.
struct Boundary {
    kind: String,
    code: String,
    name: String,
    district: Option<String>,
    shape: MultiPolygon<f64>,
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Db {
    /// Located street crimes in a WGS84 box and a period, optionally of some crime types.
    /// Crimes without a location are not returned.
    pub async fn located_crimes(
        &self,
        bbox: [f64; 4],
        months: MonthRange,
        crime_types: &[String],
    ) -> Result<Vec<(i64, LocatedCrime)>, DbError> {
        let mut sql = String::from(
            "SELECT id, month, longitude, latitude, lsoa_code, crime_type FROM police_crimes \
             WHERE month >= $1 AND month <= $2 AND longitude >= $3 AND longitude <= $4 \
             AND latitude >= $5 AND latitude <= $6",
        );
        if !crime_types.is_empty() {
            sql.push_str(&format!(" AND crime_type IN ({})", placeholders(7, crime_types.len())));
        }
        let mut query = sqlx::query(&sql)
            .bind(months.from.to_string())
            .bind(months.to.to_string())
            .bind(bbox[0])
            .bind(bbox[2])
            .bind(bbox[1])
            .bind(bbox[3]);
        for t in crime_types {
            query = query.bind(t.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let month: String = r.try_get(1)?;
                let month: Month = month.parse().map_err(|e| DbError::Legacy(format!("stored month: {e}")))?;
                Ok((
                    r.try_get::<i64, _>(0)?,
                    LocatedCrime {
                        month,
                        longitude: r.try_get(2)?,
                        latitude: r.try_get(3)?,
                        lsoa_code: r.try_get(4)?,
                        crime_type: r.try_get(5)?,
                    },
                ))
            })
            .collect()
    }

    /// Street crimes per (LSOA code, month) in a period, optionally of some crime types.
    pub async fn lsoa_month_counts(
        &self,
        months: MonthRange,
        crime_types: &[String],
    ) -> Result<BTreeMap<(String, Month), u64>, DbError> {
        let mut sql = String::from(
            "SELECT lsoa_code, month, COUNT(*) FROM police_crimes WHERE month >= $1 AND month <= $2 AND lsoa_code IS NOT NULL",
        );
        if !crime_types.is_empty() {
            sql.push_str(&format!(" AND crime_type IN ({})", placeholders(3, crime_types.len())));
        }
        sql.push_str(" GROUP BY lsoa_code, month");
        let mut query = sqlx::query(&sql).bind(months.from.to_string()).bind(months.to.to_string());
        for t in crime_types {
            query = query.bind(t.as_str());
        }
        let mut out = BTreeMap::new();
        for r in query.fetch_all(&self.pool).await? {
            let month: String = r.try_get(1)?;
            let month: Month = month.parse().map_err(|e| DbError::Legacy(format!("stored month: {e}")))?;
            out.insert((r.try_get::<String, _>(0)?, month), r.try_get::<i64, _>(2)?.max(0) as u64);
        }
        Ok(out)
    }

    /// Current street-file imports per month.
    async fn street_imports(&self) -> Result<BTreeMap<Month, Vec<i64>>, DbError> {
        let rows = sqlx::query(
            "SELECT id, month FROM imports WHERE source = 'police' AND kind = 'street' AND superseded_by IS NULL AND month IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: BTreeMap<Month, Vec<i64>> = BTreeMap::new();
        for r in rows {
            let month: String = r.try_get(1)?;
            let month: Month = month.parse().map_err(|e| DbError::Legacy(format!("stored month: {e}")))?;
            out.entry(month).or_default().push(r.try_get(0)?);
        }
        Ok(out)
    }

    async fn boundaries_by_code(&self, kinds: &[&str], codes: &[String]) -> Result<Vec<Boundary>, DbError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT kind, code, name, district_code, geometry FROM area_boundaries WHERE kind IN ({}) AND code IN ({})",
            placeholders(1, kinds.len()),
            placeholders(1 + kinds.len(), codes.len())
        );
        let mut query = sqlx::query(&sql);
        for k in kinds {
            query = query.bind(*k);
        }
        for c in codes {
            query = query.bind(c.as_str());
        }
        self.parse_boundaries(query.fetch_all(&self.pool).await?)
    }

    async fn boundaries_of_districts(&self, kind: &str, districts: &[String]) -> Result<Vec<Boundary>, DbError> {
        if districts.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT kind, code, name, district_code, geometry FROM area_boundaries WHERE kind = $1 AND district_code IN ({})",
            placeholders(2, districts.len())
        );
        let mut query = sqlx::query(&sql).bind(kind);
        for d in districts {
            query = query.bind(d.as_str());
        }
        self.parse_boundaries(query.fetch_all(&self.pool).await?)
    }

    fn parse_boundaries(&self, rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Boundary>, DbError> {
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(0)?;
                let code: String = r.try_get(1)?;
                let text: String = r.try_get(4)?;
                let shape = parse_stored_geometry(&kind, &code, &text)?;
                Ok(Boundary { kind, code, name: r.try_get(2)?, district: r.try_get(3)?, shape })
            })
            .collect()
    }

    async fn resolve(&self, spec: &AreaSpec) -> Result<Resolved, DbError> {
        match spec {
            AreaSpec::Geojson { geojson } => {
                let (polygons, circles) = parse_places(geojson).map_err(DbError::Legacy)?;
                let named: Vec<_> = polygons.iter().map(|p| (None, p.clone())).collect();
                Ok(Resolved {
                    description: AreaDescription {
                        kind: "geojson".into(),
                        codes: Vec::new(),
                        lsoa_census: None,
                        geometry: feature_collection(&named, &circles),
                    },
                    polygons,
                    circles,
                    codes: None,
                })
            }
            AreaSpec::Lsoa { codes } | AreaSpec::Ward { codes } => {
                let is_ward = matches!(spec, AreaSpec::Ward { .. });
                let codes: Vec<String> = codes
                    .iter()
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if codes.is_empty() {
                    return Err(DbError::Legacy("no area codes given".into()));
                }
                let kinds: &[&str] = if is_ward { &["ward"] } else { &["lsoa21", "lsoa11"] };
                let found = self.boundaries_by_code(kinds, &codes).await?;
                let (chosen, census) = if is_ward {
                    (found.iter().collect::<Vec<_>>(), None)
                } else {
                    let of = |kind: &str| found.iter().filter(|b| b.kind == kind).collect::<Vec<_>>();
                    let (in21, in11) = (of("lsoa21"), of("lsoa11"));
                    if in21.len() == codes.len() {
                        (in21, Some(2021))
                    } else if in11.len() == codes.len() {
                        (in11, Some(2011))
                    } else {
                        (if in21.len() >= in11.len() { in21 } else { in11 }, None)
                    }
                };
                let have: HashSet<&str> = chosen.iter().map(|b| b.code.as_str()).collect();
                let missing: Vec<&str> = codes.iter().map(String::as_str).filter(|c| !have.contains(c)).collect();
                if !missing.is_empty() {
                    let what = if is_ward { "ward" } else { "LSOA (all codes must be of one census, 2011 or 2021)" };
                    return Err(DbError::Legacy(format!(
                        "no stored {what} boundary for {}; import the boundary files first",
                        missing.join(", ")
                    )));
                }
                let named: Vec<_> =
                    chosen.iter().map(|b| (Some(format!("{} {}", b.code, b.name)), b.shape.clone())).collect();
                let membership = census
                    .and_then(LsoaVintage::from_year)
                    .map(|vintage| CodeMembership { codes: codes.iter().cloned().collect(), vintage });
                Ok(Resolved {
                    description: AreaDescription {
                        kind: if is_ward { "ward".into() } else { "lsoa".into() },
                        codes: codes.clone(),
                        lsoa_census: census,
                        geometry: feature_collection(&named, &[]),
                    },
                    polygons: chosen.iter().map(|b| b.shape.clone()).collect(),
                    circles: Vec::new(),
                    codes: membership,
                })
            }
            AreaSpec::Suggested { .. } => Err(DbError::Legacy("a suggested area can only be the comparison".into())),
        }
    }

    /// Runs an evaluation design on the stored data.
    pub async fn run_evaluation(&self, design: &EvaluationDesign) -> Result<EvaluationReport, DbError> {
        self.evaluation_basis(design).await?.report()
    }

    /// Resolves, fetches and selects: everything but the statistics.
    pub async fn evaluation_basis(&self, design: &EvaluationDesign) -> Result<EvaluationBasis, DbError> {
        let (before, after) = (design.before, design.after);
        if after.from <= before.to {
            return Err(DbError::Legacy(format!(
                "the after period ({after}) must start after the before period ({before}) ends"
            )));
        }
        if let Some(w) = design.buffer_metres {
            if !(w.is_finite() && w > 0.0 && w <= 5_000.0) {
                return Err(DbError::Legacy(format!("the buffer width must be between 0 and 5,000 metres (got {w})")));
            }
        }
        let imports = self.street_imports().await?;
        let missing: Vec<String> =
            before.months().chain(after.months()).filter(|m| !imports.contains_key(m)).map(|m| m.to_string()).collect();
        if !missing.is_empty() {
            return Err(DbError::Legacy(format!(
                "no police street data is imported for {}: import those months or choose other periods",
                missing.join(", ")
            )));
        }
        let span = MonthRange { from: before.from.plus(-design.history_months.max(0)), to: after.to };
        let months: Vec<Month> = span.months().filter(|m| imports.contains_key(m)).collect();
        let import_ids: Vec<i64> = months.iter().flat_map(|m| imports[m].iter().copied()).collect();

        let projector = BngProjector::new().map_err(|e| DbError::Legacy(e.to_string()))?;
        let width = design.buffer_metres.unwrap_or(0.0);
        let target = self.resolve(&design.target).await?;
        let target_area =
            SelectionArea::from_wgs84(&projector, &target.polygons, &target.circles, target.codes.clone())
                .map_err(|e| DbError::Legacy(format!("target area: {e}")))?;

        let mut crimes: BTreeMap<i64, LocatedCrime> = BTreeMap::new();
        let fetch_box = target.bbox(width).ok_or_else(|| DbError::Legacy("the target area is empty".into()))?;
        for (id, c) in self.located_crimes(fetch_box, span, &design.crime_types).await? {
            crimes.insert(id, c);
        }

        let mut suggestion = None;
        let comparison = match &design.comparison {
            None => None,
            Some(AreaSpec::Suggested { count }) => {
                let (codes, ranked) =
                    self.suggest(design, &target, &target_area, &projector, &crimes, (*count).clamp(1, 50)).await?;
                suggestion = Some(ranked);
                let mut resolved = self.resolve(&AreaSpec::Lsoa { codes }).await?;
                resolved.description.kind = "suggested".into();
                Some(resolved)
            }
            Some(spec) => Some(self.resolve(spec).await?),
        };
        let comparison_area = match &comparison {
            Some(c) => {
                if let Some(b) = c.bbox(width) {
                    for (id, crime) in self.located_crimes(b, span, &design.crime_types).await? {
                        crimes.insert(id, crime);
                    }
                }
                Some(
                    SelectionArea::from_wgs84(&projector, &c.polygons, &c.circles, c.codes.clone())
                        .map_err(|e| DbError::Legacy(format!("comparison area: {e}")))?,
                )
            }
            None => None,
        };
        let has_buffer = design.buffer_metres.is_some();
        let has_comparison = comparison_area.is_some();
        let selection = AreaSelection {
            target: target_area,
            buffer_metres: design.buffer_metres,
            comparison: comparison_area,
            comparison_buffer: has_buffer && has_comparison,
        };
        let crimes: Vec<LocatedCrime> = crimes.into_values().collect();
        let roles = selection.classify(&projector, &crimes).map_err(|e| DbError::Legacy(e.to_string()))?;
        let counted =
            tally(&crimes, &roles, &months, before, after, [has_buffer, has_comparison, has_buffer && has_comparison]);
        let mut input = EvaluationInput::from_monthly(before, after, counted.monthly);
        if let Some(weights) = &design.harm_weights {
            input.harm = Some(HarmInput { weights: weights.clone(), categories: counted.categories });
        }
        let mut labels = design.labels.clone().unwrap_or_default();
        labels.buffer_metres = design.buffer_metres;
        input.labels = labels;
        input.selected_for_high_crime = design.selected_for_high_crime;
        Ok(EvaluationBasis {
            design: design.clone(),
            areas: ReportAreas {
                target: target.description,
                buffer_metres: design.buffer_metres,
                comparison: comparison.map(|c| c.description),
                suggestion,
                conventions: CONVENTIONS.to_string(),
            },
            data: DataUsed {
                import_ids,
                months,
                crimes_considered: crimes.len(),
                crimes_placed: roles.iter().filter(|r| r.is_some()).count(),
            },
            input,
        })
    }

    /// Ranks LSOAs of the districts around the target (not in the target, not within the
    /// buffer) by similarity of before-period level and trend; returns the top codes.
    async fn suggest(
        &self,
        design: &EvaluationDesign,
        target: &Resolved,
        target_area: &SelectionArea,
        projector: &BngProjector,
        crimes: &BTreeMap<i64, LocatedCrime>,
        count: usize,
    ) -> Result<(Vec<String>, Vec<ScoredCandidate>), DbError> {
        let before = design.before;
        let vintage = lsoa_vintage_of(before.from);
        if lsoa_vintage_of(before.to) != vintage {
            return Err(DbError::Legacy(
                "a suggested comparison needs a before period within one LSOA census (all before 2023-01 or all from 2023-01)"
                    .into(),
            ));
        }
        let kind = if vintage == LsoaVintage::Census2011 { "lsoa11" } else { "lsoa21" };
        // Districts of the LSOAs whose box meets the target's box.
        let tb = target.bbox(0.0).ok_or_else(|| DbError::Legacy("the target area is empty".into()))?;
        let all = self.boundaries_of_all(kind).await?;
        let districts: Vec<String> = all
            .iter()
            .filter(|b| {
                b.shape.bounding_rect().is_some_and(|r| {
                    r.min().x <= tb[2] && tb[0] <= r.max().x && r.min().y <= tb[3] && tb[1] <= r.max().y
                })
            })
            .filter_map(|b| b.district.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let candidates_b = self.boundaries_of_districts(kind, &districts).await?;
        if candidates_b.is_empty() {
            return Err(DbError::Legacy(format!(
                "no stored {kind} boundaries around the target to suggest a comparison from; import the boundary files first"
            )));
        }
        let exclude_within = design.buffer_metres.unwrap_or(0.0);
        let target_codes: HashSet<&str> =
            target.codes.as_ref().map(|m| m.codes.iter().map(String::as_str).collect()).unwrap_or_default();
        let counts = self.lsoa_month_counts(before, &design.crime_types).await?;
        let mut candidates = Vec::new();
        for b in &candidates_b {
            if target_codes.contains(b.code.as_str()) {
                continue;
            }
            let area = SelectionArea::from_wgs84(projector, std::slice::from_ref(&b.shape), &[], None)
                .map_err(|e| DbError::Legacy(e.to_string()))?;
            let (Some(ab), Some(tbb)) = (area.bbox(), target_area.bbox()) else { continue };
            let gap_x = (ab[0] - tbb[2]).max(tbb[0] - ab[2]).max(0.0);
            let gap_y = (ab[1] - tbb[3]).max(tbb[1] - ab[3]).max(0.0);
            if (gap_x * gap_x + gap_y * gap_y).sqrt() <= exclude_within {
                // Exact test: distance between the candidate's outline and the target.
                let d = self.polygon_distance(projector, target_area, &b.shape)?;
                if d <= exclude_within {
                    continue;
                }
            }
            let monthly = before.months().map(|m| counts.get(&(b.code.clone(), m)).copied().unwrap_or(0)).collect();
            candidates.push(Candidate { code: b.code.clone(), name: b.name.clone(), monthly });
        }
        // The target's before-period series from the crimes already fetched.
        let sel = AreaSelection {
            target: target_area.clone(),
            buffer_metres: None,
            comparison: None,
            comparison_buffer: false,
        };
        let in_before: Vec<LocatedCrime> = crimes.values().filter(|c| before.contains(c.month)).cloned().collect();
        let roles = sel.classify(projector, &in_before).map_err(|e| DbError::Legacy(e.to_string()))?;
        let months: Vec<Month> = before.months().collect();
        let t = tally(&in_before, &roles, &months, before, before, [false, false, false]);
        let target_monthly: Vec<u64> = t.monthly.iter().map(|r| r.target).collect();
        let ranked = suggest_comparison(&target_monthly, &candidates, count);
        if ranked.is_empty() {
            return Err(DbError::Legacy(
                "no candidate comparison LSOA has any recorded crime in the before period".into(),
            ));
        }
        Ok((ranked.iter().map(|c| c.code.clone()).collect(), ranked))
    }

    async fn boundaries_of_all(&self, kind: &str) -> Result<Vec<Boundary>, DbError> {
        let rows = sqlx::query("SELECT kind, code, name, district_code, geometry FROM area_boundaries WHERE kind = $1")
            .bind(kind)
            .fetch_all(&self.pool)
            .await?;
        self.parse_boundaries(rows)
    }

    fn polygon_distance(
        &self,
        projector: &BngProjector,
        target: &SelectionArea,
        shape: &MultiPolygon<f64>,
    ) -> Result<f64, DbError> {
        let mut best = f64::INFINITY;
        for p in &shape.0 {
            let projected = p
                .exterior()
                .0
                .iter()
                .map(|c| projector.to_bng(c.x, c.y).map(|(x, y)| geo::Coord { x, y }))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DbError::Legacy(e.to_string()))?;
            best = best.min(target.distance_to_polygon(&geo::Polygon::new(geo::LineString(projected), vec![])));
        }
        Ok(best)
    }
}
