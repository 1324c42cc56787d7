//! Funding: streams and their amount in each financial year, allocations from a stream to an
//! organisation or intervention, and the spend recorded against each in each quarter. Every
//! change is audited with the values it replaced; an allocation that takes its stream over
//! the year's amount is accepted, and its audit row says so with the figures.

use alliance_core::format::money;
use alliance_core::governance::{is_over_allocated, FinancialYear, Quarter};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::{audit, change, changes, required};
use crate::audit::Actor;
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::versions::{self, Versioned};
use crate::{Db, DbError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FundingStream {
    pub id: i64,
    pub name: String,
    pub funder: String,
    /// Counts its changes: what its edit form names ([`crate::versions`]).
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FundingAmount {
    pub stream_id: i64,
    pub financial_year: String,
    pub amount_pence: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Allocation {
    pub id: i64,
    pub stream_id: i64,
    pub financial_year: String,
    pub org_id: Option<i64>,
    pub org: Option<String>,
    pub intervention_id: Option<i64>,
    pub purpose: String,
    pub amount_pence: i64,
    /// Counts its changes: what its edit form names ([`crate::versions`]).
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Spend {
    pub allocation_id: i64,
    pub quarter: String,
    pub amount_pence: i64,
    pub evaluation_pence: i64,
}

const ALLOCATION_SELECT: &str = "SELECT f.id AS id, f.stream_id AS stream_id, f.financial_year AS financial_year, \
     f.org_id AS org_id, o.name AS org, f.intervention_id AS intervention_id, f.purpose AS purpose, \
     f.amount_pence AS amount_pence, f.version AS version FROM funding_allocations f LEFT JOIN organisations o ON o.id = f.org_id";

fn financial_year(field: &'static str, fy: &str) -> Result<FinancialYear, DbError> {
    fy.parse().map_err(|e: String| DbError::invalid(field, e))
}

/// The checked terms of an allocation: its purpose, trimmed.
fn check_allocation(
    org_id: Option<i64>,
    intervention_id: Option<i64>,
    purpose: &str,
    pence: i64,
) -> Result<&str, DbError> {
    if pence < 0 {
        return Err(DbError::invalid("amount", "An allocation cannot be negative"));
    }
    let purpose = required("purpose", purpose, "Enter what the money is for")?;
    if org_id.is_none() && intervention_id.is_none() {
        return Err(DbError::invalid("org", "Select the organisation or the intervention the money is allocated to"));
    }
    Ok(purpose)
}

async fn stream_name(tx: &mut AnyConnection, id: i64) -> Result<String, DbError> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM funding_streams WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    name.ok_or_else(|| DbError::invalid("stream", "Select a funding stream from the list"))
}

async fn allocation_in(tx: &mut AnyConnection, id: i64) -> Result<Option<Allocation>, DbError> {
    Ok(sqlx::query_as(&format!("{ALLOCATION_SELECT} WHERE f.id = $1")).bind(id).fetch_optional(&mut *tx).await?)
}

/// "Staffordshire Police and intervention Navigators": who an allocation goes to, as the
/// audit log says it.
async fn recipient(
    tx: &mut AnyConnection,
    org_id: Option<i64>,
    intervention_id: Option<i64>,
) -> Result<String, DbError> {
    let mut to = Vec::new();
    if let Some(id) = org_id {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        to.push(name.ok_or_else(|| DbError::invalid("org", "Select an organisation from the list, or none"))?);
    }
    if let Some(id) = intervention_id {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM interventions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let name =
            name.ok_or_else(|| DbError::invalid("intervention", "Select an intervention from the list, or none"))?;
        to.push(format!("intervention {name}"));
    }
    Ok(to.join(" and "))
}

/// What the audit row adds when the stream is over-allocated in `fy`, as stored in the
/// transaction now (nothing when it is not).
async fn over_note(tx: &mut AnyConnection, stream_id: i64, fy: &str) -> Result<String, DbError> {
    let amount: Option<i64> =
        sqlx::query_scalar("SELECT amount_pence FROM funding_amounts WHERE stream_id = $1 AND financial_year = $2")
            .bind(stream_id)
            .bind(fy)
            .fetch_optional(&mut *tx)
            .await?;
    let allocated: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_pence), 0) AS BIGINT) FROM funding_allocations \
         WHERE stream_id = $1 AND financial_year = $2",
    )
    .bind(stream_id)
    .bind(fy)
    .fetch_one(&mut *tx)
    .await?;
    let amount = amount.unwrap_or(0);
    Ok(if is_over_allocated(amount, allocated) {
        format!(
            "; the stream is now over-allocated: {} allocated against {}, {} over",
            money(allocated),
            money(amount),
            money(allocated - amount)
        )
    } else {
        String::new()
    })
}

