//! The Alliance web app: server-rendered HTML in the GOV.UK Design System's style, SVG
//! charts drawn on the server, and the JSON API. Handlers stay short: parse, call the
//! storage layer, render.

mod assets;
pub mod auth;
pub mod error;
pub mod extract;
pub mod forms;
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

use std::net::SocketAddr;

use alliance_app::Disclosure;
use alliance_db::Db;

pub use error::{ApiError, PageError};
pub use routes::router;
pub use state::AppState;
pub use tiles::TileLayer;

/// Serves the app on `addr` until SIGTERM or Ctrl-C (see [`shutdown`]). Cookies are `Secure` unless `insecure_cookies`
/// or `addr` is a loopback address (see `auth::session`). Figures shown to readers without
/// record-level access are published under the partnership profile's threshold, or under
/// `disclosure` when one is given (an override, logged at start).
pub async fn serve(
    db: Db,
    addr: SocketAddr,
    insecure_cookies: bool,
    disclosure: Option<Disclosure>,
) -> std::io::Result<()> {
    serve_on(db, tokio::net::TcpListener::bind(addr).await?, insecure_cookies, disclosure, Vec::new()).await
}

/// Serves the app on a listener already bound (so a caller can bind port 0 and learn the
/// port before serving) until SIGTERM or Ctrl-C, finishing requests in flight; cookies and suppression as in [`serve`]. The client of
/// a request is the socket's peer, or the `X-Forwarded-For` address given by one of
/// `trusted_proxies` (see `auth::throttle::client_address`).
pub async fn serve_on(
    db: Db,
    listener: tokio::net::TcpListener,
    insecure_cookies: bool,
    disclosure: Option<Disclosure>,
    trusted_proxies: Vec<std::net::IpAddr>,
) -> std::io::Result<()> {
    serve_on_mailing(db, listener, insecure_cookies, disclosure, trusted_proxies, alliance_app::mail::Mailer::none())
        .await
}

/// [`serve_on`], sending notifications through `mailer` (`alliance serve --smtp-url`).
pub async fn serve_on_mailing(
    db: Db,
    listener: tokio::net::TcpListener,
    insecure_cookies: bool,
    disclosure: Option<Disclosure>,
    trusted_proxies: Vec<std::net::IpAddr>,
    mailer: alliance_app::mail::Mailer,
) -> std::io::Result<()> {
    serve_on_with_tiles(db, listener, insecure_cookies, disclosure, trusted_proxies, mailer, None, None).await
}

/// [`serve_on_mailing`], the maps drawn over `tiles` when given (`alliance serve --tiles`),
/// and postcode uploads bounded by `postcode_upload_limit` bytes when given (`alliance serve
/// --postcode-upload-limit-mb`).
#[allow(clippy::too_many_arguments)]
pub async fn serve_on_with_tiles(
    db: Db,
    listener: tokio::net::TcpListener,
    insecure_cookies: bool,
    disclosure: Option<Disclosure>,
    trusted_proxies: Vec<std::net::IpAddr>,
    mailer: alliance_app::mail::Mailer,
    tiles: Option<TileLayer>,
    postcode_upload_limit: Option<u64>,
) -> std::io::Result<()> {
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
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    shutdown::run_until_signal(|stop| axum::serve(listener, app).with_graceful_shutdown(stop).into_future()).await
}
