//! Referrals (issue 17): the use cases both front ends call. Rules are the pure
//! `alliance_core::referrals`; storage is `alliance_db::referrals`.
//!
//! Who sees what:
//! - a referral's personal data only the **referring organisation** and the organisation
//!   **running the receiving service**, and never a Board member; everyone else gets "not
//!   found" (the referral's existence is not disclosed either). Every view of personal data
//!   is audited (`referral-view`), and so is every write.
//! - lists of an organisation's referrals show codes, dates and statuses, no personal field;
//! - figures for everyone else pass through the [`Disclosure`] (small counts suppressed).
//!
//! The receiving organisation accepts, declines, engages and closes; the referring
//! organisation withdraws. Notifications ([`crate::mail`]) say only that there is something
//! to look at, with a link.

use alliance_core::access::{OrgType, Role};
use alliance_core::analytics::suppression::Shown;
use alliance_core::referrals::{
    aggregate, erasure_due, minimise, new_referral, waiting_times, Dimension, Event, Ineligible, Note, PersonName,
    PersonalFields, Referral, ReferralForm, Referrer, RetentionPeriod, Status, Timeline, ValidationErrors,
};
use alliance_db::access::User;
use alliance_db::audit::Actor;
use alliance_db::referrals::{StoredReferral, StoredService, REFERRAL_SUBJECT_ACCESS};
use alliance_db::{Db, DbError};
use chrono::NaiveDate;
use serde::Serialize;

use crate::mail::{Mailer, Notice};
use crate::{AppError, Disclosure};

/// Who is asking: the organisation, its kind (which lawful bases are open to it) and the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who {
    pub org: i64,
    pub org_type: OrgType,
    pub role: Role,
}

impl Who {
    pub fn of(user: &User) -> Result<Who, AppError> {
        let org_type = user
            .org_type
            .parse::<OrgType>()
            .map_err(|_| AppError::internal(format!("organisation {} has an unknown type", user.org_id)))?;
        Ok(Who { org: user.org_id, org_type, role: user.role })
    }

    /// Board members see figures only, whatever their organisation.
    fn may_hold_records(self) -> bool {
        self.role != Role::BoardMember
    }
}

/// Which side of a referral an organisation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Referrer,
    Receiver,
    /// The organisation referred to a service it runs itself.
    Both,
}

impl Side {
    pub fn receives(self) -> bool {
        matches!(self, Side::Receiver | Side::Both)
    }
    pub fn refers(self) -> bool {
        matches!(self, Side::Referrer | Side::Both)
    }
}

fn side(stored: &StoredReferral, org: i64) -> Option<Side> {
    let p = stored.parties?;
    match (p.referring_org == org, p.receiving_org == org) {
        (true, true) => Some(Side::Both),
        (true, false) => Some(Side::Referrer),
        (false, true) => Some(Side::Receiver),
        (false, false) => None,
    }
}

fn not_found(id: i64) -> AppError {
    AppError::not_found(format!("referral {id}"))
}

fn board_refused() -> AppError {
    AppError::forbidden("Board members see referral figures only, never a referral")
}

/// The services a referral can be made to now.
pub async fn open_services(db: &Db) -> Result<Vec<StoredService>, AppError> {
    Ok(db.referral_services().await?.into_iter().filter(|s| s.takes_referrals).collect())
}

/// A referral made: its id and what the referrer should be told (a postcode cut to its
/// district).
#[derive(Debug, Clone)]
pub struct Made {
    pub id: i64,
    pub notes: Vec<Note>,
}

