//! Security headers on every kind of response: a public page, a staff page, a refusal,
//! an error page, an asset and the JSON API (`alliance-web/src/security_headers.rs`).

use alliance_core::access::Role;

use crate::common::app::{Caller, TestApp};

async fn every_response_carries_the_security_headers(app: TestApp) {
    let staff = app.signed_in("analyst@example.org", Role::Analyst, "Office of the PFCC").await;
    let board = app.signed_in("board@example.org", Role::BoardMember, "Office of the PFCC").await;
    let anonymous = Caller::default();
    let cases: [(&str, &Caller, u16); 7] = [
        ("/public", &anonymous, 200),
        ("/sign-in", &anonymous, 200),
        ("/", &staff, 200),
        ("/admin/users", &board, 403),
        ("/no-such-page", &staff, 404),
        ("/assets/alliance.css", &anonymous, 200),
        ("/api/v1/counts?by=colour", &staff, 400),
    ];
    for (path, who, status) in cases {
        let reply = app.get(path, who).await;
        assert_eq!(reply.status.as_u16(), status, "GET {path}: {}", reply.body);
        let csp = reply.header("content-security-policy").unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(reply.header("referrer-policy"), Some("same-origin"), "{path}");
        // Served on loopback without TLS: no HSTS, which would pin localhost to HTTPS.
        assert_eq!(reply.header("strict-transport-security"), None, "{path}");
    }
    // No page carries an inline script: the policy would block it.
    for path in ["/public", "/sign-in", "/"] {
        let who = if path == "/" { &staff } else { &anonymous };
        let body = app.get(path, who).await.body;
        assert!(!body.contains("<script>"), "{path} has an inline script");
    }
    // The problem document of the API is JSON in the service's words.
    let problem = app.get("/api/v1/counts?by=colour", &staff).await;
    assert_eq!(problem.header("content-type"), Some("application/problem+json"));
    assert_eq!(problem.json()["status"], 400);
}

on_each_app!(every_response_carries_the_security_headers);

/// Behind TLS (cookies marked `Secure`), responses carry HSTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_when_cookies_are_secure() {
    let test_db = crate::common::sqlite();
    let db = test_db.connect().await;
    let state = alliance_web::AppState::new(db).with_secure_cookies(true);
    let app = TestApp::start_with(test_db, state).await;
    let reply = app.get("/public", &Caller::default()).await;
    assert_eq!(reply.header("strict-transport-security"), Some("max-age=31536000"));
}
