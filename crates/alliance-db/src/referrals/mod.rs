//! Referrals storage (issue 17): commissioned services and the referrals made to them. The
//! rules are `alliance_core::referrals`; this module stores and fetches.
//!
//! - Personal fields (name or initials, birth, contact, the consent record, the two
//!   organisations) are columns that erasure sets to NULL; the anonymous facts (service,
//!   source, needs, age band, sex, postcode district, dates, decline reason, outcome) stay.
//! - The database refuses a referral without a consent record, an erased referral with a
//!   personal field left, and a status that disagrees with its dates (CHECKs, migration 0025).
//! - A status change reads the row locked (`SELECT … FOR UPDATE` on PostgreSQL, the write
//!   lock of `BEGIN IMMEDIATE` on SQLite), replays its dates through the pure workflow and
//!   writes the next step only if the status is still the one read.
//! - Every write takes the [`Actor`] and appends its audit row in its own transaction; audit
//!   details name codes and ids only, never a personal field.

use std::str::FromStr;

use alliance_core::referrals::{
    AgeBand, AnonymousReferral, Birth, CodeError, CommissionedService, Consent, ConsentGivenBy, ConsentMethod, Contact,
    ContactRoute, Eligibility, Event, LawfulBasis, MinimisedPerson, Need, Needs, Parties, PersonName,
    PersonalDataPolicy, PostcodeDistrict, Referral, Sex, SourceSetting, Status, Timeline, TimelineDates,
};
use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor};
use crate::clock::now;
use crate::params::AnyQuery;
use crate::{Backend, Db, DbError};

/// Audit actions of referrals. None of their details holds a personal field.
pub const REFERRAL_SERVICE_CHANGE: &str = "referral-service-change";
pub const REFERRAL_CREATE: &str = "referral-create";
pub const REFERRAL_VIEW: &str = "referral-view";
pub const REFERRAL_STATUS: &str = "referral-status";
pub const REFERRAL_CORRECT: &str = "referral-correct";
pub const REFERRAL_ERASE: &str = "referral-erase";
pub const REFERRAL_SUBJECT_ACCESS: &str = "referral-subject-access";

/// The audit target of a referral.
pub fn referral_target(id: i64) -> String {
    format!("/referrals/{id}")
}

/// A referral as stored: its id, the service's name, the anonymous facts (always there) and
/// the whole referral with its personal data until it is erased.
#[derive(Debug, Clone)]
pub struct StoredReferral {
    pub id: i64,
    pub service_name: String,
    /// The referring and receiving organisations; `None` once erased.
    pub parties: Option<Parties>,
    pub facts: AnonymousReferral,
    /// The referral with its personal data; `None` once erased.
    pub referral: Option<Referral>,
    pub created_at: String,
    pub erased_at: Option<String>,
}

impl StoredReferral {
    pub fn status(&self) -> Status {
        self.facts.timeline.status()
    }
}

/// A commissioned service with whether it takes referrals now.
#[derive(Debug, Clone)]
pub struct StoredService {
    pub service: CommissionedService,
    pub takes_referrals: bool,
    pub run_by_name: String,
}

const REFERRAL_COLUMNS: &str =
    "r.id AS id, r.service_id AS service_id, COALESCE(s.name, r.service_id) AS service_name, \
     r.referring_org_id AS referring_org_id, r.receiving_org_id AS receiving_org_id, r.source AS source, \
     r.reason AS reason, r.other_needs AS other_needs, r.name_kind AS name_kind, r.name AS name, \
     r.date_of_birth AS date_of_birth, r.age AS age, r.sex AS sex, r.postcode_district AS postcode_district, \
     r.contact_route AS contact_route, r.contact_detail AS contact_detail, r.age_band AS age_band, \
     r.consent_given_by AS consent_given_by, r.consent_date AS consent_date, r.consent_method AS consent_method, \
     r.lawful_basis AS lawful_basis, r.lawful_basis_reason AS lawful_basis_reason, r.status AS status, \
     r.received_on AS received_on, r.accepted_on AS accepted_on, r.declined_on AS declined_on, \
     r.decline_reason AS decline_reason, r.withdrawn_on AS withdrawn_on, r.engaged_on AS engaged_on, \
     r.closed_on AS closed_on, r.outcome AS outcome, r.created_at AS created_at, r.erased_at AS erased_at";

