//! The action plan: actions under the strategy's commitments, their dated progress updates,
//! milestones, dependencies and escalations to the Board, with an append-only history of
//! every change (`action_history`, effective on the date the change is about).

use alliance_core::governance::{current_status, status_on, ActionStatus};
use serde::Serialize;
use sqlx::{Any, AnyConnection, Row, Transaction};

use super::{check_date, opt_date};
use crate::audit::Actor;
use crate::clock::{now, today};
use crate::params::AnyQuery;
use crate::submissions::{self, Claim};
use crate::versions::{self, Versioned};
use crate::{Db, DbError};

/// An action with the names the pages show.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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
    #[sqlx(try_from = "String")]
    pub status: ActionStatus,
    pub intervention_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// Counts every change (an edit, a progress update): what an edit form names to be
    /// refused when the action has moved on since it was opened.
    pub version: i64,
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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ActionUpdate {
    pub id: i64,
    pub action_id: i64,
    pub on_date: String,
    #[sqlx(try_from = "String")]
    pub status: ActionStatus,
    pub note: String,
    pub by_user: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Milestone {
    pub id: i64,
    pub action_id: i64,
    pub title: String,
    pub due_date: Option<String>,
    pub done_on: Option<String>,
}

/// An action the Delivery Group marked for escalation to the Board (migration 0010).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ActionEscalation {
    pub id: i64,
    pub action_id: i64,
    pub raised_on: String,
    pub note: String,
    pub by_user: String,
}

const ACTION_SELECT: &str =
    "SELECT a.id, a.commitment_id, c.text AS commitment, c.priority_id, a.title, a.description, a.owner_org_id, \
     COALESCE(o.name, '(unknown organisation)') AS owner_org, a.lead_person, a.start_date, a.due_date, a.status, \
     a.intervention_id, a.created_at, a.updated_at, a.version FROM actions a JOIN commitments c ON c.id = a.commitment_id \
     LEFT JOIN organisations o ON o.id = a.owner_org_id";

