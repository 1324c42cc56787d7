//! Funding: `GET /funding[?quarter=2025Q3]` and the staff forms on it: add a funding stream
//! (`POST /funding/streams`), set a stream's amount for a financial year
//! (`POST /funding/amounts`), allocate money to an organisation or intervention
//! (`POST /funding/allocations`) and record a quarter's spend against an allocation
//! (`POST /funding/spend`). Staff also change a stream's name and funder
//! (`GET|POST /funding/streams/{id}`), an allocation's recipient, purpose and amount
//! (`GET|POST /funding/allocations/{id}`), and delete an allocation entered by mistake, with
//! the spend recorded against it, after a confirmation page
//! (`GET /funding/allocations/{id}/delete` asks, `POST` deletes). Each change is audited; a
//! replaced amount or an edited record is audited with the values it replaced.
//!
//! An allocation that takes its stream over its amount for the year is accepted (budgets are
//! committed before a top-up arrives) and the funding page after the redirect says so
//! (`?saved=<id>`); the stream is flagged as over-allocated there and in the Board pack.

use std::collections::HashMap;

use crate::extract::Path;
use crate::forms;
use alliance_core::governance::{parse_pounds, FinancialYear, Quarter};
use alliance_db::DbError;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::{actor, may_edit_governance, not_found, page, see_other, Staff};
use crate::auth::CurrentUser;
use crate::views::board_pack::stream_year_positions_of;
use crate::views::governance::funding::{AllocationDeletePage, AllocationEditPage, FundingPage, StreamEditPage};
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
    let staff = may_edit_governance(&user);
    let p = FundingPage::load(&state.db, Layout::new(&state, "/funding"), quarter, staff, form).await?;
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

/// A stream's name and funder (`stream_name`, `stream_funder`), or `None` with the errors on
/// the form: the add form of /funding and the change page ask the same.
fn stream_fields(form: &mut Form) -> Option<(String, String)> {
    let (name, funder) = (form.get("stream_name"), form.get("stream_funder"));
    if name.is_none() {
        form.errors.push(error("stream_name", "Enter the name of the funding stream"));
    }
    if funder.is_none() {
        form.errors.push(error("stream_funder", "Enter who provides the money, like Home Office"));
    }
    name.zip(funder)
}

/// `POST /funding/streams`: a new funding stream (name and funder).
async fn add_stream(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    if let Some((name, funder)) = stream_fields(&mut form) {
        let key = form.get(forms::SUBMISSION);
        match state.db.create_funding_stream_keyed(&name, &funder, key.as_deref(), &actor(&user)).await {
            Ok(_) => return Ok(see_other("/funding#streams")),
            Err(e) => form.errors.push(invalid_to_field(e, STREAM_FIELDS, "stream_name")?),
        }
    }
    with_errors(&state, current_quarter(), form).await
}

/// `POST /funding/amounts`: a stream's amount for a financial year (replacing one set before).
async fn set_amount(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    let stream = stream_from(&state, &form, "amount_stream").await?.map_err(|e| form.errors.push(e)).ok();
    let fy = financial_year(&form, "amount_year").map_err(|e| form.errors.push(e)).ok();
    let pence = parse_pounds(&form.value("amount_value"))
        .map_err(|e| form.errors.push(error("amount_value", format!("Amount: {e}"))))
        .ok();
    if let (Some((id, _)), Some(fy), Some(pence), true) = (stream, fy, pence, form.errors.is_empty()) {
        match state.db.set_funding_amount(id, &fy.to_string(), pence, &actor(&user)).await {
            Ok(()) => return Ok(see_other(&format!("/funding?quarter={}#streams", quarter_in(fy)))),
            Err(e) => form.errors.push(invalid_to_field(
                e,
                &[("amount", "amount_value"), ("financial_year", "amount_year"), ("stream", "amount_stream")],
                "amount_value",
            )?),
        }
    }
    let shown = fy.map(quarter_in).unwrap_or_else(current_quarter);
    with_errors(&state, shown, form).await
}

