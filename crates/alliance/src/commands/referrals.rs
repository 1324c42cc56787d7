//! `alliance referrals …`: the operator's side of referrals (issue 17).
//! - `service`: flag a service of the directory of help as taking referrals, with the
//!   organisation that runs it, the personal data it needs and its eligibility;
//! - `retention --months N`: erase the personal fields of referrals that ended more than N
//!   months ago, keeping the anonymous outcome (schedule it daily: see the README);
//! - `export-subject --name …`: a subject access export (JSON) of one person's referrals;
//! - `figures`: the aggregate figures (JSON), suppressed as on the web.
//!
//! Every change and every export of personal data is audited as `cli:<login>`.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::referrals::{figures, retention_run, subject_access, SubjectQuery};
use alliance_core::referrals::{
    AgeLimits, BirthNeed, CommissionedService, Eligibility, NameNeed, Need, PersonalDataPolicy, PostcodeDistrict,
    RetentionPeriod,
};
use alliance_db::Db;
use anyhow::Context;
use clap::{Args, Subcommand};

use super::cli_actor;

#[derive(Debug, Subcommand)]
pub enum ReferralsCommand {
    /// Flag a service of the directory of help as taking referrals (or change its set-up).
    Service(ServiceArgs),
    /// Erase the personal fields of referrals that ended (declined, withdrawn, closed) at
    /// least N months ago; the anonymous outcome stays. Run it daily.
    Retention(RetentionArgs),
    /// Export one person's referrals (subject access request) as JSON.
    ExportSubject(ExportArgs),
    /// The aggregate figures of referrals as JSON, small counts suppressed.
    Figures(FiguresArgs),
}

#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// The service's id in the directory of help (`alliance services`).
    #[arg(long)]
    pub id: String,
    /// The name of the organisation that runs it (its users receive the referrals).
    #[arg(long)]
    pub run_by: String,
    /// The name it needs: not-needed, initials or full-name.
    #[arg(long, default_value = "initials")]
    pub name: String,
    /// The age it needs: not-needed, age or date-of-birth.
    #[arg(long, default_value = "age")]
    pub birth: String,
    /// Do not ask for sex.
    #[arg(long)]
    pub no_sex: bool,
    /// Do not ask for the postcode district.
    #[arg(long)]
    pub no_district: bool,
    /// Do not ask for a contact route.
    #[arg(long)]
    pub no_contact: bool,
    /// The youngest age it takes.
    #[arg(long)]
    pub min_age: Option<u8>,
    /// The oldest age it takes.
    #[arg(long)]
    pub max_age: Option<u8>,
    /// Postcode districts it covers, comma-separated (empty: anywhere).
    #[arg(long, default_value = "")]
    pub districts: String,
    /// Need codes it takes, comma-separated (empty: any).
    #[arg(long, default_value = "")]
    pub needs: String,
    /// The most referrals it holds open (accepted or engaged) at once.
    #[arg(long)]
    pub capacity: Option<u32>,
    /// Stop taking referrals (those made stay).
    #[arg(long)]
    pub closed: bool,
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// The retention period in whole months after a referral ends (0 to 240), as the data
    /// protection officer sets it.
    #[arg(long)]
    pub months: u32,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The person's name or initials, as the referrals hold them (case, spaces and dots ignored).
    #[arg(long)]
    pub name: String,
    /// Their date of birth (YYYY-MM-DD), to tell people with the same name apart.
    #[arg(long)]
    pub date_of_birth: Option<String>,
    /// Write the export here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FiguresArgs {
    /// Counts below this are shown as "fewer than N".
    #[arg(long, default_value_t = alliance_app::disclosure::DEFAULT_THRESHOLD)]
    pub suppression_threshold: u64,
}

fn list<T>(text: &str, what: &str, parse: impl Fn(&str) -> Result<T, String>) -> anyhow::Result<Vec<T>> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| parse(t).map_err(|e| anyhow::anyhow!("--{what}: {e}")))
        .collect()
}

pub async fn run(db: &Db, command: ReferralsCommand) -> anyhow::Result<ExitCode> {
    let today = chrono::Utc::now().date_naive();
    match command {
        ReferralsCommand::Service(a) => {
            let org = db
                .organisation_by_name(&a.run_by)
                .await?
                .with_context(|| format!("--run-by: no organisation named \"{}\"", a.run_by))?;
            let directory = db
                .service(&a.id)
                .await?
                .with_context(|| format!("--id: no service \"{}\" in the directory of help", a.id))?;
            let name = NameNeed::parse(&a.name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let birth = BirthNeed::parse(&a.birth).map_err(|e| anyhow::anyhow!("--birth: {e}"))?;
            let ages = match (a.min_age, a.max_age) {
                (None, None) => None,
                (min, max) => Some(
                    AgeLimits::new(min.unwrap_or(0), max.unwrap_or(25))
                        .context("--min-age and --max-age: the youngest age is above the oldest")?,
                ),
            };
            let policy = PersonalDataPolicy {
                name,
                birth,
                sex: !a.no_sex,
                postcode_district: !a.no_district,
                contact: !a.no_contact,
                ages: ages.unwrap_or_default(),
            };
            let eligibility = Eligibility {
                ages,
                districts: list(&a.districts, "districts", |t| {
                    t.parse::<PostcodeDistrict>().map_err(|e| e.to_string())
                })?,
                needs: list(&a.needs, "needs", |t| Need::parse(t).map_err(|e| e.to_string()))?,
                capacity: a.capacity,
            };
            let service = CommissionedService {
                id: directory.id.clone(),
                name: directory.name.clone(),
                run_by: org.id,
                policy,
                eligibility,
            };
            db.set_referral_service(&service, !a.closed, &cli_actor()).await?;
            println!(
                "{} ({}) {} referrals, run by {}",
                service.name,
                service.id,
                if a.closed { "takes no" } else { "takes" },
                org.name
            );
        }
        ReferralsCommand::Retention(a) => {
            let period = RetentionPeriod::months(a.months).map_err(|e| anyhow::anyhow!("--months: {e}"))?;
            let report = retention_run(db, period, today, &cli_actor()).await?;
            println!(
                "retention ({period} after a referral ends): {} erased of {} holding personal data ({} still open)",
                report.erased, report.held, report.open
            );
        }
        ReferralsCommand::ExportSubject(a) => {
            let date_of_birth = a
                .date_of_birth
                .as_deref()
                .map(|t| chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d"))
                .transpose()
                .map_err(|_| anyhow::anyhow!("--date-of-birth: expected YYYY-MM-DD, like 2009-06-21"))?;
            let records = subject_access(db, None, &SubjectQuery { name: a.name, date_of_birth }, &cli_actor()).await?;
            let json = serde_json::to_string_pretty(&records)?;
            match a.out {
                Some(path) => {
                    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("{} referrals written to {}", records.len(), path.display());
                }
                None => println!("{json}"),
            }
        }
        ReferralsCommand::Figures(a) => {
            let disclosure = alliance_app::Disclosure::new(a.suppression_threshold)?;
            let f = figures(db, &disclosure).await?;
            println!("{}", serde_json::to_string_pretty(&f)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
