//! `alliance import police|areas PATH...` (police: files, folders, or data.police.uk download zips);
//! `alliance import postcodes FILE` (`postcodes.rs`)

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use alliance_app::imports::{self, AreaFileFrom};
use alliance_db::imports::ImportOutcome;
use alliance_db::police::RunProgress;
use alliance_db::{Db, DbError};
use alliance_ingest::source::collect_files;
use alliance_ingest::SourceFile;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// data.police.uk street and outcomes files (folders are searched for *-street.csv and *-outcomes.csv), or data.police.uk download zips.
    Police(PathsArgs),
    /// Area reference data: IMD/WIMD deprivation, population, district names, LSOA and ward boundaries (GeoJSON).
    Areas(PathsArgs),
    /// Emergency department assault files (ISTV minimum data set, Cardiff Model), CSV or XML.
    Ed(PathsArgs),
    /// Partner indicator series, CSV or Excel (.xlsx).
    Indicators(PathsArgs),
    /// Postcodes: an ONS Postcode Directory or Code-Point Open CSV file (OGL), told by its
    /// header; replaces the postcodes held. Keeps the partnership's districts unless told.
    Postcodes(super::postcodes::PostcodesArgs),
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
        ImportCommand::Postcodes(a) => return super::postcodes::run(db, a).await,
    };
    let wanted: fn(&str) -> bool =
        if police { alliance_ingest::police::is_police_file_name } else { alliance_ingest::areas::is_area_file_name };
    // A data.police.uk download zip named on the command line is read in memory, as the web
    // reads an uploaded one (never unpacked to disk).
    let (zips, paths): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .into_iter()
        .partition(|p| police && p.is_file() && alliance_ingest::archive::is_zip_file_name(&p.to_string_lossy()));
    let mut zipped: Vec<SourceFile> = Vec::new();
    for zip in &zips {
        let bytes = std::fs::read(zip).with_context(|| format!("cannot read {}", zip.display()))?;
        let name = zip.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (files, passed_over) = imports::police_upload(&name, bytes.into())?;
        if !passed_over.is_empty() {
            println!("{name}: {} other files passed over (e.g. {})", passed_over.len(), passed_over[0]);
        }
        zipped.extend(files);
    }
    // Files named on the command line, not found by a folder scan: one Alliance does not
    // recognise is an error (a script must not carry on), where a folder's is only skipped.
    let named: std::collections::HashSet<PathBuf> = paths.iter().filter(|p| p.is_file()).cloned().collect();
    let files = if paths.is_empty() {
        Vec::new()
    } else {
        collect_files(&paths, wanted).context("cannot list the files to import")?
    };
    if files.is_empty() && zipped.is_empty() {
        anyhow::bail!(
            "no files to import under {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let actor = super::cli_actor();
    let bar = progress_bar((files.len() + zipped.len()) as u64);
    let started = Instant::now();
    let sources: Vec<SourceFile> = files.iter().map(|p| SourceFile::from_path(p)).chain(zipped).collect();
    let mut tally = Tally::default();
    if police {
        // The run reports each file as it lands; each file's audit row is written by the use
        // case (in the file's own transaction when it changes data).
        let landed = std::sync::Mutex::new(&mut tally);
        let run = imports::police_files(db, &actor, "import police", &sources, &|event| match event {
            RunProgress::Rows { index, rows } => bar.set_message(format!("{} ({rows} rows)", sources[index].name)),
            RunProgress::Finished { index, result } => {
                let line = landed.lock().map(|mut t| t.record(&sources[index], result)).unwrap_or_default();
                bar.suspend(|| println!("{line}"));
                bar.inc(1);
            }
        })
        .await?;
        // An attempt whose audit row could not be written is a failure of its file (named with
        // the reason), and the run goes on to say what became of the others.
        for (file, done) in sources.iter().zip(run) {
            if let Some(e) = done.not_audited {
                let line = tally.not_audited(file, &e);
                bar.suspend(|| println!("{line}"));
            }
        }
    } else {
        for (path, file) in files.iter().zip(&sources) {
            bar.set_message(file.name.clone());
            let from = if named.contains(path) { AreaFileFrom::Chosen } else { AreaFileFrom::Folder };
            let line = match imports::areas(db, &actor, file, from).await {
                Ok(Ok(ImportOutcome::Skipped { reason })) if from == AreaFileFrom::Chosen => {
                    tally.refused(file, &reason)
                }
                Ok(result) => tally.record(file, &result),
                Err(e) => tally.not_audited(file, &e),
            };
            bar.suspend(|| println!("{line}"));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let Tally { imported, unchanged, skipped, rows, mut failed } = tally;
    // Files finish in the order the run reaches them (outcomes first; on PostgreSQL street files
    // side by side): the summary names the failed ones in the order they were given.
    failed.sort_by_key(|name| sources.iter().position(|s| &s.name == name));
    println!(
        "{imported} imported ({rows} rows in {seconds:.2} s, {:.0} rows/s), {unchanged} unchanged, {skipped} skipped, {} failed{}",
        rows as f64 / seconds.max(1e-9),
        failed.len(),
        if failed.is_empty() { String::new() } else { format!(": {}", failed.join(", ")) }
    );
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What a run of imports did, file by file.
#[derive(Default)]
struct Tally {
    imported: usize,
    unchanged: usize,
    skipped: usize,
    rows: i64,
    failed: Vec<String>,
}

impl Tally {
    /// Counts a file whose attempt could not be recorded in the audit log as failed (once)
    /// and returns the line that says so.
    fn not_audited(&mut self, file: &SourceFile, e: &dyn std::fmt::Display) -> String {
        if !self.failed.contains(&file.name) {
            self.failed.push(file.name.clone());
        }
        format!("FAILED    {}: its attempt could not be recorded in the audit log: {e}", file.name)
    }

    /// Counts a file named on the command line that is not of the kind imported as failed,
    /// and returns the line that says why.
    fn refused(&mut self, file: &SourceFile, reason: &str) -> String {
        if !self.failed.contains(&file.name) {
            self.failed.push(file.name.clone());
        }
        format!("FAILED    {reason}")
    }

    /// Counts one file's result and returns the line that reports it.
    fn record(&mut self, file: &SourceFile, result: &Result<ImportOutcome, DbError>) -> String {
        match result {
            Ok(ImportOutcome::Imported { counts, replaced, .. }) => {
                self.imported += 1;
                self.rows += counts.rows_read;
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
                self.unchanged += 1;
                format!("unchanged {}: already imported as import {import_id}", file.name)
            }
            Ok(ImportOutcome::Skipped { reason }) => {
                self.skipped += 1;
                format!("skipped   {reason}")
            }
            Err(e) => {
                self.failed.push(file.name.clone());
                format!("FAILED    {e}")
            }
        }
    }
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
