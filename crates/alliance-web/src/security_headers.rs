//! Security headers on every response, pages, API and assets alike.
//!
//! - `Content-Security-Policy`: everything from Alliance itself (it works offline, so it
//!   needs no other origin), no inline script and no plugins, forms posted only to
//!   Alliance, and `frame-ancestors 'none'` so no other site can frame a page (click-
//!   jacking). Inline styles stay allowed: the self-contained reports carry their own
//!   `<style>` and the SVG charts set presentation attributes. Images may also be `data:`
//!   URIs (govuk-frontend's icons), and from the one tile server the deployment names
//!   (`alliance serve --tiles`, see `tiles.rs`), only when it names one.
//! - `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`.
//! - `X-Content-Type-Options: nosniff`: a CSV or JSON reply is never run as a script.
//! - `Referrer-Policy: same-origin`: no address of a page leaves Alliance in a link.
//! - `Strict-Transport-Security` when cookies are `Secure` (served over TLS, directly or
//!   behind a proxy); never on loopback, where it would pin `localhost` to HTTPS.

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// The policy of every response when no tile server is named.
pub const CONTENT_SECURITY_POLICY_VALUE: &str =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy with `tile_origin` (a validated `https://host[:port]`) also allowed for images.
pub fn policy(tile_origin: Option<&str>) -> String {
    match tile_origin {
        None => CONTENT_SECURITY_POLICY_VALUE.to_string(),
        Some(origin) => {
            CONTENT_SECURITY_POLICY_VALUE.replace("img-src 'self' data:;", &format!("img-src 'self' data: {origin};"))
        }
    }
}

pub async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let csp = match &state.tiles {
        Some(tiles) => tiles.content_security_policy().clone(),
        None => HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    };
    headers.insert(CONTENT_SECURITY_POLICY, csp);
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if state.secure_cookies {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tile_origin_joins_img_src_only() {
        assert_eq!(super::policy(None), super::CONTENT_SECURITY_POLICY_VALUE);
        let p = super::policy(Some("https://tiles.example.org"));
        assert!(p.contains("img-src 'self' data: https://tiles.example.org;"), "{p}");
        assert_eq!(p.matches("tiles.example.org").count(), 1, "{p}");
        assert!(p.contains("default-src 'self';") && p.contains("script-src 'self';"), "{p}");
    }
}
