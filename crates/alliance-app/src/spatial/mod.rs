//! Spatial analysis, the use case shared by the command line, the JSON API and the map:
//! loading located police records (projected to British National Grid metres), study
//! areas from the stored boundaries, checking every request against the bounds of
//! [`bounds`] before any work starts, running the core analytics, and the JSON and GeoJSON
//! shapes of the results ([`json`]). GeoJSON is WGS84 longitude/latitude (RFC 7946): grid
//! cells are drawn by projecting their corners back with [`BngProjector::to_wgs84`].
//!
//! Significance follows the ArcGIS Hot Spot Analysis convention by default
//! ([`SignificanceFrom::Normal`]: the z-score's two-sided normal p-value under the
//! randomisation null, Benjamini–Hochberg false discovery rate control, confidence bins
//! ±1/±2/±3 at 90/95/99 %); permutation inference stays available as a robustness check.

pub mod boundaries;
pub mod bounds;
pub mod cache;
pub mod emerging;
pub mod json;
pub mod optimized;
pub mod places;

use alliance_core::analytics::spatial::hotspot_table::HotspotStatistic;
use alliance_core::analytics::spatial::hotspot_table::{
    grid_units, grid_weights, local_hotspots_with, GridUnits, HotspotSettings, HotspotTable, NeighbourRule,
};
use alliance_core::analytics::spatial::{
    arcgis_default_radius, global_moran, kde, study_area_units, GlobalMoran, Kernel, SignificanceFrom, SpatialError,
    StudyArea, Weights,
};
use alliance_core::domain::Month;
use alliance_core::geo::adjacency::{polygon_neighbours, DEFAULT_TOLERANCE};
use alliance_core::geo::grid::{count_points_in_areas, GridSpec};
use alliance_core::geo::projection::{BngProjector, ProjectionError};
use alliance_db::spatial::{BoundaryShape, LocatedFilter};
use alliance_db::Db;
use geo::{Centroid, MapCoords, MultiPolygon};

use crate::AppError;
pub use boundaries::{boundaries_geojson, place_picker_geojson, streets_geojson};
pub use bounds::Bounds;
pub use cache::{CacheCounts, CellsMode, HotspotCache, HotspotUnits, Hotspots, StoredHotspotRequest};

/// Analysis errors keep their meaning: a bound exceeded is [`AppError::TooLarge`] naming the
/// bound, a bad parameter is [`AppError::Invalid`] naming it.
impl From<SpatialError> for AppError {
    fn from(e: SpatialError) -> AppError {
        match e {
            SpatialError::TooManyCells { .. } | SpatialError::TooMuchWork { .. } => AppError::too_large(e.to_string()),
            SpatialError::BadParameter { what, why } => AppError::invalid(what, why),
            SpatialError::BadBreaks { why, which } => AppError::invalid(
                if which == "space" { "space-breaks" } else { "time-breaks" },
                format!("bad {which} breaks: {why}"),
            ),
            SpatialError::NonFinite { .. } => AppError::invalid("points", e.to_string()),
            other => AppError::invalid("points", other.to_string()),
        }
    }
}

/// A coordinate that cannot be projected is the input's fault; a projection that cannot be
/// set up is a fault of the installation.
impl From<ProjectionError> for AppError {
    fn from(e: ProjectionError) -> AppError {
        match e {
            ProjectionError::Setup(_) => AppError::internal(e.to_string()),
            other => AppError::invalid("coordinates", other.to_string()),
        }
    }
}

/// The message near-repeat analysis gives for stored street-level police data.
pub const NEAR_REPEAT_NEEDS_DATES: &str = "near-repeat analysis needs the day of each event, but street-level \
     police data gives only the month: use a points file with a t column (days), e.g. --points events.csv";

/// The refusal when the filters leave no located record.
pub fn no_located_records() -> AppError {
    AppError::invalid("filter", "No located police records match these filters.")
}

/// Runs `work` on a blocking thread (the statistics take a while), a panic becoming an
/// internal error.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal(format!("the analysis stopped before it finished: {e}")))?
}

/// Located police records projected to National Grid metres, with their months and their
/// published locations ("On or near Station Road"), one of each per record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoints {
    pub xy: Vec<(f64, f64)>,
    pub months: Vec<Month>,
    /// Kept so an analysis can name its hot cells' streets without reading the records again.
    pub locations: Vec<String>,
}

