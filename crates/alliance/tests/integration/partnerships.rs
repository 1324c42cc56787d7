//! Alliance serves any partnership, not only the one it was first modelled on (Staffordshire
//! and Stoke-on-Trent): run as Wiltshire and Swindon or the West Midlands (the example
//! profiles in `data/partnerships/`), no page shows another partnership's charter pledges,
//! place names or office; the directory's area filter matches whole names and offers every
//! district of the partnership; the dashboard says when none of the police files held is of
//! the partnership's force; and no role's navigation leads to a refusal.

use alliance_core::access::Role;
use alliance_core::governance::IndicatorSource;
use alliance_core::partnership::{example, Profile};
use alliance_db::governance::NewIndicator;
use alliance_ingest::SourceFile;
use reqwest::StatusCode;
use sqlx::Connection;

use crate::common::app::{Caller, TestApp};
use crate::common::{self, TestDb};

/// A shipped example profile.
fn profile(name: &str) -> Profile {
    example(name).expect("shipped").expect("valid")
}

/// Stores the shipped example `name` as the app's partnership (before any page is asked for,
/// so the pages' profile cache reads it).
async fn serve_as(app: &TestApp, profile: &Profile) {
    app.db.init_partnership(profile, &common::test_actor()).await.expect("profile");
}

/// Runs `sql` (one or more statements) on the test database beside the library.
async fn run_sql(t: &TestDb, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&t.url).await.expect("connect");
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.expect("close");
}

/// The charter's active commitments' titles.
async fn titles(db: &alliance_db::Db) -> Vec<String> {
    db.charter_commitments().await.expect("read").into_iter().map(|c| c.title).collect()
}

/// Makes the charter's commitments the three rows migration 0008 seeds (and nothing else)
/// and unrecords 0043, as in a database migrated before 0043; `then` runs after that, before
/// the migration does (on the next connection, which is returned).
async fn as_before_0043(t: &TestDb, db: alliance_db::Db, then: &str) -> alliance_db::Db {
    db.close().await;
    let mut sql = String::from(
        "DELETE FROM alliance_migrations WHERE version = 43; DELETE FROM charter_pledges; \
         DELETE FROM charter_signatories; DELETE FROM charter_commitments;",
    );
    for (i, c) in profile("staffordshire").charter_commitments.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO charter_commitments (position, title, description) VALUES ({}, '{}', '{}');",
            i + 1,
            c.title.replace('\'', "''"),
            c.description.replace('\'', "''")
        ));
    }
    sql.push_str(then);
    run_sql(t, &sql).await;
    t.connect().await
}

/// Migration 0043 removes the Staffordshire charter's seeded commitments from every database
/// but a Staffordshire deployment's: kept where the stored profile is Staffordshire's, where
/// users exist without a profile (a deployment from before profiles), where a row was edited
/// or pledged to; removed on a new database and under another partnership's profile.
async fn the_seeded_charter_is_staffordshires_only(t: TestDb) {
    let db = t.connect().await;
    assert!(titles(&db).await.is_empty(), "a new database has no commitments");

    // Nobody, no profile (a database nobody has set up): removed.
    let db = as_before_0043(&t, db, "").await;
    assert!(titles(&db).await.is_empty());

    // Users but no profile: a deployment from before profiles, Staffordshire's; kept.
    common::add_user(&db, "analyst@example.org", Role::Analyst, "Staffordshire County Council").await;
    let db = as_before_0043(&t, db, "").await;
    assert_eq!(titles(&db).await.len(), 3, "a deployment older than profiles keeps them");

    // Staffordshire's profile (one stored before profiles named commitments): kept.
    let mut staffordshire = profile("staffordshire");
    staffordshire.charter_commitments.clear();
    db.init_partnership(&staffordshire, &common::test_actor()).await.expect("profile");
    let db = as_before_0043(&t, db, "").await;
    assert_eq!(titles(&db).await.len(), 3, "a Staffordshire deployment keeps them");

    // Another partnership's profile: removed, but for an edited row and one pledged to.
    db.set_partnership(&profile("wiltshire-and-swindon"), None, &common::test_actor()).await.expect("profile");
    let db = as_before_0043(&t, db, "").await;
    assert!(titles(&db).await.is_empty(), "Wiltshire's charter lists nobody else's pledges");
    let db = as_before_0043(
        &t,
        db,
        "UPDATE charter_commitments SET description = 'Our own words.' WHERE position = 1;
         INSERT INTO charter_signatories (name, org_type, address, postcode, contact_name, contact_email,
             contact_phone, status, submitted_at)
             VALUES ('The Example Arms', 'business', '1 High Street', 'SN1 1AA', 'Sam', 'sam@example.org', '',
                 'submitted', '2025-01-01T00:00:00Z');
         INSERT INTO charter_pledges (signatory_id, commitment_id, how_met, evidence)
             SELECT s.id, c.id, 'Trained staff', '' FROM charter_signatories s, charter_commitments c
             WHERE c.position = 2;",
    )
    .await;
    let kept = db.charter_commitments().await.expect("read");
    let kept: Vec<(i64, &str)> = kept.iter().map(|c| (c.position, c.description.as_str())).collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept[0], (1, "Our own words."), "an edited commitment is the partnership's");
    assert_eq!(kept[1].0, 2, "a commitment pledged to stays with its pledge");
    db.close().await;
}

