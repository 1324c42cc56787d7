//! Issue 16's hands-on check, as a test: a fresh database set up as the Wiltshire and Swindon
//! partnership through the web only — set-up, sign-in, another force's police files uploaded,
//! a strategy with a priority and a commitment, actions (one overdue, one with a dated update),
//! a user invited — to a Board pack whose statuses and overdue items are right, and no page a
//! signed-in administrator or the public can open names Staffordshire.

use reqwest::StatusCode;

use crate::common;
use crate::common::app::{Caller, Reply, TestApp};

const WILTSHIRE: &str = "Wiltshire and Swindon Violence Reduction Partnership";
const PASSWORD: &str = "correct horse battery staple";

fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", &reply.body[..reply.body.len().min(2000)]);
    reply.header("location").expect("a redirect").to_string()
}

fn id_in(reply: &Reply) -> i64 {
    let to = location(reply);
    let path = to.split('#').next().unwrap_or_default();
    path.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no id in {to}"))
}

/// A multipart form with the CSRF token first and `file` fields.
fn files_form(csrf: &str, files: &[(String, Vec<u8>)]) -> (String, Vec<u8>) {
    let files: Vec<(&str, &str, &[u8])> =
        files.iter().map(|(name, bytes)| ("file", name.as_str(), &bytes[..])).collect();
    common::http::multipart_files(&[("csrf_token", csrf)], &files)
}

/// Every page without a parameter in the route table that `who` may open (GET), with the
/// parameterised pages of the records made here.
fn pages(extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = alliance_web::auth::access::rules()
        .filter(|r| r.method == "GET" && !r.path.contains('{'))
        .filter(|r| !r.path.starts_with("/api/") && r.path != "/sign-out")
        .map(|r| r.path.to_string())
        .collect();
    out.extend(extra.iter().cloned());
    out
}

