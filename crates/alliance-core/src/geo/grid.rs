//! Square grids over projected points (metres), and counts of points per grid cell or per
//! area (LSOA, ward).
//!
//! Conventions (the same in the CLI, the web app and the exports):
//! - a cell is addressed by `(ix, iy)` with `ix = floor((x − x0) / size)` and
//!   `iy = floor((y − y0) / size)`, so a cell is the half-open square
//!   `[x0 + ix·size, x0 + (ix+1)·size) × [y0 + iy·size, y0 + (iy+1)·size)` and a point on an
//!   inner edge belongs to the upper/right cell;
//! - cells are stored row by row from the bottom-left: `index = iy·nx + ix`;
//! - by default the origin is the points' minimum x and y, each rounded down to a multiple
//!   of the cell size, and the grid is just large enough for every point to fall in a cell
//!   (so a point exactly on the top or right edge of the data's extent gets a cell of its own).

use geo::{BoundingRect, Contains, Coord, Intersects, LineString, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde::Serialize;

/// Why a grid could not be built or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    #[error("the cell size must be a positive finite number of metres, not {0}")]
    BadCellSize(f64),
    #[error("the grid origin must be finite, not ({0}, {1})")]
    BadOrigin(f64, f64),
    #[error("there are no points to build a grid around")]
    NoPoints,
    #[error("point {index} has a non-finite coordinate ({x}, {y})")]
    NonFinitePoint { index: usize, x: f64, y: f64 },
    #[error("point {index} ({x}, {y}) lies below or left of the grid origin")]
    BeforeOrigin { index: usize, x: f64, y: f64 },
    #[error("the grid would have {0} cells, more than the limit of 50 million")]
    TooLarge(u128),
}

const MAX_CELLS: u128 = 50_000_000;

/// A square grid: origin (bottom-left corner), cell size and number of columns and rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GridSpec {
    pub x0: f64,
    pub y0: f64,
    pub size: f64,
    pub nx: usize,
    pub ny: usize,
}

/// One cell of a grid, by column and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Cell {
    pub ix: usize,
    pub iy: usize,
}

impl GridSpec {
    /// A grid with an explicit origin and extent.
    pub fn new(x0: f64, y0: f64, size: f64, nx: usize, ny: usize) -> Result<Self, GridError> {
        if !(size.is_finite() && size > 0.0) {
            return Err(GridError::BadCellSize(size));
        }
        if !x0.is_finite() || !y0.is_finite() {
            return Err(GridError::BadOrigin(x0, y0));
        }
        if (nx as u128) * (ny as u128) > MAX_CELLS {
            return Err(GridError::TooLarge((nx as u128) * (ny as u128)));
        }
        Ok(Self { x0, y0, size, nx, ny })
    }

    /// The smallest grid with the given cell size (and origin, if given) that holds every
    /// point. Without an origin, the origin is the points' minimum x and y rounded down to a
    /// multiple of the cell size.
    pub fn covering(points: &[(f64, f64)], size: f64, origin: Option<(f64, f64)>) -> Result<Self, GridError> {
        if !(size.is_finite() && size > 0.0) {
            return Err(GridError::BadCellSize(size));
        }
        let (min, max) = extent(points)?;
        let (x0, y0) = match origin {
            Some((x0, y0)) => {
                if !x0.is_finite() || !y0.is_finite() {
                    return Err(GridError::BadOrigin(x0, y0));
                }
                if let Some((index, &(x, y))) = points.iter().enumerate().find(|(_, &(x, y))| x < x0 || y < y0) {
                    return Err(GridError::BeforeOrigin { index, x, y });
                }
                (x0, y0)
            }
            None => ((min.0 / size).floor() * size, (min.1 / size).floor() * size),
        };
        let nx = ((max.0 - x0) / size).floor() as u128 + 1;
        let ny = ((max.1 - y0) / size).floor() as u128 + 1;
        if nx * ny > MAX_CELLS {
            return Err(GridError::TooLarge(nx * ny));
        }
        Self::new(x0, y0, size, nx as usize, ny as usize)
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    /// True when the grid has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell holding a point, or `None` outside the grid (or for a non-finite point).
    pub fn cell_of(&self, x: f64, y: f64) -> Option<Cell> {
        let fx = ((x - self.x0) / self.size).floor();
        let fy = ((y - self.y0) / self.size).floor();
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return None;
        }
        Some(Cell { ix: fx as usize, iy: fy as usize })
    }

