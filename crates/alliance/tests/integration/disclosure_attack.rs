//! The automated disclosure attacker (issue 14). A curious partner analyst with aggregate
//! access to the emergency department (ED) data, and a member of the public, request every
//! output the interfaces allow over every pair of overlapping periods and areas, and
//! subtract: no count from 1 to the threshold − 1 may come out.
//!
//! - ED data (a synthetic year, 2025): the SNA's ED tables as CSV
//!   (`/sna/tables/ed-{people,days,hours,methods}.csv?from=..&to=..&area=..`) for every
//!   period of whole months of 2025 (78 periods), with and without a district, and the partner
//!   page's tables (`/partner-data/ed-assaults/*.csv`). The published period of each output is
//!   the one it states (its file name); two outputs of the same table whose periods are nested
//!   and different give the count of the difference by subtraction of matching cells.
//! - Public figures: `/public/figures` (the total of checked reports) and `/you-said-we-did`
//!   (districts and wards) share their totals: 12 in total, 9 in one district and "fewer
//!   than 5" in the other must not give 3, nor a district less its shown wards a ward, nor
//!   a 250 m square of the hotspot layer bound a withheld district so that another follows.
//! - The threshold set in the partnership's profile (10) is the one every page uses.
//!
//! The attacker is checked against a reader with record-level access, who may see exact
//! figures: over the same requests it does find small differences, so a clean result for
//! the others is the disclosure rule's doing, not a blind attacker's.

use std::collections::BTreeMap;

use alliance_core::access::Role;
use alliance_core::domain::{Month, MonthRange};
use alliance_db::public::reports::Decision;
use alliance_db::public::Place;
use alliance_ingest::ed::synthetic::{generate, write, GeneratorSpec};
use alliance_ingest::SourceFile;

use crate::common;
use common::app::{Caller, Reply, TestApp};

const ED_TABLES: [&str; 4] = ["ed-people", "ed-days", "ed-hours", "ed-methods"];
const PARTNER_TABLES: [&str; 5] = ["by-month", "by-district", "by-method", "by-age-and-sex", "by-hour-and-day"];

/// One published table: the period it covers and its cells by row and column.
struct Output {
    table: String,
    period: MonthRange,
    cells: BTreeMap<String, String>,
}

fn month(text: &str) -> Month {
    text.parse().expect("a month")
}

/// The period a CSV states in its file name (`…-2025-01-to-2025-03.csv`), else the one asked.
fn stated_period(reply: &Reply, asked: MonthRange) -> MonthRange {
    let disposition = reply.header("content-disposition").unwrap_or_default();
    let name = disposition.rsplit("filename=").next().unwrap_or_default().trim_matches('"');
    let Some(stem) = name.strip_suffix(".csv") else { return asked };
    match stem.rsplit_once("-to-") {
        Some((head, to)) if to.len() == 7 && head.len() >= 7 => {
            let from = &head[head.len() - 7..];
            match (from.parse::<Month>(), to.parse::<Month>()) {
                (Ok(f), Ok(t)) => MonthRange::new(f, t).expect("a stated period is in order"),
                _ => asked,
            }
        }
        _ => asked,
    }
}

/// The cells of a CSV by `row key | column header`; the row key is the label columns (those
/// before the first count column).
fn cells(csv_text: &str, label_columns: usize) -> BTreeMap<String, String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().expect("a header").clone();
    let mut out = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("a CSV row");
        let key: Vec<&str> = row.iter().take(label_columns).collect();
        for (header, cell) in headers.iter().zip(row.iter()).skip(label_columns) {
            out.insert(format!("{} | {header}", key.join(" / ")), cell.to_string());
        }
    }
    out
}

fn count(text: &str) -> Option<i64> {
    text.replace(',', "").parse().ok()
}

/// Every count from 1 to `threshold − 1` that the subtraction of two outputs of the same
/// table gives, where one's period strictly contains the other's.
fn derivable(outputs: &[Output], threshold: i64) -> Vec<String> {
    let mut found = Vec::new();
    for a in outputs {
        for b in outputs {
            let nested = a.period.from <= b.period.from && b.period.to <= a.period.to && a.period != b.period;
            if a.table != b.table || !nested {
                continue;
            }
            for (key, big) in &a.cells {
                let (Some(x), Some(y)) = (count(big), b.cells.get(key).and_then(|c| count(c))) else { continue };
                if (1..threshold).contains(&(x - y)) {
                    found.push(format!("{}: {} ({}) − {} ({}) = {}", a.table, key, a.period, key, b.period, x - y));
                }
            }
        }
    }
    found
}