const REFERRAL_FROM: &str = "FROM referrals r LEFT JOIN support_services s ON s.id = r.service_id";

fn corrupt(id: i64, what: impl std::fmt::Display) -> DbError {
    DbError::corrupt(format!("referral {id}: {what}"))
}

/// The date stored in `column` (NULL is `None`).
fn date(r: &AnyRow, id: i64, column: &str) -> Result<Option<NaiveDate>, DbError> {
    let text: Option<String> = r.try_get(column)?;
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| corrupt(id, format!("{column} \"{t}\" is not a date")))
    })
    .transpose()
}

/// The coded value stored in `column` (NULL is `None`); a code Alliance did not write is a
/// damaged record.
fn code<T: FromStr<Err = CodeError>>(r: &AnyRow, id: i64, column: &str) -> Result<Option<T>, DbError> {
    let text: Option<String> = r.try_get(column)?;
    text.map(|t| t.parse::<T>().map_err(|e| corrupt(id, format!("{column}: {e}")))).transpose()
}

/// A final step stored as its date and its code (a decline and its reason, a closure and its
/// outcome): both or neither, else the record is damaged (`what`).
fn dated_code<T: FromStr<Err = CodeError>>(
    r: &AnyRow,
    id: i64,
    on: &str,
    column: &str,
    what: &str,
) -> Result<Option<(NaiveDate, T)>, DbError> {
    match (date(r, id, on)?, code::<T>(r, id, column)?) {
        (Some(d), Some(c)) => Ok(Some((d, c))),
        (None, None) => Ok(None),
        _ => Err(corrupt(id, what)),
    }
}

