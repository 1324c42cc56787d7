//! Police and area imports on the web, the same import as `alliance import police|areas`
//! (`alliance_app::imports`): `GET /imports/upload` offers the forms a user may use;
//! `POST /imports/police` takes data.police.uk files or a data.police.uk download zip (read
//! in memory, never unpacked to disk); `POST /imports/areas` takes area reference files.
//! Both answer with the result of each file: rows imported, unchanged, or the error naming
//! file, line and field (a refused file imports nothing; the others go on).
//!
//! Who may upload is decided before the body is read: police files by administrators and
//! users of the organisation that supplies the police dataset
//! (`Supplier::may_supply_police`), area files by administrators
//! (`Supplier::may_supply_areas`); the route table admits partnership staff only. Every
//! file's attempt is audited (`import police`, `import areas`).

use std::sync::Arc;

use alliance_app::imports::{self, AreaFileFrom};
use alliance_db::imports::ImportOutcome;
use alliance_db::DbError;
use alliance_ingest::SourceFile;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;

use crate::auth::{Caller, ClientIp, Principal};
use crate::error::{bad_request, forbidden};
use crate::uploads::supplier;
use crate::views::Layout;
use crate::{AppState, PageError};

/// The largest upload: a data.police.uk download zip of a force's year is about 30 MB.
pub const MAX_IMPORT_UPLOAD: usize = 256 * 1024 * 1024;

const POLICE_ACTION: &str = "import police";
const AREAS_ACTION: &str = "import areas";

#[derive(Template)]
#[template(path = "imports_upload.html")]
struct UploadPage {
    layout: Layout,
    may_police: bool,
    may_areas: bool,
}

/// One file's result.
pub struct FileResult {
    pub file: String,
    /// `Imported`, `Unchanged`, `Not imported`.
    pub status: &'static str,
    pub rows: Option<i64>,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "imports_result.html")]
struct ResultPage {
    layout: Layout,
    kind: &'static str,
    results: Vec<FileResult>,
    imported: usize,
    unchanged: usize,
    failed: usize,
    rows: i64,
    skipped: Vec<String>,
}

async fn form(State(state): State<AppState>, Caller(who): Caller) -> Result<Response, PageError> {
    let s = supplier(&who);
    let page = UploadPage {
        layout: Layout::new(&state, "/imports"),
        may_police: s.may_supply_police(&state.db).await?,
        may_areas: s.may_supply_areas(),
    };
    Ok(Html(page.render()?).into_response())
}

/// The uploaded files (`file` fields, any number), in memory.
async fn read_files(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Vec<(String, Arc<[u8]>)>, PageError> {
    let read = async {
        let mut files = Vec::new();
        let mut multipart = multipart.map_err(|e| e.to_string())?;
        while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or_default().trim().rsplit(['/', '\\']).next().unwrap_or_default();
                let name = name.to_string();
                let bytes = field.bytes().await.map_err(|e| e.to_string())?;
                if !name.is_empty() || !bytes.is_empty() {
                    files.push((name, Arc::from(bytes.to_vec())));
                }
            }
        }
        Ok::<_, String>(files)
    };
    read.await.map_err(|e| {
        tracing::debug!(error = %e, "import upload refused");
        bad_request("The upload could not be read. Choose the files again and send the form again.")
    })
}

fn outcome_row(file: &str, result: &Result<ImportOutcome, DbError>) -> Result<FileResult, DbError> {
    let file = file.to_string();
    Ok(match result {
        Ok(ImportOutcome::Imported { import_id, counts, replaced, .. }) => FileResult {
            file,
            status: "Imported",
            rows: Some(counts.rows_read),
            detail: format!(
                "import {import_id}{}{}",
                replaced.map(|r| format!(", replacing import {r}")).unwrap_or_default(),
                if counts.rows_without_location > 0 {
                    format!(", {} rows without a location", counts.rows_without_location)
                } else {
                    String::new()
                }
            ),
        },
        Ok(ImportOutcome::Unchanged { import_id, .. }) => {
            FileResult { file, status: "Unchanged", rows: None, detail: format!("already import {import_id}") }
        }
        Ok(ImportOutcome::Skipped { reason }) => {
            FileResult { file, status: "Not imported", rows: None, detail: reason.clone() }
        }
        Err(DbError::Ingest(e)) => FileResult { file, status: "Not imported", rows: None, detail: e.to_string() },
        Err(e) if e.is_input_error() => FileResult { file, status: "Not imported", rows: None, detail: e.to_string() },
        Err(other) => return Err(DbError::Task(other.to_string())),
    })
}

fn refused(file: &str, detail: String) -> FileResult {
    FileResult { file: file.to_string(), status: "Not imported", rows: None, detail }
}