on_each_db!(the_seeded_charter_is_staffordshires_only);

/// A new partnership's charter pages list no commitments and tell an administrator where to
/// add them; nobody can join a charter without any. `partnership init --example
/// staffordshire` brings Staffordshire's.
async fn a_new_partnership_sees_no_other_partnerships_pledges(app: TestApp) {
    serve_as(&app, &profile("wiltshire-and-swindon")).await;
    let staffordshire = profile("staffordshire");
    let theirs = &staffordshire.charter_commitments[0].description;
    for page in ["/safer-places", "/safer-places/join"] {
        let reply = app.get(page, &Caller::default()).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        assert!(!reply.body.contains(theirs.as_str()), "{page} lists Staffordshire's commitments");
        assert!(reply.body.contains("id=\"no-commitments\""), "{page}: {}", reply.body);
        assert!(reply.body.contains("href=\"/admin/partnership#charter\""), "{page} says where to add them");
    }
    let join = app.get("/safer-places/join", &Caller::default()).await;
    assert!(!join.body.contains("Send application"), "no form to send");
    let visitor = app.visitor("/safer-places/join").await;
    let fields = [
        ("name", "The Example Arms"),
        ("org-type", "Pub, bar or club"),
        ("address", "1 High Street"),
        ("postcode", "SN1 1AA"),
        ("contact-name", "Sam"),
        ("contact-email", "sam@example.org"),
        ("venue-name-1", "The Example Arms"),
        ("venue-place-1", "Swindon"),
    ];
    let sent = app.post_form("/safer-places/join", &visitor, &fields).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", sent.body);
    assert!(sent.body.contains("The charter has no commitments yet"));
    assert!(app.db.signatories("submitted").await.expect("read").is_empty());

    // The shipped Staffordshire profile, loaded by the command line, brings its three.
    let other = common::sqlite();
    let out = tokio::task::spawn_blocking({
        let url = other.url.clone();
        move || common::alliance(&url, &["partnership", "init", "--example", "staffordshire"])
    })
    .await
    .expect("ran");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = other.connect().await;
    let expected: Vec<String> = staffordshire.charter_commitments.iter().map(|c| c.title.clone()).collect();
    assert_eq!(titles(&db).await, expected);
    db.close().await;
}

on_each_app!(a_new_partnership_sees_no_other_partnerships_pledges);

/// Words that name the partnership Alliance was first modelled on.
const STAFFORDSHIRE_WORDS: [&str; 3] = ["Hanley", "Stoke", "Staffordshire"];

/// Street names of the ED generator's former built-in list found only in Stoke-on-Trent and
/// Staffordshire's towns.
const STOKE_STREETS: [&str; 8] = [
    "Piccadilly",
    "Marsh Street",
    "Tontine Street",
    "Hartshill Road",
    "Uttoxeter Road",
    "Ironmarket",
    "Gaolgate",
    "Merrial",
];

