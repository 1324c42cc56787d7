//! `alliance users add|invite|withdraw-invitation|list`: creating the first administrator (and others) from the
//! command line, or inviting someone by e-mail. The web's administrator pages manage the rest.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use alliance_core::access::{OrgType, Role};
use alliance_db::access::NewUser;
use alliance_db::audit::Actor;
use alliance_db::Db;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user (the organisation is created when missing). The password is read from
    /// standard input with --password-stdin, or asked for (not echoed) at a terminal.
    Add(AddArgs),
    /// Invite someone by e-mail: they choose their own password through a single-use link
    /// (7 days). Without an SMTP relay the link is printed, to hand over.
    Invite(InviteArgs),
    /// Withdraw the pending invitation to an address: its link stops working.
    WithdrawInvitation {
        /// The address the invitation was sent to.
        email: String,
    },
    /// List the users.
    List,
}

/// Who a new user is, added or invited.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// administrator, analyst, partner-user or board-member; board-member (the least rights)
    /// when not given.
    #[arg(long, default_value = "board-member")]
    pub role: Role,
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    #[command(flatten)]
    pub user: UserArgs,
    /// The user's organisation (it must exist).
    #[arg(long)]
    pub org: String,
    #[command(flatten)]
    pub mail: super::MailArgs,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub user: UserArgs,
    /// The user's organisation, e.g. "Example Borough Council" (created if Alliance has none of
    /// that name).
    #[arg(long)]
    pub org: String,
    /// The organisation's type, when it is created: police, council, health, education,
    /// probation, youth-justice, fire, voluntary-sector or pcc-office.
    #[arg(long, default_value = "pcc-office")]
    pub org_type: OrgType,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

pub async fn run(db: &Db, command: UsersCommand) -> anyhow::Result<ExitCode> {
    match command {
        UsersCommand::Add(args) => add(db, args).await,
        UsersCommand::Invite(args) => invite(db, args).await,
        UsersCommand::WithdrawInvitation { email } => {
            if !db.withdraw_invitation(&email, &super::cli_actor()).await? {
                bail!("no invitation to {email} is pending: it was accepted, withdrawn or expired");
            }
            println!("withdrew the invitation to {}: its link no longer works", email.trim().to_lowercase());
            Ok(ExitCode::SUCCESS)
        }
        UsersCommand::List => {
            for u in db.users().await? {
                let state = if !u.active {
                    " (deactivated)"
                } else if u.locked_until.is_some() {
                    " (locked)"
                } else {
                    ""
                };
                println!("{}\t{}\t{}\t{}{state}", u.email, u.name, u.role, u.org_name);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn add(db: &Db, args: AddArgs) -> anyhow::Result<ExitCode> {
    let user = &args.user;
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else if std::io::stdin().is_terminal() {
        let first = prompt("Password (at least 12 characters): ")?;
        let second = prompt("Password again: ")?;
        if first != second {
            bail!("the two passwords are different");
        }
        first
    } else {
        bail!("give --password-stdin to read the password from standard input");
    };
    alliance_app::password::check_new_password(&password).map_err(anyhow::Error::msg)?;
    let actor = Actor::new(super::cli_user(), "cli");
    let hash = alliance_app::password::hash(&password).await.map_err(anyhow::Error::msg)?;
    let new = NewUser { email: &user.email, name: &user.name, org_id: 0, role: user.role, password_hash: &hash };
    // An organisation not yet held is added with the user, in one transaction: a user that
    // is refused leaves no organisation behind.
    let id = match db.organisation_by_name(&args.org).await? {
        Some(org) => db.create_user(&NewUser { org_id: org.id, ..new }, &actor).await?,
        None => {
            let (_, id) = db.create_user_in_new_organisation(&new, &args.org, args.org_type, &actor).await?;
            println!("created the organisation \"{}\" ({})", args.org.trim(), args.org_type);
            id
        }
    };
    println!("added user {id}: {} ({}) at {}", user.email.trim().to_lowercase(), user.role, args.org.trim());
    Ok(ExitCode::SUCCESS)
}

async fn invite(db: &Db, args: InviteArgs) -> anyhow::Result<ExitCode> {
    let user = &args.user;
    let Some(org) = db.organisation_by_name(&args.org).await? else {
        bail!("--org: there is no organisation called \"{}\" (add it first)", args.org.trim());
    };
    let mut mailer = args.mail.mailer()?;
    mailer.base_url = args.mail.public_url.trim_end_matches('/').to_string();
    let partnership = db.partnership().await?.map_or_else(|| "Alliance".to_string(), |p| p.name);
    let invite =
        alliance_app::accounts::Invite { email: &user.email, name: &user.name, org_id: org.id, role: user.role };
    let actor = Actor::new(super::cli_user(), "cli");
    let invited = alliance_app::accounts::invite(db, &mailer, &partnership, &invite, &actor)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if invited.mailed() {
        println!(
            "invited {} as {}: the link was e-mailed (it works once, until {})",
            invited.email, user.role, invited.expires_at
        );
    } else {
        if let Err(e) = &invited.delivery {
            eprintln!("the invitation is stored but its e-mail could not be sent: {e}");
        }
        println!(
            "invited {} as {}; give them this link (it works once, until {}):",
            invited.email, user.role, invited.expires_at
        );
        println!("{}", invited.link);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a line from the terminal with echo off (through `stty`, where there is one).
fn prompt(label: &str) -> anyhow::Result<String> {
    print!("{label}");
    std::io::stdout().flush()?;
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let hidden = stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hidden {
        stty("echo");
        println!();
    }
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
