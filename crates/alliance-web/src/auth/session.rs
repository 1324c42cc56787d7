//! Server-side sessions: the cookie carries a random 256-bit token; the database keeps only
//! its SHA-256, the user, an expiry (12 hours after sign-in) and the session's CSRF token.
//!
//! Cookies are `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` unless the server was
//! started with `--insecure-cookies` or binds to a loopback address (a browser talking
//! plain HTTP to 127.0.0.1 would otherwise drop them); see `alliance serve --help`.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};

use super::{random_token, token_hash};
use crate::AppState;

pub const SESSION_COOKIE: &str = "alliance_session";
/// Holds the CSRF token of a visitor not yet signed in (for the sign-in form).
pub const ANONYMOUS_CSRF_COOKIE: &str = "alliance_csrf";
pub const SESSION_HOURS: i64 = 12;

/// The value of a cookie in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with Alliance's flags; `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Starts a session for a user: stores it and returns the `Set-Cookie` header value.
pub async fn start(state: &AppState, user_id: i64, ip: &str) -> Result<HeaderValue, alliance_db::DbError> {
    let token = random_token();
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    state
        .db
        .create_session(
            &token_hash(&token),
            user_id,
            &random_token(),
            &expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ip,
        )
        .await?;
    Ok(set_cookie(state, SESSION_COOKIE, &token, SESSION_HOURS * 3600))
}

/// Ends the request's session, if any, and returns the header that deletes the cookie.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, alliance_db::DbError> {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        state.db.delete_session(&token_hash(&token)).await?;
    }
    Ok(set_cookie(state, SESSION_COOKIE, "", 0))
}

/// Appends a `Set-Cookie` header.
pub fn append(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}
