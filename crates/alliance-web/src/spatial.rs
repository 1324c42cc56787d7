//! Spatial analysis as a service shared by the command line, the JSON API and the map:
//! loading located police records (projected to British National Grid metres), study
//! areas from the stored boundaries, running the core analytics, and the JSON and GeoJSON
//! shapes of the results. GeoJSON is WGS84 longitude/latitude (RFC 7946): grid cells are
//! drawn by projecting their corners back with [`BngProjector::to_wgs84`].

use alliance_core::analytics::spatial::hotspot_table::{
    grid_units, grid_weights, local_hotspots, GridUnits, HotspotRow, HotspotSettings, HotspotStatistic, HotspotTable,
    NeighbourRule,
};
use alliance_core::analytics::spatial::{
    arcgis_default_radius, global_moran, kde, Contiguity, GlobalMoran, Kernel, KnoxResult, SpatialError, Weights,
};
use alliance_core::domain::Month;
use alliance_core::geo::adjacency::{polygon_neighbours, DEFAULT_TOLERANCE};
use alliance_core::geo::grid::{count_points_in_areas, GridSpec};
use alliance_core::geo::projection::{BngProjector, ProjectionError};
use alliance_db::spatial::{BoundaryShape, LocatedFilter};
use alliance_db::{Db, DbError};
use geo::{Centroid, MapCoords, MultiPolygon};
use serde_json::{json, Value};

/// Why a spatial request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum SpatialServiceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Spatial(#[from] SpatialError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("{0}")]
    Invalid(String),
    #[error("No located police records match these filters.")]
    NoLocatedRecords,
    /// The blocking task running an analysis panicked or was cancelled.
    #[error("the analysis stopped before it finished: {0}")]
    Task(String),
}

/// The message near-repeat analysis gives for stored street-level police data.
pub const NEAR_REPEAT_NEEDS_DATES: &str = "near-repeat analysis needs the day of each event, but street-level \
     police data gives only the month: use a points file with a t column (days), e.g. --points events.csv";

/// Located police records projected to National Grid metres, with their months.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoints {
    pub xy: Vec<(f64, f64)>,
    pub months: Vec<Month>,
}

/// Loads and projects the located police records matching `filter`.
pub async fn stored_points(db: &Db, filter: &LocatedFilter) -> Result<StoredPoints, SpatialServiceError> {
    let crimes = db.located_police_records(filter).await?;
    let projector = BngProjector::new()?;
    let lon_lat: Vec<(f64, f64)> = crimes.iter().map(|c| (c.longitude, c.latitude)).collect();
    let xy = projector.to_bng_many(&lon_lat)?;
    Ok(StoredPoints { xy, months: crimes.iter().map(|c| c.month).collect() })
}

/// An area (LSOA, ward) with its outline in both coordinate systems.
#[derive(Debug, Clone)]
pub struct Area {
    pub stored: BoundaryShape,
    /// The outline in National Grid metres.
    pub bng: MultiPolygon<f64>,
}

/// The stored boundaries of `kind` (`lsoa21`, `lsoa11`, `ward`), optionally of one district,
/// projected to National Grid metres.
pub async fn areas(db: &Db, kind: &str, district: Option<&str>) -> Result<Vec<Area>, SpatialServiceError> {
    let shapes = db.boundary_shapes(kind, district).await?;
    if shapes.is_empty() {
        return Err(SpatialServiceError::Invalid(format!(
            "no {kind} boundaries are stored{}: import the boundary files first",
            district.map(|d| format!(" for district {d}")).unwrap_or_default()
        )));
    }
    let projector = BngProjector::new()?;
    shapes
        .into_iter()
        .map(|stored| {
            let bng =
                stored.shape.try_map_coords(|c| projector.to_bng(c.x, c.y).map(|(x, y)| geo::coord! { x: x, y: y }))?;
            Ok(Area { stored, bng })
        })
        .collect()
}

