//! The quarterly Board pack, the same documents `alliance board-pack` writes. Access (route
//! table, `auth/access.rs`): every signed-in role.
//! - `GET /board-pack`: to the pack of the latest quarter with data the reader may see (not the current quarter,
//!   whose data may not be published yet);
//! - `GET /board-pack/{quarter}`: the self-contained HTML document (prints to PDF);
//! - `GET /board-pack/{quarter}/odt`: the same pack as an OpenDocument text file a Board
//!   secretary can edit (LibreOffice, Word, Google Docs);
//! - `GET /board-pack/{quarter}/pdf`: the same pack as a PDF (paginated, tagged).

use crate::extract::Path;
use alliance_app::board_pack::BoardPack;
use alliance_core::governance::Quarter;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::see_other;
use crate::error::bad_request;
use crate::{AppState, PageError};

/// A link's quarter when the reader may have a pack of it: one that is not a quarter, or is
/// outside the data and strategy held (`/board-pack/1900Q1`, whose pack would be empty), is a
/// 400 page naming the quarters there are packs of.
async fn quarter_of(state: &AppState, text: &str) -> Result<Quarter, PageError> {
    let (first, last) = crate::views::governance::pack_quarters(state).await?;
    let available = if first == last {
        format!("there is a Board pack of {first} only")
    } else {
        format!("there are Board packs of the quarters from {first} to {last}")
    };
    match text.parse::<Quarter>() {
        Ok(q) if first <= q && q <= last => Ok(q),
        Ok(q) => Err(bad_request(format!(
            "There is no Board pack of {q}: it is outside the data and the strategy held, and {available}."
        ))),
        // The reason in the parser's words ("not a quarter", or a year out of range).
        Err(e) if text.chars().count() <= 20 => Err(bad_request(format!("{e}. So {available}."))),
        Err(_) => Err(bad_request(format!(
            "\"{}…\" is not a quarter: give one like {last} ({available}).",
            text.chars().take(20).collect::<String>()
        ))),
    }
}

/// The latest quarter with data the reader may see (as the governance pages open on).
pub async fn latest(State(state): State<AppState>) -> Result<Response, PageError> {
    let q = crate::views::governance::default_quarter(&state, false).await?;
    Ok(see_other(&format!("/board-pack/{q}")))
}

pub async fn board_pack(State(state): State<AppState>, Path(quarter): Path<String>) -> Result<Response, PageError> {
    let quarter = quarter_of(&state, &quarter).await?;
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
    let quarter = quarter_of(state, quarter).await?;
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
