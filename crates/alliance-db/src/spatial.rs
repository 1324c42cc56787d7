//! Located police records for spatial analysis: longitude/latitude (WGS84) and month of
//! every record with coordinates, with filters on crime type, months and area.

use alliance_core::domain::Month;
use serde::Serialize;
use sqlx::{FromRow, Row};

use crate::params::Params;
use crate::{Db, DbError};

/// Which police records to analyse. Empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LocatedFilter {
    /// Any of these crime types (exact names, e.g. "Violence and sexual offences").
    pub crime_types: Vec<String>,
    /// First month, inclusive.
    pub from: Option<Month>,
    /// Last month, inclusive.
    pub to: Option<Month>,
    /// Records in LSOAs of this district (local authority code).
    pub district: Option<String>,
    /// Records in any of these LSOAs.
    pub lsoas: Vec<String>,
    /// Records in LSOAs of any of these districts: the partnership's area, so a database
    /// holding other forces' records too (a region, the national archive) is not analysed
    /// whole by default. Empty: no such condition.
    pub area: Vec<String>,
}

/// One police record with coordinates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocatedCrime {
    pub longitude: f64,
    pub latitude: f64,
    pub month: Month,
    pub lsoa_code: Option<String>,
    /// As published: "On or near <street>" (snapped to a street or a place), or "No location".
    pub location: String,
}

/// A point the police data snaps records to, with the location it names.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SnappedLocation {
    pub location: String,
    pub longitude: f64,
    pub latitude: f64,
    pub records: i64,
}

/// A stored boundary as a polygon (WGS84 longitude/latitude).
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryShape {
    pub code: String,
    pub name: String,
    pub district_code: Option<String>,
    pub shape: geo::MultiPolygon<f64>,
}

fn parse_shape(text: &str) -> Result<geo::MultiPolygon<f64>, String> {
    let geometry: geojson::Geometry = text.parse().map_err(|e: geojson::Error| e.to_string())?;
    match geometry.value {
        v @ geojson::Value::Polygon(_) => {
            geo::Polygon::<f64>::try_from(v).map(|p| geo::MultiPolygon(vec![p])).map_err(|e| e.to_string())
        }
        v => geo::MultiPolygon::<f64>::try_from(v).map_err(|e| e.to_string()),
    }
}

/// How many reads of located records may run at once in one process (see
/// [`Db::located_police_records`]): a request past it waits for a turn.
pub const LARGE_READS: usize = 2;

/// The order every backend gives located records in: by month, then longitude, then
/// latitude, then location.
fn sort_located(records: &mut [LocatedCrime]) {
    records.sort_by(|a, b| {
        a.month
            .cmp(&b.month)
            .then(a.longitude.total_cmp(&b.longitude))
            .then(a.latitude.total_cmp(&b.latitude))
            .then(a.location.cmp(&b.location))
    });
}

/// The conditions, each starting `" AND "`, that police records `c` are of the months
/// `from..=to` (either open) and of `crime_types` (all when empty), their values pushed to
/// `params`.
pub(crate) fn period_and_types(
    params: &mut Params,
    (from, to): (Option<Month>, Option<Month>),
    crime_types: &[String],
) -> String {
    let mut sql = String::new();
    if let Some(from) = from {
        sql.push_str(&format!(" AND c.month >= {}", params.push(from.to_string())));
    }
    if let Some(to) = to {
        sql.push_str(&format!(" AND c.month <= {}", params.push(to.to_string())));
    }
    if !crime_types.is_empty() {
        sql.push_str(&format!(" AND c.crime_type IN ({})", params.list(crime_types.iter().cloned())));
    }
    sql
}

