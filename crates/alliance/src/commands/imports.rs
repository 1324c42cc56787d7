//! `alliance imports`: the import history with provenance.

use std::process::ExitCode;

use alliance_db::Db;
use clap::Args;

#[derive(Debug, Args)]
pub struct ImportsArgs {
    /// How many imports to list, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(db: &Db, args: ImportsArgs) -> anyhow::Result<ExitCode> {
    let imports = db.imports(args.limit).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&imports)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>5}  {:<20}  {:<36}  {:>8}  {:>8}  {:>8}  {:>7}  {:<20}  {:<12}  status",
        "id", "imported at", "file", "read", "added", "replaced", "no loc", "by", "sha256"
    );
    for i in imports {
        let status = match i.superseded_by {
            Some(id) => format!("replaced by {id}"),
            None => "current".into(),
        };
        println!(
            "{:>5}  {:<20}  {:<36}  {:>8}  {:>8}  {:>8}  {:>7}  {:<20}  {:<12}  {}",
            i.id,
            i.imported_at,
            i.file_name,
            i.rows_read,
            i.rows_added,
            i.rows_replaced,
            i.rows_without_location,
            i.imported_by,
            &i.checksum[..12.min(i.checksum.len())],
            status
        );
    }
    Ok(ExitCode::SUCCESS)
}
