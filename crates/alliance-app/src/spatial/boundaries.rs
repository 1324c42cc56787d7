//! GeoJSON of the stored boundaries: the map's outlines and the public form's place picker.

use alliance_core::domain::street_of_location;
use alliance_db::{Db, DbError};
use geo::MultiPolygon;
use serde_json::{json, Value};

use super::json::{multipolygon_json, round7};
use crate::AppError;

/// Tolerance of the simplified outlines of [`place_picker_geojson`], in degrees (35 to 55 m
/// here): finer than the 250 m cells reports are published in and than a finger on a phone,
/// and it makes the file several times smaller.
pub(crate) const PICKER_TOLERANCE_DEGREES: f64 = 0.0005;

/// GeoJSON (WGS84) of the stored wards, simplified (Ramer–Douglas–Peucker) and rounded to
/// 5 decimals (about 1 m), each with its name and its district's name: the clickable areas
/// of the public report form's map. Public, as ward boundaries are published by the ONS.
pub async fn place_picker_geojson(db: &Db) -> Result<Value, DbError> {
    use geo::Simplify;
    let districts: std::collections::HashMap<String, String> =
        db.districts().await?.into_iter().map(|d| (d.code, d.name)).collect();
    let round5 = |v: f64| (v * 1e5).round() / 1e5;
    // The partnership's area when its profile names districts that are held (a national data
    // set holds every ward of England and Wales), else every ward.
    let features: Vec<Value> = db
        .boundary_shapes_in("ward", &db.partnership_area().await?)
        .await?
        .iter()
        .map(|b| {
            let simple = b.shape.simplify(&PICKER_TOLERANCE_DEGREES);
            let ring =
                |r: &geo::LineString<f64>| -> Value { r.0.iter().map(|c| json!([round5(c.x), round5(c.y)])).collect() };
            let polygons: Vec<Value> = simple
                .0
                .iter()
                .map(|p| {
                    Value::Array(std::iter::once(ring(p.exterior())).chain(p.interiors().iter().map(ring)).collect())
                })
                .collect();
            let district = b.district_code.as_ref().and_then(|c| districts.get(c)).cloned().unwrap_or_default();
            json!({
                "type": "Feature",
                "geometry": { "type": "MultiPolygon", "coordinates": polygons },
                "properties": { "name": b.name, "district": district },
            })
        })
        .collect();
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}

/// GeoJSON (WGS84) of the stored boundaries of `kind`, with one extra feature per district
/// (`"layer": "district"`): its outline as the edges of its LSOAs that no other of its LSOAs
/// shares (a MultiLineString).
pub async fn boundaries_geojson(db: &Db, kind: &str, district: Option<&str>) -> Result<Value, AppError> {
    let shapes = db.boundary_shapes(kind, district).await?;
    let mut features: Vec<Value> = shapes
        .iter()
        .map(|b| {
            json!({
                "type": "Feature",
                "geometry": multipolygon_json(&b.shape),
                "properties": { "layer": kind, "code": b.code, "name": b.name, "district": b.district_code },
            })
        })
        .collect();
    let mut by_district: std::collections::BTreeMap<&str, Vec<&MultiPolygon<f64>>> = Default::default();
    for b in &shapes {
        if let Some(d) = b.district_code.as_deref() {
            by_district.entry(d).or_default().push(&b.shape);
        }
    }
    for (code, group) in by_district {
        // lon/lat degrees: 1e-9 degree snapping (the vertices are shared exactly)
        let segments = alliance_core::geo::adjacency::outline_segments(&group, 1e-9);
        let lines: Vec<Value> =
            segments.iter().map(|[a, b]| json!([[round7(a.x), round7(a.y)], [round7(b.x), round7(b.y)]])).collect();
        features.push(json!({
            "type": "Feature",
            "geometry": { "type": "MultiLineString", "coordinates": lines },
            "properties": { "layer": "district", "code": code },
        }));
    }
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}

/// GeoJSON (WGS84) of the streets the police data names, from the points it snaps records to:
/// one MultiPoint feature per street or place (`name`, `records`), of one district, else of
/// the partnership's area (as the map's analyses), else of every record. Offline, it lets an
/// analyst tell which street a hot cell is on. (Of every record, the map's default view on
/// the national archive read 20 million records and sent the country's streets.)
pub async fn streets_geojson(db: &Db, district: Option<&str>) -> Result<Value, AppError> {
    let districts = match district {
        Some(d) => vec![d.to_string()],
        None => db.partnership_area().await?,
    };
    let mut by_name: std::collections::BTreeMap<String, (Vec<Value>, i64)> = Default::default();
    for s in db.snapped_locations(&districts).await? {
        let Some(name) = street_of_location(&s.location).map(str::to_string) else { continue };
        let entry = by_name.entry(name).or_default();
        entry.0.push(json!([round7(s.longitude), round7(s.latitude)]));
        entry.1 += s.records;
    }
    let features: Vec<Value> = by_name
        .into_iter()
        .map(|(name, (points, records))| {
            json!({
                "type": "Feature",
                "geometry": { "type": "MultiPoint", "coordinates": points },
                "properties": { "layer": "street", "name": name, "records": records },
            })
        })
        .collect();
    Ok(json!({ "type": "FeatureCollection", "features": features }))
}
