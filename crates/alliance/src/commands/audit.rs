//! `alliance audit verify`: walks the audit log's hash chain; exits 1 at the first broken row.

use std::process::ExitCode;

use alliance_db::Db;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no row of the audit log was altered, removed or inserted by hand.
    Verify,
}

pub async fn run(db: &Db, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify => {
            let report = db.verify_audit_chain().await?;
            match report.first_broken {
                None => {
                    println!("audit log intact: {} rows, hash chain verified", report.rows_checked);
                    Ok(ExitCode::SUCCESS)
                }
                Some((id, why)) => {
                    println!("audit log BROKEN at row {id}: {why} ({} rows before it verified)", report.rows_checked);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
