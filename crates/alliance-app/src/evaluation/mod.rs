//! The evaluation use case: did an intervention work, and did crime move next door? Runs a
//! design against the stored police data: resolve the design's areas (GeoJSON, LSOA or ward
//! codes, or a suggested comparison), fetch the located crimes near them (`alliance_db::
//! evaluations`), select with [`alliance_core::analytics::evaluation::areas`], and evaluate
//! with [`alliance_core::analytics::evaluation::evaluate`]. `alliance_reports::evaluation`
//! renders the report; the web app and `alliance evaluate` both call [`run`], [`store`] and
//! [`rerun`].
//!
//! The crime fetch filters on a longitude/latitude bounding box in SQL (the areas' box
//! widened by the buffer) and the exact spatial tests run in Rust on BNG metres. An area
//! whose box meets no held police record is refused ([`coverage`]) rather than reported as
//! "0 to 0 crimes".

mod coverage;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use alliance_core::analytics::evaluation::areas::{
    lsoa_vintage_of, suggest_comparison, tally, AreaSelection, Candidate, Circle, CodeMembership, LocatedCrime,
    ScoredCandidate, SelectionArea,
};
use alliance_core::analytics::evaluation::{evaluate, EvaluationInput, HarmInput};
use alliance_core::domain::{LsoaVintage, Month, MonthRange};
use alliance_core::geo::projection::BngProjector;
use alliance_db::areas::StoredBoundary;
use alliance_db::audit::Actor;
use alliance_db::interventions::StoredEvaluation;
use alliance_db::{Db, DbError};
use geo::{BoundingRect, MultiPolygon};

pub use alliance_db::evaluations::{
    AreaDescription, AreaKind, AreaSpec, DataUsed, EvaluationBasis, EvaluationDesign, EvaluationReport, ReportAreas,
};

use crate::AppError;

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

/// Why a GeoJSON place is not an area, in words for the person who gave it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlaceError(String);

/// Parses GeoJSON (geometry, feature or collection) into polygons and circles.
pub fn parse_places(value: &serde_json::Value) -> Result<(Vec<MultiPolygon<f64>>, Vec<Circle>), PlaceError> {
    let fail = |text: String| PlaceError(text);
    let geojson = geojson::GeoJson::from_json_value(value.clone()).map_err(|e| fail(format!("not GeoJSON: {e}")))?;
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
            v @ geojson::Value::Polygon(_) => polygons.push(MultiPolygon(vec![
                geo::Polygon::<f64>::try_from(v).map_err(|e| fail(format!("shape {n}: {e}")))?
            ])),
            v @ geojson::Value::MultiPolygon(_) => {
                polygons.push(geo::MultiPolygon::<f64>::try_from(v).map_err(|e| fail(format!("shape {n}: {e}")))?)
            }
            geojson::Value::Point(p) if p.len() >= 2 => {
                let radius = radius.filter(|r| r.is_finite() && *r > 0.0).ok_or_else(|| {
                    fail(format!("shape {n}: a Point needs a positive \"radius_metres\" property (a circle)"))
                })?;
                circles.push(Circle { longitude: p[0], latitude: p[1], radius_metres: radius });
            }
            other => {
                return Err(fail(format!(
                    "shape {n}: {} is not an area (use Polygon, MultiPolygon or Point with radius_metres)",
                    other.type_name()
                )))
            }
        }
    }
    for (lon, lat) in polygons
        .iter()
        .flat_map(|m| m.0.iter().flat_map(|p| p.exterior().0.iter().map(|c| (c.x, c.y))))
        .chain(circles.iter().map(|c| (c.longitude, c.latitude)))
    {
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(fail(format!("coordinate ({lon}, {lat}) is not WGS84 longitude/latitude")));
        }
    }
    if polygons.is_empty() && circles.is_empty() {
        return Err(fail("no Polygon, MultiPolygon or Point with radius_metres found".to_string()));
    }
    Ok((polygons, circles))
}

