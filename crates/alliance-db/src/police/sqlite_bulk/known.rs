//! SQLite's check that the run's map of latest outcomes ([`LatestOutcomes`]) is still complete:
//! `police_outcomes` was empty when the run began, and SQLite's `data_version` tells whether
//! any other connection has written since this run's last commit (if one has, the table's row
//! count and highest id tell whether it touched the outcomes). A bulk run into a database that
//! already holds outcomes seeds the map from them ([`KnownOutcomes::start`]).

use std::sync::Arc;

use alliance_core::domain::police::crime_key;
use alliance_core::domain::Month;
use rusqlite::Connection;

use crate::police::latest::{Found, LatestOutcomes, Staged, MAX_CRIMES};
use crate::DbError;

pub(in crate::police) struct KnownOutcomes {
    /// Shared with the parsing thread once the outcomes files are in ([`KnownOutcomes::shared`]),
    /// after which it can no longer grow.
    map: Arc<LatestOutcomes>,
    /// Rows of `police_outcomes` and the highest row id, as this run left them.
    rows: i64,
    last_id: i64,
    /// SQLite's `data_version` after this run's last commit: unchanged means no other
    /// connection has written since.
    data_version: i64,
}

impl KnownOutcomes {
    /// Starts tracking when `police_outcomes` is empty, or, when `seed` is set, from the
    /// outcomes it already holds (at most the map's cap of crimes); `None` otherwise.
    ///
    /// Seeding reads every stored outcome once. A bulk run asks for it (it brings more rows
    /// than the database holds, so the read costs less than the run's own rows): without the
    /// map, a national run into a database holding one force's outcomes queued every street
    /// file's refresh and applied them in one transaction at its end (`BENCHMARKS-import.md`).
    pub(in crate::police) fn start(conn: &Connection, seed: bool) -> Result<Option<KnownOutcomes>, DbError> {
        let data_version = data_version(conn)?;
        let (rows, last_id): (i64, i64) =
            conn.query_row("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM police_outcomes", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if rows == 0 {
            return Ok(Some(KnownOutcomes { map: Arc::default(), rows: 0, last_id: 0, data_version }));
        }
        if !seed || rows > MAX_SEED_ROWS {
            return Ok(None);
        }
        let Some(map) = seeded(conn)? else { return Ok(None) };
        tracing::debug!(rows, "the map of latest outcomes is seeded from the stored outcomes");
        Ok(Some(KnownOutcomes { map: Arc::new(map), rows, last_id, data_version }))
    }

    /// Whether the table still holds exactly the rows this run added (checked inside the
    /// transaction that relies on it): certainly so when no other connection has written
    /// since this run's last commit, else by counting.
    pub(in crate::police) fn still_complete(&self, conn: &Connection) -> Result<bool, DbError> {
        if data_version(conn)? == self.data_version {
            return Ok(true);
        }
        let (rows, last_id): (i64, i64) =
            conn.query_row("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM police_outcomes", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(rows == self.rows && last_id == self.last_id)
    }

    /// The latest outcome and its month (as stored) for a Crime ID and its key.
    pub(in crate::police) fn get(&self, crime_id: &str, key: i64) -> Option<(&str, &str)> {
        self.map.get(crime_id, key)
    }

    /// Where the latest outcome a parser found is, as texts.
    pub(in crate::police) fn texts(&self, found: Found) -> Option<(&str, &str)> {
        self.map.texts(found)
    }

    /// The map, for the parsing thread to look street rows up in. Once shared it no longer
    /// grows: an outcomes file added afterwards ends the map ([`KnownOutcomes::add`]).
    pub(in crate::police) fn shared(&self) -> Arc<LatestOutcomes> {
        Arc::clone(&self.map)
    }

    /// Notes this run's own commit, so it is not taken for another writer's.
    pub(in crate::police) fn committed(&mut self, conn: &Connection) -> Result<(), DbError> {
        self.data_version = data_version(conn)?;
        Ok(())
    }

    /// Adds a committed outcomes file's rows (see [`LatestOutcomes::add`]), the table's highest
    /// outcome id being `last_id` after it. `false`: the map can no longer be kept (it grew
    /// too large, or it is shared with the parser, which must not see it change).
    pub(in crate::police) fn add(&mut self, staged: &Staged, last_id: i64) -> bool {
        self.rows += staged.len() as i64;
        self.last_id = last_id;
        Arc::get_mut(&mut self.map).is_some_and(|map| map.add(staged))
    }
}

/// The most stored outcomes rows a run reads to seed its map: the map's cap of crimes (a
/// crime has one row or more, so a larger table might not fit, and is not read to find out).
const MAX_SEED_ROWS: i64 = MAX_CRIMES as i64;

/// Rows read from the table per call of [`LatestOutcomes::add`].
const SEED_BATCH: usize = 65_536;

/// The map of latest outcomes of the rows `police_outcomes` holds, read in id order (the
/// order the refresh breaks ties by); `None` when the map cannot hold them (see
/// [`LatestOutcomes::add`]) or a stored month is not one.
fn seeded(conn: &Connection) -> Result<Option<LatestOutcomes>, DbError> {
    let mut map = LatestOutcomes::default();
    let mut statement = conn.prepare("SELECT crime_id, month, outcome_type FROM police_outcomes ORDER BY id")?;
    let mut rows = statement.query([])?;
    let mut batch = Staged::default();
    while let Some(row) = rows.next()? {
        let month: String = row.get(1)?;
        let Ok(month) = month.parse::<Month>() else { return Ok(None) };
        let (crime_id, outcome): (String, String) = (row.get(0)?, row.get(2)?);
        batch.push_one(&crime_id, crime_key(&crime_id), month, &outcome);
        if batch.len() == SEED_BATCH {
            if !map.add(&batch) {
                return Ok(None);
            }
            batch.clear();
        }
    }
    Ok(map.add(&batch).then_some(map))
}

fn data_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}
