//! National scale (issue 18): generates the SYNTHETIC national police data set
//! (`alliance generate police-national`: every force of England and Wales, 36 months,
//! `ALLIANCE_NATIONAL_ROWS` street rows, default 20,000,000, plus outcomes) into a temporary
//! folder, or reuses the files in `ALLIANCE_NATIONAL_DIR` (generating them there when it is
//! empty), imports them into a fresh SQLite database and, when reachable, a fresh PostgreSQL
//! database (`ALLIANCE_TEST_POSTGRES`), each in a child process of this binary that reports
//! its time and peak memory (`VmHWM`, reset after the area files so the figure is the police
//! import's), then times the partnership-scale questions on each database and prints them
//! against the issue's targets:
//!
//! - `Db::counts` by month and crime type (the dashboard's and `alliance counts`' query);
//! - the dashboard's model (`DashboardPage::load`, what `GET /` renders);
//! - the SNA of the demo partnership's area (Staffordshire's nine districts, 2025) and of one
//!   district (Stoke-on-Trent), built and rendered;
//! - a force-wide hot spot analysis: `alliance hotspots` (the release binary, whole process)
//!   with Gi*, 250 m cells over the area's LSOAs, 999 permutations, violence 2025;
//! - the report form's first street lookup after the import (builds the street index);
//! - the evaluation of a park (24 months, five suggested comparison LSOAs) and the SNA of the
//!   park as a place of the register, whole processes of the release binary;
//! - the default `/map` after the import (`MapPage::build` of the default view: the hot spot
//!   analysis of the partnership's area) with nothing cached, as the server's warming computes
//!   it in the background after an import, and then as the first visitor gets it.
//!
//! The area files imported are the English IMD and population files, the Welsh IMD and the
//! Staffordshire and Stoke-on-Trent boundaries (LSOA 2011, 2021, wards): a Staffordshire
//! partnership's database holding the national police data.
//!
//! Not run by `cargo test`. Run: `cargo bench -p alliance --bench national` (quick:
//! `ALLIANCE_NATIONAL_ROWS=2000000`; `ALLIANCE_NATIONAL_BACKENDS=sqlite` for SQLite only;
//! `ALLIANCE_NATIONAL_QUESTIONS_ONLY=URL` to time the questions on a database already imported).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use alliance_app::sna::{SnaReport, SnaRequest};
use alliance_app::Disclosure;
use alliance_core::domain::{CountField, CountFilter, Month};
use alliance_db::Db;
use alliance_ingest::police::synthetic::{generate, NationalSpec};
use alliance_ingest::SourceFile;

#[path = "support/mod.rs"]
mod support;
use support::{files_in, import_police_dir, on_scratch_postgres, shared, STAFFORDSHIRE};

/// Set in the child: the database URL to import into.
const CHILD_ENV: &str = "ALLIANCE_BENCH_NATIONAL_CHILD";
/// Set in the child: the folder of police files.
const CHILD_DIR_ENV: &str = "ALLIANCE_BENCH_NATIONAL_FILES";

/// The area files: England's and Wales's deprivation and population, and the Staffordshire
/// and Stoke-on-Trent boundaries.
fn area_files() -> Vec<PathBuf> {
    let lsoa = shared().join("lsoa");
    let mut files = vec![
        lsoa.join("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv"),
        lsoa.join("File_6_-_IoD2019_Population_Denominators.csv"),
        lsoa.join("wimd2019_lsoa11.csv"),
    ];
    for kind in ["lsoa11", "lsoa", "ward"] {
        files.extend(STAFFORDSHIRE.iter().map(|d| lsoa.join("boundaries").join(kind).join(format!("{d}.geojson"))));
    }
    files
}

/// Child: the area files, then (peak memory reset) every police file; prints
/// `RESULT files rows seconds peak_kib`.
fn child(url: &str, dir: &Path) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let db = Db::connect(url).await.expect("connect");
        let started = Instant::now();
        for f in area_files() {
            db.import_area_file(&SourceFile::from_path(&f), "bench")
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        eprintln!("areas imported in {:.1} s", started.elapsed().as_secs_f64());
        // Resets VmHWM to the current resident size (Linux 4.0+), so the peak is the police import's.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        import_police_dir(&db, dir).await;
        db.close().await;
    });
    ExitCode::SUCCESS
}

/// One line of the table: what, the figure, the target and whether it is met.
struct Line {
    what: String,
    figure: String,
    target: String,
    met: Option<bool>,
}

