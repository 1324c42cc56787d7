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

/// A new session for a user: what to store (its token's hash) and the `Set-Cookie` header
/// value carrying the token. The caller stores it with the change it belongs to
/// (`Db::sign_in`, `Db::change_password`), so the session and its audit row are one write.
pub struct Started {
    token_hash: String,
    csrf: String,
    expires_at: String,
    pub cookie: HeaderValue,
}

impl Started {
    /// What the storage layer stores for it.
    pub fn record<'a>(&'a self, user_id: i64, ip: &'a str) -> alliance_db::access::NewSession<'a> {
        alliance_db::access::NewSession {
            token_hash: &self.token_hash,
            user_id,
            csrf_token: &self.csrf,
            expires_at: &self.expires_at,
            ip,
        }
    }
}

/// Makes a session (not yet stored): a random token for the cookie, a CSRF token, and an
/// expiry [`SESSION_HOURS`] from now.
pub fn new_session(state: &AppState) -> Started {
    let token = random_token();
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    Started {
        token_hash: token_hash(&token),
        csrf: random_token(),
        expires_at: alliance_db::clock::stamp(expires),
        cookie: set_cookie(state, SESSION_COOKIE, &token, SESSION_HOURS * 3600),
    }
}

/// The hash of the request's session token, if it carries one.
pub fn current_token_hash(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(|token| token_hash(&token))
}

/// The header that deletes the session cookie.
pub fn cleared(state: &AppState) -> HeaderValue {
    set_cookie(state, SESSION_COOKIE, "", 0)
}

/// Appends a `Set-Cookie` header.
pub fn append(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}
