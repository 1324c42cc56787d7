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
    /// The submission's key had made this referral already (a double submit, a client's
    /// retry): nothing new was stored and nobody was told again.
    pub repeated: bool,
}

/// The longest submission key accepted (the web form's are 43 characters; an API client's
/// `Idempotency-Key` is usually a UUID).
pub const MAX_SUBMISSION_KEY: usize = 200;

/// The key a submission is stored under: the referring organisation (one organisation's key
/// never finds another's referral), the key sent, and a digest of the referral as made. The
/// same form sent twice (a double click, a retry) finds the first referral; the same key
/// with other contents (the form opened again with the browser's back button, changed and
/// sent) makes a new one, as its sender meant.
fn submission_key(org: i64, sent: &str, referral: &alliance_core::referrals::Referral) -> Result<String, AppError> {
    use sha2::{Digest, Sha256};
    let contents = serde_json::to_vec(referral).map_err(|e| AppError::internal(format!("a referral as JSON: {e}")))?;
    let digest: String = Sha256::digest(&contents).iter().take(16).map(|b| format!("{b:02x}")).collect();
    Ok(format!("{org}:{sent}:{digest}"))
}

/// Makes a referral to `service_id` from the form as submitted. The outer error is the
/// request's (no such service, not allowed) or a fault; the inner one every error of the
/// form, each naming its field. Nothing is stored unless all is well. The receiving
/// organisation's users are told there is a referral to look at. With a `submission` key
/// (the web form's hidden one, an API client's `Idempotency-Key`), the same submission sent
/// again returns the first referral ([`Made::repeated`]) instead of making a second.
#[allow(clippy::too_many_arguments)]
pub async fn make(
    db: &Db,
    mailer: &Mailer,
    who: Who,
    service_id: &str,
    form: &ReferralForm,
    submission: Option<&str>,
    today: NaiveDate,
    actor: &Actor,
) -> Result<Result<Made, ValidationErrors>, AppError> {
    if !who.may_hold_records() {
        return Err(board_refused());
    }
    let submission = submission.map(str::trim).filter(|k| !k.is_empty());
    if let Some(k) = submission {
        if k.len() > MAX_SUBMISSION_KEY || !k.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::invalid(
                "submission",
                format!("a submission key is at most {MAX_SUBMISSION_KEY} printable ASCII characters"),
            ));
        }
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
    let key = submission.map(|k| submission_key(who.org, k, &made.referral)).transpose()?;
    let created = db.create_referral_once(&made.referral, key.as_deref(), actor).await?;
    let id = created.id;
    if created.repeated {
        return Ok(Ok(Made { id, notes: made.notes, repeated: true }));
    }
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
    Ok(Ok(Made { id, notes: made.notes, repeated: false }))
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
    // The side that may not take this step: a refusal of who asks (403), not a conflict with
    // the referral's state; set inside the transaction, which the error then rolls back.
    let mut wrong_side: Option<&'static str> = None;
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
                    let why = if side.receives() {
                        "only the organisation that made the referral can withdraw it"
                    } else {
                        "only the service receiving the referral can accept, decline, engage or close it"
                    };
                    wrong_side = Some(why);
                    return Err(DbError::conflict("event", why));
                }
                parties = stored.parties;
                Ok(())
            },
            actor,
        )
        .await;
    let timeline = match (timeline, wrong_side) {
        (Err(_), Some(why)) => return Err(AppError::forbidden(why)),
        (result, _) => result?,
    };
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
    Ok(figures_of(&facts, disclosure))
}

