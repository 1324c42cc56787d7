//! The partnership's safer places charter (its name is the profile's `charter_name`): commitments, applications from organisations
//! with their venues and how they meet each commitment, verification by partnership staff,
//! yearly renewal, and the public directory of current signatories.
//!
//! A signatory is *current* on a day when it is verified and its renewal date (a year after
//! verification or its last renewal) is that day or later; a lapsed signatory leaves the
//! public directory until staff renew it.

use chrono::{Months, NaiveDate};
use serde::Serialize;
use sqlx::Row;

use super::Place;
use crate::audit::Actor;
use crate::clock::now;
use crate::submissions::{self, Claim};
use crate::{Db, DbError};

/// The charter allows at most this many commitments (the Staffordshire charter has six).
pub const MAX_COMMITMENTS: usize = 6;

/// The charter's active commitments, in order.
const ACTIVE_COMMITMENTS: &str =
    "SELECT id, position, title, description FROM charter_commitments WHERE active = 1 ORDER BY position, id";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Commitment {
    pub id: i64,
    pub position: i64,
    pub title: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct NewVenue {
    pub name: String,
    pub address: String,
    pub postcode: String,
    /// The ward, LSOA or district the venue's place name matched.
    pub place: Option<Place>,
    /// WGS84 (lon, lat) when the organisation gave one.
    pub point: Option<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct NewPledge {
    pub commitment_id: i64,
    pub how_met: String,
    pub evidence: String,
}

#[derive(Debug, Clone)]
pub struct NewSignatory {
    pub name: String,
    pub org_type: String,
    pub address: String,
    pub postcode: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub staff_trained: i64,
    pub venues: Vec<NewVenue>,
    pub pledges: Vec<NewPledge>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Venue {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub area_code: Option<String>,
    pub area_name: Option<String>,
    pub district_code: Option<String>,
    /// WGS84 (lon, lat).
    pub point: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Pledge {
    pub commitment_id: i64,
    pub title: String,
    pub how_met: String,
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Signatory {
    pub id: i64,
    pub name: String,
    pub org_type: String,
    pub address: String,
    pub postcode: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub staff_trained: i64,
    pub status: String,
    pub return_reason: Option<String>,
    pub submitted_at: String,
    pub verified_at: Option<String>,
    pub renewal_due: Option<String>,
    /// Read after the signatory (see `Db::with_details`).
    #[sqlx(skip)]
    pub venues: Vec<Venue>,
    #[sqlx(skip)]
    pub pledges: Vec<Pledge>,
}

/// A venue as stored, by column name: its point is text (`lon,lat`) until parsed.
#[derive(sqlx::FromRow)]
struct VenueRow {
    id: i64,
    name: String,
    address: String,
    postcode: String,
    area_code: Option<String>,
    area_name: Option<String>,
    district_code: Option<String>,
    point: Option<String>,
}

fn parse_point(text: Option<String>) -> Option<(f64, f64)> {
    let text = text?;
    let (lon, lat) = text.split_once(',')?;
    Some((lon.parse().ok()?, lat.parse().ok()?))
}

fn in_a_year(day: NaiveDate) -> String {
    day.checked_add_months(Months::new(12)).unwrap_or(day).format("%Y-%m-%d").to_string()
}

impl Db {
    /// The charter's active commitments, in order.
    pub async fn charter_commitments(&self) -> Result<Vec<Commitment>, DbError> {
        Ok(sqlx::query_as(ACTIVE_COMMITMENTS).fetch_all(&self.pool).await?)
    }

    /// Adds a commitment at the end, recorded as `charter-commitment`; `Conflict { field:
    /// "title" }` when the charter already has [`MAX_COMMITMENTS`].
    pub async fn add_charter_commitment(&self, title: &str, description: &str, actor: &Actor) -> Result<i64, DbError> {
        let existing = self.charter_commitments().await?;
        if existing.len() >= MAX_COMMITMENTS {
            return Err(DbError::conflict("title", format!("The charter already has {MAX_COMMITMENTS} commitments")));
        }
        let position = existing.iter().map(|c| c.position).max().unwrap_or(0) + 1;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO charter_commitments (position, title, description, active) VALUES ($1, $2, $3, 1) RETURNING id",
        )
        .bind(position)
        .bind(title)
        .bind(description)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        self.commit_audited(tx, &actor.event("charter-commitment", &format!("commitment:{id}"), title)).await?;
        Ok(id)
    }

    /// Stores an application (status 'submitted') with its venues and pledges in one
    /// transaction. It must pledge every active commitment and nothing else, so a charter
    /// with no commitments (a partnership that has not set them out) cannot be joined. The
    /// commitments are read in the write transaction: one withdrawn or added meanwhile is
    /// seen. The same form sent again (its `submission` key) stores nothing and returns the
    /// first application's id.
    pub async fn register_signatory(&self, s: &NewSignatory, submission: Option<&str>) -> Result<i64, DbError> {
        let key = submissions::key("signatory", submission)?;
        let mut tx = self.begin_write().await?;
        if let Claim::Repeat(first) = submissions::claim(&mut tx, key.as_deref()).await? {
            return Ok(first);
        }
        let active: Vec<Commitment> = sqlx::query_as(ACTIVE_COMMITMENTS).fetch_all(&mut *tx).await?;
        if active.is_empty() {
            return Err(DbError::invalid("pledges", "The charter has no commitments yet: it cannot be joined"));
        }
        if let Some(c) = active.iter().find(|c| !s.pledges.iter().any(|p| p.commitment_id == c.id)) {
            return Err(DbError::invalid("pledges", format!("Agree to the commitment \"{}\"", c.title)));
        }
        if let Some(p) = s.pledges.iter().find(|p| !active.iter().any(|c| c.id == p.commitment_id)) {
            return Err(DbError::invalid(
                "pledges",
                format!("commitment {} is not one of the charter's", p.commitment_id),
            ));
        }
        let row = sqlx::query(
            "INSERT INTO charter_signatories (name, org_type, address, postcode, contact_name, contact_email, \
             contact_phone, staff_trained, status, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', $9) RETURNING id",
        )
        .bind(s.name.as_str())
        .bind(s.org_type.as_str())
        .bind(s.address.as_str())
        .bind(s.postcode.as_str())
        .bind(s.contact_name.as_str())
        .bind(s.contact_email.as_str())
        .bind(s.contact_phone.as_str())
        .bind(s.staff_trained)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        for v in &s.venues {
            sqlx::query(
                "INSERT INTO charter_venues (signatory_id, name, address, postcode, area_code, area_name, district_code, point) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(v.name.as_str())
            .bind(v.address.as_str())
            .bind(v.postcode.as_str())
            .bind(v.place.as_ref().map(|p| p.code.clone()))
            .bind(v.place.as_ref().map(|p| p.name.clone()))
            .bind(v.place.as_ref().and_then(|p| p.district_code.clone()))
            .bind(v.point.map(|(lon, lat)| format!("{lon:.6},{lat:.6}")))
            .execute(&mut *tx)
            .await?;
        }
        for p in &s.pledges {
            sqlx::query(
                "INSERT INTO charter_pledges (signatory_id, commitment_id, how_met, evidence) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(p.commitment_id)
            .bind(p.how_met.as_str())
            .bind(p.evidence.as_str())
            .execute(&mut *tx)
            .await?;
        }
        submissions::record(&mut tx, key.as_deref(), id).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn with_details(&self, mut list: Vec<Signatory>) -> Result<Vec<Signatory>, DbError> {
        for s in &mut list {
            let venues: Vec<VenueRow> = sqlx::query_as(
                "SELECT id, name, address, postcode, area_code, area_name, district_code, point FROM charter_venues \
                 WHERE signatory_id = $1 ORDER BY id",
            )
            .bind(s.id)
            .fetch_all(&self.pool)
            .await?;
            s.venues = venues
                .into_iter()
                .map(|r| Venue {
                    id: r.id,
                    name: r.name,
                    address: r.address,
                    postcode: r.postcode,
                    area_code: r.area_code,
                    area_name: r.area_name,
                    district_code: r.district_code,
                    point: parse_point(r.point),
                })
                .collect();
            s.pledges = sqlx::query_as(
                "SELECT p.commitment_id, c.title, p.how_met, p.evidence FROM charter_pledges p \
                 JOIN charter_commitments c ON c.id = p.commitment_id WHERE p.signatory_id = $1 \
                 ORDER BY c.position, p.commitment_id",
            )
            .bind(s.id)
            .fetch_all(&self.pool)
            .await?;
        }
        Ok(list)
    }

    /// Applications and signatories with a status ('submitted', 'verified', 'returned'),
    /// with venues and pledges, oldest first.
    pub async fn signatories(&self, status: &str) -> Result<Vec<Signatory>, DbError> {
        let list = sqlx::query_as("SELECT * FROM charter_signatories WHERE status = $1 ORDER BY id")
            .bind(status)
            .fetch_all(&self.pool)
            .await?;
        self.with_details(list).await
    }

    /// One application or signatory.
    pub async fn signatory(&self, id: i64) -> Result<Option<Signatory>, DbError> {
        let found: Option<Signatory> = sqlx::query_as("SELECT * FROM charter_signatories WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(found) = found else { return Ok(None) };
        Ok(self.with_details(vec![found]).await?.pop())
    }

    /// Verifies a submitted application (or renews a signatory): due for renewal a year
    /// from `today`; recorded (`charter-verify`) in the same transaction. `false` when there
    /// is no such application (nothing changes, nothing is recorded).
    pub async fn verify_signatory(&self, id: i64, today: NaiveDate, actor: &Actor) -> Result<bool, DbError> {
        let due = in_a_year(today);
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE charter_signatories SET status = 'verified', verified_at = $1, verified_by = $2, renewal_due = $3, \
             return_reason = NULL WHERE id = $4 AND status IN ('submitted', 'verified')",
        )
        .bind(now())
        .bind(actor.name.as_str())
        .bind(&due)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let detail = format!("verified, renewal due {due}");
        let target = format!("signatory:{id}");
        let event = actor.event("charter-verify", &target, &detail);
        self.commit_audited_if_one_row(tx, done.rows_affected(), &event).await
    }

    /// Returns a submitted application to the organisation with a reason, recorded
    /// (`charter-return`) in the same transaction. `false` when there is no such submitted
    /// application.
    pub async fn return_signatory(&self, id: i64, reason: &str, actor: &Actor) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE charter_signatories SET status = 'returned', return_reason = $1, verified_by = $2 \
             WHERE id = $3 AND status = 'submitted'",
        )
        .bind(reason)
        .bind(actor.name.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let target = format!("signatory:{id}");
        let event = actor.event("charter-return", &target, reason);
        self.commit_audited_if_one_row(tx, done.rows_affected(), &event).await
    }

    /// Verified signatories due for renewal within `days` of `today` (lapsed ones included),
    /// soonest first: the staff's reminder list.
    pub async fn charter_renewals_due(&self, today: NaiveDate, days: u64) -> Result<Vec<Signatory>, DbError> {
        let horizon = (today + chrono::Days::new(days)).format("%Y-%m-%d").to_string();
        let mut list = self.signatories("verified").await?;
        list.retain(|s| s.renewal_due.as_deref().is_some_and(|d| d <= horizon.as_str()));
        list.sort_by(|a, b| a.renewal_due.cmp(&b.renewal_due));
        Ok(list)
    }

    /// Current signatories (verified and not lapsed on `today`) matching a search of their
    /// name, venue names and addresses, postcodes (including the outward code, e.g. "ST1")
    /// and the area and district names of their venues. An empty query lists them all.
    pub async fn charter_directory(&self, query: &str, today: NaiveDate) -> Result<Vec<Signatory>, DbError> {
        let day = today.format("%Y-%m-%d").to_string();
        let districts = self.districts().await?;
        let q = query.trim().to_lowercase();
        let mut list = self.signatories("verified").await?;
        list.retain(|s| s.renewal_due.as_deref().is_some_and(|d| d >= day.as_str()));
        if !q.is_empty() {
            list.retain(|s| {
                let mut text = format!("{} {} {}", s.name, s.address, s.postcode);
                for v in &s.venues {
                    text.push_str(&format!(
                        " {} {} {} {}",
                        v.name,
                        v.address,
                        v.postcode,
                        v.area_name.as_deref().unwrap_or("")
                    ));
                    if let Some(d) = districts.iter().find(|d| Some(&d.code) == v.district_code.as_ref()) {
                        text.push(' ');
                        text.push_str(&d.name);
                    }
                }
                text.to_lowercase().contains(&q)
            });
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    /// How many signatories are current on `today`: the charter's output indicator for the
    /// performance framework.
    pub async fn current_signatory_count(&self, today: NaiveDate) -> Result<i64, DbError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM charter_signatories WHERE status = 'verified' AND renewal_due >= $1")
                .bind(today.format("%Y-%m-%d").to_string())
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get(0)?)
    }
}