/// Loads and projects the located police records matching `filter`.
pub async fn stored_points(db: &Db, filter: &LocatedFilter) -> Result<StoredPoints, AppError> {
    let crimes = db.located_police_records(filter).await?;
    // Hundreds of thousands of points on a national archive: projected off the async threads.
    blocking(move || {
        let lon_lat: Vec<(f64, f64)> = crimes.iter().map(|c| (c.longitude, c.latitude)).collect();
        let xy = BngProjector::new()?.to_bng_many(&lon_lat)?;
        let months = crimes.iter().map(|c| c.month).collect();
        let locations = crimes.into_iter().map(|c| c.location).collect();
        Ok(StoredPoints { xy, months, locations })
    })
    .await
}

/// The districts an analysis of stored records keeps to when the caller names no area
/// (`LocatedFilter::area`): the partnership's ([`Db::partnership_area`]: none without a
/// profile, or when none of its districts' LSOAs is held), unless a district or LSOAs are
/// named, which are the area then. A database may hold other forces' records too (a region,
/// the national archive), and analysing them all would stretch the grid over them. The one
/// default of the map, the API and the command line, so they cannot drift apart.
pub async fn default_area(db: &Db, district: Option<&str>, lsoas: &[String]) -> Result<Vec<String>, AppError> {
    if district.is_some() || !lsoas.is_empty() {
        return Ok(Vec::new());
    }
    Ok(db.partnership_area().await?)
}

/// [`default_area`] for a caller that has read the partnership's area already (the map page
/// uses it for its district list too).
pub fn default_area_of(partnership_area: &[String], district: Option<&str>, lsoas: &[String]) -> Vec<String> {
    match district.is_some() || !lsoas.is_empty() {
        true => Vec::new(),
        false => partnership_area.to_vec(),
    }
}

/// An area (LSOA, ward) with its outline in both coordinate systems.
#[derive(Debug, Clone)]
pub struct Area {
    pub stored: BoundaryShape,
    /// The outline in National Grid metres.
    pub bng: MultiPolygon<f64>,
}

