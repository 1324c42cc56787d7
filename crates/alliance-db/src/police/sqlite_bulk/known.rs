//! SQLite's check that the run's map of latest outcomes ([`LatestOutcomes`]) is still complete:
//! `police_outcomes` was empty when the run began, and SQLite's `data_version` tells whether
//! any other connection has written since this run's last commit (if one has, the table's row
//! count and highest id tell whether it touched the outcomes).

use std::sync::Arc;

use rusqlite::Connection;

use crate::police::latest::{Found, LatestOutcomes};
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
    /// Starts tracking when `police_outcomes` is empty; `None` otherwise.
    pub(in crate::police) fn start(conn: &Connection) -> Result<Option<KnownOutcomes>, DbError> {
        let empty: bool = conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM police_outcomes)", [], |r| r.get(0))?;
        let data_version = data_version(conn)?;
        Ok(empty.then(|| KnownOutcomes { map: Arc::default(), rows: 0, last_id: 0, data_version }))
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
    pub(in crate::police) fn add(
        &mut self,
        rows: Vec<(String, alliance_core::domain::Month, String)>,
        last_id: i64,
    ) -> bool {
        self.rows += rows.len() as i64;
        self.last_id = last_id;
        Arc::get_mut(&mut self.map).is_some_and(|map| map.add(rows))
    }
}

fn data_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}
