//! The police records of a Strategic Needs Assessment over a place of the register (a park,
//! a town centre, a zone): the located records in the place's longitude/latitude box, with
//! what the report counts them by. The box only pre-filters; which records are inside the
//! place's outline is decided in Rust on the National Grid (`alliance_app::sna`), as for
//! evaluations and hotspot study areas.

use alliance_core::domain::Month;

use sqlx::FromRow;

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
        let columns = "c.longitude, c.latitude, c.month, c.crime_type, c.lsoa_code, c.outcome";
        let rows = self.located_rows_in_box(columns, bbox, (from, to), crime_types).await?;
        Ok(rows.iter().map(SnaLocatedRecord::from_row).collect::<Result<_, sqlx::Error>>()?)
    }
}
