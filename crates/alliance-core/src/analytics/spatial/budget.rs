//! Budgets that refuse analyses too large to run in a request: a cell budget for grids and a
//! work budget for permutation inference (cells × permutations). Both checks are pure and
//! cheap, so callers run them before building anything.
//!
//! Defaults, measured on the project's 2-core machine (BENCHMARKS-spatial.md): a force at
//! 250 m is about 45,000 cells (Staffordshire: 44,495), at 125 m about 180,000; Gi* with 999
//! permutations runs about 170 million neighbour-sum draws a second.

use super::SpatialError;

/// Default largest number of grid cells an analysis may use: a whole force at 125 m.
pub const DEFAULT_CELL_BUDGET: usize = 200_000;

/// Default largest `cells × permutations` of a permutation analysis (about 6 s of Gi*
/// permutations on two cores).
pub const DEFAULT_WORK_BUDGET: u64 = 1_000_000_000;

/// Refuses a grid of more cells than the budget.
pub fn check_cell_budget(cells: usize, budget: usize) -> Result<(), SpatialError> {
    if cells > budget {
        return Err(SpatialError::TooManyCells { cells, budget });
    }
    Ok(())
}

/// Refuses permutation inference whose `cells × permutations` exceeds the budget.
pub fn check_work_budget(cells: usize, permutations: usize, budget: u64) -> Result<(), SpatialError> {
    let work = cells as u128 * permutations as u128;
    if work > budget as u128 {
        return Err(SpatialError::TooMuchWork { cells, permutations, budget });
    }
    Ok(())
}

/// The number of cells of size `size` needed to cover a rectangle (the bounding box of a
/// study area), before any cell is built: `⌈width/size⌉ · ⌈height/size⌉`, at least one per
/// axis. Used to refuse a study area far too large for the cell size early.
pub fn cells_to_cover(width: f64, height: f64, size: f64) -> Result<u128, SpatialError> {
    if !(size.is_finite() && size > 0.0) {
        return Err(super::bad("cell size", format!("{size} is not a positive number of metres")));
    }
    if !(width.is_finite() && height.is_finite() && width >= 0.0 && height >= 0.0) {
        return Err(super::bad("extent", format!("{width} × {height} m is not a finite extent")));
    }
    let per_axis = |len: f64| ((len / size).floor() as u128 + 1).max(1);
    Ok(per_axis(width) * per_axis(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_refuse_with_the_numbers() {
        assert!(check_cell_budget(200_000, 200_000).is_ok());
        let err = check_cell_budget(2_976_800, 200_000).unwrap_err();
        assert_eq!(err, SpatialError::TooManyCells { cells: 2_976_800, budget: 200_000 });
        assert!(err.to_string().contains("2976800") && err.to_string().contains("200000"), "{err}");
        assert!(check_work_budget(44_495, 999, DEFAULT_WORK_BUDGET).is_ok());
        let err = check_work_budget(44_495, 889_899, DEFAULT_WORK_BUDGET).unwrap_err();
        assert!(matches!(err, SpatialError::TooMuchWork { cells: 44_495, permutations: 889_899, .. }));
    }

    #[test]
    fn cells_to_cover_by_hand() {
        // 1,000 m × 250 m at 250 m: floor(4) + 1 = 5 columns (a point on the far edge gets
        // its own cell, as GridSpec::covering), floor(1) + 1 = 2 rows.
        assert_eq!(cells_to_cover(1_000.0, 250.0, 250.0).unwrap(), 10);
        assert_eq!(cells_to_cover(999.0, 0.0, 250.0).unwrap(), 4);
        assert!(cells_to_cover(1.0, 1.0, 0.0).is_err());
        assert!(cells_to_cover(f64::NAN, 1.0, 1.0).is_err());
    }
}
