//! "The partnership's area" on the dashboard, the computed police figures and the public
//! figures is the profile's districts, not every district whose LSOAs are stored: the
//! deprivation files are published for all of England, so a partnership that loads them holds
//! every district, and a force's files reach over its border. The demo holds Staffordshire's
//! nine districts; the profile here names only Stoke-on-Trent.

use alliance_core::access::Role;
use alliance_core::domain::{CountField, CountFilter, MonthRange};
use alliance_core::partnership::Profile;
use alliance_db::audit::Actor;
use axum::http::StatusCode;

use crate::common::app::TestApp;

const STOKE: &str = "E06000021";
const VIOLENCE: &str = "Violence and sexual offences";

/// The rows of the table `id` on a page: each row's header and its first cell.
fn row_cells(body: &str, id: &str) -> Vec<(String, String)> {
    let start = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let table = &body[start..start + body[start..].find("</table>").expect("table end")];
    table
        .split("<th scope=\"row\"")
        .skip(1)
        .map(|row| {
            let text = |from: &str| {
                let open = from.find('>').expect("tag end") + 1;
                from[open..open + from[open..].find('<').expect("cell end")].trim().to_string()
            };
            (text(row), text(&row[row.find("<td").expect("a cell")..]))
        })
        .collect()
}

/// The rows of the table `id` on a page: each row's header cell's leading text.
fn row_headers(body: &str, id: &str) -> Vec<String> {
    let start = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let table = &body[start..start + body[start..].find("</table>").expect("table end")];
    let body = &table[table.find("<tbody").expect("tbody")..];
    body.split("<th scope=\"row\"")
        .skip(1)
        .map(|cell| {
            let open = cell.find('>').expect("tag end") + 1;
            cell[open..open + cell[open..].find('<').expect("cell end")].trim().replace("&#39;", "'")
        })
        .collect()
}

