//! Where each LSOA's located records lie (`police_lsoa_extents`, migration 0042): the box of
//! their longitudes and latitudes, so that a read of the records in a small box (an
//! evaluation's areas, the SNA of a place) takes the LSOAs whose box meets it and reads their
//! records by the area index, not every record of its months ([`Db::located_rows_in_box`]).
//!
//! Every street import widens the boxes of its LSOAs in its own transaction. Boxes only grow:
//! records removed by a replacement leave their LSOA's box as it was. So a box always holds
//! every record of its LSOA, and a read by box may visit an LSOA with nothing left in the box
//! but never misses a record. Records with a location but no LSOA code are kept under the
//! code `''` and read by `lsoa_code IS NULL`.

use std::collections::HashMap;

use alliance_core::domain::{Month, StreetCrime};
use sqlx::Row;

use super::per_file::Arg;
use crate::params::Params;
use crate::{Backend, Db, DbError};

/// The box of one LSOA's located records: `[min lon, max lon, min lat, max lat]`.
type Extent = [f64; 4];

/// The boxes of a file's located records, by LSOA code packed into a number (see [`key`]),
/// made on the parsing thread as the rows pass: a hash of a number per row and one entry per
/// LSOA, so a national import's 20 million rows cost no allocation each.
#[derive(Debug, Default)]
pub(crate) struct Extents(HashMap<u64, Extent>);

/// The key of "no LSOA code".
const NO_CODE: u64 = u64::MAX;

/// A GSS code (an upper-case letter and eight digits, as `LsoaCode` holds) as a number that
/// orders as the text does: the letter's place times 10⁸ plus the digits.
fn key(code: &str) -> u64 {
    let b = code.as_bytes();
    let digits = b[1..].iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    u64::from(b[0] - b'A') * 100_000_000 + digits
}

/// The code of a [`key`] (`''` for [`NO_CODE`]).
fn code_of(key: u64) -> String {
    if key == NO_CODE {
        return String::new();
    }
    // The letter's place is below 26, so the cast cannot truncate.
    format!("{}{:08}", char::from(b'A' + (key / 100_000_000) as u8), key % 100_000_000)
}

/// Rows one statement widens: five values each, far below either backend's limit.
const ROWS_PER_STATEMENT: usize = 200;

/// Beyond this many LSOAs meeting a box (a box the size of a county), a read by box reads
/// the box's months instead, which then costs less than a look-up per LSOA.
const MAX_LSOAS_BY_INDEX: usize = 3_000;

/// LSOA codes one read binds (see `evaluations::CODES_PER_QUERY`).
const CODES_PER_QUERY: usize = 500;

impl Extents {
    /// Widens the box of the row's LSOA to hold it (a row with no location has none).
    pub(crate) fn add_row(&mut self, row: &StreetCrime) {
        let Some((lon, lat)) = row.location else { return };
        let k = row.lsoa_code.as_ref().map_or(NO_CODE, |c| key(c.as_str()));
        self.0
            .entry(k)
            .and_modify(|b| *b = [b[0].min(lon), b[1].max(lon), b[2].min(lat), b[3].max(lat)])
            .or_insert([lon, lon, lat, lat]);
    }

    /// The boxes in code order (one order for every writer, so two transactions never wait
    /// on each other's rows), as columns.
    pub(super) fn columns(&self) -> Columns {
        let mut keys: Vec<(&u64, &Extent)> = self.0.iter().collect();
        keys.sort_by_key(|(k, _)| **k);
        let mut c = Columns::default();
        for (k, e) in keys {
            c.codes.push(code_of(*k));
            for (column, value) in c.bounds.iter_mut().zip(e) {
                column.push(*value);
            }
        }
        c
    }
}

/// Boxes as columns: codes, then min lon, max lon, min lat, max lat.
#[derive(Debug, Default)]
pub(super) struct Columns {
    codes: Vec<String>,
    bounds: [Vec<f64>; 4],
}

