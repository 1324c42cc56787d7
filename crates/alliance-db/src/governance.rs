//! Governance and performance storage: the strategy, the action plan with its append-only
//! history, indicators and their values (entered, or computed from imported police data),
//! funding and meetings. Rules (status, trend, spend flags, escalation) live in
//! `alliance_core::governance`; this module stores and fetches.

use std::collections::{BTreeMap, HashMap};

use alliance_core::domain::MonthRange;
use alliance_core::governance::{ActionStatus, Direction, IndicatorSource, StrategySeed, INDICATOR_KINDS};
use alliance_ingest::governance_values::UploadedValue;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::{Db, DbError};

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// A double bound as text (cast in SQL) so NULLs work on PostgreSQL through `Any`.
fn num(v: Option<f64>) -> Option<String> {
    v.map(|x| format!("{x:?}"))
}

/// Checks a `YYYY-MM-DD` date.
pub fn check_date(field: &str, s: &str) -> Result<String, DbError> {
    let s = s.trim();
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|_| s.to_string())
        .map_err(|_| DbError::Legacy(format!("{field}: \"{s}\" is not a date: expected YYYY-MM-DD, e.g. 2025-09-30")))
}

fn opt_date(field: &str, s: Option<&str>) -> Result<Option<String>, DbError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(check_date(field, s)?)),
        None => Ok(None),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Strategy {
    pub id: i64,
    pub name: String,
    pub period_start: String,
    pub period_end: String,
    pub aim: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Priority {
    pub id: i64,
    pub strategy_id: i64,
    pub position: i64,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Commitment {
    pub id: i64,
    pub priority_id: i64,
    pub position: i64,
    pub text: String,
}

/// An action with the names the pages show.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub id: i64,
    pub commitment_id: i64,
    pub commitment: String,
    pub priority_id: i64,
    pub title: String,
    pub description: String,
    pub owner_org_id: i64,
    pub owner_org: String,
    pub lead_person: String,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub status: ActionStatus,
    pub intervention_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

/// What an action is created with, or edited to.
#[derive(Debug, Clone)]
pub struct ActionFields<'a> {
    pub commitment_id: i64,
    pub title: &'a str,
    pub description: &'a str,
    pub owner_org_id: i64,
    pub lead_person: &'a str,
    pub start_date: Option<&'a str>,
    pub due_date: Option<&'a str>,
    pub status: ActionStatus,
    pub intervention_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionUpdate {
    pub id: i64,
    pub action_id: i64,
    pub on_date: String,
    pub status: ActionStatus,
    pub note: String,
    pub by_user: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub action_id: i64,
    pub effective_on: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub by_user: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Milestone {
    pub id: i64,
    pub action_id: i64,
    pub title: String,
    pub due_date: Option<String>,
    pub done_on: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Indicator {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub definition: String,
    pub unit: String,
    pub frequency: String,
    pub direction: Direction,
    pub baseline: Option<f64>,
    pub baseline_period: Option<String>,
    pub target: Option<f64>,
    pub tolerance: Option<f64>,
    pub owner_org_id: Option<i64>,
    pub priority_id: Option<i64>,
    pub source: IndicatorSource,
}

/// What an indicator is created with.
#[derive(Debug, Clone)]
pub struct NewIndicator<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub definition: &'a str,
    pub unit: &'a str,
    pub frequency: &'a str,
    pub direction: Direction,
    pub baseline: Option<f64>,
    pub baseline_period: Option<&'a str>,
    pub target: Option<f64>,
    pub tolerance: Option<f64>,
    pub owner_org_id: Option<i64>,
    pub priority_id: Option<i64>,
    pub source: IndicatorSource,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorValue {
    pub indicator_id: i64,
    pub period: String,
    pub value: f64,
    pub note: String,
    pub entered_by: String,
}

/// A computed police figure and what it was computed from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PoliceFigure {
    pub crime_type: String,
    pub months: MonthRange,
    /// Months of the range with a police street-level import.
    pub months_covered: i64,
    pub count: i64,
    /// Resident population of the partnership's LSOAs (rate figures only).
    pub population: Option<i64>,
    /// Where that population comes from (e.g. "IoD 2019 population denominators (mid-2015)").
    pub population_sources: Vec<String>,
}

impl PoliceFigure {
    pub fn complete(&self) -> bool {
        self.months_covered == self.months.len()
    }

    /// Per 1,000 residents, when the population is known.
    pub fn per_1000(&self) -> Option<f64> {
        self.population.filter(|p| *p > 0).map(|p| self.count as f64 / p as f64 * 1000.0)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FundingStream {
    pub id: i64,
    pub name: String,
    pub funder: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FundingAmount {
    pub stream_id: i64,
    pub financial_year: String,
    pub amount_pence: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Allocation {
    pub id: i64,
    pub stream_id: i64,
    pub financial_year: String,
    pub org_id: Option<i64>,
    pub org: Option<String>,
    pub intervention_id: Option<i64>,
    pub purpose: String,
    pub amount_pence: i64,
}

fn allocation_from(r: &sqlx::any::AnyRow) -> Result<Allocation, DbError> {
    Ok(Allocation {
        id: r.try_get(0)?,
        stream_id: r.try_get(1)?,
        financial_year: r.try_get(2)?,
        org_id: r.try_get(3)?,
        org: r.try_get(4)?,
        intervention_id: r.try_get(5)?,
        purpose: r.try_get(6)?,
        amount_pence: r.try_get(7)?,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Spend {
    pub allocation_id: i64,
    pub quarter: String,
    pub amount_pence: i64,
    pub evaluation_pence: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub body: String,
    pub held_on: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attendee {
    pub meeting_id: i64,
    pub org_id: i64,
    pub org: String,
    pub person: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingItem {
    pub id: i64,
    pub meeting_id: i64,
    pub kind: String,
    pub text: String,
    pub action_id: Option<i64>,
}

/// Meeting bodies.
pub const MEETING_BODIES: [(&str, &str); 2] = [("board", "Executive Board"), ("delivery-group", "Delivery Group")];
/// Kinds of meeting item.
pub const MEETING_ITEM_KINDS: [&str; 3] = ["decision", "escalation", "action"];

fn status_of(s: &str) -> Result<ActionStatus, DbError> {
    s.parse().map_err(DbError::Legacy)
}

fn action_from(r: &sqlx::any::AnyRow) -> Result<Action, DbError> {
    Ok(Action {
        id: r.try_get("id")?,
        commitment_id: r.try_get("commitment_id")?,
        commitment: r.try_get("commitment")?,
        priority_id: r.try_get("priority_id")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        owner_org_id: r.try_get("owner_org_id")?,
        owner_org: r.try_get::<Option<String>, _>("owner_org")?.unwrap_or_else(|| "(unknown organisation)".into()),
        lead_person: r.try_get("lead_person")?,
        start_date: r.try_get("start_date")?,
        due_date: r.try_get("due_date")?,
        status: status_of(&r.try_get::<String, _>("status")?)?,
        intervention_id: r.try_get("intervention_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const ACTION_SELECT: &str =
    "SELECT a.id, a.commitment_id, c.text AS commitment, c.priority_id, a.title, a.description, \
     a.owner_org_id, o.name AS owner_org, a.lead_person, a.start_date, a.due_date, a.status, a.intervention_id, \
     a.created_at, a.updated_at FROM actions a JOIN commitments c ON c.id = a.commitment_id \
     LEFT JOIN organisations o ON o.id = a.owner_org_id";

fn indicator_from(r: &sqlx::any::AnyRow) -> Result<Indicator, DbError> {
    Ok(Indicator {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        definition: r.try_get("definition")?,
        unit: r.try_get("unit")?,
        frequency: r.try_get("frequency")?,
        direction: r.try_get::<String, _>("direction")?.parse().map_err(DbError::Legacy)?,
        baseline: r.try_get("baseline")?,
        baseline_period: r.try_get("baseline_period")?,
        target: r.try_get("target")?,
        tolerance: r.try_get("tolerance")?,
        owner_org_id: r.try_get("owner_org_id")?,
        priority_id: r.try_get("priority_id")?,
        source: IndicatorSource::parse(&r.try_get::<String, _>("source")?).map_err(DbError::Legacy)?,
    })
}

async fn record_history(
    tx: &mut Transaction<'_, Any>,
    action_id: i64,
    effective_on: &str,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
    by: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO action_history (action_id, effective_on, field, old_value, new_value, by_user, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(action_id)
    .bind(effective_on)
    .bind(field)
    .bind(old)
    .bind(new)
    .bind(by)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn check_action(f: &ActionFields<'_>) -> Result<(), DbError> {
    if f.title.trim().is_empty() {
        return Err(DbError::Legacy("title: an action needs a title".into()));
    }
    if f.lead_person.trim().is_empty() {
        return Err(DbError::Legacy("lead_person: name the lead person".into()));
    }
    let start = opt_date("start_date", f.start_date)?;
    let due = opt_date("due_date", f.due_date)?;
    if let (Some(s), Some(d)) = (&start, &due) {
        if d < s {
            return Err(DbError::Legacy(format!("due_date: {d} is before the start date {s}")));
        }
    }
    Ok(())
}

impl Db {
    // ---- strategy ----

    /// Loads a strategy from its seed unless one of that name exists; adds the seed's
    /// computed indicators whose codes are new. Returns the strategy id and whether it was
    /// created. One transaction.
    pub async fn seed_strategy(&self, seed: &StrategySeed, by: &str) -> Result<(i64, bool), DbError> {
        let mut tx = self.pool.begin().await?;
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
        let priorities: HashMap<String, i64> = sqlx::query("SELECT name, id FROM priorities WHERE strategy_id = $1")
            .bind(strategy_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        for ind in &seed.computed_indicators {
            let exists = sqlx::query("SELECT id FROM indicators WHERE code = $1")
                .bind(&ind.code)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if exists {
                continue;
            }
            let source = IndicatorSource::parse(&ind.source).map_err(DbError::Legacy)?;
            let direction: Direction = ind.direction.parse().map_err(DbError::Legacy)?;
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
        }
        tx.commit().await?;
        tracing::info!(strategy_id, created, by, "strategy seeded");
        Ok((strategy_id, created))
    }

    /// Every strategy, newest first.
    pub async fn strategies(&self) -> Result<Vec<Strategy>, DbError> {
        let rows =
            sqlx::query("SELECT id, name, period_start, period_end, aim, source FROM strategies ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Strategy {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    period_start: r.try_get(2)?,
                    period_end: r.try_get(3)?,
                    aim: r.try_get(4)?,
                    source: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The priorities of a strategy, in order.
    pub async fn priorities(&self, strategy_id: i64) -> Result<Vec<Priority>, DbError> {
        let rows = sqlx::query(
            "SELECT id, strategy_id, position, name, description FROM priorities WHERE strategy_id = $1 ORDER BY position, id",
        )
        .bind(strategy_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Priority {
                    id: r.try_get(0)?,
                    strategy_id: r.try_get(1)?,
                    position: r.try_get(2)?,
                    name: r.try_get(3)?,
                    description: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The commitments of a strategy, by priority then position.
    pub async fn commitments(&self, strategy_id: i64) -> Result<Vec<Commitment>, DbError> {
        let rows = sqlx::query(
            "SELECT c.id, c.priority_id, c.position, c.text FROM commitments c JOIN priorities p ON p.id = c.priority_id \
             WHERE p.strategy_id = $1 ORDER BY p.position, c.position, c.id",
        )
        .bind(strategy_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Commitment {
                    id: r.try_get(0)?,
                    priority_id: r.try_get(1)?,
                    position: r.try_get(2)?,
                    text: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn update_priority(&self, id: i64, name: &str, description: &str) -> Result<(), DbError> {
        if name.trim().is_empty() {
            return Err(DbError::Legacy("name: a priority needs a name".into()));
        }
        sqlx::query("UPDATE priorities SET name = $1, description = $2 WHERE id = $3")
            .bind(name.trim())
            .bind(description.trim())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn update_commitment(&self, id: i64, text: &str) -> Result<(), DbError> {
        if text.trim().is_empty() {
            return Err(DbError::Legacy("text: a commitment needs its words".into()));
        }
        sqlx::query("UPDATE commitments SET text = $1 WHERE id = $2")
            .bind(text.trim())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn add_commitment(&self, priority_id: i64, text: &str) -> Result<i64, DbError> {
        if text.trim().is_empty() {
            return Err(DbError::Legacy("text: a commitment needs its words".into()));
        }
        let row = sqlx::query(
            "INSERT INTO commitments (priority_id, position, text) \
             VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM commitments WHERE priority_id = $1), $2) RETURNING id",
        )
        .bind(priority_id)
        .bind(text.trim())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    // ---- actions ----

    /// Creates an action; its history starts with its creation (effective `effective_on`,
    /// today when `None`).
    pub async fn create_action(
        &self,
        f: &ActionFields<'_>,
        by: &str,
        effective_on: Option<&str>,
    ) -> Result<i64, DbError> {
        check_action(f)?;
        let on = match effective_on {
            Some(d) => check_date("effective_on", d)?,
            None => today(),
        };
        let mut tx = self.pool.begin().await?;
        let at = now();
        let id: i64 = sqlx::query(
            "INSERT INTO actions (commitment_id, title, description, owner_org_id, lead_person, start_date, due_date, \
             status, intervention_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(f.commitment_id)
        .bind(f.title.trim())
        .bind(f.description.trim())
        .bind(f.owner_org_id)
        .bind(f.lead_person.trim())
        .bind(opt_date("start_date", f.start_date)?)
        .bind(opt_date("due_date", f.due_date)?)
        .bind(f.status.as_str())
        .bind(f.intervention_id)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        record_history(&mut tx, id, &on, "created", None, Some(f.title.trim()), by).await?;
        record_history(&mut tx, id, &on, "status", None, Some(f.status.as_str()), by).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Edits an action, keeping one history row per field changed.
    pub async fn edit_action(&self, id: i64, f: &ActionFields<'_>, by: &str) -> Result<(), DbError> {
        check_action(f)?;
        let old = self.action(id).await?.ok_or_else(|| DbError::Legacy(format!("there is no action {id}")))?;
        let start = opt_date("start_date", f.start_date)?;
        let due = opt_date("due_date", f.due_date)?;
        let on = today();
        let mut tx = self.pool.begin().await?;
        let changes: Vec<(&str, Option<String>, Option<String>)> = vec![
            ("commitment_id", Some(old.commitment_id.to_string()), Some(f.commitment_id.to_string())),
            ("title", Some(old.title.clone()), Some(f.title.trim().to_string())),
            ("description", Some(old.description.clone()), Some(f.description.trim().to_string())),
            ("owner_org_id", Some(old.owner_org_id.to_string()), Some(f.owner_org_id.to_string())),
            ("lead_person", Some(old.lead_person.clone()), Some(f.lead_person.trim().to_string())),
            ("start_date", old.start_date.clone(), start.clone()),
            ("due_date", old.due_date.clone(), due.clone()),
            ("status", Some(old.status.as_str().to_string()), Some(f.status.as_str().to_string())),
            ("intervention_id", old.intervention_id.map(|i| i.to_string()), f.intervention_id.map(|i| i.to_string())),
        ];
        for (field, o, n) in &changes {
            if o != n {
                record_history(&mut tx, id, &on, field, o.as_deref(), n.as_deref(), by).await?;
            }
        }
        sqlx::query(
            "UPDATE actions SET commitment_id = $1, title = $2, description = $3, owner_org_id = $4, lead_person = $5, \
             start_date = $6, due_date = $7, status = $8, intervention_id = $9, updated_at = $10 WHERE id = $11",
        )
        .bind(f.commitment_id)
        .bind(f.title.trim())
        .bind(f.description.trim())
        .bind(f.owner_org_id)
        .bind(f.lead_person.trim())
        .bind(start)
        .bind(due)
        .bind(f.status.as_str())
        .bind(f.intervention_id)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a dated progress update and the status it reports (history effective on the
    /// update's date). Whether `by_user` may do so is decided by the caller
    /// (`alliance_web::governance::can_update_action`).
    pub async fn add_action_update(
        &self,
        action_id: i64,
        on_date: &str,
        status: ActionStatus,
        note: &str,
        by_user: &str,
        by_org_id: Option<i64>,
    ) -> Result<i64, DbError> {
        let on = check_date("on_date", on_date)?;
        if note.trim().is_empty() {
            return Err(DbError::Legacy("note: say what progress was made".into()));
        }
        let old =
            self.action(action_id).await?.ok_or_else(|| DbError::Legacy(format!("there is no action {action_id}")))?;
        let mut tx = self.pool.begin().await?;
        let at = now();
        let id: i64 = sqlx::query(
            "INSERT INTO action_updates (action_id, on_date, status, note, by_user, by_org_id, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(action_id)
        .bind(&on)
        .bind(status.as_str())
        .bind(note.trim())
        .bind(by_user)
        .bind(by_org_id)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        record_history(&mut tx, action_id, &on, "update", None, Some(note.trim()), by_user).await?;
        if old.status != status {
            record_history(
                &mut tx,
                action_id,
                &on,
                "status",
                Some(old.status.as_str()),
                Some(status.as_str()),
                by_user,
            )
            .await?;
        }
        // The action's current status is that of its latest-dated update.
        let latest: String = sqlx::query(
            "SELECT new_value FROM action_history WHERE action_id = $1 AND field = 'status' ORDER BY effective_on DESC, id DESC",
        )
        .bind(action_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        sqlx::query("UPDATE actions SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(latest)
            .bind(&at)
            .bind(action_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every action, by id.
    pub async fn actions(&self) -> Result<Vec<Action>, DbError> {
        let rows = sqlx::query(&format!("{ACTION_SELECT} ORDER BY a.id")).fetch_all(&self.pool).await?;
        rows.iter().map(action_from).collect()
    }

    pub async fn action(&self, id: i64) -> Result<Option<Action>, DbError> {
        let row = sqlx::query(&format!("{ACTION_SELECT} WHERE a.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(action_from).transpose()
    }

    pub async fn action_updates(&self, action_id: i64) -> Result<Vec<ActionUpdate>, DbError> {
        let rows = sqlx::query(
            "SELECT id, action_id, on_date, status, note, by_user, recorded_at FROM action_updates WHERE action_id = $1 \
             ORDER BY on_date DESC, id DESC",
        )
        .bind(action_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActionUpdate {
                    id: r.try_get(0)?,
                    action_id: r.try_get(1)?,
                    on_date: r.try_get(2)?,
                    status: status_of(&r.try_get::<String, _>(3)?)?,
                    note: r.try_get(4)?,
                    by_user: r.try_get(5)?,
                    recorded_at: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// The history of one action (`Some(id)`) or of all, in the order recorded.
    pub async fn action_history(&self, action_id: Option<i64>) -> Result<Vec<HistoryEntry>, DbError> {
        let sql =
            "SELECT id, action_id, effective_on, field, old_value, new_value, by_user, recorded_at FROM action_history";
        let rows = match action_id {
            Some(a) => {
                sqlx::query(&format!("{sql} WHERE action_id = $1 ORDER BY id")).bind(a).fetch_all(&self.pool).await?
            }
            None => sqlx::query(&format!("{sql} ORDER BY id")).fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    id: r.try_get(0)?,
                    action_id: r.try_get(1)?,
                    effective_on: r.try_get(2)?,
                    field: r.try_get(3)?,
                    old_value: r.try_get(4)?,
                    new_value: r.try_get(5)?,
                    by_user: r.try_get(6)?,
                    recorded_at: r.try_get(7)?,
                })
            })
            .collect()
    }

    pub async fn add_milestone(
        &self,
        action_id: i64,
        title: &str,
        due: Option<&str>,
        by: &str,
    ) -> Result<i64, DbError> {
        if title.trim().is_empty() {
            return Err(DbError::Legacy("milestone: a milestone needs a title".into()));
        }
        let due = opt_date("milestone_due", due)?;
        let mut tx = self.pool.begin().await?;
        let id: i64 =
            sqlx::query("INSERT INTO action_milestones (action_id, title, due_date) VALUES ($1, $2, $3) RETURNING id")
                .bind(action_id)
                .bind(title.trim())
                .bind(&due)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        record_history(&mut tx, action_id, &today(), "milestone", None, Some(title.trim()), by).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn complete_milestone(&self, milestone_id: i64, done_on: &str, by: &str) -> Result<(), DbError> {
        let done = check_date("done_on", done_on)?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("UPDATE action_milestones SET done_on = $1 WHERE id = $2 RETURNING action_id, title")
            .bind(&done)
            .bind(milestone_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::Legacy(format!("there is no milestone {milestone_id}")))?;
        let (action_id, title): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
        record_history(&mut tx, action_id, &done, "milestone done", None, Some(&title), by).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn milestones(&self, action_id: i64) -> Result<Vec<Milestone>, DbError> {
        let rows = sqlx::query(
            "SELECT id, action_id, title, due_date, done_on FROM action_milestones WHERE action_id = $1 ORDER BY id",
        )
        .bind(action_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Milestone {
                    id: r.try_get(0)?,
                    action_id: r.try_get(1)?,
                    title: r.try_get(2)?,
                    due_date: r.try_get(3)?,
                    done_on: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Records that `action_id` depends on `depends_on` (refusing a self-dependency).
    pub async fn add_dependency(&self, action_id: i64, depends_on: i64, by: &str) -> Result<(), DbError> {
        if action_id == depends_on {
            return Err(DbError::Legacy("depends_on: an action cannot depend on itself".into()));
        }
        if self.action(depends_on).await?.is_none() {
            return Err(DbError::Legacy(format!("depends_on: there is no action {depends_on}")));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO action_dependencies (action_id, depends_on) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(action_id)
            .bind(depends_on)
            .execute(&mut *tx)
            .await?;
        record_history(&mut tx, action_id, &today(), "dependency", None, Some(&depends_on.to_string()), by).await?;
        tx.commit().await?;
        Ok(())
    }

    /// (action, depends on) pairs.
    pub async fn dependencies(&self) -> Result<Vec<(i64, i64)>, DbError> {
        let rows = sqlx::query("SELECT action_id, depends_on FROM action_dependencies ORDER BY action_id, depends_on")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    // ---- indicators ----

    pub async fn create_indicator(&self, ind: &NewIndicator<'_>) -> Result<i64, DbError> {
        let mut tx = self.pool.begin().await?;
        let id = insert_indicator(&mut tx, ind).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets the baseline, target and tolerance of an indicator.
    pub async fn set_indicator_target(
        &self,
        id: i64,
        baseline: Option<f64>,
        baseline_period: Option<&str>,
        target: Option<f64>,
        tolerance: Option<f64>,
    ) -> Result<(), DbError> {
        check_tolerance(tolerance)?;
        sqlx::query(
            "UPDATE indicators SET baseline = CAST($1 AS DOUBLE PRECISION), baseline_period = $2, \
             target = CAST($3 AS DOUBLE PRECISION), tolerance = CAST($4 AS DOUBLE PRECISION) WHERE id = $5",
        )
        .bind(num(baseline))
        .bind(baseline_period.map(str::trim).filter(|s| !s.is_empty()))
        .bind(num(target))
        .bind(num(tolerance))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn indicators(&self) -> Result<Vec<Indicator>, DbError> {
        let rows = sqlx::query("SELECT * FROM indicators ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(indicator_from).collect()
    }

    pub async fn indicator(&self, id: i64) -> Result<Option<Indicator>, DbError> {
        let row = sqlx::query("SELECT * FROM indicators WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(indicator_from).transpose()
    }

    pub async fn indicator_by_code(&self, code: &str) -> Result<Option<Indicator>, DbError> {
        let row = sqlx::query("SELECT * FROM indicators WHERE code = $1")
            .bind(code.trim())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(indicator_from).transpose()
    }

    /// Stores entered values `(indicator code, period, value, note)` in one transaction:
    /// refused whole if any names an unknown or computed indicator or a bad period (the error
    /// names the row, counting from 1).
    pub async fn enter_indicator_values(
        &self,
        values: &[(String, String, f64, String)],
        by: &str,
    ) -> Result<usize, DbError> {
        let rows: Vec<(String, &UploadedValue)> =
            values.iter().enumerate().map(|(n, v)| (format!("row {}", n + 1), v)).collect();
        self.store_indicator_values(&rows, |at, column| format!("{at}: {column}"), by).await
    }

    /// [`Db::enter_indicator_values`] for the values of an uploaded file, each with its line
    /// (`alliance_ingest::governance_values::parse_numbered_indicator_values`): an error names
    /// the file, line and column as the parser's do (`values.csv:3: column "code": …`).
    pub async fn enter_indicator_values_from(
        &self,
        file: &str,
        values: &[(u64, UploadedValue)],
        by: &str,
    ) -> Result<usize, DbError> {
        let rows: Vec<(String, &UploadedValue)> =
            values.iter().map(|(line, v)| (format!("{file}:{line}"), v)).collect();
        self.store_indicator_values(&rows, |at, column| format!("{at}: column \"{column}\""), by).await
    }

    /// Stores `(where, value)` pairs in one transaction, or none; `place(where, column)` says
    /// where a bad cell is.
    async fn store_indicator_values(
        &self,
        values: &[(String, &UploadedValue)],
        place: impl Fn(&str, &str) -> String,
        by: &str,
    ) -> Result<usize, DbError> {
        let indicators: HashMap<String, Indicator> =
            self.indicators().await?.into_iter().map(|i| (i.code.clone(), i)).collect();
        let mut tx = self.pool.begin().await?;
        let at = now();
        for (row, (code, period, value, note)) in values {
            let ind = indicators.get(code.trim()).ok_or_else(|| {
                DbError::Legacy(format!("{}: indicator \"{code}\" is not in the framework", place(row, "code")))
            })?;
            if ind.source.is_computed() {
                return Err(DbError::Legacy(format!(
                    "{}: indicator \"{code}\" is computed from imported data and cannot be typed",
                    place(row, "code")
                )));
            }
            let q: alliance_core::governance::Quarter =
                period.parse().map_err(|e: String| DbError::Legacy(format!("{}: {e}", place(row, "period"))))?;
            if !value.is_finite() {
                return Err(DbError::Legacy(format!("{}: not a number", place(row, "value"))));
            }
            sqlx::query(
                "INSERT INTO indicator_values (indicator_id, period, value, note, entered_by, entered_at) \
                 VALUES ($1, $2, CAST($3 AS DOUBLE PRECISION), $4, $5, $6) ON CONFLICT (indicator_id, period) DO UPDATE \
                 SET value = EXCLUDED.value, note = EXCLUDED.note, entered_by = EXCLUDED.entered_by, entered_at = EXCLUDED.entered_at",
            )
            .bind(ind.id)
            .bind(q.to_string())
            .bind(num(Some(*value)))
            .bind(note.trim())
            .bind(by)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(values.len())
    }

    /// Entered values of every indicator, keyed by indicator id, in period order.
    pub async fn indicator_values(&self) -> Result<BTreeMap<i64, Vec<IndicatorValue>>, DbError> {
        let rows = sqlx::query("SELECT indicator_id, period, value, note, entered_by FROM indicator_values")
            .fetch_all(&self.pool)
            .await?;
        let mut out: BTreeMap<i64, Vec<IndicatorValue>> = BTreeMap::new();
        for r in &rows {
            let v = IndicatorValue {
                indicator_id: r.try_get(0)?,
                period: r.try_get(1)?,
                value: r.try_get(2)?,
                note: r.try_get(3)?,
                entered_by: r.try_get(4)?,
            };
            out.entry(v.indicator_id).or_default().push(v);
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| a.period.cmp(&b.period));
        }
        Ok(out)
    }

    /// Police-recorded crimes of `crime_type` over `months`, counting rows whose LSOA is
    /// one of the partnership's (an LSOA in `lsoas` with a district, either census), with
    /// the resident population of the partnership's area when `with_population`: the sum
    /// over its 2011 LSOAs of the population loaded (the IoD 2019 denominators, mid-2015,
    /// for the demo), or over its 2021 LSOAs when no 2011 population is loaded.
    pub async fn police_figure(
        &self,
        crime_type: &str,
        months: MonthRange,
        with_population: bool,
    ) -> Result<PoliceFigure, DbError> {
        let covered = self.police_months_covered().await?.into_iter().filter(|m| months.contains(*m)).count() as i64;
        let count: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM police_crimes c WHERE c.crime_type = $1 AND c.month >= $2 AND c.month <= $3 \
             AND c.lsoa_code IN (SELECT code FROM lsoas WHERE district_code IS NOT NULL)",
        )
        .bind(crime_type)
        .bind(months.from.to_string())
        .bind(months.to.to_string())
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let (population, population_sources) = if with_population {
            // The published 2011-LSOA denominators when loaded; the 2021 LSOAs' populations
            // are apportioned from them with rounding, so they are the fallback only.
            let mut found = (None, Vec::new());
            for column in ["in_2011", "in_2021"] {
                let total: Option<i64> = sqlx::query(&format!(
                    "SELECT CAST(SUM(population) AS BIGINT) FROM lsoas WHERE {column} = 1 AND district_code IS NOT NULL"
                ))
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
                if let Some(total) = total.filter(|t| *t > 0) {
                    let mut sources = sqlx::query(&format!(
                        "SELECT DISTINCT population_source FROM lsoas WHERE {column} = 1 AND district_code IS NOT NULL \
                         AND population_source IS NOT NULL"
                    ))
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<Vec<_>, _>>()?;
                    sources.sort();
                    found = (Some(total), sources);
                    break;
                }
            }
            found
        } else {
            (None, Vec::new())
        };
        Ok(PoliceFigure {
            crime_type: crime_type.to_string(),
            months,
            months_covered: covered,
            count,
            population,
            population_sources,
        })
    }

    // ---- funding ----

    pub async fn create_funding_stream(&self, name: &str, funder: &str) -> Result<i64, DbError> {
        if name.trim().is_empty() {
            return Err(DbError::Legacy("name: a funding stream needs a name".into()));
        }
        let taken = sqlx::query("SELECT id FROM funding_streams WHERE LOWER(name) = LOWER($1)")
            .bind(name.trim())
            .fetch_optional(&self.pool)
            .await?;
        if taken.is_some() {
            return Err(DbError::Legacy(format!("name: there is already a funding stream called \"{}\"", name.trim())));
        }
        let row =
            sqlx::query("INSERT INTO funding_streams (name, funder, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(name.trim())
                .bind(funder.trim())
                .bind(now())
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn set_funding_amount(&self, stream_id: i64, fy: &str, pence: i64) -> Result<(), DbError> {
        let fy: alliance_core::governance::FinancialYear = fy.parse().map_err(DbError::Legacy)?;
        if pence < 0 {
            return Err(DbError::Legacy("amount: a funding amount cannot be negative".into()));
        }
        sqlx::query(
            "INSERT INTO funding_amounts (stream_id, financial_year, amount_pence) VALUES ($1, $2, $3) \
             ON CONFLICT (stream_id, financial_year) DO UPDATE SET amount_pence = EXCLUDED.amount_pence",
        )
        .bind(stream_id)
        .bind(fy.to_string())
        .bind(pence)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_allocation(
        &self,
        stream_id: i64,
        fy: &str,
        org_id: Option<i64>,
        intervention_id: Option<i64>,
        purpose: &str,
        pence: i64,
    ) -> Result<i64, DbError> {
        let fy: alliance_core::governance::FinancialYear = fy.parse().map_err(DbError::Legacy)?;
        if pence < 0 {
            return Err(DbError::Legacy("amount: an allocation cannot be negative".into()));
        }
        let row = sqlx::query(
            "INSERT INTO funding_allocations (stream_id, financial_year, org_id, intervention_id, purpose, amount_pence, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(stream_id)
        .bind(fy.to_string())
        .bind(org_id)
        .bind(intervention_id)
        .bind(purpose.trim())
        .bind(pence)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Records (or corrects) the spend of an allocation in a quarter.
    pub async fn record_spend(
        &self,
        allocation_id: i64,
        quarter: &str,
        pence: i64,
        evaluation_pence: i64,
        by: &str,
    ) -> Result<(), DbError> {
        let q: alliance_core::governance::Quarter = quarter.parse().map_err(DbError::Legacy)?;
        if pence < 0 || evaluation_pence < 0 || evaluation_pence > pence {
            return Err(DbError::Legacy(
                "spend: amounts cannot be negative and evaluation spend is part of the spend".into(),
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
        .bind(by)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Changes a funding stream's name and funder; `false` when there is no such stream. The
    /// name stays unique (ignoring case) among the streams.
    pub async fn update_funding_stream(&self, id: i64, name: &str, funder: &str) -> Result<bool, DbError> {
        if name.trim().is_empty() {
            return Err(DbError::Legacy("name: a funding stream needs a name".into()));
        }
        if funder.trim().is_empty() {
            return Err(DbError::Legacy("funder: a funding stream needs a funder".into()));
        }
        let taken = sqlx::query("SELECT id FROM funding_streams WHERE LOWER(name) = LOWER($1) AND id <> $2")
            .bind(name.trim())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        if taken.is_some() {
            return Err(DbError::Legacy(format!("name: there is already a funding stream called \"{}\"", name.trim())));
        }
        let done = sqlx::query("UPDATE funding_streams SET name = $1, funder = $2 WHERE id = $3")
            .bind(name.trim())
            .bind(funder.trim())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn funding_stream(&self, id: i64) -> Result<Option<FundingStream>, DbError> {
        let row = sqlx::query("SELECT id, name, funder FROM funding_streams WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(FundingStream { id: r.try_get(0)?, name: r.try_get(1)?, funder: r.try_get(2)? })).transpose()
    }

    /// One allocation, with its organisation's name.
    pub async fn allocation(&self, id: i64) -> Result<Option<Allocation>, DbError> {
        let row = sqlx::query(
            "SELECT f.id, f.stream_id, f.financial_year, f.org_id, o.name, f.intervention_id, f.purpose, f.amount_pence \
             FROM funding_allocations f LEFT JOIN organisations o ON o.id = f.org_id WHERE f.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(allocation_from).transpose()
    }

    /// Changes what an allocation gives to whom: its recipient (organisation, intervention or
    /// both), purpose and amount. Its stream and financial year stay, so the spend recorded
    /// against it stays in the year it was spent. `false` when there is no such allocation.
    pub async fn update_allocation(
        &self,
        id: i64,
        org_id: Option<i64>,
        intervention_id: Option<i64>,
        purpose: &str,
        pence: i64,
    ) -> Result<bool, DbError> {
        if pence < 0 {
            return Err(DbError::Legacy("amount: an allocation cannot be negative".into()));
        }
        if purpose.trim().is_empty() {
            return Err(DbError::Legacy("purpose: an allocation needs a purpose".into()));
        }
        if org_id.is_none() && intervention_id.is_none() {
            return Err(DbError::Legacy("org: an allocation goes to an organisation, an intervention or both".into()));
        }
        let done = sqlx::query(
            "UPDATE funding_allocations SET org_id = $1, intervention_id = $2, purpose = $3, amount_pence = $4 WHERE id = $5",
        )
        .bind(org_id)
        .bind(intervention_id)
        .bind(purpose.trim())
        .bind(pence)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes an allocation entered by mistake, with the spend recorded against it, in one
    /// transaction. Returns what was deleted (`None` when there is no such allocation), so
    /// the caller can audit it.
    pub async fn delete_allocation(&self, id: i64) -> Result<Option<(Allocation, Vec<Spend>)>, DbError> {
        let Some(allocation) = self.allocation(id).await? else { return Ok(None) };
        let spend: Vec<Spend> = self.spend().await?.into_iter().filter(|s| s.allocation_id == id).collect();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM funding_spend WHERE allocation_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM funding_allocations WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            // Deleted by someone else in the meantime.
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some((allocation, spend)))
    }

    pub async fn funding_streams(&self) -> Result<Vec<FundingStream>, DbError> {
        let rows =
            sqlx::query("SELECT id, name, funder FROM funding_streams ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(FundingStream { id: r.try_get(0)?, name: r.try_get(1)?, funder: r.try_get(2)? }))
            .collect()
    }

    pub async fn funding_amounts(&self) -> Result<Vec<FundingAmount>, DbError> {
        let rows = sqlx::query(
            "SELECT stream_id, financial_year, amount_pence FROM funding_amounts ORDER BY stream_id, financial_year",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FundingAmount {
                    stream_id: r.try_get(0)?,
                    financial_year: r.try_get(1)?,
                    amount_pence: r.try_get(2)?,
                })
            })
            .collect()
    }

    pub async fn allocations(&self) -> Result<Vec<Allocation>, DbError> {
        let rows = sqlx::query(
            "SELECT f.id, f.stream_id, f.financial_year, f.org_id, o.name, f.intervention_id, f.purpose, f.amount_pence \
             FROM funding_allocations f LEFT JOIN organisations o ON o.id = f.org_id ORDER BY f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(allocation_from).collect()
    }

    pub async fn spend(&self) -> Result<Vec<Spend>, DbError> {
        let rows = sqlx::query("SELECT allocation_id, quarter, amount_pence, evaluation_pence FROM funding_spend ORDER BY allocation_id, quarter")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Spend {
                    allocation_id: r.try_get(0)?,
                    quarter: r.try_get(1)?,
                    amount_pence: r.try_get(2)?,
                    evaluation_pence: r.try_get(3)?,
                })
            })
            .collect()
    }

    // ---- meetings ----

    pub async fn create_meeting(
        &self,
        body: &str,
        held_on: &str,
        title: &str,
        attendees: &[(i64, String)],
    ) -> Result<i64, DbError> {
        if !MEETING_BODIES.iter().any(|(b, _)| *b == body) {
            return Err(DbError::Legacy(format!("body: \"{body}\" is not board or delivery-group")));
        }
        let held = check_date("held_on", held_on)?;
        let mut tx = self.pool.begin().await?;
        let id: i64 =
            sqlx::query("INSERT INTO meetings (body, held_on, title, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(body)
                .bind(&held)
                .bind(title.trim())
                .bind(now())
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        for (org, person) in attendees {
            sqlx::query("INSERT INTO meeting_attendees (meeting_id, org_id, person) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(org)
                .bind(person.trim())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a decision, an escalation, or an action arising (give `action_id`, the action
    /// created in the plan for it).
    pub async fn add_meeting_item(
        &self,
        meeting_id: i64,
        kind: &str,
        text: &str,
        action_id: Option<i64>,
    ) -> Result<i64, DbError> {
        if !MEETING_ITEM_KINDS.contains(&kind) {
            return Err(DbError::Legacy(format!("kind: \"{kind}\" is not decision, escalation or action")));
        }
        if text.trim().is_empty() {
            return Err(DbError::Legacy("text: the item needs words".into()));
        }
        let row = sqlx::query(
            "INSERT INTO meeting_items (meeting_id, kind, text, action_id) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(meeting_id)
        .bind(kind)
        .bind(text.trim())
        .bind(action_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn meetings(&self) -> Result<Vec<Meeting>, DbError> {
        let rows = sqlx::query("SELECT id, body, held_on, title FROM meetings ORDER BY held_on DESC, id DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Meeting { id: r.try_get(0)?, body: r.try_get(1)?, held_on: r.try_get(2)?, title: r.try_get(3)? })
            })
            .collect()
    }

    pub async fn meeting_attendees(&self) -> Result<Vec<Attendee>, DbError> {
        let rows = sqlx::query(
            "SELECT m.meeting_id, m.org_id, o.name, m.person FROM meeting_attendees m LEFT JOIN organisations o ON o.id = m.org_id \
             ORDER BY m.meeting_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Attendee {
                    meeting_id: r.try_get(0)?,
                    org_id: r.try_get(1)?,
                    org: r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                    person: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn meeting_items(&self) -> Result<Vec<MeetingItem>, DbError> {
        let rows =
            sqlx::query("SELECT id, meeting_id, kind, text, action_id FROM meeting_items ORDER BY meeting_id, id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(MeetingItem {
                    id: r.try_get(0)?,
                    meeting_id: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    text: r.try_get(3)?,
                    action_id: r.try_get(4)?,
                })
            })
            .collect()
    }
}

/// A tolerance is a distance from the target: not negative.
fn check_tolerance(tolerance: Option<f64>) -> Result<(), DbError> {
    match tolerance {
        Some(t) if !t.is_finite() || t < 0.0 => {
            Err(DbError::Legacy(format!("tolerance: {t} is not a distance from the target: expected 0 or more")))
        }
        _ => Ok(()),
    }
}

async fn insert_indicator(tx: &mut Transaction<'_, Any>, ind: &NewIndicator<'_>) -> Result<i64, DbError> {
    if ind.code.trim().is_empty() || ind.name.trim().is_empty() {
        return Err(DbError::Legacy("code, name: an indicator needs a code and a name".into()));
    }
    if !INDICATOR_KINDS.contains(&ind.kind) {
        return Err(DbError::Legacy(format!("kind: \"{}\" is not input, output or outcome", ind.kind)));
    }
    check_tolerance(ind.tolerance)?;
    let taken = sqlx::query("SELECT id FROM indicators WHERE code = $1")
        .bind(ind.code.trim())
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Err(DbError::Legacy(format!(
            "code: there is already an indicator with the code \"{}\"",
            ind.code.trim()
        )));
    }
    let row = sqlx::query(
        "INSERT INTO indicators (code, name, kind, definition, unit, frequency, direction, baseline, baseline_period, \
         target, tolerance, owner_org_id, priority_id, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         CAST($8 AS DOUBLE PRECISION), $9, CAST($10 AS DOUBLE PRECISION), CAST($11 AS DOUBLE PRECISION), $12, $13, $14, $15) \
         RETURNING id",
    )
    .bind(ind.code.trim())
    .bind(ind.name.trim())
    .bind(ind.kind)
    .bind(ind.definition.trim())
    .bind(ind.unit.trim())
    .bind(ind.frequency.trim())
    .bind(ind.direction.as_str())
    .bind(num(ind.baseline))
    .bind(ind.baseline_period)
    .bind(num(ind.target))
    .bind(num(ind.tolerance))
    .bind(ind.owner_org_id)
    .bind(ind.priority_id)
    .bind(ind.source.as_string())
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// An action the Delivery Group marked for escalation to the Board (migration 0010).
#[derive(Debug, Clone, Serialize)]
pub struct ActionEscalation {
    pub id: i64,
    pub action_id: i64,
    pub raised_on: String,
    pub note: String,
    pub by_user: String,
}

impl Db {
    /// Marks an action for escalation to the Board on `raised_on`, with the reason; kept in
    /// the action's history too. The Board pack of that quarter lists it.
    pub async fn escalate_action(&self, action_id: i64, raised_on: &str, note: &str, by: &str) -> Result<i64, DbError> {
        let on = check_date("raised_on", raised_on)?;
        if note.trim().is_empty() {
            return Err(DbError::Legacy("note: say why the Board needs to know".into()));
        }
        if self.action(action_id).await?.is_none() {
            return Err(DbError::Legacy(format!("there is no action {action_id}")));
        }
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO action_escalations (action_id, raised_on, note, by_user, recorded_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(action_id)
        .bind(&on)
        .bind(note.trim())
        .bind(by)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        record_history(&mut tx, action_id, &on, "escalated", None, Some(note.trim()), by).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every escalation marked on the action plan, by date.
    pub async fn action_escalations(&self) -> Result<Vec<ActionEscalation>, DbError> {
        let rows = sqlx::query(
            "SELECT id, action_id, raised_on, note, by_user FROM action_escalations ORDER BY raised_on, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActionEscalation {
                    id: r.try_get(0)?,
                    action_id: r.try_get(1)?,
                    raised_on: r.try_get(2)?,
                    note: r.try_get(3)?,
                    by_user: r.try_get(4)?,
                })
            })
            .collect()
    }
}