/// The study area as one multipolygon: every area's polygons together. For areas that tile
/// without overlapping (LSOAs) this covers exactly their union, which is all the grid's
/// cell selection needs (it tests centres by the even–odd rule and cells crossed by edges).
pub fn study_area(areas: &[Area]) -> MultiPolygon<f64> {
    MultiPolygon(areas.iter().flat_map(|a| a.bng.0.iter().cloned()).collect())
}

/// A grid hotspot analysis: how it was asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridRequest {
    pub cell: f64,
    pub origin: Option<(f64, f64)>,
    pub neighbours: NeighbourRule,
    pub settings: HotspotSettings,
}

/// The result of a grid hotspot analysis.
#[derive(Debug, Clone)]
pub struct GridHotspots {
    pub request: GridRequest,
    pub units: GridUnits,
    /// `"bbox"` or `"area"`.
    pub cells_mode: &'static str,
    pub points: usize,
    pub result: HotspotResult,
}

/// A local statistic per unit, or global Moran's I.
#[derive(Debug, Clone)]
pub enum HotspotResult {
    Local(HotspotTable),
    Global(GlobalMoran),
}

fn run_statistic(values: &[i64], weights: &Weights, s: &HotspotSettings) -> Result<HotspotResult, SpatialError> {
    Ok(match s.statistic {
        HotspotStatistic::Moran => {
            HotspotResult::Global(global_moran(values, weights, s.standardisation, &s.permutation)?)
        }
        _ => HotspotResult::Local(local_hotspots(values, weights, s)?),
    })
}

/// Counts points on the grid (all cells of the bounding box, or those meeting `area`) and
/// runs the statistic.
pub fn grid_hotspots(
    points: &[(f64, f64)],
    area: Option<&MultiPolygon<f64>>,
    request: GridRequest,
) -> Result<GridHotspots, SpatialError> {
    let units = grid_units(points, request.cell, request.origin, area)?;
    let weights = grid_weights(&units, request.neighbours)?;
    let result = run_statistic(&units.counts, &weights, &request.settings)?;
    Ok(GridHotspots {
        request,
        units,
        cells_mode: if area.is_some() { "area" } else { "bbox" },
        points: points.len(),
        result,
    })
}

/// Weights between areas: queen or rook contiguity from shared boundary vertices, or a
/// distance band between centroids.
pub fn area_weights(areas: &[Area], rule: NeighbourRule) -> Result<Weights, SpatialError> {
    match rule {
        NeighbourRule::Contiguity(kind) => {
            let shapes: Vec<MultiPolygon<f64>> = areas.iter().map(|a| a.bng.clone()).collect();
            Weights::from_neighbours(&polygon_neighbours(&shapes, kind, DEFAULT_TOLERANCE))
        }
        NeighbourRule::DistanceBand(band) => {
            let centres: Vec<(f64, f64)> = areas
                .iter()
                .map(|a| a.bng.centroid().map(|p| (p.x(), p.y())).unwrap_or((f64::NAN, f64::NAN)))
                .collect();
            Weights::distance_band(&centres, band)
        }
    }
}

/// The result of an area hotspot analysis.
#[derive(Debug, Clone)]
pub struct AreaHotspots {
    pub kind: String,
    pub codes: Vec<String>,
    pub names: Vec<String>,
    pub counts: Vec<i64>,
    pub outside: usize,
    pub points: usize,
    pub neighbours: NeighbourRule,
    pub result: HotspotResult,
}

/// Counts points per area and runs the statistic over area contiguity or distance band.
pub fn area_hotspots(
    kind: &str,
    points: &[(f64, f64)],
    areas: &[Area],
    neighbours: NeighbourRule,
    settings: &HotspotSettings,
) -> Result<AreaHotspots, SpatialError> {
    let shapes: Vec<MultiPolygon<f64>> = areas.iter().map(|a| a.bng.clone()).collect();
    let counted = count_points_in_areas(&shapes, points)
        .map_err(|e| SpatialError::BadParameter { what: "points", why: e.to_string() })?;
    let weights = area_weights(areas, neighbours)?;
    let result = run_statistic(&counted.counts, &weights, settings)?;
    Ok(AreaHotspots {
        kind: kind.to_string(),
        codes: areas.iter().map(|a| a.stored.code.clone()).collect(),
        names: areas.iter().map(|a| a.stored.name.clone()).collect(),
        counts: counted.counts,
        outside: counted.outside,
        points: points.len(),
        neighbours,
        result,
    })
}

