//! The partnership profile (one row) and the first-run set-up that stores it with the first
//! administrator.

use alliance_core::access::OrgType;
use alliance_core::logo::Logo;
use alliance_core::partnership::{CharterCommitment, Profile};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::access::{checked_new_user, conflict_if_unique, insert_organisation, insert_user, NewUser};
use crate::audit::{append, Actor};
use crate::clock::now;
use crate::versions::{self, Versioned};
use crate::{Db, DbError};

/// The audit action of a change to the partnership's profile.
pub const PROFILE_CHANGE: &str = "partnership-profile";
/// The audit action of a change to the charter's commitments.
pub const CHARTER_COMMITMENT: &str = "charter-commitment";

/// The partnership's logo as stored: a PNG checked by `alliance_core::logo` on upload.
#[derive(Debug, Clone)]
pub struct StoredLogo {
    pub png: Vec<u8>,
    /// SHA-256 of the PNG (hex): its version, for links and caching.
    pub sha256: String,
    pub width: i64,
    pub height: i64,
}

/// The stored logo, by column name (two text and two integer columns, so a swap would not
/// fail to decode).
#[derive(sqlx::FromRow)]
struct LogoRow {
    png_hex: String,
    sha256: String,
    width: i64,
    height: i64,
}

/// An active charter commitment, by column name (title and description are both text, id and
/// position both integers).
#[derive(sqlx::FromRow)]
struct CharterRow {
    id: i64,
    position: i64,
    title: String,
    description: String,
}

