//! The guard applied to the whole router: identifies the caller, looks the route up in the
//! table, refuses what the table does not admit, and checks the CSRF token of every POST.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::access::{decide, rule, Decision};
use super::session::{cookie, set_cookie, ANONYMOUS_CSRF_COOKIE, SESSION_COOKIE};
use super::{random_token, same_secret, token_hash, ClientIp, CsrfToken, Principal, RequestContext, REQUEST};
use crate::AppState;

/// The largest form body read to find the CSRF field (forms, not uploads).
const FORM_LIMIT: usize = 1 << 20;

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());

    let partnership = state.partnership.name(&state.db).await;
    let nobody = Who { principal: None, partnership: &partnership };

    // 1. Who is asking.
    let mut principal = None;
    let mut session_csrf = None;
    let bearer = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(token) = bearer {
        if !is_api {
            return refuse(StatusCode::UNAUTHORIZED, true, "API tokens are accepted only under /api/", &nobody);
        }
        match state.db.use_api_token(&token_hash(&token)).await {
            Ok(Some(t)) => principal = Some(Principal::Token(t)),
            Ok(None) => {
                return refuse(StatusCode::UNAUTHORIZED, true, "the API token is not valid or was revoked", &nobody)
            }
            Err(e) => return internal(e),
        }
    } else if let Some(token) = cookie(request.headers(), SESSION_COOKIE) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        match state.db.session_user(&token_hash(&token), &now).await {
            Ok(Some((user, csrf))) => {
                principal = Some(Principal::User(user));
                session_csrf = Some(csrf);
            }
            Ok(None) => {}
            Err(e) => return internal(e),
        }
    }

    let who = Who { principal: principal.clone(), partnership: &partnership };

    // 2 and 3. The route table.
    let pattern = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let entry = pattern.as_deref().and_then(|p| rule(request.method().as_str(), p));
    match decide(entry, principal.as_ref()) {
        Decision::Allow => {}
        Decision::SignIn if is_api => {
            return refuse(StatusCode::UNAUTHORIZED, true, "sign in or give an API token", &who)
        }
        Decision::SignIn => {
            // A fresh deployment has nobody to sign in: its first visitor sets it up.
            let target = match state.db.has_users().await {
                Ok(false) => "/setup",
                _ => "/sign-in",
            };
            return (StatusCode::SEE_OTHER, [(LOCATION, target)]).into_response();
        }
        Decision::Forbidden => return refuse(StatusCode::FORBIDDEN, is_api, "you do not have access to this", &who),
    }

    // The CSRF token of this request: the session's, or an anonymous visitor's cookie.
    let mut new_anonymous_csrf = None;
    let csrf = match (&principal, session_csrf) {
        (_, Some(csrf)) => csrf,
        (Some(Principal::Token(_)), None) => String::new(),
        _ => match cookie(request.headers(), ANONYMOUS_CSRF_COOKIE).filter(|c| c.len() == 64) {
            Some(c) => c,
            None => {
                let c = random_token();
                new_anonymous_csrf = Some(c.clone());
                c
            }
        },
    };

    // 4. CSRF on every state-changing request not made with an API token.
    let mut request = request;
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !matches!(principal, Some(Principal::Token(_))) {
        let (ok, rebuilt) = check_csrf(request, &csrf).await;
        let Some(rebuilt) = rebuilt else {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, is_api, "the form is too large", &who);
        };
        if !ok || new_anonymous_csrf.is_some() {
            return refuse(
                StatusCode::FORBIDDEN,
                is_api,
                "the form's security token is missing or out of date: reload the page and try again",
                &who,
            );
        }
        request = rebuilt;
    }

    if let Some(p) = &principal {
        request.extensions_mut().insert(p.clone());
    }
    request.extensions_mut().insert(ClientIp(ip.clone()));
    request.extensions_mut().insert(CsrfToken(csrf.clone()));
    let context = RequestContext { principal, partnership: partnership.clone(), csrf: csrf.clone(), ip };
    let mut response = REQUEST.scope(context, next.run(request)).await;
    if let Some(c) = new_anonymous_csrf {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, set_cookie(&state, ANONYMOUS_CSRF_COOKIE, &c, 12 * 3600));
    }
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}

/// Checks the `X-CSRF-Token` header, or the `csrf_token` field of a URL-encoded or
/// multipart form (the body is read and put back). Returns whether it matched, and the
/// request (`None` when the form was too large to read).
async fn check_csrf(request: Request, expected: &str) -> (bool, Option<Request>) {
    if let Some(given) = request.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        let ok = !expected.is_empty() && same_secret(given, expected);
        return (ok, Some(request));
    }
    let content_type =
        request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if content_type.starts_with("multipart/form-data") {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, crate::uploads::MAX_PARTNER_UPLOAD).await else {
            return (false, None);
        };
        let given = multipart_field(&content_type, bytes.clone(), "csrf_token").await;
        let ok = !expected.is_empty() && given.is_some_and(|g| same_secret(&g, expected));
        return (ok, Some(Request::from_parts(parts, Body::from(bytes))));
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return (false, Some(request));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else { return (false, None) };
    let given = form_urlencoded_field(&bytes, "csrf_token");
    let ok = !expected.is_empty() && given.is_some_and(|g| same_secret(&g, expected));
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

/// One text field of a multipart form body (read from a copy, so the handler still gets
/// the whole body). Forms put `csrf_token` first, so the file after it is not parsed here.
async fn multipart_field(content_type: &str, body: axum::body::Bytes, name: &str) -> Option<String> {
    use axum::extract::FromRequest;
    let copy = Request::builder().header(CONTENT_TYPE, content_type).body(Body::from(body)).ok()?;
    let mut form = axum::extract::Multipart::from_request(copy, &()).await.ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// One field of a URL-encoded form body.
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let fields: Vec<(String, String)> = serde_urlencoded_pairs(text);
    fields.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn serde_urlencoded_pairs(text: &str) -> Vec<(String, String)> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{text}").parse().unwrap_or_else(|_| axum::http::Uri::from_static("/")),
    )
    .map(|q| q.0)
    .unwrap_or_default()
}

/// Who the guard has found so far, for the layout of a refusal page.
struct Who<'a> {
    principal: Option<Principal>,
    partnership: &'a str,
}

/// A refusal by the guard: a problem document on the API, the service's error page
/// otherwise (in the layout of whoever asked).
fn refuse(status: StatusCode, json: bool, message: &str, who: &Who) -> Response {
    if json {
        let title = status.canonical_reason().unwrap_or("Refused");
        crate::error::problem(status, title, message, None)
    } else {
        let title = if status == StatusCode::FORBIDDEN { "You do not have access to this page" } else { "Sorry" };
        let mut sentence = message.to_string();
        if let Some(first) = sentence.get(0..1) {
            sentence.replace_range(0..1, &first.to_uppercase());
        }
        let context = RequestContext {
            principal: who.principal.clone(),
            partnership: who.partnership.to_string(),
            csrf: String::new(),
            ip: String::new(),
        };
        crate::error::error_page_for(context, status, title, vec![format!("{sentence}.")])
    }
}

fn internal(e: alliance_db::DbError) -> Response {
    crate::error::PageError::Db(e).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_field_is_found_and_decoded() {
        assert_eq!(form_urlencoded_field(b"a=1&csrf_token=ab%2Bc&b=2", "csrf_token").as_deref(), Some("ab+c"));
        assert_eq!(form_urlencoded_field(b"a=1", "csrf_token"), None);
    }
}
