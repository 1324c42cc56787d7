//! The partnership's strategy as shipped with Alliance (`data/seed/strategy-2024-2029.json`,
//! typed from the Staffordshire and Stoke-on-Trent Violence Reduction Strategy 2024–2029) and
//! the computed indicators defined with it.

use alliance_core::governance::StrategySeed;
use alliance_db::{Db, DbError};

/// The seed file, compiled in.
pub const STRATEGY_SEED_JSON: &str = include_str!("../../../data/seed/strategy-2024-2029.json");

/// The parsed seed.
pub fn strategy_seed() -> Result<StrategySeed, DbError> {
    serde_json::from_str(STRATEGY_SEED_JSON)
        .map_err(|e| DbError::invalid("strategy", format!("data/seed/strategy-2024-2029.json: line {}: {e}", e.line())))
}

/// Loads the strategy unless already there; returns its id and whether it was created.
/// `by` is recorded in the audit log as the actor, from the command line (`cli`).
pub async fn seed_strategy(db: &Db, by: &str) -> Result<(i64, bool), DbError> {
    db.seed_strategy(&strategy_seed()?, &alliance_db::audit::Actor::new(by, "cli")).await
}
