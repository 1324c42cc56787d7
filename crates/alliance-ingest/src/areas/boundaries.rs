//! Area boundaries as GeoJSON FeatureCollections in WGS84 (the ONS generalised clipped
//! boundaries): LSOA 2011, LSOA 2021 and wards.

use geo::MultiPolygon;

use alliance_core::domain::DistrictCode;

use crate::bounded::JsonDepth;
use crate::error::{brief, excerpt};
use crate::limits::bytes;
use crate::{IngestError, SourceFile};

/// Which kind of area a boundary file holds, told by its feature properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoundaryKind {
    Lsoa2011,
    Lsoa2021,
    Ward,
}

impl BoundaryKind {
    /// The name stored with each boundary.
    pub fn as_str(self) -> &'static str {
        match self {
            BoundaryKind::Lsoa2011 => "lsoa11",
            BoundaryKind::Lsoa2021 => "lsoa21",
            BoundaryKind::Ward => "ward",
        }
    }

    pub fn parse(text: &str) -> Option<BoundaryKind> {
        [BoundaryKind::Lsoa2011, BoundaryKind::Lsoa2021, BoundaryKind::Ward].into_iter().find(|k| k.as_str() == text)
    }

    /// The properties holding the code, the name and the district.
    fn properties(self) -> (&'static str, &'static str, &'static [&'static str]) {
        match self {
            BoundaryKind::Lsoa2011 => ("LSOA11CD", "LSOA11NM", &["LADCD_ACTIVE", "LAD11CD"]),
            BoundaryKind::Lsoa2021 => ("LSOA21CD", "LSOA21NM", &["LADCD_ACTIVE", "LAD22CD"]),
            BoundaryKind::Ward => ("WD25CD", "WD25NM", &["LAD25CD", "LADCD_ACTIVE"]),
        }
    }
}

/// One area outline.
#[derive(Debug, Clone)]
pub struct Boundary {
    pub code: String,
    pub name: String,
    pub district: Option<DistrictCode>,
    /// The geometry as GeoJSON text, stored for maps.
    pub geometry_json: String,
    /// The same geometry, for spatial work.
    pub shape: MultiPolygon<f64>,
}

/// Reads a boundary file; `Ok(Err(_))` when it has no feature or its features carry none of
/// the known code properties. The file is read whole, so it is bounded by its [`Limits`](crate::Limits):
/// at most `max_geojson_bytes`, `max_json_depth` deep, and `max_held_rows` features.
pub fn read_boundaries(
    file: &SourceFile,
) -> Result<Result<(BoundaryKind, Vec<Boundary>), super::Unrecognised>, IngestError> {
    let limits = file.limits();
    let capped = file.reader_capped(limits.max_geojson_bytes, "for a GeoJSON file")?;
    let reader = std::io::BufReader::new(JsonDepth::new(capped, limits.max_json_depth));
    let json: geojson::GeoJson = geojson::GeoJson::from_reader(reader)
        .map_err(|e| IngestError::from_json(&file.name, e, "not valid GeoJSON"))?;
    let geojson::GeoJson::FeatureCollection(collection) = json else {
        return Err(IngestError::file(&file.name, "expected a GeoJSON FeatureCollection"));
    };
    if collection.features.len() as u64 > limits.max_held_rows {
        return Err(IngestError::file_too_large(
            &file.name,
            format!(
                "more than {} features (the most accepted in one file); nothing of it was imported",
                limits.max_held_rows
            ),
        ));
    }
    let Some(first) = collection.features.first() else {
        return Ok(Err(super::Unrecognised { file: file.name.clone(), found: "no features".into() }));
    };
    let Some(kind) = [BoundaryKind::Lsoa2011, BoundaryKind::Lsoa2021, BoundaryKind::Ward]
        .into_iter()
        .find(|k| first.property(k.properties().0).is_some())
    else {
        let names: Vec<String> = first.properties.iter().flat_map(|p| p.keys().cloned()).collect();
        return Ok(Err(super::Unrecognised::found(&file.name, "features whose properties are", &names)));
    };
    let (code_prop, name_prop, district_props) = kind.properties();
    let mut out = Vec::with_capacity(collection.features.len());
    for (i, feature) in collection.features.iter().enumerate() {
        let at = |reason: String| IngestError::Invalid {
            location: crate::Location::new(&file.name, None, Some(&format!("feature {}", i + 1))),
            reason,
        };
        let text = |prop: &str| feature.property(prop).and_then(|v| v.as_str()).map(|s| s.trim().to_string());
        let code =
            text(code_prop).filter(|c| !c.is_empty()).ok_or_else(|| at(format!("property {code_prop} is missing")))?;
        let name = text(name_prop).unwrap_or_else(|| code.clone());
        if let Some((prop, _)) =
            [(code_prop, &code), (name_prop, &name)].into_iter().find(|(_, v)| v.len() as u64 > limits.max_field_bytes)
        {
            return Err(IngestError::too_large(
                crate::Location::new(&file.name, None, Some(&format!("feature {}", i + 1))),
                format!("property {prop} is longer than {} (the longest accepted)", bytes(limits.max_field_bytes)),
            ));
        }
        let shown = excerpt(&code);
        let district = district_props.iter().find_map(|p| text(p)).and_then(|d| d.parse().ok());
        let geometry = feature.geometry.as_ref().ok_or_else(|| at(format!("{shown} has no geometry")))?;
        let shape: MultiPolygon<f64> = match &geometry.value {
            geojson::Value::Polygon(_) => {
                geo::Polygon::<f64>::try_from(geometry.value.clone()).map(|p| MultiPolygon(vec![p]))
            }
            geojson::Value::MultiPolygon(_) => MultiPolygon::<f64>::try_from(geometry.value.clone()),
            other => {
                return Err(at(format!("{shown}: expected a Polygon or MultiPolygon, found {}", other.type_name())))
            }
        }
        .map_err(|e| at(format!("{shown}: bad geometry: {}", brief(e))))?;
        let geometry_json = serde_json::to_string(geometry).map_err(|e| at(format!("{shown}: {}", brief(e))))?;
        out.push(Boundary { code, name, district, geometry_json, shape });
    }
    Ok(Ok((kind, out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lsoa_2021_boundaries() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"LSOA21CD":"E01014210","LSOA21NM":"Stoke-on-Trent 012A","LADCD_ACTIVE":"E06000021"},"geometry":{"type":"Polygon","coordinates":[[[-2.1,53.0],[-2.0,53.0],[-2.0,53.1],[-2.1,53.0]]]}}]}"#;
        let (kind, rows) =
            read_boundaries(&SourceFile::from_bytes("E06000021.geojson", text.as_bytes().to_vec())).unwrap().unwrap();
        assert_eq!(kind, BoundaryKind::Lsoa2021);
        assert_eq!(rows[0].code, "E01014210");
        assert_eq!(rows[0].district.as_ref().map(|d| d.as_str()), Some("E06000021"));
        assert_eq!(rows[0].shape.0.len(), 1);
    }

    #[test]
    fn refuses_points_with_the_feature_named() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"WD25CD":"E05014555"},"geometry":{"type":"Point","coordinates":[-2.1,53.0]}}]}"#;
        let err =
            read_boundaries(&SourceFile::from_bytes("w.geojson", text.as_bytes().to_vec())).unwrap_err().to_string();
        assert_eq!(err, "w.geojson: column \"feature 1\": E05014555: expected a Polygon or MultiPolygon, found Point");
    }
}