async fn area_is_the_profiles_districts(app: TestApp) {
    let db = app.db.clone();
    alliance::demo::load_if_empty(&db).await.expect("demo loads");
    let latest = *db.police_months_covered().await.unwrap().last().expect("the demo has police data");
    let year = MonthRange::ending(latest, 12);
    let violence = [VIOLENCE.to_string()];

    // No profile yet: the area is every district whose LSOAs are stored (the demo's nine).
    let all = db.police_figure_of(&violence, year, None, true).await.unwrap();
    let stoke = db.police_figure_of(&violence, year, Some(STOKE), true).await.unwrap();
    assert!(stoke.count > 0 && stoke.count < all.count, "Stoke {} of {}", stoke.count, all.count);
    assert!(stoke.population.unwrap() < all.population.unwrap());

    // A profile naming Stoke-on-Trent alone, as a partnership of one of the nine would.
    let mut profile: Profile =
        alliance_core::partnership::example("staffordshire").expect("the example").expect("it parses");
    profile.districts = vec![STOKE.parse().unwrap()];
    db.init_partnership(&profile, &Actor::new("test", "127.0.0.1")).await.expect("profile stored");

    // Now the area is Stoke-on-Trent alone: the count and the population are Stoke's.
    let area = db.police_figure_of(&violence, year, None, true).await.unwrap();
    assert_eq!(area.count, stoke.count);
    assert_eq!(area.population, stoke.population);

    // The dashboard's district table: Stoke-on-Trent, then everything else in one row; its
    // violence note counts Stoke's records as the area's.
    let analyst = app.signed_in("analyst@alliance.example", Role::Analyst, "Violence Reduction Alliance").await;
    let page = app.get("/", &analyst).await;
    assert_eq!(page.status, StatusCode::OK);
    let rows = row_headers(&page.body, "districts");
    assert_eq!(rows, ["Stoke-on-Trent", "Outside the partnership's area, or no location"], "{rows:?}");
    // The last row is the year's violence less Stoke-on-Trent's, wherever the rest lies.
    let by_type = |districts: Vec<alliance_core::domain::DistrictCode>| {
        let filter = CountFilter { from: Some(year.from), to: Some(year.to), districts, ..CountFilter::default() };
        let db = db.clone();
        async move {
            let rows = db.counts(&[CountField::CrimeType], &filter).await.unwrap();
            rows.iter().filter(|r| r.values[0].as_deref() == Some(VIOLENCE)).map(|r| r.count).sum::<i64>()
        }
    };
    let rest = by_type(Vec::new()).await - by_type(vec![STOKE.parse().unwrap()]).await;
    assert!(rest > 0, "the demo holds violence outside Stoke-on-Trent");
    let last = page.body.split("area, or no location").nth(1).expect("the row");
    let last = last.split("</tr>").next().expect("its end");
    assert!(last.contains(&format!(">{}<", alliance_core::format::count(rest))), "{rest} in {last}");
    let note_count = alliance_core::format::count(stoke.count);
    assert!(page.body.contains(&format!(": {note_count} records in the partnership")), "the note");
    // The violence headline counts Stoke-on-Trent's records, not the whole database's.
    let headline = format!("id=\"headline-2\">{note_count}</span>");
    assert!(page.body.contains(&headline), "the headline is the area's: {headline}");

    // The public figures list the area's districts only.
    let public = app.get("/public/figures", &Default::default()).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(row_headers(&public.body, "districts-table"), ["Stoke-on-Trent"]);
    // So do the counts of reports of unsafe places, not every district whose LSOAs are held.
    let said = app.get("/you-said-we-did", &Default::default()).await;
    assert_eq!(row_headers(&said.body, "district-reports"), ["Stoke-on-Trent"]);
    // Its months count the same records: Stoke-on-Trent's, not the whole database's.
    let stoke_months = db
        .counts(
            &[CountField::Month],
            &CountFilter { districts: vec![STOKE.parse().unwrap()], ..CountFilter::default() },
        )
        .await
        .unwrap();
    let expected: Vec<(String, String)> = stoke_months
        .iter()
        .rev()
        .take(24)
        .rev()
        .map(|r| (r.values[0].clone().expect("a month"), alliance_core::format::count(r.count)))
        .collect();
    assert!(expected.iter().all(|(_, n)| n != "0"), "Stoke has records every month: {expected:?}");
    assert_eq!(row_cells(&public.body, "months-table"), expected);

    // The counts API covers the same area by default and says so; `area=everywhere` counts
    // every record held, as the library does unfiltered.
    let as_json = |rows: &[alliance_core::domain::CountRow]| -> Vec<serde_json::Value> {
        rows.iter().map(|r| serde_json::json!({ "month": r.values[0], "count": r.count })).collect()
    };
    let area = app.get("/api/v1/counts?by=month", &analyst).await;
    assert_eq!(area.status, StatusCode::OK, "{}", area.body);
    assert_eq!(area.json()["districts"], serde_json::json!([STOKE]));
    assert_eq!(area.json()["rows"].as_array().expect("rows").clone(), as_json(&stoke_months));
    let every = db.counts(&[CountField::Month], &CountFilter::default()).await.unwrap();
    let everywhere = app.get("/api/v1/counts?by=month&area=everywhere", &analyst).await;
    assert_eq!(everywhere.json()["districts"], serde_json::json!([]));
    assert_eq!(everywhere.json()["rows"].as_array().expect("rows").clone(), as_json(&every));
    assert_ne!(as_json(&every), as_json(&stoke_months), "the demo holds more than Stoke-on-Trent");
    // A district named outside the profile is counted as asked.
    let moorlands = app.get("/api/v1/counts?by=month&district=E07000198", &analyst).await;
    assert_eq!(moorlands.json()["districts"], serde_json::json!(["E07000198"]));
    // A district of another partnership, whose LSOAs are not held: refused, not zero.
    let wiltshire = app.get("/api/v1/counts?by=month&district=E06000054", &analyst).await;
    assert_eq!(wiltshire.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wiltshire.body.contains("no LSOA of E06000054 is held"), "{}", wiltshire.body);
    for bad in ["area=everywhere&district=E07000198", "area=nowhere"] {
        let reply = app.get(&format!("/api/v1/counts?by=month&{bad}"), &analyst).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.body.contains("area"), "{bad}: {}", reply.body);
    }

    // A profile naming a district whose area files are not in: the dashboard says so, by
    // code (no name is stored for it), and still counts Stoke-on-Trent's records alone.
    let no_warning = app.get("/", &analyst).await;
    assert!(!no_warning.body.contains("id=\"unplaced-districts\""), "every district is held");
    profile.districts.push("E06000054".parse().unwrap());
    db.set_partnership(&profile, None, &Actor::new("test", "127.0.0.1")).await.expect("profile changed");
    let warned = app.get("/", &analyst).await;
    let start = warned.body.find("id=\"unplaced-districts\"").expect("the warning");
    let warning = &warned.body[start..start + warned.body[start..].find("</div>").expect("its end")];
    assert!(warning.contains("E06000054") && !warning.contains(STOKE), "{warning}");
    assert!(warned.body.contains(&headline), "the headline is still Stoke's alone");
}
on_each_app!(area_is_the_profiles_districts);

