//! Funding: `GET /funding[?quarter=2025Q3]` and the staff forms on it: add a funding stream
//! (`POST /funding/streams`), set a stream's amount for a financial year
//! (`POST /funding/amounts`), allocate money to an organisation or intervention
//! (`POST /funding/allocations`) and record a quarter's spend against an allocation
//! (`POST /funding/spend`). Each change is audited; a replaced amount is audited with the
//! amount it replaced.

use std::collections::HashMap;

use alliance_core::governance::{format_pence, parse_pounds, FinancialYear, Quarter};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Form as Submitted;

use super::{actor, audited, is_staff, page, see_other};
use crate::auth::CurrentUser;
use crate::views::governance::funding::FundingPage;
use crate::views::governance::{current_quarter, error, id_from, invalid_to_field, quarter_from, FieldError, Form};
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

/// The funding page again with the form's errors (422), showing `quarter`.
async fn with_errors(state: &AppState, quarter: Quarter, form: Form) -> Result<Response, PageError> {
    let p = FundingPage::load(&state.db, Layout::new(state, "/funding"), quarter, true, form).await?;
    page(&p, true)
}

/// The quarter to show after a change in financial year `fy`: today's when it is in that
/// year, otherwise the year's first.
fn quarter_in(fy: FinancialYear) -> Quarter {
    let now = current_quarter();
    if now.financial_year() == fy {
        now
    } else {
        fy.quarters()[0]
    }
}

/// A financial year from a form field, or an error on it.
fn financial_year(form: &Form, field: &str) -> Result<FinancialYear, FieldError> {
    let text = form.get(field).unwrap_or_default();
    text.parse::<FinancialYear>()
        .map_err(|_| error(field, format!("Enter the financial year like 2025/26, not \"{text}\"")))
}

/// A funding stream chosen from the list, or an error on the field.
async fn stream_from(
    state: &AppState,
    form: &Form,
    field: &str,
) -> Result<Result<(i64, String), FieldError>, PageError> {
    let streams = state.db.funding_streams().await?;
    Ok(id_from(form, field, "a funding stream").and_then(|id| {
        streams
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| (s.id, s.name))
            .ok_or_else(|| error(field, "Select a funding stream from the list"))
    }))
}

/// `POST /funding/streams`: a new funding stream (name and funder).
async fn add_stream(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Submitted(values): Submitted<Values>,
) -> Result<Response, PageError> {
    let mut form = Form::new(values);
    let (name, funder) = (form.get("stream_name"), form.get("stream_funder"));
    if name.is_none() {
        form.errors.push(error("stream_name", "Enter the name of the funding stream"));
    }
    if funder.is_none() {
        form.errors.push(error("stream_funder", "Enter who provides the money, like Home Office"));
    }
    if let (Some(name), Some(funder)) = (name, funder) {
        match state.db.create_funding_stream(&name, &funder).await {
            Ok(id) => {
                audited(&state, &user, "/funding", &format!("funding stream {id} added: {name} ({funder})")).await?;
                return Ok(see_other("/funding#streams"));
            }
            Err(e) => form.errors.push(invalid_to_field(e, &[("name", "stream_name")], "stream_name")?),
        }
    }
    with_errors(&state, current_quarter(), form).await
}

/// `POST /funding/amounts`: a stream's amount for a financial year (replacing one set before).
async fn set_amount(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Submitted(values): Submitted<Values>,
) -> Result<Response, PageError> {
    let mut form = Form::new(values);
    let stream = stream_from(&state, &form, "amount_stream").await?.map_err(|e| form.errors.push(e)).ok();
    let fy = financial_year(&form, "amount_year").map_err(|e| form.errors.push(e)).ok();
    let pence = parse_pounds(&form.value("amount_value"))
        .map_err(|e| form.errors.push(error("amount_value", format!("Amount: {e}"))))
        .ok();
    if let (Some((id, name)), Some(fy), Some(pence), true) = (stream, fy, pence, form.errors.is_empty()) {
        let before = state
            .db
            .funding_amounts()
            .await?
            .into_iter()
            .find(|a| a.stream_id == id && a.financial_year == fy.to_string())
            .map(|a| a.amount_pence);
        match state.db.set_funding_amount(id, &fy.to_string(), pence).await {
            Ok(()) => {
                let was = before.map(|b| format!(" (was {})", format_pence(b))).unwrap_or_default();
                let detail = format!("amount of {name} for {fy}: {}{was}", format_pence(pence));
                audited(&state, &user, "/funding", &detail).await?;
                return Ok(see_other(&format!("/funding?quarter={}#streams", quarter_in(fy))));
            }
            Err(e) => form.errors.push(invalid_to_field(e, &[("amount", "amount_value")], "amount_value")?),
        }
    }
    let shown = fy.map(quarter_in).unwrap_or_else(current_quarter);
    with_errors(&state, shown, form).await
}

