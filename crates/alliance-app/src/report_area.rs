//! Whether a public report's place lies in the partnership's area. A member of the public
//! reports to one partnership, so a place elsewhere (a district of a national data set, a
//! point in another county) would land in its moderation queue and, once approved, in its
//! published figures. When the profile names districts, a typed place must lie in one of
//! them and a point on the map inside their outline; without a profile every place is taken.
//!
//! The outline of each district is what the database holds, best first: its wards (what the
//! form's map draws), its 2021 LSOAs, its 2011 LSOAs; failing all three, the box of its
//! police records (`police_lsoa_extents`, the records its LSOAs place in it). A district with
//! none of these cannot take a point: the reporter is asked to type the place.
//!
//! The area is read once per data version by the caller (the web form keeps it with its
//! place list), so a submission costs a few polygon tests, not a read of boundaries.

use std::collections::BTreeSet;

use alliance_db::public::Place;
use alliance_db::Db;
use geo::{BoundingRect, Intersects, MultiPolygon, Rect};

use crate::spatial::boundaries::PICKER_TOLERANCE_DEGREES;
use crate::AppError;

/// How far (degrees) outside an outline a point is still taken: the map draws outlines
/// simplified by [`PICKER_TOLERANCE_DEGREES`], so a click just inside a drawn edge may be
/// that far outside the stored one (about 70 to 110 m here, well under the 250 m cells
/// reports are published in).
const EDGE_DEGREES: f64 = 2.0 * PICKER_TOLERANCE_DEGREES;

/// At most this many districts are named in a refusal; a larger area is named by the
/// partnership's short name.
const DISTRICTS_NAMED: usize = 3;

/// The partnership's area as a public report is checked against it.
#[derive(Debug, Clone, Default)]
pub struct ReportArea {
    /// The profile's districts (codes); empty: no profile, every place is taken.
    districts: BTreeSet<String>,
    /// The area in words, for a refusal: "Wiltshire or Swindon".
    name: String,
    /// The outlines held of the districts (WGS84), each with its bounding box.
    shapes: Vec<(Rect<f64>, MultiPolygon<f64>)>,
    /// Boxes of the districts without outlines: `[min lon, min lat, max lon, max lat]`.
    boxes: Vec<[f64; 4]>,
}

impl ReportArea {
    /// Reads the partnership's area: its districts' names and outlines (see the module).
    pub async fn load(db: &Db) -> Result<ReportArea, AppError> {
        let Some(profile) = db.partnership().await? else { return Ok(ReportArea::default()) };
        let districts: BTreeSet<String> = profile.districts.iter().map(|d| d.to_string()).collect();
        if districts.is_empty() {
            return Ok(ReportArea::default());
        }
        let held = db.districts().await?;
        let names: Vec<String> = profile
            .districts
            .iter()
            .filter_map(|c| held.iter().find(|d| d.code == c.as_str()))
            .map(|d| d.name.clone())
            .collect();
        let name = match names.len() {
            n if n == districts.len() && n <= DISTRICTS_NAMED => or_list(&names),
            _ => format!("the {} area", profile.short_name),
        };
        // The districts still without an outline, each kind of outline tried in turn.
        let mut missing: Vec<String> = districts.iter().cloned().collect();
        let mut shapes = Vec::new();
        for kind in ["ward", "lsoa21", "lsoa11"] {
            if missing.is_empty() {
                break;
            }
            let mut found = BTreeSet::new();
            for b in db.boundary_shapes_in(kind, &missing).await? {
                let Some(rect) = b.shape.bounding_rect() else { continue };
                found.extend(b.district_code);
                shapes.push((rect, b.shape));
            }
            missing.retain(|c| !found.contains(c));
        }
        let boxes = db.district_record_boxes(&missing).await?.into_iter().map(|(_, b)| b).collect();
        Ok(ReportArea { districts, name, shapes, boxes })
    }

    /// Whether every place is taken (no profile, or it names no district).
    pub fn is_everywhere(&self) -> bool {
        self.districts.is_empty()
    }

