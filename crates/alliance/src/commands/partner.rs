//! Partner data on the command line: `alliance import ed|indicators PATH…` and
//! `alliance generate ed …`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use alliance_app::imports::{self, PartnerImported, PartnerKind, Supplier};
use alliance_db::imports::ImportOutcome;
use alliance_db::Db;
use alliance_ingest::ed::synthetic::{generate as generate_ed, write, GeneratorSpec};
use alliance_ingest::ed::EdFormat;
use alliance_ingest::source::collect_files;
use alliance_ingest::SourceFile;
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// A synthetic emergency department assault file (ISTV), labelled SYNTHETIC. Locations are
    /// street names of the imported police data in the partnership's area when the database
    /// has any, else a built-in list of street names common to most towns.
    Ed(GenerateEdArgs),
    /// A national police data set for scale tests (SYNTHETIC): data.police.uk street and
    /// outcomes files for every force of England and Wales, replayed from the shared real files
    /// (`alliance_ingest::police::synthetic`), with a README saying so beside them.
    #[command(name = "police-national", alias = "national")]
    PoliceNational(GeneratePoliceNationalArgs),
}

#[derive(Debug, Args)]
pub struct GeneratePoliceNationalArgs {
    /// The folder to write the files to (created when missing).
    #[arg(long)]
    pub out: PathBuf,
    /// How many months, ending with --end.
    #[arg(long, default_value_t = 36)]
    pub months: u32,
    /// Street rows in all (about), shared among the forces by population.
    #[arg(long, default_value_t = 20_000_000)]
    pub target_rows: u64,
    /// The last month to write (YYYY-MM).
    #[arg(long, default_value = "2025-12")]
    pub end: alliance_core::domain::Month,
    /// Only these forces (data.police.uk ids, comma-separated, e.g. staffordshire,wiltshire);
    /// all 44 when absent.
    #[arg(long, value_delimiter = ',')]
    pub forces: Vec<String>,
    /// The shared data folder, with `police/staffordshire/`, `police/gwent/` and `lsoa/`.
    #[arg(long, env = "ALLIANCE_SHARED_DATA", default_value = "../shared/data")]
    pub shared: PathBuf,
    /// Write .csv.gz files instead of .csv.
    #[arg(long)]
    pub gzip: bool,
    /// The same seed gives the same files.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Xml,
}

#[derive(Debug, Args)]
pub struct GenerateEdArgs {
    /// ODS site code of the treating department (by default `SYNTHETIC`, which is no real
    /// site's: give the code of the department whose files the partnership will receive).
    #[arg(long, default_value = "SYNTHETIC")]
    pub site: String,
    /// First day of the reporting period (YYYY-MM-DD).
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day of the reporting period (YYYY-MM-DD).
    #[arg(long)]
    pub to: NaiveDate,
    /// Number of assaults.
    #[arg(long, default_value_t = 400)]
    pub assaults: usize,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Where to write the file.
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn generate(db: &Db, command: GenerateCommand) -> anyhow::Result<ExitCode> {
    let args = match command {
        GenerateCommand::Ed(args) => args,
        // Handled before the database is opened (`commands::run`).
        GenerateCommand::PoliceNational(args) => return generate_police_national(args),
    };
    if args.to < args.from {
        anyhow::bail!("--to {} is before --from {}", args.to, args.from);
    }
    let streets = db.ed_street_names(300).await.context("cannot read street names from the database")?;
    let from_police = !streets.is_empty();
    let spec = GeneratorSpec {
        site_code: args.site.to_ascii_uppercase(),
        from: args.from,
        to: args.to,
        assaults: args.assaults,
        seed: args.seed,
        streets,
    };
    let submission = generate_ed(&spec);
    let format = match args.format {
        FormatArg::Csv => EdFormat::Csv,
        FormatArg::Xml => EdFormat::Xml,
    };
    std::fs::write(&args.out, write(&submission, format))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote {}: {} SYNTHETIC assaults, site {}, {} to {}, locations from {}",
        args.out.display(),
        submission.assaults.len(),
        submission.site_code,
        submission.period_start,
        submission.period_end,
        if from_police { "the police street gazetteer" } else { "the built-in street list" }
    );
    Ok(ExitCode::SUCCESS)
}

