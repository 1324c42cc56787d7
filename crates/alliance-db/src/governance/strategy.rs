//! The strategy: its priorities and the commitments under each. The strategy has no history
//! table of its own (the action plan's history is about delivery): every change is kept in
//! the audit log, with the words before and after.

use alliance_core::governance::StrategySeed;
use serde::Serialize;
use sqlx::Row;

use super::strategy_files::{
    add_computed_indicators, current_first, insert_strategy, text as bounded, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use super::{audit, change, changes};
use crate::audit::Actor;
use crate::submissions::{self, Claim};
use crate::versions::{self, Versioned};
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
    /// Counts its changes: what its edit form names ([`crate::versions`]).
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Commitment {
    pub id: i64,
    pub priority_id: i64,
    pub position: i64,
    pub text: String,
    /// Counts its changes: what its edit form names ([`crate::versions`]).
    pub version: i64,
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
            None => (insert_strategy(&mut tx, seed).await?, true),
        };
        let indicators_added = add_computed_indicators(&mut tx, strategy_id, seed).await?.0.len();
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

    /// Every strategy, the current one first (the one whose years include this year; see
    /// `strategy_files::current_first`), then the latest starting.
    pub async fn strategies(&self) -> Result<Vec<Strategy>, DbError> {
        let all =
            sqlx::query_as("SELECT id, name, period_start, period_end, aim, source FROM strategies ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await?;
        Ok(current_first(all, chrono::Datelike::year(&crate::clock::today_date())))
    }

    /// The priorities of a strategy, in order.
    pub async fn priorities(&self, strategy_id: i64) -> Result<Vec<Priority>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, strategy_id, position, name, description, version FROM priorities WHERE strategy_id = $1 ORDER BY position, id",
        )
        .bind(strategy_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The commitments of a strategy, by priority then position.
    pub async fn commitments(&self, strategy_id: i64) -> Result<Vec<Commitment>, DbError> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.priority_id, c.position, c.text, c.version FROM commitments c JOIN priorities p ON p.id = c.priority_id \
             WHERE p.strategy_id = $1 ORDER BY p.position, c.position, c.id",
        )
        .bind(strategy_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Changes a priority's name and description; audited with the words before and after
    /// (nothing is recorded when nothing changed). `seen`: the version the form was opened on
    /// ([`crate::versions::claim`]).
    pub async fn update_priority(
        &self,
        id: i64,
        name: &str,
        description: &str,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let name = bounded("name", name, MAX_NAME_CHARS, "Enter the priority's name")?;
        let description = bounded("description", description, MAX_TEXT_CHARS, "")?;
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Priority, id, seen).await? {
            return Err(DbError::not_found(format!("priority {id}")));
        }
        let old = priority_in(&mut tx, id).await?;
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

    /// Changes a commitment's words; audited with the words before and after. `seen`: the
    /// version the form was opened on ([`crate::versions::claim`]).
    pub async fn update_commitment(
        &self,
        id: i64,
        text: &str,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let text = bounded("text", text, MAX_TEXT_CHARS, "Enter the commitment's words")?;
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Commitment, id, seen).await? {
            return Err(DbError::not_found(format!("commitment {id}")));
        }
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

    /// Adds a commitment at the end of a priority's list. The same form sent again (its
    /// `submission` key) adds nothing and returns the first one's id.
    pub async fn add_commitment(
        &self,
        priority_id: i64,
        text: &str,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let text = bounded("text", text, MAX_TEXT_CHARS, "Enter the commitment's words")?;
        let key = submissions::key("commitment", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
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
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("commitment added: \"{text}\"");
        self.commit_governance(tx, actor, &format!("/strategy/commitments/{id}"), &detail).await?;
        Ok(id)
    }
    /// Deletes a commitment. Refused (a [`DbError::Conflict`] on `commitment`, nothing
    /// changed) while an action of the action plan is under it: the action would lose the
    /// commitment it delivers. Audited with the words deleted.
    pub async fn delete_commitment(&self, id: i64, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let (priority_id, text): (i64, String) =
            sqlx::query_as("SELECT priority_id, text FROM commitments WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| DbError::not_found(format!("commitment {id}")))?;
        let actions = actions_under(&mut tx, "a.commitment_id = $1", id).await?;
        if !actions.is_empty() {
            return Err(DbError::conflict(
                "commitment",
                format!(
                    "This commitment cannot be deleted while {} of the action plan refer to it ({}): move or delete them first",
                    plural(actions.len(), "action"),
                    actions.join(", ")
                ),
            ));
        }
        sqlx::query("DELETE FROM commitments WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let detail = format!("commitment deleted from priority {priority_id}: \"{text}\"");
        self.commit_governance(tx, actor, &format!("/strategy/commitments/{id}"), &detail).await?;
        Ok(())
    }

    /// Deletes a priority with its commitments. Refused (a [`DbError::Conflict`] on
    /// `priority`, nothing changed) while an action is under one of its commitments, or an
    /// indicator or an intervention names the priority. Audited with what was deleted.
    pub async fn delete_priority(&self, id: i64, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let old = priority_in(&mut tx, id).await?;
        let actions =
            actions_under(&mut tx, "a.commitment_id IN (SELECT c.id FROM commitments c WHERE c.priority_id = $1)", id)
                .await?;
        let indicators: Vec<String> =
            sqlx::query_scalar("SELECT code FROM indicators WHERE priority_id = $1 ORDER BY code")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let interventions: Vec<String> =
            sqlx::query_scalar("SELECT name FROM interventions WHERE strategy_priority_id = $1 ORDER BY name")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let mut uses = Vec::new();
        if !actions.is_empty() {
            uses.push(format!("{} of the action plan ({})", plural(actions.len(), "action"), actions.join(", ")));
        }
        if !indicators.is_empty() {
            uses.push(format!("{} ({})", plural(indicators.len(), "indicator"), indicators.join(", ")));
        }
        if !interventions.is_empty() {
            uses.push(format!("{} ({})", plural(interventions.len(), "intervention"), interventions.join(", ")));
        }
        if !uses.is_empty() {
            return Err(DbError::conflict(
                "priority",
                format!(
                    "The priority \"{}\" cannot be deleted while {} refer to it: move or delete them first",
                    old.name,
                    uses.join(" and ")
                ),
            ));
        }
        let deleted = sqlx::query("DELETE FROM commitments WHERE priority_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM priorities WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let detail = format!(
            "priority deleted from strategy {}: \"{}\" with {}",
            old.strategy_id,
            old.name,
            plural(deleted.rows_affected() as usize, "commitment")
        );
        self.commit_governance(tx, actor, &format!("/strategy/priorities/{id}"), &detail).await?;
        Ok(())
    }
}

/// `1 action`, `2 actions`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The references (`A-3 Title`) of the actions matching `condition` on `$1 = id`, at most 20.
async fn actions_under(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    condition: &str,
    id: i64,
) -> Result<Vec<String>, DbError> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as(&format!("SELECT a.id, a.title FROM actions a WHERE {condition} ORDER BY a.id"))
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
    let mut out: Vec<String> = rows.iter().take(20).map(|(aid, title)| format!("action {aid} \"{title}\"")).collect();
    if rows.len() > 20 {
        out.push(format!("and {} more", rows.len() - 20));
    }
    Ok(out)
}

/// A priority read inside the transaction that changes it; `NotFound` when there is none.
async fn priority_in(tx: &mut sqlx::Transaction<'static, sqlx::Any>, id: i64) -> Result<Priority, DbError> {
    sqlx::query_as("SELECT id, strategy_id, position, name, description, version FROM priorities WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| DbError::not_found(format!("priority {id}")))
}