impl Db {
    /// Adds a funding stream (a name already used, in any case, is a `Conflict` on `name`).
    /// Without a form's key (tests, benches); a form calls
    /// [`Db::create_funding_stream_keyed`].
    pub async fn create_funding_stream(&self, name: &str, funder: &str, actor: &Actor) -> Result<i64, DbError> {
        self.create_funding_stream_keyed(name, funder, None, actor).await
    }

    /// [`Db::create_funding_stream`] from a form: the same form sent again (its `submission`
    /// key) adds nothing and returns the first one's id, rather than refusing the name the
    /// first one took.
    pub async fn create_funding_stream_keyed(
        &self,
        name: &str,
        funder: &str,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let name = required("name", name, "Enter the name of the funding stream")?;
        let funder = required("funder", funder, "Enter who provides the money, like Home Office")?;
        let key = submissions::key("funding-stream", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let taken = sqlx::query("SELECT id FROM funding_streams WHERE LOWER(name) = LOWER($1)")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(DbError::conflict("name", format!("There is already a funding stream called \"{name}\"")));
        }
        let id: i64 =
            sqlx::query("INSERT INTO funding_streams (name, funder, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(name)
                .bind(funder)
                .bind(now())
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let detail = format!("funding stream {id} added: {name} ({funder})");
        submissions::record(&mut tx, key.as_deref(), id).await?;
        self.commit_governance(tx, actor, "/funding", &detail).await?;
        Ok(id)
    }

    /// Sets (or replaces) a stream's amount for a financial year; the audit row keeps the
    /// amount it replaced.
    pub async fn set_funding_amount(&self, stream_id: i64, fy: &str, pence: i64, actor: &Actor) -> Result<(), DbError> {
        let fy = financial_year("financial_year", fy)?.to_string();
        if pence < 0 {
            return Err(DbError::invalid("amount", "A funding amount cannot be negative"));
        }
        let mut tx = self.begin_write().await?;
        let name = stream_name(&mut tx, stream_id).await?;
        let before: Option<i64> =
            sqlx::query_scalar("SELECT amount_pence FROM funding_amounts WHERE stream_id = $1 AND financial_year = $2")
                .bind(stream_id)
                .bind(&fy)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO funding_amounts (stream_id, financial_year, amount_pence) VALUES ($1, $2, $3) \
             ON CONFLICT (stream_id, financial_year) DO UPDATE SET amount_pence = EXCLUDED.amount_pence",
        )
        .bind(stream_id)
        .bind(&fy)
        .bind(pence)
        .execute(&mut *tx)
        .await?;
        let was = before.map(|b| format!(" (was {})", money(b))).unwrap_or_default();
        let detail = format!("amount of {name} for {fy}: {}{was}", money(pence));
        self.commit_governance(tx, actor, "/funding", &detail).await?;
        Ok(())
    }