/// The statistic's own columns, after the common ones.
pub fn own_columns(statistic: HotspotStatistic) -> &'static [&'static str] {
    match statistic {
        HotspotStatistic::GiStar => &["gi_star", "gi_bin"],
        HotspotStatistic::Gi => &["gi", "gi_bin"],
        HotspotStatistic::LocalMoran => &["local_i", "quadrant"],
        HotspotStatistic::Moran => &[],
    }
}

/// The statistic's own values of one row, as text (for CSV) in [`own_columns`] order.
pub fn own_values(statistic: HotspotStatistic, row: &HotspotRow) -> Vec<String> {
    match statistic {
        HotspotStatistic::GiStar | HotspotStatistic::Gi => vec![row.value.to_string(), row.bin.to_string()],
        HotspotStatistic::LocalMoran => {
            vec![row.value.to_string(), row.quadrant.map(|q| format!("{q:?}")).unwrap_or_default()]
        }
        HotspotStatistic::Moran => vec![],
    }
}

fn row_json(statistic: HotspotStatistic, row: &HotspotRow) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("count".into(), json!(row.count));
    m.insert("z".into(), json!(row.z));
    m.insert("p_norm".into(), json!(row.p_norm));
    m.insert("p_sim".into(), json!(row.p_sim));
    m.insert("q_value".into(), json!(row.q_value));
    m.insert("significant".into(), json!(row.significant));
    match statistic {
        HotspotStatistic::GiStar => {
            m.insert("gi_star".into(), json!(row.value));
            m.insert("gi_bin".into(), json!(row.bin));
        }
        HotspotStatistic::Gi => {
            m.insert("gi".into(), json!(row.value));
            m.insert("gi_bin".into(), json!(row.bin));
        }
        HotspotStatistic::LocalMoran => {
            m.insert("local_i".into(), json!(row.value));
            m.insert("quadrant".into(), json!(row.quadrant));
        }
        HotspotStatistic::Moran => {}
    }
    m
}

fn neighbours_json(rule: NeighbourRule) -> Value {
    match rule {
        NeighbourRule::Contiguity(Contiguity::Queen) => json!({ "contiguity": "queen" }),
        NeighbourRule::Contiguity(Contiguity::Rook) => json!({ "contiguity": "rook" }),
        NeighbourRule::DistanceBand(d) => json!({ "distance_band_m": d }),
    }
}

fn header_json(result: &HotspotResult, settings: &HotspotSettings) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("statistic".into(), json!(settings.statistic.name()));
    m.insert("alternative".into(), json!(settings.permutation.alternative));
    m.insert("permutations".into(), json!(settings.permutation.permutations));
    m.insert("seed".into(), json!(settings.permutation.seed));
    match result {
        HotspotResult::Local(t) => {
            m.insert("alpha".into(), json!(t.alpha));
            m.insert("fdr".into(), json!("benjamini-hochberg"));
            m.insert("significance_from".into(), json!(t.significance_from));
            m.insert("significant".into(), json!(t.significant));
        }
        HotspotResult::Global(g) => {
            m.insert("moran".into(), json!(g));
        }
    }
    if matches!(settings.statistic, HotspotStatistic::LocalMoran | HotspotStatistic::Moran) {
        m.insert("standardisation".into(), json!(settings.standardisation));
    }
    m
}

