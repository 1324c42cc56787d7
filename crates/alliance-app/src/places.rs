//! The place register's use cases: register a place drawn on the map or uploaded as GeoJSON,
//! list the register as GeoJSON for the map, read a place's outline back for an evaluation,
//! and remove one. The rules (names, kinds, bounds, the outline checks) are
//! `alliance_core::domain::place`'s; the web form, `alliance places` and the evaluation all
//! come through here.

use alliance_core::analytics::evaluation::areas::Circle;
use alliance_core::domain::place::{check_outline, place_name, Outline, PlaceKind, MAX_GEOJSON_BYTES};
use alliance_core::geo::projection::BngProjector;
use alliance_db::audit::Actor;
use alliance_db::places::{NewPlace, Place};
use alliance_db::Db;
use geo::MultiPolygon;

use crate::evaluation::{feature_collection, parse_places};
use crate::AppError;

/// The most characters in a place's description.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;

/// A place as a person gives it: the form's or the command line's fields.
#[derive(Debug, Clone, Default)]
pub struct PlaceInput {
    pub name: String,
    /// A [`PlaceKind`] key.
    pub kind: String,
    pub description: String,
    /// GeoJSON text: a geometry, a feature or a feature collection of Polygons,
    /// MultiPolygons and Points with a `radius_metres` property.
    pub geojson: String,
}

/// A place checked and ready to store.
struct Checked {
    name: String,
    kind: PlaceKind,
    description: String,
    geometry: String,
    outline: Outline,
}

/// Checks every field, the GeoJSON's size before it is parsed. Errors name the field
/// (`name`, `kind`, `description`, `geojson`).
fn check(input: &PlaceInput) -> Result<Checked, AppError> {
    if input.geojson.len() > MAX_GEOJSON_BYTES {
        return Err(AppError::invalid(
            "geojson",
            format!(
                "The GeoJSON is {} KB: at most {} KB (simplify the outline)",
                input.geojson.len() / 1024,
                MAX_GEOJSON_BYTES / 1024
            ),
        ));
    }
    let name = place_name(&input.name).map_err(|e| AppError::invalid("name", e.to_string()))?;
    let kind: PlaceKind =
        input.kind.trim().parse().map_err(|_| AppError::invalid("kind", "Select what kind of place it is"))?;
    let description = input.description.trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid(
            "description",
            format!("The description must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    if input.geojson.trim().is_empty() {
        return Err(AppError::invalid("geojson", "Draw the place on the map, or give its outline as GeoJSON"));
    }
    let value: serde_json::Value = serde_json::from_str(&input.geojson).map_err(|e| {
        AppError::invalid("geojson", format!("The GeoJSON is not JSON: line {}, column {}: {e}", e.line(), e.column()))
    })?;
    let (polygons, circles) = parse_places(&value).map_err(|e| AppError::invalid("geojson", e.to_string()))?;
    let projector = BngProjector::new().map_err(|e| AppError::internal(format!("projection: {e}")))?;
    let outline =
        check_outline(&projector, &polygons, &circles).map_err(|e| AppError::invalid("geojson", e.to_string()))?;
    let named: Vec<_> = polygons.into_iter().map(|p| (Some(name.clone()), p)).collect();
    let geometry = feature_collection(&named, &circles).to_string();
    Ok(Checked { name, kind, description, geometry, outline })
}

/// Checks a place without storing it (to name the bad one of a batch).
pub fn check_only(input: &PlaceInput) -> Result<(), AppError> {
    check(input).map(|_| ())
}

/// Registers a place; returns its id. A name already in the register (in any case) is a
/// conflict on `name`; nothing is stored on any error. The same form sent again (its
/// `submission` key) registers nothing and returns the first one's id.
pub async fn add(db: &Db, input: &PlaceInput, submission: Option<&str>, actor: &Actor) -> Result<i64, AppError> {
    let c = check(input)?;
    Ok(db.add_place(&new_place(&c)?, submission, actor).await?)
}

/// Registers places all together or not at all (a file of parks, say): every one is checked
/// before any is stored, and they are stored in one transaction. An error names the place.
pub async fn add_all(db: &Db, inputs: &[PlaceInput], actor: &Actor) -> Result<Vec<i64>, AppError> {
    let checked = inputs.iter().map(check).collect::<Result<Vec<_>, _>>()?;
    let new = checked.iter().map(new_place).collect::<Result<Vec<_>, AppError>>()?;
    Ok(db.add_places(&new, actor).await?)
}

/// A checked place as the store takes it.
fn new_place(c: &Checked) -> Result<NewPlace<'_>, AppError> {
    let count = |n: usize| i64::try_from(n).map_err(|_| AppError::internal("count out of range"));
    Ok(NewPlace {
        name: &c.name,
        kind: c.kind.code(),
        description: &c.description,
        geometry: &c.geometry,
        shapes: count(c.outline.shapes)?,
        vertices: count(c.outline.vertices)?,
        square_metres: c.outline.square_metres,
    })
}

