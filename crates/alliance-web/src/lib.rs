//! The Alliance web app: server-rendered HTML in the GOV.UK Design System's style, SVG
//! charts drawn on the server, and the JSON API. Handlers stay short: parse, call the
//! storage layer, render.

mod assets;
pub mod auth;
pub mod error;
pub mod extract;
pub mod forms;
pub mod heavy;
mod kept;
pub mod partnership;
pub mod public_cache;
mod request_log;
mod routes;
mod security_headers;
pub mod shutdown;
mod state;
pub mod tiles;
pub mod uploads;
pub mod views;
pub mod warm;

use std::net::SocketAddr;

use alliance_app::Disclosure;
use alliance_db::Db;

pub use error::{ApiError, PageError};
pub use routes::router;
pub use state::AppState;
pub use tiles::TileLayer;

/// How to serve: what `alliance serve`'s options set. [`ServeOptions::default`] is cookies
/// `Secure` unless on a loopback address, the partnership profile's threshold, no trusted
/// proxy, notifications logged (no relay), the maps without tiles, the default upload bound.
pub struct ServeOptions {
    /// Cookies without `Secure` even on a public address (see `auth::session`).
    pub insecure_cookies: bool,
    /// The suppression threshold, overriding the partnership profile's (logged at start).
    pub disclosure: Option<Disclosure>,
    /// Proxies whose `X-Forwarded-For` names the client (see `auth::throttle::client_address`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where notifications go (`alliance serve --smtp-url`).
    pub mailer: alliance_app::mail::Mailer,
    /// The tile server the maps draw over (`alliance serve --tiles`).
    pub tiles: Option<TileLayer>,
    /// The bound of postcode uploads in bytes (`alliance serve --postcode-upload-limit-mb`).
    pub postcode_upload_limit: Option<u64>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            insecure_cookies: false,
            disclosure: None,
            trusted_proxies: Vec::new(),
            mailer: alliance_app::mail::Mailer::none(),
            tiles: None,
            postcode_upload_limit: None,
        }
    }
}

/// Serves the app on a listener already bound (so a caller can bind port 0 and learn the
/// port before serving) until SIGTERM or Ctrl-C (see [`shutdown`]), finishing requests in
/// flight. Cookies are `Secure` unless `options.insecure_cookies` or the listener's address is
/// a loopback address. Figures shown to readers without record-level access are published
/// under the partnership profile's threshold, or under `options.disclosure` when one is given.
pub async fn serve_on(db: Db, listener: tokio::net::TcpListener, options: ServeOptions) -> std::io::Result<()> {
    let ServeOptions { insecure_cookies, disclosure, trusted_proxies, mailer, tiles, postcode_upload_limit } = options;
    let addr = listener.local_addr()?;
    tracing::info!("Alliance is serving on http://{addr}");
    let mut state = AppState::new(db)
        .with_secure_cookies(!(insecure_cookies || addr.ip().is_loopback()))
        .with_trusted_proxies(trusted_proxies)
        .with_mailer(mailer);
    if let Some(d) = disclosure {
        tracing::warn!(
            threshold = d.threshold(),
            "the suppression threshold given on the command line overrides the partnership profile's"
        );
        state = state.with_disclosure(d);
    }
    if let Some(t) = tiles {
        tracing::info!(origin = t.origin(), "the maps draw tiles from this server");
        state = state.with_tiles(t);
    }
    if let Some(bytes) = postcode_upload_limit {
        state = state.with_postcode_upload_limit(bytes);
    }
    use std::future::IntoFuture;
    // The street index and the default map, made ready at start and after each import.
    tokio::spawn(warm::keep_warm(state.clone()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    shutdown::run_until_signal(|stop| axum::serve(listener, app).with_graceful_shutdown(stop).into_future()).await
}