/// A box is written only when it grows, so a month whose records lie inside the boxes held
/// writes nothing.
const WIDEN: &str = "ON CONFLICT (lsoa_code) DO UPDATE SET \
    min_lon = LEAST(police_lsoa_extents.min_lon, excluded.min_lon), \
    max_lon = GREATEST(police_lsoa_extents.max_lon, excluded.max_lon), \
    min_lat = LEAST(police_lsoa_extents.min_lat, excluded.min_lat), \
    max_lat = GREATEST(police_lsoa_extents.max_lat, excluded.max_lat) \
    WHERE excluded.min_lon < police_lsoa_extents.min_lon OR excluded.max_lon > police_lsoa_extents.max_lon \
    OR excluded.min_lat < police_lsoa_extents.min_lat OR excluded.max_lat > police_lsoa_extents.max_lat";

impl Columns {
    /// The statements, with their values, that widen the stored boxes to hold these: on
    /// PostgreSQL one, its columns bound as arrays (a force's month names about 700 LSOAs;
    /// as rows of values it took three times as long to plan); on SQLite, which has no
    /// arrays and plans in the process, rows of values, [`ROWS_PER_STATEMENT`] at a time.
    pub(super) fn widening(&self, backend: Backend) -> Vec<(String, Vec<Arg<'_>>)> {
        if self.codes.is_empty() {
            return Vec::new();
        }
        let b = &self.bounds;
        match backend {
            Backend::Postgres => vec![(
                format!(
                    "INSERT INTO police_lsoa_extents (lsoa_code, min_lon, max_lon, min_lat, max_lat) \
                     SELECT * FROM UNNEST($1::TEXT[], $2::FLOAT8[], $3::FLOAT8[], $4::FLOAT8[], $5::FLOAT8[]) {WIDEN}"
                ),
                vec![
                    Arg::Texts(&self.codes),
                    Arg::Reals(&b[0]),
                    Arg::Reals(&b[1]),
                    Arg::Reals(&b[2]),
                    Arg::Reals(&b[3]),
                ],
            )],
            // SQLite's two-argument min() and max() are LEAST and GREATEST.
            Backend::Sqlite => {
                let widen = WIDEN.replace("LEAST(", "min(").replace("GREATEST(", "max(");
                (0..self.codes.len())
                    .step_by(ROWS_PER_STATEMENT)
                    .map(|from| {
                        let to = (from + ROWS_PER_STATEMENT).min(self.codes.len());
                        let values: Vec<String> = (0..to - from)
                            .map(|i| {
                                let n = i * 5;
                                format!("(${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5)
                            })
                            .collect();
                        let sql = format!(
                            "INSERT INTO police_lsoa_extents (lsoa_code, min_lon, max_lon, min_lat, max_lat) \
                             VALUES {} {widen}",
                            values.join(", ")
                        );
                        let args = (from..to)
                            .flat_map(|i| {
                                [
                                    Arg::Text(&self.codes[i]),
                                    Arg::Real(b[0][i]),
                                    Arg::Real(b[1][i]),
                                    Arg::Real(b[2][i]),
                                    Arg::Real(b[3][i]),
                                ]
                            })
                            .collect();
                        (sql, args)
                    })
                    .collect()
            }
        }
    }
}

impl Db {
    /// The LSOA codes (`''`: records with no code) whose records' box meets the WGS84 box
    /// `[min lon, min lat, max lon, max lat]`; `None` when there are more than
    /// [`MAX_LSOAS_BY_INDEX`].
    async fn lsoas_meeting(&self, bbox: [f64; 4]) -> Result<Option<Vec<String>>, DbError> {
        let sql = format!("SELECT lsoa_code {EXTENTS_MEETING_BOX} ORDER BY lsoa_code");
        let rows = box_query(&sql, bbox, &Params::new()).fetch_all(&self.pool).await?;
        let codes = rows.iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, _>>()?;
        Ok((codes.len() <= MAX_LSOAS_BY_INDEX).then_some(codes))
    }