    /// Allocates money from a stream in a financial year to an organisation, an
    /// intervention or both. Taking the stream over its amount is allowed (budgets are
    /// committed before a top-up arrives) and said in the audit row. The same form sent again
    /// (its `submission` key) allocates nothing more and returns the first one's id.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_allocation(
        &self,
        stream_id: i64,
        fy: &str,
        org_id: Option<i64>,
        intervention_id: Option<i64>,
        purpose: &str,
        pence: i64,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let fy = financial_year("financial_year", fy)?.to_string();
        let purpose = check_allocation(org_id, intervention_id, purpose, pence)?;
        let key = submissions::key("allocation", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let stream = stream_name(&mut tx, stream_id).await?;
        let to = recipient(&mut tx, org_id, intervention_id).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO funding_allocations (stream_id, financial_year, org_id, intervention_id, purpose, amount_pence, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(stream_id)
        .bind(&fy)
        .bind(org_id)
        .bind(intervention_id)
        .bind(purpose)
        .bind(pence)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let over = over_note(&mut tx, stream_id, &fy).await?;
        let detail = format!("allocation {id} added: {} of {stream} {fy} to {to} for {purpose}{over}", money(pence));
        submissions::record(&mut tx, key.as_deref(), id).await?;
        self.commit_governance(tx, actor, "/funding", &detail).await?;
        Ok(id)
    }

    /// Records (or corrects) the spend of an allocation in a quarter.
    pub async fn record_spend(
        &self,
        allocation_id: i64,
        quarter: &str,
        pence: i64,
        evaluation_pence: i64,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let q: Quarter = quarter.parse().map_err(|e: String| DbError::invalid("quarter", e))?;
        if pence < 0 || evaluation_pence < 0 {
            return Err(DbError::invalid("amount", "Spend cannot be negative"));
        }
        if evaluation_pence > pence {
            return Err(DbError::invalid(
                "evaluation",
                "Evaluation spend is part of the spend, so cannot be more than it",
            ));
        }
        let mut tx = self.begin_write().await?;
        let Some(allocation) = allocation_in(&mut tx, allocation_id).await? else {
            return Err(DbError::invalid("allocation", "Select an allocation from the list"));
        };
        // An allocation is money for one financial year: spend in a quarter of another year
        // was counted in no total and flagged nowhere.
        if q.financial_year().to_string() != allocation.financial_year {
            return Err(DbError::invalid(
                "quarter",
                format!(
                    "{} is in {}, but this allocation is for {}: record the spend in one of its quarters ({})",
                    q.financial_label(),
                    q.financial_year(),
                    allocation.financial_year,
                    allocation
                        .financial_year
                        .parse::<alliance_core::governance::FinancialYear>()
                        .map(|fy| fy.quarters().map(|q| q.financial_label()).join(", "))
                        .unwrap_or_default()
                ),
            ));
        }
        sqlx::query(
            "INSERT INTO funding_spend (allocation_id, quarter, amount_pence, evaluation_pence, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (allocation_id, quarter) DO UPDATE SET amount_pence = EXCLUDED.amount_pence, \
             evaluation_pence = EXCLUDED.evaluation_pence, recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at",
        )
        .bind(allocation_id)
        .bind(q.to_string())
        .bind(pence)
        .bind(evaluation_pence)
        .bind(&actor.name)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "spend recorded for allocation {allocation_id} in {q}: {pence} pence, {evaluation_pence} on evaluation"
        );
        self.commit_governance(tx, actor, "/funding", &detail).await?;
        Ok(())
    }

