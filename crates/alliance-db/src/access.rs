//! Access and trust storage: organisations, users and their sign-in state, sessions,
//! datasets with their owners, information sharing agreements and what they grant, DPIAs,
//! and API tokens. The decision of who sees what is `alliance_core::access::access_level`;
//! this module only loads and stores what it needs.

use alliance_core::access::{AccessLevel, DatasetPolicy, OrgType, Role};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Db, DbError};

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub org_type: String,
    pub created_at: String,
}

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
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, u.org_id, o.name AS org_name, o.org_type, u.role, u.password_hash, \
     u.failed_attempts, u.locked_until, u.active, u.created_at";

fn user_from_row(r: &AnyRow) -> Result<User, DbError> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_type: r.try_get("org_type")?,
        role: role.parse().map_err(DbError::Legacy)?,
        password_hash: r.try_get("password_hash")?,
        failed_attempts: r.try_get("failed_attempts")?,
        locked_until: r.try_get("locked_until")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

/// A new user; the password is already hashed (argon2id) by the caller.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub org_id: i64,
    pub role: Role,
    pub password_hash: &'a str,
}

/// A dataset and its owner.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    pub slug: String,
    pub name: String,
    pub owner_org_id: Option<i64>,
    pub owner_name: Option<String>,
    pub open_data: bool,
}

impl Dataset {
    pub fn policy(&self) -> DatasetPolicy {
        DatasetPolicy { slug: self.slug.clone(), owner_org: self.owner_org_id, open: self.open_data }
    }
}

/// An information sharing agreement with its parties and grants.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub id: i64,
    pub title: String,
    pub purpose: String,
    pub lawful_basis: String,
    pub review_date: String,
    pub created_by: String,
    pub created_at: String,
    pub parties: Vec<String>,
    pub grants: Vec<GrantRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrantRecord {
    pub agreement_id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub dataset: String,
    pub level: AccessLevel,
}

pub struct NewAgreement<'a> {
    pub title: &'a str,
    pub purpose: &'a str,
    pub lawful_basis: &'a str,
    pub review_date: &'a str,
    pub parties: &'a [i64],
    pub created_by: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dpia {
    pub id: i64,
    pub title: String,
    pub datasets: String,
    pub completed_on: String,
    pub review_date: String,
    pub summary: String,
    pub created_by: String,
}

pub struct NewDpia<'a> {
    pub title: &'a str,
    pub datasets: &'a str,
    pub completed_on: &'a str,
    pub review_date: &'a str,
    pub summary: &'a str,
    pub created_by: &'a str,
}

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
}

const TOKEN_COLUMNS: &str =
    "t.id, t.org_id, o.name AS org_name, t.name, t.scopes, t.created_by, t.created_at, t.last_used_at, t.revoked_at";

fn token_from_row(r: &AnyRow) -> Result<ApiToken, DbError> {
    let scopes: String = r.try_get("scopes")?;
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
    })
}

impl Db {
    // ---- organisations ----

