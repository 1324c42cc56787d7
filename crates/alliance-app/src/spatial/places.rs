//! Names for hot cells: the street the police data names most often among the records in a
//! cell (data.police.uk snaps each record to a point on or near a street and names it,
//! "On or near Station Road"), and the ward the cell's centre lies in. They let an analyst
//! place a hot cell without a background map.

use std::collections::HashMap;

use alliance_core::analytics::spatial::hotspot_table::HotspotTable;
use alliance_core::geo::grid::{Cell, GridSpec};
use alliance_core::geo::projection::BngProjector;
use alliance_db::spatial::LocatedFilter;
use alliance_db::Db;
use geo::{BoundingRect, Contains, MultiPolygon, Point, Rect};

use super::{areas, HotspotResult, Hotspots};
use crate::AppError;

/// The located records of a filter with their published locations, and the wards.
#[derive(Debug, Clone)]
pub struct PlaceNamer {
    points: Vec<(f64, f64)>,
    streets: Vec<String>,
    /// Ward name, outline and its bounding box, in National Grid metres.
    wards: Vec<(String, MultiPolygon<f64>, Rect<f64>)>,
}

/// "On or near Station Road" → "Station Road"; "No location" and empty → none.
fn street_name(location: &str) -> Option<&str> {
    let name = location.trim();
    let name = name.strip_prefix("On or near ").unwrap_or(name).trim();
    (!name.is_empty() && !name.eq_ignore_ascii_case("No location")).then_some(name)
}

impl PlaceNamer {
    /// Loads the records of `filter` and the stored wards (of its district); without stored
    /// wards cells have no ward name.
    pub async fn load(db: &Db, filter: &LocatedFilter) -> Result<PlaceNamer, AppError> {
        let crimes = db.located_police_records(filter).await?;
        let projector = BngProjector::new()?;
        let lon_lat: Vec<(f64, f64)> = crimes.iter().map(|c| (c.longitude, c.latitude)).collect();
        let points = projector.to_bng_many(&lon_lat)?;
        let streets = crimes.into_iter().map(|c| c.location).collect();
        let wards = match areas(db, "ward", filter.district.as_deref()).await {
            Ok(wards) => {
                wards.into_iter().filter_map(|w| w.bng.bounding_rect().map(|r| (w.stored.name, w.bng, r))).collect()
            }
            Err(AppError::Invalid { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(PlaceNamer { points, streets, wards })
    }

    /// The street named most often among the records in `cell` (ties: the first in
    /// alphabetical order), if any record there names one.
    pub fn street_in_cell(&self, grid: &GridSpec, cell: Cell) -> Option<String> {
        let mut tally: HashMap<&str, usize> = HashMap::new();
        for (p, location) in self.points.iter().zip(&self.streets) {
            if grid.cell_of(p.0, p.1) == Some(cell) {
                if let Some(name) = street_name(location) {
                    *tally.entry(name).or_default() += 1;
                }
            }
        }
        tally.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).map(|(name, _)| name.to_string())
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
            hottest(t, n)
                .into_iter()
                .map(|i| {
                    let cell = g.units.cells[i];
                    let (x, y) = g.units.grid.min_corner(cell);
                    let (cx, cy) = g.units.grid.centre(cell);
                    let row = &t.rows[i];
                    TopHotspot {
                        place: format!("{} m cell at E {x:.0}, N {y:.0}", g.units.grid.size),
                        street: namer.street_in_cell(&g.units.grid, cell),
                        ward: namer.ward_at(cx, cy),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_are_named_by_the_most_frequent_location_in_the_cell() {
        assert_eq!(street_name("On or near Station Road"), Some("Station Road"));
        assert_eq!(street_name("No location"), None);
        assert_eq!(street_name("  "), None);
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
        assert_eq!(namer.street_in_cell(&grid, Cell { ix: 0, iy: 0 }).as_deref(), Some("High Street"));
        assert_eq!(namer.street_in_cell(&grid, Cell { ix: 1, iy: 0 }).as_deref(), Some("Park Road"));
        assert_eq!(namer.ward_at(10.0, 10.0), None, "no wards stored");
    }
}
