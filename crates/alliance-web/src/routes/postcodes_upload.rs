//! Postcodes on the web, the same import as `alliance import postcodes`
//! (`alliance_app::postcodes`): `GET /admin/postcodes` offers the form and says how many
//! postcodes are held; `POST /admin/postcodes` takes one ONS Postcode Directory or Code-Point
//! Open CSV (optionally `.gz`).
//!
//! Administrators only: the route table refuses anyone else before a byte of the body is read.
//! The body is streamed to a temporary file, never held in memory, up to
//! [`AppState::postcode_upload_limit`] (2 GiB unless `serve --postcode-upload-limit-mb` says
//! otherwise: the national ONSPD is about 1.3 GB). The router's body limit is lifted on this
//! route only; the handler enforces this bound itself, from the declared length before reading
//! and from the bytes counted while reading. A bad file is refused with the command line's
//! message (file, line, column, reason) as a 422, and nothing is stored; every attempt the
//! importer sees is audited (`import postcodes`).

use std::io::Write;

use alliance_app::postcodes::{self, Keep};
use alliance_db::DbError;
use alliance_ingest::SourceFile;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::RequestExt;

use crate::auth::CurrentUser;
use crate::error::bad_request;
use crate::forms::{error, FieldError};
use crate::views::Layout;
use crate::{AppState, PageError};

/// The default bound on an upload: room for the whole ONS Postcode Directory (about 1.3 GB).
pub const DEFAULT_POSTCODE_UPLOAD_LIMIT: u64 = 2 << 30;

/// Bytes gathered before they are written to the temporary file (off the async threads).
const WRITE_BATCH: usize = 1 << 20;

#[derive(Template)]
#[template(path = "admin_postcodes.html")]
struct PostcodesPage {
    layout: Layout,
    held: i64,
    limit: String,
    errors: Vec<FieldError>,
    /// What the last upload did, in a sentence.
    done: Option<String>,
}

fn limit_text(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GB", bytes >> 30)
    } else {
        format!("{} MB", (bytes >> 20).max(1))
    }
}

async fn page(
    state: &AppState,
    status: StatusCode,
    errors: Vec<FieldError>,
    done: Option<String>,
) -> Result<Response, PageError> {
    let page = PostcodesPage {
        layout: Layout::new(state, "/admin/postcodes"),
        held: state.db.postcode_count().await?,
        limit: limit_text(state.postcode_upload_limit),
        errors,
        done,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn form(State(state): State<AppState>) -> Result<Response, PageError> {
    page(&state, StatusCode::OK, Vec::new(), None).await
}

/// The uploaded file, streamed to a temporary file: its name as uploaded, the file, and
/// whether every postcode should be kept (`keep=all`; otherwise the partnership's districts).
struct Upload {
    name: String,
    file: tempfile::NamedTempFile,
    all: bool,
}

/// Why an upload could not be read.
enum Unread {
    TooLarge,
    NoFile,
    Broken(String),
    Fault(std::io::Error),
}

async fn receive(request: Request, limit: u64) -> Result<Upload, Unread> {
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Unread::TooLarge);
    }
    let mut multipart = request.extract::<Multipart, _>().await.map_err(|e| Unread::Broken(e.to_string()))?;
    let mut upload: Option<(String, tempfile::NamedTempFile)> = None;
    let mut all = false;
    let mut read: u64 = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| Unread::Broken(e.to_string()))? {
        match field.name() {
            Some("keep") => all = field.text().await.map_err(|e| Unread::Broken(e.to_string()))?.trim() == "all",
            Some("file") if upload.is_none() => {
                let name = field.file_name().unwrap_or_default().trim().rsplit(['/', '\\']).next().unwrap_or_default();
                let name = if name.is_empty() { "the uploaded file".to_string() } else { name.to_string() };
                let mut file = tempfile::NamedTempFile::new().map_err(Unread::Fault)?;
                let mut batch: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
                let mut written = 0u64;
                loop {
                    let chunk = field.chunk().await.map_err(|e| Unread::Broken(e.to_string()))?;
                    let last = chunk.is_none();
                    if let Some(bytes) = &chunk {
                        read += bytes.len() as u64;
                        if read > limit {
                            return Err(Unread::TooLarge);
                        }
                        batch.extend_from_slice(bytes);
                    }
                    if batch.len() >= WRITE_BATCH || (last && !batch.is_empty()) {
                        written += batch.len() as u64;
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(WRITE_BATCH));
                        file = tokio::task::spawn_blocking(move || {
                            file.write_all(&full)?;
                            Ok::<_, std::io::Error>(file)
                        })
                        .await
                        .map_err(|e| Unread::Fault(std::io::Error::other(e)))?
                        .map_err(Unread::Fault)?;
                    }
                    if last {
                        break;
                    }
                }
                if written > 0 {
                    upload = Some((name, file));
                }
            }
            // Other fields (the CSRF token, checked by the guard) are passed over unread.
            _ => {}
        }
    }
    let (name, file) = upload.ok_or(Unread::NoFile)?;
    Ok(Upload { name, file, all })
}