/// The published figures of `facts`: every table's cells and totals, and the waiting times'
/// counts, suppressed **together** (`alliance_core::referrals::linked`): the tables by
/// service, source, main reason, status, decision wait, district, age band and sex share the
/// total of referrals; outcomes add up to the "closed" status, decline reasons to "declined",
/// the engagement-wait rows to the referrals accepted (accepted, engaged and closed), the
/// referrals with no decision to "received" and "withdrawn", and the counts behind the
/// waiting times to the decided (or engaged) rows, and each need to its main-reason cell and
/// the referrals with it as a further need (never published). A cell hidden in one table
/// cannot be read off another.
pub fn figures_of(facts: &[alliance_core::referrals::AnonymousReferral], disclosure: &Disclosure) -> Figures {
    use alliance_core::referrals::linked::{Figure, Linked};
    use alliance_core::referrals::{NOT_DECIDED, NOT_ENGAGED};

    let rows = aggregate(facts);
    let mut l = Linked::new();
    let total = l.figure(facts.len() as u64);
    let mut cells: Vec<(Dimension, Vec<&alliance_core::referrals::AggregateRow>, Vec<Figure>)> = Vec::new();
    for &dimension in Dimension::ALL {
        let these: Vec<_> = rows.iter().filter(|r| r.dimension == dimension).collect();
        let counts: Vec<u64> = these.iter().map(|r| r.count).collect();
        let figs = l.figures(&counts);
        cells.push((dimension, these, figs));
    }
    let figs_of =
        |d: Dimension| -> Vec<Figure> { cells.iter().find(|c| c.0 == d).map(|c| c.2.clone()).unwrap_or_default() };
    let cell = |d: Dimension, key: &str| -> Option<Figure> {
        let c = cells.iter().find(|c| c.0 == d)?;
        c.1.iter().position(|r| r.key == key).map(|i| c.2[i])
    };
    // Every line below adds up by construction (the aggregates' documented sums); a line that
    // did not would be refused by `Linked::line` and protect nothing, which the tests catch.
    let mut table_total: Vec<(Dimension, Figure)> = Vec::new();
    // Every dimension but those of some referrals only (needs are several a referral; the
    // outcome, the decline reason and the wait to engage are added up to their own totals below).
    let of_every_referral = |d: &&Dimension| {
        !matches!(d, Dimension::Need | Dimension::Outcome | Dimension::DeclineReason | Dimension::EngagementWait)
    };
    for &d in Dimension::ALL.iter().filter(of_every_referral) {
        l.line(&figs_of(d), total);
        table_total.push((d, total));
    }
    let status = |code: &str| cell(Dimension::Status, code);
    let zero = l.figure(0);
    let [received, accepted, declined, engaged, closed, withdrawn] =
        ["received", "accepted", "declined", "engaged", "closed", "withdrawn"].map(|c| status(c).unwrap_or(zero));
    l.line(&figs_of(Dimension::Outcome), closed);
    table_total.push((Dimension::Outcome, closed));
    l.line(&figs_of(Dimension::DeclineReason), declined);
    table_total.push((Dimension::DeclineReason, declined));
    let ever_accepted = l.figure(l.value(accepted) + l.value(engaged) + l.value(closed));
    l.line(&[accepted, engaged, closed], ever_accepted);
    l.line(&figs_of(Dimension::EngagementWait), ever_accepted);
    table_total.push((Dimension::EngagementWait, ever_accepted));
    // The counts behind the waiting times: the decided (engaged) rows, i.e. the table's rows
    // but its "not decided" ("not engaged") one.
    let split = |l: &mut Linked, d: Dimension, not_key: &str, whole: Figure| -> (Figure, Option<Figure>) {
        let Some(not) = cell(d, not_key) else { return (whole, None) };
        let bands: Vec<Figure> = figs_of(d).into_iter().filter(|&f| f != not).collect();
        let sum = bands.iter().map(|&f| l.value(f)).sum();
        let counted = l.figure(sum);
        l.line(&bands, counted);
        l.line(&[counted, not], whole);
        (counted, Some(not))
    };
    let (decided, not_decided) = split(&mut l, Dimension::DecisionWait, NOT_DECIDED, total);
    if let Some(nd) = not_decided {
        l.line(&[received, withdrawn], nd);
    }
    let (engaged_waits, _) = split(&mut l, Dimension::EngagementWait, NOT_ENGAGED, ever_accepted);
    // A referral counts under each of its needs, its main reason one of them: a need's cell is
    // its main-reason cell plus the referrals that have it as a further need (a figure never
    // published). Without this line a need shown gave its hidden main-reason cell away (with
    // no further needs recorded, the two tables are the same numbers).
    if let Some((_, need_rows, need_figs)) = cells.iter().find(|c| c.0 == Dimension::Need) {
        for (r, &need) in need_rows.iter().zip(need_figs) {
            let further = facts.iter().filter(|f| f.needs.others().iter().any(|n| n.code() == r.key)).count();
            let as_reason = cell(Dimension::Reason, &r.key).unwrap_or(zero);
            if further == 0 {
                // The same number as the main-reason cell: hidden with it or shown with it
                // (an unpublished part of 0 is no protection: the rule could "hide" it alone).
                l.line(&[as_reason], need);
            } else {
                let further = l.figure(further as u64);
                l.line(&[as_reason, further], need);
            }
        }
    }
    let shown = l.suppress(disclosure.suppression());

    let mut tables = Vec::new();
    for (dimension, these, figs) in &cells {
        let (values, total) = if *dimension == Dimension::Need {
            (shown.all(figs), None)
        } else {
            let t = table_total.iter().find(|t| t.0 == *dimension).map(|t| disclosure.display(shown.get(t.1)));
            (shown.all(figs), t)
        };
        tables.push(FigureTable {
            dimension: dimension.code(),
            title: dimension.label(),
            rows: these.iter().zip(values).map(|(r, s)| row(&r.key, &r.label, s, disclosure)).collect(),
            total,
        });
    }
    let timelines: Vec<Timeline> = facts.iter().map(|f| f.timeline).collect();
    let w = waiting_times(timelines.iter());
    let wait = |title, s: alliance_core::referrals::WaitSummary, count: Shown| {
        let published = matches!(count, Shown::Value(_));
        WaitFigure {
            title,
            count: disclosure.display(count),
            median: if published { s.median.map(|m| format!("{m}")) } else { None },
            p90: if published { s.p90 } else { None },
        }
    };
    Figures {
        threshold: disclosure.threshold(),
        total: disclosure.display(shown.get(total)),
        tables,
        waits: vec![
            wait("Days from receipt to decision", w.decision, shown.get(decided)),
            wait("Days from acceptance to first engagement", w.engagement, shown.get(engaged_waits)),
        ],
    }
}