    /// Row-major index of a cell (`iy·nx + ix`).
    pub fn index(&self, cell: Cell) -> usize {
        cell.iy * self.nx + cell.ix
    }

    /// The cell at a row-major index.
    pub fn cell_at(&self, index: usize) -> Cell {
        Cell { ix: index % self.nx, iy: index / self.nx }
    }

    /// Bottom-left corner of a cell.
    pub fn min_corner(&self, cell: Cell) -> (f64, f64) {
        (self.x0 + cell.ix as f64 * self.size, self.y0 + cell.iy as f64 * self.size)
    }

    /// Centre of a cell.
    pub fn centre(&self, cell: Cell) -> (f64, f64) {
        (self.x0 + (cell.ix as f64 + 0.5) * self.size, self.y0 + (cell.iy as f64 + 0.5) * self.size)
    }

    /// Every cell of the grid in row-major order ("bbox" mode: zeros kept).
    pub fn all_cells(&self) -> Vec<Cell> {
        (0..self.len()).map(|i| self.cell_at(i)).collect()
    }

    /// The cells whose interior meets the interior of the study area ("area" mode), in
    /// row-major order. A cell that only touches the area along an edge or at a corner is
    /// left out, so a study area drawn on grid lines gets exactly the cells inside it.
    ///
    /// Exact for valid polygons (holes allowed): a cell is kept when its centre is inside
    /// the area (even–odd rule on a scanline through the centres) or when a boundary
    /// segment passes through the cell's open interior.
    pub fn cells_intersecting(&self, area: &MultiPolygon<f64>) -> Vec<Cell> {
        let mut keep = vec![false; self.len()];
        let rings: Vec<&LineString<f64>> =
            area.0.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())).collect();
        // 1. centres inside, one scanline per row
        let mut crossings: Vec<f64> = Vec::new();
        for iy in 0..self.ny {
            let yc = self.y0 + (iy as f64 + 0.5) * self.size;
            crossings.clear();
            for ring in &rings {
                for seg in ring.lines() {
                    let (a, b) = (seg.start, seg.end);
                    if (a.y <= yc) != (b.y <= yc) {
                        crossings.push(a.x + (yc - a.y) * (b.x - a.x) / (b.y - a.y));
                    }
                }
            }
            crossings.sort_by(f64::total_cmp);
            for pair in crossings.chunks_exact(2) {
                // centres strictly between an entering and a leaving crossing
                let first = ((pair[0] - self.x0) / self.size - 0.5).floor() + 1.0;
                let last = ((pair[1] - self.x0) / self.size - 0.5).ceil() - 1.0;
                let first = first.max(0.0);
                let last = last.min(self.nx as f64 - 1.0);
                if first <= last {
                    for ix in first as usize..=last as usize {
                        keep[iy * self.nx + ix] = true;
                    }
                }
            }
        }
        // 2. boundary segments through a cell's open interior
        for ring in &rings {
            for seg in ring.lines() {
                self.mark_cells_crossed(seg.start, seg.end, &mut keep);
            }
        }
        keep.iter().enumerate().filter(|(_, &k)| k).map(|(i, _)| self.cell_at(i)).collect()
    }

    fn mark_cells_crossed(&self, a: Coord<f64>, b: Coord<f64>, keep: &mut [bool]) {
        let range = |lo: f64, hi: f64, origin: f64, n: usize| -> Option<(usize, usize)> {
            let first = ((lo - origin) / self.size).floor().max(0.0);
            let last = ((hi - origin) / self.size).floor().min(n as f64 - 1.0);
            (first <= last).then_some((first as usize, last as usize))
        };
        let Some((ix0, ix1)) = range(a.x.min(b.x), a.x.max(b.x), self.x0, self.nx) else {
            return;
        };
        let Some((iy0, iy1)) = range(a.y.min(b.y), a.y.max(b.y), self.y0, self.ny) else {
            return;
        };
        for iy in iy0..=iy1 {
            for ix in ix0..=ix1 {
                let (x0, y0) = self.min_corner(Cell { ix, iy });
                if segment_meets_open_square(a, b, x0, y0, self.size) {
                    keep[iy * self.nx + ix] = true;
                }
            }
        }
    }
}

