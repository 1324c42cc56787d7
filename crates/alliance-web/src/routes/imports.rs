//! `GET /imports`: the import history with provenance.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::views::imports::ImportsPage;
use crate::{AppState, PageError};

pub async fn get(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let imports = state.db.imports(500).await?;
    Ok(Html(ImportsPage::new(&state, imports).render()?))
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/imports", axum::routing::get(get))
}
