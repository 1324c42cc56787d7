//! Spatial analysis over HTTP: `/api/v1/hotspots`, `/api/v1/kde`, `/api/v1/near-repeat`
//! (GET: the stored police data with query filters; POST: points in the body, a CSV with
//! the header `id,x,y,t` or JSON `{"points": [{"id", "x", "y", "t"}]}`),
//! `/api/v1/hotspots/optimized` and `/api/v1/hotspots/emerging` (GET, stored data; `place`
//! makes a place of the register the study area of either grid analysis),
//! `/api/v1/boundaries?kind=lsoa21&district=CODE` and `/api/v1/streets?district=CODE`
//! (GeoJSON, WGS84).
//!
//! Query parameters: `stat`, `cell`, `origin=X,Y`, `contiguity`, `distance-band`, `cells`, `place` (a
//! place id of the register as the study area)
//! (`area`, the default for stored data when boundaries are stored, or `bbox`), `areas`,
//! `significance` (`normal`, the default, or `permutation`), `permutations` (default 0 with
//! normal significance, 999 with permutation), `seed`, `alpha`, `alternative`,
//! `standardisation`, `format=json|geojson`; filters `crime-type` (comma list), `from`,
//! `to`, `district`, `lsoa` (comma list); KDE `kernel`, `radius` (metres or `auto`),
//! `truncate`; near-repeat `space-breaks`, `time-breaks`, `distance`.
//!
//! The use cases are `alliance_app::spatial`'s; every request is checked against its
//! bounds (`alliance_app::spatial::bounds`) before any work, and a request over a bound is
//! refused with a 422 problem document naming the bound.

use std::collections::HashMap;

use alliance_app::spatial::{
    self as svc, cache, json as out, Bounds, CellsMode, HotspotUnits, Hotspots, StoredHotspotRequest,
};
use alliance_app::AppError;
use alliance_core::analytics::spatial::hotspot_table::{HotspotSettings, HotspotStatistic, NeighbourRule};
use alliance_core::analytics::spatial::{
    knox, Alternative, Contiguity, DistanceMetric, Event, Kernel, KnoxOptions, PermutationOptions, SignificanceFrom,
    Standardisation,
};
use alliance_db::spatial::LocatedFilter;
use alliance_ingest::points::{read_points, PointRecord, PointsFile};
use alliance_ingest::SourceFile;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::Value;

use super::api::ApiError;
use crate::error::problem;
use crate::extract::ApiParams;
use crate::AppState;

pub fn routes(state: AppState) -> axum::Router<AppState> {
    // The analyses: a cap on how many one caller runs at once (`heavy`).
    let analyses = axum::Router::new()
        .route("/api/v1/hotspots", get(hotspots_stored).post(hotspots_posted))
        .route("/api/v1/hotspots/optimized", get(optimized_stored))
        .route("/api/v1/hotspots/emerging", get(emerging_stored))
        .route("/api/v1/kde", get(kde_stored).post(kde_posted))
        .route("/api/v1/near-repeat", get(near_repeat_stored).post(near_repeat_posted))
        .route_layer(axum::middleware::from_fn_with_state(state, crate::heavy::limit));
    axum::Router::new()
        .merge(analyses)
        .route("/api/v1/boundaries", get(boundaries))
        .route("/api/v1/streets", get(streets))
        .route("/map", get(super::map::page))
}

type Params = HashMap<String, String>;

/// Every parameter the analyses read (the module docs say what each means): one not among
/// them is a misspelling (`distrcit=E06000021`) and is refused (400), not ignored and
/// answered for the whole area.
const KNOWN_PARAMS: &[&str] = &[
    "all",
    "alpha",
    "alternative",
    "area",
    "areas",
    "band",
    "cell",
    "cells",
    "confidence",
    "contiguity",
    "crime-type",
    "distance",
    "distance-band",
    "district",
    "format",
    "from",
    "kernel",
    "lsoa",
    "origin",
    "period",
    "permutations",
    "place",
    "radius",
    "seed",
    "significance",
    "space-breaks",
    "standardisation",
    "stat",
    "time-breaks",
    "time-steps",
    "to",
    "truncate",
];

