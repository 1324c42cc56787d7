//! Command-line commands, one module each.

mod audit;
mod backup;
mod board_pack;
mod counts;
pub mod evaluate;
mod import;
mod imports;
mod indicators;
mod partner;
mod partnership;
mod places;
mod postcodes;
mod referrals;
mod seed;
mod serve;
mod services;
mod sharing;
mod sna;
mod spatial;
mod strategy;
mod users;

use std::process::ExitCode;

use alliance_db::{Db, DEFAULT_DATABASE_URL};
use anyhow::Context;
use clap::{Parser, Subcommand};

/// Alliance: the data and delivery platform for violence reduction partnerships.
#[derive(Debug, Parser)]
#[command(name = "alliance", version, about)]
pub struct Cli {
    /// Database URL: sqlite://FILE (created when missing) or postgres://USER@HOST/DB.
    #[arg(long = "db", env = "ALLIANCE_DB", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// How log lines (on standard error) are written: text, or one JSON object per line.
    #[arg(long, env = "ALLIANCE_LOG_FORMAT", value_enum, default_value_t = crate::logging::LogFormat::Text, global = true)]
    pub log_format: crate::logging::LogFormat,
    /// The audit chain's key file (kept away from the database). Without it: the key in
    /// ALLIANCE_AUDIT_KEY, else a key file made next to a SQLite database (`FILE.audit-key`)
    /// or `alliance-audit.key` in the working folder for PostgreSQL.
    #[arg(long = "audit-key-file", env = "ALLIANCE_AUDIT_KEY_FILE", value_name = "FILE", global = true)]
    pub audit_key_file: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (dashboard, pages and JSON API).
    Serve(serve::ServeArgs),
    /// Import data files.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Generate synthetic data files (clearly labelled SYNTHETIC) for tests and demonstrations.
    #[command(subcommand)]
    Generate(partner::GenerateCommand),
    /// List the imports recorded, newest first.
    Imports(imports::ImportsArgs),
    /// Count police records grouped by fields.
    Counts(counts::CountsArgs),
    /// The directory of support services (Open Referral UK JSON).
    #[command(subcommand)]
    Services(services::ServicesCommand),
    /// Hotspots on a grid or per area: Gi*, Gi, local or global Moran's I.
    Hotspots(spatial::HotspotsArgs),
    /// Kernel density on a grid, in events per km².
    Kde(spatial::KdeArgs),
    /// Near-repeat (Knox) analysis of a points file with times in days.
    NearRepeat(spatial::NearRepeatArgs),
    /// Optimized and emerging hot spot analysis of the stored police data.
    #[command(subcommand)]
    Spatial(spatial::SpatialCommand),
    /// Manage users (create the first administrator here).
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Write the serious violence Strategic Needs Assessment as one HTML file.
    Sna(sna::SnaArgs),
    /// Show, export or import the serious violence definition.
    #[command(subcommand)]
    Definition(sna::DefinitionCommand),
    /// The place register: parks, town centres, streets and zones used as evaluation areas.
    #[command(subcommand)]
    Places(places::PlacesCommand),
    /// Evaluate an intervention: change in the target, buffer and comparison areas, displacement, verdict.
    Evaluate(evaluate::EvaluateArgs),
    /// Load reference content (the partnership's strategy).
    #[command(subcommand)]
    Seed(seed::SeedCommand),
    /// Write the quarterly Board pack: one self-contained HTML file, a PDF (`.pdf`) or OpenDocument text (`.odt`).
    BoardPack(board_pack::BoardPackArgs),
    /// The partnership this deployment serves: its name, area, forces and contacts.
    #[command(subcommand)]
    Partnership(partnership::PartnershipCommand),
    /// The partnership's strategies as files: list, import, export.
    #[command(subcommand)]
    Strategy(strategy::StrategyCommand),
    /// Referrals into commissioned services: set up a service, the retention run, subject
    /// access exports, aggregate figures.
    #[command(subcommand)]
    Referrals(referrals::ReferralsCommand),
    /// Write an online backup of a SQLite database to a new file (PostgreSQL: use pg_dump).
    Backup(backup::BackupArgs),
    /// The data-sharing register: list agreements and grants; request, approve or refuse a
    /// grant as a named administrator (--as EMAIL).
    #[command(subcommand)]
    Sharing(sharing::SharingCommand),
    /// The performance framework's indicators: define a computed one, list, show its figures.
    #[command(subcommand)]
    Indicators(indicators::IndicatorsCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The national generator reads the shared files and writes files: it opens no database
    // (so it neither creates nor migrates the one `--db` names).
    let command = match cli.command {
        Command::Generate(partner::GenerateCommand::PoliceNational(args)) => {
            return partner::generate_police_national(args)
        }
        command => command,
    };
    let key = match &cli.audit_key_file {
        Some(file) => alliance_db::audit::AuditKeySource::File(file.clone()),
        None => alliance_db::audit::AuditKeySource::Default,
    };
    let db = Db::connect_with(&cli.database_url, &key)
        .await
        .with_context(|| format!("cannot open the database {}", cli.database_url))?;
    let code = match command {
        Command::Serve(args) => serve::run(&db, args).await?,
        Command::Import(args) => import::run(&db, args).await?,
        Command::Generate(args) => partner::generate(&db, args).await?,
        Command::Imports(args) => imports::run(&db, args).await?,
        Command::Counts(args) => counts::run(&db, args).await?,
        Command::Services(args) => services::run(&db, args).await?,
        Command::Hotspots(args) => spatial::hotspots(&db, args).await?,
        Command::Kde(args) => spatial::kde(&db, args).await?,
        Command::NearRepeat(args) => spatial::near_repeat(&db, args).await?,
        Command::Spatial(args) => spatial::run(&db, args).await?,
        Command::Users(args) => users::run(&db, args).await?,
        Command::Audit(args) => audit::run(&db, args).await?,
        Command::Sna(args) => sna::run(&db, args).await?,
        Command::Definition(args) => sna::run_definition(&db, args).await?,
        Command::Places(args) => places::run(&db, args).await?,
        Command::Evaluate(args) => evaluate::run(&db, args).await?,
        Command::Seed(args) => seed::run(&db, args).await?,
        Command::BoardPack(args) => board_pack::run(&db, args).await?,
        Command::Partnership(args) => partnership::run(&db, args).await?,
        Command::Strategy(args) => strategy::run(&db, args).await?,
        Command::Referrals(args) => referrals::run(&db, args).await?,
        Command::Backup(args) => backup::run(&db, args).await?,
        Command::Sharing(args) => sharing::run(&db, args).await?,
        Command::Indicators(args) => indicators::run(&db, args).await?,
    };
    db.close().await;
    Ok(code)
}

/// The SMTP relay a command sends e-mail through (an invitation, a referral's notification),
/// taken as `alliance serve` takes it.
#[derive(Debug, clap::Args)]
pub struct MailArgs {
    /// The SMTP relay to send e-mail through (`smtp://HOST[:PORT]`); without it nothing is
    /// sent: a notification is logged as not sent, an invitation's link is printed.
    #[arg(long, env = "ALLIANCE_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// The sender of the e-mail.
    #[arg(long, env = "ALLIANCE_MAIL_FROM", default_value = "Alliance <alliance@localhost>")]
    pub mail_from: String,
    /// The address users reach Alliance at, for the links in the e-mail.
    #[arg(long, env = "ALLIANCE_PUBLIC_URL", value_name = "URL", default_value = "http://localhost:8080")]
    pub public_url: String,
}

impl MailArgs {
    /// The mailer these options name (one that sends nothing without a relay).
    pub fn mailer(&self) -> anyhow::Result<alliance_app::mail::Mailer> {
        match &self.smtp_url {
            Some(url) => alliance_app::mail::Mailer::smtp(url, &self.mail_from, &self.public_url)
                .context("cannot configure the SMTP relay (--smtp-url / ALLIANCE_SMTP_URL)"),
            None => Ok(alliance_app::mail::Mailer::none()),
        }
    }
}

/// The actor of the command line's changes and imports: `cli:<login>` from the address `cli`
/// (the import use case writes each file's audit row with it, as for web and API uploads).
pub fn cli_actor() -> alliance_db::audit::Actor {
    alliance_db::audit::Actor::new(cli_user(), "cli")
}

/// Who the command line records as the importer: `cli:<login name>`.
pub fn cli_user() -> String {
    let name = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    format!("cli:{name}")
}

/// A use case's error as the command line says it: a refused input names the option it came
/// from (`--to`, `--crime-type`), as the web names its field; every other error as it is.
pub fn option_error(e: alliance_app::AppError) -> anyhow::Error {
    match e {
        alliance_app::AppError::Invalid { field, reason } => {
            anyhow::anyhow!("--{}: {reason}", field.replace('_', "-"))
        }
        other => other.into(),
    }
}
