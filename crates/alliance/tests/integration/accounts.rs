//! Issue 16: accounts by e-mail (invitations, password resets, against a local SMTP sink),
//! the partnership's logo and the charter's commitments from the profile. Each scenario
//! runs on both backends.

use alliance_app::mail::Mailer;
use alliance_core::access::Role;
use reqwest::StatusCode;

use crate::common::app::{Caller, Reply, TestApp};
use crate::common::smtp_sink::SmtpSink;
use crate::common::{self, http};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// An e-mail's text as written: quoted-printable soft line breaks joined and `=3D` decoded
/// (the relay gets long lines that way).
fn unfold(data: &str) -> String {
    data.replace("=\r\n", "").replace("=3D", "=")
}

/// The 64-hex token of the first link to `path` in `text` (an e-mail or a page).
fn token_after(text: &str, path: &str) -> String {
    let text = &unfold(text);
    let marker = format!("{path}?token=");
    let start = text.find(&marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no link to {path} in {text}"));
    let token: String = text[start..].chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64, "{text}");
    token
}

/// Posts a chosen password and its confirmation, with the link's token, to the form of an
/// invitation or a password reset (`path`).
async fn choose_password(app: &TestApp, path: &str, who: &Caller, token: &str, password: &str, confirm: &str) -> Reply {
    app.post_form(path, who, &[("token", token), ("password", password), ("confirm", confirm)]).await
}

/// Posts the invitation form as `who`: the invitee's name, email address, organisation (its
/// id) and role.
async fn invite(app: &TestApp, who: &Caller, name: &str, email: &str, org_id: &str, role: &str) -> Reply {
    let fields = [("invite_name", name), ("invite_email", email), ("invite_org_id", org_id), ("invite_role", role)];
    app.post_form("/admin/users/invite", who, &fields).await
}

async fn org_id(app: &TestApp, name: &str) -> i64 {
    app.db.organisation_by_name(name).await.expect("read").expect("the organisation").id
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    common::audit_log(&app.db).await.into_iter().map(|e| (e.action, e.target, e.detail)).collect()
}

fn mail_to(sink: &SmtpSink) -> Mailer {
    Mailer::smtp(&sink.url(), "alliance@partnership.example", "https://alliance.example").expect("mailer")
}

