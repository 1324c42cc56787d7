//! Partner data uploads, shared by the web form (`/partner-data/upload`) and the API
//! (`POST /api/v1/imports/ed`, `/api/v1/imports/indicators`): the import use case of the
//! command line (`alliance_app::imports::partner_file`: the supplier authorised before the
//! file is read, the same line- or element-level message for a bad file, one audit row per
//! upload, refused or not, written with the data when it changes data). This module only
//! turns the signed-in caller into a supplier and the outcome into a sentence and a report.

use alliance_app::imports::{self, PartnerImported, Supplier};
use alliance_core::access::Role;
use alliance_db::imports::ImportOutcome;
use alliance_db::DbError;
use alliance_ingest::SourceFile;

use crate::auth::Principal;
use crate::AppState;

pub use alliance_app::imports::PartnerKind as Kind;

/// The largest partner file accepted through the web or the API.
pub const MAX_PARTNER_UPLOAD: usize = 64 * 1024 * 1024;

/// What happened to an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploaded {
    /// Imported or unchanged: a sentence for the person and the JSON report's fields.
    Done { message: String, report: serde_json::Value },
    /// The file was refused (bad name, bad content): nothing was imported.
    Refused(String),
    /// The caller's organisation does not supply the dataset.
    NotSupplier(String),
}

/// The supplier a signed-in caller uploads as.
pub fn supplier(who: &Principal) -> Supplier {
    Supplier::Organisation { org_id: who.org_id(), administrator: who.role() == Some(Role::Administrator) }
}

/// Imports one uploaded file for `who`, auditing the attempt whatever its outcome.
pub async fn import(
    state: &AppState,
    who: &Principal,
    ip: &str,
    kind: Kind,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Uploaded, DbError> {
    let name = name.trim().rsplit(['/', '\\']).next().unwrap_or_default().to_string();
    let file = SourceFile::from_bytes(&name, bytes);
    let result = imports::partner_file(&state.db, &who.audit_actor(ip), supplier(who), kind, &file).await;
    Ok(match result.map_err(into_db)? {
        PartnerImported::Done {
            outcome: ImportOutcome::Imported { import_id, counts, replaced, .. },
            ed,
            datasets,
        } => {
            let synthetic = ed.as_ref().is_some_and(|r| r.synthetic);
            Uploaded::Done {
                message: format!(
                    "{name}{}: imported as import {import_id}, {} {}{}",
                    if synthetic { " (SYNTHETIC)" } else { "" },
                    counts.rows_read,
                    if kind == Kind::Ed { "assaults" } else { "values" },
                    replaced.map(|r| format!(", replacing import {r}")).unwrap_or_default()
                ),
                report: serde_json::json!({ "file": name, "status": "imported", "import_id": import_id,
                    "rows": counts.rows_read, "replaced": replaced, "synthetic": synthetic,
                    "geocoding": ed.map(|r| r.geocoding), "datasets": datasets }),
            }
        }
        PartnerImported::Done { outcome: ImportOutcome::Unchanged { import_id, .. }, .. } => Uploaded::Done {
            message: format!("{name}: unchanged, already import {import_id}"),
            report: serde_json::json!({ "file": name, "status": "unchanged", "import_id": import_id }),
        },
        PartnerImported::Done { outcome: ImportOutcome::Skipped { reason }, .. } => Uploaded::Refused(reason),
        PartnerImported::Refused(e) => Uploaded::Refused(e),
        PartnerImported::NotSupplier(e) => Uploaded::NotSupplier(e),
    })
}

/// The use case's errors as the storage errors the pages and the API already handle (it
/// returns faults only: refusals are outcomes).
fn into_db(e: alliance_app::AppError) -> DbError {
    use alliance_app::AppError;
    match e {
        AppError::Db(e) => e,
        AppError::Invalid { field, reason } => DbError::invalid(field, reason),
        AppError::NotFound { what } => DbError::not_found(what),
        AppError::Conflict { field, reason } => DbError::conflict(field, reason),
        other => DbError::Task(other.to_string()),
    }
}
