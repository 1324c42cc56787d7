//! `alliance sna`: writes the Strategic Needs Assessment as one self-contained HTML file.
//! `alliance definition show|export|import`: the serious violence definition.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::sna::{EdPermission, SnaReport, SnaRequest};
use alliance_app::Disclosure;
use alliance_core::analytics::sna::definition::Definition;
use alliance_core::domain::Month;
use alliance_db::Db;
use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct SnaArgs {
    /// District codes to cover (repeat or separate with commas); default: the partnership's
    /// districts (`alliance partnership`), else all data.
    #[arg(long = "area", value_delimiter = ',')]
    pub areas: Vec<String>,
    /// Every district with data, not the partnership's: on a database holding other forces'
    /// records too (a region, the national archive), the whole of it.
    #[arg(long, conflicts_with_all = ["areas", "place"])]
    pub all_areas: bool,
    /// A place of the register (`alliance places list`) to cover instead of districts: the
    /// police records inside its outline (no rates: a place has no population of its own;
    /// emergency department figures stay the whole area's).
    #[arg(long, conflicts_with = "areas")]
    pub place: Option<String>,
    /// First month, YYYY-MM (default: the first month with data).
    #[arg(long)]
    pub from: Option<Month>,
    /// Last month, YYYY-MM (default: the latest month with data).
    #[arg(long)]
    pub to: Option<Month>,
    /// Where to write the HTML report.
    #[arg(long)]
    pub out: PathBuf,
    /// Emergency department figures hide counts below this number ("fewer than 5"), with
    /// secondary suppression. Default: the partnership profile's threshold (the one the web
    /// app uses), or 5 when there is no profile.
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=alliance_app::disclosure::MAX_THRESHOLD))]
    pub suppression_threshold: Option<u64>,
}

pub async fn run(db: &Db, args: SnaArgs) -> anyhow::Result<ExitCode> {
    let threshold = match args.suppression_threshold {
        Some(t) => t,
        None => db.partnership().await?.map_or(alliance_app::disclosure::DEFAULT_THRESHOLD, |p| p.threshold()),
    };
    let disclosure = Disclosure::new(threshold)?;
    let place = match &args.place {
        Some(name) => Some(db.places_named("place", std::slice::from_ref(name)).await?.remove(0).id),
        None => None,
    };
    let started = std::time::Instant::now();
    // The command runs with the database's own rights, so emergency department figures
    // (suppressed under the threshold given, as on the web) are included when loaded.
    let request = SnaRequest {
        areas: args.areas,
        from: args.from,
        to: args.to,
        ed: EdPermission::Included,
        place,
        all_areas: args.all_areas,
    };
    let report = SnaReport::build(db, &request, &disclosure).await.map_err(super::option_error)?;
    warn_of_other_forces(db).await?;
    let html = alliance_reports::sna::standalone_html(&report);
    std::fs::write(&args.out, &html).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "wrote {} ({} KB) in {:.2} s: {}, {} {} offences, {}",
        args.out.display(),
        html.len() / 1024,
        started.elapsed().as_secs_f64(),
        report.area_label,
        report.headline_total,
        report.headline_label,
        report.period.map_or("no period".into(), |p| p.to_string())
    );
    Ok(ExitCode::SUCCESS)
}

/// Says on standard error when the police records held are only other forces' (as the
/// dashboard and the SNA page do), so figures printed or written are not taken for the
/// partnership's own.
pub(crate) async fn warn_of_other_forces(db: &Db) -> anyhow::Result<()> {
    let note = alliance_app::forces::ForceCoverage::load(db).await?.note();
    if !note.is_empty() {
        eprintln!("Warning: {note}");
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum DefinitionCommand {
    /// Print the current serious violence definition.
    Show,
    /// Write the current definition as JSON.
    Export { file: PathBuf },
    /// Store a definition from JSON as a new version.
    Import { file: PathBuf },
}

pub async fn run_definition(db: &Db, command: DefinitionCommand) -> anyhow::Result<ExitCode> {
    match command {
        DefinitionCommand::Show => {
            let d = db.sv_definition_current().await?;
            println!("Serious violence definition version {}: {} (created {})", d.version, d.name, d.created);
            println!("{}\n", d.notes);
            for m in &d.mappings {
                println!(
                    "{:<22} {:<32} -> {:<28} {:<8} {}",
                    m.source.code(),
                    m.category,
                    m.group.code(),
                    m.fit.code(),
                    if m.in_headline { "headline" } else { "context" }
                );
            }
            for g in &d.gaps {
                println!("{:<22} cannot show {:<28} {}", g.source.code(), g.group.code(), g.note);
            }
        }
        DefinitionCommand::Export { file } => {
            let d = db.sv_definition_current().await?;
            std::fs::write(&file, serde_json::to_string_pretty(&d)?)
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!("wrote version {} to {}", d.version, file.display());
        }
        DefinitionCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let d: Definition = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a serious violence definition", file.display()))?;
            let version = db
                .sv_definition_store(&d, &super::cli_user())
                .await
                .with_context(|| format!("{}: not stored", file.display()))?;
            println!("stored {} as version {version}", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
