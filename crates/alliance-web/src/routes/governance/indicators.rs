//! The performance framework: `GET /indicators`, `GET /indicators/{id}`, entering a value
//! (`POST /indicators/{id}/values`: staff, or the owning organisation's partner users) and
//! uploading many as CSV (`POST /indicators/upload`: staff). Computed indicators refuse typed
//! values (the storage layer's rule, shown on the form).

use std::collections::HashMap;

use alliance_core::governance::can_update_action;
use alliance_db::access::User;
use alliance_db::governance::Indicator;
use alliance_ingest::governance_values::parse_indicator_values;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Form as Submitted;

use super::{actor, audited, forbidden, is_staff, not_found, page, see_other};
use crate::auth::CurrentUser;
use crate::views::board_pack::BoardPack;
use crate::views::governance::indicators::{IndicatorPage, IndicatorsPage};
use crate::views::governance::{error, invalid_to_field, quarter_from, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

type Values = HashMap<String, String>;

/// Staff enter any entered indicator; a partner user only their organisation's.
fn can_enter(user: &User, ind: &Indicator) -> bool {
    !ind.source.is_computed()
        && (is_staff(user) || ind.owner_org_id.is_some_and(|o| can_update_action(user.role, user.org_id, o)))
}

async fn list_page(state: &AppState, user: &User, mut form: Form) -> Result<Response, PageError> {
    let (quarter, mut errors) = quarter_from(&form);
    form.errors.append(&mut errors);
    let has_errors = !form.errors.is_empty();
    let pack = BoardPack::load(&state.db, quarter, &state.partnership).await?;
    page(&IndicatorsPage::new(Layout::new(state, "/indicators"), pack, is_staff(user), form), has_errors)
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    list_page(&state, &user, Form::new(q)).await
}

async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Submitted(values): Submitted<Values>,
) -> Result<Response, PageError> {
    let mut form = Form::new(values);
    form.values.remove("quarter");
    match parse_indicator_values("the pasted CSV", &form.value("csv")) {
        Ok(rows) => match state.db.enter_indicator_values(&rows, &actor(&user)).await {
            Ok(n) => {
                audited(&state, &user, "/indicators", &format!("{n} indicator values uploaded")).await?;
                return Ok(see_other("/indicators"));
            }
            // "row 3: …" counts data rows; the pasted text's line is one more (the header).
            Err(e) => form.errors.push(invalid_to_field(e, &[], "csv")?),
        },
        Err(e) => form.errors.push(error("csv", e.to_string())),
    }
    list_page(&state, &user, form).await
}

async fn indicator_page(state: &AppState, user: &User, ind: Indicator, mut form: Form) -> Result<Response, PageError> {
    let (quarter, mut errors) = quarter_from(&Form::new(HashMap::from([(
        "quarter".to_string(),
        form.values.get("quarter").cloned().unwrap_or_default(),
    )])));
    form.errors.append(&mut errors);
    let has_errors = !form.errors.is_empty();
    let pack = BoardPack::load(&state.db, quarter, &state.partnership).await?;
    let enter = can_enter(user, &ind);
    match IndicatorPage::load(&state.db, Layout::new(state, "/indicators"), ind, &pack, enter, form).await? {
        Some(p) => page(&p, has_errors),
        None => Ok(not_found()),
    }
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    let Some(ind) = state.db.indicator(id).await? else { return Ok(not_found()) };
    let mut form = Form::default();
    if let Some(quarter) = q.get("quarter") {
        form.values.insert("quarter".into(), quarter.clone());
    }
    indicator_page(&state, &user, ind, form).await
}

async fn enter(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Submitted(values): Submitted<Values>,
) -> Result<Response, PageError> {
    let Some(ind) = state.db.indicator(id).await? else { return Ok(not_found()) };
    if !can_enter(&user, &ind) {
        let why = if ind.source.is_computed() {
            "This indicator is computed from imported data; its values cannot be typed."
        } else {
            "Only partnership staff, or the organisation that owns this indicator, can enter its values."
        };
        return Ok(forbidden(why));
    }
    let mut form = Form::new(values);
    form.values.remove("quarter");
    let period = form.value("period").trim().to_string();
    let value_text = form.value("value");
    if period.parse::<alliance_core::governance::Quarter>().is_err() {
        form.errors.push(error("period", format!("Enter the period as a quarter like 2025Q3, not \"{period}\"")));
    }
    let value = value_text.trim().replace(',', "").parse::<f64>().ok().filter(|v| v.is_finite());
    if value.is_none() {
        form.errors.push(error(
            "value",
            format!("Enter the value as a number, like 430 or 12.5, not \"{}\"", value_text.trim()),
        ));
    }
    if let (Some(v), true) = (value, form.errors.is_empty()) {
        let row = vec![(ind.code.clone(), period.clone(), v, form.value("note"))];
        match state.db.enter_indicator_values(&row, &actor(&user)).await {
            Ok(_) => {
                audited(&state, &user, &format!("/indicators/{id}"), &format!("value for {period}: {v}")).await?;
                return Ok(see_other(&format!("/indicators/{id}?quarter={period}")));
            }
            Err(e) => form.errors.push(invalid_to_field(e, &[], "value")?),
        }
    }
    indicator_page(&state, &user, ind, form).await
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/indicators", get(list))
        .route("/indicators/upload", post(upload))
        .route("/indicators/{id}", get(detail))
        .route("/indicators/{id}/values", post(enter))
}
