//! Emerging hot spot analysis of the stored police data, as ArcGIS Pro's tool (see
//! `alliance_core::analytics::spatial::emerging` for the definitions and their references):
//! a space-time cube of months (or quarters) × the grid cells meeting the study area, Gi*
//! per time slice with space-time neighbours, a Mann–Kendall trend per cell and the
//! categories analysts use (new, consecutive, intensifying, persistent, diminishing,
//! sporadic, oscillating, historical hot and cold spots).
//!
//! The study area is the partnership's (the district's when one is chosen) or a place of
//! the register ([`EmergingRequest::place`]), whose outline keeps the records inside it.
//! The web app asks through [`super::HotspotCache::stored_emerging`], so the map page and
//! its layer compute one analysis.

use alliance_core::analytics::spatial::hotspot_table::GridUnits;
use alliance_core::analytics::spatial::{
    emerging_hot_spots, study_area_units, Confidence, EmergingHotSpots, EmergingOptions, SliceLength, SpaceTimeCube,
    StudyArea, TimeSlices, Weights,
};
use alliance_core::domain::{Month, MonthRange};
use alliance_db::spatial::LocatedFilter;
use alliance_db::Db;

use super::{
    blocking, default_study_area, no_located_records, place_study_area, stored_points, Bounds, Region, StoredPoints,
};
use crate::AppError;

/// An emerging hot spot analysis, as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct EmergingRequest {
    /// Which records; `from` and `to` (else the first and last month of the records) make
    /// the period.
    pub filter: LocatedFilter,
    /// Cell size in metres.
    pub cell: f64,
    /// Spatial neighbours within this many metres, centre to centre; `None`: 1.5 cells (the
    /// eight queen neighbours).
    pub band: Option<f64>,
    pub slice: SliceLength,
    /// Preceding slices in each bin's neighbourhood (ArcGIS's default 1).
    pub time_steps: usize,
    /// The confidence a slice must reach to count as a hot or cold spot.
    pub confidence: Confidence,
    /// A place of the register (by id) as the study area instead of the partnership's area.
    pub place: Option<i64>,
}

impl EmergingRequest {
    pub fn band(&self) -> f64 {
        self.band.unwrap_or(1.5 * self.cell)
    }
}

/// The result: the analysis with the cube's cells, slices and what was left out.
#[derive(Debug, Clone)]
pub struct Emerging {
    pub request: EmergingRequest,
    pub slices: TimeSlices,
    /// The cells (meeting the study area) and their total counts over the period.
    pub units: GridUnits,
    pub analysis: EmergingHotSpots,
    pub points: usize,
    pub dropped_outside_area: usize,
    /// Events in the study area outside the slices (months before the first complete slice).
    pub outside_slices: usize,
}

impl Emerging {
    /// An estimate of the bytes the result holds (cells, counts, per-bin figures, per-cell
    /// results), for the cache.
    pub fn estimated_bytes(&self) -> usize {
        use std::mem::size_of;
        let cells = self.units.cells.len();
        let bins = self.analysis.gi.z.len();
        size_of::<Emerging>()
            + cells * (size_of::<alliance_core::geo::grid::Cell>() + size_of::<i64>())
            + bins * (2 * size_of::<f64>() + size_of::<i8>())
            + self.analysis.results.len() * size_of::<alliance_core::analytics::spatial::EmergingLocation>()
            + self.analysis.notes.iter().map(|n| n.len() + 24).sum::<usize>()
    }
}

/// Emerging hot spot analysis of `points` (with their `months`) over `area` in `period`.
pub fn emerging_on(
    points: &[(f64, f64)],
    months: &[Month],
    area: &StudyArea,
    period: MonthRange,
    request: &EmergingRequest,
    bounds: &Bounds,
) -> Result<Emerging, AppError> {
    if points.len() != months.len() {
        return Err(AppError::internal(format!("{} points with {} months", points.len(), months.len())));
    }
    let slices = TimeSlices::new(period, request.slice)?;
    let band = request.band();
    if !(band.is_finite() && band >= 0.0) {
        return Err(AppError::invalid("band", format!("{band} is not a non-negative number of metres")));
    }
    // Bounds before work: the study area's cells, then cells × slices × the neighbours a
    // band reaches.
    let within = study_area_units(points, request.cell, area, bounds.cells)?;
    let cells = within.units.cells.len();
    bounds.check_band(cells, request.cell, band)?;
    let reach = ((2.0 * band / request.cell).floor() + 1.0).powi(2).max(1.0) as usize;
    bounds.check_work(cells.saturating_mul(slices.slices), reach)?;
    let kept_months: Vec<Option<usize>> = within.kept.kept_index.iter().map(|&i| slices.slice_of(months[i])).collect();
    let (cube, outside_slices) =
        SpaceTimeCube::count(&within.units.grid, &within.units.cells, &within.kept.kept, &kept_months, slices.slices)?;
    let weights = Weights::grid_distance_band(&within.units.cells, request.cell, band)?;
    let opts = EmergingOptions { time_steps: request.time_steps, confidence: request.confidence, ..Default::default() };
    let analysis = emerging_hot_spots(&cube, &weights, &opts)?;
    Ok(Emerging {
        request: request.clone(),
        slices,
        units: within.units,
        analysis,
        points: points.len(),
        dropped_outside_area: within.dropped_outside_area,
        outside_slices,
    })
}

/// Emerging hot spot analysis of the stored records `request.filter` selects, over the
/// place asked for, else the partnership's study area (the district's when one is chosen).
/// Not cached: the web app asks [`super::HotspotCache::stored_emerging`].
pub async fn emerging_stored(db: &Db, request: &EmergingRequest, bounds: &Bounds) -> Result<Emerging, AppError> {
    Ok(emerging_stored_with_records(db, request, bounds).await?.0)
}

/// [`emerging_stored`], with the records it read (their points and locations), so the cache
/// can name the top cells without reading them again.
pub(super) async fn emerging_stored_with_records(
    db: &Db,
    request: &EmergingRequest,
    bounds: &Bounds,
) -> Result<(Emerging, StoredPoints), AppError> {
    bounds.check_permutations(0)?;
    let area = match request.place {
        Some(id) => place_study_area(db, id).await?,
        None => default_study_area(db, Region::of(&request.filter)).await?.ok_or_else(|| {
            AppError::invalid(
                "areas",
                "emerging hot spot analysis needs a study area: import the LSOA 2021 boundaries first",
            )
        })?,
    };
    let stored = stored_points(db, &request.filter).await?;
    let (Some(&first), Some(&last)) = (stored.months.iter().min(), stored.months.iter().max()) else {
        return Err(no_located_records());
    };
    let from = request.filter.from.unwrap_or(first);
    let to = request.filter.to.unwrap_or(last);
    let period = MonthRange::new(from, to)
        .ok_or_else(|| AppError::invalid("to", format!("{to} is before the first month {from}")))?;
    let (request, bounds) = (request.clone(), *bounds);
    blocking(move || {
        let e = emerging_on(&stored.xy, &stored.months, &area, period, &request, &bounds)?;
        Ok((e, stored))
    })
    .await
}
