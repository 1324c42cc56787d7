//! Single-use links sent by e-mail (migration 0031, table `account_tokens`): invitations to
//! set up an account, and password resets. Only the SHA-256 of a link's token is stored.
//!
//! A link is used by one conditional `UPDATE … SET used_at … WHERE used_at IS NULL AND
//! expires_at > now`, in the same transaction as the change it makes (the new user, the new
//! password) and its audit row: two requests racing with one link cannot both succeed, and
//! an expired or used link changes nothing. Times are RFC 3339 UTC text to the second, which
//! sorts as it reads on both backends.

use alliance_core::access::Role;
use sqlx::Row;

use crate::access::{checked_new_user, insert_user, update_ending_sessions, NewUser, PERMISSION_CHANGE};
use crate::audit::{append, Actor};
use crate::{Db, DbError};

/// The audit action of an invitation sent.
pub const INVITATION: &str = "invitation";
/// The audit action of an invitation accepted (the account is made).
pub const INVITATION_ACCEPTED: &str = "invitation-accepted";
/// The audit action of an administrator withdrawing an invitation before it was used.
pub const INVITATION_WITHDRAWN: &str = "invitation-withdrawn";
/// The audit action of a password reset asked for (whether or not the address has an account).
pub const RESET_REQUESTED: &str = "password-reset-requested";
/// The audit action of a password set through a reset link.
pub const PASSWORD_RESET: &str = "password-reset";

/// An invitation to store (the token already hashed by the caller).
pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub org_id: i64,
    pub role: Role,
    pub token_hash: &'a str,
    /// RFC 3339 UTC.
    pub expires_at: &'a str,
}

/// An invitation that can still be used, as its page shows it.
#[derive(Debug, Clone)]
pub struct PendingInvitation {
    pub email: String,
    pub name: String,
    pub org_name: String,
    pub role: Role,
    pub expires_at: String,
    pub created_by: String,
}

/// Spends a link of `purpose` ("invitation" or "reset") with the conditional `UPDATE` of the
/// module's doc, returning the `returning` columns of its row; `NotFound` (as `what`) when the
/// link is unknown, used or expired at `now`.
async fn spend(
    tx: &mut sqlx::AnyConnection,
    purpose: &'static str,
    returning: &'static str,
    token_hash: &str,
    now: &str,
    what: &'static str,
) -> Result<sqlx::any::AnyRow, DbError> {
    let sql = format!(
        "UPDATE account_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = '{purpose}' \
         AND used_at IS NULL AND expires_at > $3 RETURNING {returning}"
    );
    let row = sqlx::query(&sql).bind(now).bind(token_hash).bind(now).fetch_optional(&mut *tx).await?;
    row.ok_or_else(|| DbError::not_found(what))
}

fn role_of(text: &str) -> Result<Role, DbError> {
    text.parse().map_err(|e| DbError::corrupt(format!("account_tokens.role: {e}")))
}

impl PendingInvitation {
    /// A row of the invitation queries, which select the same named columns.
    fn from_row(r: &sqlx::any::AnyRow) -> Result<PendingInvitation, DbError> {
        Ok(PendingInvitation {
            email: r.try_get("email")?,
            name: r.try_get("name")?,
            org_name: r.try_get("org_name")?,
            role: role_of(&r.try_get::<String, _>("role")?)?,
            expires_at: r.try_get("expires_at")?,
            created_by: r.try_get("created_by")?,
        })
    }
}

