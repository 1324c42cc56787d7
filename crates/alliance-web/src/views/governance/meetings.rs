//! Board and Delivery Group meetings: `/meetings` (with the form to add one) and
//! `/meetings/{id}` (date, attendees by organisation, decisions, escalations, and actions
//! arising, each of which is an action in the plan).

use alliance_core::governance::{MeetingBody, MeetingItemKind};
use alliance_db::governance::{Attendee, Meeting, MeetingItem};
use alliance_db::{Db, DbError};
use askama::Template;

use super::{FieldError, Form};
use crate::views::Layout;

pub struct MeetingRow {
    pub meeting: Meeting,
    pub body: &'static str,
    pub organisations: usize,
    pub decisions: usize,
    pub actions: usize,
}

fn bodies() -> Vec<(String, String)> {
    crate::views::access::owned(MeetingBody::choices())
}

/// The name of a meeting's body as stored.
fn body_label(body: &str) -> &'static str {
    body.parse::<MeetingBody>().map(MeetingBody::label).unwrap_or("Unknown body")
}

/// What the form offers for each kind of meeting item.
fn kind_options() -> Vec<(String, String)> {
    MeetingItemKind::ALL
        .iter()
        .map(|k| {
            let label = match k {
                MeetingItemKind::Decision => "Decision",
                MeetingItemKind::Escalation => "Escalation to the Board",
                MeetingItemKind::Action => "Action arising (joins the action plan)",
            };
            (k.code().to_string(), label.to_string())
        })
        .collect()
}

#[derive(Template)]
#[template(path = "governance/meetings.html")]
pub struct MeetingsPage {
    pub layout: Layout,
    pub meetings: Vec<MeetingRow>,
    pub can_edit: bool,
    pub bodies: Vec<(String, String)>,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl MeetingsPage {
    pub async fn load(db: &Db, layout: Layout, can_edit: bool, mut form: Form) -> Result<MeetingsPage, DbError> {
        crate::forms::ensure_submission_key(&mut form.values);
        let attendees = db.meeting_attendees().await?;
        let items = db.meeting_items().await?;
        let meetings = db
            .meetings()
            .await?
            .into_iter()
            .map(|m| {
                let mut orgs: Vec<i64> = attendees.iter().filter(|a| a.meeting_id == m.id).map(|a| a.org_id).collect();
                orgs.sort();
                orgs.dedup();
                let count = |kind: &str| items.iter().filter(|i| i.meeting_id == m.id && i.kind == kind).count();
                MeetingRow {
                    body: body_label(&m.body),
                    organisations: orgs.len(),
                    decisions: count("decision"),
                    actions: count("action"),
                    meeting: m,
                }
            })
            .collect();
        let errors = form.errors.clone();
        Ok(MeetingsPage { layout, meetings, can_edit, bodies: bodies(), form, errors })
    }
}

#[derive(Template)]
#[template(path = "governance/meeting.html")]
pub struct MeetingPage {
    pub layout: Layout,
    pub meeting: Meeting,
    pub body: &'static str,
    pub attendees: Vec<Attendee>,
    pub items: Vec<MeetingItem>,
    pub can_edit: bool,
    pub kinds: Vec<(String, String)>,
    pub commitments: Vec<(String, String)>,
    pub organisations: Vec<(String, String)>,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl MeetingPage {
    pub async fn load(
        db: &Db,
        layout: Layout,
        meeting: Meeting,
        can_edit: bool,
        mut form: Form,
    ) -> Result<MeetingPage, DbError> {
        crate::forms::ensure_submission_key(&mut form.values);
        let attendees = db.meeting_attendees().await?.into_iter().filter(|a| a.meeting_id == meeting.id).collect();
        let items = db.meeting_items().await?.into_iter().filter(|i| i.meeting_id == meeting.id).collect();
        let errors = form.errors.clone();
        Ok(MeetingPage {
            body: body_label(&meeting.body),
            meeting,
            attendees,
            items,
            can_edit,
            kinds: kind_options(),
            commitments: super::strategy::commitment_options(db).await?,
            organisations: super::actions::organisation_options(db).await?,
            layout,
            form,
            errors,
        })
    }
    pub fn of(&self, kind: &str) -> Vec<&MeetingItem> {
        self.items.iter().filter(|i| i.kind == kind).collect()
    }
}

/// Parses the attendees box: one attendee a line, `Organisation, Person` (the person is
/// optional), the organisation matched to a registered one by name, case-insensitively.
pub fn parse_attendees(text: &str, organisations: &[(i64, String)]) -> Result<Vec<(i64, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (org, person) = line.split_once(',').map(|(o, p)| (o.trim(), p.trim())).unwrap_or((line, ""));
        let Some((id, _)) = organisations.iter().find(|(_, name)| name.eq_ignore_ascii_case(org)) else {
            return Err(format!("Line {}: there is no organisation called \"{org}\"", n + 1));
        };
        out.push((*id, person.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attendees_are_matched_to_organisations_by_name() {
        let orgs = vec![(1, "Staffordshire Police".to_string()), (2, "Stoke-on-Trent City Council".to_string())];
        let got =
            parse_attendees("staffordshire police, Chief Inspector\n\nStoke-on-Trent City Council", &orgs).unwrap();
        assert_eq!(got, vec![(1, "Chief Inspector".to_string()), (2, String::new())]);
        let err = parse_attendees("Staffordshire Police\nFire Service, Watch manager", &orgs).unwrap_err();
        assert_eq!(err, "Line 2: there is no organisation called \"Fire Service\"");
    }
}