/// `POST /admin/postcodes` (multipart: `csrf_token`, `keep`, `file`).
async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    request: Request,
) -> Result<Response, PageError> {
    let limit = state.postcode_upload_limit;
    let upload = match receive(request, limit).await {
        Ok(u) => u,
        Err(Unread::TooLarge) => {
            return Err(PageError::TooLarge(format!(
                "A postcode file may be up to {}: this one is larger, and nothing was stored",
                limit_text(limit)
            )))
        }
        Err(Unread::NoFile) => {
            let errors = vec![error("file", "Choose a postcode file (ONS Postcode Directory or Code-Point Open CSV)")];
            return page(&state, StatusCode::UNPROCESSABLE_ENTITY, errors, None).await;
        }
        Err(Unread::Broken(e)) => {
            tracing::debug!(error = %e, "postcode upload refused");
            return Err(bad_request("The upload could not be read. Choose the file again and send the form again."));
        }
        Err(Unread::Fault(e)) => return Err(PageError::Db(DbError::Task(format!("postcode upload: {e}")))),
    };
    // A zip (Code-Point Open comes as one, a CSV per postcode area) is not read: the
    // importer takes one CSV, which replaces every postcode held.
    let head = std::fs::File::open(upload.file.path()).and_then(|mut f| {
        let mut magic = [0u8; 4];
        std::io::Read::read(&mut f, &mut magic).map(|n| magic[..n].to_vec())
    });
    if head.is_ok_and(|m| m == b"PK\x03\x04") {
        let message = format!(
            "{} is a zip: upload one CSV (the ONS Postcode Directory's, or Code-Point Open's area files joined into one)",
            upload.name
        );
        return page(&state, StatusCode::UNPROCESSABLE_ENTITY, vec![error("file", message)], None).await;
    }
    let mut file = SourceFile::from_path(upload.file.path()).with_limits(alliance_ingest::postcodes::limits());
    file.name = upload.name.clone();
    let keep = if upload.all { Keep::All } else { Keep::PartnershipArea };
    let actor = crate::auth::actor(&user);
    let result = postcodes::import(&state.db, &actor, &file, &keep).await?;
    drop(upload.file);
    match result {
        Ok(done) => page(&state, StatusCode::OK, Vec::new(), Some(done.summary(&file.name))).await,
        Err(e) if matches!(e, DbError::Ingest(_)) || e.is_input_error() => {
            page(&state, StatusCode::UNPROCESSABLE_ENTITY, vec![error("file", e.to_string())], None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/admin/postcodes",
        // The router's body bound is lifted here only: `upload` enforces the configured one.
        get(form).post(upload).layer(DefaultBodyLimit::disable()),
    )
}
