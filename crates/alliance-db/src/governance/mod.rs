//! Governance and performance storage, by area: the strategy ([`strategy`]), the action plan
//! with its append-only history ([`actions`]), indicators and their values, entered or
//! computed from imported police data ([`indicators`]), funding ([`funding`]) and meetings
//! ([`meetings`]). Rules (status, trend, spend flags, escalation) live in
//! `alliance_core::governance`; this module stores and fetches.
//!
//! Every change takes the [`Actor`] who makes it and writes its audit row
//! (`governance-change`, the page it was made on as the target, what changed as the detail)
//! in the change's own transaction: a change is stored with its audit row or not at all.
//! Input that breaks a rule is [`DbError::Invalid`] naming the field (or
//! [`DbError::Conflict`], [`DbError::NotFound`]) and changes nothing.

mod actions;
mod computed;
mod funding;
mod indicators;
mod meetings;
mod strategy;
mod strategy_files;

pub use actions::{Action, ActionEscalation, ActionFields, ActionUpdate, HistoryEntry, Milestone};
pub use computed::EdFigure;
pub use funding::{Allocation, FundingAmount, FundingStream, Spend};
pub use indicators::{Indicator, IndicatorValue, NewIndicator, PoliceFigure};
pub use meetings::{Attendee, Meeting, MeetingItem};
pub use strategy::{Commitment, Priority, Strategy};
pub use strategy_files::{current_first, StrategyFields, StrategyImported};

use sqlx::AnyConnection;

use crate::audit::{append, Actor, AuditChain};
use crate::{Db, DbError};

/// The audit action of every governance change.
pub const GOVERNANCE_CHANGE: &str = "governance-change";

/// A double bound as text (cast in SQL) so NULLs work on PostgreSQL through `Any`.
fn num(v: Option<f64>) -> Option<String> {
    v.map(|x| format!("{x:?}"))
}

/// Checks a `YYYY-MM-DD` date (strictly: no 31 February).
pub fn check_date(field: &'static str, s: &str) -> Result<String, DbError> {
    let s = s.trim();
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|_| s.to_string())
        .map_err(|_| DbError::invalid(field, format!("\"{s}\" is not a date: expected YYYY-MM-DD, e.g. 2025-09-30")))
}

fn opt_date(field: &'static str, s: Option<&str>) -> Result<Option<String>, DbError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(check_date(field, s)?)),
        None => Ok(None),
    }
}

/// Text that must not be empty, trimmed; `reason` when it is.
fn required<'a>(field: &'static str, text: &'a str, reason: &str) -> Result<&'a str, DbError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DbError::invalid(field, reason));
    }
    Ok(text)
}

/// Appends the audit row of a governance change to the change's transaction.
async fn audit(
    tx: &mut AnyConnection,
    chain: &AuditChain,
    actor: &Actor,
    target: &str,
    detail: &str,
) -> Result<(), DbError> {
    append(tx, chain, &actor.event(GOVERNANCE_CHANGE, target, detail)).await?;
    Ok(())
}

impl Db {
    /// Commits a governance change with its audit row (see [`Db::commit_audited`]).
    async fn commit_governance(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Any>,
        actor: &Actor,
        target: &str,
        detail: &str,
    ) -> Result<(), DbError> {
        self.commit_audited(tx, &actor.event(GOVERNANCE_CHANGE, target, detail)).await
    }
}

/// `field changed from "old" to "new"`, or `None` when unchanged (compared trimmed).
fn change(field: &str, old: &str, new: &str) -> Option<String> {
    (old.trim() != new.trim()).then(|| format!("{field} changed from \"{}\" to \"{}\"", old.trim(), new.trim()))
}

/// The changes that happened, `; `-separated, or `None` when nothing changed.
fn changes(list: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let all: Vec<String> = list.into_iter().flatten().collect();
    (!all.is_empty()).then(|| all.join("; "))
}
