//! Datasets and their owners, information sharing agreements with their parties and
//! grants, and data protection impact assessments.
//!
//! **Owner-approved sharing.** A grant is a request until an administrator of the
//! organisation that owns the dataset approves it ([`Db::decide_grant`]); nobody decides their
//! own request (checked here and by the table's CHECK constraint), and two decisions racing
//! each other leave one (the decision updates only a grant still `requested`). A grant is in
//! force ([`Db::grants_for`], the access check's only source) while it is approved, its
//! approver's organisation still owns the dataset, and its agreement has passed neither its
//! review date nor its end date: a lapse is computed when access is checked, so no job is
//! needed. Who owns what: the organisation that supplies a dataset is its data controller
//! and owner (ED data: the health body that sends it; partner indicators: the service that
//! supplies each domain). An owner is named once by any administrator; after that only an
//! administrator of the current owner can hand the dataset to another organisation. Open
//! data (police recorded crime from data.police.uk) needs no grant, and none can be asked for.

use alliance_core::access::{AccessLevel, DatasetPolicy};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::{check_date, PERMISSION_CHANGE};
use crate::audit::{append, Actor};
use crate::clock::{now, today};
use crate::submissions::{self, Claim};
use crate::versions::{self, Versioned};
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
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Agreement {
    pub id: i64,
    pub title: String,
    pub purpose: String,
    pub lawful_basis: String,
    pub review_date: String,
    /// The day after which the agreement ends, if it has one (YYYY-MM-DD).
    pub end_date: Option<String>,
    /// The reference of the DPIA the agreement rests on ('' when none was given).
    pub dpia_reference: String,
    /// When that DPIA was completed (YYYY-MM-DD).
    pub dpia_date: Option<String>,
    pub created_by: String,
    pub created_at: String,
    /// Counts its edits: what its edit form names ([`crate::versions`]).
    pub version: i64,
    /// Added by the caller, as the grants.
    #[sqlx(skip)]
    pub parties: Vec<String>,
    #[sqlx(skip)]
    pub grants: Vec<GrantRecord>,
}

impl Agreement {
    /// Whether the agreement has passed its review or end date on `today` (YYYY-MM-DD): its
    /// grants have then lapsed.
    pub fn lapsed_on(&self, today: &str) -> bool {
        agreement_lapsed(&self.review_date, self.end_date.as_deref(), today)
    }

    /// The agreement's status on `today`, in words: `In force`, `Ended` or `Review overdue`.
    pub fn status_on(&self, today: &str) -> &'static str {
        if self.end_date.as_deref().is_some_and(|end| end < today) {
            "Ended"
        } else if self.review_date.as_str() < today {
            "Review overdue"
        } else {
            "In force"
        }
    }
}

/// The rule of a lapse, also written in SQL in [`Db::grants_for`]: an agreement is in force up
/// to and including its review date and its end date.
fn agreement_lapsed(review_date: &str, end_date: Option<&str>, today: &str) -> bool {
    review_date < today || end_date.is_some_and(|end| end < today)
}

/// Where a grant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantStatus {
    /// Asked for; gives no access until the dataset's owner approves it.
    Requested,
    Approved,
    Refused,
}

