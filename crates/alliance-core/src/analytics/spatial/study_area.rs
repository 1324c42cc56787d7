//! The study area of a hotspot analysis: the partnership's area, a district, or a drawn place,
//! as polygons in British National Grid metres. Hotspot grids cover the study area, never the
//! bounding box of the points: a few police records far outside a force would otherwise make
//! grids of millions of cells (issue 15).
//!
//! Conventions:
//! - a point is in the study area when it is inside a polygon by the even–odd rule over all
//!   rings (holes excluded) or on a ring (a point on the boundary is kept); points outside
//!   are dropped and counted;
//! - the grid is the one of [`crate::geo::grid`] with its origin at the study area's minimum
//!   x and y rounded down to a multiple of the cell size, so its cells are the same cells as
//!   any other grid of that size built by that rule (cells lie on multiples of the size);
//! - the cells analysed are those whose interior meets the study area
//!   ([`GridSpec::cells_intersecting`]), zeros kept.

use geo::{BoundingRect, MultiPolygon};
use serde::Serialize;

use super::budget::{cells_to_cover, check_cell_budget};
use super::hotspot_table::GridUnits;
use super::SpatialError;
use crate::geo::grid::{count_points, GridSpec};

/// A study area with an index for fast point-in-area tests: the rings' edges bucketed into
/// horizontal strips, so a test looks only at the edges crossing the point's strip.
#[derive(Debug, Clone)]
pub struct StudyArea {
    shape: MultiPolygon<f64>,
    min: (f64, f64),
    max: (f64, f64),
    strip_height: f64,
    /// Edge indices per strip.
    strips: Vec<Vec<u32>>,
    /// Edges as (ax, ay, bx, by).
    edges: Vec<[f64; 4]>,
}

