//! The web layer's errors: one type for pages ([`PageError`]) and one for the JSON API
//! ([`ApiError`]), each with one `IntoResponse`.
//!
//! Handlers return them with small constructors (`not_found()`, `forbidden(why)`,
//! `bad_request(..)`, `invalid(field, reason)`, `conflict(..)`) or by `?` from the layers
//! below, whose input errors keep their meaning (a storage `NotFound` is a 404 page). Pages
//! are rendered in the service's layout in its own words (text is escaped by the template);
//! the API answers with an RFC 9457 problem document. Anything unexpected is logged with a
//! short id and shown only as "Sorry, there is a problem with the service" with that id.

use alliance_app::AppError;
use alliance_db::DbError;
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::views::public::PublicLayout;
use crate::views::Layout;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    /// The signed-in user may not do this; the reason is shown to them.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request itself is malformed (a bad link, a tampered form); the message is shown.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Input that breaks a rule where there is no form to show it on (a 422 page).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Valid input that clashes with what is stored.
    #[error("conflict: {0}")]
    Conflict(String),
    /// More than Alliance accepts (bytes, rows, cells); the bound is named.
    #[error("too large: {0}")]
    TooLarge(String),
    #[error(transparent)]
    Db(DbError),
    #[error("template: {0}")]
    Render(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
}

/// The page for a link to something that does not exist.
pub fn not_found() -> PageError {
    PageError::NotFound
}

/// The page refusing a signed-in user, saying why in plain words.
pub fn forbidden(why: impl Into<String>) -> PageError {
    PageError::Forbidden(why.into())
}

pub fn bad_request(why: impl Into<String>) -> PageError {
    PageError::BadRequest(why.into())
}

pub fn invalid(field: &'static str, reason: impl Into<String>) -> PageError {
    PageError::Invalid { field, reason: reason.into() }
}

pub fn conflict(why: impl Into<String>) -> PageError {
    PageError::Conflict(why.into())
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> PageError {
        match e {
            DbError::Invalid { field, reason } => PageError::Invalid { field, reason },
            DbError::NotFound { .. } => PageError::NotFound,
            DbError::Conflict { reason, .. } => PageError::Conflict(reason),
            other => PageError::Db(other),
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        match e {
            AppError::Invalid { field, reason } => PageError::Invalid { field, reason },
            AppError::NotFound { .. } => PageError::NotFound,
            AppError::Forbidden { reason } => PageError::Forbidden(reason),
            AppError::Conflict { reason, .. } => PageError::Conflict(reason),
            AppError::TooLarge { reason } => PageError::TooLarge(reason),
            AppError::Db(e) => PageError::from(e),
            AppError::Internal(what) => PageError::Internal(what),
        }
    }
}

/// A short id to find the log line of an error a user reports.
pub(crate) fn error_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:08x}", (nanos as u64 ^ (nanos >> 64) as u64) & 0xffff_ffff)
}

/// What an error page says.
struct ErrorText {
    status: StatusCode,
    title: &'static str,
    paragraphs: Vec<String>,
}

