//! The public side, black-box over HTTP against a running server with plain form POSTs (no
//! JavaScript): the charter (apply, verify as staff, find in the directory), unsafe-place
//! reports (submit, moderate, counted with suppression and in the hotspot layer), the rate
//! limit, finding a service, and the Open Referral UK round trip.

use crate::common;

use alliance_core::access::Role;
use alliance_db::public::services::ServiceSearch;
use alliance_db::public::streets::PlaceLookup;
use alliance_ingest::oruk::to_oruk;
use alliance_ingest::SourceFile;
use alliance_web::AppState;
use axum::http::StatusCode;

use common::app::{Caller, Reply, TestApp};
use common::http::csrf_in;

/// A member of the public who has opened a form page (and so has its CSRF cookie), whose
/// page carries the same token as the cookie.
async fn visitor(app: &TestApp, page: &str) -> Caller {
    let me = app.visitor(page).await;
    let reply = app.get(page, &me).await;
    assert_eq!(reply.status, StatusCode::OK, "{page}");
    assert_eq!(csrf_in(&reply.body), me.csrf);
    me
}

async fn staff(app: &TestApp) -> Caller {
    app.signed_in("analyst@example.org", Role::Analyst, "Partnership").await
}

/// An app over a database with the bundled demo areas (Staffordshire wards and districts).
async fn demo_app(t: common::TestDb) -> TestApp {
    let db = t.connect().await;
    alliance::demo::load_if_empty(&db).await.expect("demo data");
    TestApp::start_with(t, AppState::new(db).with_secure_cookies(false)).await
}

/// Nobody: no cookie, no token.
fn nobody() -> Caller {
    Caller::default()
}

/// Posts form fields with owned names and values (the CSRF token added by the harness).
async fn post(app: &TestApp, path: &str, who: &Caller, fields: &[(String, String)]) -> Reply {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form(path, who, &pairs).await
}

