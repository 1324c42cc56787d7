//! `/funding`: funding streams and their amounts by financial year, allocations, spend per
//! quarter with under- and over-spend flags, and the share spent on evaluation; the staff
//! forms to add a funding stream, set its amount for a financial year, allocate money to an
//! organisation or intervention, and record a quarter's spend. The position and flags are
//! the Board pack's ([`funding_position`]). Each form's fields carry its own prefix
//! (`stream_`, `amount_`, `allocation_`) so that their ids and errors never clash on the page.
//!
//! The allocation position of every stream in every financial year (amount, allocated,
//! unallocated, spent, over-allocated: `alliance_core::governance::allocation`) is shown in a
//! table, with a warning naming each over-allocated stream; after an allocation is saved
//! (`?saved=<id>`) that would over-allocate its stream, a warning says so. Also the staff
//! pages to change a stream ([`StreamEditPage`]) or an allocation ([`AllocationEditPage`]),
//! and to confirm an allocation's deletion ([`AllocationDeletePage`]).

use std::collections::HashMap;

use alliance_core::governance::{Quarter, StreamYearPosition, ALLOCATION_RULE, SPEND_RULE};
use alliance_db::governance::{Allocation, FundingStream, Spend};
use alliance_db::{Db, DbError};
use askama::Template;

use super::{FieldError, Form};
use crate::views::board_pack::{funding_position, stream_year_positions_of, FundingPosition};
use crate::views::Layout;

pub struct StreamYears {
    pub id: i64,
    pub name: String,
    pub funder: String,
    /// (financial year, amount).
    pub years: Vec<(String, String)>,
}

/// A stream's allocation position in one financial year, as the page shows it.
pub struct PositionRow {
    pub stream: String,
    pub position: StreamYearPosition,
}

/// The warning shown after an allocation is saved that leaves its stream over-allocated.
pub struct SavedWarning {
    pub stream: String,
    pub position: StreamYearPosition,
}

pub struct SpendRow {
    pub allocation: String,
    pub quarter: String,
    pub amount: String,
    pub evaluation: String,
}

#[derive(Template)]
#[template(path = "governance/funding.html")]
pub struct FundingPage {
    pub layout: Layout,
    pub quarter: Quarter,
    pub position: FundingPosition,
    pub streams: Vec<StreamYears>,
    /// Every stream and financial year with an amount or an allocation, spend counted to
    /// the end of the quarter shown.
    pub positions: Vec<PositionRow>,
    /// Set after saving an allocation (`?saved=<id>`) whose stream is now over-allocated.
    pub saved_warning: Option<SavedWarning>,
    pub spend: Vec<SpendRow>,
    pub allocations: Vec<(String, String)>,
    /// `(id, name)` of every funding stream, for the amount and allocation forms.
    pub stream_options: Vec<(String, String)>,
    pub organisations: Vec<(String, String)>,
    pub interventions: Vec<(String, String)>,
    pub can_record: bool,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl FundingPage {
    pub async fn load(
        db: &Db,
        layout: Layout,
        quarter: Quarter,
        can_record: bool,
        mut form: Form,
    ) -> Result<FundingPage, DbError> {
        crate::forms::ensure_submission_key(&mut form.values);
        let streams = db.funding_streams().await?;
        let amounts = db.funding_amounts().await?;
        let names: HashMap<i64, String> = streams.iter().map(|s| (s.id, s.name.clone())).collect();
        let allocations = db.allocations().await?;
        let label: HashMap<i64, String> = allocations
            .iter()
            .map(|a| {
                let stream = names.get(&a.stream_id).cloned().unwrap_or_default();
                let to = a.org.clone().unwrap_or_else(|| "unassigned".into());
                (a.id, format!("{stream} {}: {} ({to})", a.financial_year, a.purpose))
            })
            .collect();
        let mut form = form;
        if form.get("quarter").is_none() {
            form.values.insert("quarter".into(), quarter.financial_label());
        }
        // The financial year of the quarter shown, unless the form says otherwise.
        for field in ["amount_year", "allocation_year"] {
            if !form.values.contains_key(field) {
                form.values.insert(field.into(), quarter.financial_year().to_string());
            }
        }
        let spend = db.spend().await?;
        let positions: Vec<PositionRow> = stream_year_positions_of(&amounts, &allocations, &spend, quarter)
            .into_iter()
            .map(|p| PositionRow { stream: names.get(&p.stream_id).cloned().unwrap_or_default(), position: p })
            .collect();
        let saved_warning = form
            .get("saved")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| allocations.iter().find(|a| a.id == id))
            .and_then(|a| {
                positions
                    .iter()
                    .find(|p| p.position.stream_id == a.stream_id && p.position.year.to_string() == a.financial_year)
            })
            .filter(|p| p.position.over_allocated)
            .map(|p| SavedWarning { stream: p.stream.clone(), position: p.position });
        let errors = form.errors.clone();
        Ok(FundingPage {
            layout,
            quarter,
            position: funding_position(db, quarter).await?,
            positions,
            saved_warning,
            streams: streams
                .iter()
                .map(|s| StreamYears {
                    id: s.id,
                    name: s.name.clone(),
                    funder: s.funder.clone(),
                    years: amounts
                        .iter()
                        .filter(|a| a.stream_id == s.id)
                        .map(|a| (a.financial_year.clone(), alliance_core::format::money(a.amount_pence)))
                        .collect(),
                })
                .collect(),
            spend: spend
                .into_iter()
                .map(|s| SpendRow {
                    allocation: label.get(&s.allocation_id).cloned().unwrap_or_default(),
                    // In the financial year's terms (money is reported April to March).
                    quarter: s
                        .quarter
                        .parse::<Quarter>()
                        .map(|q| format!("{} ({})", q.financial_label(), q.label()))
                        .unwrap_or(s.quarter),
                    amount: alliance_core::format::money(s.amount_pence),
                    evaluation: alliance_core::format::money(s.evaluation_pence),
                })
                .collect(),
            allocations: allocations
                .iter()
                .map(|a| (a.id.to_string(), label.get(&a.id).cloned().unwrap_or_default()))
                .collect(),
            stream_options: streams.iter().map(|s| (s.id.to_string(), s.name.clone())).collect(),
            organisations: super::actions::organisation_options(db).await?,
            interventions: db.interventions().await?.into_iter().map(|i| (i.id.to_string(), i.name.clone())).collect(),
            can_record,
            form,
            errors,
        })
    }
    pub fn pence(&self, p: impl std::borrow::Borrow<i64>) -> String {
        alliance_core::format::money(*p.borrow())
    }
    pub fn rule(&self) -> &'static str {
        SPEND_RULE
    }
    pub fn allocation_rule(&self) -> &'static str {
        ALLOCATION_RULE
    }
    pub fn over_allocated(&self) -> Vec<&PositionRow> {
        self.positions.iter().filter(|p| p.position.over_allocated).collect()
    }
}

