//! Errors of page handlers: anything unexpected is logged with an id and shown as a plain
//! "sorry" page that reveals nothing.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Db(#[from] alliance_db::DbError),
    #[error("template: {0}")]
    Render(#[from] askama::Error),
}

/// A short id to find the log line of an error a user reports.
pub(crate) fn error_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:08x}", (nanos as u64 ^ (nanos >> 64) as u64) & 0xffff_ffff)
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let id = error_id();
        tracing::error!(error_id = %id, error = %self, "page failed");
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sorry, there is a problem with the service</title>\
             <link rel=\"stylesheet\" href=\"/assets/govuk/govuk-frontend.min.css\"></head><body class=\"govuk-template__body\">\
             <main class=\"govuk-main-wrapper govuk-width-container\"><h1 class=\"govuk-heading-l\">Sorry, there is a problem with the service</h1>\
             <p class=\"govuk-body\">Try again later. If it keeps happening, give this reference to your administrator: <strong>{id}</strong>.</p></main></body></html>"
        );
        (StatusCode::INTERNAL_SERVER_ERROR, Html(body)).into_response()
    }
}
