//! `alliance referrals …`: the operator's side of referrals (issue 17).
//! - `service`: flag a service of the directory of help as taking referrals, with the
//!   organisation that runs it, the personal data it needs and its eligibility;
//! - `retention --months N`: erase the personal fields of referrals that ended more than N
//!   months ago, keeping the anonymous outcome (schedule it daily: see the README);
//! - `export-subject --name …`: a subject access export (JSON) of one person's referrals;
//! - `figures`: the aggregate figures (JSON), suppressed as on the web.
//! - `create --file JSON --as EMAIL` and `status ID --to … --as EMAIL`: for services that keep
//!   their own case system, a referral made or moved on as a named user of a partner
//!   organisation, through the same use cases as the web and the API (same validation,
//!   consent required, only the referral's two organisations, notifications by e-mail);
//! - `link-intervention ID --service SID` (or `--none`): the commissioned service that
//!   delivers an intervention of the register, so its evaluation shows its referrals.
//!
//! Every change and every export of personal data is audited as `cli:<login>`; a change made
//! `--as` a user as `cli:<login> as user:<email>`.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_app::referrals::{figures, retention_run, subject_access, SubjectQuery, Who};
use alliance_core::referrals::{
    AgeLimits, BirthNeed, CommissionedService, Eligibility, Event, NameNeed, Need, PersonalDataPolicy,
    PostcodeDistrict, ReferralForm, RetentionPeriod,
};
use alliance_db::audit::Actor;
use alliance_db::Db;
use anyhow::Context;
use clap::{Args, Subcommand};

use super::{cli_actor, MailArgs};

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
    /// Make a referral from a JSON file (the API's body), as a named user.
    Create(CreateArgs),
    /// Move a referral on (accept, decline, engage, close, withdraw), as a named user.
    Status(StatusArgs),
    /// Name the commissioned service that delivers an intervention of the register.
    LinkIntervention(LinkArgs),
}

/// The largest referral file read (a referral is a few hundred bytes; the API's bound).
pub const MAX_REFERRAL_FILE: u64 = 64 * 1024;

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The referral as JSON: `{"service": ID, "received", "source", "reason", "other_needs":
    /// [..], "person": {..}, "consent": {..}}`, the body of `POST /api/v1/referrals`.
    #[arg(long)]
    pub file: PathBuf,
    /// The e-mail address of the active user the referral is made as (their organisation
    /// refers).
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_user: String,
    #[command(flatten)]
    pub mail: MailArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The referral's id.
    pub id: i64,
    /// The next status: accepted, declined (with --reason), engaged, closed (with --outcome)
    /// or withdrawn (by the referring organisation).
    #[arg(long)]
    pub to: String,
    /// Why it was declined: a decline reason code (not-eligible, no-capacity, …).
    #[arg(long)]
    pub reason: Option<String>,
    /// How it closed: a closure outcome code (goals-met, disengaged, …).
    #[arg(long)]
    pub outcome: Option<String>,
    /// The date of the step, YYYY-MM-DD (today when not given; never in the future).
    #[arg(long)]
    pub on: Option<String>,
    /// The e-mail address of the active user who acts (their organisation must be the
    /// referral's receiving service, or the referrer to withdraw).
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_user: String,
    #[command(flatten)]
    pub mail: MailArgs,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The intervention's id in the register.
    pub intervention: i64,
    /// The id of the commissioned service that delivers it (`alliance referrals service`).
    #[arg(long, conflicts_with = "none", required_unless_present = "none")]
    pub service: Option<String>,
    /// Remove the link.
    #[arg(long)]
    pub none: bool,
}

/// The user a command acts as, and the actor its audit rows name.
async fn acting_as(db: &Db, email: &str) -> anyhow::Result<(Who, Actor)> {
    let email = email.trim();
    let user = db
        .user_by_email(email)
        .await?
        .filter(|u| u.active)
        .with_context(|| format!("--as: no active user with the e-mail address \"{email}\""))?;
    let who = Who::of(&user)?;
    let actor = Actor::new(format!("{} as user:{}", super::cli_user(), user.email), "cli");
    Ok((who, actor))
}