    /// Whether any LSOA's box of located records meets the WGS84 box `[min lon, min lat,
    /// max lon, max lat]` (edges included). A box holds every record of its LSOA (boxes only
    /// grow), so `false` means no located police record lies in `bbox`: an evaluation of an
    /// area there would count nothing and read as "no change", so it is refused instead.
    /// A scan of one row per LSOA (about 35,000 nationally) that stops at the first box met.
    pub async fn police_records_meet(&self, bbox: [f64; 4]) -> Result<bool, DbError> {
        let sql = format!("SELECT lsoa_code {EXTENTS_MEETING_BOX} LIMIT 1");
        Ok(box_query(&sql, bbox, &Params::new()).fetch_optional(&self.pool).await?.is_some())
    }

    /// The box `[min lon, min lat, max lon, max lat]` of the located records of each of
    /// `districts` that has any, by the boxes of its LSOAs' records: where a district's records
    /// lie when no boundary of it is held. One grouped read of the LSOAs' boxes (one row per
    /// LSOA), not of the records.
    pub async fn district_record_boxes(&self, districts: &[String]) -> Result<Vec<(String, [f64; 4])>, DbError> {
        if districts.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = Params::new();
        let sql = format!(
            "SELECT l.district_code, MIN(e.min_lon), MIN(e.min_lat), MAX(e.max_lon), MAX(e.max_lat) \
             FROM police_lsoa_extents e JOIN lsoas l ON l.code = e.lsoa_code \
             WHERE l.district_code IN ({}) GROUP BY l.district_code ORDER BY l.district_code",
            params.list(districts.iter().cloned())
        );
        let rows = params.bind(sqlx::query(&sql), 0).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, [r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?])))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(DbError::from)
    }

    /// The police records `c` located in the WGS84 box `[min lon, min lat, max lon, max lat]`
    /// (edges included), of the months `from..=to` (either open) and of `crime_types` (all
    /// when empty), as `columns`. Read LSOA by LSOA by the area index when few LSOAs'
    /// records meet the box, else by the box and months alone. Rows come in no particular
    /// order.
    pub(crate) async fn located_rows_in_box(
        &self,
        columns: &str,
        bbox: [f64; 4],
        period: (Option<Month>, Option<Month>),
        crime_types: &[String],
    ) -> Result<Vec<sqlx::any::AnyRow>, DbError> {
        let in_box = "c.longitude >= $1 AND c.longitude <= $2 AND c.latitude >= $3 AND c.latitude <= $4";
        let read = |area: Option<&[String]>| {
            let mut params = Params::after(4);
            let area = match area {
                None => String::new(),
                Some([only]) if only.is_empty() => " AND c.lsoa_code IS NULL".to_string(),
                Some(codes) => format!(" AND c.lsoa_code IN ({})", params.list(codes.iter().cloned())),
            };
            let more = crate::spatial::period_and_types(&mut params, period, crime_types);
            (format!("SELECT {columns} FROM police_crimes c WHERE {in_box}{area}{more}"), params)
        };
        let Some(codes) = self.lsoas_meeting(bbox).await? else {
            let (sql, params) = read(None);
            return self.fetch_police_query(box_query(&sql, bbox, &params), false).await;
        };
        let (unknown, known): (Vec<String>, Vec<String>) = codes.into_iter().partition(String::is_empty);
        let mut rows = Vec::new();
        for chunk in known.chunks(CODES_PER_QUERY).chain(unknown.chunks(1)) {
            let (sql, params) = read(Some(chunk));
            rows.extend(self.fetch_police_query(box_query(&sql, bbox, &params), true).await?);
        }
        Ok(rows)
    }
}

/// The LSOAs whose box of records meets the box bound by [`box_query`] (`$1`–`$4`: min lon,
/// max lon, min lat, max lat), edges included.
const EXTENTS_MEETING_BOX: &str =
    "FROM police_lsoa_extents WHERE max_lon >= $1 AND min_lon <= $2 AND max_lat >= $3 AND min_lat <= $4";