/// An administrator invites someone; the invitee gets an e-mail with a single-use link, sets
/// their password and signs in; the link then refuses a second use, an expired link refuses
/// any, and nothing is stored from a refused form.
async fn invitation_by_email(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app.beside(|s| s.with_mailer(mail_to(&sink))).await;
    let admin = app.signed_in("admin@council.example", Role::Administrator, "Swindon Borough Council").await;
    let council = org_id(&app, "Swindon Borough Council").await;
    let council_id = council.to_string();

    let page = app.get("/admin/users", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Invite a user"), "{}", page.body);
    assert!(page.body.contains("<option value=\"board-member\" selected>"), "the least role is offered first");

    // A bad address: the form comes back with the error on its field and the name as typed.
    let reply = invite(&app, &admin, "Sam Analyst", "sam", &council_id, "analyst").await;
    reply.assert_refused(&["id=\"invite_email-error\""]);
    assert!(reply.body.contains("value=\"Sam Analyst\""));
    assert!(sink.messages().is_empty(), "nothing sent for a refused form");

    let reply = invite(&app, &admin, "Sam Analyst", "Sam@Example.org", &council_id, "analyst").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("An invitation has been emailed to sam@example.org"), "{}", reply.body);
    assert!(!reply.body.contains("token="), "an e-mailed link is not shown to the administrator");
    let messages = sink.wait_for(1).await;
    assert_eq!(messages[0].to, ["sam@example.org"]);
    assert!(
        unfold(&messages[0].data).contains("https://alliance.example/account/invitation?token="),
        "{}",
        messages[0].data
    );
    let token = token_after(&messages[0].data, "/account/invitation");
    assert!(
        app.db.user_by_email("sam@example.org").await.expect("read").is_none(),
        "no account before the link is used"
    );
    let listed = app.get("/admin/users", &admin).await;
    assert!(listed.body.contains("Invitations not yet accepted") && listed.body.contains("sam@example.org"));

    // The invitee opens the link, gets a password wrong, then sets it.
    let path = format!("/account/invitation?token={token}");
    let visitor = app.visitor(&path).await;
    let page = app.get(&path, &visitor).await;
    assert!(page.body.contains("sam@example.org") && page.body.contains("Analyst"), "{}", page.body);
    let short = choose_password(&app, "/account/invitation", &visitor, &token, "short", "short").await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", short.body);
    assert!(short.body.contains("id=\"password-error\""));
    assert!(app.db.user_by_email("sam@example.org").await.expect("read").is_none());
    let done = choose_password(&app, "/account/invitation", &visitor, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), Some("/sign-in?account-ready=1"));
    let sam = app.db.user_by_email("sam@example.org").await.expect("read").expect("the new account");
    assert_eq!((sam.role, sam.org_id, sam.name.as_str()), (Role::Analyst, council, "Sam Analyst"));
    let ready = app.get("/sign-in?account-ready=1", &Caller::default()).await;
    assert!(ready.body.contains("Your account is ready"));
    assert!(app.sign_in("sam@example.org", NEW_PASSWORD).await.is_ok(), "the invitee signs in with their password");

    // The link works once: a second use (or a look) is refused and changes nothing.
    let again = choose_password(
        &app,
        "/account/invitation",
        &visitor,
        &token,
        "another long passphrase",
        "another long passphrase",
    )
    .await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.body);
    assert_eq!(app.get(&path, &visitor).await.status, StatusCode::GONE);
    assert!(app.sign_in("sam@example.org", NEW_PASSWORD).await.is_ok(), "the password is unchanged");
    assert_eq!(app.get("/account/invitation?token=nonsense", &visitor).await.status, StatusCode::GONE);

    // An address that has an account cannot be invited.
    let reply = invite(&app, &admin, "Sam", "sam@example.org", &council_id, "analyst").await;
    reply.assert_refused(&["already has an account"]);

    // An expired invitation is refused, to look at and to use.
    let (old_token, old_hash) = alliance_app::accounts::new_token();
    let new = alliance_db::accounts::NewInvitation {
        email: "late@example.org",
        name: "Late Comer",
        org_id: council,
        role: Role::PartnerUser,
        token_hash: &old_hash,
        expires_at: "2020-01-01T00:00:00Z",
    };
    app.db.create_invitation(&new, &common::test_actor()).await.expect("stored");
    assert_eq!(app.get(&format!("/account/invitation?token={old_token}"), &visitor).await.status, StatusCode::GONE);
    let late = choose_password(&app, "/account/invitation", &visitor, &old_token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(late.status, StatusCode::GONE);
    assert!(app.db.user_by_email("late@example.org").await.expect("read").is_none());

    // Only administrators invite.
    let analyst = app.signed_in("an@council.example", Role::Analyst, "Swindon Borough Council").await;
    let refused = invite(&app, &analyst, "Sam Analyst", "Sam@Example.org", &council_id, "analyst").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let audit = audit_actions(&app).await;
    assert!(
        audit.iter().any(|(a, t, d)| a == "invitation" && t == "sam@example.org" && d.contains("analyst")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|(a, t, _)| a == "invitation-accepted" && t == "sam@example.org"));
    assert!(audit.iter().any(|(a, t, d)| a == "permission-change"
        && t == "sam@example.org"
        && d.contains("invited by user:admin@council.example")));
}
on_each_app!(invitation_by_email);

