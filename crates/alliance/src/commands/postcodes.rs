//! `alliance import postcodes FILE [--district CODE]... [--all]`: an ONS Postcode Directory
//! or Code-Point Open file (`alliance_app::postcodes`), replacing the postcodes held.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::postcodes::{self, Keep};
use alliance_db::Db;
use alliance_ingest::SourceFile;
use clap::Args;

#[derive(Debug, Args)]
pub struct PostcodesArgs {
    /// The CSV file (a Code-Point Open download holds one file per postcode area: join them
    /// first, or import the area the partnership is in).
    pub file: PathBuf,
    /// Keep only the postcodes of this local authority district (GSS code, e.g. E06000021);
    /// repeat for more. Default: the partnership's districts.
    #[arg(long = "district", value_name = "CODE", conflicts_with = "all")]
    pub districts: Vec<String>,
    /// Keep every postcode of the file (at most 250,000 are held at once).
    #[arg(long)]
    pub all: bool,
}

pub async fn run(db: &Db, args: PostcodesArgs) -> anyhow::Result<ExitCode> {
    let keep = if args.all {
        Keep::All
    } else if !args.districts.is_empty() {
        Keep::Districts(args.districts.clone())
    } else {
        Keep::PartnershipArea
    };
    let file = SourceFile::from_path(&args.file).with_limits(alliance_ingest::postcodes::limits());
    match postcodes::import(db, &super::cli_actor(), &file, &keep).await? {
        Ok(done) => {
            println!("{}", done.summary(&args.file.display().to_string()));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
