//! Referral pages (`routes/referrals.rs`): the organisation's list, the new referral form,
//! one referral with its workflow actions, and the suppressed figures.

use alliance_app::referrals::{Detail, Figures, OrgReferrals};
use alliance_core::format::day;
use alliance_core::referrals::{Birth, PersonName, Status};
use askama::Template;

use super::Layout;
use crate::forms::{FieldError, Form};

/// Coded lists as (code, label).
pub struct Options {
    pub needs: Vec<(&'static str, &'static str)>,
    pub sources: Vec<(&'static str, &'static str)>,
    pub sexes: Vec<(&'static str, &'static str)>,
    pub routes: Vec<(&'static str, &'static str)>,
    pub givers: Vec<(&'static str, &'static str)>,
    pub methods: Vec<(&'static str, &'static str)>,
    pub bases: Vec<(&'static str, &'static str)>,
    pub decline_reasons: Vec<(&'static str, &'static str)>,
    pub outcomes: Vec<(&'static str, &'static str)>,
    pub name_needs: Vec<(&'static str, &'static str)>,
    pub birth_needs: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "referrals/list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub referrals: OrgReferrals,
}

/// The chosen service and the personal fields it needs.
pub struct ServiceChoice {
    pub id: String,
    pub name: String,
    pub run_by: String,
    /// A `NameNeed` code.
    pub name_need: &'static str,
    /// A `BirthNeed` code.
    pub birth_need: &'static str,
    pub sex: bool,
    pub district: bool,
    pub contact: bool,
}

#[derive(Template)]
#[template(path = "referrals/new.html")]
pub struct NewPage {
    pub layout: Layout,
    pub services: Vec<(String, String)>,
    pub service: Option<ServiceChoice>,
    pub form: Form,
    pub errors: Vec<FieldError>,
    pub other_needs: Vec<String>,
    pub options: Options,
}

impl NewPage {
    pub fn new(
        layout: Layout,
        services: Vec<(String, String)>,
        service: Option<ServiceChoice>,
        form: Form,
        other_needs: Vec<String>,
    ) -> NewPage {
        let mut form = form;
        // The form's one-time submission key: sent twice (a double click), it makes one
        // referral (`alliance_app::referrals::make`). Shown back unchanged with errors.
        if form.get("submission").is_none_or(|k| k.trim().is_empty()) {
            form.values.insert("submission".into(), crate::auth::random_token());
        }
        let errors = form.errors.clone();
        NewPage { layout, services, service, form, errors, other_needs, options: crate::routes::referral_options() }
    }

    pub fn other_need(&self, code: &str) -> bool {
        self.other_needs.iter().any(|n| n == code)
    }

    pub fn chosen(&self, id: &str) -> bool {
        self.service.as_ref().is_some_and(|s| s.id == id)
    }
}