/// `GET|POST /funding/streams/{id}`: change a stream's name and funder.
#[derive(Template)]
#[template(path = "governance/funding_stream.html")]
pub struct StreamEditPage {
    pub layout: Layout,
    pub stream: FundingStream,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl StreamEditPage {
    pub fn new(layout: Layout, stream: FundingStream, form: Form) -> StreamEditPage {
        let errors = form.errors.clone();
        StreamEditPage { layout, stream, form, errors }
    }
}

/// What the allocation pages say about an allocation: its stream and year, recipient and
/// amount, as text.
pub struct AllocationSummary {
    pub id: i64,
    pub stream: String,
    pub financial_year: String,
    pub recipient: String,
    pub purpose: String,
    pub amount: String,
}

impl AllocationSummary {
    pub async fn of(db: &Db, a: &Allocation) -> Result<AllocationSummary, DbError> {
        let stream = db.funding_stream(a.stream_id).await?.map(|s| s.name).unwrap_or_default();
        let intervention = match a.intervention_id {
            Some(id) => db.interventions().await?.into_iter().find(|i| i.id == id).map(|i| i.name.clone()),
            None => None,
        };
        let recipient = match (&a.org, intervention) {
            (Some(o), Some(i)) => format!("{o} (intervention: {i})"),
            (Some(o), None) => o.clone(),
            (None, Some(i)) => format!("Intervention: {i}"),
            (None, None) => "Unassigned".into(),
        };
        Ok(AllocationSummary {
            id: a.id,
            stream,
            financial_year: a.financial_year.clone(),
            recipient,
            purpose: a.purpose.clone(),
            amount: alliance_core::format::money(a.amount_pence),
        })
    }
}

/// `GET|POST /funding/allocations/{id}`: change an allocation's recipient, purpose and
/// amount (its stream and financial year stay).
#[derive(Template)]
#[template(path = "governance/funding_allocation.html")]
pub struct AllocationEditPage {
    pub layout: Layout,
    pub allocation: AllocationSummary,
    pub organisations: Vec<(String, String)>,
    pub interventions: Vec<(String, String)>,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl AllocationEditPage {
    pub async fn load(db: &Db, layout: Layout, a: &Allocation, form: Form) -> Result<AllocationEditPage, DbError> {
        let errors = form.errors.clone();
        Ok(AllocationEditPage {
            layout,
            allocation: AllocationSummary::of(db, a).await?,
            organisations: super::actions::organisation_options(db).await?,
            interventions: db.interventions().await?.into_iter().map(|i| (i.id.to_string(), i.name.clone())).collect(),
            form,
            errors,
        })
    }
}

/// `GET /funding/allocations/{id}/delete`: are you sure? Says what spend goes with it.
#[derive(Template)]
#[template(path = "governance/funding_allocation_delete.html")]
pub struct AllocationDeletePage {
    pub layout: Layout,
    pub allocation: AllocationSummary,
    /// `(quarter, amount)` of the spend recorded against it, deleted with it.
    pub spend: Vec<(String, String)>,
}

impl AllocationDeletePage {
    pub async fn load(db: &Db, layout: Layout, a: &Allocation) -> Result<AllocationDeletePage, DbError> {
        let spend: Vec<Spend> = db.spend().await?.into_iter().filter(|s| s.allocation_id == a.id).collect();
        Ok(AllocationDeletePage {
            layout,
            allocation: AllocationSummary::of(db, a).await?,
            spend: spend.into_iter().map(|s| (s.quarter, alliance_core::format::money(s.amount_pence))).collect(),
        })
    }
}
