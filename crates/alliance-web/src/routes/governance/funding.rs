//! Funding: `GET /funding[?quarter=2025Q3]` and recording a quarter's spend against an
//! allocation (`POST /funding/spend`, staff).

use std::collections::HashMap;

use alliance_core::governance::{parse_pounds, Quarter};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Form as Submitted;

use super::{actor, audited, is_staff, page, see_other};
use crate::auth::CurrentUser;
use crate::views::governance::funding::FundingPage;
use crate::views::governance::{error, id_from, invalid_to_field, quarter_from, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

type Values = HashMap<String, String>;

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    let mut form = Form::new(q);
    let (quarter, errors) = quarter_from(&form);
    form.errors = errors;
    let has_errors = !form.errors.is_empty();
    let p = FundingPage::load(&state.db, Layout::new(&state, "/funding"), quarter, is_staff(&user), form).await?;
    page(&p, has_errors)
}

async fn record(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Submitted(values): Submitted<Values>,
) -> Result<Response, PageError> {
    let mut form = Form::new(values);
    let allocation =
        id_from(&form, "allocation", "the allocation the money was spent from").map_err(|e| form.errors.push(e)).ok();
    let quarter_text = form.value("quarter").trim().to_string();
    let quarter = quarter_text.parse::<Quarter>().ok();
    if quarter.is_none() {
        form.errors.push(error("quarter", format!("Enter the quarter like 2025Q3, not \"{quarter_text}\"")));
    }
    let amount =
        parse_pounds(&form.value("amount")).map_err(|e| form.errors.push(error("amount", format!("Spend: {e}")))).ok();
    let evaluation_text = form.get("evaluation").unwrap_or_else(|| "0".into());
    let evaluation = parse_pounds(&evaluation_text)
        .map_err(|e| form.errors.push(error("evaluation", format!("Evaluation: {e}"))))
        .ok();
    if let (Some(a), Some(e)) = (amount, evaluation) {
        if e > a {
            form.errors.push(error("evaluation", "Evaluation spend is part of the spend, so cannot be more than it"));
        }
    }
    if let (Some(al), Some(q), Some(a), Some(e), true) =
        (allocation, quarter, amount, evaluation, form.errors.is_empty())
    {
        if !state.db.allocations().await?.iter().any(|x| x.id == al) {
            form.errors.push(error("allocation", "Select an allocation from the list"));
        } else {
            match state.db.record_spend(al, &q.to_string(), a, e, &actor(&user)).await {
                Ok(()) => {
                    let detail = format!("spend recorded for allocation {al} in {q}: {a} pence, {e} on evaluation");
                    audited(&state, &user, "/funding", &detail).await?;
                    return Ok(see_other(&format!("/funding?quarter={q}")));
                }
                Err(err) => form.errors.push(invalid_to_field(err, &[], "amount")?),
            }
        }
    }
    let shown = quarter.unwrap_or_else(crate::views::governance::current_quarter);
    let p = FundingPage::load(&state.db, Layout::new(&state, "/funding"), shown, true, form).await?;
    page(&p, true)
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/funding", get(show)).route("/funding/spend", post(record))
}
