//! `GET /api/v1/counts?by=month,crime-type&from=YYYY-MM&to=YYYY-MM&crime-type=T&district=CODE`

use std::collections::HashMap;

use alliance_core::domain::{CountField, CountFilter};
use axum::extract::State;
use axum::Json;
use serde_json::Value;

use super::ApiError;
use crate::extract::ApiQuery;
use crate::AppState;

pub async fn get(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let (fields, filter) = parse(&params).map_err(ApiError::BadRequest)?;
    let rows = state.db.counts(&fields, &filter).await?;
    Ok(Json(alliance_app::counts::counts_value(&fields, &rows)))
}

fn parse(params: &HashMap<String, String>) -> Result<(Vec<CountField>, CountFilter), String> {
    for key in params.keys() {
        if !["by", "from", "to", "crime-type", "crime_type", "district"].contains(&key.as_str()) {
            return Err(format!("unknown parameter \"{key}\": expected by, from, to, crime-type, district"));
        }
    }
    let by = params.get("by").ok_or("the parameter \"by\" is required, e.g. by=month,crime-type")?;
    let fields = CountField::parse_list(by)?;
    let month = |key: &str| -> Result<_, String> {
        params.get(key).map(|v| v.parse().map_err(|e| format!("parameter \"{key}\": {e}"))).transpose()
    };
    let district =
        params.get("district").map(|v| v.parse().map_err(|e| format!("parameter \"district\": {e}"))).transpose()?;
    let filter = CountFilter {
        from: month("from")?,
        to: month("to")?,
        crime_type: params.get("crime-type").or_else(|| params.get("crime_type")).cloned(),
        district,
    };
    Ok((fields, filter))
}
