//! JSON API, version 1.

pub mod counts;
pub mod datasets;
pub mod uploads;

/// Every JSON endpoint, under `/api/v1/`.
pub fn routes() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .route("/api/v1/counts", axum::routing::get(counts::get))
        .route("/api/v1/datasets", axum::routing::get(datasets::get))
        .route(
            "/api/v1/imports/police",
            axum::routing::post(uploads::police).layer(axum::extract::DefaultBodyLimit::max(uploads::MAX_UPLOAD)),
        )
        .route(
            "/api/v1/imports/ed",
            axum::routing::post(uploads::ed)
                .layer(axum::extract::DefaultBodyLimit::max(crate::uploads::MAX_PARTNER_UPLOAD)),
        )
        .route(
            "/api/v1/imports/indicators",
            axum::routing::post(uploads::indicators)
                .layer(axum::extract::DefaultBodyLimit::max(crate::uploads::MAX_PARTNER_UPLOAD)),
        )
}

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An API error as a JSON problem: `{"error": "…"}`; unexpected ones are logged with an id.
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Internal(String),
}

impl From<alliance_db::DbError> for ApiError {
    fn from(e: alliance_db::DbError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(message) => {
                (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": message }))).into_response()
            }
            ApiError::Internal(message) => {
                let id = crate::error::error_id();
                tracing::error!(error_id = %id, error = %message, "API request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(serde_json::json!({ "error": "internal error", "reference": id })),
                )
                    .into_response()
            }
        }
    }
}
