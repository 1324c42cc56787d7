//! Users, their sign-in state and their sessions.

use alliance_core::access::Role;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{conflict_if_unique, MAX_NAME_CHARS, PERMISSION_CHANGE};
use crate::audit::Actor;
use crate::clock::now;
use crate::params::AnyQuery;
use crate::versions::{self, Versioned};
use crate::{Db, DbError};

/// A user, with the sign-in state the web layer needs.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub org_id: i64,
    pub org_name: String,
    pub org_type: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub failed_attempts: i64,
    pub locked_until: Option<String>,
    pub active: bool,
    pub created_at: String,
    /// Counts the changes of the user's access: what the administrators' page names
    /// ([`crate::versions`]).
    pub version: i64,
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.org_id, o.name AS org_name, o.org_type, u.role, u.password_hash, \
     u.failed_attempts, u.locked_until, u.active, u.created_at, u.version";

impl User {
    fn from_row(r: &AnyRow) -> Result<User, DbError> {
        let role: String = r.try_get("role")?;
        Ok(User {
            id: r.try_get("id")?,
            email: r.try_get("email")?,
            name: r.try_get("name")?,
            org_id: r.try_get("org_id")?,
            org_name: r.try_get("org_name")?,
            org_type: r.try_get("org_type")?,
            role: role.parse().map_err(|e| DbError::corrupt(format!("users.role: {e}")))?,
            password_hash: r.try_get("password_hash")?,
            failed_attempts: r.try_get("failed_attempts")?,
            locked_until: r.try_get("locked_until")?,
            active: r.try_get::<i64, _>("active")? != 0,
            created_at: r.try_get("created_at")?,
            version: r.try_get("version")?,
        })
    }
}

/// A new user; the password is already hashed (argon2id) by the caller.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub org_id: i64,
    pub role: Role,
    pub password_hash: &'a str,
}

/// A session to store: only the hash of the cookie's token is kept.
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub csrf_token: &'a str,
    /// RFC 3339.
    pub expires_at: &'a str,
    pub ip: &'a str,
}

