//! `alliance strategy list|import|export`: the partnership's strategies as files (format
//! `docs/formats/strategy.md`), through the same use case as the web's `/strategies` pages.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::strategies::{self, StrategyImport};
use alliance_db::Db;
use alliance_ingest::SourceFile;
use anyhow::Context;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum StrategyCommand {
    /// List the strategies held, the current one first.
    List,
    /// Import a strategy file (JSON) as a new strategy: checked whole, nothing stored when refused.
    Import {
        /// The strategy file, e.g. data/strategies/staffordshire-and-stoke-on-trent-2024-2029.json.
        file: PathBuf,
    },
    /// Write a strategy as a strategy file (JSON).
    Export {
        /// The strategy's number (see `alliance strategy list`); default: the current strategy.
        #[arg(long)]
        id: Option<i64>,
        /// Where to write it; default: standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub async fn run(db: &Db, command: StrategyCommand) -> anyhow::Result<ExitCode> {
    match command {
        StrategyCommand::List => {
            let all = db.strategies().await?;
            if all.is_empty() {
                println!("no strategy is held: import one with `alliance strategy import FILE`");
            }
            for (i, s) in all.iter().enumerate() {
                let priorities = db.priorities(s.id).await?.len();
                let current = if i == 0 { " (current)" } else { "" };
                println!(
                    "{:>4}  {}–{}  {}{current}: {priorities} priorities",
                    s.id, s.period_start, s.period_end, s.name
                );
            }
        }
        StrategyCommand::Import { file } => {
            anyhow::ensure!(file.is_file(), "{}: no such file", file.display());
            let source = SourceFile::from_path(&file);
            match strategies::import(db, &super::cli_actor(), &source).await? {
                StrategyImport::Imported(done) => {
                    println!(
                        "imported strategy {}: {} ({} priorities, {} commitments, {} computed indicators added{})",
                        done.id,
                        done.name,
                        done.priorities,
                        done.commitments,
                        done.indicators_added.len(),
                        if done.indicators_kept.is_empty() {
                            String::new()
                        } else {
                            format!("; already held, left as they are: {}", done.indicators_kept.join(", "))
                        }
                    );
                }
                StrategyImport::Refused(reason) => {
                    eprintln!("error: {reason}");
                    eprintln!("nothing was imported");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        StrategyCommand::Export { id, out } => {
            let id = match id {
                Some(id) => id,
                None => db.current_strategy().await?.map(|s| s.id).context("no strategy is held: nothing to export")?,
            };
            let (name, json) = strategies::export(db, id).await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &json).with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote strategy {id} to {} (suggested name {name})", path.display());
                }
                None => print!("{json}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