impl PageError {
    fn text(&self) -> ErrorText {
        let one = |status, title, p: String| ErrorText { status, title, paragraphs: vec![p] };
        match self {
            PageError::NotFound => one(
                StatusCode::NOT_FOUND,
                "Page not found",
                "If you typed the web address, check it is correct. If you followed a link, what it points to may have been removed.".into(),
            ),
            PageError::Forbidden(why) => one(StatusCode::FORBIDDEN, "You cannot do this", why.clone()),
            PageError::BadRequest(why) => one(StatusCode::BAD_REQUEST, "There is a problem with the request", why.clone()),
            PageError::Invalid { reason, .. } => {
                one(StatusCode::UNPROCESSABLE_ENTITY, "There is a problem with what was entered", reason.clone())
            }
            PageError::Conflict(why) => one(StatusCode::CONFLICT, "This clashes with what is stored", why.clone()),
            PageError::TooLarge(why) => one(StatusCode::PAYLOAD_TOO_LARGE, "This is more than Alliance accepts", why.clone()),
            PageError::Db(_) | PageError::Render(_) | PageError::Internal(_) => {
                let id = error_id();
                tracing::error!(error_id = %id, error = %self, "page failed");
                ErrorText {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    title: "Sorry, there is a problem with the service",
                    paragraphs: vec![
                        "Try again later.".into(),
                        format!("If it keeps happening, give this reference to your administrator: {id}."),
                    ],
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct StaffErrorPage {
    layout: Layout,
    title: &'static str,
    paragraphs: Vec<String>,
}

#[derive(Template)]
#[template(path = "public/error.html")]
struct PublicErrorPage {
    layout: PublicLayout,
    title: &'static str,
    paragraphs: Vec<String>,
}

/// The error page in the layout of whoever asked: the staff layout when someone is signed
/// in, the public site's otherwise.
pub(crate) fn error_page(status: StatusCode, title: &'static str, paragraphs: Vec<String>) -> Response {
    error_page_for(crate::auth::current(), status, title, paragraphs)
}

/// [`error_page`] for a request whose context is not (yet) in scope: the access guard's.
pub(crate) fn error_page_for(
    context: crate::auth::RequestContext,
    status: StatusCode,
    title: &'static str,
    paragraphs: Vec<String>,
) -> Response {
    let rendered = if matches!(context.principal, Some(crate::auth::Principal::User(_))) {
        StaffErrorPage { layout: Layout::from_context(context, ""), title, paragraphs }.render()
    } else {
        PublicErrorPage { layout: PublicLayout::from_context(context, ""), title, paragraphs }.render()
    };
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        // The error templates take only text, so they cannot fail; if they did, plain text.
        Err(_) => (status, title).into_response(),
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let text = self.text();
        error_page(text.status, text.title, text.paragraphs)
    }
}

/// Why a JSON API request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed request (a missing or unreadable parameter).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// Nothing exists at the address, saying what was looked for ("intervention 1 has no
    /// evaluation 99999").
    #[error("{0}")]
    NoSuch(String),
    /// Input that breaks a rule; `field` names the parameter or field.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Invalid { field, reason } => ApiError::Invalid { field, reason },
            DbError::NotFound { .. } => ApiError::NotFound,
            DbError::Conflict { reason, .. } => ApiError::Conflict(reason),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::Invalid { field, reason } => ApiError::Invalid { field, reason },
            AppError::NotFound { .. } => ApiError::NotFound,
            AppError::Forbidden { reason } => ApiError::Forbidden(reason),
            AppError::Conflict { reason, .. } => ApiError::Conflict(reason),
            AppError::TooLarge { reason } => ApiError::TooLarge(reason),
            AppError::Db(e) => ApiError::from(e),
            AppError::Internal(what) => ApiError::Internal(what),
        }
    }
}

/// An RFC 9457 problem document (`application/problem+json`): `title` says what kind of
/// problem, `detail` this occurrence; `field` names the parameter at fault when there is one.
pub fn problem(status: StatusCode, title: &str, detail: &str, field: Option<&str>) -> Response {
    let mut body =
        serde_json::json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail });
    if let Some(field) = field {
        body["field"] = serde_json::Value::from(field);
    }
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(detail) => problem(StatusCode::BAD_REQUEST, "Bad request", &detail, None),
            ApiError::Forbidden(detail) => problem(StatusCode::FORBIDDEN, "Forbidden", &detail, None),
            ApiError::NotFound => problem(StatusCode::NOT_FOUND, "Not found", "nothing exists at this address", None),
            ApiError::NoSuch(detail) => problem(StatusCode::NOT_FOUND, "Not found", &detail, None),
            ApiError::Invalid { field, reason } => {
                problem(StatusCode::UNPROCESSABLE_ENTITY, "Invalid input", &reason, Some(field))
            }
            ApiError::Conflict(detail) => problem(StatusCode::CONFLICT, "Conflict", &detail, None),
            ApiError::TooLarge(detail) => problem(StatusCode::PAYLOAD_TOO_LARGE, "Too large", &detail, None),
            ApiError::Internal(message) => {
                let id = error_id();
                tracing::error!(error_id = %id, error = %message, "API request failed");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    &format!("something went wrong inside Alliance; reference {id}"),
                    None,
                )
            }
        }
    }
}
