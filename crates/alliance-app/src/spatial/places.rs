//! Names for hot cells: the street the police data names most often among the records in a
//! cell (data.police.uk snaps each record to a point on or near a street and names it,
//! "On or near Station Road"), and the ward the cell's centre lies in. They let an analyst
//! place a hot cell without a background map.

use std::collections::HashMap;

use alliance_core::analytics::spatial::hotspot_table::HotspotTable;
use alliance_core::domain::street_of_location;
use alliance_core::geo::grid::{Cell, GridSpec};
use alliance_db::Db;
use geo::{BoundingRect, Contains, MultiPolygon, Point, Rect};

use alliance_core::analytics::spatial::EmergingCategory;

use super::emerging::Emerging;
use super::{areas, HotspotResult, Hotspots, Region};
use crate::AppError;

/// The located records of a filter with their published locations, and the wards.
#[derive(Debug, Clone)]
pub struct PlaceNamer {
    points: Vec<(f64, f64)>,
    streets: Vec<String>,
    /// Ward name, outline and its bounding box, in National Grid metres.
    wards: Vec<(String, MultiPolygon<f64>, Rect<f64>)>,
}

impl PlaceNamer {
    /// Names places among `points` (National Grid metres) with their published `streets`
    /// (one per point, as `located_police_records` gives them) and the stored wards of the
    /// region; without stored wards cells have no ward name. The points are the ones an
    /// analysis has just read, so naming its hot spots reads no record again.
    pub async fn new(
        db: &Db,
        region: Region<'_>,
        points: Vec<(f64, f64)>,
        streets: Vec<String>,
    ) -> Result<PlaceNamer, AppError> {
        if points.len() != streets.len() {
            return Err(AppError::internal(format!("{} points with {} streets", points.len(), streets.len())));
        }
        let wards = match areas(db, "ward", region).await {
            Ok(wards) => {
                wards.into_iter().filter_map(|w| w.bng.bounding_rect().map(|r| (w.stored.name, w.bng, r))).collect()
            }
            Err(AppError::Invalid { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(PlaceNamer { points, streets, wards })
    }

    /// For each of `cells`, the street named most often among the records in it (ties: the
    /// first in alphabetical order), if any record there names one. One pass over the
    /// records, however many cells are asked for.
    pub fn streets_in_cells(&self, grid: &GridSpec, cells: &[Cell]) -> Vec<Option<String>> {
        let wanted: HashMap<Cell, usize> = cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let mut tallies: Vec<HashMap<&str, usize>> = vec![HashMap::new(); cells.len()];
        for (p, location) in self.points.iter().zip(&self.streets) {
            let Some(&at) = grid.cell_of(p.0, p.1).and_then(|c| wanted.get(&c)) else { continue };
            if let Some(name) = street_of_location(location) {
                *tallies[at].entry(name).or_default() += 1;
            }
        }
        tallies
            .into_iter()
            .map(|t| t.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map(|(name, _)| name.to_string()))
            .collect()
    }

    /// The ward containing the centre of `cell`, if wards are stored.
    pub fn ward_of_cell(&self, grid: &GridSpec, cell: Cell) -> Option<String> {
        let (x, y) = grid.centre(cell);
        self.ward_at(x, y)
    }

    /// The ward containing the point (National Grid metres), if wards are stored.
    pub fn ward_at(&self, x: f64, y: f64) -> Option<String> {
        let p = Point::new(x, y);
        self.wards
            .iter()
            .find(|(_, shape, rect)| {
                x >= rect.min().x && x <= rect.max().x && y >= rect.min().y && y <= rect.max().y && shape.contains(&p)
            })
            .map(|(name, _, _)| name.clone())
    }
}

/// A cell as the tables name it: its size and south-west corner.
fn cell_label(grid: &GridSpec, cell: Cell) -> String {
    let (x, y) = grid.min_corner(cell);
    format!("{} m cell at E {x:.0}, N {y:.0}", grid.size)
}

/// The bytes a named line holds beyond its struct, for the cache's estimate.
pub(super) fn text_bytes(place: &str, street: &Option<String>, ward: &Option<String>) -> usize {
    place.len() + street.as_ref().map_or(0, String::len) + ward.as_ref().map_or(0, String::len)
}

/// One line of the "top hotspots" table.
#[derive(Debug, Clone, PartialEq)]
pub struct TopHotspot {
    /// The cell (its size and south-west corner) or the area (name and code).
    pub place: String,
    pub street: Option<String>,
    pub ward: Option<String>,
    pub count: i64,
    pub z: f64,
    pub p_norm: f64,
    /// The confidence bin, 1 to 3.
    pub bin: i8,
}

/// The rows of the `n` hot spots (bins 1 to 3) with the highest z, hottest first (ties in
/// row order).
fn hottest(t: &HotspotTable, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..t.rows.len()).filter(|&i| t.rows[i].bin > 0).collect();
    order.sort_by(|&a, &b| t.rows[b].z.total_cmp(&t.rows[a].z).then(a.cmp(&b)));
    order.truncate(n);
    order
}

/// The `n` hot spots (bins 1 to 3) with the highest z of an analysis, named.
pub fn top_hotspots(h: &Hotspots, namer: &PlaceNamer, n: usize) -> Vec<TopHotspot> {
    match h {
        Hotspots::Grid(g) => {
            let HotspotResult::Local(t) = &g.result else { return Vec::new() };
            let rows = hottest(t, n);
            let cells: Vec<Cell> = rows.iter().map(|&i| g.units.cells[i]).collect();
            let streets = namer.streets_in_cells(&g.units.grid, &cells);
            rows.into_iter()
                .zip(cells)
                .zip(streets)
                .map(|((i, cell), street)| {
                    let row = &t.rows[i];
                    TopHotspot {
                        place: cell_label(&g.units.grid, cell),
                        street,
                        ward: namer.ward_of_cell(&g.units.grid, cell),
                        count: row.count,
                        z: row.z,
                        p_norm: row.p_norm,
                        bin: row.bin,
                    }
                })
                .collect()
        }
        Hotspots::Areas { hotspots, areas } => {
            let HotspotResult::Local(t) = &hotspots.result else { return Vec::new() };
            hottest(t, n)
                .into_iter()
                .map(|i| {
                    let row = &t.rows[i];
                    let centre = geo::Centroid::centroid(&areas[i].bng).map(|p| (p.x(), p.y()));
                    TopHotspot {
                        place: format!("{} ({})", hotspots.names[i], hotspots.codes[i]),
                        street: None,
                        ward: centre.and_then(|(x, y)| namer.ward_at(x, y)),
                        count: row.count,
                        z: row.z,
                        p_norm: row.p_norm,
                        bin: row.bin,
                    }
                })
                .collect()
        }
    }
}

/// One cell of the "emerging hot spots" table.
#[derive(Debug, Clone, PartialEq)]
pub struct TopEmerging {
    /// The cell: its size and south-west corner.
    pub place: String,
    pub street: Option<String>,
    pub ward: Option<String>,
    pub category: EmergingCategory,
    /// Records in the cell over the period.
    pub count: i64,
    /// Slices in which the cell is a significant hot spot.
    pub hot_slices: usize,
}

/// The `n` cells of an emerging analysis with a hot spot pattern, named: the most recent hot
/// spots first (by the confidence bin of the final slice, hottest first), then by the cell's
/// count, then in cell order.
pub fn top_emerging(e: &Emerging, namer: &PlaceNamer, n: usize) -> Vec<TopEmerging> {
    let results = &e.analysis.results;
    let mut order: Vec<usize> =
        (0..results.len()).filter(|&k| results[k].category.name().ends_with("hot-spot")).collect();
    let m = e.analysis.slices;
    let last_bin = |k: usize| e.analysis.gi.bins.bins[k * m + m - 1];
    order.sort_by(|&a, &b| {
        last_bin(b).cmp(&last_bin(a)).then(e.units.counts[b].cmp(&e.units.counts[a])).then(a.cmp(&b))
    });
    order.truncate(n);
    let cells: Vec<Cell> = order.iter().map(|&k| e.units.cells[k]).collect();
    let streets = namer.streets_in_cells(&e.units.grid, &cells);
    order
        .into_iter()
        .zip(cells)
        .zip(streets)
        .map(|((k, cell), street)| TopEmerging {
            place: cell_label(&e.units.grid, cell),
            street,
            ward: namer.ward_of_cell(&e.units.grid, cell),
            category: results[k].category,
            count: e.units.counts[k],
            hot_slices: results[k].hot_slices,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_are_named_by_the_most_frequent_location_in_the_cell() {
        let grid = GridSpec::new(0.0, 0.0, 100.0, 2, 1).unwrap();
        let namer = PlaceNamer {
            points: vec![(10.0, 10.0), (20.0, 20.0), (30.0, 30.0), (150.0, 50.0)],
            streets: vec![
                "On or near High Street".into(),
                "On or near Mill Lane".into(),
                "On or near High Street".into(),
                "On or near Park Road".into(),
            ],
            wards: vec![],
        };
        let (west, east) = (Cell { ix: 0, iy: 0 }, Cell { ix: 1, iy: 0 });
        assert_eq!(
            namer.streets_in_cells(&grid, &[west, east]),
            vec![Some("High Street".to_string()), Some("Park Road".to_string())]
        );
        // Asked in another order, each cell keeps its own name.
        assert_eq!(
            namer.streets_in_cells(&grid, &[east, west]),
            vec![Some("Park Road".to_string()), Some("High Street".to_string())]
        );
        assert_eq!(namer.ward_at(10.0, 10.0), None, "no wards stored");
    }

    /// data.police.uk rows of "On or near " with no street name nothing: a cell is named by
    /// the street its other records name, or by none (then its grid reference), never "On or near".
    #[test]
    fn on_or_near_with_no_street_names_no_cell() {
        let grid = GridSpec::new(0.0, 0.0, 100.0, 2, 1).unwrap();
        let namer = PlaceNamer {
            points: vec![(10.0, 10.0), (20.0, 20.0), (30.0, 30.0), (150.0, 50.0), (160.0, 50.0)],
            streets: vec![
                "On or near ".into(),
                "On or near".into(),
                "on or near  Mill Lane".into(),
                "On or near ".into(),
                "No location".into(),
            ],
            wards: vec![],
        };
        let (west, east) = (Cell { ix: 0, iy: 0 }, Cell { ix: 1, iy: 0 });
        assert_eq!(namer.streets_in_cells(&grid, &[west, east]), vec![Some("Mill Lane".to_string()), None]);
    }
}
