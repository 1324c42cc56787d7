//! `alliance services import FILE.json` and `alliance services export`: the directory of
//! support services in Open Referral UK JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_db::public::services::ServiceSearch;
use alliance_db::Db;
use alliance_ingest::oruk::to_oruk;
use alliance_ingest::SourceFile;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// Import services from an ORUK JSON file (a list of services, or a page with "content"):
    /// all of them or none; services with the same id are replaced.
    Import { file: PathBuf },
    /// Print every service as an ORUK JSON list.
    Export,
}

pub async fn run(db: &Db, command: ServicesCommand) -> anyhow::Result<ExitCode> {
    match command {
        ServicesCommand::Import { file } => {
            let n = db.import_services_file(&SourceFile::from_path(&file)).await?;
            println!("{}: {n} services imported", file.display());
        }
        ServicesCommand::Export => {
            let services: Vec<_> = db.services(&ServiceSearch::default()).await?.iter().map(to_oruk).collect();
            println!("{}", serde_json::to_string_pretty(&services)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
