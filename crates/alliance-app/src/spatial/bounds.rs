//! The bounds of spatial analysis, in one place: every hotspot, density and near-repeat
//! request is checked against them before any work starts, and refused with
//! [`AppError::TooLarge`] naming the bound (the web answers 422, the command line exits
//! with the message). A refused request computes nothing and caches nothing.
//!
//! | bound | default | why |
//! |---|---|---|
//! | grid cells | 200,000 | a grid of 250 m cells over a county is about 45,000 cells; the bounding box of stray points far outside makes millions |
//! | permutations | 9,999 | enough for a permutation floor of 0.0001 |
//! | cells × permutations | 10⁹ | about 30 s of conditional permutations on two cores |
//! | points × cells within a kernel's reach (density) | 10⁹ | the same for kernel density |
//! | near-repeat events | 100,000 | the Knox test's pairs grow with the square of the events |
//! | near-repeat events × permutations | 10⁹ | |
//! | neighbour pairs of a distance band (cells × the cells within the band of each) | 50,000,000 | the weights are held in memory (4 bytes a pair) |

use alliance_core::analytics::spatial::budget::cells_to_cover;
use alliance_core::analytics::spatial::{
    check_cell_budget, check_work_budget, Kernel, DEFAULT_CELL_BUDGET, DEFAULT_WORK_BUDGET,
};

use crate::AppError;

/// The most permutations any analysis may ask for.
pub const MAX_PERMUTATIONS: usize = 9_999;
/// The most neighbour pairs a distance band may make.
pub const MAX_NEIGHBOUR_PAIRS: u64 = 50_000_000;
/// The most events a near-repeat (Knox) analysis may have.
pub const MAX_KNOX_EVENTS: usize = 100_000;

/// The bounds of one deployment (the defaults above unless configured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Grid cells of one analysis.
    pub cells: usize,
    /// Units × permutations, and points × cells in reach.
    pub work: u64,
    pub permutations: usize,
    pub knox_events: usize,
    /// Neighbour pairs of a distance band.
    pub neighbour_pairs: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            cells: DEFAULT_CELL_BUDGET,
            work: DEFAULT_WORK_BUDGET,
            permutations: MAX_PERMUTATIONS,
            knox_events: MAX_KNOX_EVENTS,
            neighbour_pairs: MAX_NEIGHBOUR_PAIRS,
        }
    }
}

impl Bounds {
    pub fn check_permutations(&self, permutations: usize) -> Result<(), AppError> {
        if permutations > self.permutations {
            return Err(AppError::too_large(format!(
                "permutations: {permutations} is more than the {} permutations Alliance allows",
                self.permutations
            )));
        }
        Ok(())
    }

    /// Units × permutations within the work budget.
    pub fn check_work(&self, units: usize, permutations: usize) -> Result<(), AppError> {
        Ok(check_work_budget(units, permutations, self.work)?)
    }

    /// The cells of the grid of `size` covering `points` (from `origin`) within the cell
    /// budget, counted from the extent alone (no cell is made).
    pub fn check_cover(&self, points: &[(f64, f64)], size: f64, origin: Option<(f64, f64)>) -> Result<(), AppError> {
        let Some(first) = points.first() else { return Ok(()) };
        let (mut min, mut max) = (*first, *first);
        for &(x, y) in points {
            if !x.is_finite() || !y.is_finite() {
                continue; // refused by the analysis itself, naming the point
            }
            min = (min.0.min(x), min.1.min(y));
            max = (max.0.max(x), max.1.max(y));
        }
        if let Some((x0, y0)) = origin.filter(|o| o.0.is_finite() && o.1.is_finite()) {
            min = (min.0.min(x0), min.1.min(y0));
        }
        if !(size.is_finite() && size > 0.0) {
            return Err(AppError::invalid("cell", format!("{size} is not a positive number of metres")));
        }
        // One more cell each way for the origin's rounding down.
        let cells = cells_to_cover(max.0 - min.0 + size, max.1 - min.1 + size, size)?;
        Ok(check_cell_budget(cells.min(usize::MAX as u128) as usize, self.cells)?)
    }