/// The analyses' parameters: each given once ([`ApiParams`]) and each one they know.
pub(crate) struct SpatialParams(pub Params);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SpatialParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        let params = ApiParams::from_request_parts(parts, state).await?;
        params.only(KNOWN_PARAMS)?;
        Ok(SpatialParams(params.0))
    }
}

/// The errors of these endpoints: [`ApiError`]'s, except that an analysis over a bound is a
/// 422 (the request is well formed, but Alliance will not do that much work; 413 is for
/// bodies), its detail naming the bound.
#[derive(Debug)]
pub(crate) enum Refusal {
    Api(ApiError),
    TooLarge(String),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        Refusal::Api(e)
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Refusal {
        match e {
            AppError::TooLarge { reason } => Refusal::TooLarge(reason),
            other => Refusal::Api(other.into()),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => e.into_response(),
            Refusal::TooLarge(reason) => {
                problem(StatusCode::UNPROCESSABLE_ENTITY, "More work than Alliance allows", &reason, None)
            }
        }
    }
}

fn bad(e: impl ToString) -> ApiError {
    ApiError::BadRequest(e.to_string())
}

fn number<T: std::str::FromStr>(p: &Params, key: &str, default: T) -> Result<T, ApiError> {
    match p.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| bad(format!("parameter \"{key}\": \"{v}\" is not a valid number"))),
    }
}

/// The parameter `key` as one of `choices` (its text in the query, its value), the first when
/// the parameter is absent; any other text is a 400 naming the choices.
fn choice<T: Copy>(p: &Params, key: &str, choices: &[(&str, T)]) -> Result<T, ApiError> {
    let Some(v) = p.get(key) else { return Ok(choices[0].1) };
    match choices.iter().find(|(text, _)| text == v) {
        Some((_, value)) => Ok(*value),
        None => {
            let names: Vec<&str> = choices.iter().map(|(text, _)| *text).collect();
            let expected = match names.split_last() {
                Some((last, [])) => last.to_string(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            };
            Err(bad(format!("parameter \"{key}\": \"{v}\": expected {expected}")))
        }
    }
}

fn list(p: &Params, key: &str) -> Vec<String> {
    p.get(key)
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// The most codes one filter list takes. Each becomes a query parameter (SQLite takes at most
/// 32,766 in a statement), and England and Wales have about 35,700 LSOAs and 330 districts: a
/// longer list is refused with a 400 before any work, not failed by the database.
pub(crate) const MAX_FILTER_CODES: usize = 5_000;

/// A filter list, refused when longer than [`MAX_FILTER_CODES`].
fn bounded_list(p: &Params, key: &str) -> Result<Vec<String>, ApiError> {
    let codes = list(p, key);
    if codes.len() > MAX_FILTER_CODES {
        return Err(bad(format!("parameter \"{key}\": {} codes, at most {MAX_FILTER_CODES}", codes.len())));
    }
    Ok(codes)
}

/// What the query's `area` asks for, following `/api/v1/counts`: `partnership` (the default),
/// `everywhere`, or a comma list of district codes.
enum AreaAsked {
    /// The partnership's districts, as on the map ([`svc::default_area`]).
    Partnership,
    /// Every record held, other forces' too.
    Everywhere,
    /// Records in any of these districts.
    Districts(Vec<String>),
}

fn area_asked(p: &Params) -> Result<AreaAsked, ApiError> {
    let codes = bounded_list(p, "area")?;
    let district = p.get("district").is_some_and(|d| !d.is_empty());
    match codes.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["partnership"] => Ok(AreaAsked::Partnership),
        ["everywhere"] if district => {
            Err(bad("parameter \"area\": everywhere and a district cannot both be asked for"))
        }
        ["everywhere"] => Ok(AreaAsked::Everywhere),
        ref many if many.iter().any(|c| ["partnership", "everywhere"].contains(c)) => {
            Err(bad("parameter \"area\": partnership or everywhere alone, or a comma list of district codes"))
        }
        _ => Ok(AreaAsked::Districts(codes)),
    }
}

/// The filter of the query, its area only as a list of codes names it (points sent are
/// analysed where they lie; stored records go through [`stored_filter`]).
pub(crate) fn filter(p: &Params) -> Result<LocatedFilter, ApiError> {
    let month = |key: &str| -> Result<_, ApiError> {
        p.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().map_err(|e| bad(format!("parameter \"{key}\": {e}"))))
            .transpose()
    };
    Ok(LocatedFilter {
        crime_types: bounded_list(p, "crime-type")?,
        from: month("from")?,
        to: month("to")?,
        district: p.get("district").filter(|d| !d.is_empty()).cloned(),
        lsoas: bounded_list(p, "lsoa")?,
        area: match area_asked(p)? {
            AreaAsked::Districts(codes) => codes,
            AreaAsked::Partnership | AreaAsked::Everywhere => Vec::new(),
        },
    })
}

