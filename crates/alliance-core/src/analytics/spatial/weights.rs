//! Binary spatial weights as sparse neighbour lists.
//!
//! Every weight is 1 (neighbour) or 0 (not); a unit is never its own neighbour here: Gi*
//! adds the unit itself with weight 1 when it needs it. Row standardisation, where a
//! statistic uses it, is applied by that statistic, not stored.

use super::SpatialError;
use crate::geo::grid::Cell;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Contiguity on a square grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Contiguity {
    /// Cells sharing an edge or a corner (up to 8 neighbours).
    Queen,
    /// Cells sharing an edge (up to 4 neighbours).
    Rook,
}

/// Binary weights: for each unit, the sorted list of its neighbours (compressed rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
}

impl Weights {
    /// Weights from explicit neighbour lists (e.g. LSOA contiguity from the boundary
    /// files). Duplicates are dropped; a unit listed as its own neighbour or an index out of
    /// range is an error. The lists need not be symmetric.
    pub fn from_neighbours(lists: &[Vec<usize>]) -> Result<Self, SpatialError> {
        let n = lists.len();
        if n > u32::MAX as usize {
            return Err(super::bad("weights", "more than 4 billion units"));
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut neighbours = Vec::new();
        offsets.push(0);
        for (unit, list) in lists.iter().enumerate() {
            let mut row: Vec<u32> = Vec::with_capacity(list.len());
            for &j in list {
                if j >= n || j == unit {
                    return Err(SpatialError::BadNeighbour { unit, neighbour: j, units: n });
                }
                row.push(j as u32);
            }
            row.sort_unstable();
            row.dedup();
            neighbours.extend_from_slice(&row);
            offsets.push(neighbours.len());
        }
        Ok(Self { offsets, neighbours })
    }

    /// Queen or rook contiguity between grid cells. Only the given cells are units (so in
    /// "area" mode a cell outside the study area is nobody's neighbour); units are numbered
    /// in the order of `cells`. Duplicate cells are an error.
    pub fn contiguity(cells: &[Cell], kind: Contiguity) -> Result<Self, SpatialError> {
        let mut position: HashMap<(usize, usize), usize> = HashMap::with_capacity(cells.len());
        for (k, c) in cells.iter().enumerate() {
            if position.insert((c.ix, c.iy), k).is_some() {
                return Err(super::bad("cells", format!("cell ({}, {}) is listed twice", c.ix, c.iy)));
            }
        }
        let offsets_queen: &[(i64, i64)] = &[(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)];
        let offsets_rook: &[(i64, i64)] = &[(0, -1), (-1, 0), (1, 0), (0, 1)];
        let steps = match kind {
            Contiguity::Queen => offsets_queen,
            Contiguity::Rook => offsets_rook,
        };
        let lists: Vec<Vec<usize>> = cells
            .iter()
            .map(|c| {
                steps
                    .iter()
                    .filter_map(|&(dx, dy)| {
                        let x = c.ix as i64 + dx;
                        let y = c.iy as i64 + dy;
                        if x < 0 || y < 0 {
                            return None;
                        }
                        position.get(&(x as usize, y as usize)).copied()
                    })
                    .collect()
            })
            .collect();
        Self::from_neighbours(&lists)
    }

    /// Fixed distance band: units are neighbours when their Euclidean distance is at most
    /// `threshold` metres (`d ≤ threshold`, as libpysal's `DistanceBand` and ArcGIS's
    /// fixed distance band). Coincident points are neighbours of each other. Found with an
    /// R-tree, so the cost grows with the number of neighbour pairs, not n².
    pub fn distance_band(points: &[(f64, f64)], threshold: f64) -> Result<Self, SpatialError> {
        if !(threshold.is_finite() && threshold >= 0.0) {
            return Err(super::bad("distance band", format!("{threshold} is not a non-negative number of metres")));
        }
        for (index, &(x, y)) in points.iter().enumerate() {
            if !x.is_finite() || !y.is_finite() {
                return Err(SpatialError::NonFinite { index });
            }
        }
        let tree =
            RTree::bulk_load(points.iter().enumerate().map(|(i, &(x, y))| GeomWithData::new([x, y], i)).collect());
        let r2 = threshold * threshold;
        let lists: Vec<Vec<usize>> = points
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| {
                tree.locate_within_distance([x, y], r2)
                    .map(|g| g.data)
                    .filter(|&j| j != i)
                    // recheck with the same arithmetic for every pair, so d ≤ threshold is
                    // decided identically from both ends
                    .filter(|&j| {
                        let (dx, dy) = (points[j].0 - x, points[j].1 - y);
                        dx * dx + dy * dy <= r2
                    })
                    .collect()
            })
            .collect();
        Self::from_neighbours(&lists)
    }