/// `POST /funding/allocations`: money from a stream in a financial year to an organisation,
/// an intervention, or both, for a purpose.
async fn allocate(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    let stream = stream_from(&state, &form, "allocation_stream").await?.map_err(|e| form.errors.push(e)).ok();
    let fy = financial_year(&form, "allocation_year").map_err(|e| form.errors.push(e)).ok();
    let terms = allocation_terms(&state, &mut form).await?;
    if let (Some((stream_id, _)), Some(fy), Some(AllocationTerms { org, intervention, purpose, pence }), true) =
        (stream, fy, terms, form.errors.is_empty())
    {
        let (org_id, intervention_id) = (org.map(|o| o.0), intervention.map(|i| i.0));
        let fy_text = fy.to_string();
        let who = actor(&user);
        let key = form.get(forms::SUBMISSION);
        let made = state.db.create_allocation(
            stream_id,
            &fy_text,
            org_id,
            intervention_id,
            &purpose,
            pence,
            key.as_deref(),
            &who,
        );
        match made.await {
            Ok(id) => {
                let over = over_allocated(&state, stream_id, fy).await?;
                return Ok(saved_redirect(id, fy, over));
            }
            Err(e) => form.errors.push(invalid_to_field(e, ALLOCATION_FIELDS, "allocation_amount")?),
        }
    }
    let shown = fy.map(quarter_in).unwrap_or_else(current_quarter);
    with_errors(&state, shown, form).await
}

async fn record(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    let allocation =
        id_from(&form, "allocation", "the allocation the money was spent from").map_err(|e| form.errors.push(e)).ok();
    let quarter_text = form.value("quarter").trim().to_string();
    let quarter = quarter_text.parse::<Quarter>().ok();
    if quarter.is_none() {
        form.errors.push(error(
            "quarter",
            format!("Enter the quarter of the financial year like 2025/26 Q2, or 2025Q3, not \"{quarter_text}\""),
        ));
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
                Ok(()) => return Ok(see_other(&format!("/funding?quarter={q}"))),
                Err(err) => form.errors.push(invalid_to_field(
                    err,
                    &[
                        ("quarter", "quarter"),
                        ("amount", "amount"),
                        ("evaluation", "evaluation"),
                        ("allocation", "allocation"),
                    ],
                    "amount",
                )?),
            }
        }
    }
    with_errors(&state, quarter.unwrap_or_else(current_quarter), form).await
}

/// What an allocation's shared fields (`governance/allocation_fields.html`) say.
struct AllocationTerms {
    org: Recipient,
    intervention: Recipient,
    purpose: String,
    pence: i64,
}

/// Reads the shared allocation fields, on the add form and the change page alike: `None`
/// (with the errors on the form) unless all four are valid.
async fn allocation_terms(state: &AppState, form: &mut Form) -> Result<Option<AllocationTerms>, PageError> {
    let (org, intervention) = recipient_from(state, form).await?;
    let purpose = form.get("allocation_purpose");
    if purpose.is_none() {
        form.errors.push(error("allocation_purpose", "Enter what the money is for"));
    }
    let pence = parse_pounds(&form.value("allocation_amount"))
        .map_err(|e| form.errors.push(error("allocation_amount", format!("Amount: {e}"))))
        .ok();
    Ok(match (org, intervention, purpose, pence) {
        (Some(org), Some(intervention), Some(purpose), Some(pence)) => {
            Some(AllocationTerms { org, intervention, purpose, pence })
        }
        _ => None,
    })
}

