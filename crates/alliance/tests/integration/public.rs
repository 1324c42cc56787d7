//! The public side, black-box through the router with plain form POSTs (no JavaScript):
//! the charter (apply, verify as staff, find in the directory), unsafe-place reports (submit,
//! moderate, counted with suppression and in the hotspot layer), the rate limit, finding a
//! service, and the Open Referral UK round trip.

use crate::common;

use alliance_core::access::Role;
use alliance_db::public::services::ServiceSearch;
use alliance_db::Db;
use alliance_ingest::oruk::to_oruk;
use alliance_ingest::SourceFile;
use alliance_web::AppState;
use axum::http::StatusCode;
use axum::Router;
use common::{add_user, TEST_PASSWORD};

use common::http::{cookie_value, csrf_in, send, Visitor};

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A member of the public who has opened a form page (and so has its CSRF cookie).
async fn visitor(app: &Router, page: &str) -> Visitor {
    let reply = send(app, "GET", page, &Visitor::default(), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{page}");
    let token = cookie_value(&reply.set_cookies, "alliance_csrf").expect("an anonymous CSRF cookie");
    assert_eq!(csrf_in(&reply.body), token);
    Visitor { cookie: format!("alliance_csrf={token}"), csrf: token }
}

async fn staff(app: &Router, db: &Db) -> Visitor {
    add_user(db, "analyst@example.org", Role::Analyst, "Partnership").await;
    let anon = visitor(app, "/sign-in").await;
    let form = format!("email=analyst%40example.org&password={}&csrf_token={}", enc(TEST_PASSWORD), anon.csrf);
    let reply = send(app, "POST", "/sign-in", &anon, Some(&form)).await;
    let token = cookie_value(&reply.set_cookies, "alliance_session").expect("signed in");
    let mut v = Visitor { cookie: format!("alliance_session={token}"), csrf: String::new() };
    v.csrf = csrf_in(&send(app, "GET", "/staff/unsafe-places", &v, None).await.body);
    v
}

/// A database with the bundled demo areas (Staffordshire wards and districts).
async fn demo_db(t: &common::TestDb) -> Db {
    let db = t.connect().await;
    alliance::demo::load_if_empty(&db).await.expect("demo data");
    db
}

fn app(db: &Db) -> Router {
    alliance_web::router(AppState::new(db.clone()))
}

fn report_form(csrf: &str, place: &str) -> String {
    let today = chrono::Utc::now().date_naive();
    format!(
        "csrf_token={csrf}&website=&place={}&longitude=&latitude=&date-day={}&date-month={}&date-year={}&time-of-day=night&reasons=poor-lighting&reasons=followed&age-band=&gender=",
        enc(place),
        today.format("%d"),
        today.format("%m"),
        today.format("%Y")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_page_has_the_exit_button_and_no_staff_navigation() {
    let t = common::sqlite();
    let db = t.connect().await;
    let app = app(&db);
    for page in [
        "/public",
        "/accessibility",
        "/exit-this-page-help",
        "/report-unsafe-place",
        "/find-help",
        "/safer-places",
        "/safer-places/join",
        "/you-said-we-did",
        "/public/figures",
    ] {
        let reply = send(&app, "GET", page, &Visitor::default(), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}: {}", reply.body);
        assert!(reply.body.contains("govuk-exit-this-page__button"), "{page} has no exit button");
        assert!(reply.body.contains("href=\"https://www.bbc.co.uk/weather\""), "{page}");
        assert!(!reply.body.contains("href=\"/imports\""), "{page} shows staff navigation");
        // No third-party requests: every script, stylesheet and image is local.
        for attr in ["src=\"http", "<link rel=\"stylesheet\" href=\"http"] {
            assert!(!reply.body.contains(attr), "{page} loads something from another site");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_moderated_then_counted_with_suppression() {
    let t = common::sqlite();
    let db = demo_db(&t).await;
    let app = app(&db);
    let me = visitor(&app, "/report-unsafe-place").await;
    // Not a crime report: the page says so and gives the numbers.
    let page = send(&app, "GET", "/report-unsafe-place", &me, None).await.body;
    assert!(page.contains("not a way to report a crime") && page.contains("999") && page.contains("101"));

    // A place nobody knows is refused with a GOV.UK error and nothing is stored.
    let reply = send(&app, "POST", "/report-unsafe-place", &me, Some(&report_form(&me.csrf, "Atlantis"))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("govuk-error-summary") && reply.body.contains("Atlantis"));

    // A district by name, a plain POST.
    let reply = send(&app, "POST", "/report-unsafe-place", &me, Some(&report_form(&me.csrf, "stoke-on-trent"))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location.as_deref(), Some("/report-unsafe-place/sent"));
    // A point on the map (as the JavaScript map would post it): Hanley, Stoke-on-Trent.
    let with_point = report_form(&me.csrf, "").replace("longitude=&latitude=", "longitude=-2.1794&latitude=53.0245");
    let reply = send(&app, "POST", "/report-unsafe-place", &me, Some(&with_point)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let pending = db.unsafe_reports("pending", 10).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].district_code.as_deref(), Some("E06000021"));
    assert!(pending[1].cell.is_some() && pending[1].point.is_some() && pending[1].ward_code.is_some());

    // Nothing is public before moderation.
    let public = send(&app, "GET", "/you-said-we-did", &Visitor::default(), None).await.body;
    assert!(!public.contains("numeric\">fewer than 5</td>"));

    let staff = staff(&app, &db).await;
    assert!(send(&app, "GET", "/staff/unsafe-places", &staff, None).await.body.contains("Waiting for moderation"));
    for r in &pending {
        let form = format!("csrf_token={}&decision=approve", staff.csrf);
        let reply = send(&app, "POST", &format!("/staff/unsafe-places/{}", r.id), &staff, Some(&form)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    // An anonymous visitor cannot moderate.
    let anon = visitor(&app, "/report-unsafe-place").await;
    let reply =
        send(&app, "POST", "/staff/unsafe-places/1", &anon, Some(&format!("csrf_token={}&decision=reject", anon.csrf)))
            .await;
    assert_ne!(reply.status, StatusCode::OK);
    assert_eq!(db.unsafe_reports("approved", 10).await.unwrap().len(), 2);

    // Counted, suppressed: 2 reports in Stoke-on-Trent show as "fewer than 5".
    let counts = db.unsafe_report_area_counts("district").await.unwrap();
    let stoke = counts.iter().find(|c| c.code == "E06000021").unwrap();
    assert_eq!(stoke.count, 2);
    let public = send(&app, "GET", "/you-said-we-did", &Visitor::default(), None).await.body;
    assert!(public.contains("numeric\">fewer than 5</td>"), "{public}");
    // The hotspot layer: one cell for staff, none in public (below the threshold).
    assert_eq!(db.unsafe_report_cells(false).await.unwrap().len(), 1);
    assert!(db.unsafe_report_cells(true).await.unwrap().is_empty());

    // "You said, we did": staff publish a response and the public sees it.
    let form =
        format!("csrf_token={}&area=district%3AE06000021&you_said=Dark+streets&we_did=Lighting+fixed", staff.csrf);
    assert_eq!(send(&app, "POST", "/staff/you-said-we-did", &staff, Some(&form)).await.status, StatusCode::SEE_OTHER);
    assert!(send(&app, "GET", "/you-said-we-did", &Visitor::default(), None).await.body.contains("Lighting fixed"));
}

/// The report form's map: offered to JavaScript only (the no-JS form is unchanged), and its
/// wards are public, simplified GeoJSON with each ward's district.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_map_is_an_enhancement_with_public_simplified_wards() {
    let t = common::sqlite();
    let db = demo_db(&t).await;
    let app = app(&db);
    let page = send(&app, "GET", "/report-unsafe-place", &Visitor::default(), None).await.body;
    assert!(page.contains("id=\"report-map-controls\" class=\"govuk-!-margin-top-4\" hidden"), "hidden without JS");
    assert!(page.contains("/assets/report-map.js") && page.contains("name=\"longitude\""));
    assert!(page.contains("no list of postcodes"), "the page says which places it can find");
    let script = send(&app, "GET", "/assets/report-map.js", &Visitor::default(), None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.body.contains("input[name=longitude]") && script.body.contains("input[name=latitude]"));

    let reply = send(&app, "GET", "/report-unsafe-place/areas", &Visitor::default(), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let features = json["features"].as_array().unwrap();
    let wards = db.boundaries("ward", None).await.unwrap();
    assert_eq!(features.len(), wards.len());
    let abbey = features.iter().find(|f| f["properties"]["name"] == "Abbey Hulton").expect("a Stoke ward");
    assert_eq!(abbey["properties"]["district"], "Stoke-on-Trent");
    let stored: usize = wards.iter().map(|w| w.geometry.len()).sum();
    assert!(reply.body.len() * 2 < stored, "simplified: {} bytes against {stored} stored", reply.body.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100_reports_is_throttled_and_none_accepted_is_lost() {
    let t = common::sqlite();
    let db = demo_db(&t).await;
    let app = app(&db);
    let me = visitor(&app, "/report-unsafe-place").await;
    let (mut accepted, mut throttled) = (0, 0);
    for _ in 0..100 {
        let reply =
            send(&app, "POST", "/report-unsafe-place", &me, Some(&report_form(&me.csrf, "Cannock Chase"))).await;
        match reply.status {
            StatusCode::SEE_OTHER => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(reply.body.contains("govuk-heading-xl") && reply.body.contains("Exit this page"));
                throttled += 1
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(throttled > 0 && accepted > 0, "accepted {accepted}, throttled {throttled}");
    assert_eq!(accepted + throttled, 100);
    assert_eq!(db.unsafe_reports("pending", 1000).await.unwrap().len(), accepted, "every accepted report is stored");
    // The honeypot: thanked, not stored.
    let bot = report_form(&me.csrf, "Cannock Chase").replace("website=", "website=spam");
    assert_eq!(send(&app, "POST", "/report-unsafe-place", &me, Some(&bot)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(db.unsafe_reports("pending", 1000).await.unwrap().len(), accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_joins_the_charter_is_verified_and_appears_in_the_directory() {
    let t = common::sqlite();
    let db = demo_db(&t).await;
    let app = app(&db);
    let commitments = db.charter_commitments().await.unwrap();
    assert_eq!(commitments.len(), 3);
    let me = visitor(&app, "/safer-places/join").await;
    let mut form = format!(
        "csrf_token={}&website=&name=The+Example+Arms&org-type={}&address=1+High+Street&postcode=ST1+1AA&contact-name=Sam&contact-email=sam%40example.org&contact-phone=&staff-trained=12&venue-name-1=The+Example+Arms&venue-address-1=1+High+Street&venue-postcode-1=ST1+1AA&venue-place-1=Stoke-on-Trent&venue-location-1=53.0245%2C+-2.1794",
        me.csrf,
        enc("Pub, bar or club")
    );
    for c in &commitments {
        form.push_str(&format!("&agree-{0}=yes&how-{0}=Trained+staff+and+a+reporting+card&evidence-{0}=", c.id));
    }
    // Missing a commitment: refused with an error, nothing stored.
    let partial = form.replace(&format!("&agree-{}=yes", commitments[0].id), "");
    let reply = send(&app, "POST", "/safer-places/join", &me, Some(&partial)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(db.signatories("submitted").await.unwrap().is_empty());

    let reply = send(&app, "POST", "/safer-places/join", &me, Some(&form)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let submitted = db.signatories("submitted").await.unwrap();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].pledges.len(), 3);
    // Not in the directory until verified.
    assert!(!send(&app, "GET", "/safer-places?q=stoke", &Visitor::default(), None)
        .await
        .body
        .contains("The Example Arms"));

    let staff = staff(&app, &db).await;
    let form = format!("csrf_token={}&action=verify&reason=", staff.csrf);
    let reply = send(&app, "POST", &format!("/staff/safer-places/{}", submitted[0].id), &staff, Some(&form)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let page = send(&app, "GET", "/safer-places?q=stoke-on-trent", &Visitor::default(), None).await.body;
    assert!(page.contains("The Example Arms") && page.contains("<circle"), "found by district, on the map");
    assert!(send(&app, "GET", "/safer-places?q=ST1", &Visitor::default(), None)
        .await
        .body
        .contains("The Example Arms"));
    let today = chrono::Utc::now().date_naive();
    assert_eq!(db.current_signatory_count(today).await.unwrap(), 1);
    // A year and a day later it has lapsed: out of the directory, on the staff's reminder list.
    let later = today + chrono::Days::new(367);
    assert!(db.charter_directory("", later).await.unwrap().is_empty());
    assert_eq!(db.current_signatory_count(later).await.unwrap(), 0);
    assert_eq!(db.charter_renewals_due(later, 30).await.unwrap().len(), 1);
    // At most six commitments.
    for i in 0..3 {
        db.add_charter_commitment(&format!("Extra {i}"), "More").await.unwrap();
    }
    assert!(db.add_charter_commitment("Seventh", "Too many").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_found_by_need_and_area_and_survive_the_oruk_round_trip() {
    let t = common::sqlite();
    let db = t.connect().await;
    let seed = common::workspace_root().join("data/seed/services-example.json");
    assert_eq!(db.import_services_file(&SourceFile::from_path(&seed)).await.unwrap(), 5);
    let all = db.services(&ServiceSearch::default()).await.unwrap();
    assert!(all.iter().all(|s| s.description.contains("Example service — not a real organisation")));
    let app = app(&db);
    let page =
        send(&app, "GET", "/find-help?q=&need=knife-crime&area=Cannock+Chase&age=14&kind=", &Visitor::default(), None)
            .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Evening boxing club"), "{}", page.body);
    assert!(!page.body.contains("Youth mentoring"), "Stoke-on-Trent only");
    assert!(!page.body.contains("Domestic abuse helpline"), "another need");

    // ORUK round trip: export through the API, import into a fresh database, same records.
    let api = send(&app, "GET", "/api/v1/services", &Visitor::default(), None).await;
    assert_eq!(api.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["totalElements"], 5);
    assert!(
        json["content"][0]["service_taxonomys"].is_array() && json["content"][0]["organization"]["name"].is_string()
    );
    let t2 = common::sqlite();
    let db2 = t2.connect().await;
    db2.import_services_file(&SourceFile::from_bytes("export.json", api.body.into_bytes())).await.unwrap();
    let again = db2.services(&ServiceSearch::default()).await.unwrap();
    assert_eq!(again, all);
    assert_eq!(again.iter().map(to_oruk).count(), 5);
    // A bad file names the file and the service, and imports nothing.
    let bad = SourceFile::from_bytes("bad.json", br#"[{"id":"x","name":"X","organization":{"name":""}}]"#.to_vec());
    let err = db2.import_services_file(&bad).await.unwrap_err().to_string();
    assert!(err.contains("bad.json") && err.contains("service 1"), "{err}");
}