impl Db {
    /// Stored police records that have coordinates, matching the filter,
    /// sorted by month, then longitude, then latitude so every backend gives the same order.
    pub async fn located_police_records(&self, filter: &LocatedFilter) -> Result<Vec<LocatedCrime>, DbError> {
        let mut sql = String::from(
            "SELECT c.longitude, c.latitude, c.month, c.lsoa_code, c.location FROM police_crimes c \
             WHERE c.longitude IS NOT NULL AND c.latitude IS NOT NULL",
        );
        let mut params = Params::new();
        sql.push_str(&period_and_types(&mut params, (filter.from, filter.to), &filter.crime_types));
        if let Some(d) = &filter.district {
            sql.push_str(&format!(" AND {}", Db::records_in_districts(&mut params, std::slice::from_ref(d))));
        }
        if !filter.lsoas.is_empty() {
            sql.push_str(&format!(" AND c.lsoa_code IN ({})", params.list(filter.lsoas.iter().cloned())));
        }
        if !filter.area.is_empty() {
            sql.push_str(&format!(" AND {}", Db::records_in_districts(&mut params, &filter.area)));
        }
        let month = |text: String| {
            text.parse::<Month>().map_err(|e| DbError::corrupt(format!("stored month \"{text}\" is not YYYY-MM: {e}")))
        };
        // At most [`LARGE_READS`] of these at once per process: each opens a connection of
        // its own, outside the pool's limit, and holds hundreds of thousands of rows.
        let _permit =
            self.large_reads.acquire().await.map_err(|e| DbError::Task(format!("reading located records: {e}")))?;
        let out = match (&self.sqlite_path, &self.postgres_url) {
            // SQLite: read by `rusqlite` (see `sqlite_read`).
            (Some(path), _) => {
                let (path, values) = (path.clone(), params.values().to_vec());
                tokio::task::spawn_blocking(move || {
                    let mut out = crate::sqlite_read::read_rows(&path, &sql, &values, |r| {
                        Ok(LocatedCrime {
                            longitude: r.get(0)?,
                            latitude: r.get(1)?,
                            month: month(r.get(2)?)?,
                            lsoa_code: r.get(3)?,
                            location: r.get(4)?,
                        })
                    })?;
                    sort_located(&mut out);
                    Ok::<_, DbError>(out)
                })
                .await
                .map_err(|e| DbError::Task(format!("reading located records: {e}")))??
            }
            // PostgreSQL: on a connection of the native driver, which decodes the rows in
            // place where the `Any` driver copies each into an `AnyRow` first.
            (None, Some(url)) => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(url).await?;
                let mut query = sqlx::query_as::<_, (f64, f64, String, Option<String>, String)>(&sql);
                for v in params.values() {
                    query = query.bind(v.as_str());
                }
                let rows = query.fetch_all(&mut conn).await?;
                let _ = conn.close().await;
                let mut out = Vec::with_capacity(rows.len());
                for (longitude, latitude, m, lsoa_code, location) in rows {
                    out.push(LocatedCrime { longitude, latitude, month: month(m)?, lsoa_code, location });
                }
                sort_located(&mut out);
                out
            }
            (None, None) => return Err(DbError::Task("a database with neither a file nor a server URL".into())),
        };
        Ok(out)
    }

    /// The points the police data snaps records to, with the street or place each names
    /// ("On or near Station Road"), and how many records name it there: a street map drawn
    /// from the data itself. Of the LSOAs of `districts` (read by the area index), or of every
    /// record when empty; sorted by location, then longitude, then latitude.
    pub async fn snapped_locations(&self, districts: &[String]) -> Result<Vec<SnappedLocation>, DbError> {
        let mut sql = String::from(
            "SELECT c.location, c.longitude, c.latitude, COUNT(*) AS records FROM police_crimes c \
             WHERE c.longitude IS NOT NULL AND c.latitude IS NOT NULL AND c.location LIKE 'On or near %'",
        );
        let mut params = Params::new();
        if !districts.is_empty() {
            sql.push_str(&format!(" AND {}", Db::records_in_districts(&mut params, districts)));
        }
        sql.push_str(" GROUP BY c.location, c.longitude, c.latitude ORDER BY c.location, c.longitude, c.latitude");
        let rows = self.fetch_police_rows(&sql, &params, !districts.is_empty()).await?;
        Ok(rows.iter().map(SnappedLocation::from_row).collect::<Result<_, _>>()?)
    }

    /// Stored boundaries of one kind (`lsoa11`, `lsoa21`, `ward`), optionally of one
    /// district, as WGS84 longitude/latitude polygons, sorted by code.
    pub async fn boundary_shapes(&self, kind: &str, district: Option<&str>) -> Result<Vec<BoundaryShape>, DbError> {
        let districts: Vec<String> = district.map(str::to_string).into_iter().collect();
        self.boundary_shapes_in(kind, &districts).await
    }

    /// The stored boundaries of `kind` in any of `districts` (all when empty) as polygons.
    pub async fn boundary_shapes_in(&self, kind: &str, districts: &[String]) -> Result<Vec<BoundaryShape>, DbError> {
        let stored = self.boundaries_in(kind, districts).await?;
        stored
            .into_iter()
            .map(|b| {
                let shape = parse_shape(&b.geometry)
                    .map_err(|e| DbError::corrupt(format!("stored boundary {kind} {}: {e}", b.code)))?;
                Ok(BoundaryShape { code: b.code, name: b.name, district_code: b.district_code, shape })
            })
            .collect()
    }

    /// The distinct crime types stored, sorted (for filter menus). Read from the summary
    /// `police_month_counts` (exact after every import), not the records: on 20 million
    /// records the `DISTINCT` over the records read the whole table on every `/map` (8.5 s
    /// with the file in memory, about a minute from disk).
    pub async fn crime_types(&self) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query("SELECT DISTINCT crime_type FROM police_month_counts WHERE n > 0")
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>()?;
        out.sort();
        Ok(out)
    }
}