/// Names (`Some`) or removes (`None`) the commissioned service that delivers intervention
/// `intervention`, so its evaluation shows the service's referrals beside the crime figures.
/// `who` is recorded as the intervention's last editor.
pub async fn link_intervention(
    db: &Db,
    intervention: i64,
    service: Option<&str>,
    actor: &Actor,
) -> Result<(), AppError> {
    let service = service.map(str::trim).filter(|s| !s.is_empty());
    if !db.set_intervention_service(intervention, service, actor).await? {
        return Err(AppError::not_found(format!("intervention {intervention}")));
    }
    Ok(())
}

/// One service's line of a quarter's referral figures (or the line of all services), each
/// figure as published: the count, "fewer than N" or "withheld".
#[derive(Debug, Clone, Serialize)]
pub struct QuarterLine {
    pub service: String,
    pub service_name: String,
    pub made: String,
    pub accepted: String,
    pub declined: String,
    pub engaged: String,
    pub closed: String,
    /// Of those closed, by outcome (label, figure), in the list's order.
    pub outcomes: Vec<(String, String)>,
}

/// The referral figures of one calendar quarter (a fixed partition, as every restricted
/// source below record level: `crate::disclosure`), per service and for all: referrals made,
/// accepted, declined, engaged and closed in the quarter (each step in the quarter its date
/// falls in), the outcomes of those closed, and the median waits of the steps taken. Every
/// figure is suppressed together with the others ([`quarter_figures`]), so the Board pack
/// and an evaluation report showing the same quarter show the same figures.
#[derive(Debug, Clone, Serialize)]
pub struct QuarterFigures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub threshold: u64,
    pub services: Vec<QuarterLine>,
    pub all: QuarterLine,
    /// Referrals accepted or declined in the quarter, and their median days from receipt
    /// (published only when the count is).
    pub decided: String,
    pub decision_median: Option<String>,
    /// Referrals first engaged in the quarter, and their median days from acceptance to
    /// first engagement (first contact).
    pub engaged: String,
    pub engagement_median: Option<String>,
}

impl QuarterFigures {
    /// The line of service `id`.
    pub fn service(&self, id: &str) -> Option<&QuarterLine> {
        self.services.iter().find(|s| s.service == id)
    }
}

