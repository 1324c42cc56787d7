//! `/funding`: funding streams and their amounts by financial year, allocations, spend per
//! quarter with under- and over-spend flags, and the share spent on evaluation; the form to
//! record a quarter's spend. The position and flags are the Board pack's
//! ([`funding_position`]).

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