/// Makes a referral to `service_id` from the form as submitted. The outer error is the
/// request's (no such service, not allowed) or a fault; the inner one every error of the
/// form, each naming its field. Nothing is stored unless all is well. The receiving
/// organisation's users are told there is a referral to look at.
pub async fn make(
    db: &Db,
    mailer: &Mailer,
    who: Who,
    service_id: &str,
    form: &ReferralForm,
    today: NaiveDate,
    actor: &Actor,
) -> Result<Result<Made, ValidationErrors>, AppError> {
    if !who.may_hold_records() {
        return Err(board_refused());
    }
    let service_id = service_id.trim();
    if service_id.is_empty() {
        return Err(AppError::invalid("service", "choose the service to refer to"));
    }
    let Some(service) = db.referral_service(service_id).await?.filter(|s| s.takes_referrals) else {
        return Err(AppError::invalid("service", "choose a service that takes referrals"));
    };
    let made = match new_referral(form, &service.service, Referrer { org: who.org, org_type: who.org_type }, today) {
        Ok(m) => m,
        Err(errors) => return Ok(Err(errors)),
    };
    let id = db.create_referral(&made.referral, actor).await?;
    notify(
        db,
        mailer,
        made.referral.parties.receiving_org,
        Notice {
            subject: "Alliance: a new referral to look at".into(),
            summary: "A referral has been made to a service your organisation runs. It is waiting for a decision."
                .into(),
            link: mailer.link(&format!("/referrals/{id}")),
        },
    )
    .await;
    Ok(Ok(Made { id, notes: made.notes }))
}

/// Tells the active users of `org` (Board members aside) about something to look at. A
/// failure to send is logged, never the request's failure: the referral is stored.
async fn notify(db: &Db, mailer: &Mailer, org: i64, notice: Notice) {
    let to: Vec<String> = match db.users().await {
        Ok(users) => users
            .into_iter()
            .filter(|u| u.org_id == org && u.active && u.role != Role::BoardMember)
            .map(|u| u.email)
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "referral notification: could not read the recipients");
            return;
        }
    };
    match mailer.send(&to, &notice).await {
        Ok(d) => tracing::debug!(?d, "referral notification"),
        Err(e) => tracing::warn!(error = %e, "referral notification not sent"),
    }
}

/// A line of an organisation's list: no personal field.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: i64,
    pub service: String,
    pub service_name: String,
    pub side: Side,
    pub status: Status,
    pub received_on: NaiveDate,
    pub last_step_on: NaiveDate,
    pub reason: String,
    pub source: String,
    pub decision_wait_days: Option<i64>,
}

fn summary(stored: &StoredReferral, side: Side) -> Summary {
    let t = &stored.facts.timeline;
    Summary {
        id: stored.id,
        service: stored.facts.service.clone(),
        service_name: stored.service_name.clone(),
        side,
        status: t.status(),
        received_on: t.received_on(),
        last_step_on: t.last_step_on(),
        reason: stored.facts.needs.reason().label().to_string(),
        source: stored.facts.source.label().to_string(),
        decision_wait_days: t.decision_wait_days(),
    }
}

/// The referrals an organisation made (`sent`) and those to the services it runs
/// (`received`, its queue), newest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrgReferrals {
    pub sent: Vec<Summary>,
    pub received: Vec<Summary>,
}

pub async fn list(db: &Db, who: Who) -> Result<OrgReferrals, AppError> {
    if !who.may_hold_records() {
        return Err(board_refused());
    }
    let mut out = OrgReferrals::default();
    for stored in db.referrals_of_org(who.org).await? {
        let Some(side) = side(&stored, who.org) else { continue };
        if side.receives() {
            out.received.push(summary(&stored, side));
        }
        if side.refers() {
            out.sent.push(summary(&stored, side));
        }
    }
    Ok(out)
}

/// One referral with its personal data, for one of its two organisations.
#[derive(Debug, Clone)]
pub struct Detail {
    pub id: i64,
    pub service_name: String,
    pub side: Side,
    pub referral: Referral,
    /// Why it may not be eligible (advice to the receiving service; empty when eligible).
    pub ineligibility: Vec<Ineligible>,
}

impl Detail {
    pub fn status(&self) -> Status {
        self.referral.timeline.status()
    }
}

