//! The partnership profile (one row) and the first-run set-up that stores it with the first
//! administrator.

use alliance_core::access::OrgType;
use alliance_core::partnership::Profile;
use sqlx::Row;

use crate::access::{checked_new_user, insert_organisation, insert_user, is_unique_violation, now, NewUser};
use crate::audit::{append, Actor};
use crate::{Db, DbError};

/// The audit action of a change to the partnership's profile.
pub const PROFILE_CHANGE: &str = "partnership-profile";

/// The first administrator and their organisation, as the set-up page collects them.
pub struct FirstAdministrator<'a> {
    pub org_name: &'a str,
    pub org_type: OrgType,
    /// `role` is ignored: the first user is always an administrator.
    pub user: NewUser<'a>,
}

fn already_set() -> DbError {
    DbError::conflict(
        "profile",
        "The partnership is already set up: change its profile with `alliance partnership set`",
    )
}

impl Db {
    /// Whether anyone can sign in yet (a fresh deployment has nobody, and opens set-up).
    pub async fn has_users(&self) -> Result<bool, DbError> {
        Ok(sqlx::query("SELECT id FROM users LIMIT 1").fetch_optional(&self.pool).await?.is_some())
    }

    /// The stored profile, or `None` before the partnership is set up.
    pub async fn partnership(&self) -> Result<Option<Profile>, DbError> {
        let row = sqlx::query("SELECT profile FROM partnership WHERE id = 1").fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.try_get(0)?;
        Profile::from_json(&text).map(Some).map_err(|e| DbError::corrupt(format!("partnership.profile: {e}")))
    }

    /// Stores the profile of a partnership not yet set up; `Conflict { field: "profile" }`
    /// when one is (the row's `CHECK (id = 1)` key decides between two racing calls).
    pub async fn init_partnership(&self, profile: &Profile, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        insert_profile(&mut tx, profile, &actor.name).await?;
        append(&mut tx, self.audit_chain(), &actor.event(PROFILE_CHANGE, "partnership", &profile.name)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the stored profile; `NotFound` before the partnership is set up.
    pub async fn set_partnership(&self, profile: &Profile, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE partnership SET profile = $1, updated_at = $2, updated_by = $3 WHERE id = 1")
            .bind(profile.to_json())
            .bind(now())
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::not_found("partnership profile"));
        }
        append(&mut tx, self.audit_chain(), &actor.event(PROFILE_CHANGE, "partnership", &profile.name)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// First run: the profile, the first administrator's organisation and the administrator,
    /// in one transaction. Refused with `Conflict { field: "profile" }` once a profile or any
    /// user exists, so the set-up page cannot be used to take over a running deployment;
    /// two set-ups racing each other meet at the profile row's key and one of them fails.
    /// Returns the new user's id.
    pub async fn set_up_partnership(
        &self,
        profile: &Profile,
        first: &FirstAdministrator<'_>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let email = checked_new_user(&first.user)?;
        let org_name = first.org_name.trim();
        if org_name.is_empty() {
            return Err(DbError::invalid("org_name", "Enter your organisation's name"));
        }
        let mut tx = self.begin_write().await?;
        let users: i64 = sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?.try_get(0)?;
        if users > 0 {
            return Err(already_set());
        }
        insert_profile(&mut tx, profile, &email).await?;
        let org_id = insert_organisation(&mut tx, org_name, first.org_type).await.map_err(|e| match e {
            DbError::Conflict { reason, .. } => DbError::Conflict { field: "org_name", reason },
            other => other,
        })?;
        let user = NewUser { org_id, role: alliance_core::access::Role::Administrator, ..first.user };
        let id = insert_user(&mut tx, &user, &email).await?;
        append(&mut tx, self.audit_chain(), &actor.event(PROFILE_CHANGE, "partnership", &profile.name)).await?;
        let detail = "first administrator, added at set-up";
        append(&mut tx, self.audit_chain(), &actor.event(crate::access::PERMISSION_CHANGE, &email, detail)).await?;
        tx.commit().await?;
        Ok(id)
    }
}

async fn insert_profile(tx: &mut sqlx::AnyConnection, profile: &Profile, by: &str) -> Result<(), DbError> {
    sqlx::query("INSERT INTO partnership (id, profile, updated_at, updated_by) VALUES (1, $1, $2, $3)")
        .bind(profile.to_json())
        .bind(now())
        .bind(by)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { already_set() } else { e.into() })?;
    Ok(())
}
