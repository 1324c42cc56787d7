//! `POST /api/v1/imports/police?filename=2025-01-<force>-street.csv` with the file as
//! the raw request body (gzip allowed when the name ends `.gz`): the same import as
//! `alliance import police`, answering with the same per-file report as JSON:
//! `{"file": …, "status": "imported"|"unchanged"|"failed", "rows": …, "error": …}`
//! (200 when imported or unchanged, 422 when refused: nothing of a refused file is kept).
//! A session (administrator or analyst) or an API token with scope `upload:police` may call
//! it, and then only an administrator or the organisation that owns the police dataset
//! (`Supplier::may_supply_police`, as the web form asks): anyone else gets 403 before a byte
//! of the body is read. Every upload is audited.

use std::collections::HashMap;

use alliance_db::imports::ImportOutcome;
use alliance_db::DbError;
use alliance_ingest::SourceFile;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::ApiError;
use crate::auth::{Caller, ClientIp};
use crate::uploads::{supplier, Kind, Uploaded};
use crate::AppState;

/// The largest upload accepted: a month of a large force's street file is about 30 MB.
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;

pub async fn police(
    State(state): State<AppState>,
    Caller(who): Caller,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Result<Response, ApiError> {
    // Who may supply police data is asked before the body is read (the body is a stream
    // until then): another organisation's token, even with the scope, reads nothing.
    if !supplier(&who).may_supply_police(&state.db).await? {
        return Err(ApiError::Forbidden(
            "only an administrator, or the organisation that supplies police recorded crime, may upload police data"
                .into(),
        ));
    }
    let Some(name) = params.get("filename").map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Err(ApiError::BadRequest(
            "the parameter \"filename\" is required: the file's data.police.uk name, \
             YYYY-MM-FORCE-street.csv or YYYY-MM-FORCE-outcomes.csv (optionally .gz)"
                .into(),
        ));
    };
    if name.contains('/') || name.contains('\\') || !alliance_ingest::police::is_police_file_name(&name) {
        return Err(ApiError::BadRequest(format!(
            "\"{name}\" is not a data.police.uk file name: expected YYYY-MM-FORCE-street.csv or YYYY-MM-FORCE-outcomes.csv (optionally .gz)"
        )));
    }
    let body = axum::body::to_bytes(body, MAX_UPLOAD)
        .await
        .map_err(|_| ApiError::TooLarge(format!("a police file is at most {} MB", MAX_UPLOAD >> 20)))?;
    let file = SourceFile::from_bytes(&name, body.to_vec());
    let actor = who.audit_actor(&ip);
    // The import's future is not `Send` (it holds the parser's channel across awaits), so
    // it runs to completion on a blocking thread rather than on the request's task. The use
    // case audits the upload (in the import's own transaction when it changes data).
    let result = {
        let db = state.db.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            handle.block_on(async {
                let mut results = alliance_app::imports::police(&db, &actor, "import", &[file], &|_| {}).await?;
                Ok::<_, alliance_app::AppError>(results.pop())
            })
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??
        .ok_or_else(|| ApiError::Internal("the import returned no result".into()))?
    };
    let (status, report) = match result {
        Ok(ImportOutcome::Imported { import_id, counts, replaced, .. }) => (
            StatusCode::OK,
            serde_json::json!({ "file": name, "status": "imported", "import_id": import_id, "rows": counts.rows_read,
                "rows_without_location": counts.rows_without_location, "replaced": replaced }),
        ),
        Ok(ImportOutcome::Unchanged { import_id, .. }) => {
            (StatusCode::OK, serde_json::json!({ "file": name, "status": "unchanged", "import_id": import_id }))
        }
        Ok(ImportOutcome::Skipped { reason }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, serde_json::json!({ "file": name, "status": "failed", "error": reason }))
        }
        Err(DbError::Ingest(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({ "file": name, "status": "failed", "error": e.to_string() }),
        ),
        Err(e) => return Err(e.into()),
    };
    Ok((status, Json(report)).into_response())
}

/// `POST /api/v1/imports/ed?filename=…` and `POST /api/v1/imports/indicators?filename=…`
/// with the file as the raw body: the same import and checks as the web form
/// (`crate::uploads`), of the dataset `kind` the route names. 200 with the report
/// when imported or unchanged; 422 with `{"file", "status": "failed", "error"}` when the file
/// is refused (nothing imported); 403 when the caller's organisation does not supply the
/// dataset.
pub async fn partner(
    kind: Kind,
    State(state): State<AppState>,
    Caller(who): Caller,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(name) = params.get("filename").map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Err(ApiError::BadRequest(
            "the parameter \"filename\" is required, e.g. ?filename=ed-2025-01.csv".into(),
        ));
    };
    if name.contains('/') || name.contains('\\') {
        return Err(ApiError::BadRequest(format!("\"{name}\" is a path: give the file's name only")));
    }
    Ok(match crate::uploads::import(&state, &who, &ip, kind, &name, body.to_vec()).await? {
        Uploaded::Done { report, .. } => (StatusCode::OK, Json(report)).into_response(),
        Uploaded::Refused(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "file": name, "status": "failed", "error": e })),
        )
            .into_response(),
        // A refusal of the caller, not of the file: a problem document, as every 403 of the API.
        Uploaded::NotSupplier(e) => return Err(ApiError::Forbidden(e)),
    })
}
