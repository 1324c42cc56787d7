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

/// The largest URL-encoded form body a public route (one anyone may use) accepts: room for
/// the charter application (six commitments described in up to 2,000 characters each).
pub const PUBLIC_FORM_LIMIT: usize = 64 * 1024;
/// The largest URL-encoded form body any other route accepts.
pub const FORM_LIMIT: usize = 1 << 20;
/// The most of a multipart body read to find its `csrf_token` field, which Alliance's forms
/// put first; the rest (the file) streams on to the handler unread.
pub const MULTIPART_PREFIX_LIMIT: usize = 16 * 1024;

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    // The probes (routes/health.rs, public in the table): a load balancer polls them, so they
    // read no session or profile and set no cookie.
    if matches!(*request.method(), Method::GET | Method::HEAD) && crate::routes::health::PATHS.contains(&path.as_str())
    {
        return next.run(request).await;
    }
    let is_api = path.starts_with("/api/");
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = super::throttle::client_address(peer, request.headers(), &state.trusted_proxies)
        .map_or_else(|| "unknown".to_string(), |ip| ip.to_string());

    let profile = state.partnership.get(&state.db).await;
    let partnership = profile.as_ref().map_or_else(|| crate::partnership::UNNAMED.to_string(), |p| p.name.clone());
    let accent =
        profile.as_ref().map_or_else(|| alliance_core::partnership::Colour::default().hex(), |p| p.colour.hex());
    let nobody = Who { principal: None, partnership: &partnership, accent };

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
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    true,
                    "the API token is not valid, has expired or was revoked",
                    &nobody,
                )
            }
            Err(e) => return internal(e),
        }
    } else if let Some(token) = cookie(request.headers(), SESSION_COOKIE) {
        let now = alliance_db::clock::now();
        match state.db.session_user(&token_hash(&token), &now).await {
            Ok(Some((user, csrf))) => {
                principal = Some(Principal::User(user));
                session_csrf = Some(csrf);
            }
            Ok(None) => {}
            Err(e) => return internal(e),
        }
    }

    let who = Who { principal: principal.clone(), partnership: &partnership, accent };

    // 2 and 3. The route table.
    let pattern = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let entry = pattern.as_deref().and_then(|p| rule(request.method().as_str(), p));
    let form_limit = match entry.map(|r| r.allow) {
        Some(super::access::Allow::Public) | None => PUBLIC_FORM_LIMIT,
        Some(super::access::Allow::Roles(_)) => FORM_LIMIT,
    };
    // A route that exists, asked with a method it does not have: 405 with the methods it has
    // (to a caller who is signed in or has a token; to anyone else the answer stays the
    // sign-in, as below, so the app's addresses cannot be mapped anonymously).
    if let (Some(p), None, Some(_)) = (pattern.as_deref(), entry, principal.as_ref()) {
        let allowed = super::access::methods(p);
        if !allowed.is_empty() {
            let message = format!("this address answers {} only", allowed.join(" and "));
            let mut response = refuse(StatusCode::METHOD_NOT_ALLOWED, is_api, &message, &who);
            if let Ok(value) = allowed.join(", ").parse() {
                response.headers_mut().insert(axum::http::header::ALLOW, value);
            }
            return response;
        }
    }
    match decide(entry, principal.as_ref()) {
        Decision::Allow => {}
        Decision::SignIn if is_api => {
            return refuse(StatusCode::UNAUTHORIZED, true, "sign in or give an API token", &who)
        }
        Decision::SignIn => {
            // A fresh deployment has nobody to sign in: its first visitor sets it up.
            let target = match state.db.has_users().await {
                Ok(false) => "/setup".to_string(),
                // A page asked for by its address (a link in an email, a bookmark) is where the
                // sign-in returns to; a form sent without a session is not repeated.
                _ => match request.uri().path_and_query().map(|p| p.as_str()) {
                    Some(asked) if request.method() == axum::http::Method::GET && asked != "/" => {
                        let query = serde_urlencoded::to_string([("next", asked)]).unwrap_or_default();
                        format!("/sign-in?{query}")
                    }
                    _ => "/sign-in".to_string(),
                },
            };
            return (StatusCode::SEE_OTHER, [(LOCATION, target)]).into_response();
        }
        // No route at this address: a signed-in caller is told so (to anyone else the
        // answer stays the sign-in, so the app's addresses cannot be mapped anonymously).
        Decision::Forbidden if pattern.is_none() => {
            return refuse(StatusCode::NOT_FOUND, is_api, "there is nothing at this address", &who)
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
        let (ok, rebuilt) = check_csrf(request, &csrf, form_limit).await;
        let Some(rebuilt) = rebuilt else {
            let message = format!(
                "the form is larger than Alliance accepts here ({} KB): shorten what was typed and send it again",
                form_limit / 1024
            );
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, is_api, &message, &who);
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
    let logo = state.partnership.logo_version(&state.db).await;
    let charter = alliance_core::partnership::charter_title(profile.as_deref());
    let context =
        RequestContext { principal, partnership: partnership.clone(), charter, accent, logo, csrf: csrf.clone(), ip };
    let mut response = in_our_words(REQUEST.scope(context, next.run(request)).await, is_api, &who).await;
    if let Some(c) = new_anonymous_csrf {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, set_cookie(&state, ANONYMOUS_CSRF_COOKIE, &c, 12 * 3600));
    }
    // A response that chose its own caching (assets, the partnership's logo: nothing personal)
    // keeps it; every other is never stored.
    if !response.headers().contains_key(axum::http::header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    }
    response
}