fn list(paths: &[PathBuf], wanted: fn(&str) -> bool) -> anyhow::Result<Vec<PathBuf>> {
    let files = collect_files(paths, wanted).context("cannot list the files to import")?;
    if files.is_empty() {
        anyhow::bail!(
            "no files to import under {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(files)
}

/// Prints the summary line and turns failures into the exit code.
fn summary(started: Instant, imported: usize, rows: i64, unchanged: usize, failed: &[String]) -> ExitCode {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{imported} imported ({rows} rows in {seconds:.2} s, {:.0} rows/s), {unchanged} unchanged, 0 skipped, {} failed{}",
        rows as f64 / seconds.max(1e-9),
        failed.len(),
        if failed.is_empty() { String::new() } else { format!(": {}", failed.join(", ")) }
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn replaced_text(replaced: Option<i64>, rows: i64) -> String {
    match replaced {
        Some(id) => format!(", replacing import {id} ({rows} rows)"),
        None => String::new(),
    }
}

/// `alliance import ed PATH…`
pub async fn import_ed(db: &Db, paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    import_partner(db, paths, PartnerKind::Ed).await
}

/// `alliance import indicators PATH…`
pub async fn import_indicators(db: &Db, paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    import_partner(db, paths, PartnerKind::Indicators).await
}

/// Imports partner files one by one through the import use case, which audits each attempt.
async fn import_partner(db: &Db, paths: &[PathBuf], kind: PartnerKind) -> anyhow::Result<ExitCode> {
    let wanted = match kind {
        PartnerKind::Ed => alliance_ingest::ed::is_ed_file_name,
        PartnerKind::Indicators => alliance_ingest::indicators::is_indicator_file_name,
    };
    let files = list(paths, wanted)?;
    let actor = super::cli_actor();
    let started = Instant::now();
    let (mut imported, mut unchanged, mut rows) = (0, 0, 0i64);
    let mut failed = Vec::new();
    for path in &files {
        let file = SourceFile::from_path(Path::new(path));
        let line = match imports::partner_file(db, &actor, Supplier::Operator, kind, &file).await {
            Ok(PartnerImported::Done {
                outcome: ImportOutcome::Imported { counts, replaced, unit, .. }, ed, ..
            }) => {
                imported += 1;
                rows += counts.rows_read;
                match ed {
                    Some(report) => {
                        let g = report.geocoding;
                        format!(
                            "imported  {}{}: {} assaults; places: {} high, {} medium, {} resolved before, {} queued \
                             for review, {} without a description{}",
                            file.name,
                            if report.synthetic { " (SYNTHETIC)" } else { "" },
                            counts.rows_read,
                            g.high,
                            g.medium,
                            g.resolved,
                            g.queued,
                            g.no_text,
                            replaced_text(replaced, counts.rows_replaced)
                        )
                    }
                    None => format!(
                        "imported  {}: {} values ({unit}){}",
                        file.name,
                        counts.rows_read,
                        replaced_text(replaced, counts.rows_replaced)
                    ),
                }
            }
            Ok(PartnerImported::Done { outcome: ImportOutcome::Unchanged { import_id, .. }, .. }) => {
                unchanged += 1;
                format!("unchanged {}: already imported as import {import_id}", file.name)
            }
            Ok(PartnerImported::Done { outcome: ImportOutcome::Skipped { reason }, .. }) => {
                format!("skipped   {reason}")
            }
            Ok(PartnerImported::Refused(e) | PartnerImported::NotSupplier(e)) => {
                failed.push(file.name.clone());
                format!("FAILED    {e}")
            }
            Err(e) => {
                failed.push(file.name.clone());
                format!("FAILED    {e}")
            }
        };
        println!("{line}");
    }
    Ok(summary(started, imported, rows, unchanged, &failed))
}

/// `alliance generate police-national`: writes the files with a progress bar on a terminal.
pub fn generate_police_national(args: GeneratePoliceNationalArgs) -> anyhow::Result<ExitCode> {
    use alliance_ingest::police::synthetic::{generate, NationalSpec};
    let spec = NationalSpec {
        shared: args.shared,
        out: args.out.clone(),
        end: args.end,
        months: args.months,
        target_rows: args.target_rows,
        forces: args.forces,
        gzip: args.gzip,
        seed: args.seed,
    };
    let started = Instant::now();
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files, {elapsed} ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let summary = generate(&spec, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    println!(
        "wrote {} SYNTHETIC files to {} in {:.1} s: {} forces, {} street rows, {} outcomes rows, {:.1} MB",
        summary.files,
        args.out.display(),
        started.elapsed().as_secs_f64(),
        summary.forces,
        summary.street_rows,
        summary.outcome_rows,
        summary.bytes as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}