/// Run as Wiltshire and Swindon, the pages, the command line's help and the generated ED
/// sample name nothing of Staffordshire's; the accessibility statement gives the profile's
/// contact and says what the report form really finds places by.
///
/// Pages checked: `/public`, `/report-unsafe-place`, `/find-help`, `/safer-places`,
/// `/safer-places/join`, `/accessibility`, `/developers` (the public's); `/`, `/places/new`,
/// `/interventions/new`, `/partner-data`, `/admin/partnership` (an administrator's).
async fn pages_name_no_other_partnership(app: TestApp) {
    let mut wiltshire = profile("wiltshire-and-swindon");
    wiltshire.contact_email = Some("vrp@wiltshire.example".into());
    serve_as(&app, &wiltshire).await;
    let admin = app.signed_in("admin@wiltshire.example", Role::Administrator, "Wiltshire Council").await;
    let public = [
        "/public",
        "/report-unsafe-place",
        "/find-help",
        "/safer-places",
        "/safer-places/join",
        "/accessibility",
        "/developers",
    ];
    let staff = ["/", "/places/new", "/interventions/new", "/partner-data", "/admin/partnership"];
    let pages = public.iter().map(|p| (p, Caller::default())).chain(staff.iter().map(|p| (p, admin.clone())));
    for (page, who) in pages {
        let reply = app.get(page, &who).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        for word in STAFFORDSHIRE_WORDS {
            assert!(!reply.body.contains(word), "{page} says {word}");
        }
    }
    let developers = app.get("/developers", &Caller::default()).await.body;
    assert!(developers.contains("2025-01-wiltshire-street.csv"), "the example file is of the partnership's force");

    let statement = app.get("/accessibility", &Caller::default()).await.body;
    assert!(statement.contains("href=\"mailto:vrp@wiltshire.example\""), "the profile's contact");
    assert!(!statement.contains("Fire and Crime Commissioner"));
    assert!(!statement.contains("no list of postcodes or streets"), "the report form finds streets and postcodes");
    assert!(statement.contains("street") && statement.contains("postcode"));

    // The command line's help, and an ED sample generated on this database.
    let url = app.db_url.clone();
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("ed.csv");
    let file_arg = file.display().to_string();
    let (help, generated) = tokio::task::spawn_blocking(move || {
        let help = common::alliance(&url, &["users", "add", "--help"]);
        let args = ["generate", "ed", "--from", "2025-01-01", "--to", "2025-01-31", "--out", file_arg.as_str()];
        (help, common::alliance(&url, &args))
    })
    .await
    .expect("ran");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--org"), "{help}");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let sample = std::fs::read_to_string(&file).expect("the sample");
    assert!(sample.contains("SYNTHETIC"));
    for word in STAFFORDSHIRE_WORDS.iter().chain(&STOKE_STREETS).chain(&["RJE01"]) {
        assert!(!help.contains(word), "users add --help says {word}");
        assert!(!sample.contains(word), "the generated sample says {word}");
    }
}

on_each_app!(pages_name_no_other_partnership);

/// The accessibility statement without a contact in the profile names the partnership and no
/// office it may not have.
async fn the_accessibility_statement_without_a_contact(app: TestApp) {
    serve_as(&app, &profile("west-midlands")).await;
    let statement = app.get("/accessibility", &Caller::default()).await.body;
    assert!(statement.contains("contact the West Midlands Violence Reduction Partnership"), "{statement}");
    assert!(!statement.contains("mailto:") && !statement.contains("Commissioner"));
}

on_each_app!(the_accessibility_statement_without_a_contact);

/// The directory's area filter matches an area's whole name (Stafford is not East
/// Staffordshire), offers every district of the partnership whether or not a service names
/// it, and finds the services that cover the whole partnership area in any of them.
async fn find_help_by_whole_area_names(app: TestApp) {
    serve_as(&app, &profile("staffordshire")).await;
    let none = app.get("/find-help", &Caller::default()).await.body;
    assert!(none.contains("id=\"none-listed\""), "nothing listed yet");
    let districts = common::workspace_root().join("data/demo/areas/districts-staffordshire.csv.gz");
    app.db.import_area_file(&SourceFile::from_path(&districts), "test").await.expect("districts");
    let services = common::workspace_root().join("data/seed/services-example.json");
    app.db.import_services_file(&SourceFile::from_path(&services)).await.expect("services");

    let stafford = app.get("/find-help?area=Stafford", &Caller::default()).await.body;
    assert!(stafford.contains("Evening boxing club"), "the service naming Stafford");
    assert!(stafford.contains("Domestic abuse helpline"), "the service of the whole partnership area");
    assert!(!stafford.contains("drug and alcohol service"), "East Staffordshire is not Stafford");
    let lower = app.get("/find-help?area=stafford", &Caller::default()).await.body;
    assert!(lower.contains("Evening boxing club") && !lower.contains("drug and alcohol service"), "in any case");
    assert!(lower.contains("<option value=\"Stafford\" selected>"), "the list shows the area chosen");

    for district in ["South Staffordshire", "Staffordshire Moorlands"] {
        assert!(stafford.contains(&format!("<option value=\"{district}\"")), "{district} can be chosen");
        let url = format!("/find-help?area={}", district.replace(' ', "+"));
        let found = app.get(&url, &Caller::default()).await.body;
        assert!(found.contains("Domestic abuse helpline") && !found.contains("Evening boxing club"), "{district}");
    }
    let no_match = app.get("/find-help?q=zzzz&area=Stafford", &Caller::default()).await.body;
    assert!(no_match.contains("id=\"no-match\""));
}

