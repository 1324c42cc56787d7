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

/// The data version a value was read at ([`alliance_db::Db::data_version`]), and the value.
type Versioned<T> = ((i64, i64), T);

/// Answers by their question.
type Answers<T> = std::collections::HashMap<String, Arc<T>>;

/// One value and the data version it was read at.
pub struct Kept<T> {
    slot: Mutex<Option<Versioned<Arc<T>>>>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept { slot: Mutex::new(None) }
    }
}

impl<T> Kept<T> {
    /// The kept value if it was read at the current data version, else a fresh one from
    /// `load`. The version is read before `load`, so a change made while loading leaves the
    /// value under the older version and the next request reads it again. Two requests that
    /// miss at once both load (the loads are read-only and agree); the later one is kept.
    pub async fn get<F, Fut, E>(&self, db: &Db, load: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<DbError>,
    {
        let version = db.data_version().await?;
        if let Some((at, value)) = self.slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if *at == version {
                return Ok(Arc::clone(value));
            }
        }
        let value = Arc::new(load().await?);
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        // Never replace a value read at a newer version with an older one.
        if slot.as_ref().is_none_or(|(at, _)| *at <= version) {
            *slot = Some((version, Arc::clone(&value)));
        }
        Ok(value)
    }
}

/// Answers to a few questions (say, the counts API's queries), each kept until the data
/// changes: [`Kept`] for many keys. All answers are of one data version; reading at a newer
/// one empties the map. At most `capacity` answers are kept; past that the map is emptied
/// and fills again with what is asked, so the memory stays bounded however many different
/// questions callers ask.
pub struct KeptByKey<T> {
    slot: Mutex<Option<Versioned<Answers<T>>>>,
    capacity: usize,
}

impl<T> Default for KeptByKey<T> {
    /// Room for [`KeptByKey::SMALL_ANSWERS`] answers.
    fn default() -> Self {
        KeptByKey::with_capacity(Self::SMALL_ANSWERS)
    }
}

impl<T> KeptByKey<T> {
    /// How many small answers (a few kilobytes each) are kept by default.
    pub const SMALL_ANSWERS: usize = 256;

    /// Keeps at most `capacity` answers.
    pub fn with_capacity(capacity: usize) -> KeptByKey<T> {
        KeptByKey { slot: Mutex::new(None), capacity }
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
        if let Some((at, answers)) = self.slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if let Some(value) = answers.get(key).filter(|_| *at == version) {
                return Ok((Arc::clone(value), true));
            }
        }
        let value = Arc::new(load().await?);
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_mut() {
            // Answers of an older version go; one read at an older version than those kept is
            // served but not kept.
            Some((at, answers)) if *at == version && answers.len() < self.capacity => {
                answers.insert(key.to_owned(), Arc::clone(&value));
            }
            Some((at, _)) if *at > version => {}
            _ => *slot = Some((version, std::iter::once((key.to_owned(), Arc::clone(&value))).collect())),
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
        let kept = KeptByKey::<u32>::default();
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
    async fn the_answers_kept_are_bounded() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("k.db").display())).await.expect("a database");
        let kept = KeptByKey::<usize>::default();
        for i in 0..kept.capacity + 10 {
            kept.get(&db, &i.to_string(), || async move { Ok::<_, DbError>(i) }).await.expect("read");
        }
        let held = kept.slot.lock().expect("not poisoned").as_ref().map_or(0, |(_, a)| a.len());
        assert!(held > 0 && held <= kept.capacity, "{held} answers kept");
    }
}
