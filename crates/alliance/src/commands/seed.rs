//! `alliance seed strategy`: loads the partnership's strategy (priorities and commitments)
//! and the computed indicators defined with it.

use std::process::ExitCode;

use alliance_db::Db;
use clap::Subcommand;

/// A district of the partnership whose strategy is bundled (Stoke-on-Trent): a profile without
/// it is another partnership's.
const BUNDLED_STRATEGY_DISTRICT: &str = "E06000021";

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Staffordshire and Stoke-on-Trent's Violence Reduction Strategy 2024–2029 (bundled):
    /// priorities, commitments, computed indicators. Another partnership loads its own with
    /// `alliance strategy import FILE`.
    Strategy {
        /// Load it even though this database's partnership is another one, as an example.
        #[arg(long)]
        example: bool,
    },
}

pub async fn run(db: &Db, command: SeedCommand) -> anyhow::Result<ExitCode> {
    match command {
        SeedCommand::Strategy { example } => {
            if let (false, Some(profile)) = (example, db.partnership().await?) {
                if !profile.districts.iter().any(|d| d.as_str() == BUNDLED_STRATEGY_DISTRICT) {
                    anyhow::bail!(
                        "the bundled strategy is Staffordshire and Stoke-on-Trent's, and this database's partnership \
                         is {}: load your own with `alliance strategy import FILE`, or add --example to load this \
                         one as an example",
                        profile.name
                    );
                }
            }
            let seed = crate::governance::strategy_seed()?;
            let (id, created) =
                db.seed_strategy(&seed, &alliance_db::audit::Actor::new(super::cli_user(), "cli")).await?;
            let commitments: usize = seed.priorities.iter().map(|p| p.commitments.len()).sum();
            if created {
                println!(
                    "loaded strategy {id}: {} ({} priorities, {commitments} commitments)",
                    seed.name,
                    seed.priorities.len()
                );
            } else {
                println!("strategy {id} is already loaded: {}", seed.name);
            }
            println!("computed indicators defined: {}", seed.computed_indicators.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}