    /// The area in words: "Wiltshire or Swindon", "the Staffordshire VRA area".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a point can be tested at all: some outline or box of the area is held.
    pub fn can_place_points(&self) -> bool {
        self.is_everywhere() || !self.shapes.is_empty() || !self.boxes.is_empty()
    }

    /// Whether a place in `district` (none: not known) lies in the area.
    pub fn admits_district(&self, district: Option<&str>) -> bool {
        self.is_everywhere() || district.is_some_and(|d| self.districts.contains(d))
    }

    /// Whether a named place lies in the area, by its district.
    pub fn admits_place(&self, place: &Place) -> bool {
        self.admits_district(place.district_code.as_deref())
    }

    /// Whether the WGS84 point lies in the area: inside (or within [`EDGE_DEGREES`] of) an
    /// outline held, or inside the records' box of a district without one. `false` when
    /// nothing of the area is held to test it against.
    pub fn admits_point(&self, lon: f64, lat: f64) -> bool {
        if self.is_everywhere() {
            return true;
        }
        if !lon.is_finite() || !lat.is_finite() {
            return false;
        }
        let near = Rect::new((lon - EDGE_DEGREES, lat - EDGE_DEGREES), (lon + EDGE_DEGREES, lat + EDGE_DEGREES));
        self.shapes.iter().any(|(rect, shape)| rect.intersects(&near) && shape.intersects(&near))
            || self.boxes.iter().any(|b| (b[0]..=b[2]).contains(&lon) && (b[1]..=b[3]).contains(&lat))
    }
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn area(shapes: Vec<MultiPolygon<f64>>, boxes: Vec<[f64; 4]>) -> ReportArea {
        ReportArea {
            districts: ["E06000054".to_string()].into(),
            name: "Wiltshire".into(),
            shapes: shapes.into_iter().map(|s| (s.bounding_rect().expect("a box"), s)).collect(),
            boxes,
        }
    }

    fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![(x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side)]])
    }

    #[test]
    fn a_point_is_taken_inside_an_outline_or_just_outside_its_drawn_edge_only() {
        let wiltshire = area(vec![square(-2.4, 51.0, 0.5)], vec![]);
        assert!(wiltshire.admits_point(-2.0, 51.2), "inside");
        assert!(wiltshire.admits_point(-2.4 - EDGE_DEGREES / 2.0, 51.2), "within the map's simplification");
        assert!(!wiltshire.admits_point(-2.4 - 2.0 * EDGE_DEGREES, 51.2), "outside");
        assert!(!wiltshire.admits_point(-2.18, 53.02), "Stoke-on-Trent");
        assert!(!wiltshire.admits_point(f64::NAN, 51.2));
    }

    #[test]
    fn without_outlines_the_records_box_decides_and_without_either_no_point_is_taken() {
        let boxed = area(vec![], vec![[-2.4, 51.0, -1.5, 51.7]]);
        assert!(boxed.can_place_points());
        assert!(boxed.admits_point(-1.8, 51.55), "Swindon");
        assert!(!boxed.admits_point(-2.18, 53.02), "Stoke-on-Trent");
        let nothing = area(vec![], vec![]);
        assert!(!nothing.can_place_points());
        assert!(!nothing.admits_point(-1.8, 51.55));
    }

    #[test]
    fn places_are_taken_by_their_district_and_everywhere_without_a_profile() {
        let wiltshire = area(vec![], vec![]);
        assert!(wiltshire.admits_district(Some("E06000054")));
        assert!(!wiltshire.admits_district(Some("E06000021")), "Stoke-on-Trent");
        assert!(!wiltshire.admits_district(None), "a place of no known district");
        let everywhere = ReportArea::default();
        assert!(
            everywhere.is_everywhere() && everywhere.admits_district(None) && everywhere.admits_point(-2.18, 53.02)
        );
        assert_eq!(or_list(&["Wiltshire".into(), "Swindon".into()]), "Wiltshire or Swindon");
    }
}
