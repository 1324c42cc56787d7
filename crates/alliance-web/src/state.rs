use std::sync::Arc;

use alliance_app::Disclosure;
use alliance_db::Db;

use alliance_app::spatial::HotspotCache;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The partnership's name, shown in the header.
    pub partnership: String,
    /// Whether cookies carry `Secure` (see `auth::session`); true unless serving on loopback
    /// or told `--insecure-cookies`.
    pub secure_cookies: bool,
    /// The disclosure policy every figure shown to readers without record-level access
    /// passes through.
    pub disclosure: Disclosure,
    /// Hotspot analyses of the stored data, shared by the map page and its layer request.
    pub hotspot_cache: Arc<HotspotCache>,
}

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState {
            db,
            partnership: "Staffordshire and Stoke-on-Trent Violence Reduction Alliance".into(),
            secure_cookies: true,
            disclosure: Disclosure::default(),
            hotspot_cache: Arc::new(HotspotCache::new()),
        }
    }

    /// The same state with `Secure` cookies on or off.
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }

    /// The same state with another disclosure policy.
    pub fn with_disclosure(mut self, disclosure: Disclosure) -> AppState {
        self.disclosure = disclosure;
        self
    }
}
