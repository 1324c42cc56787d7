//! `GET /map`: hotspots and density over district and LSOA outlines, with a filter form
//! that works without JavaScript and a server-rendered table of the top hotspots. The map
//! itself (Leaflet, vector layers only) loads the GeoJSON endpoints of the same filters.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;

use crate::views::map::MapPage;
use crate::{AppState, PageError};

pub async fn page(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let page = MapPage::build(&state, params).await?;
    Ok(Html(page.render()?))
}