#[derive(serde::Deserialize)]
struct NewReferralFile {
    #[serde(default)]
    service: String,
    #[serde(flatten)]
    form: ReferralForm,
}

/// The event of `--to` with its `--reason` or `--outcome`; each detail only where it belongs.
pub fn event_of(to: &str, reason: Option<&str>, outcome: Option<&str>) -> anyhow::Result<Event> {
    let name = match to.trim().to_ascii_lowercase().as_str() {
        "accepted" | "accept" => "accept",
        "declined" | "decline" => "decline",
        "engaged" | "engage" => "engage",
        "closed" | "close" => "close",
        "withdrawn" | "withdraw" => "withdraw",
        other => anyhow::bail!(
            "--to: \"{other}\" is not a status a referral can move to: expected accepted, declined, engaged, closed or withdrawn"
        ),
    };
    let detail = match (name, reason, outcome) {
        ("decline", r, None) => r,
        ("close", None, o) => o,
        (_, None, None) => None,
        ("decline", _, Some(_)) => anyhow::bail!("--outcome: only a closed referral has an outcome (use --reason)"),
        ("close", Some(_), _) => anyhow::bail!("--reason: only a declined referral has a reason (use --outcome)"),
        (_, Some(_), _) => anyhow::bail!("--reason: only a declined referral has a reason"),
        (_, _, Some(_)) => anyhow::bail!("--outcome: only a closed referral has an outcome"),
    };
    Event::parse(name, detail).map_err(|e| {
        let flag = if name == "close" { "--outcome" } else { "--reason" };
        anyhow::anyhow!("{flag}: {e}")
    })
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
    let today = alliance_db::clock::today_date();
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
        ReferralsCommand::Create(a) => return create(db, a, today).await,
        ReferralsCommand::Status(a) => {
            let event = event_of(&a.to, a.reason.as_deref(), a.outcome.as_deref())?;
            let on =
                a.on.as_deref()
                    .map(|t| chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d"))
                    .transpose()
                    .map_err(|_| anyhow::anyhow!("--on: expected a date as YYYY-MM-DD, like 2025-06-30"))?;
            let (who, actor) = acting_as(db, &a.as_user).await?;
            let mailer = a.mail.mailer()?;
            let timeline = alliance_app::referrals::act(db, &mailer, who, a.id, event, on, today, &actor)
                .await
                .with_context(|| format!("referral {}", a.id))?;
            println!("referral {}: {} on {}", a.id, timeline.status().code(), timeline.last_step_on());
        }
        ReferralsCommand::LinkIntervention(a) => {
            let service = if a.none { None } else { a.service.as_deref() };
            alliance_app::referrals::link_intervention(db, a.intervention, service, &cli_actor())
                .await
                .with_context(|| format!("intervention {}", a.intervention))?;
            match service {
                Some(s) => println!("intervention {} is delivered by the service {}", a.intervention, s.trim()),
                None => println!("intervention {} names no service", a.intervention),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn create(db: &Db, a: CreateArgs, today: chrono::NaiveDate) -> anyhow::Result<ExitCode> {
    let name = a.file.display().to_string();
    let meta = std::fs::metadata(&a.file).with_context(|| format!("cannot read {name}"))?;
    if meta.len() > MAX_REFERRAL_FILE {
        anyhow::bail!("{name}: a referral file is at most {MAX_REFERRAL_FILE} bytes, this one is {}", meta.len());
    }
    let text = std::fs::read(&a.file).with_context(|| format!("cannot read {name}"))?;
    let body: NewReferralFile = serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!("{name}: line {}, column {}: not the referral JSON expected: {e}", e.line(), e.column())
    })?;
    let (who, actor) = acting_as(db, &a.as_user).await?;
    let mailer = a.mail.mailer()?;
    match alliance_app::referrals::make(db, &mailer, who, &body.service, &body.form, None, today, &actor)
        .await
        .with_context(|| name.clone())?
    {
        Ok(made) => {
            println!("referral {} made: received", made.id);
            for n in &made.notes {
                println!("note: {}: {}", n.field.id(), n.message);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{name}: the referral was not made ({} problems):", errors.0.len());
            for e in &errors.0 {
                eprintln!("  {}: {}", e.field.id(), e.message);
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
