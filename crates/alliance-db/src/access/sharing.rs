//! Datasets and their owners, information sharing agreements with their parties and
//! grants, and data protection impact assessments.

use alliance_core::access::{AccessLevel, DatasetPolicy};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{check_date, now, PERMISSION_CHANGE};
use crate::audit::{append, Actor};
use crate::{Db, DbError};

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

    fn from_row(r: &AnyRow) -> Result<Dataset, DbError> {
        Ok(Dataset {
            slug: r.try_get("slug")?,
            name: r.try_get("name")?,
            owner_org_id: r.try_get("owner_org_id")?,
            owner_name: r.try_get("owner_name")?,
            open_data: r.try_get::<i64, _>("open_data")? != 0,
        })
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

impl Agreement {
    /// The agreement's own columns; parties and grants are added by the caller.
    fn from_row(r: &AnyRow) -> Result<Agreement, DbError> {
        Ok(Agreement {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            purpose: r.try_get("purpose")?,
            lawful_basis: r.try_get("lawful_basis")?,
            review_date: r.try_get("review_date")?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            parties: Vec::new(),
            grants: Vec::new(),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GrantRecord {
    pub agreement_id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub dataset: String,
    pub level: AccessLevel,
}

impl GrantRecord {
    fn from_row(r: &AnyRow) -> Result<GrantRecord, DbError> {
        let level: String = r.try_get("level")?;
        Ok(GrantRecord {
            agreement_id: r.try_get("agreement_id")?,
            org_id: r.try_get("org_id")?,
            org_name: r.try_get("org_name")?,
            dataset: r.try_get("dataset")?,
            level: level.parse().map_err(|e| DbError::corrupt(format!("agreement_grants.level: {e}")))?,
        })
    }
}

pub struct NewAgreement<'a> {
    pub title: &'a str,
    pub purpose: &'a str,
    pub lawful_basis: &'a str,
    pub review_date: &'a str,
    pub parties: &'a [i64],
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

impl Dpia {
    fn from_row(r: &AnyRow) -> Result<Dpia, DbError> {
        Ok(Dpia {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            datasets: r.try_get("datasets")?,
            completed_on: r.try_get("completed_on")?,
            review_date: r.try_get("review_date")?,
            summary: r.try_get("summary")?,
            created_by: r.try_get("created_by")?,
        })
    }
}

pub struct NewDpia<'a> {
    pub title: &'a str,
    pub datasets: &'a str,
    pub completed_on: &'a str,
    pub review_date: &'a str,
    pub summary: &'a str,
}

/// `Invalid { field: "dataset" }` unless the dataset is registered.
async fn require_dataset(tx: &mut sqlx::AnyConnection, slug: &str) -> Result<(), DbError> {
    let found = sqlx::query("SELECT slug FROM datasets WHERE slug = $1").bind(slug).fetch_optional(&mut *tx).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(DbError::invalid("dataset", format!("There is no dataset \"{slug}\": choose one from the list"))),
    }
}

/// `Invalid { field }` unless the organisation exists.
async fn require_organisation(tx: &mut sqlx::AnyConnection, field: &'static str, id: i64) -> Result<(), DbError> {
    let found = sqlx::query("SELECT id FROM organisations WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(DbError::invalid(field, "Choose an organisation from the list")),
    }
}

impl Db {
    pub async fn datasets(&self) -> Result<Vec<Dataset>, DbError> {
        let rows = sqlx::query(
            "SELECT d.slug, d.name, d.owner_org_id, o.name AS owner_name, d.open_data FROM datasets d \
             LEFT JOIN organisations o ON o.id = d.owner_org_id ORDER BY d.slug",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Dataset::from_row).collect()
    }

    pub async fn dataset(&self, slug: &str) -> Result<Option<Dataset>, DbError> {
        Ok(self.datasets().await?.into_iter().find(|d| d.slug == slug))
    }

    /// Makes `org_id` the owner of the dataset (`Invalid` for an unknown dataset or
    /// organisation), recorded as a `permission-change`.
    pub async fn set_dataset_owner(&self, slug: &str, org_id: i64, actor: &Actor) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        require_dataset(&mut tx, slug).await?;
        require_organisation(&mut tx, "org_id", org_id).await?;
        sqlx::query("UPDATE datasets SET owner_org_id = $1 WHERE slug = $2")
            .bind(org_id)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        let detail = format!("owner set to organisation {org_id}");
        append(&mut tx, self.audit_chain(), &actor.event(PERMISSION_CHANGE, slug, &detail)).await?;
        tx.commit().await?;
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
        let mut grants = rows.iter().map(GrantRecord::from_row).collect::<Result<Vec<_>, _>>()?;
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
        let parties: Vec<(i64, String)> =
            parties.iter().map(|p| Ok((p.try_get(0)?, p.try_get(1)?))).collect::<Result<_, DbError>>()?;
        let grants = self.grants().await?;
        rows.iter()
            .map(|r| {
                let mut a = Agreement::from_row(r)?;
                a.parties = parties.iter().filter(|(id, _)| *id == a.id).map(|(_, name)| name.clone()).collect();
                a.parties.sort();
                a.grants = grants.iter().filter(|g| g.agreement_id == a.id).cloned().collect();
                Ok(a)
            })
            .collect()
    }

    /// Records an agreement: `Invalid` names the field at fault (`title`, `purpose`,
    /// `lawful_basis`, `review_date`).
    pub async fn create_agreement(&self, a: &NewAgreement<'_>, actor: &Actor) -> Result<i64, DbError> {
        for (field, label, value) in [
            ("title", "title", a.title),
            ("purpose", "purpose", a.purpose),
            ("lawful_basis", "lawful basis", a.lawful_basis),
        ] {
            if value.trim().is_empty() {
                return Err(DbError::invalid(field, format!("Enter the agreement's {label}")));
            }
        }
        check_date("review_date", "review date", a.review_date.trim())?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO agreements (title, purpose, lawful_basis, review_date, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(a.title.trim())
        .bind(a.purpose.trim())
        .bind(a.lawful_basis.trim())
        .bind(a.review_date.trim())
        .bind(actor_email(actor))
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        for org in a.parties {
            require_organisation(&mut tx, "parties", *org).await?;
            sqlx::query("INSERT INTO agreement_parties (agreement_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(org)
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!("agreement {id} recorded");
        append(&mut tx, self.audit_chain(), &actor.event(PERMISSION_CHANGE, a.title.trim(), &detail)).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets what an agreement grants an organisation for a dataset (replacing any earlier
    /// level under the same agreement); the organisation becomes a party to it. An unknown
    /// agreement, organisation or dataset is `Invalid` (`agreement_id`, `org_id`, `dataset`).
    pub async fn set_grant(
        &self,
        agreement_id: i64,
        org_id: i64,
        dataset: &str,
        level: AccessLevel,
        actor: &Actor,
    ) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query("SELECT id FROM agreements WHERE id = $1").bind(agreement_id).fetch_optional(&mut *tx);
        if found.await?.is_none() {
            return Err(DbError::invalid("agreement_id", "Choose an agreement (record one first)"));
        }
        require_organisation(&mut tx, "org_id", org_id).await?;
        require_dataset(&mut tx, dataset).await?;
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
        let detail = format!("agreement {agreement_id} grants organisation {org_id} {level} access");
        append(&mut tx, self.audit_chain(), &actor.event(PERMISSION_CHANGE, dataset, &detail)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn dpias(&self) -> Result<Vec<Dpia>, DbError> {
        let rows = sqlx::query(
            "SELECT id, title, datasets, completed_on, review_date, summary, created_by FROM dpias ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Dpia::from_row).collect()
    }

    /// Records a DPIA: `Invalid` names the field at fault (`title`, `completed_on`,
    /// `review_date`).
    pub async fn create_dpia(&self, d: &NewDpia<'_>, actor: &Actor) -> Result<i64, DbError> {
        if d.title.trim().is_empty() {
            return Err(DbError::invalid("title", "Enter the DPIA's title"));
        }
        check_date("completed_on", "date it was completed", d.completed_on.trim())?;
        check_date("review_date", "review date", d.review_date.trim())?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO dpias (title, datasets, completed_on, review_date, summary, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(d.title.trim())
        .bind(d.datasets.trim())
        .bind(d.completed_on.trim())
        .bind(d.review_date.trim())
        .bind(d.summary.trim())
        .bind(actor_email(actor))
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let detail = format!("DPIA {id} recorded");
        append(&mut tx, self.audit_chain(), &actor.event(PERMISSION_CHANGE, d.title.trim(), &detail)).await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// How the `created_by` columns name an actor: the email of a `user:<email>`, the actor's
/// name as it is otherwise (`cli:<login>`).
pub(super) fn actor_email(actor: &Actor) -> &str {
    actor.name.strip_prefix("user:").unwrap_or(&actor.name)
}
