//! `GET /`: the home dashboard.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::views::dashboard::DashboardPage;
use crate::{AppState, PageError};

pub async fn get(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let page = DashboardPage::load(&state).await?;
    Ok(Html(page.render()?))
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/", axum::routing::get(get))
}
