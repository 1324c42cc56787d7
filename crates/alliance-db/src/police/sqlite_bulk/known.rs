//! The latest outcome of every Crime ID, kept in memory while a run has seen every row of
//! `police_outcomes` (the table was empty when the run began and only this run wrote to it).
//!
//! A run imports outcomes files before street files, so while this holds each crime's latest
//! outcome is known when its row is inserted, and the crimes need no refresh afterwards (a
//! refresh rewrites every crime that has outcomes: the largest single cost of a fresh import).
//! When the condition stops holding (an outcomes import replaced another, another writer
//! touched the table, or the map grew past its cap) the run falls back to refreshing.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use alliance_core::domain::police::crime_key;
use alliance_core::domain::{Month, PoliceOutcome};
use rusqlite::Connection;

use crate::DbError;

/// Beyond this many Crime IDs (about 100 MB) the map is dropped and the run refreshes
/// instead, so memory stays bounded on national runs.
const MAX_CRIMES: usize = 500_000;

/// A crime's latest outcome.
struct Latest {
    crime_id: String,
    month: Month,
    outcome: String,
}

/// The integer crime keys are already uniformly spread (a hex prefix of a SHA-256, or a
/// hash), so one multiplication makes a hash of them instead of hashing 64-character IDs
/// again. (The multiplication fills the top bits, which the key leaves empty and the map's
/// probing uses.)
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_i64(&mut self, key: i64) {
        self.0 = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(super) struct KnownOutcomes {
    /// Crime key → position in `entries`. Kept apart from the entries so that the table most
    /// lookups touch (most crimes have no outcome yet) is small enough to stay in cache.
    index: HashMap<i64, u32, BuildHasherDefault<KeyHasher>>,
    entries: Vec<Latest>,
    /// Each month's text as stored, made once rather than once per crime.
    month_texts: BTreeMap<Month, String>,
    /// Rows of `police_outcomes` and the highest row id, as this run left them.
    rows: i64,
    last_id: i64,
    /// SQLite's `data_version` after this run's last commit: unchanged means no other
    /// connection has written since.
    data_version: i64,
}

impl KnownOutcomes {
    /// Starts tracking when `police_outcomes` is empty; `None` otherwise.
    pub(super) fn start(conn: &Connection) -> Result<Option<KnownOutcomes>, DbError> {
        let empty: bool = conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM police_outcomes)", [], |r| r.get(0))?;
        let data_version = data_version(conn)?;
        Ok(empty.then(|| KnownOutcomes {
            index: HashMap::default(),
            entries: Vec::new(),
            month_texts: BTreeMap::new(),
            rows: 0,
            last_id: 0,
            data_version,
        }))
    }

    /// Whether the table still holds exactly the rows this run added (checked inside the
    /// transaction that relies on it): certainly so when no other connection has written
    /// since this run's last commit, else by counting.
    pub(super) fn still_complete(&self, conn: &Connection) -> Result<bool, DbError> {
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
    pub(super) fn get(&self, crime_id: &str, key: i64) -> Option<(&str, &str)> {
        let latest = &self.entries[*self.index.get(&key)? as usize];
        let month = self.month_texts.get(&latest.month)?;
        (latest.crime_id == crime_id).then_some((latest.outcome.as_str(), month.as_str()))
    }

    /// Notes this run's own commit, so it is not taken for another writer's.
    pub(super) fn committed(&mut self, conn: &Connection) -> Result<(), DbError> {
        self.data_version = data_version(conn)?;
        Ok(())
    }

    /// Adds a committed outcomes file's rows, in file order (a later row of the same month
    /// wins, as the refresh's `ORDER BY month DESC, id DESC` does). Returns `false` when the
    /// map can no longer be kept: it has grown too large, or two Crime IDs share a key.
    pub(super) fn add(&mut self, rows: Vec<(String, Month, String)>, last_id: i64) -> bool {
        self.rows += rows.len() as i64;
        self.last_id = last_id;
        for (crime_id, month, outcome) in rows {
            self.month_texts.entry(month).or_insert_with(|| month.to_string());
            let key = crime_key(&crime_id);
            match self.index.get(&key).map(|&at| &mut self.entries[at as usize]) {
                Some(entry) if entry.crime_id != crime_id => return false,
                Some(entry) if entry.month <= month => {
                    entry.month = month;
                    entry.outcome = outcome;
                }
                Some(_) => {}
                None => {
                    self.index.insert(key, self.entries.len() as u32);
                    self.entries.push(Latest { crime_id, month, outcome });
                }
            }
        }
        self.entries.len() <= MAX_CRIMES
    }
}

/// What an outcomes file contributes, staged until its transaction commits. The rows are
/// taken apart rather than copied: the writer is done with them.
pub(super) fn stage(rows: Vec<PoliceOutcome>, into: &mut Vec<(String, Month, String)>) {
    into.extend(rows.into_iter().map(|o| (o.crime_id, o.month, o.outcome_type)));
}

fn data_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}
