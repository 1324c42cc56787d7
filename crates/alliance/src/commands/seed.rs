//! `alliance seed strategy`: loads the partnership's strategy (priorities and commitments)
//! and the computed indicators defined with it.

use std::process::ExitCode;

use alliance_db::Db;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// The Violence Reduction Strategy 2024–2029: priorities, commitments, computed indicators.
    Strategy,
}

pub async fn run(db: &Db, command: SeedCommand) -> anyhow::Result<ExitCode> {
    match command {
        SeedCommand::Strategy => {
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
