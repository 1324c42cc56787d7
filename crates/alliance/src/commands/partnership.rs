//! `alliance partnership init|show|set`: the partnership this deployment serves.

use std::path::PathBuf;
use std::process::ExitCode;

use alliance_core::domain::{DistrictCode, ForceSlug};
use alliance_core::partnership::{self, CharterCommitment, Colour, Profile};
use alliance_db::audit::Actor;
use alliance_db::Db;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum PartnershipCommand {
    /// Set the partnership's profile on a database that has none, from a profile file or one
    /// of the shipped examples (`staffordshire`, `wiltshire-and-swindon`, `west-midlands`).
    Init(InitArgs),
    /// Print the profile as a profile file (JSON).
    Show,
    /// Change fields of the profile; the others keep their values.
    Set(SetArgs),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct InitArgs {
    /// A profile file (JSON; see data/partnerships/README.md).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// A shipped example profile by name.
    #[arg(long)]
    pub example: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub short_name: Option<String>,
    /// Local authority district codes, comma-separated (e.g. E06000054,E06000030).
    #[arg(long, value_delimiter = ',')]
    pub districts: Option<Vec<DistrictCode>>,
    /// Police forces as data.police.uk names them, comma-separated (e.g. wiltshire).
    #[arg(long, value_delimiter = ',', value_parser = parse_force)]
    pub forces: Option<Vec<ForceSlug>>,
    /// An empty value removes it.
    #[arg(long)]
    pub contact_email: Option<String>,
    /// An empty value removes it.
    #[arg(long)]
    pub contact_phone: Option<String>,
    #[arg(long)]
    pub colour: Option<Colour>,
    /// An empty value removes it.
    #[arg(long)]
    pub charter_name: Option<String>,
    /// The small-number suppression threshold (2 to 100; counts from 1 to this − 1 are never
    /// published below record level); an empty value returns to the default, 5.
    #[arg(long)]
    pub suppression_threshold: Option<String>,
    /// A commitment of the charter, as "TITLE: DESCRIPTION"; repeat it for each (at most 6):
    /// the list replaces the charter's commitments.
    #[arg(long = "charter-commitment", value_name = "TITLE: DESCRIPTION", value_parser = parse_commitment)]
    pub charter_commitments: Vec<CharterCommitment>,
}

fn parse_commitment(text: &str) -> Result<CharterCommitment, String> {
    match text.split_once(':') {
        Some((title, description)) if !title.trim().is_empty() && !description.trim().is_empty() => {
            Ok(CharterCommitment { title: title.trim().to_string(), description: description.trim().to_string() })
        }
        _ => Err("write a commitment as \"TITLE: DESCRIPTION\", like \"A safer environment: Creating a safer environment to reduce the risk of crime.\"".into()),
    }
}

fn parse_force(text: &str) -> Result<ForceSlug, String> {
    ForceSlug::try_from(text.trim().to_string())
}

pub async fn run(db: &Db, command: PartnershipCommand) -> anyhow::Result<ExitCode> {
    let actor = Actor::new(super::cli_user(), "cli");
    match command {
        PartnershipCommand::Init(args) => {
            let profile = match (args.file, args.example) {
                (Some(path), _) => {
                    let text =
                        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                    Profile::from_json(&text).with_context(|| format!("{}", path.display()))?
                }
                (None, Some(name)) => match partnership::example(&name) {
                    Some(profile) => profile.with_context(|| format!("the shipped example {name}"))?,
                    None => {
                        let names: Vec<&str> = partnership::EXAMPLES.iter().map(|(n, _)| *n).collect();
                        bail!("there is no example profile called \"{name}\": choose one of {}", names.join(", "))
                    }
                },
                (None, None) => bail!("give --file PATH or --example NAME"),
            };
            db.init_partnership(&profile, &actor).await?;
            println!("the partnership is now {} ({})", profile.name, profile.short_name);
        }
        PartnershipCommand::Show => match db.partnership().await? {
            Some(profile) => println!("{}", profile.to_json()),
            None => {
                eprintln!("no partnership is set up yet: run `alliance partnership init` or open the set-up page");
                return Ok(ExitCode::FAILURE);
            }
        },
        PartnershipCommand::Set(args) => {
            let Some(mut profile) = db.partnership().await? else {
                bail!("no partnership is set up yet: run `alliance partnership init` first");
            };
            let optional = |value: String| Some(value).filter(|v| !v.trim().is_empty());
            if let Some(v) = args.name {
                profile.name = v;
            }
            if let Some(v) = args.short_name {
                profile.short_name = v;
            }
            if let Some(v) = args.districts {
                profile.districts = v;
            }
            if let Some(v) = args.forces {
                profile.forces = v;
            }
            if let Some(v) = args.contact_email {
                profile.contact_email = optional(v);
            }
            if let Some(v) = args.contact_phone {
                profile.contact_phone = optional(v);
            }
            if let Some(v) = args.colour {
                profile.colour = v;
            }
            if let Some(v) = args.charter_name {
                profile.charter_name = optional(v);
            }
            if let Some(v) = args.suppression_threshold {
                profile.suppression_threshold = match v.trim() {
                    "" => None,
                    t => Some(t.parse::<u64>().map_err(|_| {
                        anyhow::anyhow!(
                            "--suppression-threshold: \"{}\" is not a whole number",
                            t.chars().take(20).collect::<String>()
                        )
                    })?),
                };
            }
            if !args.charter_commitments.is_empty() {
                profile.charter_commitments = args.charter_commitments;
            }
            let profile =
                profile.validated().map_err(|e| anyhow::anyhow!("--{}: {}", e.field.replace('_', "-"), e.reason))?;
            db.set_partnership(&profile, None, &actor).await?;
            println!("{}", profile.to_json());
        }
    }
    Ok(ExitCode::SUCCESS)
}
