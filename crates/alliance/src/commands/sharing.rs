//! `alliance sharing list|request|approve|refuse`: the data-sharing register and its grants
//! from the command line, acting as a named administrator (`--as EMAIL`) under the same rules
//! as `/admin/data-sharing`: the actor must be an active administrator; a grant is a request
//! until an administrator of the dataset's owner approves it, and nobody decides their own
//! request (checked by the storage layer, `Db::decide_grant`, in the decision's transaction).
//! Every change is audited with the administrator as its actor, from the address `cli`.

use std::process::ExitCode;

use alliance_core::access::{AccessLevel, Role};
use alliance_db::access::{check_length, field_limits};
use alliance_db::audit::Actor;
use alliance_db::{Db, DbError};
use anyhow::{bail, Context};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SharingCommand {
    /// List the agreements with their status, parties, DPIA, review date and grants.
    List,
    /// Ask for a grant of a dataset to an organisation under an agreement (no access until
    /// an administrator of the dataset's owner approves it).
    Request(RequestArgs),
    /// Approve a grant request, as an administrator of the dataset's owner.
    Approve(GrantArgs),
    /// Refuse a grant request, as an administrator of the dataset's owner.
    Refuse(GrantArgs),
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    pub grant: GrantArgs,
    /// aggregate or record.
    #[arg(long)]
    pub level: AccessLevel,
}

/// A grant (requested or to be decided) and the administrator acting on it.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The administrator acting (an active administrator's email; to decide, an
    /// administrator of the dataset's owner).
    #[arg(long = "as", value_name = "EMAIL")]
    pub as_user: String,
    /// The agreement's number (`alliance sharing list`).
    #[arg(long)]
    pub agreement: i64,
    /// The organisation the grant is for: its name or number.
    #[arg(long)]
    pub org: String,
    /// The dataset, e.g. `ed-assaults` or `indicators:health`.
    #[arg(long)]
    pub dataset: String,
}

pub async fn run(db: &Db, command: SharingCommand) -> anyhow::Result<ExitCode> {
    match command {
        SharingCommand::List => list(db).await,
        SharingCommand::Request(args) => {
            let grant = &args.grant;
            let actor = administrator(db, &grant.as_user).await?;
            let org = organisation(db, &grant.org).await?;
            db.set_grant(grant.agreement, org, &grant.dataset, args.level, &actor).await.map_err(refusal)?;
            println!(
                "grant requested: agreement {}, organisation {org}, {} at {} level; no access until an administrator \
                 of the dataset's owner approves it",
                grant.agreement, grant.dataset, args.level
            );
            Ok(ExitCode::SUCCESS)
        }
        SharingCommand::Approve(args) => decide(db, args, true).await,
        SharingCommand::Refuse(args) => decide(db, args, false).await,
    }
}

async fn decide(db: &Db, args: GrantArgs, approve: bool) -> anyhow::Result<ExitCode> {
    let actor = administrator(db, &args.as_user).await?;
    let org = organisation(db, &args.org).await?;
    db.decide_grant(args.agreement, org, &args.dataset, approve, &actor).await.map_err(refusal)?;
    let decision = if approve { "approved" } else { "refused" };
    println!("grant {decision}: agreement {}, organisation {org}, {}", args.agreement, args.dataset);
    Ok(ExitCode::SUCCESS)
}

async fn list(db: &Db) -> anyhow::Result<ExitCode> {
    db.record_lapses().await?;
    let today = alliance_db::clock::today();
    for a in db.agreements().await? {
        println!("{}. {} [{}]", a.id, a.title, a.status_on(&today));
        println!(
            "   parties: {}; DPIA: {}; review date {}; end date {}",
            if a.parties.is_empty() { "none yet".to_string() } else { a.parties.join(", ") },
            if a.dpia_reference.is_empty() { "not recorded" } else { a.dpia_reference.as_str() },
            a.review_date,
            a.end_date.as_deref().unwrap_or("none"),
        );
        for g in &a.grants {
            let by = match &g.decided_by {
                Some(by) => format!("decided by {by}"),
                None => format!("requested by {}", g.requested_by),
            };
            println!("   - {}: {} at {} level, {} ({by})", g.org_name, g.dataset, g.level, g.shown_status());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The actor for `email`, refused unless it is an active administrator (the web's route
/// table admits only administrators to the data-sharing pages).
async fn administrator(db: &Db, email: &str) -> anyhow::Result<Actor> {
    check_length("as", "administrator's email", email, 320).map_err(refusal)?;
    let email = email.trim().to_lowercase();
    match db.user_by_email(&email).await? {
        Some(u) if u.active && u.role == Role::Administrator => Ok(Actor::new(format!("user:{}", u.email), "cli")),
        Some(_) => bail!("--as: {email} is not an active administrator"),
        None => bail!("--as: there is no user {email}"),
    }
}

/// An organisation by number or by name (any case).
async fn organisation(db: &Db, given: &str) -> anyhow::Result<i64> {
    check_length("org", "organisation", given, field_limits::TITLE).map_err(refusal)?;
    let organisations = db.organisations().await.context("cannot read the organisations")?;
    let given = given.trim();
    if let Ok(id) = given.parse::<i64>() {
        if organisations.iter().any(|o| o.id == id) {
            return Ok(id);
        }
    }
    match organisations.iter().find(|o| o.name.to_lowercase() == given.to_lowercase()) {
        Some(o) => Ok(o.id),
        None => bail!("--org: there is no organisation \"{given}\""),
    }
}

/// A refusal of the storage layer as the command's error, naming the option at fault.
fn refusal(e: DbError) -> anyhow::Error {
    match e {
        DbError::Invalid { field, reason } | DbError::Conflict { field, reason } => {
            let option = match field {
                "agreement_id" => "agreement",
                "org_id" => "org",
                "decision" => "as",
                other => other,
            };
            anyhow::anyhow!("--{option}: {reason}")
        }
        other => anyhow::Error::new(other),
    }
}
