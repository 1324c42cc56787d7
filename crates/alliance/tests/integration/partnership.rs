//! Issue 16: a deployment serves the partnership it is set up for, named from its profile;
//! the demo is an explicit choice (`serve --demo`), and first-run set-up cannot be raced or
//! reused to take over a running Alliance.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::common::app::{Caller, TestApp};

const WILTSHIRE: &str = "Wiltshire and Swindon Violence Reduction Partnership";
const PASSWORD: &str = "correct horse battery staple";

fn setup_fields<'a>(admin_email: &'a str, districts: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", WILTSHIRE),
        ("short_name", "Wiltshire and Swindon VRP"),
        ("districts", districts),
        ("forces", "wiltshire"),
        ("contact_email", ""),
        ("contact_phone", ""),
        ("admin_name", "Pat Example"),
        ("admin_email", admin_email),
        ("org_name", "Office of the Police and Crime Commissioner for Wiltshire"),
        ("org_type", "pcc-office"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ]
}

/// The set-up link `alliance serve` prints for this database.
pub(crate) fn setup_link(app: &TestApp) -> String {
    format!("/setup?token={}", app.db.setup_token())
}

async fn set_up_names_the_partnership_everywhere(app: TestApp) {
    // A fresh deployment sends its first visitor to set-up, and names nobody.
    let home = app.get("/", &Caller::default()).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.header("location"), Some("/setup"));
    // Only the link `alliance serve` printed opens it: a stranger who arrives first, with no
    // token or a wrong one, sees no form and can store nothing.
    let stranger = app.visitor("/sign-in").await;
    for path in ["/setup", "/setup?token=", "/setup?token=0123456789abcdef0123456789abcdef"] {
        let page = app.get(path, &Caller::default()).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        assert!(page.body.contains("alliance serve printed") && !page.body.contains("admin_email"), "{}", page.body);
        let claimed = app.post_form(path, &stranger, &setup_fields("mallory@example.org", "E06000054")).await;
        assert_eq!(claimed.status, StatusCode::FORBIDDEN, "{path}: {}", claimed.body);
    }
    assert!(!app.db.has_users().await.expect("read") && app.db.partnership().await.expect("read").is_none());
    let setup = setup_link(&app);
    let visitor = app.visitor(&setup).await;

    // A mistake comes back on its field with everything else as typed; nothing is stored.
    let wrong = app.post_form(&setup, &visitor, &setup_fields("pat@example.org", "E06000054, Swindon")).await;
    wrong.assert_refused(&["id=\"districts-error\""]);
    assert!(wrong.body.contains("Swindon&#34; is not a district code"), "{}", wrong.body);
    assert!(wrong.body.contains(&format!("value=\"{WILTSHIRE}\"")), "the name is kept as typed");
    assert!(!wrong.body.contains(PASSWORD), "passwords are never shown back");
    assert!(app.db.partnership().await.expect("read").is_none());
    assert!(!app.db.has_users().await.expect("read"));

    let done = app.post_form(&setup, &visitor, &setup_fields("Pat@Example.org", "E06000054, E06000030")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), Some("/sign-in"));
    let profile = app.db.partnership().await.expect("read").expect("stored");
    assert_eq!(profile.name, WILTSHIRE);
    assert_eq!(profile.districts.iter().map(|d| d.as_str()).collect::<Vec<_>>(), ["E06000054", "E06000030"]);
    let admin = app.db.user_by_email("pat@example.org").await.expect("read").expect("the first administrator");
    assert_eq!(admin.role, alliance_core::access::Role::Administrator);

    // Every page names this partnership and none names Staffordshire.
    for path in ["/public", "/sign-in", "/find-help", "/public/figures"] {
        let page = app.get(path, &Caller::default()).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains(WILTSHIRE), "{path} names the partnership");
        assert!(!page.body.contains("Staffordshire"), "{path} names Staffordshire");
    }

    // Once anyone can sign in, set-up is gone: a second submission is refused and changes nothing.
    assert_eq!(app.get(&setup, &Caller::default()).await.status, StatusCode::NOT_FOUND);
    let again = app.post_form(&setup, &visitor, &setup_fields("mallory@example.org", "E06000021")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
    assert!(app.db.user_by_email("mallory@example.org").await.expect("read").is_none());
    assert_eq!(app.db.partnership().await.expect("read").expect("kept").name, WILTSHIRE);

    // The administrator signs in with what they chose, and the set-up is in the audit log.
    let sign_in = app.visitor("/sign-in").await;
    let signed = app.post_form("/sign-in", &sign_in, &[("email", "pat@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let audit = crate::common::audit_log(&app.db).await;
    assert!(audit.iter().any(|e| e.action == "partnership-profile" && e.detail == WILTSHIRE));
}
on_each_app!(set_up_names_the_partnership_everywhere);

async fn two_set_ups_at_once_make_one_administrator(app: TestApp) {
    let setup = setup_link(&app);
    let first = app.visitor(&setup).await;
    let second = app.visitor(&setup).await;
    let (one, two) = (setup_fields("first@example.org", "E06000054"), setup_fields("second@example.org", "E06000030"));
    let (a, b) = tokio::join!(app.post_form(&setup, &first, &one), app.post_form(&setup, &second, &two));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::NOT_FOUND], "{} / {}", a.body, b.body);
    assert_eq!(app.db.users().await.expect("users").len(), 1, "exactly one first administrator");
}
on_each_app!(two_set_ups_at_once_make_one_administrator);

#[test]
fn the_partnership_command_sets_shows_and_refuses_bad_fields() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let run = |args: &[&str]| crate::common::alliance(&db, args);

    let none = run(&["partnership", "show"]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no partnership is set up yet"));
    let out = dir.path().join("unnamed.html").display().to_string();
    let unnamed = run(&["board-pack", "--quarter", "2025Q3", "--out", &out]);
    assert!(
        !unnamed.status.success() && String::from_utf8_lossy(&unnamed.stderr).contains("no partnership is set up yet")
    );

    let init = run(&["partnership", "init", "--example", "wiltshire-and-swindon"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let again = run(&["partnership", "init", "--example", "staffordshire"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already set up"), "{again:?}");

    let bad = run(&["partnership", "set", "--contact-email", "not an address"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--contact-email"), "{bad:?}");
    let set =
        run(&["partnership", "set", "--contact-phone", "01225 123456", "--forces", "wiltshire,avon-and-somerset"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    let pack = dir.path().join("pack.html");
    let pack_arg = pack.display().to_string();
    let written = run(&["board-pack", "--quarter", "2025Q3", "--out", &pack_arg]);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let html = std::fs::read_to_string(&pack).expect("the pack");
    assert!(
        html.contains(WILTSHIRE) && !html.contains("Staffordshire"),
        "the pack's cover names the profile's partnership"
    );

    let shown = run(&["partnership", "show"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains(WILTSHIRE) && text.contains("01225 123456") && text.contains("avon-and-somerset"), "{text}");
    assert!(!text.contains("Staffordshire"), "{text}");

    // The bundled strategy is Staffordshire's: another partnership gets it only when it asks
    // for it as an example, and is pointed at `strategy import`.
    let refused = run(&["seed", "strategy"]);
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && why.contains("strategy import") && why.contains(WILTSHIRE), "{why}");
    let listed = run(&["strategy", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("no strategy is held"), "nothing was loaded");
    let example = run(&["seed", "strategy", "--example"]);
    assert!(example.status.success(), "{}", String::from_utf8_lossy(&example.stderr));
}

#[test]
fn serve_demo_loads_the_demo_partnership_and_prints_a_working_password_once() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db_url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_alliance"))
            .args(["--db", &db_url, "serve", "--demo", "--port", "0"])
            .env_remove("ALLIANCE_DB")
            .env("ALLIANCE_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start alliance serve --demo");
        let stdout = child.stdout.take().expect("stdout");
        let mut printed = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            let running = line.starts_with("Alliance is running at ");
            printed.push(line);
            if running {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        printed
    };
    let first = start();
    let password = first
        .iter()
        .find_map(|l| l.strip_prefix("Demo administrator: sign in as demo.admin@example.org with the password "))
        .unwrap_or_else(|| panic!("no password printed: {first:?}"))
        .to_string();
    let second = start();
    assert!(!second.iter().any(|l| l.contains("with the password")), "printed only once: {second:?}");

    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let db = alliance_db::Db::connect(&db_url).await.expect("open");
        let profile = db.partnership().await.expect("read").expect("the demo profile");
        assert_eq!(profile.name, "Staffordshire and Stoke-on-Trent Violence Reduction Alliance");
        let admin = db.user_by_email("demo.admin@example.org").await.expect("read").expect("the demo administrator");
        assert!(alliance_app::password::verify(&password, &admin.password_hash).await, "the printed password works");
        assert!(!db.imports(1).await.expect("imports").is_empty(), "the demo data is loaded");
    });
}

async fn an_administrator_changes_the_profile_on_the_web(app: TestApp) {
    use alliance_core::access::Role;
    let wiltshire = alliance_core::partnership::example("wiltshire-and-swindon").expect("shipped").expect("valid");
    app.db.init_partnership(&wiltshire, &crate::common::test_actor()).await.expect("init");
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Office of the PCC").await;
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Swindon Borough Council").await;

    assert_eq!(app.get("/admin/partnership", &analyst).await.status, StatusCode::FORBIDDEN);
    let refused = app.post_form("/admin/partnership", &analyst, &[("name", "Taken over")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let page = app.get("/admin/partnership", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("value=\"E06000054, E06000030\""), "the stored districts fill the form");

    let mut fields = vec![
        ("name", "Wiltshire and Swindon Serious Violence Partnership"),
        ("short_name", "Wiltshire and Swindon SVP"),
        ("districts", "E06000054, E06000030"),
        ("forces", "Wiltshire Police"),
        ("contact_email", "svp@example.org"),
        ("colour", "green"),
    ];
    let wrong = app.post_form("/admin/partnership", &admin, &fields).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("id=\"forces-error\"") && wrong.body.contains("value=\"svp@example.org\""));
    assert_eq!(app.db.partnership().await.expect("read").expect("kept"), wiltshire, "nothing changed");

    fields[3] = ("forces", "wiltshire");
    let saved = app.post_form("/admin/partnership", &admin, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored = app.db.partnership().await.expect("read").expect("stored");
    assert_eq!(stored.name, "Wiltshire and Swindon Serious Violence Partnership");
    assert_eq!(stored.colour, alliance_core::partnership::Colour::Green);
    let public = app.get("/public", &Caller::default()).await;
    assert!(public.body.contains("Wiltshire and Swindon Serious Violence Partnership"), "the header follows at once");
    assert!(public.body.contains("border-bottom-color: #00703c"), "in the profile's colour (GOV.UK green)");
}
on_each_app!(an_administrator_changes_the_profile_on_the_web);

/// The charter pages name the charter from the profile (`charter_name`): a neutral name
/// while it is unset, the partnership's own once an administrator names it, and never a
/// name of another partnership's charter.
async fn the_charter_pages_name_the_profiles_charter(app: TestApp) {
    use alliance_core::access::Role;
    let wiltshire = alliance_core::partnership::example("wiltshire-and-swindon").expect("shipped").expect("valid");
    assert_eq!(wiltshire.charter_name, None);
    app.db.init_partnership(&wiltshire, &crate::common::test_actor()).await.expect("init");
    let admin = app.signed_in("admin@example.org", Role::Administrator, "Office of the PCC").await;
    let pages = [
        "/public",
        "/safer-places",
        "/safer-places/join",
        "/safer-places/join/sent",
        "/public/figures",
        "/accessibility",
    ];
    for path in pages {
        let page = app.get(path, &Caller::default()).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains("Safer Places Charter"), "{path} names the charter neutrally");
        assert!(!page.body.contains("Women &amp; Girls") && !page.body.contains("Staffordshire"), "{path}");
    }

    let fields = [
        ("name", wiltshire.name.as_str()),
        ("short_name", wiltshire.short_name.as_str()),
        ("districts", "E06000054, E06000030"),
        ("forces", "wiltshire"),
        ("contact_email", ""),
        ("contact_phone", ""),
        ("charter_name", "The Wiltshire Safe Spaces Pledge"),
        ("colour", "blue"),
        ("suppression_threshold", ""),
    ];
    let saved = app.post_form("/admin/partnership", &admin, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    for path in pages {
        let page = app.get(path, &Caller::default()).await;
        assert!(page.body.contains("Wiltshire Safe Spaces Pledge"), "{path} names the profile's charter");
        assert!(!page.body.contains("Safer Places Charter") && !page.body.contains("the The "), "{path}");
    }
    let join = app.get("/safer-places/join", &Caller::default()).await;
    assert!(join.body.contains("<h1 class=\"govuk-heading-xl\">Sign up to the Wiltshire Safe Spaces Pledge</h1>"));
    let staff = app.get("/staff/safer-places", &admin).await;
    assert_eq!(staff.status, StatusCode::OK);
    assert!(staff.body.contains("Wiltshire Safe Spaces Pledge: applications and renewals"), "the staff page too");
}
on_each_app!(the_charter_pages_name_the_profiles_charter);
