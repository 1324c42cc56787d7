//! `GET /api/v1/datasets`: every dataset with the caller's level of access to it, as
//! decided by the one access check (`auth::access::dataset_access`).

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use super::ApiError;
use crate::auth::access::dataset_access;
use crate::auth::Caller;
use crate::AppState;

pub async fn get(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Value>, ApiError> {
    let mut rows = Vec::new();
    for d in state.db.datasets().await? {
        let level = dataset_access(&state, &who, &d.slug).await?;
        rows.push(serde_json::json!({
            "dataset": d.slug,
            "name": d.name,
            "owner": d.owner_name,
            "open_data": d.open_data,
            "access": level,
        }));
    }
    Ok(Json(serde_json::json!({ "datasets": rows })))
}