/// The stored-data filter of the query: without `area` (or with `area=partnership`), the
/// partnership's districts unless a district or LSOAs are named, the default the map uses
/// ([`svc::default_area`]); a database may hold other forces' records, and analysing those
/// too answered for the wrong area and stretched the grid over them. `area=everywhere`
/// asks for every record held.
async fn stored_filter(db: &alliance_db::Db, p: &Params) -> Result<LocatedFilter, Refusal> {
    let mut filter = filter(p)?;
    if let AreaAsked::Partnership = area_asked(p)? {
        filter.area = svc::default_area(db, filter.district.as_deref(), &filter.lsoas).await?;
    }
    Ok(filter)
}

/// Hotspot settings and neighbours of the query.
pub(crate) fn hotspot_settings(p: &Params) -> Result<(HotspotSettings, NeighbourRule, SignificanceFrom), ApiError> {
    let statistic = HotspotStatistic::parse(p.get("stat").map(String::as_str).unwrap_or("gi-star")).map_err(bad)?;
    let significance = choice(
        p,
        "significance",
        &[("normal", SignificanceFrom::Normal), ("permutation", SignificanceFrom::Permutation)],
    )?;
    let default_permutations = if significance == SignificanceFrom::Permutation { 999 } else { 0 };
    let permutations: usize = number(p, "permutations", default_permutations)?;
    let alternative =
        choice(p, "alternative", &[("two-sided", Alternative::TwoSided), ("directed", Alternative::Directed)])?;
    let standardisation =
        choice(p, "standardisation", &[("row", Standardisation::Row), ("binary", Standardisation::Binary)])?;
    let neighbours = match (p.get("distance-band"), p.get("contiguity").map(String::as_str)) {
        (Some(_), Some(_)) => return Err(bad("give either contiguity or distance-band, not both")),
        (Some(_), None) => NeighbourRule::DistanceBand(number(p, "distance-band", 0.0)?),
        (None, None | Some("queen")) => NeighbourRule::Contiguity(Contiguity::Queen),
        (None, Some("rook")) => NeighbourRule::Contiguity(Contiguity::Rook),
        (None, Some(o)) => return Err(bad(format!("parameter \"contiguity\": \"{o}\": expected queen or rook"))),
    };
    let settings = HotspotSettings {
        statistic,
        permutation: PermutationOptions { permutations, seed: number(p, "seed", 12345)?, alternative },
        alpha: number(p, "alpha", 0.05)?,
        standardisation,
    };
    Ok((settings, neighbours, significance))
}

fn origin(p: &Params) -> Result<Option<(f64, f64)>, ApiError> {
    let Some(text) = p.get("origin") else { return Ok(None) };
    let parts: Vec<f64> = text.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    match parts.as_slice() {
        [x, y] => Ok(Some((*x, *y))),
        _ => Err(bad(format!("parameter \"origin\": \"{text}\": expected X,Y in metres"))),
    }
}

fn geojson_wanted(p: &Params) -> Result<bool, ApiError> {
    choice(p, "format", &[("json", false), ("geojson", true)])
}

/// Points posted as CSV or JSON.
fn posted_points(body: &str) -> Result<PointsFile, ApiError> {
    if body.trim_start().starts_with('{') {
        let v: Value = serde_json::from_str(body).map_err(|e| bad(format!("request body: not JSON: {e}")))?;
        let items = v
            .get("points")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("request body: expected {\"points\": [...]}"))?;
        let points = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let f = |k: &str| item.get(k).and_then(Value::as_f64);
                let (Some(x), Some(y)) = (f("x"), f("y")) else {
                    return Err(bad(format!("request body: point {}: x and y must be numbers", i + 1)));
                };
                let id =
                    item.get("id").map(|v| v.to_string().trim_matches('"').to_string()).unwrap_or((i + 1).to_string());
                Ok(PointRecord { id, x, y, t: f("t"), line: i as u64 + 1 })
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(PointsFile { name: "request body".into(), points });
    }
    read_points(&SourceFile::from_bytes("request body", body.as_bytes().to_vec())).map_err(bad)
}

