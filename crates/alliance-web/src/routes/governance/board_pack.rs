//! `GET /board-pack/{quarter}`: the quarterly Board pack, the same self-contained document
//! `alliance board-pack` writes. Access (route table, `auth/access.rs`): every signed-in role.

use alliance_core::governance::Quarter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::{AppState, PageError};

pub async fn board_pack(State(state): State<AppState>, Path(quarter): Path<String>) -> Result<Response, PageError> {
    let quarter: Quarter = match quarter.parse() {
        Ok(q) => q,
        Err(message) => return Ok((StatusCode::NOT_FOUND, message).into_response()),
    };
    let pack = crate::views::board_pack::load_for_reader(&state, quarter).await?;
    Ok(Html(alliance_reports::board_pack::render(&pack)?).into_response())
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/board-pack/{quarter}", axum::routing::get(board_pack))
}
