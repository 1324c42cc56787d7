//! The latest outcome of every Crime ID, kept in memory while a run has seen every row of
//! `police_outcomes` (the table was empty when the run began, or a SQLite bulk run read what it
//! held, and only this run wrote to it since).
//!
//! A run imports outcomes files before street files, so while this holds each crime's latest
//! outcome is known when its row is inserted, and the crimes need neither a refresh afterwards
//! (SQLite: a refresh rewrites every crime that has outcomes, the largest single cost of a fresh
//! import) nor a look-up of their outcomes on the way in (PostgreSQL: `pg_copy::LATEST_OUTCOMES`).
//! Each backend checks in every file's transaction that the condition still holds, its own way
//! (SQLite's `data_version` in `sqlite_bulk.rs`, a count of other runs' outcomes imports in
//! `pg_copy.rs`); when it stops holding (an outcomes import replaced another, another writer
//! touched the table, or the map grew past its cap) the run falls back to the database.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use alliance_core::domain::{Month, PoliceOutcome};

/// Beyond this many Crime IDs the map is dropped and the run refreshes instead, so memory
/// stays bounded however large the input. A crime costs 17 bytes of table (a 16-byte slot and
/// a control byte) at up to 8/7 slots each, so the cap holds the map under about 300 MB: room
/// for the 12 million crimes with outcomes of a national 36-month set (issue 18), where the
/// earlier cap of 500,000 (with each Crime ID kept as text) sent national runs to the refresh.
pub(super) const MAX_CRIMES: usize = 14_000_000;

/// A crime's latest outcome, packed into the map's 8-byte value: a second hash of the Crime
/// ID (the map's key is the first, [`crime_key`]), the month as months since year 0, and the
/// outcome as an index into the run's list of outcome texts.
///
/// A Crime ID is matched by its key (60 bits of it) and this check (32 more) instead of its
/// text: a crime not in the map is taken for one that is only when both agree, about once in
/// 2^92 lookups, or never in the lifetime of any archive (12 million crimes looked up by 20
/// million rows: about 5e-14).
#[derive(Clone, Copy)]
struct Latest {
    check: u32,
    month: u16,
    outcome: u16,
}

/// The check hash of a Crime ID: FNV-1a, a different function from the key's, folded to 32 bits.
fn check_of(crime_id: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in crime_id.bytes().rev() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as u32
}

/// A month as months since year 0, if it fits 16 bits (years 0 to 5460).
fn ordinal(month: Month) -> Option<u16> {
    u16::try_from(i64::from(month.year()) * 12 + i64::from(month.month()) - 1).ok()
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

/// Crime key → latest outcome, with the month and outcome texts each kept once.
#[derive(Default)]
pub(crate) struct LatestOutcomes {
    /// Crime key → the crime's latest outcome.
    latest: HashMap<i64, Latest, BuildHasherDefault<KeyHasher>>,
    /// Each month's text as stored (by [`ordinal`]), made once rather than once per crime.
    month_texts: BTreeMap<u16, String>,
    /// The outcome texts seen, each once; [`Latest::outcome`] indexes it.
    outcomes: Vec<String>,
    outcome_index: HashMap<String, u16>,
}

/// Where a crime's latest outcome and month are among the map's texts: what a look-up finds,
/// small enough to be made on the parsing thread and handed to the writer with the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    month: u16,
    outcome: u16,
}

impl LatestOutcomes {
    /// The latest outcome and its month (as stored) for a Crime ID and its key.
    pub(super) fn get(&self, crime_id: &str, key: i64) -> Option<(&str, &str)> {
        self.texts(self.find(crime_id, key)?)
    }

    /// Where the latest outcome of a Crime ID and its key is, if it has one.
    pub(super) fn find(&self, crime_id: &str, key: i64) -> Option<Found> {
        let latest = self.latest.get(&key)?;
        (latest.check == check_of(crime_id)).then_some(Found { month: latest.month, outcome: latest.outcome })
    }

    /// The outcome and month texts (as stored) of what [`LatestOutcomes::find`] found.
    pub(super) fn texts(&self, found: Found) -> Option<(&str, &str)> {
        let month = self.month_texts.get(&found.month)?;
        Some((self.outcomes.get(usize::from(found.outcome))?.as_str(), month.as_str()))
    }

    /// Adds a committed outcomes file's staged rows, in file order (a later row of the same
    /// month wins, as the refresh's `ORDER BY month DESC, id DESC` does). Returns `false` when
    /// the map can no longer be kept: it has grown too large, two Crime IDs share a key, or a
    /// row could not be packed (see [`Staged`]).
    pub(super) fn add(&mut self, staged: &Staged) -> bool {
        if staged.unpackable {
            return false;
        }
        for month in &staged.months {
            let Some(at) = ordinal(*month) else { return false };
            self.month_texts.entry(at).or_insert_with(|| month.to_string());
        }
        // The file's few outcome texts, each looked up once rather than once per row.
        let mut outcomes = Vec::with_capacity(staged.outcomes.len());
        for text in &staged.outcomes {
            let Some(at) = self.intern(text) else { return false };
            outcomes.push(at);
        }
        for row in &staged.rows {
            let Some(&outcome) = outcomes.get(usize::from(row.outcome)) else { return false };
            let latest = Latest { check: row.check, month: row.month, outcome };
            match self.latest.entry(row.key) {
                Entry::Occupied(e) if e.get().check != row.check => return false,
                Entry::Occupied(mut e) => {
                    if e.get().month <= row.month {
                        *e.get_mut() = latest;
                    }
                }
                Entry::Vacant(e) => {
                    e.insert(latest);
                }
            }
        }
        self.latest.len() <= MAX_CRIMES
    }