/// `place`: the id of a place of the register as the study area of a grid analysis.
fn place(p: &Params) -> Result<Option<i64>, ApiError> {
    match p.get("place").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(id) => id.parse().map(Some).map_err(|_| bad(format!("parameter \"place\": \"{id}\" is not a place id"))),
    }
}

/// The hotspot analysis the query asks for (points aside).
pub(crate) fn hotspot_request(p: &Params) -> Result<StoredHotspotRequest, ApiError> {
    let (settings, neighbours, significance) = hotspot_settings(p)?;
    let units = match (p.get("areas"), p.get("cells").map(String::as_str)) {
        (Some(_), _) if p.contains_key("place") => {
            return Err(bad("parameter \"place\": a place is the study area of a grid analysis, not of areas"))
        }
        (Some(kind), _) if ["lsoa21", "lsoa11", "ward"].contains(&kind.as_str()) => HotspotUnits::Areas(kind.clone()),
        (Some(kind), _) => {
            return Err(bad(format!("parameter \"areas\": \"{kind}\": expected lsoa21, lsoa11 or ward")))
        }
        (None, cells @ (None | Some("bbox" | "area"))) => HotspotUnits::Grid {
            cell: number(p, "cell", 250.0)?,
            origin: origin(p)?,
            cells: match (cells, place(p)?) {
                (Some("bbox"), Some(_)) => {
                    return Err(bad("parameter \"place\": a place is a study area; it cannot be used with cells=bbox"))
                }
                (_, Some(id)) => CellsMode::Place(id),
                (Some("bbox"), None) => CellsMode::BoundingBox,
                (Some(_), None) => CellsMode::StudyArea,
                (None, None) => CellsMode::Auto,
            },
        },
        (None, Some(o)) => return Err(bad(format!("parameter \"cells\": \"{o}\": expected bbox or area"))),
    };
    Ok(StoredHotspotRequest { filter: filter(p)?, units, neighbours, settings, significance })
}

/// [`hotspot_request`] of the stored records ([`stored_filter`]).
async fn stored_hotspot_request(db: &alliance_db::Db, p: &Params) -> Result<StoredHotspotRequest, Refusal> {
    Ok(StoredHotspotRequest { filter: stored_filter(db, p).await?, ..hotspot_request(p)? })
}

fn hotspots_value(h: &Hotspots, settings: &HotspotSettings, geojson: bool) -> Result<Value, Refusal> {
    Ok(match h {
        Hotspots::Areas { hotspots, areas } if geojson => out::area_hotspots_geojson(hotspots, settings, areas),
        Hotspots::Areas { hotspots, .. } => out::area_hotspots_json(hotspots, settings),
        Hotspots::Grid(g) if geojson => out::grid_hotspots_geojson(g).map_err(AppError::from)?,
        Hotspots::Grid(g) => out::grid_hotspots_json(g),
    })
}

/// The stored data's hotspots: from the cache the map page shares (see `hotspot_cache`).
async fn hotspots_stored(
    State(state): State<AppState>,
    SpatialParams(p): SpatialParams,
) -> Result<Json<Value>, Refusal> {
    let request = stored_hotspot_request(&state.db, &p).await?;
    let geojson = geojson_wanted(&p)?;
    let h = state.hotspot_cache.stored_hotspots(&state.db, &request, &Bounds::default()).await?;
    Ok(Json(hotspots_value(&h, &request.settings, geojson)?))
}

async fn hotspots_posted(
    State(state): State<AppState>,
    SpatialParams(p): SpatialParams,
    body: String,
) -> Result<Json<Value>, Refusal> {
    let request = hotspot_request(&p)?;
    let geojson = geojson_wanted(&p)?;
    let points = posted_points(&body)?.coordinates();
    let h = cache::compute(&state.db, &request, points, CellsMode::BoundingBox, &Bounds::default()).await?;
    Ok(Json(hotspots_value(&h, &request.settings, geojson)?))
}

