//! `alliance audit verify [--checkpoint FILE]`: walks the audit log's keyed hash chain (and
//! checks it against a checkpoint kept off the system); exits 1 at the first problem.
//! `alliance audit checkpoint [--out FILE]`: writes a signed checkpoint of the log as it is.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_db::audit::checkpoint::{Checkpoint, MAX_CHECKPOINT_BYTES};
use alliance_db::Db;
use anyhow::Context;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no row of the audit log was altered, removed or inserted by hand.
    Verify {
        /// Also check the log against this checkpoint (from `alliance audit checkpoint`):
        /// detects the newest rows deleted and rows rewritten before it was taken.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Write a signed checkpoint (row count, last row's hash, time) to keep off the system.
    Checkpoint {
        /// Write it to FILE (refused if FILE exists) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub async fn run(db: &Db, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { checkpoint: None } => {
            let report = db.verify_audit_chain().await?;
            let legacy = match report.legacy_rows {
                0 => String::new(),
                n => format!(" (rows 1 to {n} were written before the chain was keyed and verify with plain SHA-256)"),
            };
            match report.first_broken {
                None => {
                    println!("audit log intact: {} rows, keyed hash chain verified{legacy}", report.rows_checked);
                    Ok(ExitCode::SUCCESS)
                }
                Some((id, why)) => {
                    println!("audit log BROKEN at row {id}: {why} ({} rows before it verified)", report.rows_checked);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Verify { checkpoint: Some(file) } => {
            let text = read_bounded(&file)?;
            let checkpoint =
                Checkpoint::parse(&text).with_context(|| format!("cannot read the checkpoint {}", file.display()))?;
            let report = db.verify_audit_checkpoint(&checkpoint).await?;
            if report.problems.is_empty() {
                println!(
                    "audit log intact: {} rows, keyed hash chain verified; it still holds the {} rows of the checkpoint of {}",
                    report.chain.rows_checked, checkpoint.rows, checkpoint.at
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!("audit log FAILS the checkpoint of {} ({}):", checkpoint.at, file.display());
                for problem in &report.problems {
                    println!("- {problem}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        AuditCommand::Checkpoint { out } => {
            let checkpoint = db.audit_checkpoint().await?;
            let text = checkpoint.to_file_text();
            match out {
                None => print!("{text}"),
                Some(file) => {
                    use std::io::Write;
                    let mut f =
                        std::fs::OpenOptions::new().write(true).create_new(true).open(&file).with_context(|| {
                            format!("cannot create {} (an existing file is never replaced)", file.display())
                        })?;
                    f.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", file.display()))?;
                    eprintln!(
                        "checkpoint of {} rows written to {}: keep a copy where the database's administrators cannot change it",
                        checkpoint.rows,
                        file.display()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A checkpoint file's text, refusing anything larger than a checkpoint can be.
fn read_bounded(file: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Read;
    let f = std::fs::File::open(file).with_context(|| format!("cannot open the checkpoint {}", file.display()))?;
    let mut text = String::new();
    f.take(MAX_CHECKPOINT_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the checkpoint {} as text", file.display()))?;
    Ok(text)
}