    /// Kernel density: each point adds to the cells within the kernel's reach, about
    /// π·reach²/size² of them (at most all the grid's cells).
    pub fn check_kde_work(
        &self,
        points: usize,
        grid_cells: usize,
        size: f64,
        kernel: Kernel,
        radius: f64,
    ) -> Result<(), AppError> {
        let reach = match kernel {
            Kernel::Gaussian { truncate } => radius * truncate,
            _ => radius,
        };
        let per_point = (std::f64::consts::PI * (reach / size).powi(2)).ceil().clamp(1.0, grid_cells.max(1) as f64);
        let work = points as f64 * per_point;
        if !work.is_finite() || work > self.work as f64 {
            return Err(AppError::too_large(format!(
                "kernel density over {points} points with a {reach:.0} m reach on {size} m cells is about {work:.0} \
                 point-cell steps, more than the budget of {}: use larger cells, a smaller radius or fewer points",
                self.work
            )));
        }
        Ok(())
    }

    /// A distance band over `cells` grid cells of `size` metres: about π·(band/size)² + 1
    /// neighbours each (at most all the cells), within the neighbour-pair bound.
    pub fn check_band(&self, cells: usize, size: f64, band: f64) -> Result<(), AppError> {
        if !(band.is_finite() && band >= 0.0) {
            return Err(AppError::invalid("distance-band", format!("{band} is not a non-negative number of metres")));
        }
        let each = (std::f64::consts::PI * (band / size).powi(2) + 1.0).min(cells as f64);
        let pairs = cells as f64 * each;
        if !pairs.is_finite() || pairs > self.neighbour_pairs as f64 {
            return Err(AppError::too_large(format!(
                "a distance band of {band} m over {cells} cells of {size} m makes about {pairs:.0} neighbour pairs, \
                 more than the {} Alliance allows: use a shorter band or larger cells",
                self.neighbour_pairs
            )));
        }
        Ok(())
    }

    /// Near-repeat (Knox): events and events × permutations.
    pub fn check_knox(&self, events: usize, permutations: usize) -> Result<(), AppError> {
        self.check_permutations(permutations)?;
        if events > self.knox_events {
            return Err(AppError::too_large(format!(
                "near-repeat analysis of {events} events: more than the {} events Alliance allows (the pairs grow \
                 with the square of the events); filter the events first",
                self.knox_events
            )));
        }
        if events as u128 * permutations as u128 > self.work as u128 {
            return Err(AppError::too_large(format!(
                "{events} events × {permutations} permutations is more work than the budget of {}: use fewer \
                 permutations",
                self.work
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn too_large(r: Result<(), AppError>) -> String {
        match r {
            Err(AppError::TooLarge { reason }) => reason,
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn each_bound_refuses_just_past_it_and_names_itself() {
        let b = Bounds::default();
        assert!(b.check_permutations(9_999).is_ok());
        assert!(too_large(b.check_permutations(10_000)).contains("9999 permutations"));
        assert!(b.check_work(100_000, 9_999).is_ok());
        assert!(too_large(b.check_work(200_000, 9_999)).contains("permutations"));
        // A county at 250 m fits; the same with one stray point 600 km away does not.
        let county = [(380_000.0, 300_000.0), (440_000.0, 360_000.0)];
        assert!(b.check_cover(&county, 250.0, None).is_ok());
        let stray = [county[0], county[1], (1_000_000.0, 1_000_000.0)];
        assert!(too_large(b.check_cover(&stray, 250.0, None)).contains("200000"));
        assert!(b.check_kde_work(40_000, 100_000, 50.0, Kernel::Quartic, 200.0).is_ok());
        assert!(too_large(b.check_kde_work(1_000_000, 1_000_000, 10.0, Kernel::Quartic, 2_000.0)).contains("budget"));
        assert!(b.check_knox(100_000, 999).is_ok());
        assert!(too_large(b.check_knox(100_001, 1)).contains("100000 events"));
        assert!(b.check_band(44_495, 250.0, 354.0).is_ok());
        assert!(b.check_band(44_495, 250.0, 1_000.0).is_ok());
        assert!(too_large(b.check_band(44_495, 250.0, 100_000.0)).contains("neighbour pairs"));
        assert!(b.check_band(1_000, 250.0, 1e9).is_ok(), "at most every cell: 10⁶ pairs");
        let small = Bounds { work: 1_000_000, ..Bounds::default() };
        assert!(small.check_knox(1_000, 1_000).is_ok());
        assert!(too_large(small.check_knox(1_000, 1_001)).contains("permutations"));
    }
}