/// `sql` with the box bound to `$1`–`$4` and `params` after them.
fn box_query<'q>(sql: &'q str, bbox: [f64; 4], params: &'q Params) -> crate::params::AnyQuery<'q> {
    params.bind(sqlx::query(sql).bind(bbox[0]).bind(bbox[2]).bind(bbox[1]).bind(bbox[3]), 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alliance_core::domain::LsoaCode;

    fn row(lsoa: Option<&str>, location: Option<(f64, f64)>) -> StreetCrime {
        StreetCrime {
            crime_id: None,
            month: "2025-01".parse::<Month>().unwrap(),
            reported_by: String::new(),
            falls_within: String::new(),
            location,
            location_description: String::new(),
            lsoa_code: lsoa.map(|c| c.parse::<LsoaCode>().unwrap()),
            lsoa_name: None,
            crime_type: "Robbery".into(),
            last_outcome: None,
        }
    }

    fn of(rows: &[StreetCrime]) -> Extents {
        let mut e = Extents::default();
        rows.iter().for_each(|r| e.add_row(r));
        e
    }

    #[test]
    fn boxes_hold_every_located_row_of_their_lsoa() {
        let e = of(&[
            row(Some("E01000001"), Some((-2.0, 53.0))),
            row(Some("E01000001"), Some((-2.2, 52.9))),
            row(Some("E01000002"), None),
            row(None, Some((-1.0, 51.0))),
            row(Some("E01000001"), Some((-1.9, 53.1))),
        ]);
        assert_eq!(e.0.len(), 2, "a row without a location has no box");
        assert_eq!(e.0[&key("E01000001")], [-2.2, -1.9, 52.9, 53.1]);
        assert_eq!(e.0[&NO_CODE], [-1.0, -1.0, 51.0, 51.0]);
        let c = e.columns();
        assert_eq!(c.codes, ["E01000001", ""], "codes come back as text, in order");
    }

    #[test]
    fn packed_codes_order_and_read_back_as_text() {
        let codes = ["E00000000", "E01014210", "E01999999", "W01000001", "Z99999999"];
        for w in codes.windows(2) {
            assert!(key(w[0]) < key(w[1]), "{} before {}", w[0], w[1]);
        }
        for c in codes {
            assert_eq!(code_of(key(c)), c);
        }
        assert!(key("Z99999999") < NO_CODE);
        assert_eq!(code_of(NO_CODE), "");
    }

    #[test]
    fn widening_binds_five_values_a_row_in_code_order() {
        let rows: Vec<StreetCrime> =
            (0..450).map(|i| row(Some(&format!("E01{:06}", 999 - i)), Some((-2.0, 53.0)))).collect();
        let e = of(&rows);
        let columns = e.columns();
        let statements = columns.widening(Backend::Sqlite);
        assert_eq!(statements.iter().map(|(_, a)| a.len()).collect::<Vec<_>>(), [1000, 1000, 250]);
        let (sql, args) = &statements[0];
        assert!(sql.contains("($996, $997, $998, $999, $1000)"), "{sql}");
        assert!(matches!(args[0], Arg::Text("E01000550")), "the lowest code first");
        assert!(sql.contains("min_lon = min(police_lsoa_extents.min_lon, excluded.min_lon)"), "{sql}");
        assert!(!sql.contains("LEAST"), "{sql}");

        let statements = columns.widening(Backend::Postgres);
        assert_eq!(statements.len(), 1);
        let (sql, args) = &statements[0];
        assert!(sql.contains("UNNEST($1::TEXT[]") && sql.contains("LEAST("), "{sql}");
        assert!(matches!(args[0], Arg::Texts(codes) if codes.len() == 450 && codes[0] == "E01000550"));
        assert!(matches!(args[4], Arg::Reals(lat) if lat.len() == 450 && lat[0] == 53.0));
        assert!(Extents::default().columns().widening(Backend::Postgres).is_empty());
    }
}