on_each_app!(find_help_by_whole_area_names);

/// With only another force's police files held, the dashboard says whose they are and that
/// the partnership's force has none; once a profile names that force, it says nothing.
async fn the_dashboard_names_the_forces_held(app: TestApp) {
    serve_as(&app, &profile("west-midlands")).await;
    let admin = app.signed_in("admin@example.org", Role::Administrator, "West Midlands Combined Authority").await;
    // Before any police file: a period is no data, not months of no crime.
    let empty = app.get("/api/v1/counts?by=month&from=2025-01&area=everywhere", &admin).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.body);
    assert!(empty.body.contains("no police data is held yet"), "{}", empty.body);
    let file = common::workspace_root().join("data/demo/police/2025-01-staffordshire-street.csv.gz");
    common::import_all(&app.db, &[file]).await;
    let dashboard = app.get("/", &admin).await.body;
    assert!(dashboard.contains("id=\"other-forces\""), "{dashboard}");
    let warning = dashboard.split("id=\"other-forces\"").nth(1).expect("the warning");
    let warning = warning.split("</div>").next().expect("its end");
    assert!(warning.contains("held only for Staffordshire Police"), "{warning}");
    assert!(warning.contains("West Midlands Police, has none"), "{warning}");
    assert!(warning.contains("These are not the partnership&#39;s police figures"), "{warning}");
    // The SNA page says so too, and the public page publishes no police figure of another
    // force's as the partnership's.
    let sna = app.get("/sna", &admin).await.body;
    assert!(sna.contains("id=\"other-forces\"") && sna.contains("held only for Staffordshire Police"), "{sna}");
    let public = app.get("/public/figures", &Caller::default()).await.body;
    assert!(public.contains("once West Midlands Police&#39;s data has been loaded"), "{public}");
    assert!(!public.contains("crimes-by-month") && !public.contains("Staffordshire"), "{public}");
    // An indicator counted from police records (as the Board pack shows it) says so too.
    let source = IndicatorSource::parse("computed:police;measure=count;select=crime-type:Robbery").expect("source");
    let robbery = app
        .db
        .create_indicator(
            &NewIndicator { source, ..common::governance::entered_indicator("robbery", "Robbery") },
            &common::test_actor(),
        )
        .await
        .expect("indicator");
    let page = app.get(&format!("/indicators/{robbery}"), &admin).await.body;
    assert!(page.contains("Counted from other forces&#39; records only: West Midlands Police&#39;s files"), "{page}");
    // The API does not pass Staffordshire's records off as the West Midlands': with none of
    // the partnership's districts held it refuses, and counts every record only when asked.
    let refused = app.get("/api/v1/counts?by=month", &admin).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("E08000025") && refused.body.contains("area=everywhere"), "{}", refused.body);
    let everywhere = app.get("/api/v1/counts?by=month&area=everywhere", &admin).await;
    assert_eq!(everywhere.status, StatusCode::OK, "{}", everywhere.body);
    assert!(everywhere.body.contains("\"month\":\"2025-01\""), "{}", everywhere.body);

    app.db.set_partnership(&profile("staffordshire"), None, &common::test_actor()).await.expect("profile");
    let dashboard = app.get("/", &admin).await.body;
    assert!(!dashboard.contains("id=\"other-forces\""), "the partnership's own force's files are held");
    let sna = app.get("/sna", &admin).await.body;
    assert!(!sna.contains("id=\"other-forces\""), "{sna}");
    let public = app.get("/public/figures", &Caller::default()).await.body;
    assert!(!public.contains("has been loaded") && public.contains("crimes-by-month"), "{public}");
}