/// A year of synthetic ED assaults owned by "Hospital"; returns the district codes loaded.
async fn load_ed_year(app: &TestApp) -> Vec<String> {
    let db = &app.db;
    let areas = common::workspace_root().join("data/demo/areas");
    for f in ["districts-staffordshire.csv.gz", "boundaries-ward-staffordshire.geojson.gz"] {
        db.import_area_file(&SourceFile::from_path(&areas.join(f)), "test").await.expect(f);
    }
    let spec = GeneratorSpec {
        site_code: "RJE01".into(),
        from: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
        to: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).expect("date"),
        assaults: 300,
        seed: 14,
        streets: vec![],
    };
    let text = write(&generate(&spec), alliance_ingest::ed::EdFormat::Csv);
    db.import_ed_file(&SourceFile::from_bytes("ed-2025.csv", text.into_bytes()), "test").await.expect("ED import");
    let hospital = db
        .create_organisation("Hospital", alliance_core::access::OrgType::Health, &common::test_actor())
        .await
        .expect("organisation");
    db.set_dataset_owner("ed-assaults", hospital, &common::test_actor()).await.expect("owner");
    db.districts().await.expect("districts").into_iter().map(|d| d.code).collect()
}

/// Every SNA ED table over every period of whole months of 2025 (and, for some, a district),
/// and the partner page's tables, as `who` gets them.
async fn harvest(app: &TestApp, who: &Caller, districts: &[String]) -> Vec<Output> {
    let months: Vec<Month> = MonthRange::new(month("2025-01"), month("2025-12")).expect("range").months().collect();
    let mut outputs = Vec::new();
    for (i, from) in months.iter().enumerate() {
        for to in &months[i..] {
            let asked = MonthRange::new(*from, *to).expect("range");
            for name in ED_TABLES {
                let mut queries = vec![format!("from={from}&to={to}")];
                // Areas too, on a sample of periods (every district would multiply the run).
                if to.month() % 3 == 0 {
                    queries.extend(districts.iter().take(2).map(|d| format!("from={from}&to={to}&area={d}")));
                }
                for q in queries {
                    let reply = app.get(&format!("/sna/tables/{name}.csv?{q}"), who).await;
                    assert_eq!(reply.status, 200, "{name}?{q}: {}", reply.body);
                    let labels = if name == "ed-methods" { 2 } else { 1 };
                    // A district's table is a different area: compared only with its own kind.
                    let table = match q.split_once("&area=") {
                        Some((_, d)) => format!("{name} in {d}"),
                        None => name.to_string(),
                    };
                    let cells = cells(&reply.body, labels);
                    // A period with no whole quarter gives headers only: nothing published.
                    if !cells.is_empty() {
                        outputs.push(Output { table, period: stated_period(&reply, asked), cells });
                    }
                }
            }
        }
    }
    let year = MonthRange::new(month("2025-01"), month("2025-12")).expect("range");
    for name in PARTNER_TABLES {
        let reply = app.get(&format!("/partner-data/ed-assaults/{name}.csv"), who).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        outputs.push(Output {
            table: format!("partner {name}"),
            period: stated_period(&reply, year),
            cells: cells(&reply.body, 1),
        });
    }
    outputs
}

/// Every numeric cell of an output is 0 or at least `threshold`.
fn assert_no_small_cells(outputs: &[Output], threshold: i64) {
    for o in outputs {
        for (key, text) in &o.cells {
            if key.contains("Method code") {
                continue;
            }
            if let Some(n) = count(text) {
                assert!(n == 0 || n >= threshold, "{} ({}): {key} = {n} is published", o.table, o.period);
            }
        }
    }
}

async fn ed_differencing(app: TestApp) {
    let districts = load_ed_year(&app).await;
    // Board members see no more than aggregate figures, whatever their organisation holds:
    // a Board member of the owning organisation reads the ED data at aggregate level.
    let aggregate = app.signed_in("board@hospital.example", Role::BoardMember, "Hospital").await;
    let record = app.signed_in("analyst@hospital.example", Role::Analyst, "Hospital").await;

    let published = harvest(&app, &aggregate, &districts).await;
    let leaks = derivable(&published, 5);
    assert!(leaks.is_empty(), "{} counts under 5 derivable, e.g. {:?}", leaks.len(), &leaks[..leaks.len().min(5)]);
    assert_no_small_cells(&published, 5);
    // Every published period is one calendar quarter, and the partner page's is one of them.
    for o in &published {
        assert_eq!(o.period.len(), 3, "{}: {}", o.table, o.period);
        assert_eq!((o.period.from.month() - 1) % 3, 0, "{}: {} is a calendar quarter", o.table, o.period);
    }
    // A district asked for is not applied below record level: the same figures as the area's.
    let whole: Vec<&Output> = published.iter().filter(|o| o.table == "ed-people").collect();
    for o in published.iter().filter(|o| o.table.starts_with("ed-people in ")) {
        let same = whole.iter().find(|w| w.period == o.period).expect("the whole area's table of that quarter");
        assert_eq!(o.cells, same.cells, "{} ({})", o.table, o.period);
    }
    // The page says which quarter and why.
    let page = app.get("/sna?from=2025-01&to=2025-05", &aggregate).await;
    assert!(
        page.body.contains("(2025-01 to 2025-03 here: the latest whole quarter in the period chosen"),
        "{}",
        page.body
    );
    let partner = app.get("/partner-data/ed-assaults", &aggregate).await;
    assert!(partner.body.contains("2025-10 to 2025-12"), "{}", partner.body);

    // The same attacker against a record-level reader (who may see exact figures) finds
    // differences: the attacker is not blind.
    let exact = harvest(&app, &record, &districts).await;
    assert!(!derivable(&exact, 5).is_empty(), "exact figures over free periods give small differences");
}
on_each_app!(ed_differencing);