async fn kde(p: &Params, points: Vec<(f64, f64)>) -> Result<Json<Value>, Refusal> {
    let kernel = match p.get("kernel").map(String::as_str) {
        None | Some("quartic") => Kernel::Quartic,
        Some("epanechnikov") => Kernel::Epanechnikov,
        Some("gaussian") => Kernel::Gaussian { truncate: number(p, "truncate", 3.0)? },
        Some(o) => {
            return Err(bad(format!("parameter \"kernel\": \"{o}\": expected quartic, epanechnikov or gaussian")).into())
        }
    };
    let radius = match p.get("radius").map(String::as_str) {
        None | Some("auto") => None,
        Some(_) => Some(number(p, "radius", 0.0)?),
    };
    let (cell, origin, geojson) = (number(p, "cell", 50.0)?, origin(p)?, geojson_wanted(p)?);
    let surface =
        svc::blocking(move || svc::kde_surface(&points, cell, origin, kernel, radius, &Bounds::default())).await?;
    Ok(Json(if geojson { out::kde_geojson(&surface).map_err(AppError::from)? } else { out::kde_json(&surface) }))
}

/// Density of the stored records in the study area (records far outside it would stretch the
/// grid), or inside the place `place` names; `dropped_outside_area` says how many were left out.
async fn kde_stored(State(state): State<AppState>, SpatialParams(p): SpatialParams) -> Result<Json<Value>, Refusal> {
    let (points, dropped) = svc::stored_points_in(&state.db, &stored_filter(&state.db, &p).await?, place(&p)?).await?;
    let Json(mut value) = kde(&p, points).await?;
    let target = if value.get("properties").is_some() { &mut value["properties"] } else { &mut value };
    target["dropped_outside_area"] = Value::from(dropped);
    Ok(Json(value))
}

async fn kde_posted(SpatialParams(p): SpatialParams, body: String) -> Result<Json<Value>, Refusal> {
    kde(&p, posted_points(&body)?.coordinates()).await
}

async fn near_repeat_stored() -> Response {
    ApiError::Invalid { field: "points", reason: svc::NEAR_REPEAT_NEEDS_DATES.into() }.into_response()
}

fn breaks(p: &Params, key: &str, default: &str) -> Result<Vec<f64>, ApiError> {
    p.get(key)
        .map(String::as_str)
        .unwrap_or(default)
        .split(',')
        .map(|s| match s.trim().to_ascii_lowercase().as_str() {
            "inf" | "infinity" => Ok(f64::INFINITY),
            t => t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(format!("parameter \"{key}\": \"{s}\" is not a number or inf"))),
        })
        .collect()
}

async fn near_repeat_posted(SpatialParams(p): SpatialParams, body: String) -> Result<Json<Value>, Refusal> {
    let file = posted_points(&body)?;
    if let Some(pt) = file.first_without_time() {
        return Err(bad(format!(
            "request body: line {}: near-repeat analysis needs a time t in days for every point",
            pt.line
        ))
        .into());
    }
    let permutations: usize = number(&p, "permutations", 999)?;
    Bounds::default().check_knox(file.points.len(), permutations)?;
    let opts = KnoxOptions {
        space_breaks: breaks(&p, "space-breaks", "0,1,100,200,300,inf")?,
        time_breaks: breaks(&p, "time-breaks", "0,7,14,21,inf")?,
        metric: choice(
            &p,
            "distance",
            &[("manhattan", DistanceMetric::Manhattan), ("euclidean", DistanceMetric::Euclidean)],
        )?,
        permutations,
        seed: number(&p, "seed", 12345)?,
    };
    let events: Vec<Event> = file.points.iter().map(|pt| Event { x: pt.x, y: pt.y, t: pt.t.unwrap_or(0.0) }).collect();
    let (result, opts) = svc::blocking(move || Ok((knox(&events, &opts)?, opts))).await?;
    Ok(Json(out::knox_json(&result, &opts.space_breaks, &opts.time_breaks)))
}

