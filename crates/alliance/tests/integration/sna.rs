//! The Strategic Needs Assessment end to end: Staffordshire 2025 from the shared data (with
//! the bundled Staffordshire area files), checked against an independent calculation from
//! the raw CSV files and the stored LSOA table; the written file is checked for external
//! references, every section and "no data" success measures.

use crate::common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::Command;

use alliance_app::sna::{EdPermission, EdSection, SnaReport, SnaRequest};
use alliance_app::Disclosure;
use alliance_ingest::SourceFile;
use alliance_reports::sna::{standalone_html, table, SECTIONS};
use common::app::TestApp;
use common::{column, police_files, read_csv, street_only, workspace_root, TestDb};

const HEADLINE: [&str; 3] = ["Violence and sexual offences", "Robbery", "Possession of weapons"];

/// The 12 Staffordshire street files of 2025 in the shared data.
fn staffordshire_2025_streets(data: &std::path::Path) -> Vec<PathBuf> {
    let files: Vec<PathBuf> = street_only(&police_files(&data.join("police/staffordshire")))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("2025-")))
        .collect();
    assert_eq!(files.len(), 12, "the 12 Staffordshire 2025 street files");
    files
}

async fn staffordshire_2025(t: TestDb, data: PathBuf) {
    let url = t.url.clone();
    let app = TestApp::start(t).await;
    let db = app.db.clone();
    let areas = workspace_root().join("data/demo/areas");
    let mut area_files: Vec<PathBuf> = std::fs::read_dir(&areas).unwrap().map(|e| e.unwrap().path()).collect();
    area_files.sort();
    for f in &area_files {
        db.import_area_file(&SourceFile::from_path(f), "test").await.unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    let files = staffordshire_2025_streets(&data);
    common::import_all(&db, &files).await;

    // Independent figures from the raw files and the LSOA table.
    let lsoas = db.lsoas(2021).await.unwrap();
    let lsoa: HashMap<&str, &alliance_db::areas::LsoaInfo> = lsoas.iter().map(|l| (l.code.as_str(), l)).collect();
    // The 2011 → 2021 links read back the right way round: each joins a 2011 LSOA to a 2021
    // one, and some 2021 LSOAs are new (so a swap would show).
    let lsoa11: HashSet<String> = db.lsoas(2011).await.unwrap().into_iter().map(|l| l.code).collect();
    let links = db.sna_lsoa_reference(&[]).await.unwrap().links;
    assert!(links.iter().all(|l| lsoa11.contains(&l.lsoa11) && lsoa.contains_key(l.lsoa21.as_str())));
    assert!(links.iter().any(|l| !lsoa11.contains(&l.lsoa21)), "a 2021 LSOA new since 2011");
    // The 2021 LSOAs' populations, shared out from the 2011 ones in whole residents, add up
    // to each district's published 2011 total exactly (halves rounded up once made it 6 more).
    let district_totals = |list: Vec<alliance_db::areas::LsoaInfo>| {
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for l in list {
            if let (Some(d), Some(p)) = (l.district_code, l.population) {
                *totals.entry(d).or_default() += p;
            }
        }
        totals
    };
    let (totals_2011, totals_2021) =
        (district_totals(db.lsoas(2011).await.unwrap()), district_totals(db.lsoas(2021).await.unwrap()));
    assert_eq!(totals_2021.len(), 9, "{totals_2021:?}");
    for (district, total) in &totals_2021 {
        assert_eq!(Some(total), totals_2011.get(district), "{district}: 2021 LSOAs against the published 2011 sum");
    }
    let mut by_month: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_district: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_decile: BTreeMap<i64, i64> = BTreeMap::new();
    let placeable = placeable_codes(&db).await;
    let (mut no_location, mut not_held) = (0_i64, 0_i64);
    for f in &files {
        let (header, rows) = read_csv(f);
        let (m, t, code) = (column(&header, "Month"), column(&header, "Crime type"), column(&header, "LSOA code"));
        for r in rows.iter().filter(|r| HEADLINE.contains(&&r[t])) {
            no_location += i64::from(r[code].is_empty());
            not_held += i64::from(!r[code].is_empty() && !placeable.contains(&r[code]));
            *by_month.entry(r[m].to_string()).or_insert(0) += 1;
            if let Some(l) = lsoa.get(&r[code]) {
                if let Some(d) = &l.district_code {
                    *by_district.entry(d.clone()).or_insert(0) += 1;
                }
                if let Some(d) = l.imd_decile {
                    *by_decile.entry(d).or_insert(0) += 1;
                }
            }
        }
    }
    let mut population_of_district: BTreeMap<String, i64> = BTreeMap::new();
    let mut population_of_decile: BTreeMap<i64, i64> = BTreeMap::new();
    for l in &lsoas {
        if let Some(d) = &l.district_code {
            *population_of_district.entry(d.clone()).or_insert(0) += l.population.unwrap_or(0);
        }
        if let Some(d) = l.imd_decile {
            *population_of_decile.entry(d).or_insert(0) += l.population.unwrap_or(0);
        }
    }

    let report =
        SnaReport::build(&db, &SnaRequest::default(), &Disclosure::default()).await.expect("the report builds");
    // Every record is this report's (no profile): those with no location are in its headline
    // and out of its place figures, counted apart from those in an LSOA not held.
    assert!(no_location > 100 && not_held > 0, "the raw files: {no_location} with no location, {not_held} not held");
    assert_eq!(report.unplaced.no_location, no_location);
    assert_eq!(report.unplaced.not_in_reference, not_held);
    assert_eq!(report.unplaced.in_headline, no_location + not_held, "the headline counts them all");
    // Over the nine districts, those records are in none of the report's counts, yet they are
    // the area's force's: the report counts them all the same (it said 0 of both), says whose
    // they are, and that the headline leaves them out.
    let nine: Vec<String> = report.districts.iter().map(|d| d.key.clone()).collect();
    let year = |areas: Vec<String>| SnaRequest {
        areas,
        from: "2025-01".parse().ok(),
        to: "2025-12".parse().ok(),
        ..SnaRequest::default()
    };
    let area = SnaReport::build(&db, &year(nine), &Disclosure::default()).await.expect("the nine districts' report");
    assert_eq!(area.unplaced.no_location, no_location, "records with no location, from the raw files");
    assert_eq!(area.unplaced.not_in_reference, not_held, "records in an LSOA the area files do not hold");
    assert_eq!(area.unplaced.in_headline, 0, "the headline counts none of them");
    assert_eq!(area.unplaced.forces, ["staffordshire"]);
    let body = alliance_reports::sna::body_html(&area, true);
    let sentence = format!(
        "{} offences are not in the place figures: {} had no location and {} were recorded in a neighbourhood not in the area&#39;s reference data. Of these, {} are records of Staffordshire Police that no district can be found for (no location, or a neighbourhood not in the area&#39;s reference data): the force&#39;s files cover all of its own area, so they may lie in this area or outside it",
        alliance_core::format::count(no_location + not_held),
        alliance_core::format::count(no_location),
        alliance_core::format::count(not_held),
        alliance_core::format::count(no_location + not_held),
    );
    assert!(body.contains(&sentence), "the places section says which is which: {sentence}");
    assert!(body.contains("(0 fewer over the whole period)"), "the headline and the place figures agree");
    assert!(!body.contains("1 months") && body.contains("12 of 12 months with police data"));
    // Monthly totals.
    let months: Vec<(String, i64)> =
        report.headline.iter().map(|m| (m.month.to_string(), m.count.expect("every month covered"))).collect();
    assert_eq!(months, by_month.clone().into_iter().collect::<Vec<_>>());
    let total: i64 = by_month.values().sum();
    assert_eq!(report.headline_total, total);
    // The rolling 12 months to 2025-12 is the year's total; no earlier month has one.
    assert_eq!(report.rolling.last().and_then(|m| m.count), Some(total));
    assert!(report.rolling[..11].iter().all(|m| m.count.is_none()));
    assert!(report.year_on_year.is_none(), "no 2024 year to compare with");
    // District rates: 12 months, so the annual rate is count / residents × 1000.
    assert_eq!(report.districts.len(), 9, "the 9 Staffordshire and Stoke-on-Trent districts");
    for d in &report.districts {
        let expected = by_district.get(&d.key).copied().unwrap_or(0);
        assert!((d.count - expected as f64).abs() < 1e-9, "{}: {} against {expected}", d.key, d.count);
        assert_eq!(d.population, population_of_district[&d.key]);
        let rate = expected as f64 / population_of_district[&d.key] as f64 * 1000.0;
        assert!((d.rate.unwrap() - rate).abs() < 1e-9, "{}", d.key);
    }
    // Deprivation breakdown.
    for d in &report.deciles {
        let decile: i64 = d.key.parse().unwrap();
        assert!((d.count - by_decile.get(&decile).copied().unwrap_or(0) as f64).abs() < 1e-9, "decile {decile}");
        assert_eq!(d.population, population_of_decile[&decile]);
    }
    let ratio = report.deprivation.as_ref().expect("deciles 1 and 10 are both present");
    let r1 = by_decile[&1] as f64 / population_of_decile[&1] as f64;
    let r10 = by_decile[&10] as f64 / population_of_decile[&10] as f64;
    assert!((ratio.ratio - r1 / r10).abs() < 1e-9);
    // The summary's sentences carry these figures.
    assert!(report.findings[0].contains(&alliance_core::format::count(total)), "{}", report.findings[0]);
    assert!(report.findings.iter().any(|f| f.contains(&format!("{:.1} times", ratio.ratio))));
    // Success measures: all absent from police data, so "no data", never 0.
    assert!(report.success.iter().all(|(_, v)| v.display() == "no data"));
    // The map's outlines: the area's LSOAs that have a boundary stored, in code order (read by
    // code, more than one query's worth), and for one district that district's alone.
    let outline_codes = |r: &SnaReport| r.outlines.iter().map(|o| o.code.clone()).collect::<Vec<_>>();
    let stored_codes = |district: Option<&'static str>| {
        let db = db.clone();
        async move { db.boundaries("lsoa21", district).await.unwrap().into_iter().map(|b| b.code).collect::<Vec<_>>() }
    };
    let in_report: std::collections::HashSet<&str> = report.lsoas.iter().map(|l| l.code.as_str()).collect();
    let whole: Vec<String> = stored_codes(None).await.into_iter().filter(|c| in_report.contains(c.as_str())).collect();
    assert!(whole.len() > 500, "more LSOAs than one query binds: {}", whole.len());
    assert_eq!(outline_codes(&report), whole);
    let stoke = "E06000021";
    let one = SnaRequest { areas: vec![stoke.into()], ..SnaRequest::default() };
    let one = SnaReport::build(&db, &one, &Disclosure::default()).await.expect("one district's report");
    let expected = stored_codes(Some(stoke)).await;
    assert!(!expected.is_empty() && expected.len() < whole.len());
    assert_eq!(outline_codes(&one), expected, "the district's outlines and no others");

    // The file, written by the command.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sna.html");
    let output = Command::new(env!("CARGO_BIN_EXE_alliance"))
        .args(["--db", &url, "sna", "--from", "2025-01", "--to", "2025-12", "--out"])
        .arg(&out)
        .env_remove("ALLIANCE_DB")
        .output()
        .expect("run alliance sna");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let html = std::fs::read_to_string(&out).unwrap();
    for attr in ["src=", "href=", "url("] {
        for (i, _) in html.match_indices(attr) {
            let rest = html[i + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(
                !rest.starts_with("http:") && !rest.starts_with("https:") && !rest.starts_with("//"),
                "external reference at {i}: {}",
                &html[i..(i + 80).min(html.len())]
            );
        }
    }
    assert!(!html.contains("<link") && !html.contains("<script"), "no linked stylesheet or script");
    for (id, title) in SECTIONS {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
        assert!(html.contains(title), "heading {title}");
    }
    let success = &html[html.find("id=\"table-success-measures\"").expect("success table")..];
    let success = &success[..success.find("</table>").unwrap()];
    assert_eq!(success.matches(">no data<").count(), 6, "each success measure says no data");
    assert!(html.contains(&alliance_core::format::count(total)));
    assert!(html.contains("@media print"));
    assert!(html.contains("<svg class=\"app-map\""), "the choropleth map is drawn");

    // The same report as a page, and its tables as CSV.
    let me = app.signed_in("analyst@example.org", alliance_core::access::Role::Analyst, "Test Alliance").await;
    let page = app.get("/sna?area=E06000021&from=2025-01&to=2025-12", &me).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Summary of key findings") && page.body.contains("Stoke-on-Trent"));
    assert!(page.body.contains("/sna/tables/districts.csv"));
    let csv = app.get("/sna/tables/districts.csv", &me).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let mut lines = csv.body.lines();
    assert_eq!(lines.next(), Some("District,Code,Offences,Residents,\"Rate per 1,000 a year\""));
    assert_eq!(lines.count(), 9);
    let bad = app.get("/sna?from=2025-13", &me).await;
    assert_eq!(bad.status, 422, "a bad month is a validation error");
    assert!(bad.body.contains("Enter the first month as YYYY-MM"), "{}", bad.body);
    // Periods and areas no record held can answer: refused in the form's error summary,
    // naming the field and what is held, with no report (a 48 MB page, "0 offences").
    for (query, field, why) in [
        ("from=2025-01&to=9999-12", "to", "a question covers at most 120 months"),
        ("from=2025-06&to=2025-01", "to", "The last month (2025-01) is before the first month (2025-06)"),
        ("from=2024-07&to=2025-06", "from", "the police data held covers 2025-01 to 2025-12"),
        ("to=2026-03", "to", "the police data held covers 2025-01 to 2025-12"),
        ("area=E99999999", "area", "No LSOA of E99999999 is held"),
        ("area=E06000021&area=E01014210", "area", "E01014210 is the code of a neighbourhood (LSOA), not of a district"),
    ] {
        let refused = app.get(&format!("/sna?{query}"), &me).await;
        assert_eq!(refused.status, 422, "{query}");
        assert!(refused.body.contains("govuk-error-summary"), "{query}: an error summary");
        assert!(refused.body.contains(&format!("href=\"#{field}\"")), "{query}: the field {field}");
        assert!(refused.body.contains(why), "{query}: {why}\n{}", refused.body);
        assert!(!refused.body.contains("Summary of key findings"), "{query}: no report");
        let csv = app.get(&format!("/sna/tables/monthly.csv?{query}"), &me).await;
        assert_eq!(csv.status, 422, "{query}: the download is refused too");
    }
    let run = |args: &[&str]| {
        let output = common::alliance(&url, args);
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let out_file = dir.path().join("refused.html");
    let out_path = out_file.to_str().expect("a path");
    for (args, why) in [
        (
            vec!["--from", "2025-01", "--to", "9999-12"],
            "--to: 2025-01 to 9999-12 is 95700 months: a question covers at most 120",
        ),
        (vec!["--from", "2025-06", "--to", "2025-01"], "--to: the last month (2025-01) is before"),
        (vec!["--to", "2026-01"], "--to: the last month (2026-01) is outside the months held"),
        (vec!["--area", "E99999999"], "--area: no LSOA of E99999999 is held"),
    ] {
        let (ok, stderr) = run(&[&["sna", "--out", out_path][..], &args].concat());
        assert!(!ok && stderr.contains(why), "{args:?}: {why}\n{stderr}");
    }
    assert!(!out_file.exists(), "no file written for a refused question");
    for (args, why) in [
        (vec!["--crime-type", "Violence"], "--crime-type: no record held has the crime type \"Violence\": did you mean \"Violence and sexual offences\"?"),
        (vec!["--crime-type", "Homicide"], "no record held has the crime type \"Homicide\": the crime types held are \"Anti-social behaviour\", \"Bicycle theft\""),
        (vec!["--from", "2025-06", "--to", "2025-01"], "--to: the last month (2025-01) is before the first month (2025-06)"),
        (vec!["--from", "2030-01"], "--from: the first month (2030-01) is outside the months held: the police data held covers 2025-01 to 2025-12"),
    ] {
        let (ok, stderr) = run(&[&["counts", "--by", "month", "--everywhere"][..], &args].concat());
        assert!(!ok && stderr.contains(why), "{args:?}: {why}\n{stderr}");
    }
    assert!(run(&["counts", "--by", "month", "--everywhere", "--crime-type", "Robbery", "--from", "2025-06"]).0);
    for (query, field, why) in [
        ("from=2025-06&to=2025-01", "to", "is before the first month"),
        ("crime-type=Violence", "crime_type", "did you mean \"Violence and sexual offences\"?"),
        ("from=2019-01", "from", "covers 2025-01 to 2025-12"),
    ] {
        let reply = app.get(&format!("/api/v1/counts?by=month&area=everywhere&{query}"), &me).await;
        assert_eq!(reply.status, 422, "{query}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{query}");
        assert_eq!(reply.json()["field"], field, "{query}");
        assert!(reply.json()["detail"].as_str().is_some_and(|d| d.contains(why)), "{query}: {}", reply.body);
    }
    assert_eq!(app.get("/sna/tables/nothing.csv", &me).await.status, 404);
    let definition = app.get("/sna/definition", &me).await;
    assert_eq!(definition.status, 200);
    assert!(definition.body.contains("Violence and sexual offences") && definition.body.contains("weapon flag"));
}

on_each_backend!(staffordshire_2025);

/// Editing the definition: an export, an import as a new version, and a refused file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_versions() {
    let t = common::sqlite();
    let db = t.connect().await;
    let first = db.sv_definition_current().await.unwrap();
    assert_eq!(first.version, 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("def.json");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_alliance"))
            .args(["--db", &t.url])
            .args(args)
            .env_remove("ALLIANCE_DB")
            .output()
            .expect("run alliance")
    };
    assert!(run(&["definition", "export", file.to_str().unwrap()]).status.success());
    let mut d: alliance_core::analytics::sna::definition::Definition =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    d.name = "Local edit".into();
    d.mappings.retain(|m| m.category != "Drugs");
    std::fs::write(&file, serde_json::to_string(&d).unwrap()).unwrap();
    let out = run(&["definition", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let current = db.sv_definition_current().await.unwrap();
    assert_eq!((current.version, current.name.as_str()), (2, "Local edit"));
    assert!(current.mappings.iter().all(|m| m.category != "Drugs"));
    d.mappings.clear();
    std::fs::write(&file, serde_json::to_string(&d).unwrap()).unwrap();
    let out = run(&["definition", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no mappings"));
    assert_eq!(db.sv_definition_versions().await.unwrap().len(), 2);
}

/// Every count of a published ED table is a word or a number that is 0 or at least
/// `threshold`.
fn assert_no_small_counts(csv_text: &str, threshold: i64) {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    for row in reader.records() {
        let row = row.unwrap();
        for (header, cell) in headers.iter().zip(row.iter()).skip(1) {
            if header == "Method code" {
                continue;
            }
            if let Ok(n) = cell.replace(',', "").parse::<i64>() {
                assert!(n == 0 || n >= threshold, "a count of {n} is published in {row:?}");
            }
        }
    }
}

/// A synthetic ED site's quarter (RJE01, January to March 2025, 400 assaults, seed 11).
fn ed_first_quarter_2025() -> alliance_ingest::ed::synthetic::GeneratorSpec {
    alliance_ingest::ed::synthetic::GeneratorSpec {
        site_code: "RJE01".into(),
        from: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2025, 3, 31).unwrap(),
        assaults: 400,
        seed: 11,
        streets: vec![],
    }
}

/// The emergency department sections with synthetic ED data (and no police data): time of
/// day and day of week (of the assault), age band by sex, and methods by serious violence
/// group, each suppressed and checked against an independent count of the generated
/// records; "no data" without ED data; withheld, on the page and in its CSV, from a reader
/// whose organisation has no access to the ED dataset.
async fn emergency_department_sections(t: TestDb) {
    use alliance_core::analytics::sna::definition::SvGroup;
    use alliance_core::analytics::suppression::Shown;
    use alliance_ingest::ed::synthetic::{generate, write};
    use chrono::{Datelike, Timelike};

    // The web app runs with a configured threshold of 10, not the default 5.
    let ten = Disclosure::new(10).unwrap();
    let url = t.url.clone();
    let state = alliance_web::AppState::new(t.connect().await).with_secure_cookies(false).with_disclosure(ten);
    let app = TestApp::start_with(t, state).await;
    let db = app.db.clone();
    let included = SnaRequest { ed: EdPermission::Included, ..SnaRequest::default() };
    let five = Disclosure::default();

    // Without ED data: "no data", not zeros.
    let report = SnaReport::build(&db, &included, &five).await.unwrap();
    assert!(matches!(report.ed, EdSection::NoData));
    let html = standalone_html(&report);
    assert_eq!(html.matches("Emergency department data: no data.").count(), 3, "people, times, injuries");
    assert!(table(&report, "ed-days").unwrap().rows.is_empty());

    let spec = ed_first_quarter_2025();
    let sub = generate(&spec);
    let text = write(&sub, alliance_ingest::ed::EdFormat::Csv);
    db.import_ed_file(&SourceFile::from_bytes("ed.csv", text.into_bytes()), "test").await.unwrap();

    // Independent counts from the generated records.
    let mut by_day = [0i64; 7];
    let mut by_hour = [0i64; 24];
    let mut by_method: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_age_sex: BTreeMap<(String, String), i64> = BTreeMap::new();
    for a in &sub.assaults {
        by_day[a.assault_at.weekday().num_days_from_monday() as usize] += 1;
        by_hour[a.assault_at.hour() as usize] += 1;
        *by_method.entry(a.method.clone()).or_insert(0) += 1;
        let key = (a.age_band.clone().unwrap_or_default(), a.sex.clone().unwrap_or_default());
        *by_age_sex.entry(key).or_insert(0) += 1;
    }
    let agrees = |shown: Shown, expected: i64, what: &str| match shown {
        Shown::Value(n) => assert_eq!(n as i64, expected, "{what}"),
        Shown::Primary => assert!((1..5).contains(&expected), "{what}: {expected} hidden as small"),
        Shown::Secondary => assert!(expected > 0, "{what}: a withheld complement is never a zero"),
    };

    let report = SnaReport::build(&db, &included, &five).await.unwrap();
    let EdSection::Data(ed) = &report.ed else { panic!("ED figures expected") };
    assert_eq!(ed.times.total, Shown::Value(400));
    assert!(ed.synthetic);
    assert_eq!(ed.months, ("2025-01".to_string(), "2025-03".to_string()));
    for (d, expected) in by_day.iter().enumerate() {
        agrees(ed.times.by_day[d], *expected, &format!("day {d}"));
    }
    for (h, expected) in by_hour.iter().enumerate() {
        agrees(ed.times.by_hour[h], *expected, &format!("hour {h}"));
    }
    assert!(ed.times.by_hour.iter().any(|s| s.is_hidden()), "some night-time-poor hours are small");
    assert!(ed.people.recorded);
    assert_eq!(ed.people.table.total, Shown::Value(400));
    for (i, band) in ed.people.age_bands.iter().enumerate() {
        for (j, sex) in ed.people.sexes.iter().enumerate() {
            let key = (band.clone().unwrap_or_default(), sex.clone().unwrap_or_default());
            agrees(ed.people.table.cells[i][j], by_age_sex.get(&key).copied().unwrap_or(0), &format!("{key:?}"));
        }
    }
    assert_eq!(ed.methods.total, Shown::Value(400));
    for g in &ed.methods.groups {
        let mut subtotal = 0;
        for m in &g.methods {
            agrees(m.count, by_method[&m.code], &m.code);
            subtotal += by_method[&m.code];
        }
        agrees(g.subtotal, subtotal, &format!("{:?}", g.group));
    }
    let knife = ed.methods.groups.iter().find(|g| g.group == Some(SvGroup::KnifeAndSharpObject)).expect("knife group");
    assert_eq!(knife.methods.iter().map(|m| m.code.as_str()).collect::<Vec<_>>(), vec!["06", "07"]);

    let html = standalone_html(&report);
    for id in ["table-ed-days", "table-ed-hours", "table-ed-people", "table-ed-methods", "sna-ed-days", "sna-ed-hours"]
    {
        assert!(html.contains(&format!("id=\"{id}")), "{id}");
    }
    assert!(html.contains("SYNTHETIC") && html.contains("date and time of the <strong>assault</strong>"));
    assert!(!html.contains("Emergency department data: no data."));
    for name in ["ed-days", "ed-hours", "ed-people", "ed-methods"] {
        assert_no_small_counts(&table(&report, name).unwrap().csv(), 5);
    }
    assert!(html.contains("counts of 1 to 4 are shown as &#34;fewer than 5&#34;"));

    // The same data under a threshold of 10: every published count is 0 or at least 10.
    let report10 = SnaReport::build(&db, &included, &ten).await.unwrap();
    for name in ["ed-days", "ed-hours", "ed-people", "ed-methods"] {
        assert_no_small_counts(&table(&report10, name).unwrap().csv(), 10);
    }
    let html10 = standalone_html(&report10);
    assert!(html10.contains(">fewer than 10<") && !html10.contains("fewer than 5"));
    // The command line's file under --suppression-threshold 10 is that same report.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sna.html");
    let run = common::alliance(&url, &["sna", "--suppression-threshold", "10", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let file = std::fs::read_to_string(&out).unwrap();
    assert!(file.contains(">fewer than 10<") && !file.contains("fewer than 5"), "the file uses the threshold given");
    let refused = common::alliance(&url, &["sna", "--suppression-threshold", "1", "--out", out.to_str().unwrap()]);
    assert!(!refused.status.success(), "a threshold of 1 would publish every count");

    // On the web: an analyst whose organisation has no access sees the sections withheld,
    // in the page and in the CSV; once their organisation owns the dataset, the figures.
    let me = app.signed_in("analyst@example.org", alliance_core::access::Role::Analyst, "Council").await;
    let page = app.get("/sna", &me).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body.matches("Emergency department data: not shown.").count(), 3);
    assert!(!page.body.contains("id=\"sna-ed-days-title\""));
    let csv = app.get("/sna/tables/ed-days.csv", &me).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.body.trim_end(), "Day,Assaults", "headers only");
    let org = db.organisation_by_name("Council").await.unwrap().unwrap().id;
    db.set_dataset_owner("ed-assaults", org, &common::test_actor()).await.unwrap();
    let page = app.get("/sna", &me).await;
    assert!(page.body.contains("id=\"sna-ed-days-title\"") && page.body.contains("/sna/tables/ed-people.csv"));
    // The owner's analyst has record-level access: exact figures (issue 14).
    assert!(page.body.contains("exact figures, shown because your organisation has record-level access"));
    let people = app.get("/sna/tables/ed-people.csv", &me).await;
    assert!(!people.body.contains("fewer than") && !people.body.contains("withheld"), "record level: nothing hidden");
    let csv = app.get("/sna/tables/ed-days.csv", &me).await;
    let saturday = csv.body.lines().find(|l| l.starts_with("Saturday,")).expect("a Saturday row").to_string();
    assert_eq!(saturday, format!("Saturday,{}", by_day[5]));
    assert_eq!(csv.body.lines().last(), Some("Total,400"));
    // A Board member of the same organisation reads at aggregate level: the page and its CSV
    // use the configured threshold of 10 (issue 14.2), over the quarter the data covers.
    let board = app.signed_in("board@example.org", alliance_core::access::Role::BoardMember, "Council").await;
    let page = app.get("/sna", &board).await;
    assert!(page.body.contains("fewer than 10") && !page.body.contains("fewer than 5"), "the configured threshold");
    let csv = app.get("/sna/tables/ed-days.csv", &board).await;
    assert_eq!(csv.body.lines().last(), Some("Total,400"), "January to March 2025 is one whole quarter");
    for name in ["ed-days", "ed-hours", "ed-people", "ed-methods"] {
        let csv = app.get(&format!("/sna/tables/{name}.csv"), &board).await;
        assert_eq!(csv.status, 200, "{name}");
        assert_no_small_counts(&csv.body, 10);
    }
    // Reports are kept until the data changes, one per reader's rights: asked again in turn
    // with nothing changed, each reader still gets the report of their own rights.
    let again = app.get("/sna/tables/ed-people.csv", &me).await;
    assert!(!again.body.contains("fewer than") && !again.body.contains("withheld"), "record level again");
    assert_eq!(again.body, people.body, "the same exact figures");
    let again = app.get("/sna/tables/ed-people.csv", &board).await;
    assert!(again.body.contains("fewer than 10"), "aggregate level again: {}", again.body);
    assert_no_small_counts(&again.body, 10);
}

// The ED sections need no shared data: SQLite always, PostgreSQL when reachable.
on_each_db!(emergency_department => emergency_department_sections);

/// A report over a place of the register (issue 15): the police figures are the records
/// inside the place's outline (of the definition's categories; the headline its three),
/// the report names the place, and emergency department figures are never published by
/// place: below record level they are the whole area's quarter (the same figures as the
/// whole-area report), at record level the whole area's, each saying so. On the web a place
/// not in the register, or a place with districts, is refused; `alliance sna --place NAME`
/// writes the same report.
async fn a_report_over_a_place(t: TestDb) {
    use alliance_core::access::Role;
    use alliance_core::analytics::suppression::Shown;
    use alliance_ingest::ed::synthetic::{generate, write};

    let url = t.url.clone();
    let state = alliance_web::AppState::new(t.connect().await).with_secure_cookies(false);
    let app = TestApp::start_with(t, state).await;
    let db = app.db.clone();
    // Inside the park each month: 6 violent crimes, 2 robberies, 1 drugs offence (a context
    // category) and 3 public order offences (not in the definition); 10 violent crimes
    // outside it.
    let mut n = 0u64;
    for month in ["2025-01", "2025-02", "2025-03"] {
        let mut text = String::from("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n");
        let rows = [
            (6, (-2.19, 53.005), "Violence and sexual offences"),
            (2, (-2.191, 53.004), "Robbery"),
            (1, (-2.19, 53.006), "Drugs"),
            (3, (-2.19, 53.005), "Public order"),
            (10, (-2.10, 53.0), "Violence and sexual offences"),
        ];
        for (count, (lon, lat), crime_type) in rows {
            for _ in 0..count {
                n += 1;
                text.push_str(&format!(
                    "{n:064x},{month},Staffordshire Police,Staffordshire Police,{lon},{lat},On or near Park Lane,E01099999,Test 001A,{crime_type},Under investigation,\n"
                ));
            }
        }
        let file = SourceFile::from_bytes(&format!("{month}-staffordshire-street.csv"), text.into_bytes());
        db.import_police_file(&file, "test", &|_| {}).await.unwrap();
    }
    let spec = ed_first_quarter_2025();
    let text = write(&generate(&spec), alliance_ingest::ed::EdFormat::Csv);
    db.import_ed_file(&SourceFile::from_bytes("ed.csv", text.into_bytes()), "test").await.unwrap();
    let analyst = app.signed_in("analyst@example.org", Role::Analyst, "Council").await;
    let park = r#"{"type":"Polygon","coordinates":[[[-2.195,53.002],[-2.185,53.002],[-2.185,53.008],[-2.195,53.008],[-2.195,53.002]]]}"#;
    let added = app
        .post_form(
            "/places",
            &analyst,
            &[("name", "Target Park"), ("kind", "park"), ("description", ""), ("geojson", park)],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let id = db.places_named("place", &["Target Park".to_string()]).await.unwrap()[0].id;

    let five = Disclosure::default();
    let whole = SnaReport::build(&db, &SnaRequest { ed: EdPermission::Included, ..SnaRequest::default() }, &five)
        .await
        .unwrap();
    assert_eq!(whole.headline_total, 3 * (6 + 2 + 10));
    let asked = SnaRequest { place: Some(id), ed: EdPermission::Included, ..SnaRequest::default() };
    let report = SnaReport::build(&db, &asked, &five).await.unwrap();
    assert_eq!(report.headline_total, 3 * (6 + 2), "the headline crimes inside the park only");
    let place = report.place.as_ref().expect("the place covered");
    assert_eq!((place.id, place.name.as_str(), place.records_inside), (id, "Target Park", 3 * 9));
    assert!(report.area_label.contains("Target Park"), "{}", report.area_label);
    assert_eq!(report.period.map(|p| p.to_string()), whole.period.map(|p| p.to_string()));
    assert_eq!(report.overall_rate, None, "a place has no population");
    assert_eq!(
        (report.unplaced.no_location, report.unplaced.not_in_reference, report.unplaced.in_headline),
        (0, 24, 24),
        "the test LSOA is outside the (empty) reference data; every record inside the park has a location"
    );
    assert!(alliance_reports::sna::body_html(&report, true).contains(
        "24 offences were recorded in a neighbourhood not in the reference data, and are not in the place figures."
    ));
    let robbery = report.categories.iter().find(|c| c.category == "Robbery").expect("robbery");
    assert_eq!(robbery.total, 6);
    assert!(report.outcomes_recorded);
    // ED: the whole area's quarter, exactly the whole-area report's figures, and said so.
    let (EdSection::Data(at_place), EdSection::Data(everywhere)) = (&report.ed, &whole.ed) else {
        panic!("ED figures expected in both reports")
    };
    assert_eq!(at_place.times.total, Shown::Value(400));
    assert_eq!(format!("{:?}", at_place.times), format!("{:?}", everywhere.times), "not by place");
    assert_eq!(format!("{:?}", at_place.people), format!("{:?}", everywhere.people));
    let note = at_place.partition_note().expect("a note");
    assert!(note.contains("never published by place") && note.contains("whole calendar quarter"), "{note}");
    let html = standalone_html(&report);
    assert!(html.contains("Target Park") && html.contains("no rates per resident"), "the file names the place");
    assert!(html.contains("never published by place"));
    // At record level: the whole area's figures for the period, still not the place's.
    let record = SnaRequest { place: Some(id), ed: EdPermission::Record, ..SnaRequest::default() };
    let report = SnaReport::build(&db, &record, &five).await.unwrap();
    let EdSection::Data(exact) = &report.ed else { panic!("ED figures expected") };
    assert!(exact.exact && !exact.by_district);
    assert_eq!(exact.times.total, Shown::Value(400));
    assert!(exact.partition_note().expect("a note").contains("never published by place"));
    // Districts and a place together are refused.
    let both = SnaRequest { place: Some(id), areas: vec!["E06000021".into()], ..SnaRequest::default() };
    assert!(SnaReport::build(&db, &both, &five).await.is_err());

    // The web page: the place chosen, ED withheld from an organisation without access.
    let page = app.get(&format!("/sna?place={id}"), &analyst).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("<option value=\"{id}\" selected>Target Park</option>")));
    assert!(page.body.contains("Target Park (park or open space, place register)"), "{}", page.body);
    assert_eq!(page.body.matches("Emergency department data: not shown.").count(), 3);
    let csv = app.get(&format!("/sna/tables/monthly.csv?place={id}"), &analyst).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    for (path, why) in [
        ("/sna?place=999999".to_string(), "Choose a place from the list"),
        (format!("/sna?place={id}&area=E06000021"), "Choose either districts or a place, not both"),
    ] {
        let refused = app.get(&path, &analyst).await;
        assert_eq!(refused.status, 422, "{path}");
        assert!(refused.body.contains(why) && refused.body.contains("href=\"#place\""), "{path}: {}", refused.body);
    }
    assert_eq!(app.get("/sna/report.html?place=999999", &analyst).await.status, 422);
    // A Board member of the dataset's owner (aggregate level): the whole area's quarter.
    let org = db.organisation_by_name("Council").await.unwrap().unwrap().id;
    db.set_dataset_owner("ed-assaults", org, &common::test_actor()).await.unwrap();
    let board = app.signed_in("board@example.org", Role::BoardMember, "Council").await;
    let page = app.get(&format!("/sna?place={id}"), &board).await;
    assert!(page.body.contains("never published by place") && page.body.contains("id=\"sna-ed-days-title\""));

    // The command line, by name.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("park.html");
    let run = tokio::task::spawn_blocking({
        let (url, out) = (url.clone(), out.clone());
        move || common::alliance(&url, &["sna", "--place", "Target Park", "--out", out.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("Target Park (park or open space, place register), 24 "));
    let file = std::fs::read_to_string(&out).unwrap();
    assert!(file.contains("Target Park") && file.contains("never published by place"));
    let unknown = tokio::task::spawn_blocking(move || {
        common::alliance(&url, &["sna", "--place", "Nowhere Park", "--out", out.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no place called \"Nowhere Park\""));
}

on_each_db!(report_over_a_place => a_report_over_a_place);

/// A partnership of one district on a database holding more (the demo's nine districts; in
/// practice a region or the national archive): the report asked for no districts is its own
/// area's, the same as asking for that district, on the web and from the command line; every
/// district only when asked for (`--all-areas`). Without a profile, every district, as before.
async fn the_default_report_is_the_partnerships_area(t: TestDb) {
    const STOKE: &str = "E06000021";
    let url = t.url.clone();
    let app = TestApp::start(t).await;
    let db = app.db.clone();
    assert!(alliance::demo::load_if_empty(&db).await.expect("demo data") > 0);
    let year = |r: SnaRequest| SnaRequest { from: "2025-01".parse().ok(), to: "2025-12".parse().ok(), ..r };
    let build = |request: SnaRequest| {
        let db = db.clone();
        async move { SnaReport::build(&db, &request, &Disclosure::default()).await.expect("report") }
    };
    let everything = build(year(SnaRequest::default())).await;
    assert_eq!(everything.area_label, "all areas with data loaded");
    let stoke = build(year(SnaRequest { areas: vec![STOKE.into()], ..SnaRequest::default() })).await;
    assert!(stoke.headline_total > 0 && stoke.headline_total < everything.headline_total);

    let mut profile: alliance_core::partnership::Profile =
        alliance_core::partnership::example("staffordshire").expect("the example").expect("it parses");
    profile.districts = vec![STOKE.parse().expect("a district code")];
    db.init_partnership(&profile, &common::test_actor()).await.expect("profile stored");
    let default = build(year(SnaRequest::default())).await;
    assert_eq!(everything.partnership, None, "no profile then");
    assert_eq!(default.partnership.as_deref(), Some(profile.name.as_str()), "the partnership's assessment");
    assert_eq!(default.area_codes, [STOKE]);
    assert_eq!(default.area_label, stoke.area_label);
    assert_eq!(default.headline_total, stoke.headline_total);
    assert_eq!(default.lsoas.len(), stoke.lsoas.len());
    let all = build(year(SnaRequest { all_areas: true, ..SnaRequest::default() })).await;
    assert_eq!(all.headline_total, everything.headline_total);
    assert_eq!(all.area_label, "all areas with data loaded");

    // Its emergency department figures at record level stay the whole area's, as before the
    // default area (records geocoded to no district included).
    let spec = alliance_ingest::ed::synthetic::GeneratorSpec { seed: 5, ..ed_first_quarter_2025() };
    let text = alliance_ingest::ed::synthetic::write(
        &alliance_ingest::ed::synthetic::generate(&spec),
        alliance_ingest::ed::EdFormat::Csv,
    );
    db.import_ed_file(&SourceFile::from_bytes("ed.csv", text.into_bytes()), "test").await.expect("ED data");
    let q1 = |r: SnaRequest| SnaRequest {
        from: "2025-01".parse().ok(),
        to: "2025-03".parse().ok(),
        ed: EdPermission::Record,
        ..r
    };
    let default_ed = build(q1(SnaRequest::default())).await.ed;
    let all_ed = build(q1(SnaRequest { all_areas: true, ..SnaRequest::default() })).await.ed;
    assert!(!matches!(default_ed, EdSection::NoData | EdSection::NotPermitted), "{default_ed:?}");
    assert_eq!(format!("{default_ed:?}"), format!("{all_ed:?}"));

    // The web page asked for no districts: the partnership's report, its district ticked.
    let analyst = app.signed_in("analyst@example.org", alliance_core::access::Role::Analyst, "Test council").await;
    let page = app.get("/sna?from=2025-01&to=2025-12", &analyst).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("value=\"{STOKE}\" checked")), "the partnership's district ticked");
    assert_eq!(page.body.matches("\" checked").count(), 1, "and no other");
    assert!(page.body.contains("(none chosen means the partnership"), "the form says what no choice covers");
    let (first, rest) =
        page.body.split_once("Other districts held (8)").expect("the demo's other eight districts apart");
    assert!(first.contains(&format!("value=\"{STOKE}\"")) && !rest.contains(&format!("value=\"{STOKE}\"")));
    assert!(rest.contains("value=\"E07000192\""), "Cannock Chase among the others");
    assert!(page.body.contains("whose neighbourhood (LSOA) lies in the area"), "the counts' definition");

    let dir = tempfile::tempdir().expect("a folder");
    let run = |extra: &[&str]| {
        let out = dir.path().join("sna.html");
        let output = Command::new(env!("CARGO_BIN_EXE_alliance"))
            .args(["--db", &url, "sna", "--from", "2025-01", "--to", "2025-12", "--out"])
            .arg(&out)
            .args(extra)
            .env_remove("ALLIANCE_DB")
            .output()
            .expect("run alliance sna");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let said = run(&[]);
    assert!(said.contains(&format!("{}, {} ", stoke.area_label, stoke.headline_total)), "{said}");
    // The file names the partnership above its title.
    let file = std::fs::read_to_string(dir.path().join("sna.html")).expect("the report file");
    let caption = format!("id=\"sna-partnership\">{}</span>", profile.name);
    assert!(file.contains(&caption), "the partnership named: {caption}");
    let said = run(&["--all-areas"]);
    assert!(said.contains(&format!("all areas with data loaded, {} ", everything.headline_total)), "{said}");
}

on_each_db!(default_report_area => the_default_report_is_the_partnerships_area);

/// A partnership whose area data came from files keyed by 2011 LSOA codes (the English IMD
/// and population files, no boundaries), as a partnership outside Staffordshire first loads
/// it: the neighbourhoods are the 2011 LSOAs, the records in those that kept their code in
/// 2021 are placed, and the report says which districts this is. (Before, it said "0
/// residents in 0 neighbourhoods" and "0.0% of offences in the 0 neighbourhoods with the
/// most".)
async fn neighbourhoods_of_2011_without_2021_boundaries(t: TestDb, data: PathBuf) {
    let profile = alliance_core::partnership::example("staffordshire").expect("the example").expect("it parses");
    let nine: Vec<String> = profile.districts.iter().map(|d| d.to_string()).collect();
    assert_eq!(nine.len(), 9);
    let db = t.connect().await;
    let files = staffordshire_2025_streets(&data);
    common::import_all(&db, &files).await;
    let year = |areas: Vec<String>| SnaRequest {
        areas,
        from: "2025-01".parse().ok(),
        to: "2025-12".parse().ok(),
        ..SnaRequest::default()
    };

    // No area data at all: the report says so, and gives no share of nothing.
    let bare = SnaReport::build(&db, &year(Vec::new()), &Disclosure::default()).await.expect("the report builds");
    assert!(bare.headline_total > 0 && bare.lsoa_count == 0 && bare.concentration.is_empty());
    assert!(!bare.findings.iter().any(|f| f.contains("neighbourhoods (LSOAs) with the most")), "{:?}", bare.findings);
    assert!(alliance_reports::sna::body_html(&bare, true).contains("id=\"no-neighbourhoods\""));

    for name in ["File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv", "File_6_-_IoD2019_Population_Denominators.csv"] {
        let file = SourceFile::from_path(&data.join("lsoa").join(name));
        db.import_area_file(&file, "test").await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(db.lsoas(2021).await.expect("LSOAs").is_empty(), "no 2021 LSOA held");
    let area: HashMap<String, alliance_db::areas::LsoaInfo> = db
        .lsoas(2011)
        .await
        .expect("LSOAs")
        .into_iter()
        .filter(|l| l.district_code.as_ref().is_some_and(|d| nine.contains(d)))
        .map(|l| (l.code.clone(), l))
        .collect();

    // Independently: the headline records whose LSOA code is a held 2011 LSOA of the nine;
    // those with no location; those whose code no held LSOA with a district has (2021 codes
    // new since 2011 among them).
    let placeable = placeable_codes(&db).await;
    let (mut placed, mut all, mut no_location, mut not_held) = (0_i64, 0_i64, 0_i64, 0_i64);
    for f in &files {
        let (header, rows) = read_csv(f);
        let (t, code) = (column(&header, "Crime type"), column(&header, "LSOA code"));
        for r in rows.iter().filter(|r| HEADLINE.contains(&&r[t])) {
            all += 1;
            placed += i64::from(area.contains_key(&r[code]));
            no_location += i64::from(r[code].is_empty());
            not_held += i64::from(!r[code].is_empty() && !placeable.contains(&r[code]));
        }
    }
    assert!(no_location > 0 && not_held > 0, "{no_location} with no location, {not_held} recoded or elsewhere");
    assert!(placed > 0 && placed < all, "most placed ({placed} of {all}), not those recoded in 2021");

    let report = SnaReport::build(&db, &year(nine.clone()), &Disclosure::default()).await.expect("the report builds");
    assert_eq!(report.headline_total, placed);
    assert_eq!(report.lsoa_count, area.len(), "every held 2011 LSOA of the nine districts");
    let figures: f64 = report.lsoas.iter().map(|l| l.count).sum();
    assert_eq!(figures, placed as f64);
    // Those records are in no count over the nine districts: the report counts them apart
    // (it said 0: the districts' query never reads them).
    assert_eq!(report.unplaced.no_location, no_location);
    assert_eq!(report.unplaced.not_in_reference, not_held);
    assert_eq!(report.unplaced.in_headline, 0, "every record of the nine's held LSOAs is placed");
    // Its neighbourhoods are 2011's, and every caption and note says so (they said 2021).
    assert_eq!(report.lsoa_vintage(), "2011");
    for name in ["context", "top-lsoas", "lsoas"] {
        let caption = table(&report, name).expect("the table").caption;
        assert!(caption.contains("(LSOAs 2011)") && !caption.contains("2021"), "{name}: {caption}");
    }
    assert!(report.area_provenance().contains("(2011 LSOAs, as published)"), "{}", report.area_provenance());
    assert!(!report.area_provenance().contains("derived from 2011"));
    let residents: i64 = area.values().filter_map(|l| l.population).sum();
    assert!(residents > 1_000_000 && report.population == residents, "{}", report.population);
    assert_eq!(report.concentration.len(), 3);
    assert_eq!(report.districts.len(), 9, "a rate for each district");
    assert_eq!(report.lsoas_2011_in.len(), 9);
    assert!(report.lsoas_2011_in.contains(&"Stoke-on-Trent".to_string()), "{:?}", report.lsoas_2011_in);
    let body = alliance_reports::sna::body_html(&report, true);
    assert!(body.contains("id=\"lsoas-2011\""), "the report says so");
    assert!(!body.contains("LSOAs 2021") && !body.contains("2021 boundaries)"), "no caption calls them 2021's");
    assert!(body.contains("neighbourhoods (LSOAs of 2011)"), "the context says 2011");
    assert!(!body.contains("id=\"no-neighbourhoods\""));
}

on_each_backend!(neighbourhoods_of_2011_without_2021_boundaries);

/// The LSOA codes of either census held with a district: those a record can be placed by.
async fn placeable_codes(db: &alliance_db::Db) -> HashSet<String> {
    let mut codes = HashSet::new();
    for vintage in [2011, 2021] {
        let held = db.lsoas(vintage).await.expect("LSOAs");
        codes.extend(held.into_iter().filter(|l| l.district_code.is_some()).map(|l| l.code));
    }
    codes
}