async fn insert_session(tx: &mut sqlx::AnyConnection, s: &NewSession<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.csrf_token)
    .bind(now())
    .bind(s.expires_at)
    .bind(s.ip)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Db {
    pub async fn users(&self) -> Result<Vec<User>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id ORDER BY u.email"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(User::from_row).collect()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.email = $1"
        ))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(User::from_row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(User::from_row).transpose()
    }

    /// Creates a user (email stored lower-case): a malformed email or an empty name is
    /// `Invalid` (`email`, `name`), an email already taken `Conflict { field: "email" }`,
    /// an organisation that does not exist `Invalid { field: "org_id" }`.
    pub async fn create_user(&self, user: &NewUser<'_>, actor: &Actor) -> Result<i64, DbError> {
        let email = checked_new_user(user)?;
        let mut tx = self.begin_write().await?;
        let org = sqlx::query("SELECT id FROM organisations WHERE id = $1").bind(user.org_id).fetch_optional(&mut *tx);
        if org.await?.is_none() {
            return Err(DbError::invalid("org_id", "Choose an organisation (add one first)"));
        }
        let id = insert_user(&mut tx, user, &email).await?;
        let detail = format!("user added as {}", user.role);
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, &email, &detail)).await?;
        Ok(id)
    }

    /// Creates a user together with the new organisation they belong to, in one transaction
    /// with both audit rows: the user's fields and the organisation's name are checked before
    /// anything is written, so a refused user (a malformed email, an email already taken)
    /// leaves no organisation behind. `user.org_id` is ignored. Returns the organisation's
    /// id and the user's. Errors as [`Db::create_user`] and [`Db::create_organisation`] (the
    /// organisation's name as `Invalid`/`Conflict { field: "org" }`).
    pub async fn create_user_in_new_organisation(
        &self,
        user: &NewUser<'_>,
        org_name: &str,
        org_type: alliance_core::access::OrgType,
        actor: &Actor,
    ) -> Result<(i64, i64), DbError> {
        let email = checked_new_user(user)?;
        let as_org = |e: DbError| match e {
            DbError::Invalid { reason, .. } => DbError::Invalid { field: "org", reason },
            DbError::Conflict { reason, .. } => DbError::Conflict { field: "org", reason },
            other => other,
        };
        let org_name = super::checked_organisation_name(org_name).map_err(as_org)?;
        let mut tx = self.begin_write().await?;
        let org_id = super::insert_organisation(&mut tx, org_name, org_type).await.map_err(as_org)?;
        let id = insert_user(&mut tx, &NewUser { org_id, ..*user }, &email).await?;
        let detail = format!("organisation added ({})", org_type.code());
        crate::audit::append(&mut tx, self.audit_chain(), &actor.event(PERMISSION_CHANGE, org_name, &detail)).await?;
        let detail = format!("user added as {}", user.role);
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, &email, &detail)).await?;
        Ok((org_id, id))
    }

    /// Counts a sign-in attempt (or a check of the current password) for `user_id` BEFORE
    /// its password is verified, in one statement, so that attempts made at once are each
    /// counted and none slips past a lock: `None` when the account is locked at `now` (then
    /// nothing is counted and the password must not be verified), else the attempt's number
    /// in the run of failures (1 for the first since the last success). The attempt that
    /// reaches `lock_at` locks the account until `provisional_until` at once; its outcome
    /// then replaces that ([`Db::record_failed_sign_in`] with the real lock, or
    /// [`Db::sign_in`] clearing it). Bookkeeping, not a change anyone makes: the outcome
    /// writes the audit row.
    pub async fn count_sign_in_attempt(
        &self,
        user_id: i64,
        now: &str,
        lock_at: i64,
        provisional_until: &str,
    ) -> Result<Option<i64>, DbError> {
        let rows = sqlx::query(
            "UPDATE users SET failed_attempts = failed_attempts + 1, \
             locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
             WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4) RETURNING failed_attempts",
        )
        .bind(user_id)
        .bind(lock_at)
        .bind(provisional_until)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.first().map(|r| r.try_get::<i64, _>(0)).transpose().map_err(DbError::from)
    }

    /// A wrong password on attempt `failures` (counted by [`Db::count_sign_in_attempt`]):
    /// locks the account until `lock_until` when given, and records the refusal
    /// (`sign-in-failed` on `target`, the form that checked it) in the same transaction.
    pub async fn record_failed_sign_in(
        &self,
        user_id: i64,
        failures: i64,
        lock_until: Option<String>,
        target: &str,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let mut detail = format!("wrong password ({failures} in a row)");
        if let Some(until) = lock_until {
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                .bind(&until)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            detail.push_str(&format!("; locked until {until}"));
        }
        self.commit_audited(tx, &actor.event("sign-in-failed", target, &detail)).await?;
        Ok(())
    }

    /// A successful sign-in: clears the failure count and any lock, stores the session,
    /// deletes every expired session (of anyone) and records `sign-in`, in one transaction.
    pub async fn sign_in(&self, session: &NewSession<'_>, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
            .bind(session.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now()).execute(&mut *tx).await?;
        insert_session(&mut tx, session).await?;
        self.commit_audited(tx, &actor.event("sign-in", "/sign-in", "")).await?;
        Ok(())
    }

    /// Signing out: ends the session with this token hash (if any) and records `sign-out`.
    pub async fn sign_out(&self, token_hash: Option<&str>, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        if let Some(hash) = token_hash {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(hash).execute(&mut *tx).await?;
        }
        self.commit_audited(tx, &actor.event("sign-out", "/sign-out", "")).await?;
        Ok(())
    }

    /// Sets a new password hash, clears the failure count and any lock (the current password
    /// was just verified), ends every session of the user, starts `session` (the one they go
    /// on with) and records `password-change`, in one transaction.
    pub async fn change_password(
        &self,
        user_id: i64,
        hash: &str,
        session: &NewSession<'_>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let query = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_attempts = 0, locked_until = NULL \
                 WHERE id = $3 RETURNING email",
        )
        .bind(hash)
        .bind(now())
        .bind(user_id);
        let email = update_ending_sessions(&mut tx, query, user_id)
            .await?
            .ok_or_else(|| DbError::not_found(format!("user {user_id}")))?;
        insert_session(&mut tx, session).await?;
        self.commit_audited(tx, &actor.event("password-change", &email, "")).await?;
        Ok(())
    }

    /// Changes a user's role and whether they may sign in, clears their failed sign-ins and
    /// any lock, and ends their sessions; records it as a `permission-change`.
    ///
    /// `seen` is the [`User::version`] the administrators' page was opened on: a page left
    /// open while another administrator deactivated a leaver must not reactivate them
    /// ([`crate::versions::claim`]). The change is refused when the acting user is no longer
    /// an active administrator, and when it would leave no active administrator. Both checks
    /// read what every earlier change committed: the transaction takes the audit chain's lock
    /// first (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers), so two
    /// administrators demoting each other at one moment cannot both succeed.
    pub async fn update_user_access(
        &self,
        user_id: i64,
        role: Role,
        active: bool,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        crate::audit::lock_chain_now(&mut tx, self.backend()).await?;
        if let Some(email) = actor.name.strip_prefix("user:") {
            let still: Option<(String, i64)> = sqlx::query_as("SELECT role, active FROM users WHERE email = $1")
                .bind(email)
                .fetch_optional(&mut *tx)
                .await?;
            if !still.is_some_and(|(r, a)| r == Role::Administrator.code() && a != 0) {
                return Err(DbError::conflict("role", "You are no longer an administrator: nothing was changed"));
            }
        }
        if !versions::claim(&mut tx, Versioned::User, user_id, seen).await? {
            return Err(DbError::not_found(format!("user {user_id}")));
        }
        let query = sqlx::query(
            "UPDATE users SET role = $1, active = $2, failed_attempts = 0, locked_until = NULL WHERE id = $3 \
             RETURNING email",
        )
        .bind(role.code())
        .bind(i64::from(active))
        .bind(user_id);
        let email = update_ending_sessions(&mut tx, query, user_id)
            .await?
            .ok_or_else(|| DbError::not_found(format!("user {user_id}")))?;
        let administrators: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = $1 AND active = 1")
            .bind(Role::Administrator.code())
            .fetch_one(&mut *tx)
            .await?;
        if administrators == 0 {
            return Err(DbError::conflict(
                "role",
                "This would leave no active administrator: make someone else an administrator first",
            ));
        }
        let mut detail = format!("role {role}, can sign in: {active}, unlocked");
        // An administrator's unused invitation links end with their administration: a link
        // made by someone since demoted or deactivated must not make an account (an
        // administrator's, even) after they lost the right to.
        if role != Role::Administrator || !active {
            let withdrawn = sqlx::query(
                "UPDATE account_tokens SET used_at = $1 WHERE purpose = 'invitation' AND used_at IS NULL \
                 AND created_by = $2",
            )
            .bind(crate::clock::now())
            .bind(format!("user:{email}"))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if withdrawn > 0 {
                detail.push_str(&format!("; {withdrawn} unused invitation link(s) they made withdrawn"));
            }
        }
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, &email, &detail)).await?;
        Ok(())
    }

    /// The active user of an unexpired session, with the session's CSRF token.
    pub async fn session_user(&self, token_hash: &str, now: &str) -> Result<Option<(User, String)>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
             JOIN organisations o ON o.id = u.org_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((User::from_row(&r)?, r.try_get("csrf_token")?))),
            None => Ok(None),
        }
    }
}