impl GrantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Requested => "requested",
            GrantStatus::Approved => "approved",
            GrantStatus::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Result<GrantStatus, DbError> {
        match s {
            "requested" => Ok(GrantStatus::Requested),
            "approved" => Ok(GrantStatus::Approved),
            "refused" => Ok(GrantStatus::Refused),
            other => Err(DbError::corrupt(format!("agreement_grants.status: \"{other}\""))),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GrantRecord {
    pub agreement_id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub dataset: String,
    pub level: AccessLevel,
    pub status: GrantStatus,
    /// Who asked for it (an email, or the name of a command-line actor).
    pub requested_by: String,
    pub requested_at: String,
    /// Who approved or refused it, and when.
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The organisation that approved or refused it (the dataset's owner at the time).
    pub decided_by_org: Option<i64>,
    /// Its agreement has passed its review or end date (as of when it was read).
    pub lapsed: bool,
    /// When the lapse was recorded in the audit log ([`Db::record_lapses`]).
    pub lapse_recorded_at: Option<String>,
}

impl GrantRecord {
    fn from_row(r: &AnyRow, today: &str) -> Result<GrantRecord, DbError> {
        let level: String = r.try_get("level")?;
        let status: String = r.try_get("status")?;
        let review_date: String = r.try_get("review_date")?;
        let end_date: Option<String> = r.try_get("end_date")?;
        Ok(GrantRecord {
            agreement_id: r.try_get("agreement_id")?,
            org_id: r.try_get("org_id")?,
            org_name: r.try_get("org_name")?,
            dataset: r.try_get("dataset")?,
            level: level.parse().map_err(|e| DbError::corrupt(format!("agreement_grants.level: {e}")))?,
            status: GrantStatus::parse(&status)?,
            requested_by: r.try_get("requested_by")?,
            requested_at: r.try_get("requested_at")?,
            decided_by: r.try_get("decided_by")?,
            decided_at: r.try_get("decided_at")?,
            decided_by_org: r.try_get("decided_by_org")?,
            lapsed: agreement_lapsed(&review_date, end_date.as_deref(), today),
            lapse_recorded_at: r.try_get("lapse_recorded_at")?,
        })
    }

    /// Whether it gives access today (approved, not lapsed; the owner check is the query's).
    pub fn in_force(&self) -> bool {
        self.status == GrantStatus::Approved && !self.lapsed
    }

    /// The status shown on the register: `requested`, `approved`, `refused` or `lapsed`.
    pub fn shown_status(&self) -> &'static str {
        if self.status == GrantStatus::Approved && self.lapsed {
            "lapsed"
        } else {
            self.status.as_str()
        }
    }
}

const GRANT_COLUMNS: &str = "g.agreement_id, g.org_id, o.name AS org_name, g.dataset, g.level, g.status, \
     g.requested_by, g.requested_at, g.decided_by, g.decided_at, g.decided_by_org, g.lapse_recorded_at, a.review_date, a.end_date";

pub struct NewAgreement<'a> {
    pub title: &'a str,
    pub purpose: &'a str,
    pub lawful_basis: &'a str,
    pub review_date: &'a str,
    /// Optional ('' for none).
    pub end_date: &'a str,
    /// The DPIA's reference ('' for none).
    pub dpia_reference: &'a str,
    /// Optional ('' for none).
    pub dpia_date: &'a str,
    pub parties: &'a [i64],
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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
}

/// The longest text each data-sharing field takes, in characters (a form field over it is
/// refused, naming the field, and nothing is stored). Text is also bounded in bytes, at four
/// bytes a character (UTF-8's longest), which is checked first so an oversized value is
/// refused before its characters are counted.
pub mod field_limits {
    pub const TITLE: usize = 200;
    pub const PURPOSE: usize = 2000;
    pub const LAWFUL_BASIS: usize = 500;
    pub const DPIA_REFERENCE: usize = 100;
    pub const DPIA_DATASETS: usize = 500;
    pub const DPIA_SUMMARY: usize = 4000;
    /// A dataset slug (`ed-assaults`, `indicators:health`).
    pub const DATASET: usize = 100;
    /// A date, `YYYY-MM-DD`.
    pub const DATE: usize = 10;
}

/// `Invalid { field }` when `value` is longer than `max` characters (or `4 × max` bytes).
pub fn check_length(field: &'static str, label: &str, value: &str, max: usize) -> Result<(), DbError> {
    if value.len() > 4 * max {
        return Err(DbError::invalid(
            field,
            format!(
                "The {label} is too long: enter at most {max} characters ({} bytes of text were sent)",
                value.len()
            ),
        ));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(DbError::invalid(
            field,
            format!("The {label} is too long: enter at most {max} characters (it has {chars})"),
        ));
    }
    Ok(())
}

/// The length checks of an agreement's fields.
fn check_agreement_lengths(a: &NewAgreement<'_>) -> Result<(), DbError> {
    check_length("title", "title", a.title, field_limits::TITLE)?;
    check_length("purpose", "purpose", a.purpose, field_limits::PURPOSE)?;
    check_length("lawful_basis", "lawful basis", a.lawful_basis, field_limits::LAWFUL_BASIS)?;
    check_length("review_date", "review date", a.review_date, field_limits::DATE + 2)?;
    check_length("end_date", "end date", a.end_date, field_limits::DATE + 2)?;
    check_length("dpia_reference", "DPIA reference", a.dpia_reference, field_limits::DPIA_REFERENCE)?;
    check_length("dpia_date", "date the DPIA was completed", a.dpia_date, field_limits::DATE + 2)
}

/// The checks of an agreement's fields (lengths, required fields, dates): the trimmed end
/// date and DPIA date, if given.
fn check_agreement(a: &NewAgreement<'_>) -> Result<(Option<String>, Option<String>), DbError> {
    check_agreement_lengths(a)?;
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
    let optional = |field, label, value: &str| -> Result<Option<String>, DbError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        check_date(field, label, value)?;
        Ok(Some(value.to_string()))
    };
    let end_date = optional("end_date", "end date", a.end_date)?;
    let dpia_date = optional("dpia_date", "date the DPIA was completed", a.dpia_date)?;
    if end_date.as_deref().is_some_and(|end| end < a.review_date.trim()) {
        return Err(DbError::invalid("end_date", "The end date must be on or after the review date"));
    }
    Ok((end_date, dpia_date))
}

