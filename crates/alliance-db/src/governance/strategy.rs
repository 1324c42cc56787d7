//! The strategy: its priorities and the commitments under each. The strategy has no history
//! table of its own (the action plan's history is about delivery): every change is kept in
//! the audit log, with the words before and after.

use std::collections::HashMap;

use alliance_core::governance::{Direction, IndicatorSource, StrategySeed};
use serde::Serialize;
use sqlx::Row;

use super::indicators::{insert_indicator, NewIndicator};
use super::{audit, change, changes, now, required};
use crate::audit::Actor;
use crate::{Db, DbError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Strategy {
    pub id: i64,
    pub name: String,
    pub period_start: String,
    pub period_end: String,
    pub aim: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Priority {
    pub id: i64,
    pub strategy_id: i64,
    pub position: i64,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Commitment {
    pub id: i64,
    pub priority_id: i64,
    pub position: i64,
    pub text: String,
}

impl Db {
    /// Loads a strategy from its seed unless one of that name exists; adds the seed's
    /// computed indicators whose codes are new. Returns the strategy id and whether it was
    /// created. One transaction, with its audit row when it stored anything (the command line
    /// and the demo load it, as `cli:<login>`).
    pub async fn seed_strategy(&self, seed: &StrategySeed, actor: &Actor) -> Result<(i64, bool), DbError> {
        let mut tx = self.begin_write().await?;
        let existing =
            sqlx::query("SELECT id FROM strategies WHERE name = $1").bind(&seed.name).fetch_optional(&mut *tx).await?;
        let (strategy_id, created) = match existing {
            Some(r) => (r.try_get::<i64, _>(0)?, false),
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO strategies (name, period_start, period_end, aim, source, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&seed.name)
                .bind(&seed.period_start)
                .bind(&seed.period_end)
                .bind(&seed.aim)
                .bind(&seed.source)
                .bind(now())
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                for (i, p) in seed.priorities.iter().enumerate() {
                    let pid: i64 = sqlx::query(
                        "INSERT INTO priorities (strategy_id, position, name, description) VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(id)
                    .bind(i as i64 + 1)
                    .bind(&p.name)
                    .bind(&p.description)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                    for (j, c) in p.commitments.iter().enumerate() {
                        sqlx::query("INSERT INTO commitments (priority_id, position, text) VALUES ($1, $2, $3)")
                            .bind(pid)
                            .bind(j as i64 + 1)
                            .bind(c)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                (id, true)
            }
        };
        let priorities: HashMap<String, i64> =
            sqlx::query_as::<_, (String, i64)>("SELECT name, id FROM priorities WHERE strategy_id = $1")
                .bind(strategy_id)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        let mut indicators_added = 0;
        for ind in &seed.computed_indicators {
            let exists = sqlx::query("SELECT id FROM indicators WHERE code = $1")
                .bind(&ind.code)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if exists {
                continue;
            }
            let source = IndicatorSource::parse(&ind.source)
                .map_err(|e| DbError::invalid("source", format!("indicator {}: {e}", ind.code)))?;
            let direction: Direction = ind
                .direction
                .parse()
                .map_err(|e| DbError::invalid("direction", format!("indicator {}: {e}", ind.code)))?;
            insert_indicator(
                &mut tx,
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
            indicators_added += 1;
        }
        if created || indicators_added > 0 {
            let commitments: usize = seed.priorities.iter().map(|p| p.commitments.len()).sum();
            let loaded = if created {
                format!("{} priorities and {commitments} commitments loaded; ", seed.priorities.len())
            } else {
                String::new()
            };
            let detail = format!(
                "strategy {strategy_id} seeded: {}: {loaded}{indicators_added} computed indicators added",
                seed.name
            );
            audit(&mut tx, self.audit_chain(), actor, "/strategy", &detail).await?;
        }
        tx.commit().await?;
        tracing::info!(strategy_id, created, by = %actor.name, "strategy seeded");
        Ok((strategy_id, created))
    }

    /// Every strategy, newest first.
    pub async fn strategies(&self) -> Result<Vec<Strategy>, DbError> {
        Ok(sqlx::query_as("SELECT id, name, period_start, period_end, aim, source FROM strategies ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await?)
    }

    /// The priorities of a strategy, in order.
    pub async fn priorities(&self, strategy_id: i64) -> Result<Vec<Priority>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, strategy_id, position, name, description FROM priorities WHERE strategy_id = $1 ORDER BY position, id",
        )
        .bind(strategy_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The commitments of a strategy, by priority then position.
    pub async fn commitments(&self, strategy_id: i64) -> Result<Vec<Commitment>, DbError> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.priority_id, c.position, c.text FROM commitments c JOIN priorities p ON p.id = c.priority_id \
             WHERE p.strategy_id = $1 ORDER BY p.position, c.position, c.id",
        )
        .bind(strategy_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Changes a priority's name and description; audited with the words before and after
    /// (nothing is recorded when nothing changed).
    pub async fn update_priority(&self, id: i64, name: &str, description: &str, actor: &Actor) -> Result<(), DbError> {
        let name = required("name", name, "Enter the priority's name")?;
        let mut tx = self.begin_write().await?;
        let old: Priority =
            sqlx::query_as("SELECT id, strategy_id, position, name, description FROM priorities WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| DbError::not_found(format!("priority {id}")))?;
        sqlx::query("UPDATE priorities SET name = $1, description = $2 WHERE id = $3")
            .bind(name)
            .bind(description.trim())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let changed = changes([change("name", &old.name, name), change("description", &old.description, description)]);
        if let Some(changed) = changed {
            let detail = format!("priority {}: {changed}", old.position);
            audit(&mut tx, self.audit_chain(), actor, &format!("/strategy/priorities/{id}"), &detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes a commitment's words; audited with the words before and after.
    pub async fn update_commitment(&self, id: i64, text: &str, actor: &Actor) -> Result<(), DbError> {
        let text = required("text", text, "Enter the commitment's words")?;
        let mut tx = self.begin_write().await?;
        let old: String = sqlx::query("SELECT text FROM commitments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::not_found(format!("commitment {id}")))?
            .try_get(0)?;
        sqlx::query("UPDATE commitments SET text = $1 WHERE id = $2").bind(text).bind(id).execute(&mut *tx).await?;
        if let Some(detail) = change("commitment", &old, text) {
            audit(&mut tx, self.audit_chain(), actor, &format!("/strategy/commitments/{id}"), &detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a commitment at the end of a priority's list.
    pub async fn add_commitment(&self, priority_id: i64, text: &str, actor: &Actor) -> Result<i64, DbError> {
        let text = required("text", text, "Enter the commitment's words")?;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM priorities WHERE id = $1").bind(priority_id).fetch_optional(&mut *tx);
        if exists.await?.is_none() {
            return Err(DbError::invalid("priority", "Select the priority the commitment comes under"));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO commitments (priority_id, position, text) \
             VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM commitments WHERE priority_id = $1), $2) RETURNING id",
        )
        .bind(priority_id)
        .bind(text)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let detail = format!("commitment added: \"{text}\"");
        audit(&mut tx, self.audit_chain(), actor, &format!("/strategy/commitments/{id}"), &detail).await?;
        tx.commit().await?;
        Ok(id)
    }
}
