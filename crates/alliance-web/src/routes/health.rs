//! Probes for a load balancer or an orchestrator, which the access guard passes straight on
//! ([`PATHS`]): no session, no cookie, no rate limit, no read of the partnership's profile
//! (the route table lists them as public).
//!
//! - `GET /healthz` (liveness): the process is up and answering; it touches no database, so a
//!   slow database never gets a healthy process restarted.
//! - `GET /readyz` (readiness): one round trip to the database, which must have every
//!   migration this binary knows and none newer; 503 otherwise, so traffic goes elsewhere.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;

use crate::AppState;

/// The probes' paths, which `auth::middleware::guard` lets through before anything else.
pub const PATHS: &[&str] = &["/healthz", "/readyz"];

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Response {
    no_store(Json(serde_json::json!({ "status": "ok" })).into_response())
}

async fn readyz(State(state): State<AppState>) -> Response {
    let r = state.db.readiness().await;
    let mut body = serde_json::json!({
        "status": if r.is_ready() { "ready" } else { "unready" },
        "schema": { "expected": r.expected_version, "database": r.database_version },
    });
    if let Some(problem) = &r.problem {
        body["problem"] = serde_json::Value::String(problem.clone());
    }
    let status = if r.is_ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    no_store((status, Json(body)).into_response())
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