    /// Fixed distance band between the centres of cells of one square grid of cell size
    /// `size`: cells are neighbours when `(Δix² + Δiy²)·size² ≤ band²` (`d ≤ band`, as
    /// [`Weights::distance_band`] on the centres, decided exactly on the lattice). Found from
    /// the lattice offsets within the band, so the cost is cells × offsets, in parallel.
    /// Duplicate cells are an error; units are numbered in the order of `cells`.
    pub fn grid_distance_band(cells: &[Cell], size: f64, band: f64) -> Result<Self, SpatialError> {
        if !(size.is_finite() && size > 0.0) {
            return Err(super::bad("cell size", format!("{size} is not a positive number of metres")));
        }
        if !(band.is_finite() && band >= 0.0) {
            return Err(super::bad("distance band", format!("{band} is not a non-negative number of metres")));
        }
        if cells.len() > u32::MAX as usize {
            return Err(super::bad("weights", "more than 4 billion units"));
        }
        let lookup = CellLookup::new(cells)?;
        let reach = (band / size).floor() as i64 + 1;
        let r2 = band * band;
        let offsets: Vec<(i64, i64)> = (-reach..=reach)
            .flat_map(|dy| (-reach..=reach).map(move |dx| (dx, dy)))
            .filter(|&(dx, dy)| (dx, dy) != (0, 0) && ((dx * dx + dy * dy) as f64) * size * size <= r2)
            .collect();
        let rows: Vec<Vec<u32>> = cells
            .par_iter()
            .with_min_len(256)
            .map(|c| {
                let mut row: Vec<u32> =
                    offsets.iter().filter_map(|&(dx, dy)| lookup.find(c.ix as i64 + dx, c.iy as i64 + dy)).collect();
                row.sort_unstable();
                row
            })
            .collect();
        let mut offsets_out = Vec::with_capacity(cells.len() + 1);
        offsets_out.push(0);
        let mut neighbours = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        for row in rows {
            neighbours.extend_from_slice(&row);
            offsets_out.push(neighbours.len());
        }
        Ok(Self { offsets: offsets_out, neighbours })
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there are no units.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The neighbours of unit `i`, sorted.
    pub fn neighbours(&self, i: usize) -> &[u32] {
        &self.neighbours[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Number of neighbours of unit `i` (its row sum, as weights are binary).
    pub fn cardinality(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// The largest number of neighbours of any unit.
    pub fn max_cardinality(&self) -> usize {
        (0..self.len()).map(|i| self.cardinality(i)).max().unwrap_or(0)
    }

    /// Whether `j` is a neighbour of `i`.
    pub fn has_neighbour(&self, i: usize, j: usize) -> bool {
        self.neighbours(i).binary_search(&(j as u32)).is_ok()
    }

    /// Total number of (ordered) neighbour links, S0 for binary weights.
    pub fn links(&self) -> usize {
        self.neighbours.len()
    }
}

/// Position of each cell of a selection: a dense table over the selection's bounding box
/// when that is small, else a hash map.
pub(crate) enum CellLookup {
    Dense { ix0: i64, iy0: i64, nx: i64, ny: i64, table: Vec<u32> },
    Sparse(HashMap<(usize, usize), u32>),
}

impl CellLookup {
    /// Indexes the cells; a cell listed twice is an error.
    pub(crate) fn new(cells: &[Cell]) -> Result<Self, SpatialError> {
        let twice = |c: &Cell| super::bad("cells", format!("cell ({}, {}) is listed twice", c.ix, c.iy));
        let (Some(ix0), Some(iy0)) = (cells.iter().map(|c| c.ix).min(), cells.iter().map(|c| c.iy).min()) else {
            return Ok(CellLookup::Sparse(HashMap::new()));
        };
        let ix1 = cells.iter().map(|c| c.ix).max().unwrap_or(ix0);
        let iy1 = cells.iter().map(|c| c.iy).max().unwrap_or(iy0);
        let (nx, ny) = ((ix1 - ix0 + 1) as u128, (iy1 - iy0 + 1) as u128);
        if nx * ny <= 16 * cells.len() as u128 + 1_000_000 {
            let mut table = vec![u32::MAX; (nx * ny) as usize];
            for (k, c) in cells.iter().enumerate() {
                let slot = &mut table[(c.iy - iy0) * nx as usize + (c.ix - ix0)];
                if *slot != u32::MAX {
                    return Err(twice(c));
                }
                *slot = k as u32;
            }
            Ok(CellLookup::Dense { ix0: ix0 as i64, iy0: iy0 as i64, nx: nx as i64, ny: ny as i64, table })
        } else {
            let mut map = HashMap::with_capacity(cells.len());
            for (k, c) in cells.iter().enumerate() {
                if map.insert((c.ix, c.iy), k as u32).is_some() {
                    return Err(twice(c));
                }
            }
            Ok(CellLookup::Sparse(map))
        }
    }

    /// The position of the cell at `(ix, iy)`, if it is in the selection.
    pub(crate) fn find(&self, ix: i64, iy: i64) -> Option<u32> {
        match self {
            CellLookup::Dense { ix0, iy0, nx, ny, table } => {
                let (x, y) = (ix - ix0, iy - iy0);
                if x < 0 || y < 0 || x >= *nx || y >= *ny {
                    return None;
                }
                let k = table[(y * nx + x) as usize];
                (k != u32::MAX).then_some(k)
            }
            CellLookup::Sparse(map) => {
                if ix < 0 || iy < 0 {
                    return None;
                }
                map.get(&(ix as usize, iy as usize)).copied()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(nx: usize, ny: usize) -> Vec<Cell> {
        (0..ny).flat_map(|iy| (0..nx).map(move |ix| Cell { ix, iy })).collect()
    }

    #[test]
    fn queen_and_rook_on_a_three_by_three_grid() {
        let cells = grid(3, 3);
        let queen = Weights::contiguity(&cells, Contiguity::Queen).unwrap();
        let rook = Weights::contiguity(&cells, Contiguity::Rook).unwrap();
        // centre cell (index 4) touches all 8 others; a corner has 3 (queen) or 2 (rook)
        assert_eq!(queen.neighbours(4), &[0, 1, 2, 3, 5, 6, 7, 8]);
        assert_eq!(queen.neighbours(0), &[1, 3, 4]);
        assert_eq!(rook.neighbours(4), &[1, 3, 5, 7]);
        assert_eq!(rook.neighbours(0), &[1, 3]);
        assert_eq!(queen.links(), 40);
        assert_eq!(rook.links(), 24);
    }

    #[test]
    fn subsets_of_cells_only_link_present_cells() {
        let cells = vec![Cell { ix: 5, iy: 5 }, Cell { ix: 7, iy: 5 }, Cell { ix: 6, iy: 6 }];
        let rook = Weights::contiguity(&cells, Contiguity::Rook).unwrap();
        assert_eq!(rook.links(), 0);
        let queen = Weights::contiguity(&cells, Contiguity::Queen).unwrap();
        assert_eq!(queen.neighbours(2), &[0, 1]);
    }

    #[test]
    fn distance_band_includes_the_threshold() {
        let points = [(0.0, 0.0), (3.0, 4.0), (10.0, 0.0), (0.0, 0.0)];
        let w = Weights::distance_band(&points, 5.0).unwrap();
        assert_eq!(w.neighbours(0), &[1, 3]);
        assert_eq!(w.neighbours(1), &[0, 3]);
        assert_eq!(w.neighbours(2), &[] as &[u32]);
        assert!(Weights::distance_band(&[(f64::NAN, 0.0)], 1.0).is_err());
        assert!(Weights::distance_band(&points, -1.0).is_err());
    }

    #[test]
    fn explicit_lists_are_validated() {
        assert!(Weights::from_neighbours(&[vec![0]]).is_err());
        assert!(Weights::from_neighbours(&[vec![2], vec![]]).is_err());
        let w = Weights::from_neighbours(&[vec![1, 1], vec![0]]).unwrap();
        assert_eq!(w.neighbours(0), &[1]);
    }

    #[test]
    fn grid_band_agrees_with_the_band_on_centres() {
        // a ragged selection of a 12 × 9 grid of 100 m cells (every cell with 3·ix + iy not
        // divisible by 4), bands on and between lattice distances (100, 141.42…, 200, 223.6…)
        let cells: Vec<Cell> = (0..9)
            .flat_map(|iy| (0..12).map(move |ix| Cell { ix, iy }))
            .filter(|c| (3 * c.ix + c.iy) % 4 != 0)
            .collect();
        let centres: Vec<(f64, f64)> = cells
            .iter()
            .map(|c| (1000.0 + 100.0 * (c.ix as f64 + 0.5), 2000.0 + 100.0 * (c.iy as f64 + 0.5)))
            .collect();
        for band in [0.0, 99.0, 100.0, 150.0, 200.0, 250.0, 300.0] {
            let lattice = Weights::grid_distance_band(&cells, 100.0, band).unwrap();
            let points = Weights::distance_band(&centres, band).unwrap();
            assert_eq!(lattice, points, "band {band}");
        }
        // a full 3 × 3 grid at 150 m: the centre has its 8 neighbours (diagonal 141.4 m ≤ 150)
        let full: Vec<Cell> = (0..3).flat_map(|iy| (0..3).map(move |ix| Cell { ix, iy })).collect();
        let w = Weights::grid_distance_band(&full, 100.0, 150.0).unwrap();
        assert_eq!(w.neighbours(4), &[0, 1, 2, 3, 5, 6, 7, 8]);
        assert_eq!(w.neighbours(0), &[1, 3, 4]);
        assert!(Weights::grid_distance_band(&[full[0], full[0]], 100.0, 150.0).is_err());
        assert!(Weights::grid_distance_band(&full, 0.0, 150.0).is_err());
    }

    #[test]
    fn a_sparse_selection_uses_the_hash_lookup() {
        let cells = [Cell { ix: 0, iy: 0 }, Cell { ix: 3_000_000, iy: 1 }, Cell { ix: 3_000_001, iy: 1 }];
        let lookup = CellLookup::new(&cells).unwrap();
        assert!(matches!(lookup, CellLookup::Sparse(_)));
        let w = Weights::grid_distance_band(&cells, 10.0, 10.0).unwrap();
        assert_eq!(w.neighbours(1), &[2]);
        assert_eq!(w.neighbours(0), &[] as &[u32]);
    }
}