/// Approves `n` reports of a place as the report form stores them.
async fn approve_reports(app: &TestApp, place_text: &str, place: Option<Place>, point: Option<(f64, f64)>, n: usize) {
    for _ in 0..n {
        let report = alliance_db::public::reports::NewUnsafeReport {
            place_text: place_text.to_string(),
            place: place.clone(),
            point,
            incident_date: "2025-06-01".into(),
            time_of_day: "evening".into(),
            reasons: vec!["poor-lighting".into()],
            age_band: None,
            gender: None,
            submission: None,
        };
        let id = app.db.submit_unsafe_report(&report).await.expect("stored");
        app.db.moderate_unsafe_report(id, Decision::Approve, &common::test_actor()).await.expect("approved");
    }
}

/// Approves `n` reports placed in a ward of a district.
async fn reports_in(app: &TestApp, ward: &(String, String), district: &str, n: usize) {
    let place = Place {
        kind: "ward".into(),
        code: ward.0.clone(),
        name: ward.1.clone(),
        district_code: Some(district.to_string()),
    };
    approve_reports(app, &ward.1, Some(place), None, n).await;
}

/// The text of the table cell after the row headed `name` on a page.
fn row_value(body: &str, name: &str) -> Option<String> {
    let at = body.find(&format!(">{name}</th>"))?;
    let rest = &body[at..];
    let start = rest.find("<td")?;
    let open = rest[start..].find('>')? + start + 1;
    let close = rest[open..].find("</td>")? + open;
    Some(rest[open..close].trim().to_string())
}

/// The total of checked reports of unsafe places as `/public/figures` shows it.
fn published_total(body: &str) -> String {
    let total_at = body.find("checked reports of unsafe places").expect("the total");
    let head = &body[..total_at];
    head[head.rfind("margin-bottom-1\">").expect("the figure") + 17..].split('<').next().unwrap_or_default().to_string()
}