/// The unsafe-place report form for `place` (or the point `lon`, `lat`), dated today.
fn report_form(place: &str, lon: &str, lat: &str) -> Vec<(String, String)> {
    let today = alliance_db::clock::today_date();
    [
        ("website", ""),
        ("place", place),
        ("longitude", lon),
        ("latitude", lat),
        ("date-day", &today.format("%d").to_string()),
        ("date-month", &today.format("%m").to_string()),
        ("date-year", &today.format("%Y").to_string()),
        ("time-of-day", "night"),
        ("reasons", "poor-lighting"),
        ("reasons", "followed"),
        ("age-band", ""),
        ("gender", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn place_report(place: &str) -> Vec<(String, String)> {
    report_form(place, "", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_page_has_the_exit_button_and_no_staff_navigation() {
    let app = TestApp::start(common::sqlite()).await;
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
        let reply = app.get(page, &nobody()).await;
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
    let app = demo_app(common::sqlite()).await;
    let db = app.db.clone();
    let me = visitor(&app, "/report-unsafe-place").await;
    // Not a crime report: the page says so and gives the numbers.
    let page = app.get("/report-unsafe-place", &me).await.body;
    assert!(page.contains("not a way to report a crime") && page.contains("999") && page.contains("101"));

    // A place nobody knows is refused with a GOV.UK error and nothing is stored.
    let reply = post(&app, "/report-unsafe-place", &me, &place_report("Atlantis")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("govuk-error-summary") && reply.body.contains("Atlantis"));

    // A district by name, a plain POST.
    let reply = post(&app, "/report-unsafe-place", &me, &place_report("stoke-on-trent")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.header("location"), Some("/report-unsafe-place/sent"));
    // A point on the map (as the JavaScript map would post it): Hanley, Stoke-on-Trent.
    let with_point = report_form("", "-2.1794", "53.0245");
    let reply = post(&app, "/report-unsafe-place", &me, &with_point).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let pending = db.unsafe_reports("pending", 10).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].district_code.as_deref(), Some("E06000021"));
    assert!(pending[1].cell.is_some() && pending[1].point.is_some() && pending[1].ward_code.is_some());

    // Nothing is public before moderation.
    let public = app.get("/you-said-we-did", &nobody()).await.body;
    assert!(!public.contains("numeric\">fewer than 5</td>"));

    let staff = staff(&app).await;
    let waiting = app.get("/staff/unsafe-places", &staff).await.body;
    assert!(waiting.contains("Waiting for moderation"));
    // The day of the incident in words, the time sent too: never as stored.
    let today = alliance_db::clock::today();
    assert!(waiting.contains(&format!("{}, night", alliance_core::format::date(&today))), "{waiting}");
    assert!(!waiting.contains(&today) && common::raw_stamp(&waiting).is_none(), "{waiting}");
    for r in &pending {
        let reply = app.post_form(&format!("/staff/unsafe-places/{}", r.id), &staff, &[("decision", "approve")]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    // An anonymous visitor cannot moderate.
    let anon = visitor(&app, "/report-unsafe-place").await;
    let reply = app.post_form("/staff/unsafe-places/1", &anon, &[("decision", "reject")]).await;
    assert_eq!((reply.status, reply.header("location")), (StatusCode::SEE_OTHER, Some("/sign-in")));
    assert_eq!(db.unsafe_reports("approved", 10).await.unwrap().len(), 2);

    // Counted, suppressed: 2 reports in Stoke-on-Trent show as "fewer than 5".
    let counts = db.unsafe_report_area_counts("district").await.unwrap();
    let stoke = counts.iter().find(|c| c.code == "E06000021").unwrap();
    assert_eq!((stoke.name.as_str(), stoke.count), ("Stoke-on-Trent", 2));
    let by_status = db.unsafe_report_status_counts().await.unwrap();
    assert_eq!(by_status.into_iter().collect::<Vec<_>>(), [("approved".to_string(), 2)]);
    // The district-wide report has no ward; the point's ward is named by its code.
    let ward = pending[1].ward_code.clone();
    let cell = pending[1].cell.clone();
    let hierarchy: Vec<_> = db
        .approved_report_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.district_code, r.ward_code, r.cell, r.n))
        .collect();
    let stoke = Some("E06000021".to_string());
    assert_eq!(hierarchy, [(stoke.clone(), None, None, 1), (stoke, ward.clone(), cell, 1)]);
    let wards = db.unsafe_report_area_counts("ward").await.unwrap();
    let hanley = wards.iter().find(|c| Some(&c.code) == ward.as_ref()).expect("the point's ward");
    assert!(hanley.count == 1 && !hanley.name.starts_with("E05"), "{hanley:?}");
    let public = app.get("/you-said-we-did", &nobody()).await.body;
    assert!(public.contains("numeric\">fewer than 5</td>"), "{public}");
    // The hotspot layer: one cell stored, none in public (below the threshold).
    assert_eq!(db.unsafe_report_cells().await.unwrap().len(), 1);
    let figures = app.get("/public/figures", &nobody()).await.body;
    assert!(figures.contains("No square is shown"), "{figures}");

    // "You said, we did": staff publish a response and the public sees it.
    let form = [("area", "district:E06000021"), ("you_said", "Dark streets"), ("we_did", "Lighting fixed")];
    assert_eq!(app.post_form("/staff/you-said-we-did", &staff, &form).await.status, StatusCode::SEE_OTHER);
    assert!(app.get("/you-said-we-did", &nobody()).await.body.contains("Lighting fixed"));

    // A moderator acting on an older page (it still showed the report pending) changes
    // nothing and is told who decided; an approval given by mistake can be withdrawn, and
    // the report leaves the public figures.
    let first = pending[0].id;
    let stale = app.post_form(&format!("/staff/unsafe-places/{first}"), &staff, &[("decision", "reject")]).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains(&format!("Report {first} is approved (by")), "{}", stale.body);
    assert_eq!(db.unsafe_reports("approved", 10).await.unwrap().len(), 2, "nothing changed");
    let queue = app.get("/staff/unsafe-places", &staff).await.body;
    assert!(queue.contains(&format!("Withdraw approval<span class=\"govuk-visually-hidden\"> of report {first}")));
    let withdrawn = app.post_form(&format!("/staff/unsafe-places/{first}"), &staff, &[("decision", "withdraw")]).await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER, "{}", withdrawn.body);
    assert_eq!(db.unsafe_reports("approved", 10).await.unwrap().len(), 1);
    let twice = app.post_form(&format!("/staff/unsafe-places/{first}"), &staff, &[("decision", "withdraw")]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let log = common::audit_rows(&db, "moderate-report").await;
    assert!(log.iter().any(|e| e.detail.contains("approval withdrawn")), "{log:?}");
}

/// The report form's map: offered to JavaScript only (the no-JS form is unchanged), and its
/// wards are public, simplified GeoJSON with each ward's district.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_map_is_an_enhancement_with_public_simplified_wards() {
    let app = demo_app(common::sqlite()).await;
    let db = app.db.clone();
    let page = app.get("/report-unsafe-place", &nobody()).await.body;
    assert!(page.contains("id=\"report-map-controls\" class=\"govuk-!-margin-top-4\" hidden"), "hidden without JS");
    assert!(page.contains("/assets/report-map.js") && page.contains("name=\"longitude\""));
    assert!(page.contains("no list of postcodes"), "the page says which places it can find");
    let script = app.get("/assets/report-map.js", &nobody()).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.body.contains("input[name=longitude]") && script.body.contains("input[name=latitude]"));

    let reply = app.get("/report-unsafe-place/areas", &nobody()).await;
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

/// Snap points of each police location name ("On or near …" stripped) in the bundled demo
/// street files, read straight from the CSVs (only the gzip is undone by `SourceFile`).
fn demo_street_points() -> std::collections::BTreeMap<String, Vec<(f64, f64)>> {
    let mut out: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    for path in common::police_files(&common::workspace_root().join("data/demo/police")) {
        let reader = SourceFile::from_path(&path).reader().expect("open a demo file");
        let mut csv = csv::Reader::from_reader(reader);
        let header = csv.headers().expect("header").clone();
        let (lon, lat, loc) = (
            common::column(&header, "Longitude"),
            common::column(&header, "Latitude"),
            common::column(&header, "Location"),
        );
        for r in csv.records() {
            let r = r.expect("a CSV record");
            let (Some(name), Ok(x), Ok(y)) = (r[loc].strip_prefix("On or near "), r[lon].parse(), r[lat].parse())
            else {
                continue;
            };
            out.entry(name.to_string()).or_default().push((x, y));
        }
    }
    out
}

/// Metres between two WGS84 points (equirectangular: plenty for a few kilometres).
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let dx = (a.0 - b.0) * 111_320.0 * a.1.to_radians().cos();
    let dy = (a.1 - b.1) * 110_540.0;
    dx.hypot(dy)
}

