//! The demo partnership's strategy as shipped with Alliance, a strategy file like any other
//! (`data/strategies/staffordshire-and-stoke-on-trent-2024-2029.json`, typed from the
//! Staffordshire and Stoke-on-Trent Violence Reduction Strategy 2024–2029, format
//! `docs/formats/strategy.md`), with the computed indicators defined with it. `serve --demo`
//! and `alliance seed strategy` import it through the same parser as `alliance strategy import`.

use alliance_core::governance::StrategySeed;
use alliance_db::{Db, DbError};

/// The file's name, as messages name it.
pub const STRATEGY_FILE: &str = "staffordshire-and-stoke-on-trent-2024-2029.json";

/// The demo strategy file, compiled in.
pub const STRATEGY_SEED_JSON: &str =
    include_str!("../../../data/strategies/staffordshire-and-stoke-on-trent-2024-2029.json");

/// The parsed and checked file.
pub fn strategy_seed() -> Result<StrategySeed, DbError> {
    Ok(alliance_ingest::strategy::parse_text(STRATEGY_FILE, STRATEGY_SEED_JSON)?)
}

/// Loads the strategy unless already there; returns its id and whether it was created.
/// `by` is recorded in the audit log as the actor, from the command line (`cli`).
pub async fn seed_strategy(db: &Db, by: &str) -> Result<(i64, bool), DbError> {
    db.seed_strategy(&strategy_seed()?, &alliance_db::audit::Actor::new(by, "cli")).await
}
