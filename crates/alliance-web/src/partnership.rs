//! The partnership's profile as the pages show it, read from the database and kept for a
//! few seconds so a page costs no extra query, while a change made on another instance
//! shows within [`FRESH_FOR`].

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use alliance_core::partnership::Profile;
use alliance_db::Db;

/// How long a profile read is used before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// The name shown before a partnership is set up (the set-up page, a fresh database).
pub const UNNAMED: &str = "Alliance";

#[derive(Default)]
struct Cached {
    profile: Option<Arc<Profile>>,
    read_at: Option<Instant>,
}

/// The current profile, shared by every request of this process.
#[derive(Clone, Default)]
pub struct CurrentPartnership {
    cached: Arc<RwLock<Cached>>,
}

impl CurrentPartnership {
    /// The profile, read again when the last read is older than [`FRESH_FOR`]. A failed read
    /// keeps the last profile known (and is logged): a page header is no reason to fail.
    pub async fn get(&self, db: &Db) -> Option<Arc<Profile>> {
        if let Ok(c) = self.cached.read() {
            if c.read_at.is_some_and(|at| at.elapsed() < FRESH_FOR) {
                return c.profile.clone();
            }
        }
        match db.partnership().await {
            Ok(profile) => {
                let profile = profile.map(Arc::new);
                self.put(profile.clone());
                profile
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the partnership's profile");
                self.cached.read().ok().and_then(|c| c.profile.clone())
            }
        }
    }

    /// The name for page headers and titles.
    pub async fn name(&self, db: &Db) -> String {
        self.get(db).await.map_or_else(|| UNNAMED.to_string(), |p| p.name.clone())
    }

    /// Records a profile this process has just stored.
    pub fn put(&self, profile: Option<Arc<Profile>>) {
        if let Ok(mut c) = self.cached.write() {
            *c = Cached { profile, read_at: Some(Instant::now()) };
        }
    }
}
