//! The place register's rules: the kinds of place a partnership names (parks, town centres,
//! streets, night-time economy zones), what a place's name may be, and the bounds and checks
//! on its outline. A place is drawn on the map or uploaded as GeoJSON; once registered it can
//! be an evaluation's target or comparison by name. Parsing GeoJSON is the caller's (the
//! application layer reads it into `geo` shapes); this module checks the shapes.

use geo::{Area, MultiPolygon};

use crate::analytics::evaluation::areas::Circle;
use crate::codes::code_list;
use crate::geo::projection::BngProjector;

code_list! {
    /// What kind of place it is (shown, and used to filter the register).
    PlaceKind ("kind of place") {
        Park = "park", "Park or open space";
        TownCentre = "town_centre", "Town or city centre";
        NightTimeEconomy = "night_time_economy", "Night-time economy zone";
        Street = "street", "Street or route";
        Estate = "estate", "Housing estate";
        Transport = "transport", "Transport hub";
        Zone = "zone", "Other zone";
    }
}

/// The most characters in a place's name.
pub const MAX_NAME_CHARS: usize = 100;
/// The most shapes (polygons and circles) in one place.
pub const MAX_SHAPES: usize = 200;
/// The most vertices over all of a place's rings: a park drawn by hand has tens, a
/// detailed council boundary a few thousand.
pub const MAX_VERTICES: usize = 20_000;
/// The most bytes of GeoJSON accepted for one place, checked before it is parsed.
pub const MAX_GEOJSON_BYTES: usize = 1024 * 1024;
/// The largest place, in square metres (2,500 km², larger than any local authority district
/// of a partnership): a larger outline is a mistake, such as a ring drawn in the wrong order
/// around the world.
pub const MAX_AREA_SQUARE_METRES: f64 = 2.5e9;
/// Great Britain's box, longitude and latitude: places are measured on the British National
/// Grid, which is only defined here.
const GB_BOX: [f64; 4] = [-9.0, 49.0, 2.5, 61.0];

/// Why a place cannot be registered, in words for the person who gave it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlaceError {
    #[error("Enter the place's name")]
    NameMissing,
    #[error("The name must be at most {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("The name cannot contain a comma or a control character (a list of places is written with commas)")]
    NameCharacters,
    #[error("The outline is empty: draw the place on the map or give GeoJSON")]
    Empty,
    #[error("The outline has {0} shapes: at most {MAX_SHAPES}")]
    TooManyShapes(usize),
    #[error("The outline has {0} vertices: at most {MAX_VERTICES} (simplify it)")]
    TooManyVertices(usize),
    #[error("Shape {shape}: the point ({longitude}, {latitude}) is not in Great Britain (WGS84 longitude, latitude)")]
    OutsideGreatBritain { shape: usize, longitude: f64, latitude: f64 },
    #[error("Shape {0}: the outline encloses no area")]
    NoArea(usize),
    #[error("Shape {0}: a circle's radius must be between 1 and 5,000 metres")]
    Radius(usize),
    #[error("The place covers {0:.0} km²: at most 2,500 km² (is a ring drawn the wrong way?)")]
    TooLarge(f64),
    #[error("projection: {0}")]
    Projection(String),
}

/// A valid place name: trimmed, 1 to [`MAX_NAME_CHARS`] characters, no commas (interventions
/// list their places separated by commas) and no control characters.
pub fn place_name(raw: &str) -> Result<String, PlaceError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(PlaceError::NameMissing);
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(PlaceError::NameTooLong);
    }
    if name.chars().any(|c| c == ',' || c.is_control()) {
        return Err(PlaceError::NameCharacters);
    }
    Ok(name.to_string())
}

/// What the checks measured: shown in the register.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outline {
    /// Polygons plus circles.
    pub shapes: usize,
    /// Vertices over every ring (a closed ring's repeated first point counted once).
    pub vertices: usize,
    /// The area on the British National Grid, overlaps counted once per shape.
    pub square_metres: f64,
}