/// Reads referral `id` for `who`, auditing the view of its personal data (`seen_on` says
/// where: a page, an export). Not found for anyone but its two organisations.
pub async fn view(db: &Db, who: Who, id: i64, seen_on: &str, actor: &Actor) -> Result<Detail, AppError> {
    if !who.may_hold_records() {
        return Err(board_refused());
    }
    let stored = db.referral(id).await?.ok_or_else(|| not_found(id))?;
    let side = side(&stored, who.org).ok_or_else(|| not_found(id))?;
    let referral = stored.referral.clone().ok_or_else(|| not_found(id))?;
    let ineligibility = match db.referral_service(&referral.service).await? {
        Some(s) if side.receives() && referral.timeline.status() == Status::Received => {
            referral.ineligibility(&s.service, db.referral_open_caseload(&referral.service).await?)
        }
        _ => Vec::new(),
    };
    db.audit_referral_view(id, seen_on, actor).await?;
    Ok(Detail { id, service_name: stored.service_name, side, referral, ineligibility })
}

/// Moves referral `id` on by `event`, dated `on` (today when `None`; never in the future).
/// The receiving organisation accepts, declines, engages and closes; the referring one
/// withdraws. The other organisation is told there is an update to look at.
#[allow(clippy::too_many_arguments)]
pub async fn act(
    db: &Db,
    mailer: &Mailer,
    who: Who,
    id: i64,
    event: Event,
    on: Option<NaiveDate>,
    today: NaiveDate,
    actor: &Actor,
) -> Result<Timeline, AppError> {
    if !who.may_hold_records() {
        return Err(board_refused());
    }
    let on = on.unwrap_or(today);
    if on > today {
        return Err(AppError::invalid("on", "the date is in the future"));
    }
    let mut parties = None;
    let timeline = db
        .referral_transition(
            id,
            event,
            on,
            |stored| {
                let side = side(stored, who.org).ok_or_else(|| DbError::not_found(format!("referral {id}")))?;
                let allowed = match event {
                    Event::Withdraw => side.refers(),
                    _ => side.receives(),
                };
                if !allowed {
                    return Err(DbError::conflict(
                        "event",
                        if side.receives() {
                            "only the organisation that made the referral can withdraw it"
                        } else {
                            "only the service receiving the referral can accept, decline, engage or close it"
                        },
                    ));
                }
                parties = stored.parties;
                Ok(())
            },
            actor,
        )
        .await?;
    if let Some(p) = parties {
        let (to, summary) = match event {
            Event::Withdraw => (p.receiving_org, "A referral to a service your organisation runs has been withdrawn."),
            _ => (p.referring_org, "A referral your organisation made has moved on."),
        };
        if to != who.org {
            let link = mailer.link(&format!("/referrals/{id}"));
            notify(
                db,
                mailer,
                to,
                Notice { subject: "Alliance: a referral has been updated".into(), summary: summary.into(), link },
            )
            .await;
        }
    }
    Ok(timeline)
}

/// Corrects the personal fields of referral `id` on request (rectification): the new values
/// pass the service's policy again, so a correction cannot add a field the service does not
/// need. Audited with the names of the fields changed.
pub async fn correct(
    db: &Db,
    who: Who,
    id: i64,
    fields: &PersonalFields,
    actor: &Actor,
) -> Result<Result<Vec<&'static str>, ValidationErrors>, AppError> {
    if !who.may_hold_records() {
        return Err(board_refused());
    }
    let stored = db.referral(id).await?.ok_or_else(|| not_found(id))?;
    side(&stored, who.org).ok_or_else(|| not_found(id))?;
    let service = db
        .referral_service(&stored.facts.service)
        .await?
        .ok_or_else(|| AppError::internal(format!("referral {id}: its service is gone")))?;
    let minimised = match minimise(fields, &service.service.policy, stored.facts.timeline.received_on()) {
        Ok(m) => m,
        Err(errors) => return Ok(Err(ValidationErrors(errors))),
    };
    let changed = db
        .correct_referral(
            id,
            &minimised.person,
            |s| side(s, who.org).map(|_| ()).ok_or_else(|| DbError::not_found(format!("referral {id}"))),
            actor,
        )
        .await?;
    Ok(Ok(changed))
}

