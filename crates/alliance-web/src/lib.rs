//! The Alliance web app: server-rendered HTML in the GOV.UK Design System's style, SVG
//! charts drawn on the server, and the JSON API. Handlers stay short: parse, call the
//! storage layer, render.

pub mod api;
mod assets;
pub mod auth;
mod error;
mod routes;
pub mod spatial;
mod state;
pub mod views;

use std::net::SocketAddr;

use alliance_db::Db;

pub use error::PageError;
pub use routes::router;
pub use state::AppState;

/// Serves the app on `addr` until Ctrl-C. Cookies are `Secure` unless `insecure_cookies`
/// or `addr` is a loopback address (see `auth::session`).
pub async fn serve(db: Db, addr: SocketAddr, insecure_cookies: bool) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Alliance is serving on http://{}", listener.local_addr()?);
    let state = AppState::new(db).with_secure_cookies(!(insecure_cookies || addr.ip().is_loopback()));
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
