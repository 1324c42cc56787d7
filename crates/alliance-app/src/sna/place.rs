//! A Strategic Needs Assessment over a place of the register (a park, a town centre, a
//! night-time economy zone) instead of districts: the police figures count the records whose
//! point is inside the place's outline, tested on the National Grid with the place's study
//! area (`spatial::place_study_area`, the test hotspot analysis over a place uses; circles as
//! 64-sided polygons). The database pre-filters by the outline's longitude/latitude box.
//!
//! A place has no resident population of its own, so the report gives no rates per resident
//! for it. Emergency department figures are never published by place: they stay the whole
//! partnership area's (one whole quarter below record level), and the report says so.

use std::collections::BTreeMap;

use alliance_core::analytics::spatial::points_in_area;
use alliance_core::domain::place::PlaceKind;
use alliance_core::domain::Month;
use alliance_core::geo::projection::BngProjector;
use alliance_db::sna::SnaPoliceRows;
use alliance_db::Db;
use geo::BoundingRect;

use crate::AppError;

/// The place a report covers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportPlace {
    pub id: i64,
    pub name: String,
    /// The kind's label ("Park", "Town centre" …).
    pub kind: String,
    pub hectares: f64,
    /// Located records of the period and categories inside the outline.
    pub records_inside: i64,
}

impl ReportPlace {
    /// "Hanley Park (park, place register)": the report's area label.
    pub fn label(&self) -> String {
        format!("{} ({}, place register)", self.name, self.kind.to_lowercase())
    }

    /// Why the emergency department figures are not the place's.
    pub fn ed_note(&self) -> String {
        format!(
            "Emergency department figures are never published by place: these cover the whole partnership area, not {}.",
            self.name
        )
    }
}

/// Degrees of longitude and latitude spanning at least `metres` at latitude `lat`.
fn degrees(metres: f64, lat: f64) -> (f64, f64) {
    (metres / (110_000.0 * lat.to_radians().cos().max(0.01)), metres / 110_000.0)
}

/// The place's police rows, aggregated as the districts' are (`Db::sna_police_rows`): by
/// month and type, by LSOA and type, by type and outcome.
pub async fn police_rows(
    db: &Db,
    place_id: i64,
    from: Option<Month>,
    to: Option<Month>,
    crime_types: &[String],
) -> Result<(ReportPlace, SnaPoliceRows), AppError> {
    let place = db.place(place_id).await?;
    let (polygons, circles) = crate::places::outline(&place)?;
    let mut bbox: Option<[f64; 4]> = None;
    let mut add = |r: [f64; 4]| {
        bbox = Some(match bbox {
            None => r,
            Some(b) => [b[0].min(r[0]), b[1].min(r[1]), b[2].max(r[2]), b[3].max(r[3])],
        })
    };
    for p in &polygons {
        if let Some(r) = p.bounding_rect() {
            add([r.min().x, r.min().y, r.max().x, r.max().y]);
        }
    }
    for c in &circles {
        // 2% more than the radius: the 64-sided polygon's corners reach the circle.
        let (dlon, dlat) = degrees(c.radius_metres * 1.02, c.latitude);
        add([c.longitude - dlon, c.latitude - dlat, c.longitude + dlon, c.latitude + dlat]);
    }
    let bbox = bbox.ok_or_else(|| AppError::invalid("place", format!("the place {} has no outline", place.name)))?;
    // 50 m of slack: the box only pre-filters, the exact test follows on the National Grid.
    let (dlon, dlat) = degrees(50.0, bbox[1].abs().max(bbox[3].abs()));
    let bbox = [bbox[0] - dlon, bbox[1] - dlat, bbox[2] + dlon, bbox[3] + dlat];
    let records = db.sna_police_records_in_box(bbox, from, to, crime_types).await?;
    let area = crate::spatial::place_study_area(db, place_id).await?;
    let projector = BngProjector::new()?;
    let lon_lat: Vec<(f64, f64)> = records.iter().map(|r| (r.longitude, r.latitude)).collect();
    let xy = projector.to_bng_many(&lon_lat)?;
    let inside = crate::spatial::blocking(move || Ok(points_in_area(&xy, &area)?)).await?;

    let mut by_month_type: BTreeMap<(String, String), i64> = BTreeMap::new();
    for &k in &inside.kept_index {
        let r = &records[k];
        *by_month_type.entry((r.month.clone(), r.crime_type.clone())).or_insert(0) += 1;
    }
    let rows = SnaPoliceRows::from_counts(
        by_month_type.into_iter().map(|((m, t), n)| (m, t, n)).collect(),
        inside.kept_index.iter().map(|&k| {
            let r = &records[k];
            (r.lsoa_code.clone(), r.crime_type.clone(), r.outcome.clone(), 1)
        }),
    );
    let kind = place.kind.parse::<PlaceKind>().map(PlaceKind::label).unwrap_or("Place").to_string();
    let report_place = ReportPlace {
        id: place.id,
        name: place.name,
        kind,
        hectares: place.square_metres / 10_000.0,
        records_inside: inside.kept_index.len() as i64,
    };
    Ok((report_place, rows))
}