/// Erases the personal fields of referral `id` on request (Article 17), keeping the anonymous
/// facts. The referral must have ended (declined, withdrawn or closed).
pub async fn erase(db: &Db, who: Who, id: i64, actor: &Actor) -> Result<(), AppError> {
    if !who.may_hold_records() {
        return Err(board_refused());
    }
    db.erase_referrals(
        &[id],
        "erased on request",
        |s| side(s, who.org).map(|_| ()).ok_or_else(|| DbError::not_found(format!("referral {id}"))),
        actor,
    )
    .await?;
    Ok(())
}

/// What a retention run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Referrals whose personal data was still held.
    pub held: usize,
    /// Of those, erased by this run (ended more than the period ago).
    pub erased: usize,
    /// Of those, still open (never due, however old).
    pub open: usize,
}

/// Erases the personal fields of every referral that ended at least `period` before `today`
/// (`alliance_core::referrals::erasure_due`), in one transaction, one audit row each; the
/// anonymous outcome stays for evaluation. Run it daily (see the README).
pub async fn retention_run(
    db: &Db,
    period: RetentionPeriod,
    today: NaiveDate,
    actor: &Actor,
) -> Result<RetentionReport, AppError> {
    let held: Vec<StoredReferral> = db.all_referrals().await?.into_iter().filter(|s| s.erased_at.is_none()).collect();
    let open = held.iter().filter(|s| s.status().is_open()).count();
    let due: Vec<i64> = held.iter().filter(|s| erasure_due(&s.facts.timeline, period, today)).map(|s| s.id).collect();
    let why = format!("retention: ended more than {period} before {today}");
    let erased = if due.is_empty() { 0 } else { db.erase_referrals(&due, &why, |_| Ok(()), actor).await? };
    Ok(RetentionReport { held: held.len(), erased, open })
}

/// Whom a subject access request is about: the name (full name or initials, as the
/// service recorded it; case and spaces ignored) and, to tell people apart, a date of
/// birth or an age where the service recorded one.
#[derive(Debug, Clone, Default)]
pub struct SubjectQuery {
    pub name: String,
    pub date_of_birth: Option<NaiveDate>,
}

/// One referral in a subject access export.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectRecord {
    pub id: i64,
    pub service_name: String,
    pub status: Status,
    pub referral: Referral,
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn matches(referral: &Referral, q: &SubjectQuery) -> bool {
    let wanted = squash(&q.name);
    let name_ok = match &referral.person.name {
        Some(PersonName::Full(n)) | Some(PersonName::Initials(n)) => !wanted.is_empty() && squash(n) == wanted,
        None => false,
    };
    let birth_ok = match (q.date_of_birth, referral.person.birth) {
        (Some(d), Some(alliance_core::referrals::Birth::DateOfBirth(b))) => d == b,
        _ => true,
    };
    name_ok && birth_ok
}

/// A subject access export of one person's referrals (Article 15): those held by `org` (or
/// every organisation's, for the command line run by the operator with `None`). Each
/// referral exported is audited as viewed, and the request itself once.
pub async fn subject_access(
    db: &Db,
    who: Option<Who>,
    query: &SubjectQuery,
    actor: &Actor,
) -> Result<Vec<SubjectRecord>, AppError> {
    if query.name.trim().is_empty() {
        return Err(AppError::invalid("name", "enter the person's name or initials as the referral holds them"));
    }
    if let Some(w) = who {
        if !w.may_hold_records() {
            return Err(board_refused());
        }
    }
    let candidates = match who {
        Some(w) => db.referrals_of_org(w.org).await?,
        None => db.all_referrals().await?,
    };
    let mut out = Vec::new();
    for s in candidates {
        let Some(referral) = s.referral.clone() else { continue };
        if matches(&referral, query) {
            out.push(SubjectRecord { id: s.id, service_name: s.service_name.clone(), status: s.status(), referral });
        }
    }
    let detail = format!("subject access export: {} referrals", out.len());
    db.audit(&actor.event(REFERRAL_SUBJECT_ACCESS, "/referrals", &detail)).await?;
    for r in &out {
        db.audit_referral_view(r.id, "subject access export", actor).await?;
    }
    Ok(out)
}