/// [`parse_places`] of an area to count crimes in, checked as the place register checks an
/// outline (`alliance_core::domain::place::check_outline`): every vertex in Great Britain,
/// circles of 1 to 5,000 m, at most 2,500 km². A shape with its longitude and latitude
/// swapped, or a circle as wide as the country, was evaluated ("0 crimes, no sign of
/// displacement") rather than refused.
pub fn parse_area(value: &serde_json::Value) -> Result<(Vec<MultiPolygon<f64>>, Vec<Circle>), PlaceError> {
    let (polygons, circles) = parse_places(value)?;
    let projector =
        alliance_core::geo::projection::BngProjector::new().map_err(|e| PlaceError(format!("projection: {e}")))?;
    alliance_core::domain::place::check_outline(&projector, &polygons, &circles)
        .map_err(|e| PlaceError(e.to_string()))?;
    Ok((polygons, circles))
}

pub(crate) fn feature_collection(
    polygons: &[(Option<String>, MultiPolygon<f64>)],
    circles: &[Circle],
) -> serde_json::Value {
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
        .ok_or_else(|| DbError::corrupt(format!("boundary {kind} {code} is not GeoJSON geometry")))?;
    match geometry.value {
        v @ geojson::Value::Polygon(_) => geo::Polygon::<f64>::try_from(v).map(|p| MultiPolygon(vec![p])),
        v => MultiPolygon::<f64>::try_from(v),
    }
    .map_err(|e| DbError::corrupt(format!("boundary {kind} {code}: {e}")))
}

/// A stored boundary with its parsed outline.
struct Boundary {
    kind: String,
    code: String,
    name: String,
    district: Option<String>,
    shape: MultiPolygon<f64>,
}

/// Parses the outlines of stored boundaries.
fn parse_boundaries(stored: Vec<StoredBoundary>) -> Result<Vec<Boundary>, DbError> {
    stored
        .into_iter()
        .map(|b| {
            let shape = parse_stored_geometry(&b.kind, &b.code, &b.geometry)?;
            Ok(Boundary { kind: b.kind, code: b.code, name: b.name, district: b.district_code, shape })
        })
        .collect()
}

