//! JSON API, version 1.

pub mod counts;
pub mod datasets;
pub mod openapi;
pub mod referrals;
pub mod uploads;

use crate::uploads::{Kind, MAX_PARTNER_UPLOAD};

/// Every JSON endpoint, under `/api/v1/`.
pub fn routes() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .route("/api/v1/counts", axum::routing::get(counts::get))
        .route("/api/v1/datasets", axum::routing::get(datasets::get))
        // The API contract and the page for partner developers (openapi.rs).
        .route("/api/v1/openapi.json", axum::routing::get(openapi::get))
        .route("/developers", axum::routing::get(openapi::page))
        .route(
            "/api/v1/imports/police",
            axum::routing::post(uploads::police).layer(axum::extract::DefaultBodyLimit::max(uploads::MAX_UPLOAD)),
        )
        // Partner files: each route names its dataset.
        .route(
            "/api/v1/imports/ed",
            axum::routing::post(|s, c, ip, q, body| uploads::partner(Kind::Ed, s, c, ip, q, body))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_PARTNER_UPLOAD)),
        )
        .route(
            "/api/v1/imports/indicators",
            axum::routing::post(|s, c, ip, q, body| uploads::partner(Kind::Indicators, s, c, ip, q, body))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_PARTNER_UPLOAD)),
        )
        .route(
            "/api/v1/referrals",
            axum::routing::post(referrals::create).layer(axum::extract::DefaultBodyLimit::max(referrals::MAX_BODY)),
        )
        .route(
            "/api/v1/referrals/{id}/events",
            axum::routing::post(referrals::event).layer(axum::extract::DefaultBodyLimit::max(referrals::MAX_BODY)),
        )
        .route("/api/v1/referrals/figures", axum::routing::get(referrals::figures))
}

pub use crate::error::ApiError;
