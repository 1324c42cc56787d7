//! The public side's storage: the Safer Places charter (`charter`), reports of places where
//! someone felt unsafe and their moderation (`reports`), "you said, we did" responses
//! (`responses`) and the directory of support services (`services`).
//!
//! Places are found without a postcode gazetteer (Alliance has none, and does not invent
//! coordinates): a place name is matched against the names of the stored wards, LSOAs and
//! districts, and against the street names of the police data (`streets`); a point (WGS84)
//! is placed in the ward whose boundary contains it.

pub mod charter;
pub mod reports;
pub mod responses;
pub mod services;
pub mod streets;

use alliance_core::geo::projection::BngProjector;
use geo::Contains;
use serde::Serialize;
use sqlx::Row;

use crate::areas::StoredBoundary;
use crate::{Db, DbError};

/// The side of the British National Grid cell that is the finest precision ever shown
/// publicly for a report.
pub const PUBLIC_CELL_METRES: f64 = 250.0;

/// A named area a place was matched to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// 'ward', 'lsoa21', 'lsoa11' or 'district'.
    pub kind: String,
    pub code: String,
    pub name: String,
    pub district_code: Option<String>,
}

/// A 250 m BNG cell: easting and northing of its south-west corner, as `"E_N"`.
pub fn cell_of(lon: f64, lat: f64) -> Result<String, DbError> {
    let projector = BngProjector::new().map_err(|e| DbError::Task(format!("the BNG projection: {e}")))?;
    let (x, y) = projector.to_bng(lon, lat).map_err(|e| {
        DbError::invalid("point", format!("the point ({lon}, {lat}) is not on the British National Grid: {e}"))
    })?;
    let e = (x / PUBLIC_CELL_METRES).floor() * PUBLIC_CELL_METRES;
    let n = (y / PUBLIC_CELL_METRES).floor() * PUBLIC_CELL_METRES;
    Ok(format!("{}_{}", e as i64, n as i64))
}

/// Parses a cell id `"E_N"` into its corner.
pub fn parse_cell(cell: &str) -> Option<(i64, i64)> {
    let (e, n) = cell.split_once('_')?;
    Some((e.parse().ok()?, n.parse().ok()?))
}

/// The rank of [`Db::find_place`]'s first match by the start of a name (those below are exact).
const FIRST_PREFIX_RANK: u8 = 4;

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Db {
    /// Finds the area a place name names: an exact (case-insensitive) name of a ward, a
    /// district, a 2021 or 2011 LSOA, in that order; else the first ward or district whose
    /// name starts with it. Among exact matches, and among the others, places in the districts
    /// the partnership's profile names come first (a national data set holds other areas'
    /// wards of the same name); an exact name elsewhere still beats a longer name here.
    /// `None` when nothing matches.
    pub async fn find_place(&self, query: &str) -> Result<Option<Place>, DbError> {
        let q = normalise(query);
        if q.len() < 2 {
            return Ok(None);
        }
        let mut candidates: Vec<(u8, Place)> = Vec::new();
        let rows = sqlx::query("SELECT kind, code, name, district_code FROM area_boundaries WHERE LOWER(name) LIKE $1")
            .bind(format!("{}%", q.replace(['%', '_'], "")))
            .fetch_all(&self.pool)
            .await?;
        for r in &rows {
            let place =
                Place { kind: r.try_get(0)?, code: r.try_get(1)?, name: r.try_get(2)?, district_code: r.try_get(3)? };
            let exact = normalise(&place.name) == q;
            let rank = match (exact, place.kind.as_str()) {
                (true, "ward") => 0,
                (true, "lsoa21") => 2,
                (true, _) => 3,
                (false, "ward") => 4,
                (false, _) => 6,
            };
            candidates.push((rank, place));
        }
        for d in self.districts().await? {
            let name = normalise(&d.name);
            if name == q || name.starts_with(&q) {
                let rank = if name == q { 1 } else { 5 };
                candidates.push((
                    rank,
                    Place { kind: "district".into(), code: d.code.clone(), name: d.name, district_code: Some(d.code) },
                ));
            }
        }
        let area = self.profile_districts().await?;
        let outside = |p: &Place| !area.is_empty() && !p.district_code.as_ref().is_some_and(|d| area.contains(d));
        candidates.sort_by(|a, b| {
            (a.0 >= FIRST_PREFIX_RANK, outside(&a.1), a.0)
                .cmp(&(b.0 >= FIRST_PREFIX_RANK, outside(&b.1), b.0))
                .then_with(|| a.1.name.cmp(&b.1.name))
                .then_with(|| a.1.code.cmp(&b.1.code))
        });
        Ok(candidates.into_iter().next().map(|(_, p)| p))
    }

    /// The stored wards of the partnership's area ([`Db::partnership_area`]), every stored ward
    /// when it names no held district: what the public pages place and draw. A database holding
    /// national boundaries holds some 7,000 wards, which no page of one area should read.
    pub async fn partnership_wards(&self) -> Result<Vec<StoredBoundary>, DbError> {
        self.boundaries_in("ward", &self.partnership_area().await?).await
    }

    /// The ward of the partnership's area whose stored boundary contains the WGS84 point, if any.
    pub async fn ward_at(&self, lon: f64, lat: f64) -> Result<Option<Place>, DbError> {
        let point = geo::Point::new(lon, lat);
        for b in self.partnership_wards().await? {
            let Ok(geometry) = b.geometry.parse::<geojson::Geometry>() else { continue };
            let Ok(shape) = geo::Geometry::<f64>::try_from(geometry) else { continue };
            if shape.contains(&point) {
                return Ok(Some(Place {
                    kind: "ward".into(),
                    code: b.code,
                    name: b.name,
                    district_code: b.district_code,
                }));
            }
        }
        Ok(None)
    }

    /// Names of wards and districts, for the suggestions list of place fields: those of the
    /// partnership's area when its profile names districts that are held (a national data set
    /// holds every district of England and Wales, which no member of the public in one area
    /// wants to scroll through), else all.
    pub async fn place_names(&self) -> Result<Vec<String>, DbError> {
        let area = self.partnership_area_filter().await?;
        let wards = sqlx::query("SELECT DISTINCT name, district_code FROM area_boundaries WHERE kind = 'ward'")
            .fetch_all(&self.pool)
            .await?;
        let mut names = Vec::with_capacity(wards.len());
        for row in wards {
            let district: Option<String> = row.try_get(1)?;
            if area.admits(district.as_deref()) {
                names.push(row.try_get::<String, _>(0)?);
            }
        }
        names.extend(self.districts().await?.into_iter().filter(|d| area.admits(Some(&d.code))).map(|d| d.name));
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_250_metre_squares_named_by_their_corner() {
        // Stoke-on-Trent railway station, about (388,000 E, 345,900 N).
        let cell = cell_of(-2.1808, 53.0079).unwrap();
        let (e, n) = parse_cell(&cell).unwrap();
        assert_eq!(e % 250, 0);
        assert_eq!(n % 250, 0);
        assert!((387_500..=388_500).contains(&e), "{cell}");
        assert!((345_500..=346_500).contains(&n), "{cell}");
    }
}