/// Without an SMTP relay the administrator is shown the link once, says so, and the link
/// works; the users page never shows it again.
async fn invitation_without_a_relay_shows_the_link_once(app: TestApp) {
    let admin = app.signed_in("admin@council.example", Role::Administrator, "Wiltshire Council").await;
    let council = org_id(&app, "Wiltshire Council").await.to_string();
    let reply = invite(&app, &admin, "Pat Partner", "pat@example.org", &council, "partner-user").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("No email relay is configured"), "{}", reply.body);
    assert!(reply.body.contains("shown only this once"));
    let token = token_after(&reply.body, "/account/invitation");
    assert!(!app.get("/admin/users", &admin).await.body.contains("token="), "never shown again");
    let visitor = app.visitor(&format!("/account/invitation?token={token}")).await;
    let done = choose_password(&app, "/account/invitation", &visitor, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let pat = app.db.user_by_email("pat@example.org").await.expect("read").expect("made");
    assert_eq!(pat.role, Role::PartnerUser);
}
on_each_app!(invitation_without_a_relay_shows_the_link_once);

/// An administrator's unused invitation links end when they stop being one: a link made by
/// an administrator who is then demoted (or deactivated) makes no account, an
/// administrator's least of all; another administrator's links are untouched.
async fn invitations_end_with_their_inviters_administration(app: TestApp) {
    use alliance_db::accounts::NewInvitation;
    app.signed_in("first@council.example", Role::Administrator, "Swindon Borough Council").await;
    app.signed_in("second@council.example", Role::Administrator, "Swindon Borough Council").await;
    let council = org_id(&app, "Swindon Borough Council").await;
    let later = alliance_db::clock::stamp(chrono::Utc::now() + chrono::Duration::days(7));
    let invite = |email: &'static str, hash: &'static str, by: &'static str| {
        let (db, later) = (app.db.clone(), later.clone());
        async move {
            let new = NewInvitation {
                email,
                name: "Invitee",
                org_id: council,
                role: Role::Administrator,
                token_hash: hash,
                expires_at: &later,
            };
            db.create_invitation(&new, &alliance_db::audit::Actor::new(by, "test")).await.expect("invited");
        }
    };
    invite("mallory@example.org", "hash-mallory", "user:second@council.example").await;
    invite("trent@example.org", "hash-trent", "user:first@council.example").await;
    let now = alliance_db::clock::now();
    assert!(app.db.invitation("hash-mallory", &now).await.expect("read").is_some());

    let second = app.db.user_by_email("second@council.example").await.expect("read").expect("the user");
    let by = alliance_db::audit::Actor::new("user:first@council.example", "test");
    app.db.update_user_access(second.id, Role::BoardMember, true, None, &by).await.expect("demoted");
    let now = alliance_db::clock::now();
    assert!(app.db.invitation("hash-mallory", &now).await.expect("read").is_none(), "the demoted one's link ended");
    assert!(app.db.invitation("hash-trent", &now).await.expect("read").is_some(), "the other's stands");
    let spent = app.db.accept_invitation("hash-mallory", "x", &now, &by).await;
    assert!(spent.is_err(), "no account from the ended link: {spent:?}");
    assert!(app.db.user_by_email("mallory@example.org").await.expect("read").is_none());
    let log = audit_actions(&app).await;
    assert!(
        log.iter()
            .any(|(_, target, detail)| target == "second@council.example" && detail.contains("1 unused invitation")),
        "{log:?}"
    );
}

on_each_app!(invitations_end_with_their_inviters_administration);

