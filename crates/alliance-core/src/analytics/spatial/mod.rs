//! Spatial analytics (capability 4): weights, hotspot statistics with normal or permutation
//! inference, false-discovery-rate control and confidence bins, study areas and budgets,
//! optimized and emerging hot spot analysis, kernel density, hotspot persistence and
//! near-repeat (Knox) analysis. Coordinates are British National Grid metres (see
//! [`crate::geo::projection`]); times are days.
//!
//! The statistics follow their published definitions, cited on each function, and PySAL's
//! `esda` conventions where those agree with the definition; every departure from `esda` is
//! stated on the function that makes it.

pub mod budget;
pub mod emerging;
pub mod fdr;
pub mod getis_ord;
pub mod hotspot_table;
pub mod inference;
pub mod kde;
pub mod knox;
pub mod moran;
pub mod optimized;
pub mod persistence;
pub mod significance;
pub mod study_area;
pub mod trend;
pub mod weights;

pub use fdr::{benjamini_hochberg, FdrResult};
pub use getis_ord::{gi, gi_star, GiReport, GiResult};
pub use inference::{Alternative, PermutationOptions};
pub use kde::{arcgis_default_radius, kde, Kernel};
pub use knox::{knox, DistanceMetric, Event, KnoxOptions, KnoxResult};

pub use moran::{
    global_moran, local_moran, GlobalMoran, LocalMoranReport, LocalMoranResult, Quadrant, Standardisation,
};

pub use budget::{check_cell_budget, check_work_budget, DEFAULT_CELL_BUDGET, DEFAULT_WORK_BUDGET};
pub use emerging::{
    classify_emerging, emerging_hot_spots, space_time_gi_star, EmergingCategory, EmergingHotSpots, EmergingLocation,
    EmergingOptions, SliceLength, SpaceTimeCube, SpaceTimeGi, TimeSlices,
};
pub use optimized::{
    optimized_hot_spots, BandAutocorrelation, Choice, ChosenBy, OptimizedHotSpots, OptimizedOptions, Spacing,
};
pub use persistence::{
    classify_persistence, mann_kendall, PeriodHotspots, PersistenceClass, PersistenceOptions, PersistenceResult,
};
pub use significance::{
    confidence_bins, permutation_adequacy, permutations_needed, Confidence, ConfidenceBins, Correction, Inference,
    PermutationAdequacy, SignificanceFrom,
};
pub use study_area::{points_in_area, study_area_units, PointsInArea, StudyArea, StudyAreaUnits};
pub use trend::{mann_kendall_counts, mann_kendall_test, MannKendall};
pub use weights::{Contiguity, Weights};

/// Why a spatial analysis could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpatialError {
    #[error("there are no units or events to analyse")]
    Empty,
    #[error("{statistic} needs at least {needed} units, got {got}")]
    TooFew { statistic: &'static str, needed: usize, got: usize },
    #[error("{values} values were given for {units} spatial units")]
    LengthMismatch { values: usize, units: usize },
    #[error("item {index} has a non-finite coordinate or time")]
    NonFinite { index: usize },
    #[error("unit {unit} names neighbour {neighbour}, which is not a unit (there are {units})")]
    BadNeighbour { unit: usize, neighbour: usize, units: usize },
    #[error("bad {what}: {why}")]
    BadParameter { what: &'static str, why: String },
    #[error("bad {which} breaks: {why}")]
    BadBreaks { which: &'static str, why: String },
    #[error(
        "the analysis would use {cells} grid cells, more than the budget of {budget}: choose a larger cell size or a \
         smaller study area"
    )]
    TooManyCells { cells: usize, budget: usize },
    #[error(
        "{cells} cells × {permutations} permutations is more work than the budget of {budget}: use fewer \
         permutations (normal inference needs none) or fewer cells"
    )]
    TooMuchWork { cells: usize, permutations: usize, budget: u64 },
}

pub(crate) fn bad(what: &'static str, why: impl Into<String>) -> SpatialError {
    SpatialError::BadParameter { what, why: why.into() }
}

/// Two-sided normal p-value `2·(1 − Φ(|z|))`, computed as `erfc(|z|/√2)` so that small
/// p-values keep their relative precision.
pub fn two_sided_normal_p(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    statrs::function::erf::erfc(z.abs() / std::f64::consts::SQRT_2)
}