async fn public_differencing(app: TestApp) {
    let areas = common::workspace_root().join("data/demo/areas");
    for f in ["districts-staffordshire.csv.gz", "boundaries-ward-staffordshire.geojson.gz"] {
        app.db.import_area_file(&SourceFile::from_path(&areas.join(f)), "test").await.expect(f);
    }
    let districts = app.db.districts().await.expect("districts");
    let wards: Vec<(String, String)> = app
        .db
        .unsafe_report_area_counts("ward")
        .await
        .expect("wards")
        .into_iter()
        .map(|w| (w.code, w.name))
        // Names the page shows without HTML escapes, so the attacker can find their rows.
        .filter(|w| w.1.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
        .take(3)
        .collect();
    let (a, b) = (&districts[0], &districts[1]);
    // The case: 12 in total, 9 in one district (7 + 2 in two wards), 3 in the other.
    reports_in(&app, &wards[0], &a.code, 7).await;
    reports_in(&app, &wards[1], &a.code, 2).await;
    reports_in(&app, &wards[2], &b.code, 3).await;

    let public = Caller::default();
    let figures = app.get("/public/figures", &public).await;
    assert_eq!(figures.status, 200);
    let total_text = published_total(&figures.body);
    let said = app.get("/you-said-we-did", &public).await;
    assert_eq!(said.status, 200);
    let district_texts: Vec<String> =
        districts.iter().map(|d| row_value(&said.body, &d.name).expect("every district is listed")).collect();
    let ward_texts: Vec<String> =
        wards.iter().map(|w| row_value(&said.body, &w.1).expect("wards with reports are listed")).collect();

    // The lines the public can add up: total = Σ districts; each district = Σ its wards.
    let lines: Vec<(String, Vec<String>)> = vec![
        (total_text.clone(), district_texts.clone()),
        (district_texts[0].clone(), vec![ward_texts[0].clone(), ward_texts[1].clone()]),
        (district_texts[1].clone(), vec![ward_texts[2].clone()]),
    ];
    for (total, members) in &lines {
        let hidden = members.iter().filter(|m| count(m).is_none()).count();
        if let (Some(t), 1) = (count(total), hidden) {
            let known: i64 = members.iter().filter_map(|m| count(m)).sum();
            let derived = t - known;
            assert!(!(1..5).contains(&derived), "{total} less {members:?} gives {derived}");
        }
    }
    // And every shown figure is 0 or at least 5.
    for text in std::iter::once(&total_text).chain(&district_texts).chain(&ward_texts) {
        if let Some(n) = count(text) {
            assert!(n == 0 || n >= 5, "{n} is published");
        }
    }
    assert_eq!(district_texts[1], "fewer than 5", "the small district is hidden");
    assert!(count(&district_texts[0]).is_none(), "its complement is withheld: {}", district_texts[0]);
}
on_each_app!(public_differencing);

/// Approves `n` reports placed by a point only (as the report form's map posts it): the
/// report falls in the ward and district containing it and in its 250 m square.
async fn reports_at(app: &TestApp, point: (f64, f64), n: usize) {
    approve_reports(app, "Point on the map", None, Some(point), n).await;
}

/// The values a published figure's text allows (up to `most`): the count itself, 1 to
/// `threshold − 1` for "fewer than …", anything for "withheld".
fn possible(text: &str, threshold: i64, most: i64) -> Vec<i64> {
    match count(text) {
        Some(n) => vec![n],
        None if text.starts_with("fewer than") => (1..threshold).collect(),
        None => (0..=most).collect(),
    }
}

/// The values of district `target` consistent with everything published: each district's
/// text, the total (the districts add up to it) and, for each district, the squares shown
/// inside it (their sum is at most the district's count).
fn solve_district(texts: &[String], total: &str, squares_in: &[i64], target: usize, threshold: i64) -> Vec<i64> {
    let most = count(total).unwrap_or(100);
    let options: Vec<Vec<i64>> = texts
        .iter()
        .zip(squares_in)
        .map(|(t, floor)| possible(t, threshold, most).into_iter().filter(|v| v >= floor).collect())
        .collect();
    // Every assignment of the districts, by a walk over their options (a handful of small
    // ranges here).
    let mut found = std::collections::BTreeSet::new();
    let mut stack: Vec<(usize, i64, Option<i64>)> = vec![(0, 0, None)];
    while let Some((i, sum, value)) = stack.pop() {
        if i == options.len() {
            if count(total).is_none_or(|t| t == sum) {
                found.extend(value);
            }
            continue;
        }
        for &v in &options[i] {
            if sum + v <= most {
                stack.push((i + 1, sum + v, if i == target { Some(v) } else { value }));
            }
        }
    }
    found.into_iter().collect()
}

/// The review's case: five reports in one 250 m square in Hanley (Stoke-on-Trent) and one in
/// Tamworth. The total (6), the districts ("withheld", "fewer than 5") and a square of 5
/// inside Stoke-on-Trent would give Tamworth's 1 (6 − 5); the square is suppressed together
/// with the districts, so nothing narrows Tamworth to one value. The solver is checked on
/// the figures the pages gave before: it does find the 1.
async fn squares_do_not_undo_district_suppression(app: TestApp) {
    let areas = common::workspace_root().join("data/demo/areas");
    for f in ["districts-staffordshire.csv.gz", "boundaries-ward-staffordshire.geojson.gz"] {
        app.db.import_area_file(&SourceFile::from_path(&areas.join(f)), "test").await.expect(f);
    }
    reports_at(&app, (-2.1794, 53.0245), 5).await;
    reports_at(&app, (-1.695, 52.633), 1).await;
    let stored = app.db.unsafe_reports("approved", 10).await.expect("reports");
    let district_of = |i: usize| stored[i].district_code.clone().expect("placed in a district");
    let (stoke, tamworth) = (district_of(0), district_of(5));
    assert_ne!(stoke, tamworth);
    let stoke_square = stored[0].cell.clone().expect("a square").replace('_', ", ");

    let public = Caller::default();
    let figures = app.get("/public/figures", &public).await;
    assert_eq!(figures.status, 200);
    let total = published_total(&figures.body);
    let square = row_value(&figures.body, &stoke_square).and_then(|t| count(&t)).unwrap_or(0);
    let said = app.get("/you-said-we-did", &public).await;
    let districts = app.db.districts().await.expect("districts");
    let texts: Vec<String> =
        districts.iter().map(|d| row_value(&said.body, &d.name).expect("every district is listed")).collect();
    let floors: Vec<i64> = districts.iter().map(|d| if d.code == stoke { square } else { 0 }).collect();
    let target = districts.iter().position(|d| d.code == tamworth).expect("Tamworth listed");
    assert!(count(&texts[target]).is_none(), "one report is not published: {}", texts[target]);
    let values = solve_district(&texts, &total, &floors, target, 5);
    assert!(values.len() > 1, "Tamworth's count follows from total {total}, square {square}, districts {texts:?}");

    // The same solver on what the pages published before the square was suppressed with
    // the districts: total 6, Stoke-on-Trent withheld, Tamworth "fewer than 5", square 5.
    let before: Vec<String> = districts
        .iter()
        .map(|d| match d.code.as_str() {
            c if c == stoke => "withheld".to_string(),
            c if c == tamworth => "fewer than 5".to_string(),
            _ => "0".to_string(),
        })
        .collect();
    let floors: Vec<i64> = districts.iter().map(|d| if d.code == stoke { 5 } else { 0 }).collect();
    assert_eq!(solve_district(&before, "6", &floors, target, 5), vec![1], "the solver finds the old leak");
}
on_each_app!(squares_do_not_undo_district_suppression);

/// A threshold of 10 set in the partnership's profile is the one the pages use: "fewer than
/// 10", and no count from 5 to 9, on the SNA's ED tables, the partner ED page and the public
/// pages; `alliance serve` needs no flag for it.
async fn threshold_from_the_profile(app: TestApp) {
    let districts = load_ed_year(&app).await;
    let mut profile = alliance_core::partnership::example("staffordshire").expect("shipped").expect("valid");
    profile.suppression_threshold = Some(10);
    app.db.init_partnership(&profile, &common::test_actor()).await.expect("profile");
    reports_in(&app, &("E05008473".into(), "A ward".into()), &districts[0], 12).await;
    reports_in(&app, &("E05008474".into(), "Another ward".into()), &districts[1], 6).await;

    let aggregate = app.signed_in("board@hospital.example", Role::BoardMember, "Hospital").await;
    let sna = app.get("/sna", &aggregate).await;
    assert!(sna.body.contains("fewer than 10") && !sna.body.contains("fewer than 5"), "{}", sna.body);
    let partner = app.get("/partner-data/ed-assaults", &aggregate).await;
    assert!(partner.body.contains("fewer than 10") && !partner.body.contains("fewer than 5"), "{}", partner.body);
    let mut outputs = Vec::new();
    let asked = MonthRange::new(month("2025-01"), month("2025-12")).expect("range");
    for name in ED_TABLES {
        let reply = app.get(&format!("/sna/tables/{name}.csv?from=2025-01&to=2025-12"), &aggregate).await;
        let labels = if name == "ed-methods" { 2 } else { 1 };
        outputs.push(Output {
            table: name.into(),
            period: stated_period(&reply, asked),
            cells: cells(&reply.body, labels),
        });
    }
    for name in PARTNER_TABLES {
        let reply = app.get(&format!("/partner-data/ed-assaults/{name}.csv"), &aggregate).await;
        outputs.push(Output { table: name.into(), period: stated_period(&reply, asked), cells: cells(&reply.body, 1) });
    }
    assert_no_small_cells(&outputs, 10);
    assert!(outputs.iter().flat_map(|o| o.cells.values()).any(|c| c == "fewer than 10"), "some cell is small");

    let public = Caller::default();
    for page in ["/public/figures", "/you-said-we-did", "/report-unsafe-place"] {
        let reply = app.get(page, &public).await;
        assert_eq!(reply.status, 200, "{page}");
        assert!(reply.body.contains("10") && !reply.body.contains("fewer than 5"), "{page}: {}", reply.body);
    }
    let said = app.get("/you-said-we-did", &public).await;
    assert!(said.body.contains("fewer than 10"), "6 reports in a district: {}", said.body);
    for d in &app.db.districts().await.expect("districts") {
        if let Some(n) = row_value(&said.body, &d.name).and_then(|t| count(&t)) {
            assert!(n == 0 || n >= 10, "{}: {n}", d.name);
        }
    }
}
on_each_app!(threshold_from_the_profile);

/// Metadata follows the data: the import list shows the ED file and its row count to the
/// owner's analysts only, and the SNA no ED total to readers below record level.
async fn metadata_follows_the_data(app: TestApp) {
    load_ed_year(&app).await;
    let owner = app.signed_in("analyst@hospital.example", Role::Analyst, "Hospital").await;
    let outsider = app.signed_in("analyst@council.example", Role::Analyst, "Council").await;
    let board = app.signed_in("board@hospital.example", Role::BoardMember, "Hospital").await;
    let imports = app.get("/imports", &owner).await;
    assert!(imports.body.contains("ed-2025.csv") && imports.body.contains(">300<"), "{}", imports.body);
    let imports = app.get("/imports", &outsider).await;
    assert_eq!(imports.status, 200);
    assert!(!imports.body.contains("ed-2025.csv"), "an organisation without access does not see the file");
    let dashboard = app.get("/", &outsider).await;
    assert!(!dashboard.body.contains("ed-2025.csv"), "nor on the dashboard");
    let sources = app.get("/sna/tables/partner-sources.csv", &board).await;
    assert!(!sources.body.contains("300"), "no exact ED total below record level: {}", sources.body);
    let sources = app.get("/sna/tables/partner-sources.csv", &owner).await;
    assert!(sources.body.contains("300 records loaded"), "{}", sources.body);
}
on_each_app!(metadata_follows_the_data);

/// The threshold is a setting of the partnership: `alliance partnership set
/// --suppression-threshold` and the `/admin/partnership` form store it (refusing values
/// outside 2 to 100, changing nothing), and the public pages follow at once.
async fn the_threshold_is_set_by_the_command_and_the_form(app: TestApp) {
    let wiltshire = alliance_core::partnership::example("wiltshire-and-swindon").expect("shipped").expect("valid");
    app.db.init_partnership(&wiltshire, &common::test_actor()).await.expect("profile");
    let run = |args: &[&str]| common::alliance(&app.db_url, args);
    let refused = run(&["partnership", "set", "--suppression-threshold", "1"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--suppression-threshold"));
    let set = run(&["partnership", "set", "--suppression-threshold", "7"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    assert_eq!(app.db.partnership().await.expect("read").expect("stored").suppression_threshold, Some(7));

    let admin = app.signed_in("admin@example.org", Role::Administrator, "Office of the PCC").await;
    let page = app.get("/admin/partnership", &admin).await;
    assert!(page.body.contains("name=\"suppression_threshold\"") && page.body.contains("value=\"7\""));
    let mut fields = vec![
        ("name", "Wiltshire and Swindon VRP"),
        ("short_name", "Wiltshire and Swindon VRP"),
        ("districts", "E06000054, E06000030"),
        ("forces", "wiltshire"),
        ("colour", "blue"),
        ("suppression_threshold", "101"),
    ];
    let wrong = app.post_form("/admin/partnership", &admin, &fields).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("id=\"suppression_threshold-error\""), "{}", wrong.body);
    assert_eq!(app.db.partnership().await.expect("read").expect("kept").suppression_threshold, Some(7));
    fields[5] = ("suppression_threshold", "10");
    let saved = app.post_form("/admin/partnership", &admin, &fields).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(app.db.partnership().await.expect("read").expect("stored").threshold(), 10);
    let said = app.get("/you-said-we-did", &Caller::default()).await;
    assert!(said.body.contains("fewer than 10") && !said.body.contains("fewer than 5"), "{}", said.body);
}
on_each_app!(the_threshold_is_set_by_the_command_and_the_form);

/// An outcome a partner organisation enters and owns (fewer is better, target 10 within 2):
/// its dataset, read from its name, decides who sees its values.
fn partner_outcome<'a>(code: &'a str, name: &'a str, owner: i64) -> alliance_db::governance::NewIndicator<'a> {
    alliance_db::governance::NewIndicator {
        kind: "outcome",
        direction: alliance_core::governance::Direction::Down,
        target: Some(10.0),
        tolerance: Some(2.0),
        owner_org_id: Some(owner),
        ..common::governance::entered_indicator(code, name)
    }
}

/// A health indicator's values belong to `indicators:health`: exact to its owner's analysts,
/// "fewer than 5" to a Board member (aggregate), not shown to an organisation without access.
async fn health_indicator_values_follow_their_dataset(app: TestApp) {
    let db = &app.db;
    let hospital = db
        .create_organisation("Hospital", alliance_core::access::OrgType::Health, &common::test_actor())
        .await
        .expect("organisation");
    db.set_dataset_owner("indicators:health", hospital, &common::test_actor()).await.expect("owner");
    db.create_indicator(
        // (Not "… attendances": `indicator_dataset` reads "attendance" as education.)
        &partner_outcome("ed-assault-attendances", "Hospital admissions for assault", hospital),
        &common::test_actor(),
    )
    .await
    .expect("indicator");
    let value = vec![("ed-assault-attendances".to_string(), "2025Q4".to_string(), 3.0, String::new())];
    db.enter_indicator_values(&value, &common::test_actor()).await.expect("value");

    let owner = app.signed_in("analyst@hospital.example", Role::Analyst, "Hospital").await;
    let board = app.signed_in("board@hospital.example", Role::BoardMember, "Hospital").await;
    let outsider = app.signed_in("analyst@council.example", Role::Analyst, "Council").await;
    let path = "/indicators?quarter=2025Q4";
    let page = app.get(path, &owner).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(">3 <") || page.body.contains(">3<"), "exact for the owner: {}", page.body);
    let page = app.get(path, &board).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("fewer than 5"), "aggregate: {}", page.body);
    let page = app.get(path, &outsider).await;
    assert!(page.body.contains("Not shown: health data"), "no access: {}", page.body);
    assert!(!page.body.contains("fewer than 5"));
}
on_each_app!(health_indicator_values_follow_their_dataset);

/// What linear algebra gets out of a two-way table with its margins (`known[row][column]`,
/// the last row the column totals and the last column the row totals; `None` hidden): every
/// hidden figure the rows and columns determine, with its value. Each row and column of the
/// grid sums to its total; the hidden figures are the unknowns; a figure is determined when
/// the reduced row echelon form has a row naming it alone.
// Gaussian elimination: rows are indexed together, as the algorithm is written.
#[allow(clippy::needless_range_loop)]
fn solve_grid(known: &[Vec<Option<i64>>]) -> Vec<((usize, usize), f64)> {
    let (height, width) = (known.len(), known.first().map_or(0, Vec::len));
    let unknowns: Vec<(usize, usize)> =
        (0..height).flat_map(|i| (0..width).map(move |j| (i, j))).filter(|&(i, j)| known[i][j].is_none()).collect();
    let at = |i: usize, j: usize| unknowns.iter().position(|&u| u == (i, j));
    let n = unknowns.len();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    // A line: `members` sum to `total`; unknowns to the left, knowns to the right.
    let mut line = |members: Vec<(usize, usize)>, total: (usize, usize)| {
        let mut eq = vec![0.0; n + 1];
        for (k, sign) in members.iter().map(|&m| (m, 1.0)).chain([(total, -1.0)]) {
            match (known[k.0][k.1], at(k.0, k.1)) {
                (Some(v), _) => eq[n] -= sign * v as f64,
                (None, Some(x)) => eq[x] += sign,
                (None, None) => {}
            }
        }
        rows.push(eq);
    };
    for i in 0..height {
        line((0..width - 1).map(|j| (i, j)).collect(), (i, width - 1));
    }
    for j in 0..width {
        line((0..height - 1).map(|i| (i, j)).collect(), (height - 1, j));
    }
    // Reduced row echelon form.
    let mut r = 0;
    for c in 0..n {
        let Some(p) = (r..rows.len()).max_by(|&a, &b| rows[a][c].abs().total_cmp(&rows[b][c].abs())) else { break };
        if rows[p][c].abs() < 1e-9 {
            continue;
        }
        rows.swap(r, p);
        let pivot = rows[r][c];
        for k in 0..=n {
            rows[r][k] /= pivot;
        }
        for o in 0..rows.len() {
            if o != r && rows[o][c].abs() > 1e-12 {
                let f = rows[o][c];
                for k in 0..=n {
                    rows[o][k] -= f * rows[r][k];
                }
            }
        }
        r += 1;
    }
    rows.iter()
        .filter_map(|row| {
            let support: Vec<usize> = (0..n).filter(|&k| row[k].abs() > 1e-9).collect();
            (support.len() == 1).then(|| (unknowns[support[0]], row[n] / row[support[0]]))
        })
        .collect()
}

/// Values between 1 and `threshold − 1` that `solve_grid` finds.
fn small_solutions(known: &[Vec<Option<i64>>], threshold: i64) -> Vec<String> {
    solve_grid(known)
        .into_iter()
        .filter(|(_, v)| *v > 0.5 && *v < threshold as f64 - 0.5)
        .map(|((i, j), v)| format!("row {i}, column {j} = {v}"))
        .collect()
}

/// Tables of one quarter that share figures, attacked together (issue 14, second round):
/// the partner page's hour-by-day table has the SNA's hours and days as its margins; the SNA
/// and the page both publish age band by sex. The attacker merges everything published about
/// the quarter's hour-by-day grid (page cells and margins, SNA hours, days and total) and
/// solves the grid's rows and columns together; likewise for age band by sex. No count from 1
/// to the threshold − 1 may follow, for a threshold of 5 and of 10. Checked against exact
/// figures: the same solver on a record-level reader's grid recovers every figure.
async fn ed_linked_tables(app: TestApp) {
    load_ed_year(&app).await;
    let aggregate = app.signed_in("board@hospital.example", Role::BoardMember, "Hospital").await;
    let record = app.signed_in("analyst@hospital.example", Role::Analyst, "Hospital").await;
    attack_linked_tables(&app, &aggregate, 5).await;
    // A threshold of 10 from the profile, read by a fresh server (no cached profile).
    let mut profile = alliance_core::partnership::example("staffordshire").expect("shipped").expect("valid");
    profile.suppression_threshold = Some(10);
    app.db.init_partnership(&profile, &common::test_actor()).await.expect("profile");
    {
        let ten = app.beside(|s| s).await;
        attack_linked_tables(&ten, &aggregate, 10).await;
    }
    solver_is_not_blind(&app, &record).await;
}
on_each_app!(ed_linked_tables);

const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

fn hour_labels() -> Vec<String> {
    (0..24).map(|h| format!("{h:02}:00 to {h:02}:59")).collect()
}

async fn attack_linked_tables(app: &TestApp, aggregate: &Caller, threshold: i64) {
    let days = DAYS;
    let hours = hour_labels();
    {
        let quarter = "from=2025-10&to=2025-12";
        let get = |path: String| async move {
            let reply = app.get(&path, aggregate).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
            cells(&reply.body, 1)
        };
        let page = get("/partner-data/ed-assaults/by-hour-and-day.csv".into()).await;
        let sna_hours = get(format!("/sna/tables/ed-hours.csv?{quarter}")).await;
        let sna_days = get(format!("/sna/tables/ed-days.csv?{quarter}")).await;
        assert!(
            page.values().chain(sna_hours.values()).any(|t| t == &format!("fewer than {threshold}")),
            "threshold {threshold} applied"
        );
        let cell = |m: &BTreeMap<String, String>, k: String| m.get(&k).and_then(|t| count(t));
        // The grid: hours × days, the Total column, the Total row; each figure known when any
        // output shows it. Where two outputs show one figure they must agree.
        let mut grid: Vec<Vec<Option<i64>>> = Vec::new();
        for row in hours.iter().map(String::as_str).chain(["Total"]) {
            let mut line: Vec<Option<i64>> = days.iter().map(|d| cell(&page, format!("{row} | {d}"))).collect();
            let from_page = cell(&page, format!("{row} | Total"));
            let from_sna = cell(&sna_hours, format!("{row} | Assaults"));
            if let (Some(a), Some(b)) = (from_page, from_sna) {
                assert_eq!(a, b, "{row}: one figure, one value");
            }
            assert_eq!(
                from_page.is_some(),
                from_sna.is_some(),
                "{row} (threshold {threshold}): shown in one output, hidden in the other"
            );
            line.push(from_page.or(from_sna));
            grid.push(line);
        }
        for (j, d) in days.iter().enumerate() {
            let from_sna = cell(&sna_days, format!("{d} | Assaults"));
            assert_eq!(grid[24][j].is_some(), from_sna.is_some(), "{d} (threshold {threshold})");
            grid[24][j] = grid[24][j].or(from_sna);
        }
        assert!(grid.iter().flatten().any(Option::is_none), "the quarter has hidden figures to attack");
        let leaks = small_solutions(&grid, threshold);
        assert!(leaks.is_empty(), "threshold {threshold}: hour by day gives away {leaks:?}");

        // Age band by sex: the SNA's and the page's are one table.
        let sna_people = get(format!("/sna/tables/ed-people.csv?{quarter}")).await;
        let page_people = get("/partner-data/ed-assaults/by-age-and-sex.csv".into()).await;
        let mut compared = 0;
        for (key, text) in &sna_people {
            if let Some(other) = page_people.get(key) {
                assert_eq!(count(text), count(other), "{key}: {text} on the SNA, {other} on the page");
                compared += 1;
            }
        }
        assert!(compared > 0, "the two tables have the same rows and columns");
        let mut rows: Vec<String> = Vec::new();
        let mut columns: Vec<String> = Vec::new();
        for key in page_people.keys() {
            if let Some((r, c)) = key.split_once(" | ") {
                if r != "Total" && !rows.iter().any(|x| x == r) {
                    rows.push(r.to_string());
                }
                if c != "Total" && !columns.iter().any(|x| x == c) {
                    columns.push(c.to_string());
                }
            }
        }
        rows.push("Total".into());
        columns.push("Total".into());
        let people: Vec<Vec<Option<i64>>> = rows
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| {
                        let key = format!("{r} | {c}");
                        cell(&page_people, key.clone()).or_else(|| cell(&sna_people, key))
                    })
                    .collect()
            })
            .collect();
        let leaks = small_solutions(&people, threshold);
        assert!(leaks.is_empty(), "threshold {threshold}: age band by sex gives away {leaks:?}");
    }
}

