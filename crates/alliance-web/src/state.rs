use alliance_core::analytics::suppression::Suppression;
use std::sync::Arc;

use alliance_db::Db;

use crate::hotspot_cache::HotspotCache;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The partnership's name, shown in the header.
    pub partnership: String,
    /// Whether cookies carry `Secure` (see `auth::session`); true unless serving on loopback
    /// or told `--insecure-cookies`.
    pub secure_cookies: bool,
    /// Small-number suppression of partner data shown at aggregate level (threshold 5
    /// unless the server is started with another).
    pub suppression: Suppression,
    /// Hotspot analyses of the stored data, shared by the map page and its layer request.
    pub hotspot_cache: Arc<HotspotCache>,
}

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState {
            db,
            partnership: "Staffordshire and Stoke-on-Trent Violence Reduction Alliance".into(),
            secure_cookies: true,
            suppression: Suppression::default(),
            hotspot_cache: Arc::new(HotspotCache::new()),
        }
    }

    /// The same state with `Secure` cookies on or off.
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }

    /// The same state with another suppression threshold (counts below it are hidden).
    pub fn with_suppression_threshold(mut self, threshold: u64) -> AppState {
        self.suppression = Suppression::new(threshold.max(1));
        self
    }
}