/// Checks the `X-CSRF-Token` header, or the `csrf_token` field of a URL-encoded form (read
/// whole, up to `form_limit`, and put back) or of a multipart form (its first field, read
/// from at most [`MULTIPART_PREFIX_LIMIT`] bytes; the body streams on unbuffered). Returns
/// whether it matched, and the request (`None` when the form was larger than `form_limit`).
async fn check_csrf(request: Request, expected: &str, form_limit: usize) -> (bool, Option<Request>) {
    if let Some(given) = request.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        let ok = !expected.is_empty() && same_secret(given, expected);
        return (ok, Some(request));
    }
    let content_type =
        request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if content_type.starts_with("multipart/form-data") {
        let Some(boundary) = multipart_boundary(&content_type) else { return (false, Some(request)) };
        let (given, request) = first_multipart_field(request, &boundary, "csrf_token").await;
        let ok = !expected.is_empty() && given.is_some_and(|g| same_secret(&g, expected));
        return (ok, Some(request));
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return (false, Some(request));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, form_limit).await else { return (false, None) };
    let given = form_urlencoded_field(&bytes, "csrf_token");
    let ok = !expected.is_empty() && given.is_some_and(|g| same_secret(&g, expected));
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

/// The boundary parameter of a `multipart/form-data` content type (quoted or not).
fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type
        .split(';')
        .skip(1)
        .find_map(|param| {
            let (key, value) = param.trim().split_once('=')?;
            key.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// What the start of a multipart body says about its first field.
#[derive(Debug, PartialEq, Eq)]
enum FirstField {
    /// The first field is the one asked for, with this value.
    Value(String),
    /// The first field is another one (or the body is not multipart as declared).
    Other,
    /// Not enough of the body yet.
    More,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads the first field of a multipart body from its start `buf`.
fn first_field(buf: &[u8], boundary: &str, name: &str) -> FirstField {
    let delimiter = format!("--{boundary}\r\n");
    let Some(start) = find(buf, delimiter.as_bytes()) else {
        return if buf.len() > delimiter.len() + 2 { FirstField::Other } else { FirstField::More };
    };
    // Only line breaks may come before the first delimiter (RFC 2046's preamble is unused by browsers).
    if buf[..start].iter().any(|b| !matches!(b, b'\r' | b'\n')) {
        return FirstField::Other;
    }
    let headers_start = start + delimiter.len();
    let Some(headers_len) = find(&buf[headers_start..], b"\r\n\r\n") else { return FirstField::More };
    let headers = String::from_utf8_lossy(&buf[headers_start..headers_start + headers_len]);
    let named = headers.lines().any(|line| {
        let Some((key, value)) = line.split_once(':') else { return false };
        key.trim().eq_ignore_ascii_case("content-disposition")
            && value.split(';').any(|p| p.trim() == format!("name=\"{name}\""))
    });
    if !named {
        return FirstField::Other;
    }
    let value_start = headers_start + headers_len + 4;
    let end = format!("\r\n--{boundary}");
    match find(&buf[value_start..], end.as_bytes()) {
        Some(len) => match std::str::from_utf8(&buf[value_start..value_start + len]) {
            Ok(value) => FirstField::Value(value.to_string()),
            Err(_) => FirstField::Other,
        },
        None => FirstField::More,
    }
}

/// The value of the first field of a multipart request when it is `name`, read from at most
/// [`MULTIPART_PREFIX_LIMIT`] bytes of the body; the request comes back with its body whole
/// (the bytes read, then the rest as it arrives).
async fn first_multipart_field(request: Request, boundary: &str, name: &str) -> (Option<String>, Request) {
    use futures_util::StreamExt;
    let (parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut prefix: Vec<u8> = Vec::new();
    let mut found = None;
    let mut failed = None;
    loop {
        match first_field(&prefix, boundary, name) {
            FirstField::Value(v) => {
                found = Some(v);
                break;
            }
            FirstField::Other => break,
            FirstField::More if prefix.len() >= MULTIPART_PREFIX_LIMIT => break,
            FirstField::More => {}
        }
        match stream.next().await {
            Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
            Some(Err(e)) => {
                failed = Some(e);
                break;
            }
            None => break,
        }
    }
    let head: Vec<Result<axum::body::Bytes, axum::Error>> = match failed {
        Some(e) => vec![Ok(prefix.into()), Err(e)],
        None => vec![Ok(prefix.into())],
    };
    let body = Body::from_stream(futures_util::stream::iter(head).chain(stream));
    (found, Request::from_parts(parts, body))
}

/// One field of a URL-encoded form body (of any length the route accepts).
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    fields.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A refusal made by the framework rather than by Alliance (an extractor's rejection, a
/// body over its limit, a method the route does not have: plain text or nothing, such as
/// "Failed to buffer the body"), answered in the service's words instead; the framework's
/// text is logged at debug level for whoever runs the service. Alliance's own answers
/// (HTML pages, JSON and problem documents, files) pass unchanged.
async fn in_our_words(response: Response, is_api: bool, who: &Who<'_>) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    tracing::debug!(status = status.as_u16(), said = %String::from_utf8_lossy(&text), "framework refusal replaced");
    let message = match status {
        StatusCode::BAD_REQUEST => "the request could not be read: go back, reload the page and try again",
        StatusCode::NOT_FOUND => "there is nothing at this address",
        StatusCode::METHOD_NOT_ALLOWED => "this address cannot be used that way",
        StatusCode::PAYLOAD_TOO_LARGE => "what was sent is larger than Alliance accepts here",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "what was sent is not in a form Alliance reads here",
        StatusCode::UNPROCESSABLE_ENTITY => "what was sent could not be read",
        s if s.is_server_error() => {
            let id = crate::error::error_id();
            tracing::error!(error_id = %id, status = s.as_u16(), said = %String::from_utf8_lossy(&text), "request failed");
            return refuse(
                s,
                is_api,
                &format!("sorry, there is a problem with the service: try again later (reference {id})"),
                who,
            );
        }
        _ => "the request could not be handled",
    };
    refuse(status, is_api, message, who)
}

/// Who the guard has found so far, for the layout of a refusal page.
struct Who<'a> {
    principal: Option<Principal>,
    partnership: &'a str,
    accent: &'static str,
}

/// A refusal by the guard: a problem document on the API, the service's error page
/// otherwise (in the layout of whoever asked).
fn refuse(status: StatusCode, json: bool, message: &str, who: &Who) -> Response {
    if json {
        let title = status.canonical_reason().unwrap_or("Refused");
        crate::error::problem(status, title, message, None)
    } else {
        let title = match status {
            StatusCode::FORBIDDEN => "You do not have access to this page",
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::PAYLOAD_TOO_LARGE => "This is more than Alliance accepts",
            _ => "Sorry",
        };
        let mut sentence = message.to_string();
        if let Some(first) = sentence.get(0..1) {
            sentence.replace_range(0..1, &first.to_uppercase());
        }
        let context = RequestContext {
            principal: who.principal.clone(),
            partnership: who.partnership.to_string(),
            charter: alliance_core::partnership::CHARTER_FALLBACK.to_string(),
            accent: who.accent,
            logo: None,
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
        // A form far larger than a URI may be (64 KB) is still read.
        let big = format!("place={}&csrf_token=abc", "x".repeat(200_000));
        assert_eq!(form_urlencoded_field(big.as_bytes(), "csrf_token").as_deref(), Some("abc"));
    }

    #[test]
    fn the_first_multipart_field_is_read_from_the_start_of_the_body() {
        let body = "--b0\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.csv\"\r\n\r\n1,2\r\n--b0--\r\n";
        assert_eq!(first_field(body.as_bytes(), "b0", "csrf_token"), FirstField::Value("abc".into()));
        // Cut anywhere before the value ends: more is needed.
        for cut in [0, 3, 10, 50, 60] {
            assert_eq!(first_field(&body.as_bytes()[..cut], "b0", "csrf_token"), FirstField::More, "cut at {cut}");
        }
        // Another field first, or not multipart at all.
        let other = body.replace("name=\"csrf_token\"", "name=\"kind\"");
        assert_eq!(first_field(other.as_bytes(), "b0", "csrf_token"), FirstField::Other);
        assert_eq!(first_field(b"garbage that is not multipart", "b0", "csrf_token"), FirstField::Other);
        assert_eq!(multipart_boundary("multipart/form-data; boundary=\"b0\"").as_deref(), Some("b0"));
        assert_eq!(multipart_boundary("multipart/form-data; charset=utf-8; boundary=xyz").as_deref(), Some("xyz"));
        assert_eq!(multipart_boundary("multipart/form-data"), None);
    }

    #[tokio::test]
    async fn a_large_upload_streams_past_the_token_check_unread() {
        use futures_util::StreamExt;
        // 16 MB after the token: the check reads its start and hands the whole body on.
        let head = "--b0\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n";
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = std::iter::once(Ok(head.as_bytes().to_vec()))
            .chain((0..256).map(|_| Ok(vec![b'x'; 65_536])))
            .chain(std::iter::once(Ok(b"\r\n--b0--\r\n".to_vec())))
            .collect();
        let pulled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = pulled.clone();
        let stream = futures_util::stream::iter(chunks).inspect(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let request = Request::builder()
            .header(CONTENT_TYPE, "multipart/form-data; boundary=b0")
            .body(Body::from_stream(stream))
            .unwrap();
        let (ok, rebuilt) = check_csrf(request, "abc", FORM_LIMIT).await;
        assert!(ok);
        assert_eq!(pulled.load(std::sync::atomic::Ordering::SeqCst), 1, "only the first chunk was read");
        let body = axum::body::to_bytes(rebuilt.unwrap().into_body(), usize::MAX).await.unwrap();
        assert_eq!(body.len(), head.len() + 256 * 65_536 + 10, "the handler gets the body whole");
    }
}