/// The quarter's figures of `facts` from `from` to `to` for the services of the register
/// (`services`: id and name, in order), suppressed together with
/// `alliance_core::referrals::linked`: each step's column of services adds up to its total;
/// each service's outcomes add up to its closed count and each outcome's services to the
/// outcome's total; the outcome totals add up to the closed total; the decided count is the
/// accepted and declined totals.
pub fn quarter_figures(
    facts: &[alliance_core::referrals::AnonymousReferral],
    services: &[(String, String)],
    from: NaiveDate,
    to: NaiveDate,
    disclosure: &Disclosure,
) -> QuarterFigures {
    use alliance_core::referrals::linked::{Figure, Linked};
    use alliance_core::referrals::{activity, median, ClosureOutcome};

    let ids: Vec<String> = services.iter().map(|s| s.0.clone()).collect();
    let a = activity(facts, from, to, &ids);
    let mut l = Linked::new();
    struct Cells {
        steps: [Figure; 5],
        outcomes: Vec<Figure>,
    }
    let rows: Vec<Cells> = a
        .services
        .iter()
        .map(|s| Cells {
            steps: [s.made, s.accepted, s.declined, s.engaged, s.closed].map(|v| l.figure(v)),
            outcomes: l.figures(&s.outcomes),
        })
        .collect();
    let step_totals: [Figure; 5] = std::array::from_fn(|k| {
        let sum = rows.iter().map(|r| l.value(r.steps[k])).sum();
        l.figure(sum)
    });
    let outcome_totals: Vec<Figure> = (0..ClosureOutcome::ALL.len())
        .map(|k| {
            let sum = rows.iter().map(|r| l.value(r.outcomes[k])).sum();
            l.figure(sum)
        })
        .collect();
    for (k, &t) in step_totals.iter().enumerate() {
        let parts: Vec<Figure> = rows.iter().map(|r| r.steps[k]).collect();
        l.line(&parts, t);
    }
    for r in &rows {
        l.line(&r.outcomes, r.steps[4]);
    }
    for (k, &t) in outcome_totals.iter().enumerate() {
        let parts: Vec<Figure> = rows.iter().map(|r| r.outcomes[k]).collect();
        l.line(&parts, t);
    }
    l.line(&outcome_totals, step_totals[4]);
    let decided = l.figure(l.value(step_totals[1]) + l.value(step_totals[2]));
    l.line(&[step_totals[1], step_totals[2]], decided);
    let shown = l.suppress(disclosure.suppression());
    let text = |f: Figure| disclosure.display(shown.get(f));
    let line = |service: &str, name: &str, steps: &[Figure; 5], outcomes: &[Figure]| QuarterLine {
        service: service.to_string(),
        service_name: name.to_string(),
        made: text(steps[0]),
        accepted: text(steps[1]),
        declined: text(steps[2]),
        engaged: text(steps[3]),
        closed: text(steps[4]),
        outcomes: ClosureOutcome::ALL.iter().zip(outcomes).map(|(o, &f)| (o.label().to_string(), text(f))).collect(),
    };
    let name_of = |id: &str| services.iter().find(|s| s.0 == id).map_or(id.to_string(), |s| s.1.clone());
    let median_text = |waits: &[i64], count: Figure| -> Option<String> {
        if shown.get(count).is_hidden() {
            return None;
        }
        let mut sorted = waits.to_vec();
        sorted.sort_unstable();
        median(&sorted).map(|m| format!("{m}"))
    };
    QuarterFigures {
        from,
        to,
        threshold: disclosure.threshold(),
        services: a
            .services
            .iter()
            .zip(&rows)
            .map(|(s, r)| line(&s.service, &name_of(&s.service), &r.steps, &r.outcomes))
            .collect(),
        all: line("", "All services", &step_totals, &outcome_totals),
        decided: text(decided),
        decision_median: median_text(&a.decision_waits, decided),
        engaged: text(step_totals[3]),
        engagement_median: median_text(&a.engagement_waits, step_totals[3]),
    }
}

/// The referral figures of the quarter from `from` to `to`, or `None` when no commissioned
/// service is set up (the partnership does not run referrals through Alliance).
pub async fn quarter(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    disclosure: &Disclosure,
) -> Result<Option<QuarterFigures>, AppError> {
    let services: Vec<(String, String)> =
        db.referral_services().await?.into_iter().map(|s| (s.service.id.clone(), s.service.name.clone())).collect();
    if services.is_empty() {
        return Ok(None);
    }
    let facts: Vec<_> = db.all_referrals().await?.into_iter().map(|s| s.facts).collect();
    Ok(Some(quarter_figures(&facts, &services, from, to, disclosure)))
}

/// The calendar quarter a referral figure of `range` is published over below record level:
/// the latest whole quarter inside it ([`crate::disclosure::latest_whole_quarter`]), as its
/// first and last days; `None` when the range holds no whole quarter.
pub fn published_quarter(range: alliance_core::domain::MonthRange) -> Option<(NaiveDate, NaiveDate)> {
    let q = crate::disclosure::latest_whole_quarter(range)?;
    let from = NaiveDate::from_ymd_opt(q.from.year(), q.from.month(), 1)?;
    let after = q.to.plus(1);
    let to = NaiveDate::from_ymd_opt(after.year(), after.month(), 1)?.pred_opt()?;
    Some((from, to))
}