impl StoredLogo {
    /// The logo as a `data:` URI, for self-contained documents (the Board pack).
    pub fn data_uri(&self) -> String {
        format!("data:{};base64,{}", alliance_core::logo::CONTENT_TYPE, alliance_core::logo::base64(&self.png))
    }
}

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
        Ok(self.partnership_with_version().await?.0)
    }

    /// Stores the profile of a partnership not yet set up; `Conflict { field: "profile" }`
    /// when one is (the row's `CHECK (id = 1)` key decides between two racing calls).
    pub async fn init_partnership(&self, profile: &Profile, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        insert_profile(&mut tx, profile, &actor.name).await?;
        append(&mut tx, self.audit_chain(), &actor.event(PROFILE_CHANGE, "partnership", &profile.name)).await?;
        self.sync_charter(&mut tx, &profile.charter_commitments, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The stored profile with its version (0 before the partnership is set up), read
    /// together: what the profile and charter forms show and name ([`crate::versions`]). Read
    /// apart, a change between the two reads would give an old profile a new version, and a
    /// form showing it would be saved over the change.
    pub async fn partnership_with_version(&self) -> Result<(Option<Profile>, i64), DbError> {
        let row =
            sqlx::query("SELECT profile, version FROM partnership WHERE id = 1").fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok((None, 0)) };
        let text: String = row.try_get(0)?;
        let profile = Profile::from_json(&text).map_err(|e| DbError::corrupt(format!("partnership.profile: {e}")))?;
        Ok((Some(profile), row.try_get(1)?))
    }

    /// Replaces the stored profile; `NotFound` before the partnership is set up. `seen`: the
    /// version the form was opened on, refused when the profile has changed since
    /// ([`crate::versions::claim`]).
    pub async fn set_partnership(&self, profile: &Profile, seen: Option<i64>, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Partnership, 1, seen).await? {
            return Err(DbError::not_found("partnership profile"));
        }
        sqlx::query("UPDATE partnership SET profile = $1, updated_at = $2, updated_by = $3 WHERE id = 1")
            .bind(profile.to_json())
            .bind(now())
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
        append(&mut tx, self.audit_chain(), &actor.event(PROFILE_CHANGE, "partnership", &profile.name)).await?;
        self.sync_charter(&mut tx, &profile.charter_commitments, actor).await?;
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
        self.sync_charter(&mut tx, &profile.charter_commitments, actor).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Makes the charter's active commitments those of the profile, in its order, inside the
    /// profile change's transaction: a commitment whose title is kept (in any case) keeps its
    /// id, so signatories' pledges to it still count, and takes the new wording and position;
    /// a new title is added; an active commitment the list no longer names is retired (kept
    /// for the pledges made to it, shown to nobody). An empty list changes nothing. Recorded
    /// as `charter-commitment` when anything changed.
    async fn sync_charter(
        &self,
        tx: &mut sqlx::AnyConnection,
        list: &[CharterCommitment],
        actor: &Actor,
    ) -> Result<(), DbError> {
        if list.is_empty() {
            return Ok(());
        }
        let active: Vec<CharterRow> =
            sqlx::query_as("SELECT id, position, title, description FROM charter_commitments WHERE active = 1")
                .fetch_all(&mut *tx)
                .await?;
        let mut kept: Vec<i64> = Vec::new();
        let mut changed = false;
        for (i, c) in list.iter().enumerate() {
            let position = i as i64 + 1;
            let same =
                active.iter().find(|a| a.title.to_lowercase() == c.title.to_lowercase() && !kept.contains(&a.id));
            match same {
                Some(CharterRow { id, position: old_position, title, description }) => {
                    if *old_position != position || *title != c.title || *description != c.description {
                        sqlx::query(
                            "UPDATE charter_commitments SET position = $1, title = $2, description = $3 WHERE id = $4",
                        )
                        .bind(position)
                        .bind(&c.title)
                        .bind(&c.description)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        changed = true;
                    }
                    kept.push(*id);
                }
                None => {
                    let row = sqlx::query(
                        "INSERT INTO charter_commitments (position, title, description, active) VALUES ($1, $2, $3, 1) \
                         RETURNING id",
                    )
                    .bind(position)
                    .bind(&c.title)
                    .bind(&c.description)
                    .fetch_one(&mut *tx)
                    .await?;
                    kept.push(row.try_get(0)?);
                    changed = true;
                }
            }
        }
        for id in active.iter().map(|a| a.id).filter(|id| !kept.contains(id)) {
            sqlx::query("UPDATE charter_commitments SET active = 0 WHERE id = $1").bind(id).execute(&mut *tx).await?;
            changed = true;
        }
        if changed {
            let titles: Vec<&str> = list.iter().map(|c| c.title.as_str()).collect();
            let detail = format!("the charter's commitments: {}", titles.join("; "));
            append(&mut *tx, self.audit_chain(), &actor.event(CHARTER_COMMITMENT, "charter", &detail)).await?;
        }
        Ok(())
    }

    /// The partnership's logo, if one was uploaded.
    pub async fn partnership_logo(&self) -> Result<Option<StoredLogo>, DbError> {
        let row: Option<LogoRow> =
            sqlx::query_as("SELECT png_hex, sha256, width, height FROM partnership_logo WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let png = hex::decode(&row.png_hex).map_err(|e| DbError::corrupt(format!("partnership_logo.png_hex: {e}")))?;
        Ok(Some(StoredLogo { png, sha256: row.sha256, width: row.width, height: row.height }))
    }

    /// The version (SHA-256) of the logo, if there is one: what page headers link to.
    pub async fn partnership_logo_version(&self) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT sha256 FROM partnership_logo WHERE id = 1").fetch_optional(&self.pool).await?;
        row.map(|r| r.try_get::<String, _>(0)).transpose().map_err(DbError::from)
    }

    /// Stores `logo` as the partnership's (replacing any), recorded as a profile change;
    /// returns its version.
    pub async fn set_partnership_logo(&self, logo: &Logo, actor: &Actor) -> Result<String, DbError> {
        let sha = hex::encode(Sha256::digest(logo.bytes()));
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO partnership_logo (id, png_hex, sha256, width, height, updated_at, updated_by) \
             VALUES (1, $1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET png_hex = excluded.png_hex, \
             sha256 = excluded.sha256, width = excluded.width, height = excluded.height, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(hex::encode(logo.bytes()))
        .bind(&sha)
        .bind(i64::from(logo.width))
        .bind(i64::from(logo.height))
        .bind(now())
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        let detail = format!("logo: PNG {} × {} pixels, {} bytes", logo.width, logo.height, logo.bytes().len());
        self.commit_audited(tx, &actor.event(PROFILE_CHANGE, "partnership-logo", &detail)).await?;
        Ok(sha)
    }

    /// Removes the logo; `false` when there was none (nothing recorded then).
    pub async fn remove_partnership_logo(&self, actor: &Actor) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM partnership_logo WHERE id = 1").execute(&mut *tx).await?;
        let event = actor.event(PROFILE_CHANGE, "partnership-logo", "logo removed");
        self.commit_audited_if_one_row(tx, done.rows_affected(), &event).await
    }
}

async fn insert_profile(tx: &mut sqlx::AnyConnection, profile: &Profile, by: &str) -> Result<(), DbError> {
    sqlx::query("INSERT INTO partnership (id, profile, updated_at, updated_by) VALUES (1, $1, $2, $3)")
        .bind(profile.to_json())
        .bind(now())
        .bind(by)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_if_unique(e, already_set))?;
    Ok(())
}

impl Db {
    /// The token of the first-run set-up link (`/setup?token=…`), which `alliance serve`
    /// prints while nobody can sign in: without it a stranger reaching a new deployment first
    /// would make themselves its administrator. It is the audit key's HMAC of a fixed label,
    /// so every instance of one deployment (they share the key) prints and accepts the same
    /// link, and nobody without the key or the console can make it.
    pub fn setup_token(&self) -> String {
        let mut token = self.audit_chain().key.sign(&[b"alliance first-run set-up"]);
        token.truncate(32);
        token
    }
}
