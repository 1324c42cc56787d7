//! The gazetteer ED locations are matched against: street names of the imported police
//! data in the partnership's area ("On or near Church Street", one point per street and
//! district, the mean of its anonymised points weighted by crimes) and the known venues.

use std::collections::HashMap;

use alliance_core::domain::street_of_location;
use alliance_core::geo::gazetteer::{is_generic_police_name, Gazetteer, Place, PlaceKind};
use sqlx::FromRow;

use crate::{Db, DbError};

/// A venue to add to the gazetteer.
#[derive(Debug, Clone)]
pub struct NewVenue<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub district_code: Option<&'a str>,
    pub longitude: f64,
    pub latitude: f64,
    pub source: &'a str,
}

/// A police location of a district with its records' summed coordinates, by column name.
#[derive(sqlx::FromRow)]
struct StreetSums {
    location: String,
    district_code: Option<String>,
    longitude_sum: f64,
    latitude_sum: f64,
    n: i64,
}

/// A stored venue, by column name (the two coordinates would decode either way round).
#[derive(sqlx::FromRow)]
struct VenueRow {
    name: String,
    district_code: Option<String>,
    longitude: f64,
    latitude: f64,
}

impl Db {
    /// Builds the gazetteer from police street names and venues.
    ///
    /// The streets are those of the partnership's districts when its profile names districts
    /// whose LSOAs are stored ([`Db::partnership_area`]), else of every record. A database
    /// holding other forces' records too (a region, the national archive) would otherwise
    /// offer every "High Street" of the country for an ED's locations, and read every record
    /// for each geocoding page and ED import: on the 20 million records of the national
    /// archive 26.7 s against 0.4 s for Staffordshire's nine districts (`BENCHMARKS-import.md`,
    /// fourteenth session).
    pub async fn ed_gazetteer(&self) -> Result<Gazetteer, DbError> {
        let area = self.partnership_area().await?;
        let mut params = crate::params::Params::new();
        let in_area = match area.is_empty() {
            true => String::new(),
            false => format!(" AND {}", Db::records_in_districts(&mut params, &area)),
        };
        let sql = format!(
            "SELECT c.location, l.district_code, CAST(SUM(c.longitude) AS DOUBLE PRECISION) AS longitude_sum, \
             CAST(SUM(c.latitude) AS DOUBLE PRECISION) AS latitude_sum, COUNT(*) AS n \
             FROM police_crimes c LEFT JOIN lsoas l ON l.code = c.lsoa_code \
             WHERE c.longitude IS NOT NULL AND c.latitude IS NOT NULL{in_area} \
             GROUP BY c.location, l.district_code"
        );
        let rows = self.fetch_police_rows(&sql, &params, !area.is_empty()).await?;
        let mut streets: HashMap<(String, Option<String>), (f64, f64, i64)> = HashMap::new();
        for r in &rows {
            let r = StreetSums::from_row(r)?;
            let Some(name) = street_of_location(&r.location) else { continue };
            if is_generic_police_name(name) {
                continue;
            }
            let e = streets.entry((name.to_string(), r.district_code)).or_insert((0.0, 0.0, 0));
            e.0 += r.longitude_sum;
            e.1 += r.latitude_sum;
            e.2 += r.n;
        }
        let mut places: Vec<Place> = streets
            .into_iter()
            .filter(|(_, (_, _, n))| *n > 0)
            .map(|((name, district), (lon, lat, n))| Place {
                kind: PlaceKind::Street,
                name,
                district,
                longitude: lon / n as f64,
                latitude: lat / n as f64,
            })
            .collect();
        places.sort_by(|a, b| (&a.name, &a.district).cmp(&(&b.name, &b.district)));
        let venues: Vec<VenueRow> =
            sqlx::query_as("SELECT name, district_code, longitude, latitude FROM venues ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        places.extend(venues.into_iter().map(|r| Place {
            kind: PlaceKind::Venue,
            name: r.name,
            district: r.district_code,
            longitude: r.longitude,
            latitude: r.latitude,
        }));
        Ok(Gazetteer::new(places))
    }

    /// Adds a venue, or moves it when one of that name in that district exists.
    pub async fn upsert_venue(&self, v: &NewVenue<'_>) -> Result<(), DbError> {
        // A NULL district cannot meet the UNIQUE constraint: replace by hand.
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM venues WHERE name = $1 AND COALESCE(district_code, '') = COALESCE($2, '')")
            .bind(v.name)
            .bind(v.district_code)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO venues (name, kind, district_code, longitude, latitude, source) \
             VALUES ($1, $2, $3, CAST($4 AS DOUBLE PRECISION), CAST($5 AS DOUBLE PRECISION), $6)",
        )
        .bind(v.name)
        .bind(v.kind)
        .bind(v.district_code)
        .bind(v.longitude.to_string())
        .bind(v.latitude.to_string())
        .bind(v.source)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` street names of the gazetteer, spread evenly over the alphabet (for the
    /// synthetic generator).
    pub async fn ed_street_names(&self, limit: usize) -> Result<Vec<String>, DbError> {
        let g = self.ed_gazetteer().await?;
        let mut names: Vec<String> =
            g.places().iter().filter(|p| p.kind == PlaceKind::Street).map(|p| p.name.clone()).collect();
        names.sort();
        names.dedup();
        let step = names.len().div_ceil(limit.max(1)).max(1);
        Ok(names.into_iter().step_by(step).collect())
    }
}