fn from_row(r: &AnyRow) -> Result<StoredReferral, DbError> {
    let id: i64 = r.try_get("id")?;
    let service: String = r.try_get("service_id")?;
    let received = date(r, id, "received_on")?.ok_or_else(|| corrupt(id, "no date"))?;
    let dates = TimelineDates {
        received,
        accepted: date(r, id, "accepted_on")?,
        declined: dated_code(r, id, "declined_on", "decline_reason", "a decline without its date or reason")?,
        withdrawn: date(r, id, "withdrawn_on")?,
        engaged: date(r, id, "engaged_on")?,
        closed: dated_code(r, id, "closed_on", "outcome", "a closure without its date or outcome")?,
    };
    let timeline = Timeline::from_dates(&dates).map_err(|e| corrupt(id, e))?;
    let source = code::<SourceSetting>(r, id, "source")?.ok_or_else(|| corrupt(id, "no source"))?;
    let reason = code::<Need>(r, id, "reason")?.ok_or_else(|| corrupt(id, "no reason"))?;
    let others_text: String = r.try_get("other_needs")?;
    let mut others = Vec::new();
    for t in others_text.split(',').filter(|t| !t.is_empty()) {
        others.push(Need::parse(t).map_err(|e| corrupt(id, format!("other_needs: {e}")))?);
    }
    let needs = Needs::new(reason, others);
    let sex = code::<Sex>(r, id, "sex")?;
    let district: Option<String> = r.try_get("postcode_district")?;
    let district = district
        .map(|d| d.parse::<PostcodeDistrict>().map_err(|e| corrupt(id, format!("postcode_district: {e}"))))
        .transpose()?;
    let age_band = code::<AgeBand>(r, id, "age_band")?;
    let facts = AnonymousReferral {
        service: service.clone(),
        source,
        needs: needs.clone(),
        age_band,
        sex,
        district: district.clone(),
        timeline,
    };
    let erased_at: Option<String> = r.try_get("erased_at")?;
    let referring: Option<i64> = r.try_get("referring_org_id")?;
    let receiving: Option<i64> = r.try_get("receiving_org_id")?;
    let parties = match (referring, receiving) {
        (Some(referring_org), Some(receiving_org)) => Some(Parties { referring_org, receiving_org }),
        _ => None,
    };
    let referral = match (&erased_at, parties) {
        (None, Some(parties)) => {
            let name_kind: Option<String> = r.try_get("name_kind")?;
            let name: Option<String> = r.try_get("name")?;
            let name = match (name_kind.as_deref(), name) {
                (Some("initials"), Some(n)) => Some(PersonName::Initials(n)),
                (Some("full-name"), Some(n)) => Some(PersonName::Full(n)),
                (None, None) => None,
                _ => return Err(corrupt(id, "a name without its kind")),
            };
            let dob = date(r, id, "date_of_birth")?;
            let age: Option<i64> = r.try_get("age")?;
            let birth = match (dob, age) {
                (Some(d), None) => Some(Birth::DateOfBirth(d)),
                (None, Some(a)) => Some(Birth::Age(u8::try_from(a).map_err(|_| corrupt(id, "age out of range"))?)),
                (None, None) => None,
                _ => return Err(corrupt(id, "both a date of birth and an age")),
            };
            let contact = code::<ContactRoute>(r, id, "contact_route")?
                .map(|route| -> Result<Contact, DbError> {
                    Ok(Contact { route, detail: r.try_get("contact_detail")? })
                })
                .transpose()?;
            let consent = Consent {
                given_by: code::<ConsentGivenBy>(r, id, "consent_given_by")?
                    .ok_or_else(|| corrupt(id, "no consent"))?,
                date: date(r, id, "consent_date")?.ok_or_else(|| corrupt(id, "no consent date"))?,
                method: code::<ConsentMethod>(r, id, "consent_method")?,
                lawful_basis: code::<LawfulBasis>(r, id, "lawful_basis")?
                    .ok_or_else(|| corrupt(id, "no lawful basis"))?,
                reason: r.try_get("lawful_basis_reason")?,
            };
            Some(Referral {
                service: service.clone(),
                parties,
                source,
                needs,
                person: MinimisedPerson { name, birth, sex, postcode_district: district, contact },
                consent,
                timeline,
            })
        }
        _ => None,
    };
    Ok(StoredReferral {
        id,
        service_name: r.try_get("service_name")?,
        parties: if erased_at.is_none() { parties } else { None },
        facts,
        referral,
        created_at: r.try_get("created_at")?,
        erased_at,
    })
}

/// The personal columns of a person, in the order `name_kind, name, date_of_birth, age, sex,
/// postcode_district, contact_route, contact_detail`.
struct PersonColumns {
    name_kind: Option<&'static str>,
    name: Option<String>,
    date_of_birth: Option<String>,
    age: Option<i64>,
    sex: Option<&'static str>,
    district: Option<String>,
    contact_route: Option<&'static str>,
    contact_detail: Option<String>,
}

impl PersonColumns {
    /// Binds the columns, in their order.
    fn bind<'q>(self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(self.name_kind)
            .bind(self.name)
            .bind(self.date_of_birth)
            .bind(self.age)
            .bind(self.sex)
            .bind(self.district)
            .bind(self.contact_route)
            .bind(self.contact_detail)
    }
}

fn person_columns(p: &MinimisedPerson) -> PersonColumns {
    let (name_kind, name) = match &p.name {
        Some(PersonName::Initials(n)) => (Some("initials"), Some(n.clone())),
        Some(PersonName::Full(n)) => (Some("full-name"), Some(n.clone())),
        None => (None, None),
    };
    let (date_of_birth, age) = match p.birth {
        Some(Birth::DateOfBirth(d)) => (Some(d.format("%Y-%m-%d").to_string()), None),
        Some(Birth::Age(a)) => (None, Some(i64::from(a))),
        None => (None, None),
    };
    PersonColumns {
        name_kind,
        name,
        date_of_birth,
        age,
        sex: p.sex.map(Sex::code),
        district: p.postcode_district.as_ref().map(|d| d.as_str().to_string()),
        contact_route: p.contact.as_ref().map(|c| c.route.code()),
        contact_detail: p.contact.as_ref().and_then(|c| c.detail.clone()),
    }
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Binds the columns a step of the workflow sets, in the order `status, accepted_on,
/// declined_on, decline_reason, withdrawn_on, engaged_on, closed_on, outcome` (a new
/// referral also stores its `received_on`).
fn bind_timeline<'q>(query: AnyQuery<'q>, t: &Timeline) -> AnyQuery<'q> {
    let d = t.dates();
    query
        .bind(t.status().code())
        .bind(d.accepted.map(ymd))
        .bind(d.declined.map(|(on, _)| ymd(on)))
        .bind(d.declined.map(|(_, r)| r.code()))
        .bind(d.withdrawn.map(ymd))
        .bind(d.engaged.map(ymd))
        .bind(d.closed.map(|(on, _)| ymd(on)))
        .bind(d.closed.map(|(_, o)| o.code()))
}