/// Whose boundaries an analysis uses: one district, a partnership's districts, or every
/// boundary stored. On a database holding other areas too (a region, national boundaries), an
/// analysis of the partnership's records must not take the whole country as its study area,
/// its LSOAs or its wards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region<'a> {
    /// One district, asked for by name: no boundary stored for it is an error.
    District(&'a str),
    /// The partnership's districts (`LocatedFilter::area`); empty means every district.
    Districts(&'a [String]),
}

impl<'a> Region<'a> {
    /// The region of a filter: its district, else its partnership's area, else everything.
    pub fn of(filter: &'a LocatedFilter) -> Region<'a> {
        match &filter.district {
            Some(d) => Region::District(d),
            None => Region::Districts(&filter.area),
        }
    }

    /// One district when given, else every district.
    pub fn district(district: Option<&'a str>) -> Region<'a> {
        district.map_or(Region::Districts(&[]), Region::District)
    }

    fn districts(self) -> Vec<String> {
        match self {
            Region::District(d) => vec![d.to_string()],
            Region::Districts(list) => list.to_vec(),
        }
    }
}

/// The stored boundaries of `kind` (`lsoa21`, `lsoa11`, `ward`) of a region, projected to
/// National Grid metres; none stored is an error naming what to import.
pub async fn areas(db: &Db, kind: &str, region: Region<'_>) -> Result<Vec<Area>, AppError> {
    let shapes = db.boundary_shapes_in(kind, &region.districts()).await?;
    if shapes.is_empty() {
        let (field, whose) = match region {
            Region::District(d) => ("district", format!(" for district {d}")),
            Region::Districts([]) => ("areas", String::new()),
            Region::Districts(_) => ("areas", " for the partnership's districts".to_string()),
        };
        return Err(AppError::invalid(
            field,
            format!("no {kind} boundaries are stored{whose}: import the boundary files first"),
        ));
    }
    let projector = BngProjector::new()?;
    blocking(move || {
        shapes
            .into_iter()
            .map(|stored| {
                let bng = stored
                    .shape
                    .try_map_coords(|c| projector.to_bng(c.x, c.y).map(|(x, y)| geo::coord! { x: x, y: y }))?;
                Ok(Area { stored, bng })
            })
            .collect()
    })
    .await
}

/// The study area as one multipolygon: every area's polygons together. For areas that tile
/// without overlapping (LSOAs) this covers exactly their union, which is all the grid's
/// cell selection needs (it tests centres by the even–odd rule and cells crossed by edges).
pub fn study_area(areas: &[Area]) -> MultiPolygon<f64> {
    MultiPolygon(areas.iter().flat_map(|a| a.bng.0.iter().cloned()).collect())
}

/// The partnership's study area: the stored LSOA 2021 boundaries of a region (the district
/// asked for, else the partnership's districts) as one indexed area. `None` when the region
/// has no LSOA 2021 boundary stored and no district was asked for (then only the bounding box
/// of the points, within the cell budget, can be analysed).
pub async fn default_study_area(db: &Db, region: Region<'_>) -> Result<Option<StudyArea>, AppError> {
    let found = match areas(db, "lsoa21", region).await {
        Ok(found) => found,
        Err(AppError::Invalid { .. }) if !matches!(region, Region::District(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let shape = study_area(&found);
    Ok(Some(blocking(move || Ok(StudyArea::new(shape)?)).await?))
}

/// A place of the register as a study area: its polygons, and its circles as 64-sided
/// polygons, on the National Grid. A grid analysis over it counts only the points inside and
/// reports the rest as dropped.
pub async fn place_study_area(db: &Db, place_id: i64) -> Result<StudyArea, AppError> {
    let place = db.place(place_id).await?;
    let (polygons, circles) = crate::places::outline(&place)?;
    let projector = BngProjector::new().map_err(|e| AppError::internal(format!("projection: {e}")))?;
    let mut shapes = Vec::new();
    for multi in &polygons {
        let bng = multi.try_map_coords(|c| projector.to_bng(c.x, c.y).map(|(x, y)| geo::coord! { x: x, y: y }))?;
        shapes.extend(bng.0);
    }
    for c in &circles {
        let (x, y) = projector.to_bng(c.longitude, c.latitude)?;
        let ring: Vec<geo::Coord<f64>> = (0..=64)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i % 64) / 64.0;
                geo::coord! { x: x + c.radius_metres * a.cos(), y: y + c.radius_metres * a.sin() }
            })
            .collect();
        shapes.push(geo::Polygon::new(geo::LineString(ring), Vec::new()));
    }
    Ok(StudyArea::new(MultiPolygon(shapes))?)
}

/// A grid hotspot analysis: how it was asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridRequest {
    pub cell: f64,
    pub origin: Option<(f64, f64)>,
    pub neighbours: NeighbourRule,
    pub settings: HotspotSettings,
    /// Which p-value decides significance (normal by default, the ArcGIS convention).
    pub significance: SignificanceFrom,
}

/// The result of a grid hotspot analysis.
#[derive(Debug, Clone)]
pub struct GridHotspots {
    pub request: GridRequest,
    pub units: GridUnits,
    /// `"bbox"` or `"area"`.
    pub cells_mode: &'static str,
    pub points: usize,
    /// Points outside the study area, not counted (`"area"` only).
    pub dropped_outside_area: usize,
    pub result: HotspotResult,
}

/// A local statistic per unit, or global Moran's I.
#[derive(Debug, Clone)]
pub enum HotspotResult {
    Local(HotspotTable),
    Global(GlobalMoran),
}

fn run_statistic(
    values: &[i64],
    weights: &Weights,
    s: &HotspotSettings,
    from: SignificanceFrom,
) -> Result<HotspotResult, SpatialError> {
    Ok(match s.statistic {
        HotspotStatistic::Moran => {
            HotspotResult::Global(global_moran(values, weights, s.standardisation, &s.permutation)?)
        }
        _ => HotspotResult::Local(local_hotspots_with(values, weights, s, from)?),
    })
}

/// The grid units of a request: the cells meeting `area` (its grid, points outside it
/// dropped and counted), or every cell of the points' bounding box; the cell budget of
/// `bounds` is checked before any cell is made.
pub fn units_for(
    points: &[(f64, f64)],
    area: Option<&StudyArea>,
    cell: f64,
    origin: Option<(f64, f64)>,
    bounds: &Bounds,
) -> Result<(GridUnits, usize), AppError> {
    match (area, origin) {
        (Some(area), None) => {
            let u = study_area_units(points, cell, area, bounds.cells)?;
            Ok((u.units, u.dropped_outside_area))
        }
        (Some(area), Some(_)) => {
            // A given origin: the grid covers the points and the area from it.
            let ((x0, y0), (x1, y1)) = area.bounds();
            let mut extent = vec![(x0, y0), (x1, y1)];
            extent.extend_from_slice(points);
            bounds.check_cover(&extent, cell, origin)?;
            let units = grid_units(points, cell, origin, Some(area.shape()))?;
            alliance_core::analytics::spatial::check_cell_budget(units.cells.len(), bounds.cells)?;
            Ok((units, 0))
        }
        (None, _) => {
            bounds.check_cover(points, cell, origin)?;
            Ok((grid_units(points, cell, origin, None)?, 0))
        }
    }
}

/// Counts points on the grid (the cells meeting `area`, or all cells of the bounding box)
/// and runs the statistic, after checking the request against `bounds`.
pub fn grid_hotspots(
    points: &[(f64, f64)],
    area: Option<&StudyArea>,
    request: GridRequest,
    bounds: &Bounds,
) -> Result<GridHotspots, AppError> {
    let permutations = request.settings.permutation.permutations;
    bounds.check_permutations(permutations)?;
    let (units, dropped_outside_area) = units_for(points, area, request.cell, request.origin, bounds)?;
    bounds.check_work(units.cells.len(), permutations)?;
    if let NeighbourRule::DistanceBand(band) = request.neighbours {
        bounds.check_band(units.cells.len(), request.cell, band)?;
    }
    let weights = grid_weights(&units, request.neighbours)?;
    let result = run_statistic(&units.counts, &weights, &request.settings, request.significance)?;
    Ok(GridHotspots {
        request,
        units,
        cells_mode: if area.is_some() { "area" } else { "bbox" },
        points: points.len(),
        dropped_outside_area,
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

/// Counts points per area and runs the statistic over area contiguity or distance band,
/// after checking the request against `bounds`.
pub fn area_hotspots(
    kind: &str,
    points: &[(f64, f64)],
    areas: &[Area],
    neighbours: NeighbourRule,
    settings: &HotspotSettings,
    significance: SignificanceFrom,
    bounds: &Bounds,
) -> Result<AreaHotspots, AppError> {
    bounds.check_permutations(settings.permutation.permutations)?;
    bounds.check_work(areas.len(), settings.permutation.permutations)?;
    let shapes: Vec<MultiPolygon<f64>> = areas.iter().map(|a| a.bng.clone()).collect();
    let counted = count_points_in_areas(&shapes, points)
        .map_err(|e| SpatialError::BadParameter { what: "points", why: e.to_string() })?;
    let weights = area_weights(areas, neighbours)?;
    let result = run_statistic(&counted.counts, &weights, settings, significance)?;
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
/// default search radius rule. The grid's cells and the work (points × the cells within a
/// kernel's reach of each) are checked against `bounds` first.
pub fn kde_surface(
    points: &[(f64, f64)],
    cell: f64,
    origin: Option<(f64, f64)>,
    kernel: Kernel,
    radius: Option<f64>,
    bounds: &Bounds,
) -> Result<KdeSurface, AppError> {
    bounds.check_cover(points, cell, origin)?;
    let grid = GridSpec::covering(points, cell, origin)
        .map_err(|e| SpatialError::BadParameter { what: "grid", why: e.to_string() })?;
    let (radius, radius_rule) = match radius {
        Some(r) => (r, "given"),
        None => (arcgis_default_radius(points)?, "arcgis-default"),
    };
    bounds.check_kde_work(points.len(), grid.len(), cell, kernel, radius)?;
    let density = kde(points, &grid, kernel, radius)?;
    Ok(KdeSurface { grid, density, kernel, radius, radius_rule, points: points.len() })
}

/// The stored records of `filter` for a density surface: those in the partnership's study
/// area (the district's when one is chosen) when boundaries are stored, so that records far
/// outside do not stretch the grid; with the number left out.
pub async fn stored_points_in_area(db: &Db, filter: &LocatedFilter) -> Result<(Vec<(f64, f64)>, usize), AppError> {
    stored_points_in(db, filter, None).await
}

/// [`stored_points_in_area`], or the records inside a place of the register when `place` is
/// given (the density layer of a map whose study area is a place).
pub async fn stored_points_in(
    db: &Db,
    filter: &LocatedFilter,
    place: Option<i64>,
) -> Result<(Vec<(f64, f64)>, usize), AppError> {
    // The place first: an unknown place is a 404 before any record is read.
    let place_area = match place {
        Some(id) => Some(place_study_area(db, id).await?),
        None => None,
    };
    let xy = stored_points(db, filter).await?.xy;
    if xy.is_empty() {
        return Err(no_located_records());
    }
    let area = match place_area {
        Some(area) => area,
        None => match default_study_area(db, Region::of(filter)).await? {
            Some(area) => area,
            None => return Ok((xy, 0)),
        },
    };
    let kept = blocking(move || Ok(alliance_core::analytics::spatial::points_in_area(&xy, &area)?)).await?;
    if kept.kept.is_empty() {
        return Err(no_located_records());
    }
    Ok((kept.kept, kept.dropped))
}
