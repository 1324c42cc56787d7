//! Meetings of the Executive Board and the Delivery Group: who attended for which
//! organisation, and the decisions, escalations and actions arising recorded at each (an
//! action arising is also an action in the plan, created with the item).

use alliance_core::governance::{MeetingBody, MeetingItemKind};
use serde::Serialize;
use sqlx::Row;

use super::actions::{insert_action, ActionFields};
use super::{check_date, required};
use crate::audit::Actor;
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::{Db, DbError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Meeting {
    pub id: i64,
    /// A [`MeetingBody`] code.
    pub body: String,
    pub held_on: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attendee {
    pub meeting_id: i64,
    pub org_id: i64,
    pub org: String,
    pub person: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MeetingItem {
    pub id: i64,
    pub meeting_id: i64,
    /// A [`MeetingItemKind`] code.
    pub kind: String,
    pub text: String,
    pub action_id: Option<i64>,
}

impl Db {
    /// Adds a meeting with its attendees `(organisation, person)`. The same form sent again
    /// (its `submission` key) adds nothing and returns the first one's id.
    pub async fn create_meeting(
        &self,
        body: MeetingBody,
        held_on: &str,
        title: &str,
        attendees: &[(i64, String)],
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let held = check_date("held_on", held_on)?;
        let title = required("title", title, "Enter the meeting's title")?;
        let key = submissions::key("meeting", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let id: i64 =
            sqlx::query("INSERT INTO meetings (body, held_on, title, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(body.code())
                .bind(&held)
                .bind(title)
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
        submissions::record(&mut tx, key.as_deref(), id).await?;
        self.commit_governance(tx, actor, &format!("/meetings/{id}"), "meeting added").await?;
        Ok(id)
    }

    /// Adds a decision or an escalation to a meeting (an action arising is
    /// [`Db::add_meeting_action`]). The same form sent again (its `submission` key) adds
    /// nothing and returns the first one's id.
    pub async fn add_meeting_item(
        &self,
        meeting_id: i64,
        kind: MeetingItemKind,
        text: &str,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        if kind == MeetingItemKind::Action {
            return Err(DbError::invalid("kind", "An action arising is added with the action it creates"));
        }
        let text = required("text", text, "Enter what was decided or escalated")?;
        let key = submissions::key("meeting-item", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let id = insert_item(&mut tx, meeting_id, kind, text, None).await?;
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("{kind} added");
        self.commit_governance(tx, actor, &format!("/meetings/{meeting_id}"), &detail).await?;
        Ok(id)
    }

    /// An action arising at a meeting: creates the action in the plan (its history effective
    /// on the meeting's date) and the meeting's item naming it, in one transaction. Returns
    /// the action's id; the same form sent again (its `submission` key) returns the first
    /// one's and creates nothing.
    pub async fn add_meeting_action(
        &self,
        meeting_id: i64,
        fields: &ActionFields<'_>,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let key = submissions::key("meeting-action", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let held_on: String = sqlx::query_scalar("SELECT held_on FROM meetings WHERE id = $1")
            .bind(meeting_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::not_found(format!("meeting {meeting_id}")))?;
        let action_id = insert_action(&mut tx, fields, &actor.name, &held_on).await?;
        insert_item(&mut tx, meeting_id, MeetingItemKind::Action, fields.title.trim(), Some(action_id)).await?;
        submissions::record(&mut tx, key.as_deref(), action_id).await?;
        let detail = format!("action arising: action {action_id}");
        self.commit_governance(tx, actor, &format!("/meetings/{meeting_id}"), &detail).await?;
        Ok(action_id)
    }

    pub async fn meetings(&self) -> Result<Vec<Meeting>, DbError> {
        Ok(sqlx::query_as("SELECT id, body, held_on, title FROM meetings ORDER BY held_on DESC, id DESC")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn meeting_attendees(&self) -> Result<Vec<Attendee>, DbError> {
        Ok(sqlx::query_as(
            "SELECT m.meeting_id AS meeting_id, m.org_id AS org_id, COALESCE(o.name, '') AS org, m.person AS person \
             FROM meeting_attendees m LEFT JOIN organisations o ON o.id = m.org_id ORDER BY m.meeting_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn meeting_items(&self) -> Result<Vec<MeetingItem>, DbError> {
        Ok(sqlx::query_as("SELECT id, meeting_id, kind, text, action_id FROM meeting_items ORDER BY meeting_id, id")
            .fetch_all(&self.pool)
            .await?)
    }
}

async fn insert_item(
    tx: &mut sqlx::AnyConnection,
    meeting_id: i64,
    kind: MeetingItemKind,
    text: &str,
    action_id: Option<i64>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO meeting_items (meeting_id, kind, text, action_id) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(meeting_id)
    .bind(kind.code())
    .bind(text)
    .bind(action_id)
    .fetch_one(&mut *tx)
    .await?)
}