fn line(table: &mut Vec<Line>, what: &str, seconds: f64, target_seconds: Option<f64>, note: &str) {
    let figure = if seconds < 1.0 { format!("{:.0} ms", seconds * 1000.0) } else { format!("{seconds:.2} s") };
    let target = target_seconds
        .map(|t| if t < 1.0 { format!("< {:.0} ms", t * 1000.0) } else { format!("< {t:.0} s") })
        .unwrap_or_else(|| "-".into());
    let what = if note.is_empty() { what.to_string() } else { format!("{what} ({note})") };
    table.push(Line { what, figure, target, met: target_seconds.map(|t| seconds < t) });
}

/// The table's lines for one backend's import (`(rows, seconds, peak MiB, files)` from
/// [`import`]): its time against `target_seconds`, and its peak memory (`memory_note` says
/// whose) against 1 GiB.
fn import_lines(
    table: &mut Vec<Line>,
    backend: &str,
    memory_note: &str,
    target_seconds: f64,
    (rows, seconds, peak, files): (i64, f64, f64, usize),
) {
    let note = format!("{files} files, {rows} rows, {:.0} rows/s", rows as f64 / seconds);
    line(table, &format!("{backend}: import"), seconds, Some(target_seconds), &note);
    table.push(Line {
        what: format!("{backend}: import peak memory{memory_note}"),
        figure: format!("{peak:.0} MiB"),
        target: "< 1024 MiB".into(),
        met: Some(peak < 1024.0),
    });
}

/// Runs the import child for one backend; `(rows, seconds, peak MiB)`.
fn import(url: &str, dir: &Path) -> Option<(i64, f64, f64, usize)> {
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe).env(CHILD_ENV, url).env(CHILD_DIR_ENV, dir).output().expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(result) = stdout.lines().find(|l| l.starts_with("RESULT ")) else {
        eprintln!("the import failed:\n{stdout}{}", String::from_utf8_lossy(&output.stderr));
        return None;
    };
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    let f: Vec<&str> = result.split_whitespace().skip(1).collect();
    let files: usize = f[0].parse().ok()?;
    let rows: i64 = f[1].parse().ok()?;
    let seconds: f64 = f[2].parse().ok()?;
    let peak: u64 = f[3].parse().ok()?;
    Some((rows, seconds, peak as f64 / 1024.0, files))
}

/// The median of `runs` timings of `work`, and its last result.
async fn median<T, F, Fut>(runs: usize, mut work: F) -> (f64, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(work().await);
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last.expect("at least one run"))
}