/// A referral stored by [`Db::create_referral_once`]: its id, and whether an earlier
/// submission with the same key had already made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedReferral {
    pub id: i64,
    pub repeated: bool,
}

impl Db {
    /// Flags a service of the directory as taking referrals (or updates it): the organisation
    /// that runs it, the personal data it needs and its eligibility. Refused when the service
    /// is not in the directory, the organisation does not exist, or the set-up cannot work
    /// (`CommissionedService::configuration_problems`).
    pub async fn set_referral_service(
        &self,
        service: &CommissionedService,
        takes_referrals: bool,
        actor: &Actor,
    ) -> Result<(), DbError> {
        if let Some(p) = service.configuration_problems().first() {
            return Err(DbError::invalid("service", p.to_string()));
        }
        let policy = serde_json::to_string(&service.policy).map_err(|e| DbError::corrupt(e.to_string()))?;
        let eligibility = serde_json::to_string(&service.eligibility).map_err(|e| DbError::corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM support_services WHERE id = $1")
            .bind(&service.id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(DbError::not_found(format!("service \"{}\" in the directory of help", service.id)));
        }
        let org: Option<i64> = sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
            .bind(service.run_by)
            .fetch_optional(&mut *tx)
            .await?;
        if org.is_none() {
            return Err(DbError::not_found(format!("organisation {}", service.run_by)));
        }
        sqlx::query(
            "INSERT INTO referral_services (service_id, run_by_org_id, policy, eligibility, takes_referrals, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service_id) DO UPDATE SET run_by_org_id = excluded.run_by_org_id, \
             policy = excluded.policy, eligibility = excluded.eligibility, takes_referrals = excluded.takes_referrals, \
             updated_at = excluded.updated_at",
        )
        .bind(&service.id)
        .bind(service.run_by)
        .bind(&policy)
        .bind(&eligibility)
        .bind(i64::from(takes_referrals))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let detail = format!(
            "run by organisation {}; {}",
            service.run_by,
            if takes_referrals { "takes referrals" } else { "takes no referrals" }
        );
        self.commit_audited(
            tx,
            &actor.event(REFERRAL_SERVICE_CHANGE, &format!("/referrals/services/{}", service.id), &detail),
        )
        .await?;
        Ok(())
    }

    /// The commissioned services, by name.
    pub async fn referral_services(&self) -> Result<Vec<StoredService>, DbError> {
        let rows = sqlx::query(
            "SELECT rs.service_id AS service_id, COALESCE(s.name, rs.service_id) AS name, rs.run_by_org_id AS run_by, \
             COALESCE(o.name, '') AS run_by_name, rs.policy AS policy, rs.eligibility AS eligibility, \
             rs.takes_referrals AS takes_referrals FROM referral_services rs \
             LEFT JOIN support_services s ON s.id = rs.service_id LEFT JOIN organisations o ON o.id = rs.run_by_org_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("service_id")?;
            let policy: String = r.try_get("policy")?;
            let eligibility: String = r.try_get("eligibility")?;
            let policy: PersonalDataPolicy = serde_json::from_str(&policy)
                .map_err(|e| DbError::corrupt(format!("referral service {id}: policy: {e}")))?;
            let eligibility: Eligibility = serde_json::from_str(&eligibility)
                .map_err(|e| DbError::corrupt(format!("referral service {id}: eligibility: {e}")))?;
            let takes: i64 = r.try_get("takes_referrals")?;
            out.push(StoredService {
                service: CommissionedService {
                    id,
                    name: r.try_get("name")?,
                    run_by: r.try_get("run_by")?,
                    policy,
                    eligibility,
                },
                takes_referrals: takes != 0,
                run_by_name: r.try_get("run_by_name")?,
            });
        }
        out.sort_by(|a, b| a.service.name.cmp(&b.service.name).then_with(|| a.service.id.cmp(&b.service.id)));
        Ok(out)
    }

    /// One commissioned service.
    pub async fn referral_service(&self, id: &str) -> Result<Option<StoredService>, DbError> {
        Ok(self.referral_services().await?.into_iter().find(|s| s.service.id == id))
    }

    /// Stores a new referral (made by the pure `new_referral`) with its audit row; returns its
    /// id. Refused when the service does not take referrals.
    pub async fn create_referral(&self, referral: &Referral, actor: &Actor) -> Result<i64, DbError> {
        Ok(self.create_referral_once(referral, None, actor).await?.id)
    }

    /// [`Db::create_referral`] of a submission carrying `key` (unique: the caller namespaces
    /// it by organisation): the first submission with a key makes the referral, and any other,
    /// at once or later, gets that referral back with `repeated` set and stores nothing. Two
    /// racing submissions are told apart by the key's unique index, not by their timing.
    pub async fn create_referral_once(
        &self,
        referral: &Referral,
        key: Option<&str>,
        actor: &Actor,
    ) -> Result<CreatedReferral, DbError> {
        if let Some(k) = key {
            if let Some(found) = self.referral_of_submission(k).await? {
                return Ok(found);
            }
        }
        match self.insert_referral(referral, key, actor).await {
            // The same key committed by a request racing this one (PostgreSQL; SQLite's
            // write transactions run one at a time, so the read above saw it).
            Err(DbError::Sql(sqlx::Error::Database(d))) if d.is_unique_violation() && key.is_some() => self
                .referral_of_submission(key.unwrap_or_default())
                .await?
                .ok_or_else(|| DbError::corrupt("a referral's submission key was taken, then not found")),
            Err(e) => Err(e),
            Ok(id) => Ok(CreatedReferral { id, repeated: false }),
        }
    }

    /// The referral an earlier submission with `key` made.
    async fn referral_of_submission(&self, key: &str) -> Result<Option<CreatedReferral>, DbError> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM referrals WHERE submission_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(id.map(|id| CreatedReferral { id, repeated: true }))
    }

