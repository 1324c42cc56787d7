//! `GET /imports`: the import history with provenance.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::auth::Caller;
use crate::views::imports::{visible, ImportsPage};
use crate::{AppState, PageError};

pub async fn get(State(state): State<AppState>, Caller(who): Caller) -> Result<Html<String>, PageError> {
    // Restricted datasets' imports at the caller's level only (views::imports::visible).
    let imports = visible(&state, &who, state.db.imports(500).await?).await?;
    Ok(Html(ImportsPage::new(&state, imports).render()?))
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/imports", axum::routing::get(get))
}