/// JSON of a grid analysis: settings, the grid, and one object per cell.
pub fn grid_hotspots_json(h: &GridHotspots) -> Value {
    let mut m = header_json(&h.result, &h.request.settings);
    m.insert("units".into(), json!("grid"));
    m.insert("crs".into(), json!("EPSG:27700"));
    m.insert("neighbours".into(), neighbours_json(h.request.neighbours));
    m.insert("grid".into(), json!(h.units.grid));
    m.insert("cells".into(), json!(h.cells_mode));
    m.insert("points".into(), json!(h.points));
    m.insert("outside".into(), json!(h.units.outside));
    if let HotspotResult::Local(t) = &h.result {
        let rows: Vec<Value> = t
            .rows
            .iter()
            .zip(&h.units.cells)
            .map(|(row, &cell)| {
                let (x_min, y_min) = h.units.grid.min_corner(cell);
                let mut o = serde_json::Map::new();
                o.insert("ix".into(), json!(cell.ix));
                o.insert("iy".into(), json!(cell.iy));
                o.insert("x_min".into(), json!(x_min));
                o.insert("y_min".into(), json!(y_min));
                o.extend(row_json(t.statistic, row));
                Value::Object(o)
            })
            .collect();
        m.insert("rows".into(), Value::Array(rows));
    }
    Value::Object(m)
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// A square of National Grid metres as a WGS84 GeoJSON polygon ring (counter-clockwise).
pub fn square_ring(projector: &BngProjector, x0: f64, y0: f64, size: f64) -> Result<Value, ProjectionError> {
    let corners = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)];
    let ring = corners
        .iter()
        .map(|&(x, y)| projector.to_wgs84(x, y).map(|(lon, lat)| json!([round7(lon), round7(lat)])))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!([ring]))
}

/// GeoJSON (WGS84) of a grid analysis: one polygon per cell with the row's properties;
/// the analysis settings in a `properties` member of the collection.
pub fn grid_hotspots_geojson(h: &GridHotspots) -> Result<Value, ProjectionError> {
    let projector = BngProjector::new()?;
    let header = grid_hotspots_json(h);
    let mut features = Vec::new();
    if let Some(rows) = header.get("rows").and_then(Value::as_array) {
        for (row, &cell) in rows.iter().zip(&h.units.cells) {
            let (x0, y0) = h.units.grid.min_corner(cell);
            features.push(json!({
                "type": "Feature",
                "geometry": { "type": "Polygon", "coordinates": square_ring(&projector, x0, y0, h.units.grid.size)? },
                "properties": row,
            }));
        }
    }
    let mut props = header.as_object().cloned().unwrap_or_default();
    props.remove("rows");
    props.insert("crs".into(), json!("EPSG:4326"));
    Ok(json!({ "type": "FeatureCollection", "properties": props, "features": features }))
}

/// JSON of an area analysis: settings and one object per area.
pub fn area_hotspots_json(h: &AreaHotspots, settings: &HotspotSettings) -> Value {
    let mut m = header_json(&h.result, settings);
    m.insert("units".into(), json!(h.kind));
    m.insert("neighbours".into(), neighbours_json(h.neighbours));
    m.insert("points".into(), json!(h.points));
    m.insert("outside".into(), json!(h.outside));
    if let HotspotResult::Local(t) = &h.result {
        let rows: Vec<Value> = t
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut o = serde_json::Map::new();
                o.insert("code".into(), json!(h.codes[i]));
                o.insert("name".into(), json!(h.names[i]));
                o.extend(row_json(t.statistic, row));
                Value::Object(o)
            })
            .collect();
        m.insert("rows".into(), Value::Array(rows));
    }
    Value::Object(m)
}

/// GeoJSON (WGS84, the stored outlines) of an area analysis.
pub fn area_hotspots_geojson(h: &AreaHotspots, settings: &HotspotSettings, areas: &[Area]) -> Value {
    let mut header = area_hotspots_json(h, settings);
    let rows = header.as_object_mut().and_then(|m| m.remove("rows"));
    let features: Vec<Value> = match rows {
        Some(Value::Array(rows)) => rows
            .into_iter()
            .zip(areas)
            .map(|(row, a)| json!({ "type": "Feature", "geometry": multipolygon_json(&a.stored.shape), "properties": row }))
            .collect(),
        _ => Vec::new(),
    };
    json!({ "type": "FeatureCollection", "properties": header, "features": features })
}