    async fn insert_referral(&self, referral: &Referral, key: Option<&str>, actor: &Actor) -> Result<i64, DbError> {
        let mut tx = self.begin_write().await?;
        let takes: Option<i64> =
            sqlx::query_scalar("SELECT takes_referrals FROM referral_services WHERE service_id = $1")
                .bind(&referral.service)
                .fetch_optional(&mut *tx)
                .await?;
        match takes {
            None => return Err(DbError::invalid("service", "choose a service that takes referrals")),
            Some(0) => return Err(DbError::invalid("service", "this service is not taking referrals at the moment")),
            Some(_) => {}
        }
        let p = person_columns(&referral.person);
        let others: Vec<&str> = referral.needs.others().iter().map(|n| n.code()).collect();
        let c = &referral.consent;
        let query = sqlx::query(
            "INSERT INTO referrals (service_id, referring_org_id, receiving_org_id, source, reason, other_needs, \
             name_kind, name, date_of_birth, age, sex, postcode_district, contact_route, contact_detail, age_band, \
             consent_given_by, consent_date, consent_method, lawful_basis, lawful_basis_reason, \
             status, accepted_on, declined_on, decline_reason, withdrawn_on, engaged_on, closed_on, outcome, received_on, \
             created_at, submission_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) RETURNING id",
        )
        .bind(&referral.service)
        .bind(referral.parties.referring_org)
        .bind(referral.parties.receiving_org)
        .bind(referral.source.code())
        .bind(referral.needs.reason().code())
        .bind(others.join(","));
        let query = p
            .bind(query)
            .bind(referral.age_at_referral().map(|a| AgeBand::of_age(a).code()))
            .bind(c.given_by.code())
            .bind(ymd(c.date))
            .bind(c.method.map(ConsentMethod::code))
            .bind(c.lawful_basis.code())
            .bind(c.reason.clone());
        let id: i64 = bind_timeline(query, &referral.timeline)
            .bind(ymd(referral.timeline.dates().received))
            .bind(now())
            .bind(key)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let detail = format!(
            "referral to service {} from organisation {}; source {}; lawful basis {}",
            referral.service,
            referral.parties.referring_org,
            referral.source.code(),
            c.lawful_basis.code()
        );
        self.commit_audited(tx, &actor.event(REFERRAL_CREATE, &referral_target(id), &detail)).await?;
        Ok(id)
    }