/// Liang–Barsky clip of segment `ab` to the closed square, then: the segment meets the open
/// square exactly when the middle of the clipped chord is strictly inside (for a convex
/// set, a chord with one interior point has its whole relative interior inside).
fn segment_meets_open_square(a: Coord<f64>, b: Coord<f64>, x0: f64, y0: f64, size: f64) -> bool {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (p, q) in [(-dx, a.x - x0), (dx, x0 + size - a.x), (-dy, a.y - y0), (dy, y0 + size - a.y)] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return false;
    }
    let t = 0.5 * (t0 + t1);
    let (mx, my) = (a.x + t * dx, a.y + t * dy);
    mx > x0 && mx < x0 + size && my > y0 && my < y0 + size
}

type Extent = ((f64, f64), (f64, f64));

fn extent(points: &[(f64, f64)]) -> Result<Extent, GridError> {
    if points.is_empty() {
        return Err(GridError::NoPoints);
    }
    let mut min = (f64::INFINITY, f64::INFINITY);
    let mut max = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (index, &(x, y)) in points.iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            return Err(GridError::NonFinitePoint { index, x, y });
        }
        min = (min.0.min(x), min.1.min(y));
        max = (max.0.max(x), max.1.max(y));
    }
    Ok((min, max))
}

/// Counts of points per selected cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellCounts {
    /// One count per cell of the selection, in the selection's order.
    pub counts: Vec<i64>,
    /// Points that fell in no selected cell (outside the grid or in a cell left out).
    pub outside: usize,
}

/// Counts points per cell for a selection of cells (all cells, or those intersecting a
/// study area). Non-finite points are an error, not silently dropped.
pub fn count_points(grid: &GridSpec, cells: &[Cell], points: &[(f64, f64)]) -> Result<CellCounts, GridError> {
    let mut position = vec![u32::MAX; grid.len()];
    for (k, &cell) in cells.iter().enumerate() {
        position[grid.index(cell)] = k as u32;
    }
    let mut counts = vec![0_i64; cells.len()];
    let mut outside = 0;
    for (index, &(x, y)) in points.iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            return Err(GridError::NonFinitePoint { index, x, y });
        }
        match grid.cell_of(x, y).map(|c| position[grid.index(c)]) {
            Some(k) if k != u32::MAX => counts[k as usize] += 1,
            _ => outside += 1,
        }
    }
    Ok(CellCounts { counts, outside })
}

/// An index over area outlines (LSOAs, wards) for assigning points to areas.
pub struct AreaIndex<'a> {
    areas: &'a [MultiPolygon<f64>],
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl<'a> AreaIndex<'a> {
    /// Indexes the areas' bounding boxes in an R-tree (areas without coordinates are skipped).
    pub fn new(areas: &'a [MultiPolygon<f64>]) -> Self {
        let boxes = areas
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                a.bounding_rect().map(|r| {
                    GeomWithData::new(
                        Rectangle::from_aabb(AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])),
                        i,
                    )
                })
            })
            .collect();
        Self { areas, tree: RTree::bulk_load(boxes) }
    }

    /// The area holding a point: the one whose interior contains it; for a point on a
    /// shared boundary, the lowest-numbered area whose boundary it lies on. `None` outside
    /// every area.
    pub fn area_of(&self, x: f64, y: f64) -> Option<usize> {
        if !x.is_finite() || !y.is_finite() {
            return None;
        }
        let p = Point::new(x, y);
        let mut candidates: Vec<usize> = self.tree.locate_all_at_point(&[x, y]).map(|g| g.data).collect();
        candidates.sort_unstable();
        candidates
            .iter()
            .copied()
            .find(|&i| self.areas[i].contains(&p))
            .or_else(|| candidates.iter().copied().find(|&i| self.areas[i].intersects(&p)))
    }
}

/// Counts of points per area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaCounts {
    /// One count per area, in the areas' order.
    pub counts: Vec<i64>,
    /// Points in no area.
    pub outside: usize,
}