async fn boundaries(State(state): State<AppState>, params: ApiParams) -> Result<Json<Value>, Refusal> {
    params.only(&["kind", "district"])?;
    let p = &params.0;
    let kind = p.get("kind").map(String::as_str).unwrap_or("lsoa21");
    if !["lsoa21", "lsoa11", "ward"].contains(&kind) {
        return Err(bad(format!("parameter \"kind\": \"{kind}\": expected lsoa21, lsoa11 or ward")).into());
    }
    let district = p.get("district").filter(|d| !d.is_empty()).map(String::as_str);
    // A district nothing is held of is refused (422), not answered with no features, which
    // reads as "no areas there" (ward boundaries may be held with only the district's name).
    if let Some(d) = district {
        alliance_app::bounds::districts_known(&state.db, "district", &[d.to_string()]).await?;
    }
    Ok(Json(svc::boundaries_geojson(&state.db, kind, district).await?))
}

/// Optimized hot spot analysis of the stored data: `cell` and `band` (metres; chosen from the
/// data when absent), `alpha`, the filters, `format`.
async fn optimized_stored(
    State(state): State<AppState>,
    SpatialParams(p): SpatialParams,
) -> Result<Json<Value>, Refusal> {
    use alliance_app::spatial::optimized::{optimized_stored, OptimizedRequest};
    let optional = |key: &str| -> Result<Option<f64>, ApiError> {
        p.get(key).filter(|v| !v.is_empty() && v.as_str() != "auto").map(|_| number(&p, key, 0.0)).transpose()
    };
    let request = OptimizedRequest {
        filter: stored_filter(&state.db, &p).await?,
        cell: optional("cell")?,
        band: optional("band")?,
        alpha: number(&p, "alpha", 0.05)?,
    };
    let geojson = geojson_wanted(&p)?;
    let h = optimized_stored(&state.db, &request, &Bounds::default()).await?;
    Ok(Json(if geojson { out::optimized_geojson(&h).map_err(AppError::from)? } else { out::optimized_json(&h) }))
}

/// The emerging hot spot request of a query, of the stored records ([`stored_filter`]).
async fn emerging_request(
    db: &alliance_db::Db,
    p: &Params,
) -> Result<alliance_app::spatial::emerging::EmergingRequest, Refusal> {
    use alliance_core::analytics::spatial::{Confidence, SliceLength};
    let slice = choice(p, "period", &[("month", SliceLength::Month), ("quarter", SliceLength::Quarter)])?;
    let confidence = choice(
        p,
        "confidence",
        &[("90", Confidence::Ninety), ("95", Confidence::NinetyFive), ("99", Confidence::NinetyNine)],
    )?;
    Ok(alliance_app::spatial::emerging::EmergingRequest {
        filter: stored_filter(db, p).await?,
        cell: number(p, "cell", 250.0)?,
        band: p.get("band").filter(|v| !v.is_empty()).map(|_| number(p, "band", 0.0)).transpose()?,
        slice,
        time_steps: number(p, "time-steps", 1)?,
        confidence,
        place: place(p)?,
    })
}

/// Emerging hot spot analysis of the stored data: `cell`, `band`, `period=month|quarter`,
/// `time-steps`, `confidence=90|95|99`, `place` (a place id as the study area), the filters
/// (`from`/`to` make the period), `format` (GeoJSON: the cells with a pattern, or every cell
/// with `all=true`). From the cache the map page shares.
async fn emerging_stored(
    State(state): State<AppState>,
    SpatialParams(p): SpatialParams,
) -> Result<Json<Value>, Refusal> {
    let request = emerging_request(&state.db, &p).await?;
    let geojson = geojson_wanted(&p)?;
    let all = p.get("all").is_some_and(|v| v == "true");
    let e = state.hotspot_cache.stored_emerging(&state.db, &request, &Bounds::default()).await?;
    Ok(Json(if geojson { out::emerging_geojson(&e, all).map_err(AppError::from)? } else { out::emerging_json(&e) }))
}

/// The streets the police data names, as points (GeoJSON, WGS84): the map's offline
/// background. `district` limits them to one district.
async fn streets(State(state): State<AppState>, params: ApiParams) -> Result<Json<Value>, Refusal> {
    params.only(&["district"])?;
    let district = params.0.get("district").filter(|d| !d.is_empty()).map(String::as_str);
    if let Some(d) = district {
        alliance_app::bounds::districts_held(&state.db, "district", &[d.to_string()]).await?;
    }
    Ok(Json(svc::streets_geojson(&state.db, district).await?))
}
