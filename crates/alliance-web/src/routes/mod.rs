//! The router: every route of the app in one table.

mod api;
mod dashboard;
mod imports;

use axum::routing::get;
use axum::Router;

use crate::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard::get))
        .route("/imports", get(imports::get))
        .route("/api/v1/counts", get(api::counts::get))
        .route("/assets/{*path}", get(crate::assets::asset))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}
