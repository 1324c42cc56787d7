//! `alliance import police|areas PATH...`

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use alliance_db::imports::ImportOutcome;
use alliance_db::Db;
use alliance_ingest::source::collect_files;
use alliance_ingest::SourceFile;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// data.police.uk street and outcomes files (folders are searched for *-street.csv and *-outcomes.csv).
    Police(PathsArgs),
    /// Area reference data: IMD/WIMD deprivation, population, district names, LSOA and ward boundaries (GeoJSON).
    Areas(PathsArgs),
    /// Emergency department assault files (ISTV minimum data set, Cardiff Model), CSV or XML.
    Ed(PathsArgs),
    /// Partner indicator series, CSV or Excel (.xlsx).
    Indicators(PathsArgs),
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    /// Files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub async fn run(db: &Db, command: ImportCommand) -> anyhow::Result<ExitCode> {
    let (paths, police) = match command {
        ImportCommand::Police(a) => (a.paths, true),
        ImportCommand::Areas(a) => (a.paths, false),
        ImportCommand::Ed(a) => return super::partner::import_ed(db, &a.paths).await,
        ImportCommand::Indicators(a) => return super::partner::import_indicators(db, &a.paths).await,
    };
    let wanted: fn(&str) -> bool =
        if police { alliance_ingest::police::is_police_file_name } else { alliance_ingest::areas::is_area_file_name };
    let files = collect_files(&paths, wanted).context("cannot list the files to import")?;
    if files.is_empty() {
        anyhow::bail!(
            "no files to import under {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let who = super::cli_user();
    let bar = progress_bar(files.len() as u64);
    let started = Instant::now();
    let (mut imported, mut unchanged, mut skipped, mut rows) = (0, 0, 0, 0i64);
    let mut failed = Vec::new();
    for path in &files {
        let file = SourceFile::from_path(path);
        bar.set_message(file.name.clone());
        let result = if police {
            let bar = bar.clone();
            db.import_police_file(&file, &who, &move |n| bar.set_message(format!("{} ({n} rows)", file_label(&bar))))
                .await
        } else {
            db.import_area_file(&file, &who).await
        };
        let line = match result {
            Ok(ImportOutcome::Imported { counts, replaced, .. }) => {
                imported += 1;
                rows += counts.rows_read;
                let replaced = match replaced {
                    Some(id) => format!(", replacing import {id} ({} rows)", counts.rows_replaced),
                    None => String::new(),
                };
                format!(
                    "imported  {}: {} rows, {} without location{replaced}",
                    file.name, counts.rows_read, counts.rows_without_location
                )
            }
            Ok(ImportOutcome::Unchanged { import_id, .. }) => {
                unchanged += 1;
                format!("unchanged {}: already imported as import {import_id}", file.name)
            }
            Ok(ImportOutcome::Skipped { reason }) => {
                skipped += 1;
                format!("skipped   {reason}")
            }
            Err(e) => {
                failed.push(file.name.clone());
                format!("FAILED    {e}")
            }
        };
        bar.suspend(|| println!("{line}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{imported} imported ({rows} rows in {seconds:.2} s, {:.0} rows/s), {unchanged} unchanged, {skipped} skipped, {} failed{}",
        rows as f64 / seconds.max(1e-9),
        failed.len(),
        if failed.is_empty() { String::new() } else { format!(": {}", failed.join(", ")) }
    );
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn file_label(bar: &ProgressBar) -> String {
    let message = bar.message();
    message.split(" (").next().unwrap_or_default().to_string()
}

/// A bar over files when stdout is a terminal; hidden otherwise (the per-file lines and the
/// summary are always printed).
fn progress_bar(files: u64) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files {elapsed_precise} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
