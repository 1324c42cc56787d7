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
    db.import_services_file(&SourceFile::from_bytes(EXAMPLE_SERVICES.0, EXAMPLE_SERVICES.1)).await?;
    Ok(imported)
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
