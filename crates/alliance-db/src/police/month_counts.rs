//! Police records counted by import, month, crime type and district (`police_month_counts`,
//! migration 0035), so that the questions asked on every page view (the dashboard's months and
//! crime types, the districts of the public figures, `alliance counts`) group about a hundred
//! rows per force and month instead of scanning every record.
//!
//! The table is kept exact by the writes that change what it summarises, each in its own
//! transaction: a street file's import adds its counts and drops those of the import it
//! replaces ([`per_file`](super::per_file)); an areas import that changes which district an
//! LSOA lies in moves those LSOAs' records between districts, or recounts the whole table when
//! it places most of a country at once ([`recount_if_moved`]). Outcomes are
//! not summarised (outcomes files change them in earlier months' rows): a count by outcome, or
//! by LSOA, reads the records themselves.

use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use crate::params::Params;
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

/// Up to this many LSOAs changing district, their records alone are moved between districts
/// (found by the records' area index); beyond it (a country's deprivation file placing every
/// LSOA at once) the table is recounted by one scan of the records, which then costs less
/// than a look-up per record. On the national archive (20 million records) a recount took up
/// to 25 s under the write lock, for one district's boundaries (a few new LSOA codes) as for
/// the country's deprivation file: Gwent's 15 boundary files took 375.0 s, now 8.9 s
/// (`BENCHMARKS-import.md`, fourteenth session).
const MOVED_ONE_BY_ONE: usize = 2_000;

/// LSOA codes per statement when moving records: well inside both backends' limits on bound
/// values.
const CODES_PER_STATEMENT: usize = 500;

/// The district an LSOA lies in under a mapping (`None`: not stored, or in no district).
fn district_of<'m>(map: &'m DistrictMap, code: &str) -> Option<&'m str> {
    map.get(code).and_then(|d| d.as_deref())
}

/// The LSOAs whose district differs between two mappings, grouped by (district before,
/// district after).
fn moved_between<'m>(
    before: &'m DistrictMap,
    after: &'m DistrictMap,
) -> BTreeMap<(Option<&'m str>, Option<&'m str>), Vec<&'m str>> {
    let mut moved: BTreeMap<_, Vec<&str>> = BTreeMap::new();
    for code in before.keys().chain(after.keys().filter(|c| !before.contains_key(*c))) {
        let (from, to) = (district_of(before, code), district_of(after, code));
        if from != to {
            moved.entry((from, to)).or_default().push(code.as_str());
        }
    }
    moved
}

/// Brings the table up to date when the mapping differs from `before` (an areas import placed
/// LSOAs in districts, or in other ones), in the caller's transaction. Returns whether it
/// changed anything.
///
/// Few LSOAs moved: each group's records are counted twice by their LSOAs, once taken from the
/// district they were in (negative counts) and once added to the one they are in now; then the
/// rows of every district concerned are summed into one row a key, and keys left at zero
/// removed. The table then holds what a full recount would (every reader sums `n` anyway).
pub(crate) async fn recount_if_moved(tx: &mut Transaction<'_, Any>, before: &DistrictMap) -> Result<bool, DbError> {
    let after = district_map(tx).await?;
    if after == *before {
        return Ok(false);
    }
    let moved = moved_between(before, &after);
    if moved.is_empty() {
        // LSOAs added in no district, as a deprivation file without district codes adds them:
        // their records were counted in no district and still are.
        return Ok(false);
    }
    if moved.values().map(Vec::len).sum::<usize>() > MOVED_ONE_BY_ONE {
        sqlx::query("DELETE FROM police_month_counts").execute(&mut **tx).await?;
        sqlx::query(RECOUNT_SQL).execute(&mut **tx).await?;
        return Ok(true);
    }
    let mut districts: Vec<Option<&str>> = Vec::new();
    for (&(from, to), codes) in &moved {
        for chunk in codes.chunks(CODES_PER_STATEMENT) {
            for (district, sign) in [(from, "-"), (to, "")] {
                let mut params = Params::new();
                let district = district.map_or_else(|| "CAST(NULL AS TEXT)".to_string(), |d| params.push(d));
                let sql = format!(
                    "INSERT INTO police_month_counts (import_id, month, crime_type, district_code, n) \
                     SELECT c.import_id, c.month, c.crime_type, {district}, {sign}COUNT(*) FROM police_crimes c \
                     WHERE c.lsoa_code IN ({}) GROUP BY c.import_id, c.month, c.crime_type",
                    params.list(chunk.iter().map(|c| c.to_string()))
                );
                params.bind(sqlx::query(&sql), 0).execute(&mut **tx).await?;
            }
        }
        districts.extend([from, to]);
    }
    districts.sort();
    districts.dedup();
    sum_rows_of(tx, &districts).await?;
    Ok(true)
}

/// Sums the rows of `districts` (`None`: the rows of no district) into one row per import,
/// month, crime type and district, leaving out keys whose records all moved away.
async fn sum_rows_of(tx: &mut Transaction<'_, Any>, districts: &[Option<&str>]) -> Result<(), DbError> {
    if districts.is_empty() {
        return Ok(());
    }
    let mut params = Params::new();
    let named: Vec<&str> = districts.iter().flatten().copied().collect();
    let mut conditions = Vec::new();
    if !named.is_empty() {
        conditions.push(format!("district_code IN ({})", params.list(named.iter().map(|d| d.to_string()))));
    }
    if districts.contains(&None) {
        conditions.push("district_code IS NULL".to_string());
    }
    let which = conditions.join(" OR ");
    sqlx::query("DROP TABLE IF EXISTS summed_month_counts").execute(&mut **tx).await?;
    let sql = format!(
        "CREATE TEMPORARY TABLE summed_month_counts AS \
         SELECT import_id, month, crime_type, district_code, CAST(SUM(n) AS BIGINT) AS n FROM police_month_counts \
         WHERE {which} GROUP BY import_id, month, crime_type, district_code"
    );
    params.bind(sqlx::query(&sql), 0).execute(&mut **tx).await?;
    let sql = format!("DELETE FROM police_month_counts WHERE {which}");
    params.bind(sqlx::query(&sql), 0).execute(&mut **tx).await?;
    sqlx::query(
        "INSERT INTO police_month_counts (import_id, month, crime_type, district_code, n) \
         SELECT import_id, month, crime_type, district_code, n FROM summed_month_counts WHERE n <> 0",
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query("DROP TABLE summed_month_counts").execute(&mut **tx).await?;
    Ok(())
}