impl Db {
    /// Stores an invitation and records it (`invitation`), in one transaction. Refused with
    /// `Invalid` (`name`, `email`, `org_id`) or `Conflict { field: "email" }` when the address
    /// already has an account. An earlier invitation to the same address that was not used
    /// stops working: only the newest link counts.
    pub async fn create_invitation(&self, new: &NewInvitation<'_>, actor: &Actor) -> Result<i64, DbError> {
        let email = checked_new_user(&NewUser {
            email: new.email,
            name: new.name,
            org_id: new.org_id,
            role: new.role,
            password_hash: "",
        })?;
        let mut tx = self.begin_write().await?;
        let org = sqlx::query("SELECT id FROM organisations WHERE id = $1").bind(new.org_id).fetch_optional(&mut *tx);
        if org.await?.is_none() {
            return Err(DbError::invalid("org_id", "Choose an organisation (add one first)"));
        }
        let taken = sqlx::query("SELECT id FROM users WHERE email = $1").bind(&email).fetch_optional(&mut *tx);
        if taken.await?.is_some() {
            return Err(DbError::conflict("email", format!("{email} already has an account")));
        }
        let now = crate::clock::now();
        sqlx::query(
            "UPDATE account_tokens SET used_at = $1 WHERE purpose = 'invitation' AND email = $2 AND used_at IS NULL",
        )
        .bind(&now)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO account_tokens (token_hash, purpose, email, name, org_id, role, created_at, created_by, expires_at) \
             VALUES ($1, 'invitation', $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.token_hash)
        .bind(&email)
        .bind(new.name.trim())
        .bind(new.org_id)
        .bind(new.role.code())
        .bind(&now)
        .bind(&actor.name)
        .bind(new.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let detail = format!("invited as {}, the link expires at {}", new.role, new.expires_at);
        self.commit_audited(tx, &actor.event(INVITATION, &email, &detail)).await?;
        Ok(id)
    }

    /// The invitation of a link, if it can still be used at `now`.
    pub async fn invitation(&self, token_hash: &str, now: &str) -> Result<Option<PendingInvitation>, DbError> {
        let row = sqlx::query(
            "SELECT t.email, t.name, o.name AS org_name, t.role, t.expires_at, t.created_by FROM account_tokens t \
             JOIN organisations o ON o.id = t.org_id \
             WHERE t.token_hash = $1 AND t.purpose = 'invitation' AND t.used_at IS NULL AND t.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(PendingInvitation::from_row).transpose()
    }

    /// Withdraws the unused invitation to `email` (sent to the wrong address, or to someone who
    /// has since left): its link stops working at once. Audited (`invitation-withdrawn`) in
    /// the same transaction; `false` when no unused invitation to that address is pending
    /// (already used, expired or withdrawn: two withdrawals at once record one).
    pub async fn withdraw_invitation(&self, email: &str, actor: &Actor) -> Result<bool, DbError> {
        let email = email.trim().to_lowercase();
        let now = crate::clock::now();
        let mut tx = self.begin_write().await?;
        let withdrawn = sqlx::query(
            "UPDATE account_tokens SET used_at = $1 WHERE purpose = 'invitation' AND email = $2 AND used_at IS NULL \
             AND expires_at > $1",
        )
        .bind(&now)
        .bind(&email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if withdrawn == 0 {
            return Ok(false);
        }
        self.commit_audited(tx, &actor.event(INVITATION_WITHDRAWN, &email, "the unused link withdrawn")).await?;
        Ok(true)
    }

    /// Invitations not yet used or expired at `now`, newest first (the users page lists them).
    pub async fn pending_invitations(&self, now: &str) -> Result<Vec<PendingInvitation>, DbError> {
        let rows = sqlx::query(
            "SELECT t.email, t.name, o.name AS org_name, t.role, t.expires_at, t.created_by FROM account_tokens t \
             JOIN organisations o ON o.id = t.org_id \
             WHERE t.purpose = 'invitation' AND t.used_at IS NULL AND t.expires_at > $1 ORDER BY t.id DESC",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(PendingInvitation::from_row).collect()
    }

    /// Uses an invitation link: the account is made with `password_hash`, the link is spent,
    /// and both are recorded (`invitation-accepted`, and the `permission-change` of the new
    /// user), in one transaction. `NotFound` when the link is unknown, used or expired at
    /// `now`; `Conflict { field: "email" }` when the address got an account meanwhile.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: &str,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let mut tx = self.begin_write().await?;
        let returning = "email, name, org_id, role, created_by";
        let spent = spend(&mut tx, "invitation", returning, token_hash, now, "invitation").await?;
        let email: String = spent.try_get("email")?;
        let name: String = spent.try_get("name")?;
        let role = role_of(&spent.try_get::<String, _>("role")?)?;
        let invited_by: String = spent.try_get("created_by")?;
        let user = NewUser { email: &email, name: &name, org_id: spent.try_get("org_id")?, role, password_hash };
        let id = insert_user(&mut tx, &user, &email).await?;
        append(&mut tx, self.audit_chain(), &actor.event(INVITATION_ACCEPTED, &email, "")).await?;
        let detail = format!("user added as {role}, invited by {invited_by}");
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, &email, &detail)).await?;
        Ok(id)
    }

    /// Records a request for a password reset of `email` and, when `reset` is given (the
    /// address belongs to an active user: `(user id, token hash, expiry)`), stores its link,
    /// ending the user's earlier reset links. One transaction either way.
    pub async fn request_password_reset(
        &self,
        email: &str,
        reset: Option<(i64, &str, &str)>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let detail = match reset {
            Some((user_id, token_hash, expires_at)) => {
                let now = crate::clock::now();
                sqlx::query(
                    "UPDATE account_tokens SET used_at = $1 WHERE purpose = 'reset' AND user_id = $2 AND used_at IS NULL",
                )
                .bind(&now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO account_tokens (token_hash, purpose, email, user_id, created_at, created_by, expires_at) \
                     VALUES ($1, 'reset', $2, $3, $4, $5, $6)",
                )
                .bind(token_hash)
                .bind(email)
                .bind(user_id)
                .bind(&now)
                .bind(&actor.name)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                format!("link sent, expires at {expires_at}")
            }
            None => "no active account: nothing sent".to_string(),
        };
        self.commit_audited(tx, &actor.event(RESET_REQUESTED, email, &detail)).await?;
        Ok(())
    }

    /// The email of the active user a reset link is for, if it can still be used at `now`.
    pub async fn password_reset_email(&self, token_hash: &str, now: &str) -> Result<Option<String>, DbError> {
        let row = sqlx::query(
            "SELECT u.email FROM account_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 \
             AND t.purpose = 'reset' AND t.used_at IS NULL AND t.expires_at > $2 AND u.active = 1",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| r.try_get::<String, _>(0)).transpose().map_err(DbError::from)
    }

    /// Uses a reset link: sets the password, clears failed sign-ins and any lock, ends every
    /// session of the user, spends the link, and records `password-reset`, in one
    /// transaction. `NotFound` when the link is unknown, used or expired at `now`, or its
    /// user was deactivated. Returns the user's email.
    pub async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: &str,
        actor: &Actor,
    ) -> Result<String, DbError> {
        let mut tx = self.begin_write().await?;
        let spent = spend(&mut tx, "reset", "user_id", token_hash, now, "password reset link").await?;
        let user_id: i64 = spent.try_get(0)?;
        let query = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_attempts = 0, locked_until = NULL \
             WHERE id = $3 AND active = 1 RETURNING email",
        )
        .bind(password_hash)
        .bind(now)
        .bind(user_id);
        let email = update_ending_sessions(&mut tx, query, user_id)
            .await?
            .ok_or_else(|| DbError::not_found("password reset link"))?;
        let detail = "password set through a reset link; every session ended";
        self.commit_audited(tx, &actor.event(PASSWORD_RESET, &email, detail)).await?;
        Ok(email)
    }
}