on_each_app!(the_dashboard_names_the_forces_held);

/// The links of a page's service navigation.
fn navigation_links(body: &str) -> Vec<String> {
    body.split("class=\"govuk-service-navigation__link\" href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// For each role, every link of the navigation and of the partner data page answers 200: an
/// item is shown only where its page admits the user (the geocoding queue, which needs record-level ED access as well as a
/// staff role, is reached from the partner data page, and only by those it admits). An
/// administrator refused data is not told to ask their administrator.
async fn every_navigation_link_opens(app: TestApp) {
    serve_as(&app, &profile("staffordshire")).await;
    for (i, &role) in Role::ALL.iter().enumerate() {
        let who = app.signed_in(&format!("user{i}@example.org"), role, "Staffordshire County Council").await;
        let page = app.get("/account/password", &who).await;
        assert_eq!(page.status, StatusCode::OK);
        let links = navigation_links(&page.body);
        assert!(!links.is_empty(), "{role:?} has a navigation");
        for link in &links {
            let reply = app.get(link, &who).await;
            assert_eq!(reply.status, StatusCode::OK, "{role:?}: {link}: {}", reply.body);
        }
        let partner_data = app.get("/partner-data", &who).await;
        assert!(!partner_data.body.contains("href=\"/partner-data/geocoding\""), "{role:?}: no ED access, no link");
        // Every page the partner data page links to opens too (no dead ends into a 403).
        let pages: Vec<&str> = partner_data
            .body
            .split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|href| href.starts_with("/partner-data/"))
            .collect();
        for link in &pages {
            let reply = app.get(link, &who).await;
            assert_eq!(reply.status, StatusCode::OK, "{role:?}: {link} linked from /partner-data: {}", reply.body);
        }
        assert!(
            !pages.contains(&"/partner-data/ed-assaults"),
            "{role:?}: no agreement grants ED access, so no link: {pages:?}"
        );
    }
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Staffordshire County Council").await;
    let refused = app.get("/partner-data/geocoding", &admin).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("ask your administrator"), "{}", refused.body);
    assert!(refused.body.contains("Data sharing"));
}

on_each_app!(every_navigation_link_opens);

/// Two administrators with the profile page open: the first save is stored; the second,
/// from the page opened before it, is refused on the form and does not write its stale
/// contact details over the first's (nor may a stale charter form).
async fn a_stale_profile_form_is_refused(app: TestApp) {
    serve_as(&app, &profile("wiltshire-and-swindon")).await;
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Wiltshire Council").await;
    let page = app.get("/admin/partnership", &admin).await;
    let shown = page.body.split("name=\"version\" value=\"").nth(1).and_then(|v| v.split('"').next()).expect("version");
    let stored = profile("wiltshire-and-swindon");
    let fields = |email: &'static str, phone: &'static str| {
        vec![
            ("version", shown.to_string()),
            ("name", stored.name.clone()),
            ("short_name", stored.short_name.clone()),
            ("districts", stored.districts.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")),
            ("forces", stored.forces.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")),
            ("contact_email", email.to_string()),
            ("contact_phone", phone.to_string()),
            ("charter_name", "Safe Places Charter".to_string()),
            ("colour", "purple".to_string()),
            ("suppression_threshold", String::new()),
        ]
    };
    let first = app.post_owned("/admin/partnership", &admin, &fields("first@example.org", "")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let second = app.post_owned("/admin/partnership", &admin, &fields("", "01234 567890")).await;
    second.assert_refused(&["changed by someone else"]);
    let now = app.db.partnership().await.expect("read").expect("profile");
    assert_eq!(now.contact_email.as_deref(), Some("first@example.org"), "the first save stands");
    let charter = [
        ("version", shown.to_string()),
        ("commitment-title-1", "Late".into()),
        ("commitment-description-1", "Stale".into()),
    ];
    app.post_owned("/admin/partnership/charter", &admin, &charter).await.assert_refused(&["changed by someone else"]);
    assert!(app.db.charter_commitments().await.expect("read").iter().all(|c| c.title != "Late"));
}
on_each_app!(a_stale_profile_form_is_refused);