/// An agreement's review and end dates, by column name (both are text, so a swap would not
/// fail to decode).
#[derive(sqlx::FromRow)]
struct AgreementDates {
    review_date: String,
    end_date: Option<String>,
}

/// The dates of agreement `id`, if it exists.
async fn agreement_dates(tx: &mut sqlx::AnyConnection, id: i64) -> Result<Option<AgreementDates>, DbError> {
    Ok(sqlx::query_as("SELECT review_date, end_date FROM agreements WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?)
}

/// An approved grant under an agreement, by column name.
#[derive(sqlx::FromRow)]
struct ApprovedGrant {
    org_id: i64,
    dataset: String,
    level: String,
}

/// An approved grant whose agreement has lapsed, by column name.
#[derive(sqlx::FromRow)]
struct LapsedGrant {
    agreement_id: i64,
    org_id: i64,
    dataset: String,
    review_date: String,
    end_date: Option<String>,
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
    /// organisation), recorded as a `permission-change`. A dataset's first owner may be named
    /// by anyone allowed here; once it has one, only an administrator of that owner can hand
    /// it on (`Invalid { field: "org_id" }` otherwise), so nobody makes themselves the owner
    /// of another organisation's data (owners see its records).
    pub async fn set_dataset_owner(&self, slug: &str, org_id: i64, actor: &Actor) -> Result<(), DbError> {
        check_length("dataset", "dataset", slug, field_limits::DATASET)?;
        let mut tx = self.begin_write().await?;
        require_dataset(&mut tx, slug).await?;
        require_organisation(&mut tx, "org_id", org_id).await?;
        let (owner, owner_name): (Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT d.owner_org_id, o.name FROM datasets d LEFT JOIN organisations o ON o.id = d.owner_org_id \
             WHERE d.slug = $1",
        )
        .bind(slug)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(owner) = owner.filter(|o| *o != org_id) {
            let by_owner_admin = administrator_org(&mut tx, actor).await? == Some(owner);
            if !by_owner_admin {
                let name = owner_name.unwrap_or_else(|| format!("organisation {owner}"));
                return Err(DbError::invalid(
                    "org_id",
                    format!(
                        "{slug} belongs to {name}: only an administrator of {name} can hand it to another organisation"
                    ),
                ));
            }
        }
        sqlx::query("UPDATE datasets SET owner_org_id = $1 WHERE slug = $2")
            .bind(org_id)
            .bind(slug)
            .execute(&mut *tx)
            .await?;
        let detail = format!("owner set to organisation {org_id}");
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, slug, &detail)).await?;
        Ok(())
    }

    /// Every grant, whatever its status, with organisation names.
    pub async fn grants(&self) -> Result<Vec<GrantRecord>, DbError> {
        let today = today();
        let rows = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM agreement_grants g JOIN organisations o ON o.id = g.org_id \
             JOIN agreements a ON a.id = g.agreement_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut grants = rows.iter().map(|r| GrantRecord::from_row(r, &today)).collect::<Result<Vec<_>, _>>()?;
        grants
            .sort_by(|a, b| (a.agreement_id, &a.org_name, &a.dataset).cmp(&(b.agreement_id, &b.org_name, &b.dataset)));
        Ok(grants)
    }

    /// The grants in force today for one organisation and one dataset: approved by an
    /// administrator of the organisation that still owns the dataset, under an agreement that
    /// has passed neither its review date nor its end date. The access check reads only these.
    pub async fn grants_for(&self, org_id: i64, dataset: &str) -> Result<Vec<GrantRecord>, DbError> {
        self.record_lapses().await?;
        let today = today();
        let rows = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM agreement_grants g JOIN organisations o ON o.id = g.org_id \
             JOIN agreements a ON a.id = g.agreement_id JOIN datasets d ON d.slug = g.dataset \
             WHERE g.org_id = $1 AND g.dataset = $2 AND g.status = 'approved' \
             AND g.decided_by_org = d.owner_org_id AND d.open_data = 0 \
             AND a.review_date >= $3 AND (a.end_date IS NULL OR a.end_date >= $3)"
        ))
        .bind(org_id)
        .bind(dataset)
        .bind(&today)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| GrantRecord::from_row(r, &today)).collect()
    }

    /// Records, once each, the approved grants whose agreement has passed its review or end
    /// date: marks them and appends a `permission-change` row ("grant lapsed") in one
    /// transaction, so the log shows when access ended. The lapse itself needs no record to
    /// take effect (the access check computes it); this only makes it visible. Called by the
    /// access check and the data-sharing page; writes nothing when there is nothing new.
    pub async fn record_lapses(&self) -> Result<usize, DbError> {
        let today = today();
        let lapsed = "g.status = 'approved' AND g.lapse_recorded_at IS NULL \
                      AND (a.review_date < $1 OR (a.end_date IS NOT NULL AND a.end_date < $1))";
        let found: Vec<LapsedGrant> = sqlx::query_as(&format!(
            "SELECT g.agreement_id, g.org_id, g.dataset, a.review_date, a.end_date FROM agreement_grants g \
             JOIN agreements a ON a.id = g.agreement_id WHERE {lapsed}"
        ))
        .bind(&today)
        .fetch_all(&self.pool)
        .await?;
        if found.is_empty() {
            return Ok(0);
        }
        let system = Actor::new("system", "system");
        let mut recorded = 0;
        let mut tx = self.begin_write().await?;
        for LapsedGrant { agreement_id, org_id, dataset, review_date, end_date } in found {
            // Only the first to mark it records it (a concurrent check finds it marked).
            let marked = sqlx::query(
                "UPDATE agreement_grants SET lapse_recorded_at = $1 WHERE agreement_id = $2 AND org_id = $3 \
                 AND dataset = $4 AND status = 'approved' AND lapse_recorded_at IS NULL",
            )
            .bind(now())
            .bind(agreement_id)
            .bind(org_id)
            .bind(&dataset)
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() != 1 {
                continue;
            }
            let passed = match end_date.filter(|end| end.as_str() < today.as_str()) {
                Some(end) => format!("its end date {end}"),
                None => format!("its review date {review_date}"),
            };
            let detail = format!(
                "grant lapsed: agreement {agreement_id} passed {passed}; organisation {org_id} has no access under it"
            );
            append(&mut tx, self.audit_chain(), &system.event(PERMISSION_CHANGE, &dataset, &detail)).await?;
            recorded += 1;
        }
        tx.commit().await?;
        Ok(recorded)
    }

    pub async fn agreements(&self) -> Result<Vec<Agreement>, DbError> {
        let rows = sqlx::query(
            "SELECT id, title, purpose, lawful_basis, review_date, end_date, dpia_reference, dpia_date, created_by, \
             created_at, version FROM agreements ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let parties: Vec<(i64, String)> = sqlx::query_as(
            "SELECT p.agreement_id, o.name FROM agreement_parties p JOIN organisations o ON o.id = p.org_id",
        )
        .fetch_all(&self.pool)
        .await?;
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
    /// `lawful_basis`, `review_date`). The same form sent again (its `submission` key)
    /// records nothing and returns the first one's id.
    pub async fn create_agreement(
        &self,
        a: &NewAgreement<'_>,
        submission: Option<&str>,
        actor: &Actor,
    ) -> Result<i64, DbError> {
        let (end_date, dpia_date) = check_agreement(a)?;
        let key = submissions::key("agreement", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let row = sqlx::query(
            "INSERT INTO agreements (title, purpose, lawful_basis, review_date, end_date, dpia_reference, dpia_date, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(a.title.trim())
        .bind(a.purpose.trim())
        .bind(a.lawful_basis.trim())
        .bind(a.review_date.trim())
        .bind(end_date)
        .bind(a.dpia_reference.trim())
        .bind(dpia_date)
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
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("agreement {id} recorded");
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, a.title.trim(), &detail)).await?;
        Ok(id)
    }

    /// Edits or renews agreement `id` with the fields of `a` (its parties are kept; `Invalid`
    /// names the field at fault, `NotFound` for no such agreement). When the edit moves the
    /// review date or the end date later (or removes the end date), the agreement stays in
    /// force longer than its owners approved: every approved grant under it becomes a request
    /// again, asked for by `actor`, and gives no access until an administrator of the dataset's
    /// owner (not `actor`) approves it anew. Refused grants stay refused. One transaction,
    /// audited (the edit, and each grant sent back for approval). Returns how many grants
    /// were sent back. `seen`: the version the form was opened on ([`crate::versions::claim`]).
    pub async fn update_agreement(
        &self,
        id: i64,
        a: &NewAgreement<'_>,
        seen: Option<i64>,
        actor: &Actor,
    ) -> Result<usize, DbError> {
        let (end_date, dpia_date) = check_agreement(a)?;
        let review_date = a.review_date.trim();
        let mut tx = self.begin_write().await?;
        if !versions::claim(&mut tx, Versioned::Agreement, id, seen).await? {
            return Err(DbError::not_found(format!("agreement {id}")));
        }
        let Some(AgreementDates { review_date: old_review, end_date: old_end }) = agreement_dates(&mut tx, id).await?
        else {
            return Err(DbError::not_found(format!("agreement {id}")));
        };
        let extended = review_date > old_review.as_str()
            || match (&old_end, &end_date) {
                (Some(_), None) => true,
                (Some(old), Some(new)) => new > old,
                (None, _) => false,
            };
        sqlx::query(
            "UPDATE agreements SET title = $1, purpose = $2, lawful_basis = $3, review_date = $4, end_date = $5, \
             dpia_reference = $6, dpia_date = $7 WHERE id = $8",
        )
        .bind(a.title.trim())
        .bind(a.purpose.trim())
        .bind(a.lawful_basis.trim())
        .bind(review_date)
        .bind(end_date.clone())
        .bind(a.dpia_reference.trim())
        .bind(dpia_date)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let mut sent_back = 0;
        if extended {
            let grants: Vec<ApprovedGrant> = sqlx::query_as(
                "SELECT org_id, dataset, level FROM agreement_grants WHERE agreement_id = $1 AND status = 'approved' \
                 ORDER BY org_id, dataset",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for ApprovedGrant { org_id, dataset, level } in grants {
                sqlx::query(
                    "UPDATE agreement_grants SET status = 'requested', requested_by = $1, requested_at = $2, \
                     decided_by = NULL, decided_at = NULL, decided_by_org = NULL, lapse_recorded_at = NULL \
                     WHERE agreement_id = $3 AND org_id = $4 AND dataset = $5 AND status = 'approved'",
                )
                .bind(actor_email(actor))
                .bind(now())
                .bind(id)
                .bind(org_id)
                .bind(&dataset)
                .execute(&mut *tx)
                .await?;
                let detail = format!(
                    "grant sent back for approval: agreement {id} renewed to {review_date}; organisation {org_id}, \
                     {level} access; no access until an administrator of the dataset's owner approves it again"
                );
                append(&mut tx, self.audit_chain(), &actor.event(PERMISSION_CHANGE, &dataset, &detail)).await?;
                sent_back += 1;
            }
        }
        let detail = format!(
            "agreement {id} edited: review date {old_review} → {review_date}, end date {} → {}",
            old_end.as_deref().unwrap_or("none"),
            end_date.as_deref().unwrap_or("none")
        );
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, a.title.trim(), &detail)).await?;
        Ok(sent_back)
    }

    /// Asks for what an agreement should grant an organisation for a dataset (replacing any
    /// earlier request or decision under the same agreement, so a changed level needs a new
    /// approval); the organisation becomes a party to it. The grant gives no access until an
    /// administrator of the dataset's owner approves it ([`Db::decide_grant`]). An unknown
    /// agreement, organisation or dataset is `Invalid` (`agreement_id`, `org_id`, `dataset`),
    /// as are open data (which needs no grant) and an agreement that has lapsed.
    pub async fn set_grant(
        &self,
        agreement_id: i64,
        org_id: i64,
        dataset: &str,
        level: AccessLevel,
        actor: &Actor,
    ) -> Result<(), DbError> {
        check_length("dataset", "dataset", dataset, field_limits::DATASET)?;
        let today = today();
        let mut tx = self.begin_write().await?;
        let Some(dates) = agreement_dates(&mut tx, agreement_id).await? else {
            return Err(DbError::invalid("agreement_id", "Choose an agreement (record one first)"));
        };
        if agreement_lapsed(&dates.review_date, dates.end_date.as_deref(), &today) {
            return Err(DbError::invalid(
                "agreement_id",
                "That agreement has passed its review or end date: record a new agreement to grant under",
            ));
        }
        require_organisation(&mut tx, "org_id", org_id).await?;
        require_dataset(&mut tx, dataset).await?;
        let open =
            sqlx::query("SELECT open_data FROM datasets WHERE slug = $1").bind(dataset).fetch_one(&mut *tx).await?;
        if open.try_get::<i64, _>(0)? != 0 {
            return Err(DbError::invalid(
                "dataset",
                format!("{dataset} is open data: everyone signed in sees it without a grant"),
            ));
        }
        sqlx::query("INSERT INTO agreement_parties (agreement_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(agreement_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO agreement_grants (agreement_id, org_id, dataset, level, status, requested_by, requested_at) \
             VALUES ($1, $2, $3, $4, 'requested', $5, $6) \
             ON CONFLICT (agreement_id, org_id, dataset) DO UPDATE SET level = excluded.level, status = 'requested', \
             requested_by = excluded.requested_by, requested_at = excluded.requested_at, decided_by = NULL, \
             decided_at = NULL, decided_by_org = NULL, lapse_recorded_at = NULL",
        )
        .bind(agreement_id)
        .bind(org_id)
        .bind(dataset)
        .bind(level.code())
        .bind(actor_email(actor))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "grant requested: agreement {agreement_id}, organisation {org_id}, {level} access; no access until an \
             administrator of the dataset's owner approves it"
        );
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, dataset, &detail)).await?;
        Ok(())
    }

    /// Approves (`approve`) or refuses the request for `dataset` under `agreement_id` for
    /// `org_id`, as `actor`, who must be an active administrator (a `user:<email>` actor) of
    /// the organisation that owns the dataset and not the one who asked. Refusals:
    /// `NotFound` (no such request), `Invalid { field: "decision" }` (not the owner's
    /// administrator, or the requester), `Conflict { field: "decision" }` (already decided,
    /// also when another decision won a race). Audited in the same transaction.
    pub async fn decide_grant(
        &self,
        agreement_id: i64,
        org_id: i64,
        dataset: &str,
        approve: bool,
        actor: &Actor,
    ) -> Result<(), DbError> {
        check_length("dataset", "dataset", dataset, field_limits::DATASET)?;
        let mut tx = self.begin_write().await?;
        let grant = sqlx::query(
            "SELECT g.status, g.requested_by, d.owner_org_id, o.name AS owner_name FROM agreement_grants g \
             JOIN datasets d ON d.slug = g.dataset LEFT JOIN organisations o ON o.id = d.owner_org_id \
             WHERE g.agreement_id = $1 AND g.org_id = $2 AND g.dataset = $3",
        )
        .bind(agreement_id)
        .bind(org_id)
        .bind(dataset)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(grant) = grant else {
            return Err(DbError::not_found(format!("grant request for {dataset} under agreement {agreement_id}")));
        };
        let status: String = grant.try_get("status")?;
        let requested_by: String = grant.try_get("requested_by")?;
        let owner: Option<i64> = grant.try_get("owner_org_id")?;
        let owner_name: Option<String> = grant.try_get("owner_name")?;
        if status != "requested" {
            return Err(DbError::conflict("decision", format!("This request was already {status}")));
        }
        let Some(owner) = owner else {
            return Err(DbError::invalid(
                "decision",
                format!("{dataset} has no owner yet: name its owner, whose administrators then decide"),
            ));
        };
        let owner_name = owner_name.unwrap_or_else(|| format!("organisation {owner}"));
        if administrator_org(&mut tx, actor).await? != Some(owner) {
            return Err(DbError::invalid(
                "decision",
                format!("Only an administrator of {owner_name}, which owns {dataset}, can decide this request"),
            ));
        }
        let decider = actor_email(actor);
        if decider.eq_ignore_ascii_case(&requested_by) {
            return Err(DbError::invalid(
                "decision",
                "You asked for this grant: another administrator of the owner must decide it",
            ));
        }
        let decision = if approve { "approved" } else { "refused" };
        let updated = sqlx::query(
            "UPDATE agreement_grants SET status = $1, decided_by = $2, decided_at = $3, decided_by_org = $4 \
             WHERE agreement_id = $5 AND org_id = $6 AND dataset = $7 AND status = 'requested'",
        )
        .bind(decision)
        .bind(decider)
        .bind(now())
        .bind(owner)
        .bind(agreement_id)
        .bind(org_id)
        .bind(dataset)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(DbError::conflict("decision", "This request was decided meanwhile"));
        }
        if approve {
            sqlx::query("INSERT INTO agreement_parties (agreement_id, org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(agreement_id)
                .bind(owner)
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!(
            "grant {decision} by the owner ({owner_name}): agreement {agreement_id}, organisation {org_id}, requested by {requested_by}"
        );
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, dataset, &detail)).await?;
        Ok(())
    }

    pub async fn dpias(&self) -> Result<Vec<Dpia>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, title, datasets, completed_on, review_date, summary, created_by FROM dpias ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a DPIA: `Invalid` names the field at fault (`title`, `completed_on`,
    /// `review_date`). The same form sent again (its `submission` key) records nothing and
    /// returns the first one's id.
    pub async fn create_dpia(&self, d: &NewDpia<'_>, submission: Option<&str>, actor: &Actor) -> Result<i64, DbError> {
        check_length("title", "title", d.title, field_limits::TITLE)?;
        check_length("datasets", "datasets", d.datasets, field_limits::DPIA_DATASETS)?;
        check_length("completed_on", "date it was completed", d.completed_on, field_limits::DATE + 2)?;
        check_length("review_date", "review date", d.review_date, field_limits::DATE + 2)?;
        check_length("summary", "summary", d.summary, field_limits::DPIA_SUMMARY)?;
        if d.title.trim().is_empty() {
            return Err(DbError::invalid("title", "Enter the DPIA's title"));
        }
        check_date("completed_on", "date it was completed", d.completed_on.trim())?;
        check_date("review_date", "review date", d.review_date.trim())?;
        let key = submissions::key("dpia", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
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
        submissions::record(&mut tx, key.as_deref(), id).await?;
        let detail = format!("DPIA {id} recorded");
        self.commit_audited(tx, &actor.event(PERMISSION_CHANGE, d.title.trim(), &detail)).await?;
        Ok(id)
    }
}

/// The organisation of which `actor` is an active administrator: `None` unless the actor is a
/// signed-in user (`user:<email>`) with that role.
async fn administrator_org(tx: &mut sqlx::AnyConnection, actor: &Actor) -> Result<Option<i64>, DbError> {
    let Some(email) = actor.name.strip_prefix("user:") else { return Ok(None) };
    let row = sqlx::query("SELECT org_id FROM users WHERE email = $1 AND role = 'administrator' AND active <> 0")
        .bind(email.to_lowercase())
        .fetch_optional(&mut *tx)
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get(0)?),
        None => None,
    })
}

/// How the `created_by` columns name an actor: the email of a `user:<email>`, the actor's
/// name as it is otherwise (`cli:<login>`).
pub(super) fn actor_email(actor: &Actor) -> &str {
    actor.name.strip_prefix("user:").unwrap_or(&actor.name)
}
