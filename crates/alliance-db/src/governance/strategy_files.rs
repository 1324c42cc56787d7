//! Successive strategies: a strategy created on the web and built up priority by priority,
//! or imported whole from a strategy file (`alliance_ingest::strategy`), and any strategy
//! read back as a file's contents for export. The tables are the strategy's own (migration
//! 0007: `strategies`, `priorities`, `commitments`); [`Db::seed_strategy`] loads the demo
//! strategy through the same inserts.
//!
//! Which strategy the pages call current is [`current_first`]: the one whose years include
//! this year (the latest starting, when several do), else the latest starting.

use std::collections::HashMap;

use alliance_core::governance::{Direction, IndicatorSeed, IndicatorSource, PrioritySeed, StrategySeed};
use sqlx::{Any, Row, Transaction};

use super::indicators::{insert_indicator, NewIndicator};
use super::Strategy;
use crate::access::conflict_if_unique;
use crate::audit::Actor;
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::{Db, DbError};

/// Characters of a strategy's or a priority's name.
pub const MAX_NAME_CHARS: usize = 200;
/// Characters of an aim, a source or a description.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// What a strategy is created with on the web (its priorities are added after).
#[derive(Debug, Clone, Default)]
pub struct StrategyFields {
    pub name: String,
    pub period_start: String,
    pub period_end: String,
    pub aim: String,
    pub source: String,
}

/// What an import stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyImported {
    pub id: i64,
    pub name: String,
    pub priorities: usize,
    pub commitments: usize,
    /// Codes of the computed indicators added.
    pub indicators_added: Vec<String>,
    /// Codes of the file's computed indicators already held (left as they are: codes are
    /// the partnership's, shared by successive strategies).
    pub indicators_kept: Vec<String>,
}

/// `strategies` with the current one first: the one whose years include `year` (the latest
/// starting when several do), then the others, latest starting first (newest first on a tie).
pub fn current_first(mut strategies: Vec<Strategy>, year: i32) -> Vec<Strategy> {
    let covers = |s: &Strategy| {
        let (a, b) = (s.period_start.parse::<i32>().unwrap_or(0), s.period_end.parse::<i32>().unwrap_or(0));
        a <= year && year <= b
    };
    strategies.sort_by(|a, b| {
        covers(b).cmp(&covers(a)).then_with(|| b.period_start.cmp(&a.period_start)).then_with(|| b.id.cmp(&a.id))
    });
    strategies
}

pub(super) fn text<'a>(field: &'static str, value: &'a str, max: usize, missing: &str) -> Result<&'a str, DbError> {
    let value = value.trim();
    if value.is_empty() && !missing.is_empty() {
        return Err(DbError::invalid(field, missing));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(DbError::invalid(field, format!("Use {max} characters or fewer (this has {chars})")));
    }
    Ok(value)
}

fn year(field: &'static str, value: &str, label: &str) -> Result<i32, DbError> {
    let value = value.trim();
    match value.parse::<i32>() {
        Ok(y) if value.len() == 4 && (2000..=2100).contains(&y) => Ok(y),
        _ if value.is_empty() => Err(DbError::invalid(field, format!("Enter the {label} as a year, e.g. 2025"))),
        _ => Err(DbError::invalid(field, format!("The {label} must be a year with four digits, e.g. 2025"))),
    }
}

/// Checks a new strategy's fields; returns them trimmed.
fn checked(fields: &StrategyFields) -> Result<StrategyFields, DbError> {
    let name = text("name", &fields.name, MAX_NAME_CHARS, "Enter the strategy's name")?;
    let start = year("period_start", &fields.period_start, "first year")?;
    let end = year("period_end", &fields.period_end, "last year")?;
    if end < start {
        return Err(DbError::invalid(
            "period_end",
            format!("The last year ({end}) must not be before the first ({start})"),
        ));
    }
    let aim = text("aim", &fields.aim, MAX_TEXT_CHARS, "Enter the strategy's aim")?;
    let source = text("source", &fields.source, MAX_TEXT_CHARS, "")?;
    Ok(StrategyFields {
        name: name.into(),
        period_start: start.to_string(),
        period_end: end.to_string(),
        aim: aim.into(),
        source: source.into(),
    })
}

fn name_taken(name: &str) -> DbError {
    DbError::conflict(
        "name",
        format!(
            "A strategy called \"{name}\" is already held: give the new strategy another name (e.g. with its years)"
        ),
    )
}

/// Inserts the strategy row; a name already held is a [`DbError::Conflict`] on `name`
/// (checked first, and by the table's unique index when two arrive at once).
async fn insert_strategy_row(tx: &mut Transaction<'static, Any>, f: &StrategyFields) -> Result<i64, DbError> {
    let held = sqlx::query("SELECT id FROM strategies WHERE name = $1").bind(&f.name).fetch_optional(&mut **tx).await?;
    if held.is_some() {
        return Err(name_taken(&f.name));
    }
    let row = sqlx::query(
        "INSERT INTO strategies (name, period_start, period_end, aim, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&f.name)
    .bind(&f.period_start)
    .bind(&f.period_end)
    .bind(&f.aim)
    .bind(&f.source)
    .bind(now())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| conflict_if_unique(e, || name_taken(&f.name)))?;
    Ok(row.try_get(0)?)
}