/// The organisation and the intervention an allocation form names (`allocation_org`,
/// `allocation_intervention`): `Some(None)` for "none", `None` (with an error on the field)
/// for a value not in the list; an error too when neither is given.
async fn recipient_from(
    state: &AppState,
    form: &mut Form,
) -> Result<(Option<Recipient>, Option<Recipient>), PageError> {
    let organisations = state.db.organisations().await?;
    let organisations = organisations.iter().map(|o| (o.id, o.name.as_str()));
    let org = recipient_of(form, "allocation_org", organisations, "Select an organisation from the list, or none");
    let interventions = state.db.interventions().await?;
    let interventions = interventions.iter().map(|i| (i.id, i.name.as_str()));
    let intervention =
        recipient_of(form, "allocation_intervention", interventions, "Select an intervention from the list, or none");
    if let (Some(None), Some(None)) = (&org, &intervention) {
        form.errors
            .push(error("allocation_org", "Select the organisation or the intervention the money is allocated to"));
    }
    Ok((org, intervention))
}

/// `(id, name)` of an organisation or intervention, or none.
type Recipient = Option<(i64, String)>;

/// The choice of `field` among `choices` (`(id, name)`): `Some(None)` when none is chosen,
/// `None` (with `refusal` on the field) for a value not in the list.
fn recipient_of<'a>(
    form: &mut Form,
    field: &str,
    mut choices: impl Iterator<Item = (i64, &'a str)>,
    refusal: &str,
) -> Option<Recipient> {
    let Some(v) = form.get(field) else { return Some(None) };
    match choices.find(|(id, _)| id.to_string() == v) {
        Some((id, name)) => Some(Some((id, name.to_string()))),
        None => {
            form.errors.push(error(field, refusal));
            None
        }
    }
}

/// The storage fields of a stream's form → the form's fields.
const STREAM_FIELDS: &[(&str, &str)] = &[("name", "stream_name"), ("funder", "stream_funder")];

/// The storage fields of an allocation's form → the form's fields.
const ALLOCATION_FIELDS: &[(&str, &str)] = &[
    ("amount", "allocation_amount"),
    ("purpose", "allocation_purpose"),
    ("org", "allocation_org"),
    ("intervention", "allocation_intervention"),
    ("financial_year", "allocation_year"),
    ("stream", "allocation_stream"),
];

/// Whether stream `stream_id` is over-allocated in `fy`, from what is stored now.
async fn over_allocated(state: &AppState, stream_id: i64, fy: FinancialYear) -> Result<bool, PageError> {
    let (amounts, allocations, spend) =
        (state.db.funding_amounts().await?, state.db.allocations().await?, state.db.spend().await?);
    Ok(stream_year_positions_of(&amounts, &allocations, &spend, quarter_in(fy))
        .into_iter()
        .any(|p| p.stream_id == stream_id && p.year == fy && p.over_allocated))
}

/// Back to the funding page after saving allocation `id` of `fy`; the page warns when the
/// save left its stream over-allocated.
fn saved_redirect(id: i64, fy: FinancialYear, over: bool) -> Response {
    let anchor = if over { "saved-warning" } else { "allocations" };
    see_other(&format!("/funding?quarter={}&saved={id}#{anchor}", quarter_in(fy)))
}

/// An amount as the form shows it: `40,000.00` (the page prints the `£`).
fn pounds_text(pence: i64) -> String {
    alliance_core::format::money_field(pence)
}

/// `GET /funding/streams/{id}`: the form to change a stream's name and funder.
async fn stream_form(State(state): State<AppState>, _: Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(stream) = state.db.funding_stream(id).await? else { return Err(not_found()) };
    let form = Form::new(HashMap::from([
        ("stream_name".to_string(), stream.name.clone()),
        ("stream_funder".to_string(), stream.funder.clone()),
        forms::version_value(stream.version),
    ]));
    page(&StreamEditPage::new(Layout::new(&state, "/funding"), stream, form), false)
}