/// Resolves an area of a design; `field` names it in an error (`target` or `comparison`).
async fn resolve(db: &Db, spec: &AreaSpec, field: &'static str) -> Result<Resolved, AppError> {
    match spec {
        AreaSpec::Geojson { geojson } => {
            let (polygons, circles) =
                parse_area(geojson).map_err(|e| AppError::invalid(field, format!("the {field} area: {e}")))?;
            let named: Vec<_> = polygons.iter().map(|p| (None, p.clone())).collect();
            Ok(Resolved {
                description: AreaDescription {
                    kind: AreaKind::Geojson,
                    codes: Vec::new(),
                    place_kinds: Vec::new(),
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
                return Err(AppError::invalid(field, format!("no {field} area codes given")));
            }
            let kinds: &[&str] = if is_ward { &["ward"] } else { &["lsoa21", "lsoa11"] };
            let found = parse_boundaries(db.boundaries_by_code(kinds, &codes).await?)?;
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
                return Err(AppError::invalid(
                    field,
                    format!("no stored {what} boundary for {}; import the boundary files first", missing.join(", ")),
                ));
            }
            let named: Vec<_> =
                chosen.iter().map(|b| (Some(format!("{} {}", b.code, b.name)), b.shape.clone())).collect();
            let membership = census
                .and_then(LsoaVintage::from_year)
                .map(|vintage| CodeMembership { codes: codes.iter().cloned().collect(), vintage });
            Ok(Resolved {
                description: AreaDescription {
                    kind: if is_ward { AreaKind::Ward } else { AreaKind::Lsoa },
                    codes: codes.clone(),
                    place_kinds: Vec::new(),
                    lsoa_census: census,
                    geometry: feature_collection(&named, &[]),
                },
                polygons: chosen.iter().map(|b| b.shape.clone()).collect(),
                circles: Vec::new(),
                codes: membership,
            })
        }
        AreaSpec::Place { names } => {
            let names: Vec<String> =
                names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect::<Vec<_>>();
            if names.is_empty() {
                return Err(AppError::invalid(field, format!("no {field} places named")));
            }
            let (mut polygons, mut circles, mut named) = (Vec::new(), Vec::new(), Vec::new());
            let places = db.places_named(field, &names).await?;
            for place in &places {
                let (p, c) = crate::places::outline(place)?;
                named.extend(p.iter().map(|shape| (Some(place.name.clone()), shape.clone())));
                polygons.extend(p);
                circles.extend(c);
            }
            Ok(Resolved {
                description: AreaDescription {
                    kind: AreaKind::Place,
                    codes: places.iter().map(|p| p.name.clone()).collect(),
                    place_kinds: places.iter().map(|p| p.kind.clone()).collect(),
                    lsoa_census: None,
                    geometry: feature_collection(&named, &circles),
                },
                polygons,
                circles,
                codes: None,
            })
        }
        AreaSpec::Suggested { .. } => Err(AppError::invalid(field, "a suggested area can only be the comparison")),
    }
}

/// Runs an evaluation design on the stored data.
pub async fn run(db: &Db, design: &EvaluationDesign) -> Result<EvaluationReport, AppError> {
    report(basis(db, design).await?)
}

/// The statistics of a basis; a design whose figures cannot be evaluated (a period with no
/// month of data, say) is refused naming the before period.
pub fn report(basis: EvaluationBasis) -> Result<EvaluationReport, AppError> {
    let result = evaluate(&basis.input).map_err(|e| AppError::invalid("before", format!("evaluation: {e}")))?;
    Ok(EvaluationReport { basis, result })
}

/// Resolves, fetches and selects: everything but the statistics.
pub async fn basis(db: &Db, design: &EvaluationDesign) -> Result<EvaluationBasis, AppError> {
    let (before, after) = (design.before, design.after);
    if after.from <= before.to {
        return Err(AppError::invalid(
            "after",
            format!("the after period ({after}) must start after the before period ({before}) ends"),
        ));
    }
    if let Some(w) = design.buffer_metres {
        if !(w.is_finite() && w > 0.0 && w <= 5_000.0) {
            return Err(AppError::invalid(
                "buffer_metres",
                format!("the buffer width must be between 0 and 5,000 metres (got {w})"),
            ));
        }
    }
    let imports = db.street_imports().await?;
    let missing: Vec<String> =
        before.months().chain(after.months()).filter(|m| !imports.contains_key(m)).map(|m| m.to_string()).collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(
            "before",
            format!(
                "no police street data is imported for {}: import those months or choose other periods",
                missing.join(", ")
            ),
        ));
    }
    let span = MonthRange { from: before.from.plus(-design.history_months.max(0)), to: after.to };
    let months: Vec<Month> = span.months().filter(|m| imports.contains_key(m)).collect();
    let import_ids: Vec<i64> = months.iter().flat_map(|m| imports[m].iter().copied()).collect();

    let projector = BngProjector::new().map_err(|e| AppError::internal(format!("projection: {e}")))?;
    let width = design.buffer_metres.unwrap_or(0.0);
    let target = resolve(db, &design.target, "target").await?;
    let target_area = SelectionArea::from_wgs84(&projector, &target.polygons, &target.circles, target.codes.clone())
        .map_err(|e| AppError::invalid("target", format!("target area: {e}")))?;

    let mut crimes: BTreeMap<i64, LocatedCrime> = BTreeMap::new();
    let fetch_box = target.bbox(width).ok_or_else(|| AppError::invalid("target", "the target area is empty"))?;
    // Before the months' records are read, as the months' coverage is checked above: an
    // area outside the data would count no crime and read as "no change".
    if let Some(held) = coverage::held_outside(db, fetch_box).await? {
        return Err(coverage::outside("target", "target area", &held));
    }
    for (id, c) in db.located_crimes(fetch_box, span, &design.crime_types).await? {
        crimes.insert(id, c);
    }

    let mut suggestion = None;
    let comparison = match &design.comparison {
        None => None,
        Some(AreaSpec::Suggested { count }) => {
            let near = Near { target: &target, area: &target_area, projector: &projector, crimes: &crimes };
            let (codes, ranked) = suggest(db, design, &near, (*count).clamp(1, 50)).await?;
            suggestion = Some(ranked);
            let mut resolved = resolve(db, &AreaSpec::Lsoa { codes }, "comparison").await?;
            resolved.description.kind = AreaKind::Suggested;
            Some(resolved)
        }
        Some(spec) => Some(resolve(db, spec, "comparison").await?),
    };
    let comparison_area = match &comparison {
        Some(c) => {
            if let Some(b) = c.bbox(width) {
                if let Some(held) = coverage::held_outside(db, b).await? {
                    return Err(coverage::outside("comparison", "comparison area", &held));
                }
                for (id, crime) in db.located_crimes(b, span, &design.crime_types).await? {
                    crimes.insert(id, crime);
                }
            }
            Some(
                SelectionArea::from_wgs84(&projector, &c.polygons, &c.circles, c.codes.clone())
                    .map_err(|e| AppError::invalid("comparison", format!("comparison area: {e}")))?,
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
    let roles = selection.classify(&projector, &crimes).map_err(|e| AppError::internal(format!("projection: {e}")))?;
    let counted = tally(&crimes, &roles, &months, before, after, selection.design());
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

/// The target as a suggestion starts from it: resolved, as a selection area, the projector
/// and the crimes already fetched around it.
struct Near<'a> {
    target: &'a Resolved,
    area: &'a SelectionArea,
    projector: &'a BngProjector,
    crimes: &'a BTreeMap<i64, LocatedCrime>,
}

/// Ranks LSOAs of the districts around the target (not in the target, not within the
/// buffer) by similarity of before-period level and trend; returns the top codes.
async fn suggest(
    db: &Db,
    design: &EvaluationDesign,
    near: &Near<'_>,
    count: usize,
) -> Result<(Vec<String>, Vec<ScoredCandidate>), AppError> {
    let Near { target, area: target_area, projector, crimes } = *near;
    let before = design.before;
    let vintage = lsoa_vintage_of(before.from);
    if lsoa_vintage_of(before.to) != vintage {
        return Err(AppError::invalid(
            "comparison",
            "a suggested comparison needs a before period within one LSOA census (all before 2023-01 or all from 2023-01)",
        ));
    }
    let kind = if vintage == LsoaVintage::Census2011 { "lsoa11" } else { "lsoa21" };
    // Districts of the LSOAs whose box meets the target's box.
    let tb = target.bbox(0.0).ok_or_else(|| AppError::invalid("target", "the target area is empty"))?;
    let all = parse_boundaries(db.boundaries(kind, None).await?)?;
    let districts: Vec<String> = all
        .iter()
        .filter(|b| {
            b.shape
                .bounding_rect()
                .is_some_and(|r| r.min().x <= tb[2] && tb[0] <= r.max().x && r.min().y <= tb[3] && tb[1] <= r.max().y)
        })
        .filter_map(|b| b.district.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // No district met (an empty list would read every district's).
    let near = if districts.is_empty() { Vec::new() } else { db.boundaries_in(kind, &districts).await? };
    let candidates_b = parse_boundaries(near)?;
    if candidates_b.is_empty() {
        // Say which is missing: boundaries at all, or police data where the target is.
        let outside = coverage::held_outside(db, tb).await?;
        return Err(coverage::nothing_to_suggest(kind, !all.is_empty(), outside.as_ref()));
    }
    let exclude_within = design.buffer_metres.unwrap_or(0.0);
    let target_codes: HashSet<&str> =
        target.codes.as_ref().map(|m| m.codes.iter().map(String::as_str).collect()).unwrap_or_default();
    let codes: Vec<String> =
        candidates_b.iter().filter(|b| !target_codes.contains(b.code.as_str())).map(|b| b.code.clone()).collect();
    let counts = db.lsoa_month_counts(before, &design.crime_types, &codes).await?;
    let mut candidates = Vec::new();
    for b in &candidates_b {
        if target_codes.contains(b.code.as_str()) {
            continue;
        }
        let area = SelectionArea::from_wgs84(projector, std::slice::from_ref(&b.shape), &[], None)
            .map_err(|e| AppError::internal(format!("projection: {e}")))?;
        let (Some(ab), Some(tbb)) = (area.bbox(), target_area.bbox()) else { continue };
        let gap_x = (ab[0] - tbb[2]).max(tbb[0] - ab[2]).max(0.0);
        let gap_y = (ab[1] - tbb[3]).max(tbb[1] - ab[3]).max(0.0);
        if (gap_x * gap_x + gap_y * gap_y).sqrt() <= exclude_within {
            // Exact test: distance between the candidate's outline and the target.
            let d = polygon_distance(projector, target_area, &b.shape)?;
            if d <= exclude_within {
                continue;
            }
        }
        let monthly = before.months().map(|m| counts.get(&(b.code.clone(), m)).copied().unwrap_or(0)).collect();
        candidates.push(Candidate { code: b.code.clone(), name: b.name.clone(), monthly });
    }
    // The target's before-period series from the crimes already fetched.
    let sel =
        AreaSelection { target: target_area.clone(), buffer_metres: None, comparison: None, comparison_buffer: false };
    let in_before: Vec<LocatedCrime> = crimes.values().filter(|c| before.contains(c.month)).cloned().collect();
    let roles = sel.classify(projector, &in_before).map_err(|e| AppError::internal(format!("projection: {e}")))?;
    let months: Vec<Month> = before.months().collect();
    let t = tally(&in_before, &roles, &months, before, before, sel.design());
    let target_monthly: Vec<u64> = t.monthly.iter().map(|r| r.counts.target).collect();
    let ranked = suggest_comparison(&target_monthly, &candidates, count);
    if ranked.is_empty() {
        return Err(AppError::invalid(
            "comparison",
            "no candidate comparison LSOA has any recorded crime in the before period",
        ));
    }
    Ok((ranked.iter().map(|c| c.code.clone()).collect(), ranked))
}

fn polygon_distance(
    projector: &BngProjector,
    target: &SelectionArea,
    shape: &MultiPolygon<f64>,
) -> Result<f64, AppError> {
    let mut best = f64::INFINITY;
    for p in &shape.0 {
        let projected = p
            .exterior()
            .0
            .iter()
            .map(|c| projector.to_bng(c.x, c.y).map(|(x, y)| geo::Coord { x, y }))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::internal(format!("projection: {e}")))?;
        best = best.min(target.distance_to_polygon(&geo::Polygon::new(geo::LineString(projected), vec![])));
    }
    Ok(best)
}

/// Runs a design and stores it with the intervention, recorded as `actor`'s.
pub async fn store(
    db: &Db,
    intervention_id: i64,
    design: &EvaluationDesign,
    actor: &Actor,
) -> Result<StoredEvaluation, AppError> {
    if db.intervention(intervention_id).await?.is_none() {
        return Err(AppError::not_found(format!("intervention {intervention_id}")));
    }
    let report = run(db, design).await?;
    Ok(db.store_evaluation(intervention_id, report, actor).await?)
}

/// Re-runs a stored evaluation's design on the current data and stores the new figures.
pub async fn rerun(
    db: &Db,
    intervention_id: i64,
    evaluation_id: i64,
    actor: &Actor,
) -> Result<StoredEvaluation, AppError> {
    let stored = db
        .evaluation(intervention_id, evaluation_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("evaluation {evaluation_id} of intervention {intervention_id}")))?;
    let report = run(db, &stored.report.basis.design).await?;
    Ok(db.update_evaluation(stored, report, actor).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_parsed_or_refused_in_words() {
        let circle = serde_json::json!({"type": "Feature", "properties": {"radius_metres": 150.0},
            "geometry": {"type": "Point", "coordinates": [-2.18, 53.0]}});
        let (polygons, circles) = parse_places(&circle).expect("a circle");
        assert!(polygons.is_empty());
        assert_eq!(circles.len(), 1);
        let line = serde_json::json!({"type": "LineString", "coordinates": [[-2.1, 53.0], [-2.2, 53.1]]});
        let e = parse_places(&line).expect_err("a line is not an area");
        assert!(e.to_string().contains("is not an area"), "{e}");
        let no_radius = serde_json::json!({"type": "Point", "coordinates": [-2.18, 53.0]});
        assert!(parse_places(&no_radius).expect_err("no radius").to_string().contains("radius_metres"));
        let projected = serde_json::json!({"type": "Point", "coordinates": [389000.0, 345000.0]});
        // An area to count crimes in is checked as a place is: in Great Britain, a sane radius.
        let swapped = serde_json::json!({"type": "Polygon", "coordinates": [[[53.0, -2.2], [53.1, -2.2], [53.1, -2.1], [53.0, -2.2]]]});
        assert!(parse_places(&swapped).is_ok(), "valid WGS84, so parse_places takes it");
        assert!(parse_area(&swapped).expect_err("not in GB").to_string().contains("not in Great Britain"));
        let wide = serde_json::json!({"type": "Feature", "properties": {"radius_metres": 1e9},
            "geometry": {"type": "Point", "coordinates": [-2.18, 53.02]}});
        assert!(parse_area(&wide).expect_err("too wide").to_string().contains("5,000 metres"));
        let e = parse_places(&serde_json::json!({"type": "Feature", "properties": {"radius_metres": 10.0},
            "geometry": projected}))
        .expect_err("not WGS84");
        assert!(e.to_string().contains("not WGS84"), "{e}");
    }
}
