//! Access and trust storage: organisations, users and their sign-in state, sessions,
//! datasets with their owners, information sharing agreements and what they grant, DPIAs,
//! and API tokens. The decision of who sees what is `alliance_core::access::access_level`;
//! this module only loads and stores what it needs.
//!
//! Every write takes the [`Actor`] making it and appends its audit row inside the change's
//! own transaction ([`crate::audit::append`]), so a change is never stored without its row.
//! Input errors are typed: [`DbError::Invalid`] and [`DbError::Conflict`] name the field at
//! fault (`name`, `email`, `title`, `review_date`, …) as the forms name it.

mod limits;
mod sharing;
mod tokens;
mod users;

use alliance_core::access::OrgType;
use serde::Serialize;
use sqlx::Row;

use crate::audit::Actor;
use crate::clock::now;
use crate::{Db, DbError};

pub use sharing::{
    check_length, field_limits, Agreement, Dataset, Dpia, GrantRecord, GrantStatus, NewAgreement, NewDpia,
};
pub use tokens::{ApiToken, TOKEN_DAYS};
pub(crate) use users::{checked_new_user, insert_user, update_ending_sessions};
pub use users::{NewSession, NewUser, User};

/// The longest name of an organisation, a user or an API token.
pub const MAX_NAME_CHARS: usize = 200;

/// The audit action of a change to who may see or do what.
pub const PERMISSION_CHANGE: &str = "permission-change";

/// `e` as the caller's [`DbError::Conflict`] that `conflict` makes when it is a unique
/// constraint's violation (a name or an email already taken), and as the fault it is otherwise.
pub(crate) fn conflict_if_unique(e: sqlx::Error, conflict: impl FnOnce() -> DbError) -> DbError {
    match e {
        sqlx::Error::Database(ref d) if d.is_unique_violation() => conflict(),
        e => e.into(),
    }
}

/// A date as the forms ask for it (`2026-03-31`), checked strictly (no 31 February).
fn check_date(field: &'static str, label: &str, value: &str) -> Result<(), DbError> {
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(_) => Ok(()),
        Err(_) if value.trim().is_empty() => Err(DbError::invalid(field, format!("Enter the {label}"))),
        Err(_) => Err(DbError::invalid(field, format!("The {label} must be a real date like 2026-03-31"))),
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub org_type: String,
    pub created_at: String,
}

impl Db {
    pub async fn organisations(&self) -> Result<Vec<Organisation>, DbError> {
        Ok(sqlx::query_as("SELECT id, name, org_type, created_at FROM organisations ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn organisation_by_name(&self, name: &str) -> Result<Option<Organisation>, DbError> {
        Ok(self.organisations().await?.into_iter().find(|o| o.name.eq_ignore_ascii_case(name.trim())))
    }

    /// Creates an organisation: an empty name is `Invalid { field: "name" }`, a name already
    /// taken `Conflict { field: "name" }`.
    pub async fn create_organisation(&self, name: &str, org_type: OrgType, actor: &Actor) -> Result<i64, DbError> {
        let name = checked_organisation_name(name)?;
        let mut tx = self.begin_write().await?;
        let id = insert_organisation(&mut tx, name, org_type).await?;
        let detail = format!("organisation added ({})", org_type.code());
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, name, &detail)).await?;
        Ok(id)
    }
}

/// A new organisation's name, trimmed: an empty or over-long one is `Invalid { field: "name" }`.
pub(crate) fn checked_organisation_name(name: &str) -> Result<&str, DbError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DbError::invalid("name", "Enter the organisation's name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DbError::invalid("name", format!("Enter a name of at most {MAX_NAME_CHARS} characters")));
    }
    Ok(name)
}

/// Inserts an organisation inside the caller's transaction; a name already taken is
/// `Conflict { field: "name" }`.
pub(crate) async fn insert_organisation(
    tx: &mut sqlx::AnyConnection,
    name: &str,
    org_type: OrgType,
) -> Result<i64, DbError> {
    let row = sqlx::query("INSERT INTO organisations (name, org_type, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(name)
        .bind(org_type.code())
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            conflict_if_unique(e, || {
                DbError::conflict("name", format!("An organisation called \"{name}\" already exists"))
            })
        })?;
    Ok(row.try_get(0)?)
}