/// Counts points per area (LSOA, ward) with an R-tree over the areas' bounding boxes.
/// A point on a shared boundary counts once, for the lowest-numbered area.
pub fn count_points_in_areas(areas: &[MultiPolygon<f64>], points: &[(f64, f64)]) -> Result<AreaCounts, GridError> {
    let index = AreaIndex::new(areas);
    let mut counts = vec![0_i64; areas.len()];
    let mut outside = 0;
    for (i, &(x, y)) in points.iter().enumerate() {
        if !x.is_finite() || !y.is_finite() {
            return Err(GridError::NonFinitePoint { index: i, x, y });
        }
        match index.area_of(x, y) {
            Some(a) => counts[a] += 1,
            None => outside += 1,
        }
    }
    Ok(AreaCounts { counts, outside })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    #[test]
    fn default_origin_rounds_down_and_edges_go_up_and_right() {
        let points = [(120.0, 260.0), (250.0, 300.0), (349.9, 260.0)];
        let g = GridSpec::covering(&points, 100.0, None).unwrap();
        assert_eq!((g.x0, g.y0, g.nx, g.ny), (100.0, 200.0, 3, 2));
        // (250, 300) lies on the inner edge y = 300: it belongs to the upper row.
        assert_eq!(g.cell_of(250.0, 300.0), Some(Cell { ix: 1, iy: 1 }));
        // x = 200 is an inner edge: the right-hand cell.
        assert_eq!(g.cell_of(200.0, 250.0), Some(Cell { ix: 1, iy: 0 }));
        let counts = count_points(&g, &g.all_cells(), &points).unwrap();
        assert_eq!(counts.counts, vec![1, 0, 1, 0, 1, 0]);
        assert_eq!(counts.outside, 0);
        assert_eq!(g.centre(Cell { ix: 2, iy: 1 }), (350.0, 350.0));
    }

    #[test]
    fn negative_coordinates_floor_correctly() {
        let g = GridSpec::covering(&[(-150.0, -1.0), (10.0, 0.0)], 100.0, None).unwrap();
        assert_eq!((g.x0, g.y0, g.nx, g.ny), (-200.0, -100.0, 3, 2));
        assert_eq!(g.cell_of(-150.0, -1.0), Some(Cell { ix: 0, iy: 0 }));
    }

    #[test]
    fn explicit_origin_rejects_points_before_it() {
        let err = GridSpec::covering(&[(5.0, 5.0)], 10.0, Some((6.0, 0.0))).unwrap_err();
        assert!(matches!(err, GridError::BeforeOrigin { index: 0, .. }));
        assert!(GridSpec::covering(&[(5.0, 5.0)], 0.0, None).is_err());
        assert!(GridSpec::covering(&[], 10.0, None).is_err());
        assert!(GridSpec::covering(&[(f64::NAN, 0.0)], 10.0, None).is_err());
    }

    #[test]
    fn area_mode_keeps_cells_whose_interior_meets_the_area() {
        let g = GridSpec::new(0.0, 0.0, 10.0, 4, 4).unwrap();
        // A square on grid lines covering cells (1..=2, 1..=2): touching cells are left out.
        let square = MultiPolygon(vec![polygon![
            (x: 10.0, y: 10.0), (x: 30.0, y: 10.0), (x: 30.0, y: 30.0), (x: 10.0, y: 30.0)
        ]]);
        let cells = g.cells_intersecting(&square);
        let expected: Vec<Cell> = [(1, 1), (2, 1), (1, 2), (2, 2)].iter().map(|&(ix, iy)| Cell { ix, iy }).collect();
        assert_eq!(cells, expected);
        // A thin triangle that misses every centre but crosses cell (0,0) and (1,0).
        let sliver = MultiPolygon(vec![polygon![
            (x: 1.0, y: 1.0), (x: 19.0, y: 1.0), (x: 19.0, y: 2.0)
        ]]);
        assert_eq!(g.cells_intersecting(&sliver), vec![Cell { ix: 0, iy: 0 }, Cell { ix: 1, iy: 0 }]);
    }

    #[test]
    fn points_are_counted_per_area_once() {
        let left = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)
        ]]);
        let right = MultiPolygon(vec![polygon![
            (x: 10.0, y: 0.0), (x: 20.0, y: 0.0), (x: 20.0, y: 10.0), (x: 10.0, y: 10.0)
        ]]);
        let points = [(5.0, 5.0), (15.0, 5.0), (10.0, 5.0), (25.0, 5.0), (16.0, 1.0)];
        let counts = count_points_in_areas(&[left, right], &points).unwrap();
        // (10, 5) is on the shared boundary: the lower-numbered area takes it.
        assert_eq!(counts.counts, vec![2, 2]);
        assert_eq!(counts.outside, 1);
    }
}