/// Checks a place's shapes (WGS84): at least one, within the bounds above, every vertex in
/// Great Britain, every polygon enclosing an area and every circle a sane radius. Returns
/// their measurements. Areas are summed over shapes, so two overlapping shapes count their
/// overlap twice; the register says so.
pub fn check_outline(
    projector: &BngProjector,
    polygons: &[MultiPolygon<f64>],
    circles: &[Circle],
) -> Result<Outline, PlaceError> {
    let shapes = polygons.len() + circles.len();
    if shapes == 0 {
        return Err(PlaceError::Empty);
    }
    if shapes > MAX_SHAPES {
        return Err(PlaceError::TooManyShapes(shapes));
    }
    let vertices: usize = polygons
        .iter()
        .flat_map(|m| m.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|ring| ring.0.len().saturating_sub(1))
        .sum::<usize>()
        + circles.len();
    if vertices > MAX_VERTICES {
        return Err(PlaceError::TooManyVertices(vertices));
    }
    let in_gb = |lon: f64, lat: f64| (GB_BOX[0]..=GB_BOX[2]).contains(&lon) && (GB_BOX[1]..=GB_BOX[3]).contains(&lat);
    let mut square_metres = 0.0;
    for (n, multi) in polygons.iter().enumerate() {
        let shape = n + 1;
        let mut projected = Vec::with_capacity(multi.0.len());
        for polygon in &multi.0 {
            let mut rings = Vec::new();
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                let mut coords = Vec::with_capacity(ring.0.len());
                for c in &ring.0 {
                    if !in_gb(c.x, c.y) {
                        return Err(PlaceError::OutsideGreatBritain { shape, longitude: c.x, latitude: c.y });
                    }
                    let (x, y) = projector.to_bng(c.x, c.y).map_err(|e| PlaceError::Projection(e.to_string()))?;
                    coords.push(geo::Coord { x, y });
                }
                rings.push(geo::LineString(coords));
            }
            let exterior = rings.remove(0);
            projected.push(geo::Polygon::new(exterior, rings));
        }
        // Collinear points enclose nothing in longitude and latitude, but a sliver of a few
        // square metres once projected (the grid's curvature): test both.
        let area = MultiPolygon(projected).unsigned_area();
        if !(multi.unsigned_area() > 0.0 && area >= 1.0) {
            return Err(PlaceError::NoArea(shape));
        }
        square_metres += area;
    }
    for (n, c) in circles.iter().enumerate() {
        let shape = polygons.len() + n + 1;
        if !in_gb(c.longitude, c.latitude) {
            return Err(PlaceError::OutsideGreatBritain { shape, longitude: c.longitude, latitude: c.latitude });
        }
        if !(1.0..=5_000.0).contains(&c.radius_metres) {
            return Err(PlaceError::Radius(shape));
        }
        square_metres += std::f64::consts::PI * c.radius_metres * c.radius_metres;
    }
    if square_metres > MAX_AREA_SQUARE_METRES {
        return Err(PlaceError::TooLarge(square_metres / 1e6));
    }
    Ok(Outline { shapes, vertices, square_metres })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    fn projector() -> BngProjector {
        BngProjector::new().expect("projection")
    }

    /// A square of about 0.001° × 0.001° near Hanley (about 67 m × 111 m).
    fn square(lon: f64, lat: f64, d: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: lon, y: lat), (x: lon + d, y: lat), (x: lon + d, y: lat + d), (x: lon, y: lat + d), (x: lon, y: lat)
        ]])
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(place_name("  Hanley Park "), Ok("Hanley Park".to_string()));
        assert_eq!(place_name("   "), Err(PlaceError::NameMissing));
        assert_eq!(place_name("Parks, Stoke"), Err(PlaceError::NameCharacters));
        assert_eq!(place_name("Park\u{7}"), Err(PlaceError::NameCharacters));
        assert_eq!(place_name(&"x".repeat(MAX_NAME_CHARS)).map(|n| n.len()), Ok(MAX_NAME_CHARS));
        assert_eq!(place_name(&"x".repeat(MAX_NAME_CHARS + 1)), Err(PlaceError::NameTooLong));
    }

    #[test]
    fn an_outline_is_measured_on_the_national_grid() {
        let p = projector();
        let outline = check_outline(&p, &[square(-2.18, 53.02, 0.001)], &[]).expect("valid");
        assert_eq!(outline.shapes, 1);
        assert_eq!(outline.vertices, 4);
        // 0.001° of longitude at 53° N is about 67 m, of latitude about 111 m: about 7,450 m².
        assert!((outline.square_metres - 7_450.0).abs() < 150.0, "{}", outline.square_metres);
        let circle = Circle { longitude: -2.18, latitude: 53.02, radius_metres: 100.0 };
        let both = check_outline(&p, &[square(-2.18, 53.02, 0.001)], &[circle]).expect("valid");
        assert_eq!(both.shapes, 2);
        assert!((both.square_metres - outline.square_metres - 31_415.9).abs() < 1.0);
    }

    #[test]
    fn outlines_outside_the_rules_are_refused_naming_the_shape() {
        let p = projector();
        assert_eq!(check_outline(&p, &[], &[]), Err(PlaceError::Empty));
        let paris = square(2.35, 48.85, 0.01);
        assert!(matches!(
            check_outline(&p, &[square(-2.18, 53.02, 0.001), paris], &[]),
            Err(PlaceError::OutsideGreatBritain { shape: 2, .. })
        ));
        let flat = MultiPolygon(vec![polygon![(x: -2.18, y: 53.02), (x: -2.17, y: 53.02), (x: -2.16, y: 53.02)]]);
        assert_eq!(check_outline(&p, &[flat], &[]), Err(PlaceError::NoArea(1)));
        let tiny = Circle { longitude: -2.18, latitude: 53.02, radius_metres: 0.5 };
        assert_eq!(check_outline(&p, &[], &[tiny]), Err(PlaceError::Radius(1)));
        let huge = square(-4.0, 52.0, 1.0);
        assert!(matches!(check_outline(&p, &[huge], &[]), Err(PlaceError::TooLarge(_))));
        let many: Vec<_> = (0..=MAX_SHAPES).map(|i| square(-2.0 + i as f64 * 0.002, 53.0, 0.001)).collect();
        assert_eq!(check_outline(&p, &many, &[]), Err(PlaceError::TooManyShapes(MAX_SHAPES + 1)));
    }
}
