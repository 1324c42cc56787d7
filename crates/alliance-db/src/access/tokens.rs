//! API tokens: only each token's hash is stored.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::sharing::actor_email;
use super::{MAX_NAME_CHARS, PERMISSION_CHANGE};
use crate::audit::{append, Actor};
use crate::clock::{now, stamp};
use crate::{Db, DbError};

/// An API token as stored (its hash only).
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// RFC 3339 UTC; refused from then on ([`TOKEN_DAYS`] after creation).
    pub expires_at: Option<String>,
    /// Whether it had expired when it was read.
    pub expired: bool,
}

/// How long an API token lasts: a year.
pub const TOKEN_DAYS: i64 = 365;

const TOKEN_COLUMNS: &str = "t.id, t.org_id, o.name AS org_name, t.name, t.scopes, t.created_by, t.created_at, \
     t.last_used_at, t.revoked_at, t.expires_at";

impl ApiToken {
    fn from_row(r: &AnyRow) -> Result<ApiToken, DbError> {
        let scopes: String = r.try_get("scopes")?;
        let expires_at: Option<String> = r.try_get("expires_at")?;
        Ok(ApiToken {
            id: r.try_get("id")?,
            org_id: r.try_get("org_id")?,
            org_name: r.try_get("org_name")?,
            name: r.try_get("name")?,
            scopes: scopes.split_whitespace().map(str::to_string).collect(),
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            last_used_at: r.try_get("last_used_at")?,
            revoked_at: r.try_get("revoked_at")?,
            expired: expires_at.as_deref().is_some_and(|e| e <= now().as_str()),
            expires_at,
        })
    }
}

impl Db {
    /// Stores a token for an organisation, expiring [`TOKEN_DAYS`] from now: an empty name is `Invalid { field: "name" }`, an
    /// unknown organisation `Invalid { field: "org_id" }`, no scope `Invalid { field: "scope" }`.
    /// Recorded as a `permission-change` on `token:<id>`.
    pub async fn create_api_token(
        &self,
        org_id: i64,
        name: &str,
        token_hash: &str,
        scopes: &[&str],
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DbError::invalid("name", "Enter a name saying what system uses the token"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(DbError::invalid("name", format!("Enter a name of at most {MAX_NAME_CHARS} characters")));
        }
        if scopes.is_empty() {
            return Err(DbError::invalid("scope", "Choose at least one scope"));
        }
        let mut tx = self.begin_write().await?;
        let org = sqlx::query("SELECT id FROM organisations WHERE id = $1").bind(org_id).fetch_optional(&mut *tx);
        if org.await?.is_none() {
            return Err(DbError::invalid("org_id", "Choose an organisation (add one first)"));
        }
        let row = sqlx::query(
            "INSERT INTO api_tokens (org_id, name, token_hash, scopes, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(org_id)
        .bind(name)
        .bind(token_hash)
        .bind(scopes.join(" "))
        .bind(actor_email(actor))
        .bind(now())
        .bind(stamp(chrono::Utc::now() + chrono::Duration::days(TOKEN_DAYS)))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let detail = format!("token \"{name}\" created for organisation {org_id} with scopes {}", scopes.join(" "));
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, &format!("token:{id}"), &detail)).await?;
        Ok(id)
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN organisations o ON o.id = t.org_id ORDER BY t.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ApiToken::from_row).collect()
    }

    /// The unrevoked, unexpired token with this hash, its last-used time set to now. (The
    /// time is bookkeeping of a read, not a change of what anyone may do, so it writes no
    /// audit row.)
    pub async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN organisations o ON o.id = t.org_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
        ))
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        let Some(token) = row.as_ref().map(ApiToken::from_row).transpose()? else { return Ok(None) };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(token.id)
            .execute(&self.pool)
            .await?;
        Ok(Some(token))
    }

    /// Revokes a token (`NotFound` when there is none with this id); revoking one already
    /// revoked changes nothing and records nothing.
    pub async fn revoke_api_token(&self, id: i64, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM api_tokens WHERE id = $1").bind(id).fetch_optional(&mut *tx);
        if exists.await?.is_none() {
            return Err(DbError::not_found(format!("token {id}")));
        }
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            append(
                &mut tx,
                self.audit_chain(),
                &actor.event(PERMISSION_CHANGE, &format!("token:{id}"), "token revoked"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