/// A multipolygon as GeoJSON geometry (coordinates rounded to 1e-7 degree, about 1 cm).
pub fn multipolygon_json(shape: &MultiPolygon<f64>) -> Value {
    let ring = |r: &geo::LineString<f64>| -> Value { r.0.iter().map(|c| json!([round7(c.x), round7(c.y)])).collect() };
    let polygons: Vec<Value> = shape
        .0
        .iter()
        .map(|p| Value::Array(std::iter::once(ring(p.exterior())).chain(p.interiors().iter().map(ring)).collect()))
        .collect();
    json!({ "type": "MultiPolygon", "coordinates": polygons })
}

/// Tolerance of the simplified outlines of [`place_picker_geojson`], in degrees (35 to 55 m
/// here): finer than the 250 m cells reports are published in and than a finger on a phone,
/// and it makes the file several times smaller.
const PICKER_TOLERANCE_DEGREES: f64 = 0.0005;

/// GeoJSON (WGS84) of the stored wards, simplified (Ramer–Douglas–Peucker) and rounded to
/// 5 decimals (about 1 m), each with its name and its district's name: the clickable areas
/// of the public report form's map. Public, as ward boundaries are published by the ONS.
pub async fn place_picker_geojson(db: &Db) -> Result<Value, DbError> {
    use geo::Simplify;
    let districts: std::collections::HashMap<String, String> =
        db.districts().await?.into_iter().map(|d| (d.code, d.name)).collect();
    let round5 = |v: f64| (v * 1e5).round() / 1e5;
    let features: Vec<Value> = db
        .boundary_shapes("ward", None)
        .await?
        .iter()
        .map(|b| {
            let simple = b.shape.simplify(&PICKER_TOLERANCE_DEGREES);
            let ring =
                |r: &geo::LineString<f64>| -> Value { r.0.iter().map(|c| json!([round5(c.x), round5(c.y)])).collect() };
            let polygons: Vec<Value> = simple
                .0
                .iter()
                .map(|p| {
                    Value::Array(std::iter::once(ring(p.exterior())).chain(p.interiors().iter().map(ring)).collect())
                })
                .collect();
            let district = b.district_code.as_ref().and_then(|c| districts.get(c)).cloned().unwrap_or_default();
            json!({
                "type": "Feature",
                "geometry": { "type": "MultiPolygon", "coordinates": polygons },
                "properties": { "name": b.name, "district": district },
            })
        })
        .collect();
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}

/// A kernel density surface.
#[derive(Debug, Clone)]
pub struct KdeSurface {
    pub grid: GridSpec,
    /// Events per km² at cell centres, row-major.
    pub density: Vec<f64>,
    pub kernel: Kernel,
    pub radius: f64,
    /// `"given"` or `"arcgis-default"`.
    pub radius_rule: &'static str,
    pub points: usize,
}

/// Kernel density on the grid covering the points. `radius` `None` applies the ArcGIS
/// default search radius rule.
pub fn kde_surface(
    points: &[(f64, f64)],
    cell: f64,
    origin: Option<(f64, f64)>,
    kernel: Kernel,
    radius: Option<f64>,
) -> Result<KdeSurface, SpatialError> {
    let grid = GridSpec::covering(points, cell, origin)
        .map_err(|e| SpatialError::BadParameter { what: "grid", why: e.to_string() })?;
    let (radius, radius_rule) = match radius {
        Some(r) => (r, "given"),
        None => (arcgis_default_radius(points)?, "arcgis-default"),
    };
    let density = kde(points, &grid, kernel, radius)?;
    Ok(KdeSurface { grid, density, kernel, radius, radius_rule, points: points.len() })
}

fn kde_header(k: &KdeSurface) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("kernel".into(), json!(k.kernel));
    m.insert("radius_m".into(), json!(k.radius));
    m.insert("radius_rule".into(), json!(k.radius_rule));
    m.insert("units".into(), json!("events per km² at cell centres"));
    m.insert("crs".into(), json!("EPSG:27700"));
    m.insert("grid".into(), json!(k.grid));
    m.insert("points".into(), json!(k.points));
    m
}

