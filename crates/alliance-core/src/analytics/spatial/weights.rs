//! Binary spatial weights as sparse neighbour lists.
//!
//! Every weight is 1 (neighbour) or 0 (not); a unit is never its own neighbour here: Gi*
//! adds the unit itself with weight 1 when it needs it. Row standardisation, where a
//! statistic uses it, is applied by that statistic, not stored.

use super::SpatialError;
use crate::geo::grid::Cell;
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
}
