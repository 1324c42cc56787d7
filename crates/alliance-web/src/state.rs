use std::net::IpAddr;
use std::sync::Arc;

use alliance_app::spatial::HotspotCache;
use alliance_app::Disclosure;
use alliance_db::Db;

use crate::auth::throttle::Throttle;

/// Strategic Needs Assessments kept at most: a report of a large area holds a row per LSOA
/// (a megabyte or two), so a few dozen, not hundreds.
const KEPT_SNA_REPORTS: usize = 24;
/// Counts API answers kept at most, and their bytes: a count by LSOA and month of a national
/// archive is megabytes, so the bytes bound them as well as the number.
const KEPT_COUNTS: usize = 256;
const KEPT_COUNTS_BYTES: usize = 32 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The partnership's profile (name in every header, area, forces, contacts).
    pub partnership: crate::partnership::CurrentPartnership,
    /// Whether cookies carry `Secure` (see `auth::session`); true unless serving on loopback
    /// or told `--insecure-cookies`.
    pub secure_cookies: bool,
    /// A disclosure policy that overrides the partnership profile's (`alliance serve
    /// --suppression-threshold`, tests); `None` in a normal deployment, where the profile's
    /// threshold is the one in force (see [`AppState::disclosure`]).
    pub disclosure_override: Option<Disclosure>,
    /// Hotspot analyses of the stored data, shared by the map page and its layer request.
    pub hotspot_cache: Arc<HotspotCache>,
    /// The analyses each caller runs at once (`heavy`): a cap, so one caller cannot take
    /// every core.
    pub heavy: Arc<crate::heavy::HeavyWork>,
    /// Sign-in and public-form throttles (limits kept in the database, shared by servers).
    pub throttle: Arc<Throttle>,
    /// Proxies whose `X-Forwarded-For` names the client (`alliance serve --trusted-proxy`);
    /// from anyone else the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// E-mail through the configured SMTP relay (`serve --smtp-url`); logs instead when none.
    pub mailer: Arc<alliance_app::mail::Mailer>,
    /// Rendered public pages, kept until the stored data changes (`public_cache`).
    pub public_cache: Arc<crate::public_cache::PublicCache>,
    /// The tile server the maps draw under their layers (`serve --tiles`); `None`: offline.
    pub tiles: Option<Arc<crate::tiles::TileLayer>>,
    /// The largest postcode file `/admin/postcodes` accepts, in bytes (`serve
    /// --postcode-upload-limit-mb`; 2 GiB by default, room for the national ONSPD).
    pub postcode_upload_limit: u64,
    /// The report form's place list and postcode flag, read again when the data changes.
    pub report_choices: Arc<crate::kept::Kept<crate::routes::ReportChoices>>,
    /// The dashboard's figures of the stored data, kept until the data changes.
    pub dashboard: Arc<crate::kept::Kept<crate::views::dashboard::DashboardFigures>>,
    /// The crime types held, for the map's filter (a grouping of the whole count summary:
    /// 20–25 ms on 20 million records, most of a cached map's cost).
    pub crime_types: Arc<crate::kept::Kept<Vec<String>>>,
    /// Answers of the counts API (`routes/api/counts.rs`), each kept until the data changes.
    pub counts: Arc<crate::kept::KeptByKey<axum::body::Bytes>>,
    /// Strategic Needs Assessments (`routes/sna.rs`), each kept until the data changes.
    pub sna: Arc<crate::kept::KeptByKey<alliance_app::sna::SnaReport>>,
}

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState {
            db,
            partnership: crate::partnership::CurrentPartnership::default(),
            secure_cookies: true,
            disclosure_override: None,
            hotspot_cache: Arc::new(HotspotCache::new()),
            heavy: Arc::default(),
            throttle: Arc::new(Throttle::default()),
            trusted_proxies: Vec::new(),
            mailer: Arc::new(alliance_app::mail::Mailer::none()),
            public_cache: Arc::new(crate::public_cache::PublicCache::default()),
            tiles: None,
            postcode_upload_limit: crate::routes::DEFAULT_POSTCODE_UPLOAD_LIMIT,
            report_choices: Arc::default(),
            dashboard: Arc::default(),
            crime_types: Arc::default(),
            counts: Arc::new(crate::kept::KeptByKey::new(KEPT_COUNTS, KEPT_COUNTS_BYTES, axum::body::Bytes::len)),
            sna: Arc::new(crate::kept::KeptByKey::new(KEPT_SNA_REPORTS, usize::MAX, |_| 0)),
        }
    }

    /// The same state with another bound on a postcode file's upload (bytes).
    pub fn with_postcode_upload_limit(mut self, bytes: u64) -> AppState {
        self.postcode_upload_limit = bytes;
        self
    }

    /// The same state with `Secure` cookies on or off.
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }

    /// The same state believing `X-Forwarded-For` from these proxies only.
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpAddr>) -> AppState {
        self.trusted_proxies = proxies;
        self
    }

    /// The same state sending mail through `mailer`.
    pub fn with_mailer(mut self, mailer: alliance_app::mail::Mailer) -> AppState {
        self.mailer = Arc::new(mailer);
        self
    }

    /// The same state drawing the maps over `tiles` (and allowing its images in the policy).
    pub fn with_tiles(mut self, tiles: crate::tiles::TileLayer) -> AppState {
        self.tiles = Some(Arc::new(tiles));
        self
    }

    /// The same state with a disclosure policy that overrides the profile's.
    pub fn with_disclosure(mut self, disclosure: Disclosure) -> AppState {
        self.disclosure_override = Some(disclosure);
        self
    }

    /// The disclosure policy every figure shown to readers without record-level access
    /// passes through: the override if one was given, else the partnership profile's
    /// threshold (read through the profile cache, so a change on `/admin/partnership` or by
    /// `alliance partnership set` applies within `partnership::FRESH_FOR`), else the default.
    pub async fn disclosure(&self) -> Disclosure {
        if let Some(d) = self.disclosure_override {
            return d;
        }
        let threshold = self.partnership.get(&self.db).await.map(|p| p.threshold());
        threshold.and_then(|t| Disclosure::new(t).ok()).unwrap_or_default()
    }
}