    /// One referral, erased or not. Reading is not auditing: the caller records a view of
    /// personal data with [`Db::audit_referral_view`].
    pub async fn referral(&self, id: i64) -> Result<Option<StoredReferral>, DbError> {
        let row = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The referrals an organisation made or receives (not erased ones: they have no
    /// parties), newest first.
    pub async fn referrals_of_org(&self, org: i64) -> Result<Vec<StoredReferral>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} WHERE r.referring_org_id = $1 OR r.receiving_org_id = $1 \
             ORDER BY r.id DESC"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Every referral, erased or not (for aggregates and the retention run; callers must not
    /// show personal data from it).
    pub async fn all_referrals(&self) -> Result<Vec<StoredReferral>, DbError> {
        let rows = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} ORDER BY r.id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The referrals a service holds open against its capacity (accepted or engaged).
    pub async fn referral_open_caseload(&self, service: &str) -> Result<usize, DbError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM referrals WHERE service_id = $1 AND status IN ('accepted', 'engaged')",
        )
        .bind(service)
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Records that `actor` saw referral `id`'s personal data (`detail` says where: a page,
    /// an export).
    pub async fn audit_referral_view(&self, id: i64, detail: &str, actor: &Actor) -> Result<(), DbError> {
        self.audit(&actor.event(REFERRAL_VIEW, &referral_target(id), detail)).await?;
        Ok(())
    }

    /// Reads a referral's row locked for this transaction.
    async fn locked(&self, tx: &mut sqlx::AnyConnection, id: i64) -> Result<StoredReferral, DbError> {
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE OF r" } else { "" };
        let row = sqlx::query(&format!("SELECT {REFERRAL_COLUMNS} {REFERRAL_FROM} WHERE r.id = $1{lock}"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::not_found(format!("referral {id}")))?;
        from_row(&row)
    }

    /// Moves referral `id` on by `event` on `on` (checked by the pure workflow against the
    /// stored dates, with the row locked), with its audit row; `check` is asked, with the
    /// locked referral, whether the actor may (an `Err` is returned as it is and nothing is
    /// written). Returns the new timeline.
    pub async fn referral_transition(
        &self,
        id: i64,
        event: Event,
        on: NaiveDate,
        check: impl FnOnce(&StoredReferral) -> Result<(), DbError>,
        actor: &Actor,
    ) -> Result<Timeline, DbError> {
        let mut tx = self.begin_write().await?;
        let current = self.locked(&mut tx, id).await?;
        check(&current)?;
        let next = alliance_core::referrals::transition(&current.facts.timeline, event, on)
            .map_err(|e| DbError::conflict("event", e.to_string()))?;
        let query = sqlx::query(
            "UPDATE referrals SET status = $1, accepted_on = $2, declined_on = $3, decline_reason = $4, \
             withdrawn_on = $5, engaged_on = $6, closed_on = $7, outcome = $8 WHERE id = $9 AND status = $10",
        );
        let done = bind_timeline(query, &next).bind(id).bind(current.status().code()).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(DbError::conflict("event", "the referral was changed meanwhile: reload it and try again"));
        }
        let detail = match event {
            Event::Decline { reason } => format!("decline ({}) on {}", reason.code(), ymd(on)),
            Event::Close { outcome } => format!("close ({}) on {}", outcome.code(), ymd(on)),
            other => format!("{} on {}", other.name(), ymd(on)),
        };
        self.commit_audited(tx, &actor.event(REFERRAL_STATUS, &referral_target(id), &detail)).await?;
        Ok(next)
    }

