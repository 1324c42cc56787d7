//! The import use case: police, area, emergency department (ED) and partner indicator files,
//! from the command line (`alliance import …`), the web form (`/partner-data/upload`) and the
//! API (`POST /api/v1/imports/…`). Every front end calls these functions, so they authorise,
//! import and audit alike:
//!
//! 1. **Authorisation before any parsing**: a partner file is read only once its supplier may
//!    supply the dataset ([`Supplier::may_supply`]); an indicator file, whose datasets are
//!    known only from its rows, is read only when the supplier owns some indicator dataset,
//!    and then each row's dataset is checked as soon as the row is read (bounded reading up
//!    to it), so the first row of a dataset the supplier does not supply ends the reading.
//! 2. **The import**: each file in one transaction of the storage layer, which reads the unit's
//!    current import inside that transaction, so two imports of the same files at once store
//!    each file once (`alliance_db::imports`).
//! 3. **The audit row**: an import that changes data writes its row in its own transaction
//!    (stored together or not at all); an attempt that changes nothing (unchanged, refused,
//!    failed) is recorded after it, with the reason cut to [`MAX_AUDIT_DETAIL`] characters.

use alliance_core::access::indicator_dataset;
use alliance_db::audit::Actor;
use alliance_db::imports::{ImportAudit, ImportOutcome};
use alliance_db::partner::ed::EdImportReport;
use alliance_db::partner::indicators::IndicatorSupplier;
use alliance_db::police::RunProgress;
use alliance_db::{Db, DbError};
use alliance_ingest::SourceFile;

use crate::AppError;

/// The longest audit detail written for an attempt: enough for file, line, field and reason,
/// never a whole offending value.
pub const MAX_AUDIT_DETAIL: usize = 500;

/// The dataset an ED file supplies.
pub const ED_DATASET: &str = "ed-assaults";

/// Who supplies a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supplier {
    /// The operator at the command line, who may import anything.
    Operator,
    /// A signed-in user or API token of an organisation.
    Organisation { org_id: i64, administrator: bool },
}

impl Supplier {
    /// Whether this supplier may upload `dataset`: the operator and administrators may; an
    /// organisation only the datasets it owns.
    pub async fn may_supply(self, db: &Db, dataset: &str) -> Result<bool, DbError> {
        match self {
            Supplier::Operator | Supplier::Organisation { administrator: true, .. } => Ok(true),
            Supplier::Organisation { org_id, .. } => {
                Ok(db.dataset(dataset).await?.is_some_and(|d| d.owner_org_id == Some(org_id)))
            }
        }
    }

    /// The indicator datasets this supplier may upload, checked before an indicator file is
    /// read: `None` for every dataset (the operator, administrators), else those its
    /// organisation owns (none: the file is refused unread).
    async fn indicator_datasets(self, db: &Db) -> Result<Option<Vec<String>>, DbError> {
        match self {
            Supplier::Operator | Supplier::Organisation { administrator: true, .. } => Ok(None),
            Supplier::Organisation { org_id, .. } => Ok(Some(
                db.datasets()
                    .await?
                    .into_iter()
                    .filter(|d| d.slug.starts_with("indicators:") && d.owner_org_id == Some(org_id))
                    .map(|d| d.slug)
                    .collect(),
            )),
        }
    }

    fn indicator_supplier(self) -> IndicatorSupplier {
        match self {
            Supplier::Operator => IndicatorSupplier::Operator,
            Supplier::Organisation { org_id, .. } => IndicatorSupplier::Organisation(org_id),
        }
    }
}

/// `text` cut to `max` characters (on a character boundary), marked when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// What the audit row of an attempt that changed nothing says.
fn unchanged_detail(outcome: &Result<ImportOutcome, DbError>) -> Option<String> {
    match outcome {
        Ok(ImportOutcome::Imported { .. }) => None,
        Ok(ImportOutcome::Unchanged { import_id, .. }) => Some(format!("unchanged: already import {import_id}")),
        Ok(ImportOutcome::Skipped { reason }) => Some(format!("skipped: {reason}")),
        Err(e) => Some(format!("FAILED: {e}")),
    }
}