/// The solver is not blind: on exact figures with some hidden by hand, it finds them.
async fn solver_is_not_blind(app: &TestApp, record: &Caller) {
    let exact = app.get("/partner-data/ed-assaults/by-hour-and-day.csv", record).await;
    let exact = cells(&exact.body, 1);
    let mut grid: Vec<Vec<Option<i64>>> = hour_labels()
        .iter()
        .map(String::as_str)
        .chain(["Total"])
        .map(|row| {
            DAYS.iter().chain(&["Total"]).map(|d| exact.get(&format!("{row} | {d}")).and_then(|t| count(t))).collect()
        })
        .collect();
    let hidden_by_hand = grid[3][2];
    assert!(hidden_by_hand.is_some(), "record level: exact figures");
    grid[3][2] = None;
    grid[3][7] = None;
    grid[10][7] = None;
    let found = solve_grid(&grid);
    assert!(
        found.iter().any(|((i, j), v)| (*i, *j) == (3, 2) && Some(v.round() as i64) == hidden_by_hand),
        "{found:?}"
    );
}

/// Every restricted indicator dataset restricts its values, not only health (issue 14,
/// second round), and names are read with health before school attendance: "A&E attendances
/// for assault" is health data, "Permanent exclusions" education data. The indicators page
/// and the Board pack show a Board member of another organisation neither value, an owner's
/// analyst sees its own, and the file `alliance board-pack` writes hides both.
async fn every_restricted_indicator_dataset_restricts_its_values(app: TestApp) {
    use alliance_core::access::OrgType;
    let db = &app.db;
    assert_eq!(alliance_core::access::indicator_dataset("A&E attendances for assault"), "indicators:health");
    for (org, kind, dataset, code, name, value) in [
        ("Hospital", OrgType::Health, "indicators:health", "ae-assaults", "A&E attendances for assault", 3.0),
        ("Schools", OrgType::Education, "indicators:education", "exclusions", "Permanent exclusions", 4.0),
    ] {
        let id = db.create_organisation(org, kind, &common::test_actor()).await.expect("organisation");
        db.set_dataset_owner(dataset, id, &common::test_actor()).await.expect("owner");
        db.create_indicator(&partner_outcome(code, name, id), &common::test_actor()).await.expect("indicator");
        let v = vec![(code.to_string(), "2025Q4".to_string(), value, String::new())];
        db.enter_indicator_values(&v, &common::test_actor()).await.expect("value");
    }
    let schools = app.signed_in("analyst@schools.example", Role::Analyst, "Schools").await;
    let board = app.signed_in("board@council.example", Role::BoardMember, "Council").await;
    let page = app.get("/indicators?quarter=2025Q4", &schools).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Not shown: health data"), "the schools see no health values: {}", page.body);
    assert!(!page.body.contains("Not shown: education data"), "their own values are shown");
    for path in ["/indicators?quarter=2025Q4", "/board-pack/2025Q4"] {
        let page = app.get(path, &board).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(
            page.body.contains("Not shown: health data") && page.body.contains("Not shown: education data"),
            "{path}: {}",
            page.body
        );
    }
    // The file for the Board, written at aggregate level: both values "fewer than 5".
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("pack.html");
    let out_text = out.to_string_lossy().into_owned();
    let run = common::alliance(
        &app.db_url,
        &["board-pack", "--quarter", "2025Q4", "--partnership", "Test partnership", "--out", &out_text],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let html = std::fs::read_to_string(&out).expect("the pack");
    assert!(html.matches("fewer than 5").count() >= 2, "both restricted values hidden in the file");
}
on_each_app!(every_restricted_indicator_dataset_restricts_its_values);