/// "Forgot your password?": the same answer for an address with an account and one without,
/// a single-use link e-mailed to the account only, and the reset ends every session.
async fn password_reset_by_email(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app.beside(|s| s.with_mailer(mail_to(&sink))).await;
    let id = common::add_user(&app.db, "pat@example.org", Role::PartnerUser, "Wiltshire Council").await;
    let (cookie, csrf) = common::session_for(&app.db, id).await;
    let old_session = Caller { cookie, csrf, bearer: None };
    assert_eq!(app.get("/", &old_session).await.status, StatusCode::OK);

    let sign_in = app.get("/sign-in", &Caller::default()).await;
    assert!(sign_in.body.contains("href=\"/account/forgot-password\""), "the sign-in page offers a reset");
    let visitor = app.visitor("/account/forgot-password").await;
    let malformed = app.post_form("/account/forgot-password", &visitor, &[("email", "nobody")]).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(malformed.body.contains("id=\"email-error\""));

    // The same answer, byte for byte, whether or not the address has an account.
    let unknown = app.post_form("/account/forgot-password", &visitor, &[("email", "nobody@example.org")]).await;
    let known = app.post_form("/account/forgot-password", &visitor, &[("email", "Pat@Example.org")]).await;
    assert_eq!(unknown.status, StatusCode::OK, "{}", unknown.body);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body, "no user enumeration");
    assert!(known.body.contains("Check your email"));

    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, ["pat@example.org"], "only the account's address gets a link");
    let token = token_after(&messages[0].data, "/account/reset-password");

    let path = format!("/account/reset-password?token={token}");
    let page = app.get(&path, &visitor).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("pat@example.org"));
    let mismatch =
        choose_password(&app, "/account/reset-password", &visitor, &token, NEW_PASSWORD, "something else entirely")
            .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("id=\"confirm-error\""));
    assert!(app.sign_in("pat@example.org", common::TEST_PASSWORD).await.is_ok(), "nothing changed yet");

    let done = choose_password(&app, "/account/reset-password", &visitor, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), Some("/sign-in?password-reset=1"));
    // Every session of the user has ended; the new password works, the old one does not.
    let after = app.get("/", &old_session).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the old session was ended");
    assert!(app.sign_in("pat@example.org", common::TEST_PASSWORD).await.is_err());
    assert!(app.sign_in("pat@example.org", NEW_PASSWORD).await.is_ok());

    // The link works once.
    let again = choose_password(
        &app,
        "/account/reset-password",
        &visitor,
        &token,
        "yet another passphrase",
        "yet another passphrase",
    )
    .await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.body);
    assert_eq!(app.get(&path, &visitor).await.status, StatusCode::GONE);
    assert!(app.sign_in("pat@example.org", NEW_PASSWORD).await.is_ok(), "a reused link changes nothing");

    // An expired link is refused.
    let (old_token, old_hash) = alliance_app::accounts::new_token();
    app.db
        .request_password_reset("pat@example.org", Some((id, &old_hash, "2020-01-01T00:00:00Z")), &common::test_actor())
        .await
        .expect("stored");
    assert_eq!(app.get(&format!("/account/reset-password?token={old_token}"), &visitor).await.status, StatusCode::GONE);
    let late = choose_password(
        &app,
        "/account/reset-password",
        &visitor,
        &old_token,
        "yet another passphrase",
        "yet another passphrase",
    )
    .await;
    assert_eq!(late.status, StatusCode::GONE);

    // Requests for one address are limited (3 an hour): over it, the same answer, nothing sent.
    for _ in 0..3 {
        let reply = app.post_form("/account/forgot-password", &visitor, &[("email", "pat@example.org")]).await;
        assert_eq!(reply.body, unknown.body);
    }
    let audit = audit_actions(&app).await;
    assert!(audit
        .iter()
        .any(|(a, t, d)| a == "password-reset-requested" && t == "nobody@example.org" && d.contains("nothing sent")));
    assert!(
        audit.iter().any(|(a, t, d)| a == "password-reset-requested"
            && t == "pat@example.org"
            && d.contains("over the address's limit")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|(a, t, _)| a == "password-reset" && t == "pat@example.org"));
}
on_each_app!(password_reset_by_email);

fn upload(app: &TestApp, who: &Caller, name: &str, bytes: &[u8]) -> reqwest::RequestBuilder {
    let (content_type, body) = http::multipart(&[("csrf_token", &who.csrf)], ("file", name, bytes));
    app.request(reqwest::Method::POST, "/admin/partnership/logo", who).header("content-type", content_type).body(body)
}

