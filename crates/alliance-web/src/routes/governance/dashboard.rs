//! `GET /governance[?quarter=2025Q3]`: the partnership dashboard, from the Board pack's figures,
//! opening on the latest quarter with data.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;

use crate::views::governance::dashboard::DashboardPage;
use crate::views::governance::{quarter_from_or, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

async fn dashboard(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let mut form = Form::new(q);
    let default = crate::views::governance::default_quarter(&state, false).await?;
    let (quarter, errors) = quarter_from_or(&form, default);
    form.errors = errors;
    let pack = crate::views::board_pack::load_for_reader(&state, quarter).await?;
    let has_errors = !form.errors.is_empty();
    super::page(&DashboardPage::new(Layout::new(&state, "/governance"), pack, form), has_errors)
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/governance", get(dashboard))
}
