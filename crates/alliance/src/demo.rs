//! The bundled demo data: Staffordshire Police street-level crime for 2025 and the area
//! reference data for Staffordshire and Stoke-on-Trent (see `data/demo/SOURCES.md`). It is
//! compiled into the binary so `alliance serve` shows real figures on a fresh clone.

use alliance_db::imports::ImportOutcome;
use alliance_db::{Db, DbError};
use alliance_ingest::SourceFile;

macro_rules! demo_files {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../../data/demo/", $dir, "/", $name)) as &[u8])),*]
    };
}

const AREA_FILES: &[(&str, &[u8])] = demo_files!("areas":
    "districts-staffordshire.csv.gz",
    "imd2019-staffordshire.csv.gz",
    "population-mid2015-staffordshire.csv.gz",
    "boundaries-lsoa11-staffordshire.geojson.gz",
    "boundaries-lsoa-staffordshire.geojson.gz",
    "boundaries-ward-staffordshire.geojson.gz",
);

const POLICE_FILES: &[(&str, &[u8])] = demo_files!("police":
    "2025-01-staffordshire-street.csv.gz", "2025-02-staffordshire-street.csv.gz", "2025-03-staffordshire-street.csv.gz",
    "2025-04-staffordshire-street.csv.gz", "2025-05-staffordshire-street.csv.gz", "2025-06-staffordshire-street.csv.gz",
    "2025-07-staffordshire-street.csv.gz", "2025-08-staffordshire-street.csv.gz", "2025-09-staffordshire-street.csv.gz",
    "2025-10-staffordshire-street.csv.gz", "2025-11-staffordshire-street.csv.gz", "2025-12-staffordshire-street.csv.gz",
);

/// The clearly-marked example directory of help (Open Referral UK JSON): every service says
/// "Example service — not a real organisation", so the find-help page is not empty on a fresh
/// database and nobody mistakes it for a real service.
const EXAMPLE_SERVICES: (&str, &[u8]) =
    ("services-example.json", include_bytes!("../../../data/seed/services-example.json"));

/// Who the demo import is recorded as.
pub const DEMO_IMPORTER: &str = "demo-data";

/// Loads the demo data when the database holds no imports at all; returns how many files
/// were imported (0 when the database already had data).
pub async fn load_if_empty(db: &Db) -> Result<usize, DbError> {
    if !db.imports(1).await?.is_empty() {
        return Ok(0);
    }
    let mut imported = 0;
    for (name, bytes) in AREA_FILES {
        if let ImportOutcome::Imported { .. } =
            db.import_area_file(&SourceFile::from_bytes(name, *bytes), DEMO_IMPORTER).await?
        {
            imported += 1;
        }
    }
    let police: Vec<SourceFile> =
        POLICE_FILES.iter().map(|(name, bytes)| SourceFile::from_bytes(name, *bytes)).collect();
    for result in db.import_police_files(&police, DEMO_IMPORTER, &|_| {}).await? {
        if let ImportOutcome::Imported { .. } = result? {
            imported += 1;
        }
    }
    crate::governance::seed_strategy(db, DEMO_IMPORTER).await?;
    seed_charter(db).await?;
    db.import_services_file(&SourceFile::from_bytes(EXAMPLE_SERVICES.0, EXAMPLE_SERVICES.1)).await?;
    Ok(imported)
}

/// The demo partnership's charter commitments (those of the shipped Staffordshire profile),
/// when the charter has none: no database is seeded with them any more (migration 0043), and
/// the demo's charter pages show them whether or not a profile is stored.
async fn seed_charter(db: &Db) -> Result<(), DbError> {
    if !db.charter_commitments().await?.is_empty() {
        return Ok(());
    }
    let profile = match alliance_core::partnership::example("staffordshire") {
        Some(Ok(profile)) => profile,
        _ => return Err(DbError::corrupt("the shipped staffordshire example profile is missing or invalid")),
    };
    let actor = alliance_db::audit::Actor::new(DEMO_IMPORTER, "cli");
    for c in &profile.charter_commitments {
        db.add_charter_commitment(&c.title, &c.description, &actor).await?;
    }
    Ok(())
}

/// The parks of the seeds' example (Stoke-on-Trent's parks, where the partnership walked
/// "each of the hotspot locations"), as approximate outlines drawn for the demonstration.
const EXAMPLE_PARKS: &str = include_str!("../../../data/places/stoke-on-trent-parks.geojson");