/// Records an attempt that changed no data.
async fn audit_attempt(db: &Db, actor: &Actor, action: &str, file: &str, detail: &str) -> Result<(), DbError> {
    let target = if file.is_empty() { "(no file)" } else { file };
    db.audit(&actor.event(action, &excerpt(target, 200), &excerpt(detail, MAX_AUDIT_DETAIL))).await?;
    Ok(())
}

/// One file of a police run: its result, and why its attempt could not be audited when the
/// row recording an attempt that changed nothing (unchanged, refused, failed) was not written.
#[derive(Debug)]
pub struct PoliceFile {
    pub result: Result<ImportOutcome, DbError>,
    pub not_audited: Option<DbError>,
}

/// Imports data.police.uk files as one run (see `Db::import_police_files_audited`), auditing
/// each file under `action` (`import police` on the command line): returns each file's result
/// in the order given. A file whose attempt's audit row cannot be written (a full disk, a
/// failing audit log) is reported with it and the others are still audited, so a command
/// line run says what became of every file. `Err` only when the database could not be used.
pub async fn police_files(
    db: &Db,
    actor: &Actor,
    action: &'static str,
    files: &[SourceFile],
    on_progress: &(dyn Fn(RunProgress) + Send + Sync),
) -> Result<Vec<PoliceFile>, AppError> {
    let audit = ImportAudit::new(actor.clone(), action);
    let results = db.import_police_files_audited(files, &audit, on_progress).await?;
    let mut out = Vec::with_capacity(results.len());
    for (file, result) in files.iter().zip(results) {
        let not_audited = match unchanged_detail(&result) {
            // On a full disk the attempt's row cannot be written either: say which database.
            Some(detail) => {
                audit_attempt(db, actor, action, &file.name, &detail).await.map_err(|e| db.storage_error(e)).err()
            }
            None => None,
        };
        out.push(PoliceFile { result, not_audited });
    }
    Ok(out)
}

/// [`police_files`] for a request that answers as a whole (the web form, the API): an attempt
/// that could not be audited makes the request fail (after every file's row was tried).
pub async fn police(
    db: &Db,
    actor: &Actor,
    action: &'static str,
    files: &[SourceFile],
    on_progress: &(dyn Fn(RunProgress) + Send + Sync),
) -> Result<Vec<Result<ImportOutcome, DbError>>, AppError> {
    let mut run = police_files(db, actor, action, files, on_progress).await?;
    if let Some(e) = run.iter_mut().find_map(|f| f.not_audited.take()) {
        return Err(e.into());
    }
    Ok(run.into_iter().map(|f| f.result).collect())
}

/// How an area file came to be imported, which decides what one Alliance does not
/// recognise is: a failure when someone chose the file (uploaded it or named it on the
/// command line), or skipped when it was met in a folder beside the files wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaFileFrom {
    Chosen,
    Folder,
}

/// Imports one area reference file, audited as `import areas`. The inner result is the file's.
/// A chosen file Alliance does not recognise is audited as `FAILED`, as the person who chose it
/// is told; one met in a folder as `skipped`.
pub async fn areas(
    db: &Db,
    actor: &Actor,
    file: &SourceFile,
    from: AreaFileFrom,
) -> Result<Result<ImportOutcome, DbError>, AppError> {
    const ACTION: &str = "import areas";
    let result = db.import_area_file_audited(file, &ImportAudit::new(actor.clone(), ACTION)).await;
    let detail = match (&result, from) {
        (Ok(ImportOutcome::Skipped { reason }), AreaFileFrom::Chosen) => Some(format!("FAILED: {reason}")),
        _ => unchanged_detail(&result),
    };
    if let Some(detail) = detail {
        audit_attempt(db, actor, ACTION, &file.name, &detail).await?;
    }
    Ok(result)
}

/// Which partner importer a file goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerKind {
    Ed,
    Indicators,
}

impl PartnerKind {
    pub fn parse(s: &str) -> Option<PartnerKind> {
        match s {
            "ed" => Some(PartnerKind::Ed),
            "indicators" => Some(PartnerKind::Indicators),
            _ => None,
        }
    }