/// An administrator uploads a PNG logo: every page's header shows it (staff and public), it is
/// served as `image/png` with cache headers under the same CSP, the Board pack's cover carries
/// it, and anything that is not a well-formed PNG within the bounds is refused saying why.
async fn logo_in_the_header_and_the_pack(app: TestApp) {
    let profile = alliance_core::partnership::example("wiltshire-and-swindon").expect("shipped").expect("valid");
    app.db.init_partnership(&profile, &common::test_actor()).await.expect("profile");
    let admin = app.signed_in("admin@council.example", Role::Administrator, "Wiltshire Council").await;
    let partner = app.signed_in("pat@council.example", Role::PartnerUser, "Wiltshire Council").await;
    let png = alliance_core::logo::sample_png(160, 40);

    assert!(!app.get("/", &admin).await.body.contains("/partnership/logo"), "no logo yet");
    assert_eq!(app.get("/partnership/logo", &Caller::default()).await.status, StatusCode::NOT_FOUND);

    // Refused: not a PNG (an SVG with a script), a PNG with a script after its end, too large.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
    let reply = TestApp::read(upload(&app, &admin, "logo.svg", svg)).await;
    reply.assert_refused(&["must be a PNG image"]);
    let mut polyglot = png.clone();
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let reply = TestApp::read(upload(&app, &admin, "logo.png", &polyglot)).await;
    reply.assert_refused(&["follow the IEND"]);
    let reply = TestApp::read(upload(&app, &admin, "big.png", &vec![0u8; 300 * 1024])).await;
    reply.assert_refused(&["200 KB"]);
    assert!(app.db.partnership_logo().await.expect("read").is_none(), "nothing stored");
    // Only administrators.
    assert_eq!(TestApp::read(upload(&app, &partner, "logo.png", &png)).await.status, StatusCode::FORBIDDEN);

    let reply = TestApp::read(upload(&app, &admin, "logo.png", &png)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let stored = app.db.partnership_logo().await.expect("read").expect("stored");
    assert_eq!((stored.width, stored.height), (160, 40), "the logo's size reads back the right way round");
    let link = format!("/partnership/logo?v={}", &stored.sha256[..16]);
    for (path, who) in [("/", &admin), ("/public", &Caller::default()), ("/sign-in", &Caller::default())] {
        let page = app.get(path, who).await;
        assert!(page.body.contains(&format!("src=\"{link}\"")), "{path} shows the logo: {}", page.body);
    }

    let served = app.request(reqwest::Method::GET, &link, &Caller::default()).send().await.expect("served");
    assert_eq!(served.status(), StatusCode::OK);
    let headers = served.headers().clone();
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("public, max-age=31536000, immutable"));
    assert_eq!(headers.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    let csp = headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(csp, alliance_web_csp(), "the CSP is unchanged");
    let etag = headers.get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_string();
    assert_eq!(served.bytes().await.expect("bytes").as_ref(), png.as_slice());
    let again = TestApp::read(
        app.request(reqwest::Method::GET, "/partnership/logo", &Caller::default()).header("if-none-match", &etag),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    // Pages are still never stored.
    assert_eq!(app.get("/", &admin).await.header("cache-control"), Some("no-store"));

    // The Board pack's cover carries the logo inside the document.
    let quarter: alliance_core::governance::Quarter = "2026Q1".parse().expect("quarter");
    let pack = alliance_web::views::board_pack::BoardPack::load(&app.db, quarter, &profile.name).await.expect("pack");
    let html = alliance_reports::board_pack::render(&pack).expect("render");
    assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgo"), "the cover shows the logo");

    let removed = app.post_form("/admin/partnership/logo/delete", &admin, &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(!app.get("/", &admin).await.body.contains("/partnership/logo"));
    let audit = audit_actions(&app).await;
    assert!(audit
        .iter()
        .any(|(a, t, d)| a == "partnership-profile" && t == "partnership-logo" && d.contains("160 × 40")));
    assert!(audit.iter().any(|(a, t, d)| a == "partnership-profile" && t == "partnership-logo" && d == "logo removed"));
}
on_each_app!(logo_in_the_header_and_the_pack);

fn alliance_web_csp() -> &'static str {
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

/// The charter's commitments are the partnership's: set on the profile page (or from a profile
/// file), used by the charter's join form, kept when the rest of the profile is saved; a kept
/// title keeps its pledges' commitment.
async fn charter_commitments_from_the_profile(app: TestApp) {
    let profile = alliance_core::partnership::example("wiltshire-and-swindon").expect("shipped").expect("valid");
    app.db.init_partnership(&profile, &common::test_actor()).await.expect("profile");
    let admin = app.signed_in("admin@council.example", Role::Administrator, "Wiltshire Council").await;
    assert!(app.db.charter_commitments().await.expect("read").is_empty(), "a new partnership has none of its own yet");
    // Three to start from, as the shipped Staffordshire profile names them.
    let staffordshire = alliance_core::partnership::example("staffordshire").expect("shipped").expect("valid");
    let (first, second, third) = (
        &staffordshire.charter_commitments[0],
        &staffordshire.charter_commitments[1],
        &staffordshire.charter_commitments[2],
    );
    let three = [
        ("commitment-title-1", first.title.as_str()),
        ("commitment-description-1", first.description.as_str()),
        ("commitment-title-2", second.title.as_str()),
        ("commitment-description-2", second.description.as_str()),
        ("commitment-title-3", third.title.as_str()),
        ("commitment-description-3", third.description.as_str()),
    ];
    let saved = app.post_form("/admin/partnership/charter", &admin, &three).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let before = app.db.charter_commitments().await.expect("read");
    assert_eq!(before.len(), 3);
    let kept_id = before[1].id;

    let page = app.get("/admin/partnership", &admin).await;
    assert!(page.body.contains(&format!("value=\"{}\"", before[0].title)), "the form shows the commitments in force");

    // A description without a title is refused on its field; nothing changes.
    let bad = app
        .post_form(
            "/admin/partnership/charter",
            &admin,
            &[("commitment-title-1", ""), ("commitment-description-1", "Only words")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"commitment-title-1-error\""));
    assert!(bad.body.contains("Only words"), "what was typed is kept");
    let empty = app.post_form("/admin/partnership/charter", &admin, &[]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.db.charter_commitments().await.expect("read").len(), 3);

    let fields = [
        ("commitment-title-1", "Safe venues after dark"),
        ("commitment-description-1", "Keeping venues safe for women and girls at night."),
        ("commitment-title-2", before[1].title.as_str()),
        ("commitment-description-2", "Training every member of staff to spot and respond to vulnerability."),
    ];
    let saved = app.post_form("/admin/partnership/charter", &admin, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = app.db.charter_commitments().await.expect("read");
    let titles: Vec<&str> = after.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Safe venues after dark", before[1].title.as_str()]);
    assert_eq!(after[1].id, kept_id, "a kept title keeps its id (and its pledges)");
    assert!(after[1].description.starts_with("Training every member"));
    let stored = app.db.partnership().await.expect("read").expect("profile");
    assert_eq!(stored.charter_commitments.len(), 2);
    // Swapped round, each title keeps its id and takes the other's position.
    let swapped = [
        ("commitment-title-1", fields[2].1),
        ("commitment-description-1", fields[3].1),
        ("commitment-title-2", fields[0].1),
        ("commitment-description-2", fields[1].1),
    ];
    let saved = app.post_form("/admin/partnership/charter", &admin, &swapped).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let reordered = app.db.charter_commitments().await.expect("read");
    let order: Vec<(i64, i64, &str)> = reordered.iter().map(|c| (c.id, c.position, c.title.as_str())).collect();
    assert_eq!(order, [(kept_id, 1, before[1].title.as_str()), (after[0].id, 2, "Safe venues after dark")]);

    // The charter's join form asks for these, and not for the retired ones.
    let join = app.get("/safer-places/join", &Caller::default()).await;
    assert!(join.body.contains("Safe venues after dark"), "{}", join.body);
    assert!(!join.body.contains(&before[0].title));

    // Saving the rest of the profile keeps the commitments.
    let profile_fields = [
        ("name", profile.name.as_str()),
        ("short_name", profile.short_name.as_str()),
        ("districts", "E06000054, E06000030"),
        ("forces", "wiltshire"),
        ("contact_email", "team@example.org"),
        ("contact_phone", ""),
        ("charter_name", "Safe Places Charter"),
        ("colour", "purple"),
        ("suppression_threshold", ""),
    ];
    let saved = app.post_form("/admin/partnership", &admin, &profile_fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(app.db.partnership().await.expect("read").expect("profile").charter_commitments.len(), 2);
    assert_eq!(app.db.charter_commitments().await.expect("read").len(), 2);
    let audit = audit_actions(&app).await;
    assert!(audit.iter().any(|(a, _, d)| a == "charter-commitment" && d.contains("Safe venues after dark")));
}
on_each_app!(charter_commitments_from_the_profile);

/// The shipped Staffordshire profile names its charter's three commitments; loading it makes
/// them the charter's.
async fn a_profile_file_brings_its_commitments(app: TestApp) {
    let profile = alliance_core::partnership::example("staffordshire").expect("shipped").expect("valid");
    app.db.init_partnership(&profile, &common::test_actor()).await.expect("profile");
    let titles: Vec<String> = app.db.charter_commitments().await.expect("read").into_iter().map(|c| c.title).collect();
    let expected: Vec<String> = profile.charter_commitments.iter().map(|c| c.title.clone()).collect();
    assert_eq!(titles, expected);
}
on_each_app!(a_profile_file_brings_its_commitments);

/// An administrator withdraws an invitation sent to the wrong address: its link stops
/// working at once, the withdrawal is recorded, a second withdrawal is said on the page
/// rather than recorded again, and nobody but an administrator may withdraw one.
async fn a_pending_invitation_can_be_withdrawn(app: TestApp) {
    let admin = app.signed_in("admin@council.example", Role::Administrator, "Wiltshire Council").await;
    let analyst = app.signed_in("analyst@council.example", Role::Analyst, "Wiltshire Council").await;
    let council = org_id(&app, "Wiltshire Council").await.to_string();
    let reply = invite(&app, &admin, "Wrong Person", "wrong@example.org", &council, "administrator").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = token_after(&reply.body, "/account/invitation");
    let users = app.get("/admin/users", &admin).await;
    assert!(users.body.contains("the invitation to wrong@example.org"), "a withdraw button: {}", users.body);

    let refused = app.post_form("/admin/users/invite/withdraw", &analyst, &[("email", "wrong@example.org")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let withdrawn = app.post_form("/admin/users/invite/withdraw", &admin, &[("email", "Wrong@Example.org")]).await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER, "{}", withdrawn.body);
    let link = format!("/account/invitation?token={token}");
    assert_eq!(app.get(&link, &Caller::default()).await.status, StatusCode::GONE, "the link is gone");
    let visitor = app.visitor("/sign-in").await;
    let used = choose_password(&app, "/account/invitation", &visitor, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(used.status, StatusCode::GONE, "the withdrawn link makes no account: {}", used.body);
    assert!(app.db.user_by_email("wrong@example.org").await.expect("read").is_none());
    assert!(!app.get("/admin/users", &admin).await.body.contains("wrong@example.org"), "no longer listed");

    let again = app.post_form("/admin/users/invite/withdraw", &admin, &[("email", "wrong@example.org")]).await;
    again.assert_refused(&["no longer pending"]);
    let log = audit_actions(&app).await;
    let withdrawals = log.iter().filter(|(a, t, _)| a == "invitation-withdrawn" && t == "wrong@example.org").count();
    assert_eq!(withdrawals, 1, "{log:?}");
}
on_each_app!(a_pending_invitation_can_be_withdrawn);