/// `POST /funding/allocations`: money from a stream in a financial year to an organisation,
/// an intervention, or both, for a purpose.
async fn allocate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Submitted(values): Submitted<Values>,
) -> Result<Response, PageError> {
    let mut form = Form::new(values);
    let stream = stream_from(&state, &form, "allocation_stream").await?.map_err(|e| form.errors.push(e)).ok();
    let fy = financial_year(&form, "allocation_year").map_err(|e| form.errors.push(e)).ok();
    let organisations = state.db.organisations().await?;
    let org = match form.get("allocation_org") {
        None => Some(None),
        Some(v) => match organisations.iter().find(|o| o.id.to_string() == v) {
            Some(o) => Some(Some((o.id, o.name.clone()))),
            None => {
                form.errors.push(error("allocation_org", "Select an organisation from the list, or none"));
                None
            }
        },
    };
    let interventions = state.db.interventions().await?;
    let intervention = match form.get("allocation_intervention") {
        None => Some(None),
        Some(v) => match interventions.iter().find(|i| i.id.to_string() == v) {
            Some(i) => Some(Some((i.id, i.name.clone()))),
            None => {
                form.errors.push(error("allocation_intervention", "Select an intervention from the list, or none"));
                None
            }
        },
    };
    if let (Some(None), Some(None)) = (&org, &intervention) {
        form.errors
            .push(error("allocation_org", "Select the organisation or the intervention the money is allocated to"));
    }
    let purpose = form.get("allocation_purpose");
    if purpose.is_none() {
        form.errors.push(error("allocation_purpose", "Enter what the money is for"));
    }
    let pence = parse_pounds(&form.value("allocation_amount"))
        .map_err(|e| form.errors.push(error("allocation_amount", format!("Amount: {e}"))))
        .ok();
    if let (Some((stream_id, stream)), Some(fy), Some(org), Some(intervention), Some(purpose), Some(pence), true) =
        (stream, fy, org, intervention, purpose, pence, form.errors.is_empty())
    {
        let org_id = org.as_ref().map(|o| o.0);
        let intervention_id = intervention.as_ref().map(|i| i.0);
        match state.db.create_allocation(stream_id, &fy.to_string(), org_id, intervention_id, &purpose, pence).await {
            Ok(id) => {
                let to: Vec<String> = [org.map(|o| o.1), intervention.map(|i| format!("intervention {}", i.1))]
                    .into_iter()
                    .flatten()
                    .collect();
                let detail = format!(
                    "allocation {id} added: {} of {stream} {fy} to {} for {purpose}",
                    format_pence(pence),
                    to.join(" and ")
                );
                audited(&state, &user, "/funding", &detail).await?;
                return Ok(see_other(&format!("/funding?quarter={}#allocations", quarter_in(fy))));
            }
            Err(e) => form.errors.push(invalid_to_field(e, &[("amount", "allocation_amount")], "allocation_amount")?),
        }
    }
    let shown = fy.map(quarter_in).unwrap_or_else(current_quarter);
    with_errors(&state, shown, form).await
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
    with_errors(&state, quarter.unwrap_or_else(current_quarter), form).await
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/funding", get(show))
        .route("/funding/streams", post(add_stream))
        .route("/funding/amounts", post(set_amount))
        .route("/funding/allocations", post(allocate))
        .route("/funding/spend", post(record))
}