/// `POST /funding/streams/{id}`: saves a stream's name and funder, audited old → new.
async fn edit_stream(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(stream) = state.db.funding_stream(id).await? else { return Err(not_found()) };
    if let Some((name, funder)) = stream_fields(&mut form) {
        match state.db.update_funding_stream(id, &name, &funder, forms::seen_version(&form.values), &actor(&user)).await
        {
            Ok(false) => return Err(not_found()),
            Ok(true) => return Ok(see_other("/funding#streams")),
            Err(e) => form.errors.push(invalid_to_field(e, STREAM_FIELDS, "stream_name")?),
        }
    }
    page(&StreamEditPage::new(Layout::new(&state, "/funding"), stream, form), true)
}

/// `GET /funding/allocations/{id}`: the form to change an allocation.
async fn allocation_form(State(state): State<AppState>, _: Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(a) = state.db.allocation(id).await? else { return Err(not_found()) };
    let form = Form::new(HashMap::from([
        ("allocation_org".to_string(), a.org_id.map(|o| o.to_string()).unwrap_or_default()),
        ("allocation_intervention".to_string(), a.intervention_id.map(|i| i.to_string()).unwrap_or_default()),
        ("allocation_purpose".to_string(), a.purpose.clone()),
        ("allocation_amount".to_string(), pounds_text(a.amount_pence)),
        forms::version_value(a.version),
    ]));
    page(&AllocationEditPage::load(&state.db, Layout::new(&state, "/funding"), &a, form).await?, false)
}

/// `POST /funding/allocations/{id}`: saves an allocation's recipient, purpose and amount,
/// audited old → new. Over-allocating is allowed and warned about after the redirect.
async fn edit_allocation(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(before) = state.db.allocation(id).await? else { return Err(not_found()) };
    let terms = allocation_terms(&state, &mut form).await?;
    if let (Some(AllocationTerms { org, intervention, purpose, pence }), true) = (terms, form.errors.is_empty()) {
        let (org_id, intervention_id) = (org.map(|o| o.0), intervention.map(|i| i.0));
        let seen = forms::seen_version(&form.values);
        match state.db.update_allocation(id, org_id, intervention_id, &purpose, pence, seen, &actor(&user)).await {
            Ok(false) => return Err(not_found()),
            Ok(true) => {
                let fy: FinancialYear = before.financial_year.parse().map_err(|e: String| {
                    DbError::corrupt(format!("funding_allocations.financial_year of allocation {id}: {e}"))
                })?;
                let over = over_allocated(&state, before.stream_id, fy).await?;
                return Ok(saved_redirect(id, fy, over));
            }
            Err(e) => form.errors.push(invalid_to_field(e, ALLOCATION_FIELDS, "allocation_amount")?),
        }
    }
    page(&AllocationEditPage::load(&state.db, Layout::new(&state, "/funding"), &before, form).await?, true)
}

/// `GET /funding/allocations/{id}/delete`: asks for confirmation, saying what goes with it.
async fn confirm_delete(State(state): State<AppState>, _: Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(a) = state.db.allocation(id).await? else { return Err(not_found()) };
    page(&AllocationDeletePage::load(&state.db, Layout::new(&state, "/funding"), &a).await?, false)
}

/// `POST /funding/allocations/{id}/delete`: deletes the allocation and its spend, audited
/// with what was deleted.
async fn delete_allocation(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let Some((a, _)) = state.db.delete_allocation(id, &actor(&user)).await? else { return Err(not_found()) };
    let shown = a.financial_year.parse::<FinancialYear>().map(quarter_in).unwrap_or_else(|_| current_quarter());
    Ok(see_other(&format!("/funding?quarter={shown}#allocations")))
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/funding", get(show))
        .route("/funding/streams", post(add_stream))
        .route("/funding/amounts", post(set_amount))
        .route("/funding/allocations", post(allocate))
        .route("/funding/spend", post(record))
        .route("/funding/streams/{id}", get(stream_form).post(edit_stream))
        .route("/funding/allocations/{id}", get(allocation_form).post(edit_allocation))
        .route("/funding/allocations/{id}/delete", get(confirm_delete).post(delete_allocation))
}
