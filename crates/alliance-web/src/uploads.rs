//! Partner data uploads, shared by the web form (`/partner-data/upload`) and the API
//! (`POST /api/v1/imports/ed`, `/api/v1/imports/indicators`): the same import code as the
//! CLI (`Db::import_ed_file`, `Db::import_indicator_file`), the same line- or element-level
//! message for a bad file, and one audit row per upload, refused or not.

use alliance_core::access::indicator_dataset;
use alliance_db::audit::AuditEvent;
use alliance_db::imports::ImportOutcome;
use alliance_db::DbError;
use alliance_ingest::SourceFile;

use crate::auth::access::may_supply;
use crate::auth::Principal;
use crate::AppState;

/// The largest partner file accepted through the web or the API.
pub const MAX_PARTNER_UPLOAD: usize = 64 * 1024 * 1024;

/// Which importer a file goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ed,
    Indicators,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "ed" => Some(Kind::Ed),
            "indicators" => Some(Kind::Indicators),
            _ => None,
        }
    }

    fn accepts(self, name: &str) -> bool {
        match self {
            Kind::Ed => alliance_ingest::ed::is_ed_file_name(name),
            Kind::Indicators => alliance_ingest::indicators::is_indicator_file_name(name),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::Ed => "an ED assault file ends .csv or .xml (optionally .gz)",
            Kind::Indicators => "an indicator file ends .csv (optionally .gz) or .xlsx",
        }
    }
}

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
    let result = import_checked(state, who, kind, &name, bytes).await?;
    let detail = match &result {
        Uploaded::Done { message, .. } => message.clone(),
        Uploaded::Refused(e) => format!("refused: {e}"),
        Uploaded::NotSupplier(e) => format!("refused: {e}"),
    };
    let action = match kind {
        Kind::Ed => "import ed",
        Kind::Indicators => "import indicators",
    };
    let target = if name.is_empty() { "(no file)" } else { name.as_str() };
    state.db.audit(&AuditEvent { actor: &who.actor(), action, target, detail: &detail, ip }).await?;
    Ok(result)
}

async fn import_checked(
    state: &AppState,
    who: &Principal,
    kind: Kind,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Uploaded, DbError> {
    if name.is_empty() || bytes.is_empty() {
        return Ok(Uploaded::Refused("Choose a file to upload".into()));
    }
    if !kind.accepts(name) {
        return Ok(Uploaded::Refused(format!("{name}: {}", kind.expected())));
    }
    let file = SourceFile::from_bytes(name, bytes);
    // Which datasets the file supplies: ED files one; indicator files one per indicator's domain.
    let datasets: Vec<&'static str> = match kind {
        Kind::Ed => vec!["ed-assaults"],
        Kind::Indicators => {
            let parsed = {
                let file = file.clone();
                tokio::task::spawn_blocking(move || alliance_ingest::indicators::read_indicator_file(&file))
                    .await
                    .map_err(|e| DbError::Task(e.to_string()))?
            };
            match parsed {
                Ok(values) => {
                    let mut d: Vec<&'static str> = values.iter().map(|v| indicator_dataset(&v.indicator)).collect();
                    d.sort_unstable();
                    d.dedup();
                    d
                }
                Err(e) => return Ok(Uploaded::Refused(e.to_string())),
            }
        }
    };
    for d in &datasets {
        if !may_supply(state, who, d).await? {
            return Ok(Uploaded::NotSupplier(format!(
                "your organisation does not supply the dataset {d}: only its owner organisation or an administrator may upload it"
            )));
        }
    }
    let actor = who.actor();
    let db = state.db.clone();
    let outcome = match kind {
        Kind::Ed => db.import_ed_file(&file, &actor).await.map(|r| (r.outcome, Some(r.geocoding), r.synthetic)),
        Kind::Indicators => db.import_indicator_file(&file, &actor).await.map(|o| (o, None, false)),
    };
    Ok(match outcome {
        Ok((ImportOutcome::Imported { import_id, counts, replaced, .. }, geocoding, synthetic)) => Uploaded::Done {
            message: format!(
                "{name}{}: imported as import {import_id}, {} {}{}",
                if synthetic { " (SYNTHETIC)" } else { "" },
                counts.rows_read,
                if kind == Kind::Ed { "assaults" } else { "values" },
                replaced.map(|r| format!(", replacing import {r}")).unwrap_or_default()
            ),
            report: serde_json::json!({ "file": name, "status": "imported", "import_id": import_id,
                "rows": counts.rows_read, "replaced": replaced, "synthetic": synthetic, "geocoding": geocoding,
                "datasets": datasets }),
        },
        Ok((ImportOutcome::Unchanged { import_id, .. }, _, _)) => Uploaded::Done {
            message: format!("{name}: unchanged, already import {import_id}"),
            report: serde_json::json!({ "file": name, "status": "unchanged", "import_id": import_id }),
        },
        Ok((ImportOutcome::Skipped { reason }, _, _)) => Uploaded::Refused(reason),
        Err(DbError::Ingest(e)) => Uploaded::Refused(e.to_string()),
        Err(e) => return Err(e),
    })
}