fn result_page(
    state: &AppState,
    kind: &'static str,
    results: Vec<FileResult>,
    skipped: Vec<String>,
) -> Result<Response, PageError> {
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    let (imported, unchanged, failed) = (count("Imported"), count("Unchanged"), count("Not imported"));
    let rows = results.iter().filter_map(|r| r.rows).sum();
    let status = if imported + unchanged == 0 { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = ResultPage {
        layout: Layout::new(state, "/imports"),
        kind,
        results,
        imported,
        unchanged,
        failed,
        rows,
        skipped,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn audit_refusal(state: &AppState, who: &Principal, ip: &str, action: &str, file: &str, why: &str) {
    let actor = who.audit_actor(ip);
    let target = if file.is_empty() { "(no file)".to_string() } else { imports::excerpt(file, 200) };
    let detail = imports::excerpt(&format!("FAILED: {why}"), imports::MAX_AUDIT_DETAIL);
    if let Err(e) = state.db.audit(&actor.event(action, &target, &detail)).await {
        tracing::error!(error = %e, "the refused upload could not be audited");
    }
}

async fn police(
    State(state): State<AppState>,
    Caller(who): Caller,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    // Before a byte of the body is read.
    if !supplier(&who).may_supply_police(&state.db).await? {
        return Err(forbidden(
            "Only an administrator, or a user of the organisation that supplies police recorded crime, may import police \
             data.",
        ));
    }
    let uploads = read_files(multipart).await?;
    let mut results = Vec::new();
    let mut skipped = Vec::new();
    let mut sources: Vec<SourceFile> = Vec::new();
    let mut from: Vec<String> = Vec::new();
    if uploads.is_empty() {
        results.push(refused("", "Choose a file to upload".into()));
    }
    for (name, bytes) in uploads {
        match imports::police_upload(&name, bytes) {
            Ok((files, passed_over)) => {
                let label = if alliance_ingest::archive::is_zip_file_name(&name) {
                    format!(" (in {name})")
                } else {
                    String::new()
                };
                for f in files {
                    from.push(format!("{}{label}", f.name));
                    sources.push(f);
                }
                skipped.extend(passed_over.into_iter().map(|s| format!("{s} (in {name})")));
            }
            Err(e) => {
                audit_refusal(&state, &who, &ip, POLICE_ACTION, &name, &e.to_string()).await;
                results.push(refused(&name, e.to_string()));
            }
        }
    }
    if !sources.is_empty() {
        let actor = who.audit_actor(&ip);
        let db = state.db.clone();
        let handle = tokio::runtime::Handle::current();
        let files = sources.clone();
        // The run's future is not `Send` (it holds the parser's channel across awaits): it
        // runs to completion on a blocking thread, as the API's upload does.
        let outcomes = tokio::task::spawn_blocking(move || {
            handle.block_on(async { imports::police(&db, &actor, POLICE_ACTION, &files, &|_| {}).await })
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))??;
        for (label, outcome) in from.iter().zip(&outcomes) {
            results.push(outcome_row(label, outcome)?);
        }
    }
    result_page(&state, "police", results, skipped)
}

async fn areas(
    State(state): State<AppState>,
    Caller(who): Caller,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    // Before a byte of the body is read.
    if !supplier(&who).may_supply_areas() {
        return Err(forbidden("Only an administrator may import area reference data."));
    }
    let uploads = read_files(multipart).await?;
    let mut results = Vec::new();
    if uploads.is_empty() {
        results.push(refused("", "Choose a file to upload".into()));
    }
    let actor = who.audit_actor(&ip);
    for (name, bytes) in uploads {
        if !alliance_ingest::areas::is_area_file_name(&name) {
            let why = format!(
                "{name}: not an area file Alliance recognises (district names, IMD or WIMD, population, or LSOA and \
                 ward boundaries as .csv, .csv.gz, .geojson or .geojson.gz)"
            );
            audit_refusal(&state, &who, &ip, AREAS_ACTION, &name, &why).await;
            results.push(refused(&name, why));
            continue;
        }
        let file = SourceFile::from_bytes(&name, bytes);
        // As for police files: the import's future is not `Send`, so it runs on a blocking thread.
        let (db, who_acts, handle) = (state.db.clone(), actor.clone(), tokio::runtime::Handle::current());
        let outcome = tokio::task::spawn_blocking(move || {
            handle.block_on(async { imports::areas(&db, &who_acts, &file, AreaFileFrom::Chosen).await })
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))??;
        results.push(outcome_row(&name, &outcome)?);
    }
    result_page(&state, "area", results, Vec::new())
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/imports/upload", get(form))
        .route("/imports/police", post(police).layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT_UPLOAD)))
        .route("/imports/areas", post(areas).layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT_UPLOAD)))
}

#[cfg(test)]
mod tests {
    use alliance_app::imports::Supplier;

    #[test]
    fn administrators_alone_import_areas() {
        assert!(Supplier::Organisation { org_id: 1, administrator: true }.may_supply_areas());
        assert!(!Supplier::Organisation { org_id: 1, administrator: false }.may_supply_areas());
        assert!(Supplier::Operator.may_supply_areas());
    }
}
