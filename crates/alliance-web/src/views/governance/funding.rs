//! `/funding`: funding streams and their amounts by financial year, allocations, spend per
//! quarter with under- and over-spend flags, and the share spent on evaluation; the staff
//! forms to add a funding stream, set its amount for a financial year, allocate money to an
//! organisation or intervention, and record a quarter's spend. The position and flags are
//! the Board pack's ([`funding_position`]). Each form's fields carry its own prefix
//! (`stream_`, `amount_`, `allocation_`) so that their ids and errors never clash on the page.

use std::collections::HashMap;

use alliance_core::governance::{format_pence, Quarter, SPEND_RULE};
use alliance_db::{Db, DbError};
use askama::Template;

use super::{FieldError, Form};
use crate::views::board_pack::{funding_position, FundingPosition};
use crate::views::Layout;

pub struct StreamYears {
    pub name: String,
    pub funder: String,
    /// (financial year, amount).
    pub years: Vec<(String, String)>,
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
        form: Form,
    ) -> Result<FundingPage, DbError> {
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
            form.values.insert("quarter".into(), quarter.to_string());
        }
        // The financial year of the quarter shown, unless the form says otherwise.
        for field in ["amount_year", "allocation_year"] {
            if !form.values.contains_key(field) {
                form.values.insert(field.into(), quarter.financial_year().to_string());
            }
        }
        let errors = form.errors.clone();
        Ok(FundingPage {
            layout,
            quarter,
            position: funding_position(db, quarter).await?,
            streams: streams
                .iter()
                .map(|s| StreamYears {
                    name: s.name.clone(),
                    funder: s.funder.clone(),
                    years: amounts
                        .iter()
                        .filter(|a| a.stream_id == s.id)
                        .map(|a| (a.financial_year.clone(), format_pence(a.amount_pence)))
                        .collect(),
                })
                .collect(),
            spend: db
                .spend()
                .await?
                .into_iter()
                .map(|s| SpendRow {
                    allocation: label.get(&s.allocation_id).cloned().unwrap_or_default(),
                    quarter: s.quarter,
                    amount: format_pence(s.amount_pence),
                    evaluation: format_pence(s.evaluation_pence),
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
        format_pence(*p.borrow())
    }
    pub fn rule(&self) -> &'static str {
        SPEND_RULE
    }
}