impl StudyArea {
    /// Indexes a study area. It must have at least one ring with coordinates, all finite.
    pub fn new(shape: MultiPolygon<f64>) -> Result<Self, SpatialError> {
        let rect = shape.bounding_rect().ok_or_else(|| super::bad("study area", "it has no coordinates"))?;
        let edges: Vec<[f64; 4]> = shape
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.lines())
            .map(|l| [l.start.x, l.start.y, l.end.x, l.end.y])
            .filter(|e| (e[0], e[1]) != (e[2], e[3]))
            .collect();
        if edges.iter().flatten().any(|v| !v.is_finite()) {
            return Err(super::bad("study area", "it has a non-finite coordinate"));
        }
        if edges.is_empty() {
            return Err(super::bad("study area", "it has no edges"));
        }
        let (min, max) = ((rect.min().x, rect.min().y), (rect.max().x, rect.max().y));
        let n_strips = strip_count(&edges, min.1, max.1);
        let strip_height = strip_height(min.1, max.1, n_strips);
        let mut strips = vec![Vec::new(); n_strips];
        let strip_of = |y: f64| (((y - min.1) / strip_height).floor().max(0.0) as usize).min(n_strips - 1);
        for (k, e) in edges.iter().enumerate() {
            let (lo, hi) = (strip_of(e[1].min(e[3])), strip_of(e[1].max(e[3])));
            for strip in &mut strips[lo..=hi] {
                strip.push(k as u32);
            }
        }
        Ok(Self { shape, min, max, strip_height, strips, edges })
    }

    /// The polygons.
    pub fn shape(&self) -> &MultiPolygon<f64> {
        &self.shape
    }

    /// Minimum and maximum corner of the bounding box.
    pub fn bounds(&self) -> ((f64, f64), (f64, f64)) {
        (self.min, self.max)
    }

    /// Whether a point is in the study area (inside or on the boundary; see the module
    /// documentation). Non-finite points are not.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        if !(x >= self.min.0 && x <= self.max.0 && y >= self.min.1 && y <= self.max.1) {
            return false;
        }
        let strip = (((y - self.min.1) / self.strip_height).floor().max(0.0) as usize).min(self.strips.len() - 1);
        let mut inside = false;
        for &k in &self.strips[strip] {
            let [ax, ay, bx, by] = self.edges[k as usize];
            // on the edge: collinear and within its box
            let cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
            if cross == 0.0 && x >= ax.min(bx) && x <= ax.max(bx) && y >= ay.min(by) && y <= ay.max(by) {
                return true;
            }
            if (ay <= y) != (by <= y) {
                let xc = ax + (y - ay) * (bx - ax) / (by - ay);
                if xc > x {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// The grid of cell size `size` over the study area (see the module documentation), after
    /// checking that its bounding box is not absurdly large for the budget.
    pub fn grid(&self, size: f64, cell_budget: usize) -> Result<GridSpec, SpatialError> {
        let cover = cells_to_cover(self.max.0 - self.min.0, self.max.1 - self.min.1, size)?;
        // the bounding box may hold more cells than the area meets, but not 16 times more
        let limit = (cell_budget as u128).saturating_mul(16);
        if cover > limit {
            return Err(SpatialError::TooManyCells {
                cells: cover.min(usize::MAX as u128) as usize,
                budget: cell_budget,
            });
        }
        GridSpec::covering(&[self.min, self.max], size, None).map_err(|e| super::bad("grid", e.to_string()))
    }
}

/// Points split by a study area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointsInArea {
    /// The points inside, in input order.
    pub kept: Vec<(f64, f64)>,
    /// Input positions of the kept points.
    pub kept_index: Vec<usize>,
    /// Points outside (dropped).
    pub dropped: usize,
}

/// Keeps the points in the study area and counts the others. Non-finite points are an
/// error (they are bad input, not points outside).
pub fn points_in_area(points: &[(f64, f64)], area: &StudyArea) -> Result<PointsInArea, SpatialError> {
    if let Some(index) = points.iter().position(|p| !p.0.is_finite() || !p.1.is_finite()) {
        return Err(SpatialError::NonFinite { index });
    }
    use rayon::prelude::*;
    let inside: Vec<bool> = points.par_iter().with_min_len(1024).map(|&(x, y)| area.contains(x, y)).collect();
    let kept_index: Vec<usize> = (0..points.len()).filter(|&i| inside[i]).collect();
    let kept = kept_index.iter().map(|&i| points[i]).collect();
    Ok(PointsInArea { dropped: points.len() - kept_index.len(), kept, kept_index })
}

/// The height of each of `n` strips between `y0` and `y1`.
fn strip_height(y0: f64, y1: f64, n: usize) -> f64 {
    ((y1 - y0) / n as f64).max(f64::MIN_POSITIVE)
}

/// How many strips to bucket `edges` into. A test costs the edges of its strip, so strips
/// should be thin: about [`EDGES_PER_STRIP`] edges each for boundaries of many short edges
/// (a partnership's LSOAs: 41,691 edges, whose points-in-area test over 377,121 records took
/// 340 ms with √edges = 205 strips). An edge is listed in every strip it crosses, so long
/// edges make thin strips costly in memory: the count is halved until the listings are at
/// most [`LISTINGS_PER_EDGE`] per edge, but never below √edges (the earlier rule, whose
/// listings are bounded by edges × √edges).
fn strip_count(edges: &[[f64; 4]], y0: f64, y1: f64) -> usize {
    let floor = ((edges.len() as f64).sqrt().ceil() as usize).clamp(1, 8192);
    let mut n = (edges.len() / EDGES_PER_STRIP).clamp(floor, MAX_STRIPS);
    while n > floor {
        let h = strip_height(y0, y1, n);
        let listings: usize = edges
            .iter()
            .map(|e| {
                let lo = ((e[1].min(e[3]) - y0) / h).floor().max(0.0) as usize;
                let hi = ((e[1].max(e[3]) - y0) / h).floor().max(0.0) as usize;
                hi.min(n - 1) - lo.min(n - 1) + 1
            })
            .sum();
        if listings <= LISTINGS_PER_EDGE * edges.len() {
            break;
        }
        n = (n / 2).max(floor);
    }
    n
}

/// The edges a strip should hold on average (see [`strip_count`]).
const EDGES_PER_STRIP: usize = 8;
/// The most strips an area is cut into.
const MAX_STRIPS: usize = 1 << 16;
/// The most strip listings per edge that thin strips may cost (see [`strip_count`]).
const LISTINGS_PER_EDGE: usize = 4;

/// Grid cells over a study area with their counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyAreaUnits {
    /// The grid, the cells meeting the study area and their counts. `units.outside` is
    /// every point not counted: those outside the study area plus any in the area but in no
    /// analysed cell (only possible for a point on the boundary at a cell's corner).
    pub units: GridUnits,
    /// Points outside the study area, dropped.
    pub dropped_outside_area: usize,
    /// The kept points (inside the study area), in input order.
    pub kept: PointsInArea,
}

