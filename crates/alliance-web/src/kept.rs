//! A value read from stored data, kept until the data changes.
//!
//! The public report form lists the wards and districts and says whether postcodes are held:
//! three queries per request, for answers that change only with an import. Under load (issue
//! 18: the form at 2,000 requests a second had a p99 of 175 ms) those queries were most of the
//! page's cost. A [`Kept`] value is read again only when the data version
//! ([`alliance_db::Db::data_version`], one small query) moves, so every instance sharing the
//! database sees a change on its next request.

use std::future::Future;
use std::sync::{Arc, Mutex};

use alliance_db::{Db, DbError};

/// One value and the data version it was read at: a [`KeptByKey`] of one answer.
pub struct Kept<T> {
    one: KeptByKey<T>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept { one: KeptByKey::new(1, usize::MAX, |_| 0) }
    }
}

impl<T> Kept<T> {
    /// The kept value if it was read at the current data version, else a fresh one from
    /// `load`. The version is read before `load`, so a change made while loading leaves the
    /// value under the older version and the next request reads it again. Two requests that
    /// miss at once both load (the loads are read-only and agree); the later one is kept, and
    /// a value read at a newer version is never replaced by an older one.
    pub async fn get<F, Fut, E>(&self, db: &Db, load: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<DbError>,
    {
        Ok(self.one.get(db, "", load).await?.0)
    }
}

/// Answers to a few questions (say, the counts API's queries), each kept until the data
/// changes. All answers are of one data version; reading at a newer one empties the map. The
/// memory stays bounded however many different questions callers ask: at most `capacity`
/// answers and `budget` bytes (as `weigh` estimates them, with their keys) are kept; past
/// either the map is emptied and fills again with what is asked, and an answer over an eighth
/// of the budget is served but never kept.
pub struct KeptByKey<T> {
    slot: Mutex<Option<Answers<T>>>,
    capacity: usize,
    budget: usize,
    weigh: fn(&T) -> usize,
}

/// The answers of one data version, by their question, and their estimated bytes.
struct Answers<T> {
    version: (i64, i64),
    by_key: std::collections::HashMap<String, Arc<T>>,
    bytes: usize,
}

impl<T> KeptByKey<T> {
    /// Keeps at most `capacity` answers and `budget` bytes of them, each weighed by `weigh`.
    pub fn new(capacity: usize, budget: usize, weigh: fn(&T) -> usize) -> KeptByKey<T> {
        KeptByKey { slot: Mutex::new(None), capacity, budget, weigh }
    }

    /// The kept answer to `key` if it was read at the current data version (and whether it
    /// was: `true` for a kept one), else a fresh one from `load`. As [`Kept::get`], the
    /// version is read before `load`.
    pub async fn get<F, Fut, E>(&self, db: &Db, key: &str, load: F) -> Result<(Arc<T>, bool), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<DbError>,
    {
        let version = db.data_version().await?;
        if let Some(answers) = self.slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if let Some(value) = answers.by_key.get(key).filter(|_| answers.version == version) {
                return Ok((Arc::clone(value), true));
            }
        }
        let value = Arc::new(load().await?);
        let weight = (self.weigh)(&value) + key.len();
        if weight > self.budget / 8 {
            return Ok((value, false));
        }
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_mut() {
            // Read at an older version than those kept: served, not kept.
            Some(answers) if answers.version > version => {}
            Some(answers)
                if answers.version == version
                    && answers.by_key.len() < self.capacity
                    && answers.bytes + weight <= self.budget =>
            {
                if let Some(old) = answers.by_key.insert(key.to_owned(), Arc::clone(&value)) {
                    answers.bytes -= (self.weigh)(&old) + key.len();
                }
                answers.bytes += weight;
            }
            // A newer version (the older answers go), or full: start again with this one.
            _ => {
                let by_key = std::iter::once((key.to_owned(), Arc::clone(&value))).collect();
                *slot = Some(Answers { version, by_key, bytes: weight });
            }
        }
        Ok((value, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_is_kept_per_key_until_the_data_changes() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("k.db").display())).await.expect("a database");
        let kept = KeptByKey::<u32>::new(8, 1024, |_| 1);
        let load = |n: u32| move || async move { Ok::<_, DbError>(n) };
        assert_eq!(kept.get(&db, "a", load(1)).await.expect("read"), (Arc::new(1), false));
        assert_eq!(kept.get(&db, "a", load(2)).await.expect("read"), (Arc::new(1), true), "kept");
        assert_eq!(kept.get(&db, "b", load(3)).await.expect("read"), (Arc::new(3), false), "another key");
        // A change of the data (any import) makes every answer stale.
        let csv = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
                   ,2025-06,Staffordshire Police,Staffordshire Police,-2.1794,53.0245,On or near Test Street,,,Robbery,,\n";
        let file = alliance_ingest::SourceFile::from_bytes("2025-06-staffordshire-street.csv", csv.as_bytes());
        db.import_police_file(&file, "test", &|_| {}).await.expect("a one-row file");
        assert_eq!(kept.get(&db, "a", load(4)).await.expect("read"), (Arc::new(4), false), "read again");
        assert_eq!(kept.get(&db, "b", load(5)).await.expect("read"), (Arc::new(5), false), "the old answers went");
    }

    #[tokio::test]
    async fn the_answers_kept_are_bounded_in_number_and_bytes() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("k.db").display())).await.expect("a database");
        let held = |kept: &KeptByKey<usize>| {
            let slot = kept.slot.lock().expect("not poisoned");
            slot.as_ref().map_or((0, 0), |a| (a.by_key.len(), a.bytes))
        };
        // By number: never more than the capacity, however many questions.
        let kept = KeptByKey::<usize>::new(16, usize::MAX, |_| 1);
        for i in 0..40 {
            kept.get(&db, &i.to_string(), || async move { Ok::<_, DbError>(i) }).await.expect("read");
            assert!((1..=16).contains(&held(&kept).0), "{:?} kept", held(&kept));
        }
        // By bytes: answers weigh their own value (and their key's bytes) here; the budget is 800.
        let kept = KeptByKey::<usize>::new(1000, 800, |n| *n);
        for (i, n) in [60, 90, 100, 70, 95, 80, 99, 100, 88, 91, 77].into_iter().enumerate() {
            kept.get(&db, &i.to_string(), || async move { Ok::<_, DbError>(n) }).await.expect("read");
            assert!(held(&kept).1 <= 800, "{:?} kept", held(&kept));
        }
        // An answer over an eighth of the budget is served but not kept.
        let (big, kept_one) = kept.get(&db, "big", || async { Ok::<_, DbError>(101) }).await.expect("read");
        assert_eq!((*big, kept_one), (101, false));
        let (_, kept_one) = kept.get(&db, "big", || async { Ok::<_, DbError>(101) }).await.expect("read");
        assert!(!kept_one, "read again, never kept");
        let (_, kept_one) = kept.get(&db, "10", || async { Ok::<_, DbError>(0) }).await.expect("read");
        assert!(kept_one, "the answers under the bound are still kept");
    }
}