/// Inserts a user (email already trimmed and lower-cased) inside the caller's transaction;
/// an email already taken is `Conflict { field: "email" }`.
/// Runs `query`, an `UPDATE users … WHERE id = <user_id> … RETURNING email` with its values
/// bound, then ends every session of the user: what changing a password or a user's access
/// does. The user's email, or `None` when no user was updated.
pub(crate) async fn update_ending_sessions<'q>(
    tx: &mut sqlx::AnyConnection,
    query: AnyQuery<'q>,
    user_id: i64,
) -> Result<Option<String>, DbError> {
    let Some(row) = query.fetch_optional(&mut *tx).await? else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    Ok(Some(row.try_get(0)?))
}

pub(crate) async fn insert_user(tx: &mut sqlx::AnyConnection, user: &NewUser<'_>, email: &str) -> Result<i64, DbError> {
    let at = now();
    let row = sqlx::query(
        "INSERT INTO users (email, name, org_id, role, password_hash, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(email)
    .bind(user.name.trim())
    .bind(user.org_id)
    .bind(user.role.code())
    .bind(user.password_hash)
    .bind(&at)
    .bind(&at)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        conflict_if_unique(e, || DbError::conflict("email", format!("A user with the email {email} already exists")))
    })?;
    Ok(row.try_get(0)?)
}

/// The new user's email as stored (trimmed, lower-case) once the name and email pass:
/// `Invalid` on `name` or `email` otherwise.
pub(crate) fn checked_new_user(user: &NewUser<'_>) -> Result<String, DbError> {
    let email = user.email.trim().to_lowercase();
    if user.name.trim().is_empty() {
        return Err(DbError::invalid("name", "Enter the user's full name"));
    }
    if user.name.trim().chars().count() > MAX_NAME_CHARS {
        return Err(DbError::invalid("name", format!("Enter a name of at most {MAX_NAME_CHARS} characters")));
    }
    if email.chars().count() > 254 {
        return Err(DbError::invalid("email", "Enter an email address of at most 254 characters"));
    }
    if !email.contains('@') || email.len() < 3 {
        return Err(DbError::invalid(
            "email",
            format!("\"{}\" is not an email address: enter one like name@example.org", user.email.trim()),
        ));
    }
    Ok(email)
}