    /// The audit action of its imports.
    pub fn action(self) -> &'static str {
        match self {
            PartnerKind::Ed => "import ed",
            PartnerKind::Indicators => "import indicators",
        }
    }

    fn accepts(self, name: &str) -> bool {
        match self {
            PartnerKind::Ed => alliance_ingest::ed::is_ed_file_name(name),
            PartnerKind::Indicators => alliance_ingest::indicators::is_indicator_file_name(name),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            PartnerKind::Ed => "an ED assault file ends .csv or .xml (optionally .gz)",
            PartnerKind::Indicators => "an indicator file ends .csv (optionally .gz) or .xlsx",
        }
    }
}

/// How a partner file's import ended (one value per file: its size does not matter).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum PartnerImported {
    /// Imported or unchanged. `datasets` are those the file supplies.
    Done { outcome: ImportOutcome, ed: Option<EdImportReport>, datasets: Vec<&'static str> },
    /// The file was refused (bad name, bad content): nothing was imported.
    Refused(String),
    /// The supplier may not supply a dataset of the file: nothing was read.
    NotSupplier(String),
}

/// Imports one partner file (ED or indicators) for `supplier`, auditing the attempt whatever
/// its outcome. `Err` only for faults (the database could not be used).
pub async fn partner_file(
    db: &Db,
    actor: &Actor,
    supplier: Supplier,
    kind: PartnerKind,
    file: &SourceFile,
) -> Result<PartnerImported, AppError> {
    let result = partner_checked(db, actor, supplier, kind, file).await?;
    let detail = match &result {
        PartnerImported::Done { outcome: ImportOutcome::Imported { .. }, .. } => None,
        PartnerImported::Done { outcome, .. } => unchanged_detail(&Ok(outcome.clone())),
        PartnerImported::Refused(e) | PartnerImported::NotSupplier(e) => Some(format!("FAILED: {e}")),
    };
    if let Some(detail) = detail {
        audit_attempt(db, actor, kind.action(), &file.name, &detail).await?;
    }
    Ok(result)
}

fn not_supplier(dataset: &str) -> PartnerImported {
    PartnerImported::NotSupplier(format!(
        "your organisation does not supply the dataset {dataset}: only its owner organisation or an administrator may \
         upload it"
    ))
}

async fn partner_checked(
    db: &Db,
    actor: &Actor,
    supplier: Supplier,
    kind: PartnerKind,
    file: &SourceFile,
) -> Result<PartnerImported, AppError> {
    let name = file.name.as_str();
    if name.is_empty() || file.approximate_len() == 0 {
        return Ok(PartnerImported::Refused("Choose a file to upload".into()));
    }
    if !kind.accepts(name) {
        return Ok(PartnerImported::Refused(format!("{}: {}", excerpt(name, 200), kind.expected())));
    }
    let audit = ImportAudit::new(actor.clone(), kind.action());
    let refused = |e: DbError| match e {
        DbError::Ingest(e) => Ok(PartnerImported::Refused(e.to_string())),
        other => Err(AppError::from(other)),
    };
    match kind {
        PartnerKind::Ed => {
            if !supplier.may_supply(db, ED_DATASET).await? {
                return Ok(not_supplier(ED_DATASET));
            }
            match db.import_ed_file_audited(file, &audit).await {
                Ok(report) => Ok(PartnerImported::Done {
                    outcome: report.outcome.clone(),
                    ed: Some(report),
                    datasets: vec![ED_DATASET],
                }),
                Err(e) => refused(e),
            }
        }
        PartnerKind::Indicators => {
            let supplied = supplier.indicator_datasets(db).await?;
            if supplied.as_ref().is_some_and(Vec::is_empty) {
                return Ok(not_supplier("of any partner indicators"));
            }
            // Which dataset a value belongs to only its row tells (its indicator's name), so
            // the check runs on each row as soon as it is read: a file for a dataset this
            // supplier does not supply is read no further than its first such row.
            let (parsed, stopped_at) = {
                let file = file.clone();
                tokio::task::spawn_blocking(move || {
                    let mut stopped_at: Option<&'static str> = None;
                    let parsed = alliance_ingest::indicators::read_indicator_file_checked(&file, &mut |value| {
                        let dataset = indicator_dataset(&value.indicator);
                        match &supplied {
                            Some(slugs) if !slugs.iter().any(|s| s == dataset) => {
                                stopped_at = Some(dataset);
                                Err(format!("your organisation does not supply the dataset {dataset}"))
                            }
                            _ => Ok(()),
                        }
                    });
                    (parsed, stopped_at)
                })
                .await
                .map_err(|e| AppError::Internal(format!("reading an indicator file: {e}")))?
            };
            if let Some(dataset) = stopped_at {
                return Ok(not_supplier(dataset));
            }
            let values = match parsed {
                Ok(values) => values,
                Err(e) => return refused(DbError::Ingest(e)),
            };
            let mut datasets: Vec<&'static str> = values.iter().map(|v| indicator_dataset(&v.indicator)).collect();
            datasets.sort_unstable();
            datasets.dedup();
            match db.import_indicator_values_audited(file, values, supplier.indicator_supplier(), &audit).await {
                Ok(outcome) => Ok(PartnerImported::Done { outcome, ed: None, datasets }),
                Err(e) => refused(e),
            }
        }
    }
}