/// Times the questions on `url` (after the import) into `table`.
async fn questions(url: &str, backend: &str, table: &mut Vec<Line>) {
    let db = Db::connect(url).await.expect("connect");
    // A Staffordshire partnership's database: its profile names its districts (the street
    // index holds their streets only).
    if db.partnership().await.expect("profile").is_none() {
        let profile = alliance_core::partnership::example("staffordshire").expect("an example").expect("valid");
        db.init_partnership(&profile, &alliance_db::audit::Actor::new("bench", "bench")).await.expect("profile");
    }
    // The first street lookup after the import: a fresh handle builds the street index.
    let started = Instant::now();
    let found = db.locate_place("church street").await.expect("street lookup");
    let found = !matches!(found, alliance_db::public::streets::PlaceLookup::NotFound);
    line(
        table,
        &format!("{backend}: first street lookup after the import"),
        started.elapsed().as_secs_f64(),
        None,
        if found { "builds the street index" } else { "builds the street index; not found" },
    );
    let started = Instant::now();
    db.locate_place("church st stoke-on-trent").await.expect("street lookup");
    line(table, &format!("{backend}: a later street lookup"), started.elapsed().as_secs_f64(), None, "");

    let fields = [CountField::Month, CountField::CrimeType];
    let filter = CountFilter::default();
    let (t, rows) = median(5, || db.counts(&fields, &filter)).await;
    let rows = rows.expect("counts");
    line(
        table,
        &format!("{backend}: counts by month, crime type"),
        t,
        None,
        &format!("{} groups, median of 5", rows.len()),
    );

    let state = alliance_web::AppState::new(db.clone());
    let who = alliance_web::auth::Principal::User(alliance_db::access::User {
        id: 0,
        email: "bench@example.org".into(),
        name: "Bench".into(),
        org_id: 0,
        org_name: "Bench".into(),
        org_type: "pcc-office".into(),
        role: alliance_core::access::Role::Administrator,
        password_hash: String::new(),
        failed_attempts: 0,
        locked_until: None,
        active: true,
        created_at: String::new(),
        version: 0,
    });
    // Computed each time (a fresh state keeps nothing), then as kept until the data changes.
    let (t, page) = median(5, || {
        let fresh = alliance_web::AppState::new(db.clone());
        let who = who.clone();
        async move { alliance_web::views::dashboard::DashboardPage::load(&fresh, &who).await.map(|_| ()) }
    })
    .await;
    if let Err(e) = page {
        eprintln!("dashboard: {e:?}");
    }
    line(table, &format!("{backend}: dashboard model (GET /), computed"), t, Some(0.2), "median of 5");
    let (t, _) = median(5, || alliance_web::views::dashboard::DashboardPage::load(&state, &who)).await;
    line(table, &format!("{backend}: dashboard model, kept until the data changes"), t, None, "median of 5");

    // The default view's hot spot analysis of the partnership's area with nothing cached: what
    // the server's warming (`alliance_web::warm`) computes in the background within 5 s of an
    // import, and what a visitor arriving before it ends waits for at most. Then the first
    // `/map` a visitor asks for once it is warm.
    for (what, target) in [
        ("default map computed cold (the server warms it after an import)", None),
        ("first /map a visitor asks for after the warming", Some(2.0)),
    ] {
        let started = Instant::now();
        let page = alliance_web::views::map::MapPage::build(&state, Default::default()).await;
        let t = started.elapsed().as_secs_f64();
        if let Err(e) = page {
            eprintln!("map: {e:?}");
        }
        line(table, &format!("{backend}: {what}"), t, target, "default view, the partnership's area");
    }

    let m = |t: &str| t.parse::<Month>().ok();
    let area = SnaRequest {
        areas: STAFFORDSHIRE.map(String::from).to_vec(),
        from: m("2025-01"),
        to: m("2025-12"),
        ..SnaRequest::default()
    };
    let build = |request: SnaRequest| {
        let db = db.clone();
        async move {
            let report = SnaReport::build(&db, &request, &Disclosure::default()).await.expect("SNA");
            let html = alliance_reports::sna::standalone_html(&report);
            (report.headline_total, html.len())
        }
    };
    let (t, (total, _)) = median(3, || build(area.clone())).await;
    line(
        table,
        &format!("{backend}: SNA, Staffordshire's 9 districts, 2025"),
        t,
        Some(2.0),
        &format!("headline {total}, median of 3"),
    );
    let one = SnaRequest { areas: vec!["E06000021".into()], ..area.clone() };
    let (t, (total, _)) = median(3, || build(one.clone())).await;
    line(
        table,
        &format!("{backend}: SNA, Stoke-on-Trent, 2025"),
        t,
        Some(2.0),
        &format!("headline {total}, median of 3"),
    );
    db.close().await;

    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_alliance"))
        .args([
            "--db",
            url,
            "hotspots",
            "--stat",
            "gi-star",
            "--cell",
            "250",
            "--cells",
            "area",
            "--permutations",
            "999",
            "--from",
            "2025-01",
            "--to",
            "2025-12",
            "--crime-type",
            "Violence and sexual offences",
            "--format",
            "csv",
        ])
        .output()
        .expect("run alliance hotspots");
    let t = started.elapsed().as_secs_f64();
    if !output.status.success() {
        eprintln!("hotspots failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let cells = String::from_utf8_lossy(&output.stdout).lines().count().saturating_sub(1);
    line(
        table,
        &format!("{backend}: hot spots, Gi*, the area's 250 m cells"),
        t,
        None,
        &format!("{cells} cells, whole process"),
    );
    park_questions(table, backend, url);
}

/// A box of about 0.7 by 0.9 km north of Stoke-on-Trent's centre, as a place of the register.
const PARK: &str = r#"{"type":"Feature","properties":{"name":"Bench park"},"geometry":{"type":"Polygon","coordinates":[[[-2.180,53.016],[-2.170,53.016],[-2.170,53.024],[-2.180,53.024],[-2.180,53.016]]]}}"#;

/// The questions over a small place, each read through the boxes of the LSOAs' records
/// (`police_lsoa_extents`) rather than every record of its months: the evaluation of a park
/// (24 months, 200 m buffer, five suggested comparison LSOAs) and the SNA of the park as a
/// place of the register (every month held). Whole processes of the release binary.
fn park_questions(table: &mut Vec<Line>, backend: &str, url: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let park = dir.path().join("park.geojson");
    std::fs::write(&park, PARK).expect("write the park");
    let park = park.to_str().expect("a UTF-8 path");
    let run = |args: &[&str]| {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_alliance")).args(["--db", url]).args(args).output();
        let t = started.elapsed().as_secs_f64();
        match output {
            Ok(o) if o.status.success() => Some((t, String::from_utf8_lossy(&o.stdout).into_owned())),
            Ok(o) => {
                eprintln!("{args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
                None
            }
            Err(e) => {
                eprintln!("{args:?}: {e}");
                None
            }
        }
    };
    let periods = ["--before", "2024-01..2024-12", "--after", "2025-01..2025-12"];
    let evaluate = [
        &["evaluate", "--target", park, "--buffer", "200", "--suggest-control", "5"][..],
        &periods,
        &["--format", "json"],
    ];
    if let Some((t, json)) = run(&evaluate.concat()) {
        let considered = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .and_then(|v| v["data"]["crimes_considered"].as_u64())
            .unwrap_or_default();
        let what = format!("{backend}: evaluation of a park, 5 suggested comparison LSOAs");
        line(table, &what, t, None, &format!("{considered} records read, whole process"));
    }
    let added = run(&["places", "add", park, "--name", "Bench park", "--kind", "park"]);
    let out = dir.path().join("sna.html");
    let sna = ["sna", "--place", "Bench park", "--out", out.to_str().expect("a UTF-8 path")];
    if let (Some(_), Some((t, _))) = (added, run(&sna)) {
        line(table, &format!("{backend}: SNA of the park as a place, every month"), t, None, "whole process");
    }
}

fn main() -> ExitCode {
    if let (Ok(url), Ok(dir)) = (std::env::var(CHILD_ENV), std::env::var(CHILD_DIR_ENV)) {
        return child(&url, Path::new(&dir));
    }
    if !shared().join("police").is_dir() {
        println!("SKIPPED: ../shared/data not found (looked for {})", shared().display());
        return ExitCode::SUCCESS;
    }
    let target_rows: u64 =
        std::env::var("ALLIANCE_NATIONAL_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000_000);
    let backends = std::env::var("ALLIANCE_NATIONAL_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let temp = tempfile::tempdir().expect("temporary folder");
    let dir = std::env::var("ALLIANCE_NATIONAL_DIR").map(PathBuf::from).unwrap_or_else(|_| temp.path().join("police"));
    let existing = files_in(&dir, "-street.csv").len() + files_in(&dir, "-street.csv.gz").len();
    if existing == 0 {
        let started = Instant::now();
        let spec = NationalSpec {
            shared: shared(),
            out: dir.clone(),
            end: "2025-12".parse().expect("month"),
            months: 36,
            target_rows,
            forces: Vec::new(),
            gzip: false,
            seed: 7,
        };
        let summary = generate(&spec, &|_, _| {}).expect("generate");
        println!(
            "generated {} files ({} forces, {} street rows, {} outcomes rows, {:.2} GB) in {:.1} s into {}",
            summary.files,
            summary.forces,
            summary.street_rows,
            summary.outcome_rows,
            summary.bytes as f64 / 1e9,
            started.elapsed().as_secs_f64(),
            dir.display()
        );
    } else {
        println!("reusing {existing} street files in {}", dir.display());
    }
    let mut table = Vec::new();
    let mut ok = true;
    // The import target scales with the rows (the issue's figures are for 20 million).
    let scale = target_rows as f64 / 2e7;
    // `ALLIANCE_NATIONAL_QUESTIONS_ONLY=URL`: time the questions on a database already
    // imported (by an earlier run, or `alliance import police`), without importing again.
    let questions_only = std::env::var("ALLIANCE_NATIONAL_QUESTIONS_ONLY").ok();
    if let Some(url) = &questions_only {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(questions(url, "given database", &mut table));
    } else if backends.contains("sqlite") {
        let url = format!("sqlite://{}", temp.path().join("national.db").display());
        match import(&url, &dir) {
            Some(imported) => {
                import_lines(&mut table, "SQLite", "", 90.0 * scale, imported);
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(questions(&url, "SQLite", &mut table));
            }
            None => ok = false,
        }
    }
    if questions_only.is_none() && backends.contains("postgres") {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let imported = on_scratch_postgres(&runtime, "alliance_national", |url| match import(url, &dir) {
            Some(imported) => {
                import_lines(&mut table, "PostgreSQL", " (Alliance's process)", 180.0 * scale, imported);
                runtime.block_on(questions(url, "PostgreSQL", &mut table));
                true
            }
            None => false,
        });
        ok &= imported.unwrap_or(true);
    }
    println!("\nnational scale, {target_rows} street rows target (import targets scaled by {scale:.2})");
    println!("{:<72} {:>10} {:>12}  met", "what", "figure", "target");
    for l in &table {
        let met = match l.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        println!("{:<72} {:>10} {:>12}  {met}", l.what, l.figure, l.target);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
