//! Police records counted by import, month, crime type and district (`police_month_counts`,
//! migration 0035), so that the questions asked on every page view (the dashboard's months and
//! crime types, the districts of the public figures, `alliance counts`) group about a hundred
//! rows per force and month instead of scanning every record.
//!
//! The table is kept exact by the writes that change what it summarises, each in its own
//! transaction: a street file's import adds its counts and drops those of the import it
//! replaces ([`per_file`](super::per_file)); an areas import that changes which district an
//! LSOA lies in recounts the whole table ([`Db::import_areas_file`](crate::Db)). Outcomes are
//! not summarised (outcomes files change them in earlier months' rows): a count by outcome, or
//! by LSOA, reads the records themselves.

use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use crate::DbError;

/// The summary's rows of the records `WHERE` selects (the one statement both the per-import
/// count and the recount are made from).
macro_rules! count_where {
    ($where:literal) => {
        concat!(
            "INSERT INTO police_month_counts (import_id, month, crime_type, district_code, n) \
             SELECT c.import_id, c.month, c.crime_type, l.district_code, COUNT(*) \
             FROM police_crimes c LEFT JOIN lsoas l ON l.code = c.lsoa_code ",
            $where,
            " GROUP BY c.import_id, c.month, c.crime_type, l.district_code"
        )
    };
}

/// Adds the counts of a street import's records (`$1`: the import's id).
pub(crate) const ADD_SQL: &str = count_where!("WHERE c.import_id = $1");

/// Drops the counts of an import whose records were removed (`$1`: the import's id).
pub(crate) const DROP_SQL: &str = "DELETE FROM police_month_counts WHERE import_id = $1";

/// Recounts every record (after the LSOA → district mapping changed).
const RECOUNT_SQL: &str = count_where!("");

/// Which district each stored LSOA lies in.
pub(crate) type DistrictMap = BTreeMap<String, Option<String>>;

/// The LSOA → district mapping as the transaction sees it (tens of thousands of rows at most:
/// every LSOA of England and Wales).
pub(crate) async fn district_map(tx: &mut Transaction<'_, Any>) -> Result<DistrictMap, DbError> {
    let rows = sqlx::query("SELECT code, district_code FROM lsoas").fetch_all(&mut **tx).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, sqlx::Error>>().map_err(Into::into)
}

/// Recounts the table when the mapping differs from `before` (an areas import placed an LSOA in
/// a district, or in another one). Returns whether it recounted.
pub(crate) async fn recount_if_moved(tx: &mut Transaction<'_, Any>, before: &DistrictMap) -> Result<bool, DbError> {
    if district_map(tx).await? == *before {
        return Ok(false);
    }
    sqlx::query("DELETE FROM police_month_counts").execute(&mut **tx).await?;
    sqlx::query(RECOUNT_SQL).execute(&mut **tx).await?;
    Ok(true)
}
