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
type Versioned<T> = ((i64, i64), Arc<T>);

/// One value and the data version it was read at.
pub struct Kept<T> {
    slot: Mutex<Option<Versioned<T>>>,
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