/// JSON of a density surface: every cell with its centre and density.
pub fn kde_json(k: &KdeSurface) -> Value {
    let mut m = kde_header(k);
    let cells: Vec<Value> = k
        .density
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let cell = k.grid.cell_at(i);
            let (x, y) = k.grid.centre(cell);
            json!({ "ix": cell.ix, "iy": cell.iy, "x": x, "y": y, "density": d })
        })
        .collect();
    m.insert("cells".into(), Value::Array(cells));
    Value::Object(m)
}

/// GeoJSON (WGS84) of a density surface: only the cells with a positive density.
pub fn kde_geojson(k: &KdeSurface) -> Result<Value, ProjectionError> {
    let projector = BngProjector::new()?;
    let mut features = Vec::new();
    for (i, &d) in k.density.iter().enumerate() {
        if d > 0.0 {
            let cell = k.grid.cell_at(i);
            let (x0, y0) = k.grid.min_corner(cell);
            features.push(json!({
                "type": "Feature",
                "geometry": { "type": "Polygon", "coordinates": square_ring(&projector, x0, y0, k.grid.size)? },
                "properties": { "ix": cell.ix, "iy": cell.iy, "density": d },
            }));
        }
    }
    let mut props = kde_header(k);
    props.insert("crs".into(), json!("EPSG:4326"));
    props.insert("cells_shown".into(), json!("density > 0"));
    Ok(json!({ "type": "FeatureCollection", "properties": props, "features": features }))
}

/// JSON of a near-repeat (Knox) analysis, tables with spatial bands as rows.
pub fn knox_json(k: &KnoxResult, space_breaks: &[f64], time_breaks: &[f64]) -> Value {
    let breaks =
        |b: &[f64]| -> Vec<Value> { b.iter().map(|v| if v.is_infinite() { json!("Inf") } else { json!(v) }).collect() };
    json!({
        "space_breaks_m": breaks(space_breaks),
        "time_breaks_days": breaks(time_breaks),
        "intervals": "closed on the left: [a,b)",
        "distance": k.metric,
        "permutations": k.permutations,
        "seed": k.seed,
        "events": k.events,
        "close_pairs": k.close_pairs,
        "space_labels": k.space_labels,
        "time_labels": k.time_labels,
        "observed": k.observed,
        "mean_permuted": k.mean_permuted,
        "median_permuted": k.median_permuted,
        "knox_ratio": k.knox_ratio,
        "knox_ratio_median": k.knox_ratio_median,
        "p_value": k.p_value,
    })
}

/// GeoJSON (WGS84) of the stored boundaries of `kind`, with one extra feature per district
/// (`"layer": "district"`): its outline as the edges of its LSOAs that no other of its LSOAs
/// shares (a MultiLineString).
pub async fn boundaries_geojson(db: &Db, kind: &str, district: Option<&str>) -> Result<Value, SpatialServiceError> {
    let shapes = db.boundary_shapes(kind, district).await?;
    let mut features: Vec<Value> = shapes
        .iter()
        .map(|b| {
            json!({
                "type": "Feature",
                "geometry": multipolygon_json(&b.shape),
                "properties": { "layer": kind, "code": b.code, "name": b.name, "district": b.district_code },
            })
        })
        .collect();
    let mut by_district: std::collections::BTreeMap<&str, Vec<&MultiPolygon<f64>>> = Default::default();
    for b in &shapes {
        if let Some(d) = b.district_code.as_deref() {
            by_district.entry(d).or_default().push(&b.shape);
        }
    }
    for (code, group) in by_district {
        // lon/lat degrees: 1e-9 degree snapping (the vertices are shared exactly)
        let segments = alliance_core::geo::adjacency::outline_segments(&group, 1e-9);
        let lines: Vec<Value> =
            segments.iter().map(|[a, b]| json!([[round7(a.x), round7(a.y)], [round7(b.x), round7(b.y)]])).collect();
        features.push(json!({
            "type": "Feature",
            "geometry": { "type": "MultiLineString", "coordinates": lines },
            "properties": { "layer": "district", "code": code },
        }));
    }
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}