    /// Replaces referral `id`'s personal fields (already minimised by the caller against the
    /// service's policy) on request (rectification), with its audit row naming the fields that
    /// changed (not their values). `check` as for [`Db::referral_transition`].
    pub async fn correct_referral(
        &self,
        id: i64,
        person: &MinimisedPerson,
        check: impl FnOnce(&StoredReferral) -> Result<(), DbError>,
        actor: &Actor,
    ) -> Result<Vec<&'static str>, DbError> {
        let mut tx = self.begin_write().await?;
        let current = self.locked(&mut tx, id).await?;
        check(&current)?;
        let Some(old) = current.referral.as_ref() else {
            return Err(DbError::conflict("referral", "the referral's personal data has been erased"));
        };
        let mut changed = Vec::new();
        let o = &old.person;
        for (field, differs) in [
            ("name", o.name != person.name),
            ("birth", o.birth != person.birth),
            ("sex", o.sex != person.sex),
            ("postcode district", o.postcode_district != person.postcode_district),
            ("contact", o.contact != person.contact),
        ] {
            if differs {
                changed.push(field);
            }
        }
        let age_band = person.age_at_referral(current.facts.timeline.received_on()).map(|a| AgeBand::of_age(a).code());
        let p = person_columns(person);
        p.bind(sqlx::query(
            "UPDATE referrals SET name_kind = $1, name = $2, date_of_birth = $3, age = $4, sex = $5, \
             postcode_district = $6, contact_route = $7, contact_detail = $8, age_band = $9 WHERE id = $10 AND erased_at IS NULL",
        ))
        .bind(age_band)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let detail = if changed.is_empty() {
            "correction: nothing changed".to_string()
        } else {
            format!("correction of: {}", changed.join(", "))
        };
        self.commit_audited(tx, &actor.event(REFERRAL_CORRECT, &referral_target(id), &detail)).await?;
        Ok(changed)
    }

    /// Erases the personal fields of the referrals `ids` (each must have ended: declined,
    /// withdrawn or closed) in one transaction, one audit row each saying `why`; the
    /// anonymous facts stay. Returns how many were erased (already erased ones are skipped).
    /// `check` is asked of each locked referral first.
    pub async fn erase_referrals(
        &self,
        ids: &[i64],
        why: &str,
        check: impl Fn(&StoredReferral) -> Result<(), DbError>,
        actor: &Actor,
    ) -> Result<usize, DbError> {
        let mut tx = self.begin_write().await?;
        let mut erased = 0;
        let at = now();
        for &id in ids {
            let current = self.locked(&mut tx, id).await?;
            check(&current)?;
            if current.erased_at.is_some() {
                continue;
            }
            if current.status().is_open() {
                return Err(DbError::conflict(
                    "referral",
                    format!("referral {id} is still open ({}): close or withdraw it before erasing", current.status()),
                ));
            }
            sqlx::query(
                "UPDATE referrals SET referring_org_id = NULL, receiving_org_id = NULL, name_kind = NULL, name = NULL, \
                 date_of_birth = NULL, age = NULL, contact_route = NULL, contact_detail = NULL, consent_given_by = NULL, \
                 consent_date = NULL, consent_method = NULL, lawful_basis = NULL, lawful_basis_reason = NULL, \
                 erased_at = $1 WHERE id = $2 AND erased_at IS NULL",
            )
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            append(&mut tx, self.audit_chain(), &actor.event(REFERRAL_ERASE, &referral_target(id), why)).await?;
            erased += 1;
        }
        tx.commit().await?;
        Ok(erased)
    }
}