#[derive(Template)]
#[template(path = "referrals/detail.html")]
pub struct DetailPage {
    pub layout: Layout,
    pub detail: Detail,
    pub form: Form,
    pub errors: Vec<FieldError>,
    pub note: bool,
    pub options: Options,
    /// (label, value) of the personal fields held.
    pub person: Vec<(&'static str, String)>,
    /// (label, value) of the consent record.
    pub consent: Vec<(&'static str, String)>,
    /// (step, date, detail) of the workflow.
    pub steps: Vec<(&'static str, String, String)>,
    pub needs: Vec<&'static str>,
    /// The personal fields the referral holds, for correction: (field name, label, value
    /// shown, options for a list).
    pub correct: Vec<CorrectField>,
}

/// One field of the correction form (named as in the new referral form).
pub struct CorrectField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub options: Vec<(&'static str, &'static str)>,
}

impl DetailPage {
    pub fn new(layout: Layout, detail: Detail, form: Form, note: bool) -> DetailPage {
        let r = &detail.referral;
        let mut person = Vec::new();
        match &r.person.name {
            Some(PersonName::Initials(n)) => person.push(("Initials", n.clone())),
            Some(PersonName::Full(n)) => person.push(("Name", n.clone())),
            None => {}
        }
        match r.person.birth {
            Some(Birth::DateOfBirth(d)) => person.push(("Date of birth", day(d))),
            Some(Birth::Age(a)) => person.push(("Age when referred", a.to_string())),
            None => {}
        }
        if let Some(s) = r.person.sex {
            person.push(("Sex", s.label().to_string()));
        }
        if let Some(d) = &r.person.postcode_district {
            person.push(("Postcode district", d.to_string()));
        }
        if let Some(c) = &r.person.contact {
            person.push(("Contact", c.route.label().to_string()));
            if let Some(d) = &c.detail {
                person.push(("Contact detail", d.clone()));
            }
        }
        let c = &r.consent;
        let mut consent = vec![("Consent given by", c.given_by.label().to_string()), ("Date", day(c.date))];
        if let Some(m) = c.method {
            consent.push(("How", m.label().to_string()));
        }
        consent.push(("Lawful basis", c.lawful_basis.label().to_string()));
        if let Some(reason) = &c.reason {
            consent.push(("Reason", reason.clone()));
        }
        let d = r.timeline.dates();
        let mut steps = vec![("Received", day(d.received), String::new())];
        if let Some(on) = d.accepted {
            steps.push(("Accepted", day(on), String::new()));
        }
        if let Some((on, reason)) = d.declined {
            steps.push(("Declined", day(on), reason.label().to_string()));
        }
        if let Some(on) = d.withdrawn {
            steps.push(("Withdrawn", day(on), String::new()));
        }
        if let Some(on) = d.engaged {
            steps.push(("Engaged", day(on), String::new()));
        }
        if let Some((on, outcome)) = d.closed {
            steps.push(("Closed", day(on), outcome.label().to_string()));
        }
        let needs = r.needs.all().map(|n| n.label()).collect();
        let options = crate::routes::referral_options();
        // What was typed when a correction was refused, the stored value otherwise.
        let shown = |name: &str, stored: String| form.values.get(name).cloned().unwrap_or(stored);
        let field = |name, label, stored: String, options: Vec<(&'static str, &'static str)>| CorrectField {
            name,
            label,
            value: shown(name, stored),
            options,
        };
        let mut correct = Vec::new();
        match &r.person.name {
            Some(PersonName::Initials(n)) => correct.push(field("initials", "Initials", n.clone(), vec![])),
            Some(PersonName::Full(n)) => correct.push(field("name", "Full name", n.clone(), vec![])),
            None => {}
        }
        match r.person.birth {
            Some(Birth::DateOfBirth(d)) => {
                correct.push(field("date-of-birth", "Date of birth", d.format("%Y-%m-%d").to_string(), vec![]))
            }
            Some(Birth::Age(a)) => correct.push(field("age", "Age when referred", a.to_string(), vec![])),
            None => {}
        }
        if let Some(x) = r.person.sex {
            correct.push(field("sex", "Sex", x.code().to_string(), options.sexes.clone()));
        }
        if let Some(d) = &r.person.postcode_district {
            correct.push(field("postcode-district", "Postcode district", d.to_string(), vec![]));
        }
        if let Some(c) = &r.person.contact {
            correct.push(field("contact-route", "Contact route", c.route.code().to_string(), options.routes.clone()));
            correct.push(field("contact-detail", "Contact detail", c.detail.clone().unwrap_or_default(), vec![]));
        }
        let errors = form.errors.clone();
        DetailPage { layout, detail, form, errors, note, options, person, consent, steps, needs, correct }
    }

    pub fn status_label(&self) -> &'static str {
        self.detail.status().label()
    }

    pub fn source_label(&self) -> &'static str {
        self.detail.referral.source.label()
    }

    /// The workflow actions open to this organisation now.
    pub fn can(&self, event: &str) -> bool {
        let status = self.detail.status();
        let receives = self.detail.side.receives();
        match event {
            "accept" | "decline" => receives && status == Status::Received,
            "engage" => receives && status == Status::Accepted,
            "close" => receives && matches!(status, Status::Accepted | Status::Engaged),
            "withdraw" => self.detail.side.refers() && status == Status::Received,
            "erase" => !status.is_open(),
            "correct" => !self.correct.is_empty(),
            _ => false,
        }
    }
}

#[derive(Template)]
#[template(path = "referrals/figures.html")]
pub struct FiguresPage {
    pub layout: Layout,
    pub figures: Figures,
}