/// The dashboard's rates are a year's, as the SNA's: with three months of 2025 held (October
/// to December), a district's crimes per 1,000 residents are its three months' crimes × 12 ÷
/// 3 per 1,000 residents, not a quarter of that, and the note says how they were scaled.
async fn dashboard_rates_are_a_years(app: TestApp) {
    let db = app.db.clone();
    let demo = crate::common::workspace_root().join("data/demo");
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(demo.join("areas")).expect("the demo's areas").map(|e| e.expect("an entry").path()).collect();
    files.sort();
    for f in &files {
        db.import_area_file(&alliance_ingest::SourceFile::from_path(f), "test").await.expect("an area file");
    }
    let months: Vec<std::path::PathBuf> = ["2025-10", "2025-11", "2025-12"]
        .iter()
        .map(|m| demo.join(format!("police/{m}-staffordshire-street.csv.gz")))
        .collect();
    crate::common::import_all(&db, &months).await;

    let stoke = CountFilter { districts: vec![STOKE.parse().unwrap()], ..CountFilter::default() };
    let crimes: i64 = db
        .counts(&[CountField::CrimeType], &stoke)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.values[0].as_deref() != Some(alliance_core::domain::police::ANTI_SOCIAL_BEHAVIOUR))
        .map(|r| r.count)
        .sum();
    let population = *db.district_populations().await.unwrap().get(STOKE).expect("Stoke's residents");
    assert!(crimes > 1_000 && population > 200_000, "{crimes} crimes, {population} residents");
    let year = crimes as f64 * 12.0 / 3.0 * 1000.0 / population as f64;

    let analyst = app.signed_in("analyst@alliance.example", Role::Analyst, "Violence Reduction Alliance").await;
    let page = app.get("/", &analyst).await;
    assert_eq!(page.status, StatusCode::OK);
    let table = &page.body[page.body.find("id=\"districts\"").expect("the district table")..];
    let row = &table[table.find("Stoke-on-Trent").expect("Stoke's row")..];
    let row = &row[..row.find("</tr>").expect("the row's end")];
    let rate = alliance_core::format::rate(year);
    assert!(row.contains(&format!(">{rate}<")), "a year's rate {rate} in {row}");
    assert!(!row.contains(&format!(">{}<", alliance_core::format::rate(year / 4.0))), "not three months' rate");
    assert!(page.body.contains("per 1,000 residents a year, scaled from the 3 months with data (× 12 ÷ 3)"));
}
on_each_app!(dashboard_rates_are_a_years);