/// Undoes the HTML escaping askama applies to text.
fn unescape(html: &str) -> String {
    [("&#38;", "&"), ("&amp;", "&"), ("&#39;", "'"), ("&#x27;", "'"), ("&#34;", "\""), ("&quot;", "\"")]
        .iter()
        .fold(html.to_string(), |s, (from, to)| s.replace(from, to))
}

fn stored_point(point: Option<&str>) -> (f64, f64) {
    let (lon, lat) = point.and_then(|p| p.split_once(',')).expect("a stored point");
    (lon.parse().expect("longitude"), lat.parse().expect("latitude"))
}

/// A street typed by name is found from the police data: one street gives its own point and
/// ward; a name in several places asks which (nothing stored) and the answer is taken.
async fn streets_are_found_by_name(app: TestApp) {
    let db = app.db.clone();
    alliance::demo::load_if_empty(&db).await.expect("demo data");
    let me = visitor(&app, "/report-unsafe-place").await;
    let raw = demo_street_points();
    let page = app.get("/report-unsafe-place", &me).await.body;
    assert!(page.contains("A street, town, village or ward, such as Church Street or Market Square"));

    // A street in one place only, chosen from the raw files: a "… Street" whose points all lie
    // within 800 m of each other and whose name no other location shares in any spelling.
    let spelled = |s: &str| {
        let lower = s.to_lowercase();
        lower.strip_suffix(" st").map_or(lower.clone(), |b| format!("{b} street"))
    };
    let (name, points) = raw
        .iter()
        .filter(|(n, p)| {
            n.ends_with(" Street")
                && !n.starts_with("St ")
                && p.len() >= 3
                && p.iter().all(|a| p.iter().all(|b| metres(*a, *b) < 800.0))
                && raw.keys().filter(|k| spelled(k) == spelled(n)).count() == 1
        })
        .max_by_key(|(n, p)| (p.len(), std::cmp::Reverse(n.to_string())))
        .expect("a street in one place in the demo data");
    // Typed in lower case with the abbreviation and stray spaces.
    let typed = format!("  {}  st", name.trim_end_matches(" Street").to_lowercase());
    let reply = post(&app, "/report-unsafe-place", &me, &place_report(&typed)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{typed}: {}", reply.body);
    let stored = db.unsafe_reports("pending", 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    let report = &stored[0];
    assert!(report.place.starts_with(&format!("{name}, ")), "{} for {name}", report.place);
    let ward = report.area_name.clone().expect("the street's ward");
    assert!(report.place.contains(&ward), "{} names its ward {ward}", report.place);
    assert!(report.ward_code.is_some() && report.district_code.is_some() && report.cell.is_some());
    // The stored point is one of the street's own snap points, so within 800 m of all of them.
    let at = stored_point(report.point.as_deref());
    assert!(points.iter().any(|p| metres(at, *p) < 1.0), "{at:?} is not a snap point of {name}");
    assert!(points.iter().all(|p| metres(at, *p) < 800.0));

    // Church Street is in several towns: the reporter is asked which, and nothing is stored.
    let church = &raw["Church Street"];
    assert!(church.iter().any(|a| church.iter().any(|b| metres(*a, *b) > 5_000.0)), "Church Streets far apart");
    let reply = post(&app, "/report-unsafe-place", &me, &place_report("church street")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = &reply.body;
    assert!(
        body.contains("govuk-error-summary")
            && body.contains("<a href=\"#place\">There is more than one Church Street")
    );
    assert!(
        body.contains("aria-describedby=\"place-hint place-error place-choices\""),
        "the list is read with the field"
    );
    let choices: Vec<String> = body
        .split("<li>Church Street, ")
        .skip(1)
        .filter_map(|rest| rest.split_once("</li>").map(|(c, _)| format!("Church Street, {c}")))
        .collect();
    assert!(choices.len() >= 3, "{choices:?}");
    assert_eq!(db.unsafe_reports("pending", 10).await.unwrap().len(), 1, "nothing stored");

    // One of the choices, typed back (HTML entities undone), is taken.
    let choice = choices.iter().find(|c| c.ends_with(", Stoke-on-Trent")).expect("a Church Street in Stoke-on-Trent");
    let typed = unescape(choice);
    let reply = post(&app, "/report-unsafe-place", &me, &place_report(&typed)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{typed}: {}", reply.body);
    // So is the street with only its district after it, without a comma.
    let reply = post(&app, "/report-unsafe-place", &me, &place_report("Church St Stoke-on-Trent")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let stored = db.unsafe_reports("pending", 10).await.unwrap();
    assert_eq!(stored.len(), 3);
    for report in &stored[1..] {
        assert_eq!(report.place, typed);
        assert_eq!(report.district_code.as_deref(), Some("E06000021"));
        let at = stored_point(report.point.as_deref());
        assert!(church.iter().any(|p| metres(at, *p) < 1.0), "{at:?} is a Church Street snap point");
    }

    // A street not in the place named: asked again with the places it is in.
    let reply = post(&app, "/report-unsafe-place", &me, &place_report("Church Street, Atlantis")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("We could not find Church Street in the place you gave"));
    assert!(reply.body.contains("<li>Church Street, "));
    // An unknown name still gets the plain error, with no list.
    let reply = post(&app, "/report-unsafe-place", &me, &place_report("Atlantis Boulevard")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unescape(&reply.body).contains("We could not find a place called \"Atlantis Boulevard\""));
    assert!(!reply.body.contains("id=\"place-choices\""));
    assert_eq!(db.unsafe_reports("pending", 10).await.unwrap().len(), 3);

    // The street index follows imports: a street first seen in a new file is found once the
    // index of the new generation is built (the server's warming builds it after an import).
    let before = db.street_gazetteer().await.unwrap();
    assert_eq!(db.locate_place("Quillfeather Street").await.unwrap(), PlaceLookup::NotFound);
    let csv = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
               ,2026-01,Staffordshire Police,Staffordshire Police,-2.179400,53.024500,On or near Quillfeather Street,,,Anti-social behaviour,,\n";
    db.import_police_file(&SourceFile::from_bytes("2026-01-staffordshire-street.csv", csv.as_bytes()), "test", &|_| {})
        .await
        .expect("a one-row file");
    let after = db.street_gazetteer().await.unwrap();
    assert_ne!(before.generation, after.generation);
    match db.locate_place("quillfeather st").await.unwrap() {
        PlaceLookup::Street { label, area, point } => {
            assert!(label.starts_with("Quillfeather Street, ") && label.ends_with(", Stoke-on-Trent"), "{label}");
            assert_eq!(area.kind, "ward");
            assert_eq!(point, (-2.1794, 53.0245));
        }
        other => panic!("{other:?}"),
    }
    // A lookup never waits for that build: it answers from the index before and starts the
    // build, which a full read (the warming's) then waits for.
    let csv = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n\
               ,2026-02,Staffordshire Police,Staffordshire Police,-2.179400,53.024500,On or near Wrenfold Lane,,,Anti-social behaviour,,\n";
    db.import_police_file(&SourceFile::from_bytes("2026-02-staffordshire-street.csv", csv.as_bytes()), "test", &|_| {})
        .await
        .expect("a one-row file");
    assert_eq!(db.locate_place("Wrenfold Lane").await.unwrap(), PlaceLookup::NotFound, "the index before");
    assert!(matches!(db.locate_place("quillfeather st").await.unwrap(), PlaceLookup::Street { .. }));
    let newest = db.street_gazetteer().await.unwrap();
    assert_ne!(newest.generation, after.generation);
    assert!(matches!(db.locate_place("wrenfold lane").await.unwrap(), PlaceLookup::Street { .. }));

    // The index holds the partnership's own streets only (a database may hold other forces'
    // data too): without Stoke-on-Trent among its districts, no Church Street there is offered.
    let mut profile = alliance_core::partnership::example("staffordshire").expect("an example").expect("valid");
    db.init_partnership(&profile, &common::test_actor()).await.unwrap();
    let in_stoke = |lookup: &PlaceLookup| match lookup {
        PlaceLookup::Street { label, .. } => label.ends_with(", Stoke-on-Trent"),
        PlaceLookup::Choose { choices, .. } => choices.iter().any(|c| c.ends_with(", Stoke-on-Trent")),
        _ => false,
    };
    assert!(in_stoke(&db.locate_place("Church Street").await.unwrap()));
    profile.districts.retain(|d| d.to_string() != "E06000021");
    db.set_partnership(&profile, None, &common::test_actor()).await.unwrap();
    let lookup = db.locate_place("Church Street").await.unwrap();
    assert!(!in_stoke(&lookup), "{lookup:?}");
    assert!(
        matches!(lookup, PlaceLookup::Street { .. } | PlaceLookup::Choose { .. }),
        "other districts' Church Streets: {lookup:?}"
    );
    // A record of no known LSOA is still placed by the wards.
    assert!(matches!(db.locate_place("quillfeather st").await.unwrap(), PlaceLookup::Street { .. }));
}

on_each_app!(streets_are_found_by_name);

/// A burst of 100 reports from one visitor: the hour's allowance is stored and acknowledged,
/// the rest get the 429 page; a filled honeypot is thanked and dropped.
async fn a_burst_of_100_reports_is_throttled_and_none_accepted_is_lost(app: TestApp) {
    let me = app.visitor("/report-unsafe-place").await;
    let today = alliance_db::clock::today_date();
    let (day, month, year) =
        (today.format("%d").to_string(), today.format("%m").to_string(), today.format("%Y").to_string());
    let mut fields = vec![
        ("website", ""),
        ("longitude", "-2.1794"),
        ("latitude", "53.0027"),
        ("date-day", day.as_str()),
        ("date-month", month.as_str()),
        ("date-year", year.as_str()),
        ("time-of-day", "night"),
        ("reasons", "poor-lighting"),
        ("reasons", "followed"),
    ];
    let (mut accepted, mut throttled) = (0, 0);
    for _ in 0..100 {
        let reply = app.post_form("/report-unsafe-place", &me, &fields).await;
        match reply.status {
            StatusCode::SEE_OTHER => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(reply.body.contains("govuk-heading-xl") && reply.body.contains("Exit this page"));
                throttled += 1
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    let allowance = alliance_web::auth::throttle::PUBLIC_FORM_ACCEPTED as usize;
    assert_eq!((accepted, throttled), (allowance, 100 - allowance), "the hour's allowance, then 429s");
    let stored = || async { app.db.unsafe_reports("pending", 1000).await.unwrap().len() };
    assert_eq!(stored().await, accepted, "every accepted report is stored");
    // The honeypot: thanked, not stored.
    fields[0] = ("website", "spam");
    assert_eq!(app.post_form("/report-unsafe-place", &me, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(stored().await, accepted);
}

on_each_app!(a_burst_of_100_reports_is_throttled_and_none_accepted_is_lost);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_joins_the_charter_is_verified_and_appears_in_the_directory() {
    let app = demo_app(common::sqlite()).await;
    let db = app.db.clone();
    let commitments = db.charter_commitments().await.unwrap();
    assert_eq!(commitments.len(), 3);
    let me = visitor(&app, "/safer-places/join").await;
    let mut form: Vec<(String, String)> = [
        ("website", ""),
        ("name", "The Example Arms"),
        ("org-type", "Pub, bar or club"),
        ("address", "1 High Street"),
        ("postcode", "ST1 1AA"),
        ("contact-name", "Sam"),
        ("contact-email", "sam@example.org"),
        ("contact-phone", ""),
        ("staff-trained", "12"),
        ("venue-name-1", "The Example Arms"),
        ("venue-address-1", "1 High Street"),
        ("venue-postcode-1", "ST1 1AA"),
        ("venue-place-1", "Stoke-on-Trent"),
        ("venue-location-1", "53.0245, -2.1794"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for c in &commitments {
        form.push((format!("agree-{}", c.id), "yes".to_string()));
        form.push((format!("how-{}", c.id), "Trained staff and a reporting card".to_string()));
        form.push((format!("evidence-{}", c.id), String::new()));
    }
    // Missing a commitment: refused with an error, nothing stored.
    let missing = format!("agree-{}", commitments[0].id);
    let partial: Vec<(String, String)> = form.iter().filter(|(k, _)| *k != missing).cloned().collect();
    assert_eq!(partial.len() + 1, form.len());
    let reply = post(&app, "/safer-places/join", &me, &partial).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(db.signatories("submitted").await.unwrap().is_empty());

    let reply = post(&app, "/safer-places/join", &me, &form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let submitted = db.signatories("submitted").await.unwrap();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].pledges.len(), 3);
    // The venue reads back field by field as given, placed in the district it named.
    let venue = &submitted[0].venues[0];
    assert_eq!(
        (venue.name.as_str(), venue.address.as_str(), venue.postcode.as_str()),
        ("The Example Arms", "1 High Street", "ST1 1AA")
    );
    assert_eq!(
        (venue.area_code.as_deref(), venue.area_name.as_deref(), venue.district_code.as_deref()),
        (Some("E06000021"), Some("Stoke-on-Trent"), Some("E06000021"))
    );
    assert_eq!(venue.point, Some((-2.1794, 53.0245)));
    // Not in the directory until verified.
    assert!(!app.get("/safer-places?q=stoke", &nobody()).await.body.contains("The Example Arms"));

    let staff = staff(&app).await;
    let form = [("action", "verify"), ("reason", "")];
    let reply = app.post_form(&format!("/staff/safer-places/{}", submitted[0].id), &staff, &form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let page = app.get("/safer-places?q=stoke-on-trent", &nobody()).await.body;
    assert!(page.contains("The Example Arms") && page.contains("<circle"), "found by district, on the map");
    assert!(app.get("/safer-places?q=ST1", &nobody()).await.body.contains("The Example Arms"));
    let today = alliance_db::clock::today_date();
    assert_eq!(db.current_signatory_count(today).await.unwrap(), 1);
    // A year and a day later it has lapsed: out of the directory, on the staff's reminder list.
    let later = today + chrono::Days::new(367);
    assert!(db.charter_directory("", later).await.unwrap().is_empty());
    assert_eq!(db.current_signatory_count(later).await.unwrap(), 0);
    assert_eq!(db.charter_renewals_due(later, 30).await.unwrap().len(), 1);
    // At most six commitments.
    for i in 0..3 {
        db.add_charter_commitment(&format!("Extra {i}"), "More", &common::test_actor()).await.unwrap();
    }
    assert!(matches!(
        db.add_charter_commitment("Seventh", "Too many", &common::test_actor()).await,
        Err(alliance_db::DbError::Conflict { field: "title", .. })
    ));
}

/// The storage layer holds the charter's rule itself, whatever calls it: an application
/// pledges every active commitment and nothing else, and a charter without commitments
/// cannot be joined at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_refuses_applications_that_do_not_pledge_exactly_the_charter() {
    use alliance_db::public::charter::{NewPledge, NewSignatory};
    let t = common::sqlite();
    let db = t.connect().await;
    assert!(db.charter_commitments().await.unwrap().is_empty(), "a new database has no charter of its own");
    let application = |pledges: Vec<i64>| NewSignatory {
        name: "The Example Arms".into(),
        org_type: "business".into(),
        address: "1 High Street".into(),
        postcode: "ST1 1AA".into(),
        contact_name: "Sam".into(),
        contact_email: "sam@example.org".into(),
        contact_phone: String::new(),
        staff_trained: 1,
        venues: Vec::new(),
        pledges: pledges
            .into_iter()
            .map(|commitment_id| NewPledge { commitment_id, how_met: "Trained staff".into(), evidence: String::new() })
            .collect(),
    };
    let refused =
        |r: Result<i64, alliance_db::DbError>| matches!(r, Err(alliance_db::DbError::Invalid { field: "pledges", .. }));
    assert!(refused(db.register_signatory(&application(Vec::new()), None).await), "nothing to sign");
    let first = db.add_charter_commitment("Safe venues", "Lighting", &common::test_actor()).await.unwrap();
    let second = db.add_charter_commitment("Trained staff", "Training", &common::test_actor()).await.unwrap();
    assert!(refused(db.register_signatory(&application(vec![first]), None).await), "a commitment left out");
    assert!(
        refused(db.register_signatory(&application(vec![first, second, 9_999]), None).await),
        "one not in the charter"
    );
    assert!(db.signatories("submitted").await.unwrap().is_empty(), "nothing stored by a refusal");
    db.register_signatory(&application(vec![first, second]), None).await.expect("exactly the charter");
    assert_eq!(db.signatories("submitted").await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_found_by_need_and_area_and_survive_the_oruk_round_trip() {
    let t = common::sqlite();
    let db = t.connect().await;
    let seed = common::workspace_root().join("data/seed/services-example.json");
    assert_eq!(db.import_services_file(&SourceFile::from_path(&seed)).await.unwrap(), 5);
    let all = db.services(&ServiceSearch::default()).await.unwrap();
    assert!(all.iter().all(|s| s.description.contains("Example service — not a real organisation")));
    let app = TestApp::start_with(t, AppState::new(db).with_secure_cookies(false)).await;
    let page = app.get("/find-help?q=&need=knife-crime&area=Cannock+Chase&age=14&kind=", &nobody()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Evening boxing club"), "{}", page.body);
    assert!(!page.body.contains("Youth mentoring"), "Stoke-on-Trent only");
    assert!(!page.body.contains("Domestic abuse helpline"), "another need");
    // An age that cannot be read is said on its field (it was ignored, listing services for
    // every age as if they matched); the API refuses it.
    for age in ["abc", "-1", "200"] {
        let page = app.get(&format!("/find-help?need=knife-crime&age={age}"), &nobody()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("id=\"age-error\"") && page.body.contains("whole number of years"), "{age}");
        let api = app.get(&format!("/api/v1/services?age={age}"), &nobody()).await;
        assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY, "{age}: {}", api.body);
    }

    // ORUK round trip: export through the API, import into a fresh database, same records.
    let api = app.get("/api/v1/services", &nobody()).await;
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

/// The public pages say the threshold the partnership configured, not a fixed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_pages_state_the_configured_threshold() {
    let t = common::sqlite();
    let db = t.connect().await;
    let ten = alliance_app::Disclosure::new(10).expect("a valid threshold");
    let app = TestApp::start_with(t, AppState::new(db).with_disclosure(ten).with_secure_cookies(false)).await;
    let figures = app.get("/public/figures", &nobody()).await;
    assert_eq!(figures.status, StatusCode::OK);
    assert!(figures.body.contains("any count from 1 to 9 is shown as \"fewer than 10\""), "{}", figures.body);
    for page in ["/you-said-we-did", "/report-unsafe-place"] {
        let reply = app.get(page, &nobody()).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        assert!(reply.body.contains("fewer than 10") && !reply.body.contains("fewer than 5"), "{page}: {}", reply.body);
    }
}

/// Issue 18: the public pages every visitor sees alike are rendered once and served again
/// until the stored data changes (`alliance_web::public_cache`): a change recorded in the audit
/// log (here a published "you said, we did" response) is on the very next request; pages with
/// a form (a per-visitor CSRF token) and staff pages are never kept.
async fn public_pages_are_kept_until_the_data_changes(app: TestApp) {
    let first = app.get("/you-said-we-did", &nobody()).await;
    assert_eq!((first.status, first.header("x-alliance-cache")), (StatusCode::OK, Some("miss")));
    let second = app.get("/you-said-we-did", &nobody()).await;
    assert_eq!(second.header("x-alliance-cache"), Some("hit"));
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("content-type"), first.header("content-type"));
    // Another address is kept on its own; a query string is part of the address.
    assert_eq!(app.get("/public/figures", &nobody()).await.header("x-alliance-cache"), Some("miss"));
    assert_eq!(app.get("/find-help?need=x", &nobody()).await.header("x-alliance-cache"), Some("miss"));
    assert_eq!(app.get("/find-help?need=x", &nobody()).await.header("x-alliance-cache"), Some("hit"));

    // Any change of stored data appends an audit row in its transaction (publishing a response,
    // moderating a report: `a_report_is_moderated_then_counted_with_suppression` goes through
    // those pages); the next public request renders afresh.
    app.db
        .audit(&alliance_db::audit::AuditEvent {
            actor: "cli:test",
            action: "test-change",
            target: "public-cache",
            detail: "",
            ip: "cli",
        })
        .await
        .expect("audit row");
    assert_eq!(app.get("/you-said-we-did", &nobody()).await.header("x-alliance-cache"), Some("miss"));
    assert_eq!(app.get("/you-said-we-did", &nobody()).await.header("x-alliance-cache"), Some("hit"));

    // A page with a form carries each visitor's own token: never kept.
    let one = visitor(&app, "/report-unsafe-place").await;
    let two = visitor(&app, "/report-unsafe-place").await;
    let (a, b) = (app.get("/report-unsafe-place", &one).await, app.get("/report-unsafe-place", &two).await);
    assert_eq!((a.header("x-alliance-cache"), b.header("x-alliance-cache")), (None, None));
    assert_ne!(csrf_in(&a.body), csrf_in(&b.body));
    // Staff pages are not public pages.
    let staff = staff(&app).await;
    assert_eq!(app.get("/staff/you-said-we-did", &staff).await.header("x-alliance-cache"), None);
}

on_each_app!(public_pages_are_kept_until_the_data_changes);

/// The report form suggests (and its map shows) the wards and districts of the partnership's
/// area once its profile names districts (a national data set holds every district), and all
/// before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_form_suggests_the_partnerships_places() {
    let app = demo_app(common::sqlite()).await;
    let suggestions = |body: &str| -> Vec<String> {
        let list = body.split("<datalist id=\"place-names\">").nth(1).and_then(|s| s.split("</datalist>").next());
        let list = list.expect("the suggestions list");
        list.split("<option value=\"").skip(1).filter_map(|o| o.split('"').next()).map(unescape).collect()
    };
    let before = suggestions(&app.get("/report-unsafe-place", &nobody()).await.body);
    assert!(before.iter().any(|n| n == "Abbey Hulton"), "a Stoke-on-Trent ward");
    assert!(before.iter().any(|n| n == "Cannock Chase"), "another district");

    let stoke = "E06000021";
    let mut profile = alliance_core::partnership::example("staffordshire").expect("an example").expect("valid");
    profile.districts.retain(|d| d.to_string() == stoke);
    app.db.init_partnership(&profile, &common::test_actor()).await.unwrap();
    let after = suggestions(&app.get("/report-unsafe-place", &nobody()).await.body);
    assert!(after.iter().any(|n| n == "Abbey Hulton") && after.iter().any(|n| n == "Stoke-on-Trent"), "{after:?}");
    assert!(!after.iter().any(|n| n == "Cannock Chase"), "no other district: {after:?}");
    let mut expected: Vec<String> =
        app.db.boundaries("ward", Some(stoke)).await.unwrap().into_iter().map(|w| w.name).collect();
    expected.push("Stoke-on-Trent".into());
    expected.sort();
    expected.dedup();
    assert_eq!(after, expected, "the district's wards and the district, in order");
    // The form's map offers the same wards.
    let map: serde_json::Value =
        serde_json::from_str(&app.get("/report-unsafe-place/areas", &nobody()).await.body).expect("GeoJSON");
    let features = map["features"].as_array().expect("features");
    assert!(!features.is_empty() && features.iter().all(|f| f["properties"]["district"] == "Stoke-on-Trent"));
    assert!(after.len() < before.len());
    // The wards the public pages place points in and draw (the safer-places map): the
    // district's, so a point in another district is in no ward of the partnership's.
    let wards = app.db.partnership_wards().await.unwrap();
    assert_eq!(wards.iter().map(|w| w.code.clone()).collect::<Vec<_>>(), {
        let mut codes: Vec<String> =
            app.db.boundaries("ward", Some(stoke)).await.unwrap().into_iter().map(|w| w.code).collect();
        codes.sort();
        codes
    });
    let inside = |ward: &alliance_db::areas::StoredBoundary| {
        let g: geojson::Geometry = ward.geometry.parse().expect("GeoJSON");
        let shape = geo::Geometry::<f64>::try_from(g).expect("a shape");
        let p = geo::InteriorPoint::interior_point(&shape).expect("a point inside");
        (p.x(), p.y())
    };
    let cannock = app.db.boundaries("ward", Some("E07000192")).await.unwrap();
    let (x, y) = inside(&cannock[0]);
    assert_eq!(app.db.ward_at(x, y).await.unwrap(), None, "a Cannock Chase point is in no ward of Stoke-on-Trent's");
    let (x, y) = inside(&wards[0]);
    assert_eq!(app.db.ward_at(x, y).await.unwrap().map(|w| w.code), Some(wards[0].code.clone()));
}

/// A report sent twice (a double click, a retry after a slow answer) is stored once: the
/// form carries a one-time key, both sends are answered as sent, and one report waits for
/// moderation; the next report (a new key from the page) is stored as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_sent_twice_at_once_is_stored_once() {
    let app = demo_app(common::sqlite()).await;
    let me = visitor(&app, "/report-unsafe-place").await;
    let key_on = |page: &str| {
        let after = page.split("name=\"submission\" value=\"").nth(1).expect("the form's key");
        after.split('"').next().expect("quoted").to_string()
    };
    let key = key_on(&app.get("/report-unsafe-place", &me).await.body);
    assert!(key.len() >= 32, "a random key: {key}");
    let mut form = place_report("stoke-on-trent");
    form.push(("submission".into(), key.clone()));
    let (a, b) =
        tokio::join!(post(&app, "/report-unsafe-place", &me, &form), post(&app, "/report-unsafe-place", &me, &form));
    assert_eq!((a.status, b.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{} {}", a.body, b.body);
    assert_eq!(app.db.unsafe_reports("pending", 10).await.unwrap().len(), 1, "stored once");
    let next = key_on(&app.get("/report-unsafe-place", &me).await.body);
    assert_ne!(next, key, "each page gives a new key");
    let mut form = place_report("stoke-on-trent");
    form.push(("submission".into(), next));
    assert_eq!(post(&app, "/report-unsafe-place", &me, &form).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.db.unsafe_reports("pending", 10).await.unwrap().len(), 2, "a second report is a second report");
}

/// A point inside a stored ward (WGS84).
fn inside_ward(ward: &alliance_db::areas::StoredBoundary) -> (String, String) {
    let g: geojson::Geometry = ward.geometry.parse().expect("GeoJSON");
    let shape = geo::Geometry::<f64>::try_from(g).expect("a shape");
    let p = geo::InteriorPoint::interior_point(&shape).expect("a point inside");
    (format!("{:.5}", p.x()), format!("{:.5}", p.y()))
}

/// Once the profile names districts, a report must be of a place in them: a district of the
/// data held outside them, or a point on the map outside their wards, is refused with the
/// area named and nothing stored; a place and a point inside are taken. A profile whose
/// districts have no geography held (Wiltshire's, on Staffordshire's data) takes no point
/// and no other area's place.
async fn reports_outside_the_partnerships_area_are_refused(t: common::TestDb) {
    let app = demo_app(t).await;
    let stoke = "E06000021";
    let mut profile = alliance_core::partnership::example("staffordshire").expect("an example").expect("valid");
    profile.districts.retain(|d| d.to_string() == stoke);
    app.db.init_partnership(&profile, &common::test_actor()).await.unwrap();
    let me = visitor(&app, "/report-unsafe-place").await;
    let pending = || async { app.db.unsafe_reports("pending", 50).await.unwrap().len() };

    let refused = post(&app, "/report-unsafe-place", &me, &place_report("Cannock Chase")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let body = unescape(&refused.body);
    assert!(body.contains("Choose a place in Stoke-on-Trent: \"Cannock Chase\" is outside"), "{body}");
    assert!(body.contains("href=\"#place\""), "the error summary names the field");
    assert_eq!(pending().await, 0, "nothing stored");

    let cannock = app.db.boundaries("ward", Some("E07000192")).await.unwrap();
    let (x, y) = inside_ward(&cannock[0]);
    let refused = post(&app, "/report-unsafe-place", &me, &report_form("", &x, &y)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let body = unescape(&refused.body);
    assert!(body.contains("Choose a point in Stoke-on-Trent"), "{body}");
    assert!(!body.contains(&format!("value=\"{x}\"")), "the refused point is not sent back");
    // A place inside does not carry a point outside.
    let refused = post(&app, "/report-unsafe-place", &me, &report_form("Stoke-on-Trent", &x, &y)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pending().await, 0, "nothing stored");

    let taken = post(&app, "/report-unsafe-place", &me, &place_report("Stoke-on-Trent")).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    let wards = app.db.boundaries("ward", Some(stoke)).await.unwrap();
    let (x, y) = inside_ward(&wards[0]);
    let taken = post(&app, "/report-unsafe-place", &me, &report_form("", &x, &y)).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    let stored = app.db.unsafe_reports("pending", 50).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|r| r.district_code.as_deref() == Some(stoke)), "{stored:?}");

    // Wiltshire and Swindon's profile on a database holding no geography of theirs.
    let (_, version) = app.db.partnership_with_version().await.unwrap();
    let wiltshire = alliance_core::partnership::example("wiltshire-and-swindon").expect("an example").expect("valid");
    app.db.set_partnership(&wiltshire, Some(version), &common::test_actor()).await.unwrap();
    let refused = post(&app, "/report-unsafe-place", &me, &place_report("Stoke-on-Trent")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(
        unescape(&refused.body).contains("Choose a place in the Wiltshire and Swindon VRP area"),
        "{}",
        refused.body
    );
    let refused = post(&app, "/report-unsafe-place", &me, &report_form("", "-2.18", "53.02")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("We cannot check points on the map"), "{}", refused.body);
    assert_eq!(pending().await, 2, "nothing more stored");
}

on_each_db!(reports_outside_the_partnerships_area_are_refused);

/// The form offers its map only when there are wards to draw and click: without them it says
/// nothing of a map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_map_is_offered_only_with_wards() {
    let app = TestApp::start(common::sqlite()).await;
    let page = app.get("/report-unsafe-place", &nobody()).await.body;
    assert!(!page.contains("report-map-controls") && !page.contains("ward outlines"), "{page}");
    let app = demo_app(common::sqlite()).await;
    let page = app.get("/report-unsafe-place", &nobody()).await.body;
    assert!(page.contains("report-map-controls") && page.contains("The map shows ward outlines"));
}