async fn wiltshire_from_first_sign_in_to_the_board_pack(app: TestApp) {
    let Some(data) = common::shared_data() else { return };
    // 1. Set-up, the first administrator, sign-in: all through the web.
    let setup = crate::partnership::setup_link(&app);
    let visitor = app.visitor(&setup).await;
    let fields = [
        ("name", WILTSHIRE),
        ("short_name", "Wiltshire and Swindon VRP"),
        ("districts", "E06000054, E06000030"),
        ("forces", "wiltshire"),
        ("contact_email", "vrp@wiltshire.example"),
        ("contact_phone", ""),
        ("admin_name", "Pat Example"),
        ("admin_email", "pat@wiltshire.example"),
        ("org_name", "Office of the Police and Crime Commissioner for Wiltshire"),
        ("org_type", "pcc-office"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    assert_eq!(location(&app.post_form(&setup, &visitor, &fields).await), "/sign-in");
    let admin: Caller = app.sign_in("pat@wiltshire.example", PASSWORD).await.expect("the administrator signs in");

    // 2. Another force's police files, uploaded on the web (two months of street records).
    let gwent = data.join("police/gwent");
    let files: Vec<(String, Vec<u8>)> = ["2022-07-gwent-street.csv", "2022-08-gwent-street.csv"]
        .iter()
        .map(|name| (name.to_string(), std::fs::read(gwent.join(name)).expect("a Gwent file")))
        .collect();
    let (content_type, body) = files_form(&admin.csrf, &files);
    let done = app.post_bytes("/imports/police", &admin, &content_type, body).await;
    assert_eq!(done.status, StatusCode::OK, "{}", &done.body[..done.body.len().min(2000)]);
    assert!(done.body.contains("2 imported"), "{}", &done.body[..done.body.len().min(4000)]);

    // Before it has a strategy, the partnership dashboard says how to add its own (never to
    // seed Staffordshire's, which the command refuses for another partnership).
    let governance = app.get("/governance", &admin).await;
    assert_eq!(governance.status, StatusCode::OK);
    let hint = alliance_app::board_pack::NO_STRATEGY.replace('\'', "&#39;");
    assert!(governance.body.contains(&hint), "the way to add one");
    assert!(!governance.body.contains("seed strategy"), "not Staffordshire's");
    // No services listed yet: the public's search says so, not "try fewer filters".
    let help = app.get("/find-help", &Caller::default()).await;
    assert!(help.body.contains("id=\"none-listed\"") && !help.body.contains("id=\"no-match\""));
    let filtered = app.get("/find-help?need=knife-crime", &Caller::default()).await;
    assert!(filtered.body.contains("id=\"no-match\""), "a search that matched nothing");

    // 3. The partnership's own strategy, priority and commitment.
    let strategy = [
        ("name", "Wiltshire and Swindon Serious Violence Strategy"),
        ("period_start", "2024"),
        ("period_end", "2030"),
        ("aim", "Fewer people hurt by serious violence"),
        ("source", ""),
    ];
    let sid = id_in(&app.post_form("/strategies", &admin, &strategy).await);
    location(
        &app.post_form(&format!("/strategies/{sid}/priorities"), &admin, &[("priority_name", "Prevention")]).await,
    );
    let pid = app.db.priorities(sid).await.expect("priorities")[0].id.to_string();
    let commitment = [("priority", pid.as_str()), ("text", "Detached youth work in Swindon town centre")];
    location(&app.post_form(&format!("/strategies/{sid}/commitments"), &admin, &commitment).await);
    let cid = app.db.commitments(sid).await.expect("commitments")[0].id.to_string();

    // 4. Actions: one due in 2020 (overdue), one whose partner update dated yesterday says at risk.
    let org = app.db.user_by_email("pat@wiltshire.example").await.expect("read").expect("admin").org_id;
    let org = org.to_string();
    let base = [("commitment", cid.as_str()), ("owner", org.as_str()), ("lead_person", "A. Lead")];
    let mut late = base.to_vec();
    late.extend([
        ("title", "Knife bins in Swindon"),
        ("status", "on-track"),
        ("due_date-day", "31"),
        ("due_date-month", "3"),
        ("due_date-year", "2020"),
    ]);
    let bins = id_in(&app.post_form("/actions", &admin, &late).await);
    let mut fresh = base.to_vec();
    fresh.extend([("title", "Street pastors in Salisbury"), ("status", "not-started")]);
    let pastors = id_in(&app.post_form("/actions", &admin, &fresh).await);
    let yesterday = alliance_db::clock::today_date() - chrono::Duration::days(1);
    let update = common::governance::update_form(yesterday, "at-risk", "Volunteers short");
    location(&app.post_owned(&format!("/actions/{pastors}/updates"), &admin, &update).await);

    // 5. The Board pack: at-risk as of its date, the 2020 action overdue, the other not.
    let to = app.get("/board-pack", &admin).await;
    let pack_path = location(&to);
    let pack = app.get(&pack_path, &admin).await;
    assert_eq!(pack.status, StatusCode::OK);
    assert!(pack.body.contains(WILTSHIRE), "the cover names the partnership");
    assert!(pack.body.contains("Knife bins in Swindon") && pack.body.contains("Street pastors in Salisbury"));
    let plan = app.get("/actions", &admin).await;
    assert!(plan.body.contains(&format!("data-overdue=\"{bins}\"")), "the 2020 action is overdue");
    assert!(!plan.body.contains(&format!("data-overdue=\"{pastors}\"")), "an action without a due date is not");
    let action = app.get(&format!("/actions/{pastors}"), &admin).await;
    assert!(action.body.contains("At risk"), "the dated update sets the status");
    let odt = app.get(&format!("{pack_path}/odt"), &admin).await;
    assert_eq!(odt.header("content-type"), Some("application/vnd.oasis.opendocument.text"));

    // No area files are in: the dashboard says its figures count every record held.
    let dashboard = app.get("/", &admin).await;
    let start = dashboard.body.find("id=\"unplaced-districts\"").expect("the dashboard warns");
    let warning = &dashboard.body[start..start + dashboard.body[start..].find("</div>").expect("its end")];
    assert!(warning.contains("any of the partnership") && warning.contains("(E06000054, E06000030)"), "{warning}");
    assert!(warning.contains("count every record held"), "{warning}");

    // 6. Nothing names Staffordshire: every page the administrator and the public can open.
    let extra = vec![
        format!("/strategies/{sid}"),
        format!("/actions/{bins}"),
        format!("/actions/{pastors}"),
        pack_path.clone(),
    ];
    let mut opened = 0;
    for path in pages(&extra) {
        for who in [&admin, &Caller::default()] {
            let page = app.get(&path, who).await;
            // Refused or not there is fine (the public opens few pages); a fault is not: a
            // partnership with no boundaries loaded must still get every page it may open.
            assert!(!page.status.is_server_error(), "{path}: {}", page.status);
            if page.status != StatusCode::OK {
                continue;
            }
            opened += 1;
            assert!(!page.body.contains("Staffordshire"), "{path} names Staffordshire");
            assert!(!page.body.contains("Stoke-on-Trent"), "{path} names Stoke-on-Trent");
        }
    }
    assert!(opened > 40, "only {opened} pages opened");
}

on_each_app!(wiltshire_from_first_sign_in_to_the_board_pack);
