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
    /// The logo's version (its SHA-256), when there is one.
    logo: Option<String>,
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
                let logo = match db.partnership_logo_version().await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the partnership's logo");
                        None
                    }
                };
                if let Ok(mut c) = self.cached.write() {
                    *c = Cached { profile: profile.clone(), logo, read_at: Some(Instant::now()) };
                }
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

    /// The version of the logo (for its link, `/partnership/logo?v=…`), read with the
    /// profile and as fresh.
    pub async fn logo_version(&self, db: &Db) -> Option<String> {
        self.get(db).await;
        self.cached.read().ok().and_then(|c| c.logo.clone())
    }

    /// Records a profile this process has just stored (the logo as known).
    pub fn put(&self, profile: Option<Arc<Profile>>) {
        if let Ok(mut c) = self.cached.write() {
            c.profile = profile;
            c.read_at = Some(Instant::now());
        }
    }

    /// Records a logo this process has just stored or removed.
    pub fn put_logo(&self, version: Option<String>) {
        if let Ok(mut c) = self.cached.write() {
            c.logo = version;
        }
    }
}