    pub async fn organisations(&self) -> Result<Vec<Organisation>, DbError> {
        let rows = sqlx::query("SELECT id, name, org_type, created_at FROM organisations ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    org_type: r.try_get("org_type")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn organisation_by_name(&self, name: &str) -> Result<Option<Organisation>, DbError> {
        Ok(self.organisations().await?.into_iter().find(|o| o.name.eq_ignore_ascii_case(name.trim())))
    }

    /// Creates an organisation; a name already taken is refused.
    pub async fn create_organisation(&self, name: &str, org_type: OrgType) -> Result<i64, DbError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DbError::Legacy("an organisation needs a name".into()));
        }
        let row =
            sqlx::query("INSERT INTO organisations (name, org_type, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(name)
                .bind(org_type.as_str())
                .bind(now())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        DbError::Legacy(format!("an organisation called \"{name}\" already exists"))
                    } else {
                        e.into()
                    }
                })?;
        Ok(row.try_get(0)?)
    }

    // ---- users ----

    pub async fn users(&self) -> Result<Vec<User>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id ORDER BY u.email"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.email = $1"
        ))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Creates a user (email stored lower-case); an email already taken is refused.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<i64, DbError> {
        let email = user.email.trim().to_lowercase();
        if !email.contains('@') || email.len() < 3 {
            return Err(DbError::Legacy(format!("\"{}\" is not an email address", user.email)));
        }
        if user.name.trim().is_empty() {
            return Err(DbError::Legacy("a user needs a name".into()));
        }
        let at = now();
        let row = sqlx::query(
            "INSERT INTO users (email, name, org_id, role, password_hash, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&email)
        .bind(user.name.trim())
        .bind(user.org_id)
        .bind(user.role.as_str())
        .bind(user.password_hash)
        .bind(&at)
        .bind(&at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DbError::Legacy(format!("a user with the email {email} already exists"))
            } else {
                e.into()
            }
        })?;
        Ok(row.try_get(0)?)
    }

    /// Counts a failed sign-in and returns the number of consecutive failures so far.
    pub async fn record_failed_sign_in(&self, user_id: i64) -> Result<i64, DbError> {
        let row = sqlx::query(
            "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = $1 RETURNING failed_attempts",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Refuses sign-in for the user until `until` (RFC 3339).
    pub async fn lock_user_until(&self, user_id: i64, until: &str) -> Result<(), DbError> {
        sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
            .bind(until)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Clears the failure count and any lock (a successful sign-in, or an administrator).
    pub async fn clear_sign_in_failures(&self, user_id: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets a new password hash and ends every session of the user.
    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a user's role and whether they may sign in; ends their sessions.
    pub async fn update_user_access(&self, user_id: i64, role: Role, active: bool) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET role = $1, active = $2 WHERE id = $3")
            .bind(role.as_str())
            .bind(i64::from(active))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- sessions ----

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: &str,
        ip: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now())
        .bind(expires_at)
        .bind(ip)
        .execute(&self.pool)
        .await?;
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
            Some(r) => Ok(Some((user_from_row(&r)?, r.try_get("csrf_token")?))),
            None => Ok(None),
        }
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    // ---- datasets and agreements ----

    pub async fn datasets(&self) -> Result<Vec<Dataset>, DbError> {
        let rows = sqlx::query(
            "SELECT d.slug, d.name, d.owner_org_id, o.name AS owner_name, d.open_data FROM datasets d \
             LEFT JOIN organisations o ON o.id = d.owner_org_id ORDER BY d.slug",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Dataset {
                    slug: r.try_get("slug")?,
                    name: r.try_get("name")?,
                    owner_org_id: r.try_get("owner_org_id")?,
                    owner_name: r.try_get("owner_name")?,
                    open_data: r.try_get::<i64, _>("open_data")? != 0,
                })
            })
            .collect()
    }

    pub async fn dataset(&self, slug: &str) -> Result<Option<Dataset>, DbError> {
        Ok(self.datasets().await?.into_iter().find(|d| d.slug == slug))
    }

    /// Registers a dataset (importers of new sources call this); an existing one is kept.
    pub async fn ensure_dataset(&self, slug: &str, name: &str) -> Result<(), DbError> {
        sqlx::query("INSERT INTO datasets (slug, name, open_data) VALUES ($1, $2, 0) ON CONFLICT (slug) DO NOTHING")
            .bind(slug)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_dataset_owner(&self, slug: &str, org_id: Option<i64>) -> Result<(), DbError> {
        let done = sqlx::query("UPDATE datasets SET owner_org_id = $1 WHERE slug = $2")
            .bind(org_id)
            .bind(slug)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::Legacy(format!("no dataset \"{slug}\"")));
        }
        Ok(())
    }

    /// Every grant, with organisation names.
    pub async fn grants(&self) -> Result<Vec<GrantRecord>, DbError> {
        let rows = sqlx::query(
            "SELECT g.agreement_id, g.org_id, o.name AS org_name, g.dataset, g.level FROM agreement_grants g \
             JOIN organisations o ON o.id = g.org_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut grants: Vec<GrantRecord> = rows
            .iter()
            .map(|r| {
                let level: String = r.try_get("level")?;
                Ok(GrantRecord {
                    agreement_id: r.try_get("agreement_id")?,
                    org_id: r.try_get("org_id")?,
                    org_name: r.try_get("org_name")?,
                    dataset: r.try_get("dataset")?,
                    level: level.parse().map_err(DbError::Legacy)?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        grants
            .sort_by(|a, b| (a.agreement_id, &a.org_name, &a.dataset).cmp(&(b.agreement_id, &b.org_name, &b.dataset)));
        Ok(grants)
    }

    /// The grants of one organisation for one dataset.
    pub async fn grants_for(&self, org_id: i64, dataset: &str) -> Result<Vec<GrantRecord>, DbError> {
        Ok(self.grants().await?.into_iter().filter(|g| g.org_id == org_id && g.dataset == dataset).collect())
    }

    pub async fn agreements(&self) -> Result<Vec<Agreement>, DbError> {
        let rows = sqlx::query(
            "SELECT id, title, purpose, lawful_basis, review_date, created_by, created_at FROM agreements ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let parties = sqlx::query(
            "SELECT p.agreement_id, o.name FROM agreement_parties p JOIN organisations o ON o.id = p.org_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let grants = self.grants().await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let mut names = parties
                    .iter()
                    .filter(|p| p.try_get::<i64, _>(0).ok() == Some(id))
                    .map(|p| p.try_get::<String, _>(1))
                    .collect::<Result<Vec<_>, _>>()?;
                names.sort();
                Ok(Agreement {
                    id,
                    title: r.try_get("title")?,
                    purpose: r.try_get("purpose")?,
                    lawful_basis: r.try_get("lawful_basis")?,
                    review_date: r.try_get("review_date")?,
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                    parties: names,
                    grants: grants.iter().filter(|g| g.agreement_id == id).cloned().collect(),
                })
            })
            .collect()
    }

    pub async fn create_agreement(&self, a: &NewAgreement<'_>) -> Result<i64, DbError> {
        for (field, value) in [("title", a.title), ("purpose", a.purpose), ("lawful basis", a.lawful_basis)] {
            if value.trim().is_empty() {
                return Err(DbError::Legacy(format!("an agreement needs a {field}")));
            }
        }
        if chrono::NaiveDate::parse_from_str(a.review_date, "%Y-%m-%d").is_err() {
            return Err(DbError::Legacy(format!("review date \"{}\" is not a date like 2026-03-31", a.review_date)));
        }
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO agreements (title, purpose, lawful_basis, review_date, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(a.title.trim())
        .bind(a.purpose.trim())
        .bind(a.lawful_basis.trim())
        .bind(a.review_date)
        .bind(a.created_by)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        for org in a.parties {
            sqlx::query("INSERT INTO agreement_parties (agreement_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(org)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Sets what an agreement grants an organisation for a dataset (replacing any earlier
    /// level under the same agreement). The organisation becomes a party to it.
    pub async fn set_grant(
        &self,
        agreement_id: i64,
        org_id: i64,
        dataset: &str,
        level: AccessLevel,
    ) -> Result<(), DbError> {
        if self.dataset(dataset).await?.is_none() {
            return Err(DbError::Legacy(format!("no dataset \"{dataset}\"")));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO agreement_parties (agreement_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(agreement_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO agreement_grants (agreement_id, org_id, dataset, level) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (agreement_id, org_id, dataset) DO UPDATE SET level = excluded.level",
        )
        .bind(agreement_id)
        .bind(org_id)
        .bind(dataset)
        .bind(level.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn dpias(&self) -> Result<Vec<Dpia>, DbError> {
        let rows = sqlx::query(
            "SELECT id, title, datasets, completed_on, review_date, summary, created_by FROM dpias ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Dpia {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    datasets: r.try_get("datasets")?,
                    completed_on: r.try_get("completed_on")?,
                    review_date: r.try_get("review_date")?,
                    summary: r.try_get("summary")?,
                    created_by: r.try_get("created_by")?,
                })
            })
            .collect()
    }

    pub async fn create_dpia(&self, d: &NewDpia<'_>) -> Result<i64, DbError> {
        if d.title.trim().is_empty() {
            return Err(DbError::Legacy("a DPIA needs a title".into()));
        }
        for (field, value) in [("completed on", d.completed_on), ("review date", d.review_date)] {
            if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_err() {
                return Err(DbError::Legacy(format!("{field} \"{value}\" is not a date like 2026-03-31")));
            }
        }
        let row = sqlx::query(
            "INSERT INTO dpias (title, datasets, completed_on, review_date, summary, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(d.title.trim())
        .bind(d.datasets.trim())
        .bind(d.completed_on)
        .bind(d.review_date)
        .bind(d.summary.trim())
        .bind(d.created_by)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    // ---- API tokens ----

    pub async fn create_api_token(
        &self,
        org_id: i64,
        name: &str,
        token_hash: &str,
        scopes: &[&str],
        created_by: &str,
    ) -> Result<i64, DbError> {
        if name.trim().is_empty() {
            return Err(DbError::Legacy("a token needs a name saying what system uses it".into()));
        }
        let row = sqlx::query(
            "INSERT INTO api_tokens (org_id, name, token_hash, scopes, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org_id)
        .bind(name.trim())
        .bind(token_hash)
        .bind(scopes.join(" "))
        .bind(created_by)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN organisations o ON o.id = t.org_id ORDER BY t.id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// The unrevoked token with this hash, its last-used time set to now.
    pub async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN organisations o ON o.id = t.org_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(token) = row.as_ref().map(token_from_row).transpose()? else { return Ok(None) };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(token.id)
            .execute(&self.pool)
            .await?;
        Ok(Some(token))
    }

    pub async fn revoke_api_token(&self, id: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
