//! `alliance backup --out FILE`: an online backup of a SQLite database (the app may keep
//! serving meanwhile). A PostgreSQL deployment uses `pg_dump` (docs/deploy.md).

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_db::Db;
use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (must not exist): a complete SQLite database, restored by stopping
    /// Alliance and putting it in place of the database file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub async fn run(db: &Db, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        db.backup_sqlite(&args.out).await.with_context(|| format!("cannot back up to {}", args.out.display()))?;
    println!("Backed up the database to {} ({bytes} bytes)", args.out.display());
    Ok(ExitCode::SUCCESS)
}