/// One line of a published table.
#[derive(Debug, Clone, Serialize)]
pub struct FigureRow {
    pub key: String,
    pub label: String,
    /// The count or "fewer than N" / "withheld".
    pub shown: String,
    /// The count when published, `None` when suppressed.
    pub count: Option<u64>,
}

/// The referrals counted by one dimension, after suppression.
#[derive(Debug, Clone, Serialize)]
pub struct FigureTable {
    pub dimension: &'static str,
    pub title: &'static str,
    pub rows: Vec<FigureRow>,
    /// The table's total, when its rows add up to one (not for needs).
    pub total: Option<String>,
}

/// A waiting time published only when enough referrals stand behind it.
#[derive(Debug, Clone, Serialize)]
pub struct WaitFigure {
    pub title: &'static str,
    pub count: String,
    pub median: Option<String>,
    pub p90: Option<i64>,
}

/// The aggregate figures of referrals for readers without record access (analysts, the
/// Board, other partners, API clients): every count through the disclosure point.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub threshold: u64,
    pub total: String,
    pub tables: Vec<FigureTable>,
    pub waits: Vec<WaitFigure>,
}

fn row(key: &str, label: &str, shown: Shown, d: &Disclosure) -> FigureRow {
    FigureRow {
        key: key.to_string(),
        label: label.to_string(),
        shown: d.display(shown),
        count: match shown {
            Shown::Value(n) => Some(n),
            _ => None,
        },
    }
}

/// The figures of every referral, erased ones included (their anonymous facts).
pub async fn figures(db: &Db, disclosure: &Disclosure) -> Result<Figures, AppError> {
    let facts: Vec<_> = db.all_referrals().await?.into_iter().map(|s| s.facts).collect();
    let rows = aggregate(&facts);
    let mut tables = Vec::new();
    for &dimension in Dimension::ALL {
        let these: Vec<_> = rows.iter().filter(|r| r.dimension == dimension).collect();
        let counts: Vec<u64> = these.iter().map(|r| r.count).collect();
        let (shown, total) = if dimension == Dimension::Need {
            (disclosure.list(&counts), None)
        } else {
            let g = disclosure.grouped(&[counts]);
            (g.members.into_iter().next().unwrap_or_default(), Some(disclosure.display(g.total)))
        };
        tables.push(FigureTable {
            dimension: dimension.code(),
            title: dimension.label(),
            rows: these.iter().zip(shown).map(|(r, s)| row(&r.key, &r.label, s, disclosure)).collect(),
            total,
        });
    }
    let timelines: Vec<Timeline> = facts.iter().map(|f| f.timeline).collect();
    let w = waiting_times(timelines.iter());
    let wait = |title, s: alliance_core::referrals::WaitSummary| {
        let shown = disclosure.count(s.count as u64);
        let published = matches!(shown, Shown::Value(_));
        WaitFigure {
            title,
            count: disclosure.display(shown),
            median: if published { s.median.map(|m| format!("{m}")) } else { None },
            p90: if published { s.p90 } else { None },
        }
    };
    Ok(Figures {
        threshold: disclosure.threshold(),
        total: disclosure.display(disclosure.count(facts.len() as u64)),
        tables,
        waits: vec![
            wait("Days from receipt to decision", w.decision),
            wait("Days from acceptance to first engagement", w.engagement),
        ],
    })
}