    /// Changes a funding stream's name and funder; `false` when there is no such stream. The
    /// name stays unique (ignoring case) among the streams. `seen`: the version the form was
    /// opened on ([`crate::versions::claim`]).
    pub async fn update_funding_stream(
        &self,
        id: i64,
        name: &str,
        funder: &str,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<bool, DbError> {
        let name = required("name", name, "Enter the name of the funding stream")?;
        let funder = required("funder", funder, "Enter who provides the money, like Home Office")?;
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::FundingStream, id, seen).await? {
            return Ok(false);
        }
        let old: Option<FundingStream> =
            sqlx::query_as("SELECT id, name, funder, version FROM funding_streams WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(old) = old else { return Ok(false) };
        let taken = sqlx::query("SELECT id FROM funding_streams WHERE LOWER(name) = LOWER($1) AND id <> $2")
            .bind(name)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(DbError::conflict("name", format!("There is already a funding stream called \"{name}\"")));
        }
        sqlx::query("UPDATE funding_streams SET name = $1, funder = $2 WHERE id = $3")
            .bind(name)
            .bind(funder)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(changed) = changes([change("name", &old.name, name), change("funder", &old.funder, funder)]) {
            let detail = format!("funding stream {id}: {changed}");
            audit(&mut tx, self.audit_chain(), actor, &format!("/funding/streams/{id}"), &detail).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn funding_stream(&self, id: i64) -> Result<Option<FundingStream>, DbError> {
        Ok(sqlx::query_as("SELECT id, name, funder, version FROM funding_streams WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// One allocation, with its organisation's name.
    pub async fn allocation(&self, id: i64) -> Result<Option<Allocation>, DbError> {
        let mut conn = self.pool.acquire().await?;
        allocation_in(&mut conn, id).await
    }

    /// Changes what an allocation gives to whom: its recipient (organisation, intervention or
    /// both), purpose and amount. Its stream and financial year stay, so the spend recorded
    /// against it stays in the year it was spent. `false` when there is no such allocation.
    /// Audited old → new, saying when the stream is left over-allocated. `seen`: the version
    /// the form was opened on ([`crate::versions::claim`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_allocation(
        &self,
        id: i64,
        org_id: Option<i64>,
        intervention_id: Option<i64>,
        purpose: &str,
        pence: i64,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<bool, DbError> {
        let purpose = check_allocation(org_id, intervention_id, purpose, pence)?;
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Allocation, id, seen).await? {
            return Ok(false);
        }
        let Some(before) = allocation_in(&mut tx, id).await? else { return Ok(false) };
        let old_to = recipient(&mut tx, before.org_id, before.intervention_id).await?;
        let new_to = recipient(&mut tx, org_id, intervention_id).await?;
        sqlx::query(
            "UPDATE funding_allocations SET org_id = $1, intervention_id = $2, purpose = $3, amount_pence = $4 WHERE id = $5",
        )
        .bind(org_id)
        .bind(intervention_id)
        .bind(purpose)
        .bind(pence)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let changed = changes([
            change("recipient", &old_to, &new_to),
            change("purpose", &before.purpose, purpose),
            change("amount", &money(before.amount_pence), &money(pence)),
        ]);
        if let Some(changed) = changed {
            let over = over_note(&mut tx, before.stream_id, &before.financial_year).await?;
            let detail = format!("allocation {id}: {changed}{over}");
            audit(&mut tx, self.audit_chain(), actor, &format!("/funding/allocations/{id}"), &detail).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes an allocation entered by mistake, with the spend recorded against it, and
    /// records what was deleted, in one transaction. Returns what was deleted (`None` when
    /// there is no such allocation).
    pub async fn delete_allocation(&self, id: i64, actor: &Actor) -> Result<Option<(Allocation, Vec<Spend>)>, DbError> {
        let mut tx = self.begin_write().await?;
        let Some(allocation) = allocation_in(&mut tx, id).await? else { return Ok(None) };
        let spend: Vec<Spend> = sqlx::query_as(
            "SELECT allocation_id, quarter, amount_pence, evaluation_pence FROM funding_spend \
             WHERE allocation_id = $1 ORDER BY quarter",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        let stream = stream_name(&mut tx, allocation.stream_id).await?;
        let to = recipient(&mut tx, allocation.org_id, allocation.intervention_id).await?;
        sqlx::query("DELETE FROM funding_spend WHERE allocation_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM funding_allocations WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let spend_text = if spend.is_empty() {
            "no spend recorded".to_string()
        } else {
            let each: Vec<String> =
                spend.iter().map(|s| format!("{} in {}", money(s.amount_pence), s.quarter)).collect();
            format!("its spend deleted with it: {}", each.join(", "))
        };
        let detail = format!(
            "allocation {id} deleted: was {} of {stream} {} to {to} for {}; {spend_text}",
            money(allocation.amount_pence),
            allocation.financial_year,
            allocation.purpose
        );
        self.commit_governance(tx, actor, &format!("/funding/allocations/{id}"), &detail).await?;
        Ok(Some((allocation, spend)))
    }

    pub async fn funding_streams(&self) -> Result<Vec<FundingStream>, DbError> {
        Ok(sqlx::query_as("SELECT id, name, funder, version FROM funding_streams ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn funding_amounts(&self) -> Result<Vec<FundingAmount>, DbError> {
        Ok(sqlx::query_as(
            "SELECT stream_id, financial_year, amount_pence FROM funding_amounts ORDER BY stream_id, financial_year",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn allocations(&self) -> Result<Vec<Allocation>, DbError> {
        Ok(sqlx::query_as(&format!("{ALLOCATION_SELECT} ORDER BY f.id")).fetch_all(&self.pool).await?)
    }

    pub async fn spend(&self) -> Result<Vec<Spend>, DbError> {
        Ok(sqlx::query_as(
            "SELECT allocation_id, quarter, amount_pence, evaluation_pence FROM funding_spend ORDER BY allocation_id, quarter",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
