//! `GET /api/v1/counts?by=month,crime-type&from=YYYY-MM&to=YYYY-MM&crime-type=T&district=CODE&area=everywhere`
//!
//! The partnership's districts unless a district is named or `area=everywhere` asks for
//! every record (`alliance_app::counts`); the answer's `districts` says which were counted.
//!
//! Each answer is kept until the data changes (`AppState::counts`): under load the same few
//! questions are asked again and again, and on 20 million records one answer costs about
//! 100 ms of the database's time (16 answers a second at 20 connections, p50 1.1 s, before).
//! `X-Alliance-Cache` says `hit` or `miss`, as on the public pages.

use std::collections::HashMap;

use alliance_app::counts::{self, Scope};
use alliance_core::domain::{CountField, CountFilter};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::extract::ApiParams;
use crate::public_cache::CACHE_HEADER;
use crate::AppState;

pub async fn get(State(state): State<AppState>, params: ApiParams) -> Result<Response, ApiError> {
    params.only(&["by", "from", "to", "crime-type", "district", "area"])?;
    let (fields, filter, scope) = parse(&params.0).map_err(ApiError::BadRequest)?;
    // The question with its districts resolved, so that spellings of one question share an
    // answer and a changed partnership profile asks a new one.
    // Checked as the command line checks it: a period, district or crime type no record held
    // can answer is refused (422), not answered with rows that read as no crime.
    let filter = counts::resolve(&state.db, filter, scope).await?;
    let key = format!("{fields:?} {filter:?}");
    let (json, kept) = state
        .counts
        .get(&state.db, &key, || async {
            let rows = state.db.counts(&fields, &filter).await?;
            Ok::<_, ApiError>(Bytes::from(counts::counts_json(&fields, &filter, &rows)))
        })
        .await?;
    let mut response = Bytes::clone(&json).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_HEADER, HeaderValue::from_static(if kept { "hit" } else { "miss" }));
    Ok(response)
}

fn parse(params: &HashMap<String, String>) -> Result<(Vec<CountField>, CountFilter, Scope), String> {
    let by = params.get("by").ok_or("the parameter \"by\" is required, e.g. by=month,crime-type")?;
    let fields = CountField::parse_list(by)?;
    let month = |key: &str| -> Result<_, String> {
        params.get(key).map(|v| v.parse().map_err(|e| format!("parameter \"{key}\": {e}"))).transpose()
    };
    let district =
        params.get("district").map(|v| v.parse().map_err(|e| format!("parameter \"district\": {e}"))).transpose()?;
    let scope = match params.get("area").map(String::as_str) {
        None | Some("partnership") => Scope::Partnership,
        Some("everywhere") if district.is_none() => Scope::Everywhere,
        Some("everywhere") => {
            return Err("parameter \"area\": everywhere and a district cannot both be asked for".into())
        }
        Some(other) => return Err(format!("parameter \"area\": \"{other}\" is not partnership or everywhere")),
    };
    let filter = CountFilter {
        from: month("from")?,
        to: month("to")?,
        crime_type: params.get("crime-type").cloned(),
        districts: district.into_iter().collect(),
    };
    Ok((fields, filter, scope))
}