/// What an intervention's evaluation shows of the commissioned service that delivers it: the
/// service's line of the published quarter of the before and of the after period.
#[derive(Debug, Clone, Serialize)]
pub struct InterventionReferrals {
    pub service: String,
    pub service_name: String,
    pub threshold: u64,
    /// ("Before" or "After", the quarter's first and last days, the service's line); a
    /// period with no whole calendar quarter has no line.
    pub periods: Vec<(String, NaiveDate, NaiveDate, QuarterLine)>,
    /// Periods without a whole calendar quarter, named.
    pub not_shown: Vec<String>,
}

/// The referrals of the service delivering intervention `intervention` over the evaluation's
/// `before` and `after` periods; `None` when the intervention names no service.
pub async fn for_intervention(
    db: &Db,
    intervention: i64,
    before: alliance_core::domain::MonthRange,
    after: alliance_core::domain::MonthRange,
    disclosure: &Disclosure,
) -> Result<Option<InterventionReferrals>, AppError> {
    let Some(i) = db.intervention(intervention).await? else {
        return Err(AppError::not_found(format!("intervention {intervention}")));
    };
    let Some(service) = i.referral_service.clone() else { return Ok(None) };
    let mut out = InterventionReferrals {
        service_name: service.clone(),
        service,
        threshold: disclosure.threshold(),
        periods: Vec::new(),
        not_shown: Vec::new(),
    };
    for (label, range) in [("Before", before), ("After", after)] {
        let Some((from, to)) = published_quarter(range) else {
            out.not_shown.push(format!("{label} ({range})"));
            continue;
        };
        let Some(q) = quarter(db, from, to, disclosure).await? else { continue };
        if let Some(line) = q.service(&out.service) {
            out.service_name = line.service_name.clone();
            out.periods.push((label.to_string(), from, to, line.clone()));
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use alliance_core::referrals::{
        AnonymousReferral, ClosureOutcome, DeclineReason, Event, Need, Needs, SourceSetting, Timeline,
    };
    use chrono::NaiveDate;

    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).expect("date")
    }

    fn fact(service: &str, source: SourceSetting, events: &[(Event, NaiveDate)]) -> AnonymousReferral {
        AnonymousReferral {
            service: service.into(),
            source,
            needs: Needs::new(Need::CarryingWeapon, vec![]),
            age_band: None,
            sex: None,
            district: None,
            timeline: Timeline::replay(d(4, 1), events).expect("replay"),
        }
    }

    /// 13 referrals: 9 received and waiting (school), 3 closed with goals met (2 from the
    /// emergency department, 1 from police custody), 1 declined (school).
    fn facts() -> Vec<AnonymousReferral> {
        let closed = [
            (Event::Accept, d(4, 2)),
            (Event::Engage, d(4, 3)),
            (Event::Close { outcome: ClosureOutcome::GoalsMet }, d(4, 30)),
        ];
        let mut out: Vec<_> = (0..9).map(|_| fact("navigator", SourceSetting::School, &[])).collect();
        out.push(fact("navigator", SourceSetting::EmergencyDepartment, &closed));
        out.push(fact("navigator", SourceSetting::EmergencyDepartment, &closed));
        out.push(fact("mentoring", SourceSetting::PoliceCustody, &closed));
        out.push(fact(
            "mentoring",
            SourceSetting::School,
            &[(Event::Decline { reason: DeclineReason::NoCapacity }, d(4, 2))],
        ));
        out
    }

    fn table<'a>(f: &'a Figures, dimension: &str) -> &'a FigureTable {
        f.tables.iter().find(|t| t.dimension == dimension).expect("table")
    }

    /// Every published table that adds up to a published total: no line is left with exactly
    /// one hidden figure (its rows and its total), and the shared totals agree.
    #[test]
    fn no_table_gives_a_hidden_figure_away_and_shared_totals_agree() {
        let f = figures_of(&facts(), &Disclosure::default());
        assert_eq!(f.total, "13");
        for t in &f.tables {
            let Some(total) = &t.total else { continue };
            let hidden = t.rows.iter().filter(|r| r.count.is_none()).count()
                + usize::from(total.starts_with("fewer") || total == "withheld");
            assert_ne!(hidden, 1, "{}: {:?} total {total}", t.dimension, t.rows);
        }
        for d in ["service", "source", "reason", "status", "decision-wait", "district", "age-band", "sex"] {
            assert_eq!(table(&f, d).total.as_deref(), Some("13"), "{d}");
        }
        // The outcome table's total is the status table's "closed" cell, and is the same
        // figure there: both hidden or both the same count.
        let status = table(&f, "status");
        let closed = status.rows.iter().find(|r| r.key == "closed").expect("closed");
        assert_eq!(table(&f, "outcome").total.as_deref(), Some(closed.shown.as_str()));
        let declined = status.rows.iter().find(|r| r.key == "declined").expect("declined");
        assert_eq!(table(&f, "decline-reason").total.as_deref(), Some(declined.shown.as_str()));
        // Worked by hand: closed (3) and declined (1) are small, so hidden; the outcome table
        // (goals met: 3 of the 3 closed) hides its 3 as well; the sources (school 10, ED 2,
        // custody 1) hide ED and custody, each small. The decision waits (4 decided, all
        // within 7 days: small) hide "no decision" (9) too, or 13 − 9 would give the 4; and
        // then "received" (9 = no decision − 0 withdrawn) is withheld in the status table.
        assert_eq!(closed.shown, "fewer than 5");
        let outcome = table(&f, "outcome");
        let goals = outcome.rows.iter().find(|r| r.key == "goals-met").expect("goals met");
        assert!(goals.count.is_none(), "{goals:?}");
        let source = table(&f, "source");
        let shown = |key: &str| source.rows.iter().find(|r| r.key == key).expect("row").shown.clone();
        assert_eq!(shown("school"), "10");
        assert_eq!(shown("emergency-department"), "fewer than 5");
        assert_eq!(shown("police-custody"), "fewer than 5");
        let received = status.rows.iter().find(|r| r.key == "received").expect("received");
        assert_eq!(received.shown, "withheld");
        assert_eq!(f.waits[0].count, "fewer than 5");
        assert_eq!(f.waits[0].median, None, "no median behind a hidden count");
    }

    /// The reviewer's case: 8 referrals for violence suffered, 2 for carrying a weapon, no
    /// further needs. The main-reason table hid both (2 is small, 8 its complement), while the
    /// need table showed 8, and 10 − 8 gave the 2 away. A need's cell now hides with its
    /// main-reason cell when nothing else makes up the difference.
    #[test]
    fn a_need_shown_does_not_give_a_hidden_main_reason_away() {
        let with_reason = |need: Need, others: Vec<Need>| AnonymousReferral {
            needs: Needs::new(need, others),
            ..fact("navigator", SourceSetting::School, &[])
        };
        let mut facts: Vec<_> = (0..8).map(|_| with_reason(Need::VictimOfViolence, vec![])).collect();
        facts.extend((0..2).map(|_| with_reason(Need::CarryingWeapon, vec![])));
        let f = figures_of(&facts, &Disclosure::default());
        let cell = |table: &str, key: &str| {
            let t = f.tables.iter().find(|t| t.dimension == table).expect("table");
            t.rows.iter().find(|r| r.key == key).expect("row").shown.clone()
        };
        assert_eq!(cell("reason", "carrying-weapon"), "fewer than 5");
        assert_eq!(cell("reason", "victim-of-violence"), "withheld");
        assert_eq!(cell("need", "victim-of-violence"), "withheld", "the same 8 as the main-reason cell");

        // With further needs recorded, a need's cell is more than its main-reason cell and
        // may be shown: 5 of the 8 also carried a weapon, so "carrying a weapon" is 7 needs.
        let mut facts: Vec<_> =
            (0..5).map(|_| with_reason(Need::VictimOfViolence, vec![Need::CarryingWeapon])).collect();
        facts.extend((0..3).map(|_| with_reason(Need::VictimOfViolence, vec![])));
        facts.extend((0..2).map(|_| with_reason(Need::CarryingWeapon, vec![])));
        let f = figures_of(&facts, &Disclosure::default());
        let need = f.tables.iter().find(|t| t.dimension == "need").expect("needs");
        let weapon = need.rows.iter().find(|r| r.key == "carrying-weapon").expect("row");
        assert_eq!(weapon.shown, "7", "2 as main reason and 5 further, the 5 never published");
    }
}
