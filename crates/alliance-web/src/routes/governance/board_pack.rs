//! The quarterly Board pack, the same documents `alliance board-pack` writes. Access (route
//! table, `auth/access.rs`): every signed-in role.
//! - `GET /board-pack`: to the pack of the latest quarter with data the reader may see (not the current quarter,
//!   whose data may not be published yet);
//! - `GET /board-pack/{quarter}`: the self-contained HTML document (prints to PDF);
//! - `GET /board-pack/{quarter}/odt`: the same pack as an OpenDocument text file a Board
//!   secretary can edit (LibreOffice, Word, Google Docs);
//! - `GET /board-pack/{quarter}/pdf`: the same pack as a PDF (paginated, tagged).

use alliance_app::board_pack::BoardPack;
use alliance_core::governance::Quarter;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::see_other;
use crate::{AppState, PageError};

/// A link's quarter, or the message of the 404 a bad one answers.
fn quarter_of(text: &str) -> Result<Quarter, String> {
    text.parse()
}

/// The latest quarter with data the reader may see (as the governance pages open on).
pub async fn latest(State(state): State<AppState>) -> Result<Response, PageError> {
    let q = crate::views::governance::default_quarter(&state, false).await?;
    Ok(see_other(&format!("/board-pack/{q}")))
}

pub async fn board_pack(State(state): State<AppState>, Path(quarter): Path<String>) -> Result<Response, PageError> {
    let quarter = match quarter_of(&quarter) {
        Ok(q) => q,
        Err(message) => return Ok((StatusCode::NOT_FOUND, message).into_response()),
    };
    let pack = crate::views::board_pack::load_for_reader(&state, quarter).await?;
    Ok(Html(alliance_reports::board_pack::render(&pack)?).into_response())
}

pub async fn board_pack_odt(State(state): State<AppState>, Path(quarter): Path<String>) -> Result<Response, PageError> {
    download(&state, &quarter, alliance_reports::odt::board_pack_odt, alliance_reports::odt::MIME_TYPE, "odt").await
}

pub async fn board_pack_pdf(State(state): State<AppState>, Path(quarter): Path<String>) -> Result<Response, PageError> {
    download(&state, &quarter, alliance_reports::pdf::board_pack_pdf, alliance_reports::pdf::MIME_TYPE, "pdf").await
}

/// The pack of the link's quarter as a file to download, `render`ed from the reader's view:
/// restricted indicators (health) as their access allows.
async fn download<E: std::fmt::Display>(
    state: &AppState,
    quarter: &str,
    render: fn(&BoardPack) -> Result<Vec<u8>, E>,
    mime: &str,
    extension: &str,
) -> Result<Response, PageError> {
    let quarter = match quarter_of(quarter) {
        Ok(q) => q,
        Err(message) => return Ok((StatusCode::NOT_FOUND, message).into_response()),
    };
    let pack = crate::views::board_pack::load_for_reader(state, quarter).await?;
    let bytes = render(&pack).map_err(|e| PageError::Internal(e.to_string()))?;
    let name = format!("attachment; filename=\"board-pack-{quarter}.{extension}\"");
    Ok(([(header::CONTENT_TYPE, mime.to_string()), (header::CONTENT_DISPOSITION, name)], bytes).into_response())
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/board-pack", axum::routing::get(latest))
        .route("/board-pack/{quarter}", axum::routing::get(board_pack))
        .route("/board-pack/{quarter}/odt", axum::routing::get(board_pack_odt))
        .route("/board-pack/{quarter}/pdf", axum::routing::get(board_pack_pdf))
}