/// Counts points per grid cell over a study area: the cells meeting the area (at most
/// `cell_budget` of them, else [`SpatialError::TooManyCells`]), the points outside the area
/// dropped and counted.
pub fn study_area_units(
    points: &[(f64, f64)],
    size: f64,
    area: &StudyArea,
    cell_budget: usize,
) -> Result<StudyAreaUnits, SpatialError> {
    let grid = area.grid(size, cell_budget)?;
    let cells = grid.cells_intersecting(area.shape());
    check_cell_budget(cells.len(), cell_budget)?;
    let kept = points_in_area(points, area)?;
    let counted = count_points(&grid, &cells, &kept.kept).map_err(|e| super::bad("grid", e.to_string()))?;
    Ok(StudyAreaUnits {
        units: GridUnits { grid, cells, counts: counted.counts, outside: counted.outside + kept.dropped },
        dropped_outside_area: kept.dropped,
        kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Contains, Polygon};

    /// An L-shaped area (a 300 × 300 square without its top-right 200 × 200 quarter… as
    /// an L of width 100) with a square hole, and a separate square island.
    fn area() -> MultiPolygon<f64> {
        let l: Polygon<f64> = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 300.0, y: 0.0), (x: 300.0, y: 100.0), (x: 100.0, y: 100.0),
                       (x: 100.0, y: 300.0), (x: 0.0, y: 300.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 20.0, y: 20.0), (x: 60.0, y: 20.0), (x: 60.0, y: 60.0), (x: 20.0, y: 60.0),
                         (x: 20.0, y: 20.0)]],
        );
        let island = polygon![(x: 500.0, y: 500.0), (x: 600.0, y: 500.0), (x: 600.0, y: 600.0), (x: 500.0, y: 600.0)];
        MultiPolygon(vec![l, island])
    }

    #[test]
    fn containment_follows_the_even_odd_rule_and_keeps_the_boundary() {
        let a = StudyArea::new(area()).unwrap();
        assert!(a.contains(10.0, 10.0));
        assert!(!a.contains(40.0, 40.0), "in the hole");
        assert!(!a.contains(200.0, 200.0), "in the notch of the L");
        assert!(a.contains(250.0, 50.0));
        assert!(a.contains(550.0, 550.0), "on the island");
        assert!(!a.contains(400.0, 400.0));
        assert!(a.contains(300.0, 50.0), "on the outer edge");
        assert!(a.contains(100.0, 200.0), "on the inner corner edge");
        assert!(a.contains(0.0, 0.0), "a vertex");
        assert!(!a.contains(f64::NAN, 1.0));
        // agrees with geo's Contains on points off the boundary, over a lattice
        let shape = area();
        for iy in 0..65 {
            for ix in 0..65 {
                let (x, y) = (ix as f64 * 9.7 + 0.3, iy as f64 * 9.7 + 0.3);
                assert_eq!(a.contains(x, y), shape.contains(&geo::Point::new(x, y)), "({x}, {y})");
            }
        }
    }

    #[test]
    fn points_outside_are_dropped_and_counted() {
        let a = StudyArea::new(area()).unwrap();
        let points = [(10.0, 10.0), (40.0, 40.0), (9_000_000.0, 1.0), (550.0, 550.0), (250.0, 99.0)];
        let split = points_in_area(&points, &a).unwrap();
        assert_eq!(split.kept, vec![(10.0, 10.0), (550.0, 550.0), (250.0, 99.0)]);
        assert_eq!(split.kept_index, vec![0, 3, 4]);
        assert_eq!(split.dropped, 2);
        assert!(points_in_area(&[(f64::INFINITY, 0.0)], &a).is_err());
    }

    #[test]
    fn the_grid_covers_the_area_not_the_points() {
        let a = StudyArea::new(area()).unwrap();
        // a stray point 9,000 km away does not grow the grid
        let points = [(10.0, 10.0), (9_000_000.0, 1.0), (150.0, 50.0), (150.0, 60.0)];
        let u = study_area_units(&points, 100.0, &a, 1_000).unwrap();
        let g = u.units.grid;
        assert_eq!((g.x0, g.y0, g.nx, g.ny), (0.0, 0.0, 7, 7));
        // cells meeting the area: the L has 5 cells (3 along the bottom, 2 more up the left);
        // the island covers cell (5, 5) exactly (its edges on grid lines): 6 cells
        assert_eq!(u.units.cells.len(), 6);
        assert_eq!(u.dropped_outside_area, 1);
        assert_eq!(u.units.outside, 1);
        // (10, 10) → cell (0, 0); (150, 50) and (150, 60) → cell (1, 0)
        assert_eq!(u.units.counts.iter().sum::<i64>(), 3);
        assert_eq!(u.units.counts[1], 2);
        let err = study_area_units(&points, 100.0, &a, 5).unwrap_err();
        assert_eq!(err, SpatialError::TooManyCells { cells: 6, budget: 5 });
        // a 1 m grid over a 600 m area is 601² = 361,201 cells to cover: refused before any
        // cell is built
        let err = study_area_units(&points, 1.0, &a, 10).unwrap_err();
        assert_eq!(err, SpatialError::TooManyCells { cells: 361_201, budget: 10 });
    }

    /// A ring of `n` vertices on a wobbly circle: many short edges, as real boundaries have.
    fn wobbly(n: usize, r: f64) -> Polygon<f64> {
        let ring: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                let rr = r * (1.0 + 0.1 * (7.0 * a).sin());
                (rr * a.cos(), rr * a.sin())
            })
            .collect();
        Polygon::new(geo::LineString::from(ring), vec![])
    }

    #[test]
    fn thin_strips_for_many_short_edges_give_the_same_answers() {
        let shape = MultiPolygon(vec![wobbly(20_000, 1_000.0)]);
        let a = StudyArea::new(shape.clone()).unwrap();
        // Thin strips: far more than √20,000 ≈ 142, each holding a few edges.
        assert_eq!(a.strips.len(), 20_000 / EDGES_PER_STRIP);
        // A test looks at a few edges on average (√ strips would hold about 141 each).
        let listed: usize = a.strips.iter().map(Vec::len).sum();
        assert!(listed / a.strips.len() <= LISTINGS_PER_EDGE * EDGES_PER_STRIP, "{listed}");
        for iy in 0..80 {
            for ix in 0..80 {
                let (x, y) = (ix as f64 * 29.3 - 1_170.0, iy as f64 * 29.3 - 1_170.0);
                assert_eq!(a.contains(x, y), shape.contains(&geo::Point::new(x, y)), "({x}, {y})");
            }
        }
    }

    #[test]
    fn long_edges_keep_the_strips_few() {
        // A comb: every edge runs the whole height, so a thin strip would list every edge.
        let mut ring = Vec::new();
        for i in 0..2_000 {
            let x = i as f64;
            ring.push((x, if i % 2 == 0 { 0.0 } else { 1_000.0 }));
        }
        ring.push((2_000.0, -10.0));
        ring.push((0.0, -10.0));
        let shape = MultiPolygon(vec![Polygon::new(geo::LineString::from(ring), vec![])]);
        let a = StudyArea::new(shape.clone()).unwrap();
        let edges = a.edges.len();
        let floor = (edges as f64).sqrt().ceil() as usize;
        assert_eq!(a.strips.len(), floor, "halved down to the √edges rule");
        for (x, y) in [(0.5, 10.0), (1.5, 990.0), (1_000.25, 500.0), (1_999.5, -5.0), (2_500.0, 0.0)] {
            assert_eq!(a.contains(x, y), shape.contains(&geo::Point::new(x, y)), "({x}, {y})");
        }
    }
}
