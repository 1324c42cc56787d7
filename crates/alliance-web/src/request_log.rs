//! One log line per request: method, path, matched route, status and latency. The path is
//! logged without its query string (a search for a street or a filter may name a place or a
//! person), and no header, cookie or body is logged. Under target `alliance_web::request`, so
//! an operator can turn it down (`ALLIANCE_LOG=info,alliance_web::request=warn`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    // At debug level, the start too: which requests were in flight when something stopped.
    tracing::debug!(target: "alliance_web::request", method = %method, path = %path, "request started");
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "alliance_web::request",
        method = %method,
        path = %path,
        route = route.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        latency_ms = (latency_ms * 1000.0).round() / 1000.0,
        "request"
    );
    response
}