/// Inserts a strategy with its priorities and commitments (the seed already checked).
pub(super) async fn insert_strategy(tx: &mut Transaction<'static, Any>, seed: &StrategySeed) -> Result<i64, DbError> {
    let fields = StrategyFields {
        name: seed.name.clone(),
        period_start: seed.period_start.clone(),
        period_end: seed.period_end.clone(),
        aim: seed.aim.clone(),
        source: seed.source.clone(),
    };
    let id = insert_strategy_row(tx, &fields).await?;
    for (i, p) in seed.priorities.iter().enumerate() {
        let pid: i64 = sqlx::query(
            "INSERT INTO priorities (strategy_id, position, name, description) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(id)
        .bind(i as i64 + 1)
        .bind(&p.name)
        .bind(&p.description)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        for (j, c) in p.commitments.iter().enumerate() {
            sqlx::query("INSERT INTO commitments (priority_id, position, text) VALUES ($1, $2, $3)")
                .bind(pid)
                .bind(j as i64 + 1)
                .bind(c)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(id)
}

/// Adds the seed's computed indicators whose codes are new, under the strategy's priorities
/// of the names they give; returns (codes added, codes already held).
pub(super) async fn add_computed_indicators(
    tx: &mut Transaction<'static, Any>,
    strategy_id: i64,
    seed: &StrategySeed,
) -> Result<(Vec<String>, Vec<String>), DbError> {
    let priorities: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT name, id FROM priorities WHERE strategy_id = $1")
            .bind(strategy_id)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
    let (mut added, mut kept) = (Vec::new(), Vec::new());
    for ind in &seed.computed_indicators {
        let exists =
            sqlx::query("SELECT id FROM indicators WHERE code = $1").bind(&ind.code).fetch_optional(&mut **tx).await?;
        if exists.is_some() {
            kept.push(ind.code.clone());
            continue;
        }
        let source = IndicatorSource::parse(&ind.source)
            .map_err(|e| DbError::invalid("source", format!("indicator {}: {e}", ind.code)))?;
        let direction: Direction =
            ind.direction.parse().map_err(|e| DbError::invalid("direction", format!("indicator {}: {e}", ind.code)))?;
        insert_indicator(
            tx,
            &NewIndicator {
                code: &ind.code,
                name: &ind.name,
                kind: &ind.kind,
                definition: &ind.definition,
                unit: &ind.unit,
                frequency: &ind.frequency,
                direction,
                baseline: None,
                baseline_period: None,
                target: None,
                tolerance: None,
                owner_org_id: None,
                priority_id: ind.priority.as_ref().and_then(|p| priorities.get(p).copied()),
                source,
            },
        )
        .await?;
        added.push(ind.code.clone());
    }
    Ok((added, kept))
}

impl Db {
    /// One strategy.
    pub async fn strategy(&self, id: i64) -> Result<Option<Strategy>, DbError> {
        Ok(sqlx::query_as("SELECT id, name, period_start, period_end, aim, source FROM strategies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The strategy the pages show and edit (see [`current_first`]), if any is held.
    pub async fn current_strategy(&self) -> Result<Option<Strategy>, DbError> {
        Ok(self.strategies().await?.into_iter().next())
    }

    /// Imports a checked strategy file (`alliance_ingest::strategy::parse`) as a new
    /// strategy: its priorities, commitments and the computed indicators whose codes are new,
    /// in one transaction with its audit row. A strategy of the same name already held is a
    /// [`DbError::Conflict`] on `name`, and nothing is stored.
    pub async fn import_strategy(
        &self,
        seed: &StrategySeed,
        file: &str,
        actor: &Actor,
    ) -> Result<StrategyImported, DbError> {
        let mut tx = self.begin_write().await?;
        let id = insert_strategy(&mut tx, seed).await?;
        let (indicators_added, indicators_kept) = add_computed_indicators(&mut tx, id, seed).await?;
        let commitments = seed.priorities.iter().map(|p| p.commitments.len()).sum();
        let detail = format!(
            "strategy {id} imported from {file}: {}: {} priorities, {commitments} commitments, {} computed indicators added{}",
            seed.name,
            seed.priorities.len(),
            indicators_added.len(),
            if indicators_kept.is_empty() { String::new() } else { format!(" ({} already held)", indicators_kept.len()) }
        );
        self.commit_governance(tx, actor, &format!("/strategies/{id}"), &detail).await?;
        tracing::info!(strategy_id = id, by = %actor.name, "strategy imported");
        Ok(StrategyImported {
            id,
            name: seed.name.clone(),
            priorities: seed.priorities.len(),
            commitments,
            indicators_added,
            indicators_kept,
        })
    }

    /// Creates a strategy with no priorities yet (they are added with [`Db::add_priority`]).
    /// The same form sent again (its `submission` key) creates nothing and returns the first
    /// one's id.
    pub async fn create_strategy(
        &self,
        fields: &StrategyFields,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let f = checked(fields)?;
        let key = submissions::key("strategy", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let id = insert_strategy_row(&mut tx, &f).await?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("strategy {id} created: {} ({}–{})", f.name, f.period_start, f.period_end);
        self.commit_governance(tx, actor, &format!("/strategies/{id}"), &detail).await?;
        Ok(id)
    }

    /// Adds a priority at the end of a strategy's list; a name the strategy already has is a
    /// [`DbError::Conflict`] on `name`. The same form sent again (its `submission` key) adds
    /// nothing and returns the first one's id, rather than that conflict.
    pub async fn add_priority(
        &self,
        strategy_id: i64,
        name: &str,
        description: &str,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let name = text("name", name, MAX_NAME_CHARS, "Enter the priority's name")?;
        let description = text("description", description, MAX_TEXT_CHARS, "")?;
        let key = submissions::key("priority", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        if sqlx::query("SELECT id FROM strategies WHERE id = $1")
            .bind(strategy_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(DbError::not_found(format!("strategy {strategy_id}")));
        }
        let taken = sqlx::query("SELECT id FROM priorities WHERE strategy_id = $1 AND LOWER(name) = LOWER($2)")
            .bind(strategy_id)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let conflict = || DbError::conflict("name", format!("The strategy already has a priority called \"{name}\""));
        if taken.is_some() {
            return Err(conflict());
        }
        let id: i64 = sqlx::query(
            "INSERT INTO priorities (strategy_id, position, name, description) \
             VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM priorities WHERE strategy_id = $1), $2, $3) \
             RETURNING id",
        )
        .bind(strategy_id)
        .bind(name)
        .bind(description)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_if_unique(e, conflict))?
        .try_get(0)?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("priority added to strategy {strategy_id}: \"{name}\"");
        self.commit_governance(tx, actor, &format!("/strategy/priorities/{id}"), &detail).await?;
        Ok(id)
    }

    /// A strategy as a strategy file holds it: its priorities and commitments in order, and
    /// the computed indicators under its priorities.
    pub async fn strategy_as_file(&self, id: i64) -> Result<StrategySeed, DbError> {
        let s = self.strategy(id).await?.ok_or_else(|| DbError::not_found(format!("strategy {id}")))?;
        let priorities = self.priorities(id).await?;
        let commitments = self.commitments(id).await?;
        let names: HashMap<i64, String> = priorities.iter().map(|p| (p.id, p.name.clone())).collect();
        let computed_indicators = self
            .indicators()
            .await?
            .into_iter()
            .filter(|i| i.source.is_computed())
            .filter_map(|i| {
                let priority = names.get(&i.priority_id?)?.clone();
                Some(IndicatorSeed {
                    code: i.code,
                    name: i.name,
                    kind: i.kind,
                    definition: i.definition,
                    unit: i.unit,
                    frequency: i.frequency,
                    direction: i.direction.as_str().to_string(),
                    priority: Some(priority),
                    source: i.source.as_string(),
                })
            })
            .collect();
        Ok(StrategySeed {
            name: s.name,
            period_start: s.period_start,
            period_end: s.period_end,
            source: s.source,
            aim: s.aim,
            priorities: priorities
                .iter()
                .map(|p| PrioritySeed {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    commitments: commitments.iter().filter(|c| c.priority_id == p.id).map(|c| c.text.clone()).collect(),
                })
                .collect(),
            computed_indicators,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, a: &str, b: &str) -> Strategy {
        Strategy {
            id,
            name: format!("S{id}"),
            period_start: a.into(),
            period_end: b.into(),
            aim: String::new(),
            source: String::new(),
        }
    }

    #[test]
    fn the_current_strategy_is_the_one_covering_the_year() {
        let all = vec![s(1, "2024", "2029"), s(2, "2030", "2034"), s(3, "2019", "2023")];
        let ids = |v: Vec<Strategy>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(current_first(all.clone(), 2026)), [1, 2, 3], "the one covering 2026, then by start");
        assert_eq!(ids(current_first(all.clone(), 2031)), [2, 1, 3]);
        assert_eq!(ids(current_first(all, 2040)), [2, 1, 3], "none covers: the latest starting");
        let tie = vec![s(4, "2024", "2029"), s(5, "2024", "2026")];
        assert_eq!(ids(current_first(tie, 2025)), [5, 4], "same start: the newest");
    }

    #[test]
    fn new_strategies_are_checked() {
        let good = StrategyFields {
            name: " A strategy ".into(),
            period_start: "2025".into(),
            period_end: "2030".into(),
            aim: "Less violence".into(),
            source: String::new(),
        };
        assert_eq!(checked(&good).unwrap().name, "A strategy");
        let bad = StrategyFields { period_end: "2020".into(), ..good.clone() };
        assert!(matches!(checked(&bad), Err(DbError::Invalid { field: "period_end", .. })));
        let bad = StrategyFields { period_start: "25".into(), ..good.clone() };
        assert!(matches!(checked(&bad), Err(DbError::Invalid { field: "period_start", .. })));
        let bad = StrategyFields { aim: " ".into(), ..good };
        assert!(matches!(checked(&bad), Err(DbError::Invalid { field: "aim", .. })));
    }
}