// ---- Police and area files uploaded on the web (`/imports/upload`): who may supply them is
// decided here before a byte of the upload is read, and a data.police.uk download zip is
// opened in memory (`alliance_ingest::archive`), never unpacked to disk.

/// The dataset police files supply.
pub const POLICE_DATASET: &str = "police-recorded-crime";

impl Supplier {
    /// Whether this supplier may import police files: the operator, administrators, and
    /// users of the organisation that supplies the police dataset.
    pub async fn may_supply_police(self, db: &Db) -> Result<bool, DbError> {
        self.may_supply(db, POLICE_DATASET).await
    }

    /// Whether this supplier may import area reference data (districts, deprivation,
    /// population, boundaries), which every page's figures rest on: the operator and
    /// administrators only.
    pub fn may_supply_areas(self) -> bool {
        matches!(self, Supplier::Operator | Supplier::Organisation { administrator: true, .. })
    }
}

/// An uploaded file's police files: the file itself when its name is a data.police.uk file
/// name, or the street and outcomes files inside a data.police.uk download zip (other
/// entries, such as stop and search, are named in the second list and passed over). A
/// refusal names the file (and the zip's entry) and the reason.
pub fn police_upload(
    name: &str,
    bytes: std::sync::Arc<[u8]>,
) -> Result<(Vec<SourceFile>, Vec<String>), alliance_ingest::IngestError> {
    use alliance_ingest::{archive, police, IngestError, Limits};
    if archive::is_zip_file_name(name) {
        let contents = archive::files_in_zip(
            name,
            bytes,
            &Limits::default(),
            police::is_police_file_name,
            "data.police.uk street or outcomes files (YYYY-MM-FORCE-street.csv, YYYY-MM-FORCE-outcomes.csv)",
        )?;
        return Ok((contents.files, contents.skipped));
    }
    if police::is_police_file_name(name) {
        return Ok((vec![SourceFile::from_bytes(name, bytes)], Vec::new()));
    }
    Err(IngestError::file(
        name,
        "not a data.police.uk file: expected YYYY-MM-FORCE-street.csv or YYYY-MM-FORCE-outcomes.csv (optionally .gz), \
         or a data.police.uk download .zip",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_long_values_on_character_boundaries() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(excerpt("ééééé", 2), "éé…");
        assert_eq!(excerpt(&"x".repeat(10_000), MAX_AUDIT_DETAIL).chars().count(), MAX_AUDIT_DETAIL + 1);
    }

    #[test]
    fn partner_kinds_name_their_audit_action() {
        assert_eq!(PartnerKind::parse("ed").map(PartnerKind::action), Some("import ed"));
        assert_eq!(PartnerKind::parse("indicators").map(PartnerKind::action), Some("import indicators"));
        assert_eq!(PartnerKind::parse("police"), None);
    }
}