/// The example evaluation of the demo: two of the parks as the target, the other three as the
/// comparison, a 200 m buffer, the first half of 2025 against the second.
pub fn example_parks_design() -> alliance_app::evaluation::EvaluationDesign {
    use alliance_app::evaluation::{AreaSpec, EvaluationDesign};
    use alliance_core::domain::MonthRange;
    let month = |m: &str| m.parse().expect("a literal month");
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect();
    EvaluationDesign {
        target: AreaSpec::Place { names: names(&["Hanley Park", "Burslem Park"]) },
        buffer_metres: Some(200.0),
        comparison: Some(AreaSpec::Place {
            names: names(&["Tunstall Park", "Queen's Park Longton", "Central Forest Park"]),
        }),
        before: MonthRange { from: month("2025-01"), to: month("2025-06") },
        after: MonthRange { from: month("2025-07"), to: month("2025-12") },
        crime_types: Vec::new(),
        harm_weights: None,
        selected_for_high_crime: true,
        history_months: 24,
        labels: None,
    }
}

/// The place register's example (the parks) and, on a register with no interventions, the
/// example intervention in those parks with its evaluation, so a newcomer sees the whole
/// evaluation from a drawn place to a verdict. Labelled as an example everywhere it shows.
async fn load_example_parks(db: &Db, actor: &alliance_db::audit::Actor) -> anyhow::Result<()> {
    if !db.places().await?.is_empty() {
        return Ok(());
    }
    let collection: serde_json::Value = serde_json::from_str(EXAMPLE_PARKS)?;
    let inputs: Vec<alliance_app::places::PlaceInput> = collection["features"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| alliance_app::places::PlaceInput {
            name: f["properties"]["name"].as_str().unwrap_or_default().to_string(),
            kind: "park".into(),
            description:
                "Example: an approximate outline drawn for the demonstration, not the park's surveyed boundary.".into(),
            geojson: f.to_string(),
        })
        .collect();
    alliance_app::places::add_all(db, &inputs, actor).await?;
    if !db.interventions().await?.is_empty() {
        return Ok(());
    }
    let design = example_parks_design();
    let intervention = alliance_db::interventions::NewIntervention {
        name: "Example: safer parks in Hanley and Burslem".into(),
        description:
            "An example for the demonstration, after the partnership's parks initiatives (patrols, cutting back \
            hedges, lighting and CCTV): the dates and places are illustrative, not the real programme's."
                .into(),
        intervention_type: alliance_core::domain::intervention::InterventionType::Patrols,
        start_date: Some("2025-07-01".into()),
        end_date: Some("2025-12-31".into()),
        place_kind: "place".into(),
        place_codes: vec!["Hanley Park".into(), "Burslem Park".into()],
        ..Default::default()
    };
    let id = db.create_intervention(&intervention, None, actor).await?;
    alliance_app::evaluation::store(db, id, &design, actor).await?;
    Ok(())
}

/// The demo administrator `serve --demo` creates on a database nobody can sign in to.
pub const DEMO_ADMIN_EMAIL: &str = "demo.admin@example.org";

/// `serve --demo`: the demo data (when the database has no imports), the Staffordshire and
/// Stoke-on-Trent profile (when none is set) and, when nobody can sign in yet, a demo
/// administrator whose one-time password is printed once.
pub async fn load_demo_partnership(db: &Db) -> anyhow::Result<()> {
    use alliance_db::audit::Actor;
    let loaded = load_if_empty(db).await?;
    if loaded > 0 {
        tracing::info!(
            files = loaded,
            "loaded the bundled demo data (Staffordshire Police, 2025) into the empty database"
        );
    }
    let actor = Actor::new(DEMO_IMPORTER, "cli");
    if db.partnership().await?.is_none() {
        let profile = alliance_core::partnership::example("staffordshire")
            .ok_or_else(|| anyhow::anyhow!("the staffordshire example profile is missing"))??;
        db.init_partnership(&profile, &actor).await?;
    }
    load_example_parks(db, &actor).await?;
    if !db.has_users().await? {
        let org = "Office of the PFCC (demo)";
        let org_id = match db.organisation_by_name(org).await? {
            Some(o) => o.id,
            None => db.create_organisation(org, alliance_core::access::OrgType::PccOffice, &actor).await?,
        };
        let password = alliance_app::password::one_time();
        let hash = alliance_app::password::hash(&password).await.map_err(anyhow::Error::msg)?;
        let user = alliance_db::access::NewUser {
            email: DEMO_ADMIN_EMAIL,
            name: "Demo Administrator",
            org_id,
            role: alliance_core::access::Role::Administrator,
            password_hash: &hash,
        };
        db.create_user(&user, &actor).await?;
        println!("Demo administrator: sign in as {DEMO_ADMIN_EMAIL} with the password {password}");
        println!(
            "(shown only this once: change it under \"Your account\" or add your own users with `alliance users add`)"
        );
    }
    Ok(())
}