/// The action `id` as stored in the transaction, or `NotFound`.
async fn action_in(tx: &mut AnyConnection, id: i64) -> Result<Action, DbError> {
    sqlx::query_as(&format!("{ACTION_SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| DbError::not_found(format!("action {id}")))
}

async fn record_history(
    tx: &mut AnyConnection,
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
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The status timeline of an action from its history, in the order recorded: the status it
/// was added with (the `status` row with no old value; `None` for a history without one) and
/// its dated changes `(effective date, new status)`.
async fn status_timeline(
    tx: &mut AnyConnection,
    action_id: i64,
) -> Result<(Option<ActionStatus>, Vec<(String, ActionStatus)>), DbError> {
    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT effective_on, old_value, new_value FROM action_history WHERE action_id = $1 AND field = 'status' \
         ORDER BY id",
    )
    .bind(action_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut initial = None;
    let mut changes = Vec::new();
    for (on, old, new) in rows {
        let Some(Ok(status)) = new.as_deref().map(str::parse::<ActionStatus>) else { continue };
        match old {
            None if initial.is_none() => initial = Some(status),
            _ => changes.push((on, status)),
        }
    }
    Ok((initial, changes))
}

/// Sets the action's stored status to the one its history gives now
/// (`alliance_core::governance::current_status`: the latest-dated change, the one recorded
/// later of two on the same date, else the status it was added with).
async fn refresh_status(
    tx: &mut AnyConnection,
    action_id: i64,
    fallback: ActionStatus,
    at: &str,
) -> Result<(), DbError> {
    let (initial, changes) = status_timeline(tx, action_id).await?;
    let status = current_status(initial.unwrap_or(fallback), &changes);
    sqlx::query("UPDATE actions SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3")
        .bind(status.as_str())
        .bind(at)
        .bind(action_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The action's fields checked: the start and due dates, strictly.
fn check_action(f: &ActionFields<'_>) -> Result<(Option<String>, Option<String>), DbError> {
    if f.title.trim().is_empty() {
        return Err(DbError::invalid("title", "Enter the action's title"));
    }
    if f.lead_person.trim().is_empty() {
        return Err(DbError::invalid("lead_person", "Enter the lead person's name"));
    }
    let start = opt_date("start_date", f.start_date)?;
    let due = opt_date("due_date", f.due_date)?;
    if let (Some(s), Some(d)) = (&start, &due) {
        if d < s {
            let (d, s) = (alliance_core::format::date(d), alliance_core::format::date(s));
            return Err(DbError::invalid("due_date", format!("The due date {d} is before the start date {s}")));
        }
    }
    Ok((start, due))
}

/// Binds an action's fields (`start` and `due` as [`check_action`] returns them) in the order
/// inserting and editing an action list the columns: commitment_id, title, description,
/// owner_org_id, lead_person, start_date, due_date, status, intervention_id.
fn bind_action<'q>(
    query: AnyQuery<'q>,
    f: &ActionFields<'q>,
    start: Option<String>,
    due: Option<String>,
) -> AnyQuery<'q> {
    query
        .bind(f.commitment_id)
        .bind(f.title.trim())
        .bind(f.description.trim())
        .bind(f.owner_org_id)
        .bind(f.lead_person.trim())
        .bind(start)
        .bind(due)
        .bind(f.status.as_str())
        .bind(f.intervention_id)
}

/// Inserts an action and the start of its history (effective `on`); returns its id. Used by
/// [`Db::create_action`] and by an action arising at a meeting.
/// Checks that the commitment, the owning organisation and the linked intervention an
/// action names exist (the form's lists offer only those, but a forged id was stored, or
/// failed on the commitment's foreign key as a fault).
async fn check_references(tx: &mut AnyConnection, f: &ActionFields<'_>) -> Result<(), DbError> {
    async fn exists(tx: &mut AnyConnection, sql: &str, id: i64) -> Result<bool, DbError> {
        Ok(sqlx::query(sql).bind(id).fetch_optional(&mut *tx).await?.is_some())
    }
    if !exists(tx, "SELECT 1 FROM commitments WHERE id = $1", f.commitment_id).await? {
        return Err(DbError::invalid("commitment_id", "Select a commitment from the list"));
    }
    if !exists(tx, "SELECT 1 FROM organisations WHERE id = $1", f.owner_org_id).await? {
        return Err(DbError::invalid("owner_org_id", "Select the owning organisation from the list"));
    }
    if let Some(intervention) = f.intervention_id {
        if !exists(tx, "SELECT 1 FROM interventions WHERE id = $1", intervention).await? {
            return Err(DbError::invalid("intervention_id", "Select an intervention from the list, or none"));
        }
    }
    Ok(())
}

pub(super) async fn insert_action(
    tx: &mut Transaction<'static, Any>,
    f: &ActionFields<'_>,
    by: &str,
    on: &str,
) -> Result<i64, DbError> {
    let (start, due) = check_action(f)?;
    check_references(tx, f).await?;
    let at = now();
    let id: i64 = bind_action(
        sqlx::query(
            "INSERT INTO actions (commitment_id, title, description, owner_org_id, lead_person, start_date, due_date, \
         status, intervention_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        ),
        f,
        start,
        due,
    )
    .bind(&at)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    record_history(tx, id, on, "created", None, Some(f.title.trim()), by).await?;
    record_history(tx, id, on, "status", None, Some(f.status.as_str()), by).await?;
    Ok(id)
}

impl Db {
    /// Creates an action; its history starts with its creation (effective `effective_on`,
    /// today when `None`). Without a form's key (tests, benches); a form calls
    /// [`Db::create_action_keyed`].
    pub async fn create_action(
        &self,
        f: &ActionFields<'_>,
        actor: &Actor,
        effective_on: Option<&str>,
    ) -> Result<i64, DbError> {
        self.create_action_keyed(f, effective_on, None, actor).await
    }

    /// [`Db::create_action`] from a form: the same form sent again (its `submission` key)
    /// creates nothing and returns the first one's id.
    pub async fn create_action_keyed(
        &self,
        f: &ActionFields<'_>,
        effective_on: Option<&str>,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        check_action(f)?;
        let on = match effective_on {
            Some(d) => check_date("effective_on", d)?,
            None => today(),
        };
        let key = submissions::key("action", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let id = insert_action(&mut tx, f, &actor.name, &on).await?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        self.commit_governance(tx, actor, &format!("/actions/{id}"), "action created").await?;
        Ok(id)
    }

    /// Edits an action, keeping one history row per field changed. `seen` is the
    /// [`Action::version`] the editor's form was opened on: when the action has changed since
    /// (a partner's progress update, another officer's edit), the edit is refused (`Conflict`
    /// on `version`) rather than writing the form's stale status and fields over the change.
    /// The claim of the version is the transaction's first write, so two edits of one version
    /// cannot both pass it ([`versions::claim`]).
    pub async fn edit_action(
        &self,
        id: i64,
        f: &ActionFields<'_>,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let (start, due) = check_action(f)?;
        let on = today();
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Action, id, seen).await? {
            return Err(DbError::not_found(format!("action {id}")));
        }
        let old = action_in(&mut tx, id).await?;
        check_references(&mut tx, f).await?;
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
                record_history(&mut tx, id, &on, field, o.as_deref(), n.as_deref(), &actor.name).await?;
            }
        }
        let query = sqlx::query(
            "UPDATE actions SET commitment_id = $1, title = $2, description = $3, owner_org_id = $4, lead_person = $5, \
             start_date = $6, due_date = $7, status = $8, intervention_id = $9, updated_at = $10 WHERE id = $11",
        );
        bind_action(query, f, start, due).bind(now()).bind(id).execute(&mut *tx).await?;
        refresh_status(&mut tx, id, f.status, &now()).await?;
        self.commit_governance(tx, actor, &format!("/actions/{id}"), "action edited").await?;
        Ok(())
    }

    /// Records a dated progress update and the status it reports (history effective on the
    /// update's date). Whether the actor may do so is decided by the caller (the web's access
    /// module, `require_action_update`). Without a form's key; a form calls
    /// [`Db::add_action_update_keyed`].
    pub async fn add_action_update(
        &self,
        action_id: i64,
        on_date: &str,
        status: ActionStatus,
        note: &str,
        actor: &Actor,
        by_org_id: Option<i64>,
    ) -> Result<i64, DbError> {
        self.add_action_update_keyed(action_id, on_date, status, note, None, actor, by_org_id).await
    }

    /// [`Db::add_action_update`] from a form: the same form sent again (its `submission` key)
    /// records nothing more and returns the first update's id.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_action_update_keyed(
        &self,
        action_id: i64,
        on_date: &str,
        status: ActionStatus,
        note: &str,
        submission: Option<&str>,
        actor: &Actor,
        by_org_id: Option<i64>,
    ) -> Result<i64, DbError> {
        let on = check_date("on_date", on_date)?;
        // Progress is reported, not foretold: an update dated ahead would set today's status
        // (a "complete" next year hid an overdue action from the list, while the overview,
        // which reads the dates, still counted it).
        let today = crate::clock::today();
        if on > today {
            return Err(DbError::invalid(
                "on_date",
                format!("{on} is after today ({today}): record progress made, dated on or before today"),
            ));
        }
        if note.trim().is_empty() {
            return Err(DbError::invalid("note", "Say what progress was made"));
        }
        let by = actor.name.as_str();
        let key = submissions::key("action-update", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let old = action_in(&mut tx, action_id).await?;
        let at = now();
        let id: i64 = sqlx::query(
            "INSERT INTO action_updates (action_id, on_date, status, note, by_user, by_org_id, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(action_id)
        .bind(&on)
        .bind(status.as_str())
        .bind(note.trim())
        .bind(by)
        .bind(by_org_id)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        record_history(&mut tx, action_id, &on, "update", None, Some(note.trim()), by).await?;
        // Every update states the status on its date, so it is always a dated change (the
        // old value is the status on that date before it); the stored status is then the
        // one the whole timeline gives now, whatever order the updates were recorded in.
        let (initial, changes) = status_timeline(&mut tx, action_id).await?;
        let before = status_on(initial.unwrap_or(old.status), &changes, &on);
        record_history(&mut tx, action_id, &on, "status", Some(before.as_str()), Some(status.as_str()), by).await?;
        refresh_status(&mut tx, action_id, old.status, &at).await?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("progress update on {on}: {}", status.label());
        self.commit_governance(tx, actor, &format!("/actions/{action_id}"), &detail).await?;
        Ok(id)
    }

    /// Every action, by id.
    pub async fn actions(&self) -> Result<Vec<Action>, DbError> {
        Ok(sqlx::query_as(&format!("{ACTION_SELECT} ORDER BY a.id")).fetch_all(&self.pool).await?)
    }

    pub async fn action(&self, id: i64) -> Result<Option<Action>, DbError> {
        Ok(sqlx::query_as(&format!("{ACTION_SELECT} WHERE a.id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    pub async fn action_updates(&self, action_id: i64) -> Result<Vec<ActionUpdate>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, action_id, on_date, status, note, by_user, recorded_at FROM action_updates WHERE action_id = $1 \
             ORDER BY on_date DESC, id DESC",
        )
        .bind(action_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The history of one action (`Some(id)`) or of all, in the order recorded.
    pub async fn action_history(&self, action_id: Option<i64>) -> Result<Vec<HistoryEntry>, DbError> {
        let sql =
            "SELECT id, action_id, effective_on, field, old_value, new_value, by_user, recorded_at FROM action_history";
        Ok(match action_id {
            Some(a) => {
                sqlx::query_as(&format!("{sql} WHERE action_id = $1 ORDER BY id")).bind(a).fetch_all(&self.pool).await?
            }
            None => sqlx::query_as(&format!("{sql} ORDER BY id")).fetch_all(&self.pool).await?,
        })
    }

    /// Adds a milestone to an action. The same form sent again (its `submission` key) adds
    /// nothing and returns the first one's id.
    pub async fn add_milestone(
        &self,
        action_id: i64,
        title: &str,
        due: Option<&str>,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        if title.trim().is_empty() {
            return Err(DbError::invalid("milestone", "Enter the milestone's title"));
        }
        let due = opt_date("milestone_due", due)?;
        let key = submissions::key("milestone", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        action_in(&mut tx, action_id).await?;
        let id: i64 =
            sqlx::query("INSERT INTO action_milestones (action_id, title, due_date) VALUES ($1, $2, $3) RETURNING id")
                .bind(action_id)
                .bind(title.trim())
                .bind(&due)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        record_history(&mut tx, action_id, &today(), "milestone", None, Some(title.trim()), &actor.name).await?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        self.commit_governance(tx, actor, &format!("/actions/{action_id}"), "milestone added").await?;
        Ok(id)
    }

    pub async fn complete_milestone(&self, milestone_id: i64, done_on: &str, actor: &Actor) -> Result<(), DbError> {
        let done = check_date("done_on", done_on)?;
        let mut tx = self.begin_write().await?;
        let (action_id, title): (i64, String) =
            sqlx::query_as("UPDATE action_milestones SET done_on = $1 WHERE id = $2 RETURNING action_id, title")
                .bind(&done)
                .bind(milestone_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| DbError::not_found(format!("milestone {milestone_id}")))?;
        record_history(&mut tx, action_id, &done, "milestone done", None, Some(&title), &actor.name).await?;
        let detail = format!("milestone {milestone_id} done");
        self.commit_governance(tx, actor, &format!("/actions/{action_id}"), &detail).await?;
        Ok(())
    }

    pub async fn milestones(&self, action_id: i64) -> Result<Vec<Milestone>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, action_id, title, due_date, done_on FROM action_milestones WHERE action_id = $1 ORDER BY id",
        )
        .bind(action_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every milestone of every action, by action then id.
    pub async fn all_milestones(&self) -> Result<Vec<Milestone>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, action_id, title, due_date, done_on FROM action_milestones ORDER BY action_id, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records that `action_id` depends on `depends_on` (refusing a self-dependency).
    pub async fn add_dependency(&self, action_id: i64, depends_on: i64, actor: &Actor) -> Result<(), DbError> {
        if action_id == depends_on {
            return Err(DbError::invalid("depends_on", "An action cannot depend on itself"));
        }
        let mut tx = self.begin_write().await?;
        action_in(&mut tx, action_id).await?;
        if let Err(DbError::NotFound { .. }) = action_in(&mut tx, depends_on).await {
            return Err(DbError::invalid("depends_on", format!("There is no action {depends_on}")));
        }
        sqlx::query("INSERT INTO action_dependencies (action_id, depends_on) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(action_id)
            .bind(depends_on)
            .execute(&mut *tx)
            .await?;
        let on = today();
        record_history(&mut tx, action_id, &on, "dependency", None, Some(&depends_on.to_string()), &actor.name).await?;
        let detail = format!("depends on action {depends_on}");
        self.commit_governance(tx, actor, &format!("/actions/{action_id}"), &detail).await?;
        Ok(())
    }

    /// (action, depends on) pairs.
    pub async fn dependencies(&self) -> Result<Vec<(i64, i64)>, DbError> {
        Ok(sqlx::query_as("SELECT action_id, depends_on FROM action_dependencies ORDER BY action_id, depends_on")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Marks an action for escalation to the Board on `raised_on`, with the reason; kept in
    /// the action's history too. The Board pack of that quarter lists it. The same form sent
    /// again (its `submission` key) marks nothing more and returns the first one's id.
    pub async fn escalate_action(
        &self,
        action_id: i64,
        raised_on: &str,
        note: &str,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let on = check_date("raised_on", raised_on)?;
        if note.trim().is_empty() {
            return Err(DbError::invalid("note", "Say why the Board needs to know"));
        }
        let key = submissions::key("escalation", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        action_in(&mut tx, action_id).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO action_escalations (action_id, raised_on, note, by_user, recorded_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(action_id)
        .bind(&on)
        .bind(note.trim())
        .bind(&actor.name)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        record_history(&mut tx, action_id, &on, "escalated", None, Some(note.trim()), &actor.name).await?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("escalated to the Board on {on}");
        self.commit_governance(tx, actor, &format!("/actions/{action_id}"), &detail).await?;
        Ok(id)
    }

    /// Every escalation marked on the action plan, by date.
    pub async fn action_escalations(&self) -> Result<Vec<ActionEscalation>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, action_id, raised_on, note, by_user FROM action_escalations ORDER BY raised_on, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
