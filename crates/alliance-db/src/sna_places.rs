//! The police records of a Strategic Needs Assessment over a place of the register (a park,
//! a town centre, a zone): the located records in the place's longitude/latitude box, with
//! what the report counts them by. The box only pre-filters; which records are inside the
//! place's outline is decided in Rust on the National Grid (`alliance_app::sna`), as for
//! evaluations and hotspot study areas.

use alliance_core::domain::Month;

use crate::{Db, DbError};

/// One located police record for a report over a place.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SnaLocatedRecord {
    pub longitude: f64,
    pub latitude: f64,
    /// `YYYY-MM`, as stored.
    pub month: String,
    pub crime_type: String,
    pub lsoa_code: Option<String>,
    /// The latest known outcome.
    pub outcome: Option<String>,
}

impl Db {
    /// Located police records in the WGS84 box `[min lon, min lat, max lon, max lat]`, in
    /// the months `from`..=`to` (either open), of `crime_types` (all when empty).
    pub async fn sna_police_records_in_box(
        &self,
        bbox: [f64; 4],
        from: Option<Month>,
        to: Option<Month>,
        crime_types: &[String],
    ) -> Result<Vec<SnaLocatedRecord>, DbError> {
        let mut sql = String::from(
            "SELECT c.longitude, c.latitude, c.month, c.crime_type, c.lsoa_code, c.outcome FROM police_crimes c \
             WHERE c.longitude >= $1 AND c.longitude <= $2 AND c.latitude >= $3 AND c.latitude <= $4",
        );
        let mut texts: Vec<String> = Vec::new();
        let next = |value: String, texts: &mut Vec<String>| {
            texts.push(value);
            format!("${}", 4 + texts.len())
        };
        if let Some(from) = from {
            let p = next(from.to_string(), &mut texts);
            sql.push_str(&format!(" AND c.month >= {p}"));
        }
        if let Some(to) = to {
            let p = next(to.to_string(), &mut texts);
            sql.push_str(&format!(" AND c.month <= {p}"));
        }
        if !crime_types.is_empty() {
            let list: Vec<String> = crime_types.iter().map(|t| next(t.clone(), &mut texts)).collect();
            sql.push_str(&format!(" AND c.crime_type IN ({})", list.join(", ")));
        }
        let mut query = sqlx::query_as(&sql).bind(bbox[0]).bind(bbox[2]).bind(bbox[1]).bind(bbox[3]);
        for t in &texts {
            query = query.bind(t.as_str());
        }
        Ok(query.fetch_all(&self.pool).await?)
    }
}
