//! Optimized hot spot analysis of the stored police data (or of given points), as ArcGIS's
//! tool: the cell size and the distance band chosen from the data (incremental spatial
//! autocorrelation, first peak of Moran's I z), incidents outside the study area dropped and
//! reported, Gi* with normal p-values, false discovery rate control and confidence bins.
//! The choices are explained in sentences (`explanation`) for the page and the outputs.

use alliance_core::analytics::spatial::{optimized_hot_spots, OptimizedHotSpots, OptimizedOptions, StudyArea};
use alliance_db::spatial::LocatedFilter;
use alliance_db::Db;
use geo::{coord, MultiPolygon, Rect};

use super::{blocking, default_study_area, no_located_records, stored_points, Bounds, Region};
use crate::AppError;

/// An optimized hot spot analysis, as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizedRequest {
    pub filter: LocatedFilter,
    /// Cell size in metres; `None` chooses it from the data.
    pub cell: Option<f64>,
    /// Distance band in metres; `None` chooses it from the data.
    pub band: Option<f64>,
    /// False discovery rate of `significant`.
    pub alpha: f64,
}

impl OptimizedRequest {
    pub fn options(&self, bounds: &Bounds) -> OptimizedOptions {
        OptimizedOptions {
            cell_size: self.cell,
            band: self.band,
            alpha: self.alpha,
            cell_budget: bounds.cells,
            ..OptimizedOptions::default()
        }
    }
}

/// The study area a points file gives itself: the rectangle of its points (within the cell
/// budget, checked by the analysis before any cell is made).
pub fn points_rectangle(points: &[(f64, f64)]) -> Result<StudyArea, AppError> {
    let finite = points.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut min, mut max) = ((f64::INFINITY, f64::INFINITY), (f64::NEG_INFINITY, f64::NEG_INFINITY));
    for &(x, y) in finite {
        min = (min.0.min(x), min.1.min(y));
        max = (max.0.max(x), max.1.max(y));
    }
    if !min.0.is_finite() {
        return Err(AppError::invalid("points", "there are no points to analyse"));
    }
    // At least a metre each way, so a single location still has an area.
    let rect =
        Rect::new(coord! { x: min.0, y: min.1 }, coord! { x: max.0.max(min.0 + 1.0), y: max.1.max(min.1 + 1.0) });
    Ok(StudyArea::new(MultiPolygon(vec![rect.to_polygon()]))?)
}

/// Optimized hot spot analysis of `points` over `area`.
pub fn optimized_on(
    points: &[(f64, f64)],
    area: &StudyArea,
    request: &OptimizedRequest,
    bounds: &Bounds,
) -> Result<OptimizedHotSpots, AppError> {
    // A given band over given cells: its neighbour pairs, from the area's extent (an upper
    // bound on its cells), before any cell is made.
    if let (Some(cell), Some(band)) = (request.cell, request.band) {
        let ((x0, y0), (x1, y1)) = area.bounds();
        let cover = alliance_core::analytics::spatial::budget::cells_to_cover(x1 - x0, y1 - y0, cell)?;
        bounds.check_band(cover.min(bounds.cells as u128 * 16) as usize, cell, band)?;
    }
    Ok(optimized_hot_spots(points, area, &request.options(bounds))?)
}

/// Optimized hot spot analysis of the stored records `request.filter` selects, over the
/// partnership's study area (the district's when one is chosen).
pub async fn optimized_stored(
    db: &Db,
    request: &OptimizedRequest,
    bounds: &Bounds,
) -> Result<OptimizedHotSpots, AppError> {
    let area = default_study_area(db, Region::of(&request.filter)).await?.ok_or_else(|| {
        AppError::invalid(
            "areas",
            "optimized hot spot analysis needs a study area: import the LSOA 2021 boundaries first",
        )
    })?;
    let points = stored_points(db, &request.filter).await?.xy;
    if points.is_empty() {
        return Err(no_located_records());
    }
    let (request, bounds) = (request.clone(), *bounds);
    blocking(move || optimized_on(&points, &area, &request, &bounds)).await
}
