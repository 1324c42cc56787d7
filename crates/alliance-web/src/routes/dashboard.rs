//! `GET /`: the home dashboard.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::auth::Caller;
use crate::views::dashboard::DashboardPage;
use crate::{AppState, PageError};

pub async fn get(State(state): State<AppState>, Caller(who): Caller) -> Result<Html<String>, PageError> {
    let page = DashboardPage::load(&state, &who).await?;
    Ok(Html(page.render()?))
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/", axum::routing::get(get))
}