    /// The index of an outcome text, adding it when new (`None` past 65,536 texts).
    fn intern(&mut self, outcome: &str) -> Option<u16> {
        if let Some(&at) = self.outcome_index.get(outcome) {
            return Some(at);
        }
        let at = u16::try_from(self.outcomes.len()).ok()?;
        self.outcomes.push(outcome.to_string());
        self.outcome_index.insert(outcome.to_string(), at);
        Some(at)
    }
}

/// What an outcomes file contributes to the map, packed as its rows are written and added
/// once its transaction commits ([`LatestOutcomes::add`]).
///
/// Packing copies nothing of a row but its key, a check hash, its month and the index of its
/// outcome among the file's own few texts, so the rows themselves can go back to the parsing
/// thread to be freed (on SQLite the writer is the run's slower thread; taking 24 million
/// texts apart and freeing them there cost it about a tenth of its time on a national run).
#[derive(Default)]
pub(crate) struct Staged {
    rows: Vec<StagedRow>,
    /// The file's months (one, for a data.police.uk file).
    months: Vec<Month>,
    /// The file's outcome texts, each once; [`StagedRow::outcome`] indexes it.
    outcomes: Vec<String>,
    /// A row whose month is outside 16 bits, or past 65,536 texts: the map must be given up.
    unpackable: bool,
}

#[derive(Clone, Copy)]
struct StagedRow {
    key: i64,
    check: u32,
    month: u16,
    outcome: u16,
}

impl Staged {
    /// Packs rows of the file, with their crime keys.
    pub(super) fn push(&mut self, rows: &[PoliceOutcome], keys: &[i64]) {
        self.rows.reserve(rows.len());
        for (row, &key) in rows.iter().zip(keys) {
            self.push_one(&row.crime_id, key, row.month, &row.outcome_type);
        }
    }

    /// Packs one row.
    pub(super) fn push_one(&mut self, crime_id: &str, key: i64, month: Month, outcome: &str) {
        let Some(at) = ordinal(month) else {
            self.unpackable = true;
            return;
        };
        if self.months.last() != Some(&month) && !self.months.contains(&month) {
            self.months.push(month);
        }
        let index = match self.outcomes.iter().rposition(|o| o == outcome) {
            Some(i) => u16::try_from(i).ok(),
            None => {
                self.outcomes.push(outcome.to_string());
                u16::try_from(self.outcomes.len() - 1).ok()
            }
        };
        let Some(outcome) = index else {
            self.unpackable = true;
            return;
        };
        self.rows.push(StagedRow { key, check: check_of(crime_id), month: at, outcome });
    }

    /// How many rows are staged.
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Empties it for the next file.
    pub(super) fn clear(&mut self) {
        // In place: the buffers serve the next file (or seeding batch) without reallocating.
        self.rows.clear();
        self.months.clear();
        self.outcomes.clear();
        self.unpackable = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alliance_core::domain::police::crime_key;

    fn month(text: &str) -> Month {
        text.parse().expect("a month")
    }

    /// Stages rows given as (Crime ID, month, outcome) and adds them, as a committed file.
    fn add(known: &mut LatestOutcomes, rows: &[(&str, &str, &str)]) -> bool {
        let mut staged = Staged::default();
        for (id, m, outcome) in rows {
            staged.push_one(id, crime_key(id), month(m), outcome);
        }
        known.add(&staged)
    }

    const A: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const B: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

    #[test]
    fn the_latest_month_wins_and_a_later_row_of_the_same_month() {
        let mut known = LatestOutcomes::default();
        assert!(add(&mut known, &[(A, "2025-03", "Under investigation"), (A, "2025-01", "Charged")]));
        assert_eq!(known.get(A, crime_key(A)), Some(("Under investigation", "2025-03")));
        assert!(add(&mut known, &[(A, "2025-03", "Offender sent to prison")]));
        assert_eq!(known.get(A, crime_key(A)), Some(("Offender sent to prison", "2025-03")));
        assert_eq!(known.get(B, crime_key(B)), None, "a crime without outcomes");
        let found = known.find(A, crime_key(A)).expect("found");
        assert_eq!(known.texts(found), Some(("Offender sent to prison", "2025-03")));
        assert_eq!(known.find(B, crime_key(B)), None);
    }

    #[test]
    fn crime_ids_sharing_a_key_are_told_apart() {
        // The same first 15 hex digits: the same key, other IDs.
        let other = format!("{}{}", &A[..15], "f".repeat(49));
        assert_eq!(crime_key(A), crime_key(&other));
        let mut known = LatestOutcomes::default();
        assert!(add(&mut known, &[(A, "2025-03", "Charged")]));
        assert_eq!(known.get(&other, crime_key(&other)), None, "a look-up of the other ID finds nothing");
        // Storing both under one key is impossible: the map gives up (the run refreshes instead).
        assert!(!add(&mut known, &[(other.as_str(), "2025-04", "Charged")]));
    }

    #[test]
    fn outcome_texts_are_kept_once_and_months_outside_16_bits_give_up() {
        let mut known = LatestOutcomes::default();
        assert!(add(&mut known, &[(A, "2025-03", "Charged"), (B, "2025-04", "Charged")]));
        assert_eq!(known.outcomes.len(), 1);
        assert_eq!(known.get(B, crime_key(B)), Some(("Charged", "2025-04")));
        assert!(!add(&mut known, &[(A, "9999-01", "Charged")]), "year 9999 does not fit");
    }
}