/// A stored place's polygons and circles.
pub fn outline(place: &Place) -> Result<(Vec<MultiPolygon<f64>>, Vec<Circle>), AppError> {
    let value: serde_json::Value = serde_json::from_str(&place.geometry)
        .map_err(|e| AppError::Db(alliance_db::DbError::corrupt(format!("place {}: {e}", place.id))))?;
    parse_places(&value).map_err(|e| AppError::Db(alliance_db::DbError::corrupt(format!("place {}: {e}", place.id))))
}

/// The register as one GeoJSON FeatureCollection: each feature carries its place's `id`,
/// `name` and `kind` (for the map layer and `GET /api/v1/places`).
pub async fn collection(db: &Db) -> Result<serde_json::Value, AppError> {
    let mut features = Vec::new();
    for place in db.places().await? {
        let stored: serde_json::Value = serde_json::from_str(&place.geometry)
            .map_err(|e| AppError::Db(alliance_db::DbError::corrupt(format!("place {}: {e}", place.id))))?;
        let kind = place.kind.parse::<PlaceKind>().map(PlaceKind::label).unwrap_or("Place");
        for mut feature in stored.get("features").and_then(|f| f.as_array()).cloned().unwrap_or_default() {
            let properties = feature.get("properties").cloned().unwrap_or_else(|| serde_json::json!({}));
            let mut properties = properties.as_object().cloned().unwrap_or_default();
            properties.insert("id".into(), place.id.into());
            properties.insert("name".into(), place.name.clone().into());
            properties.insert("kind".into(), place.kind.clone().into());
            properties.insert("kind_label".into(), kind.into());
            feature["properties"] = serde_json::Value::Object(properties);
            features.push(feature);
        }
    }
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, geojson: &str) -> PlaceInput {
        PlaceInput { name: name.into(), kind: "park".into(), description: String::new(), geojson: geojson.into() }
    }

    const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[-2.18,53.02],[-2.179,53.02],[-2.179,53.021],[-2.18,53.021],[-2.18,53.02]]]}"#;

    fn field(r: Result<Checked, AppError>) -> &'static str {
        match r {
            Err(AppError::Invalid { field, .. }) => field,
            Err(other) => panic!("not a field error: {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn a_drawn_square_is_stored_as_a_named_feature_collection() {
        let c = check(&input(" Hanley Park ", SQUARE)).expect("valid");
        assert_eq!(c.name, "Hanley Park");
        assert_eq!(c.outline.vertices, 4);
        let stored: serde_json::Value = serde_json::from_str(&c.geometry).expect("json");
        assert_eq!(stored["type"], "FeatureCollection");
        assert_eq!(stored["features"][0]["properties"]["name"], "Hanley Park");
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field(check(&input("", SQUARE))), "name");
        assert_eq!(field(check(&PlaceInput { kind: "castle".into(), ..input("A", SQUARE) })), "kind");
        assert_eq!(
            field(check(&PlaceInput { description: "x".repeat(MAX_DESCRIPTION_CHARS + 1), ..input("A", SQUARE) })),
            "description"
        );
        assert_eq!(field(check(&input("A", ""))), "geojson");
        assert_eq!(field(check(&input("A", "{not json"))), "geojson");
        assert_eq!(field(check(&input("A", r#"{"type":"LineString","coordinates":[[0,51],[1,51]]}"#))), "geojson");
        let big = format!("{SQUARE}{}", " ".repeat(MAX_GEOJSON_BYTES));
        assert_eq!(field(check(&input("A", &big))), "geojson");
    }
}
