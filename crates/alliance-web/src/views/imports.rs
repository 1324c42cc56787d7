//! The import history page, and the recent imports on the dashboard.
//!
//! Metadata follows the data (issue 14): an import of a restricted dataset is itself a
//! figure (one ED file per site per month is a monthly count per hospital), so each import is
//! shown only at the level the caller's organisation holds for its dataset ([`visible`]).

use alliance_core::access::AccessLevel;
use alliance_db::imports::ImportRecord;
use askama::Template;

use super::Layout;
use crate::auth::access::dataset_access;
use crate::auth::Principal;
use crate::AppState;

/// One import as the caller may see it.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub record: ImportRecord,
    /// Whether its row counts are shown (else "not shown").
    pub counts: bool,
}

/// How much of an import `who` may see: `None` hides it.
/// - ED files (`ed-assaults`): with their row counts at record level; listed without them at
///   aggregate level; hidden otherwise.
/// - Indicator files: to the supplying organisation only (a file can hold several indicator
///   datasets, so no single grant covers it); the operator's files are hidden on the web.
/// - Everything else (police open data, area reference files): shown.
fn shown(record: &ImportRecord, org: i64, ed: AccessLevel) -> Option<bool> {
    match record.source.as_str() {
        "ed" => match ed {
            AccessLevel::Record => Some(true),
            AccessLevel::Aggregate => Some(false),
            AccessLevel::None => None,
        },
        "indicators" => {
            let supplier = record.unit.strip_prefix("indicators/org/").and_then(|rest| rest.split('/').next());
            (supplier.and_then(|id| id.parse::<i64>().ok()) == Some(org)).then_some(true)
        }
        _ => Some(true),
    }
}

/// The imports `who` may see, with their counts where allowed (see [`shown`]).
pub async fn visible(
    state: &AppState,
    who: &Principal,
    imports: Vec<ImportRecord>,
) -> Result<Vec<ImportRow>, alliance_db::DbError> {
    let ed = if imports.iter().any(|i| i.source == "ed") {
        dataset_access(state, who, "ed-assaults").await?
    } else {
        AccessLevel::None
    };
    let org = who.org_id();
    Ok(imports
        .into_iter()
        .filter_map(|record| shown(&record, org, ed).map(|counts| ImportRow { record, counts }))
        .collect())
}

#[derive(Template)]
#[template(path = "imports.html")]
pub struct ImportsPage {
    pub layout: Layout,
    pub imports: Vec<ImportRow>,
}

impl ImportsPage {
    pub fn new(state: &AppState, imports: Vec<ImportRow>) -> ImportsPage {
        ImportsPage { layout: Layout::new(state, "/imports"), imports }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(source: &str, unit: &str) -> ImportRecord {
        ImportRecord {
            id: 1,
            source: source.into(),
            kind: "x".into(),
            unit: unit.into(),
            force: None,
            month: None,
            file_name: "f.csv".into(),
            checksum: "0".into(),
            rows_read: 3,
            rows_added: 3,
            rows_replaced: 0,
            rows_without_location: 0,
            imported_by: "cli".into(),
            imported_at: "2025-01-01".into(),
            superseded_by: None,
        }
    }

    #[test]
    fn restricted_imports_follow_the_callers_access() {
        let ed = import("ed", "ed/RJE01/2025-01");
        assert_eq!(shown(&ed, 1, AccessLevel::Record), Some(true));
        assert_eq!(shown(&ed, 1, AccessLevel::Aggregate), Some(false), "listed, counts hidden");
        assert_eq!(shown(&ed, 1, AccessLevel::None), None, "hidden");
        let mine = import("indicators", "indicators/org/7/values.csv");
        assert_eq!(shown(&mine, 7, AccessLevel::None), Some(true));
        assert_eq!(shown(&mine, 8, AccessLevel::Record), None);
        assert_eq!(shown(&import("indicators", "indicators/values.csv"), 7, AccessLevel::None), None);
        assert_eq!(shown(&import("police", "police/x"), 7, AccessLevel::None), Some(true));
    }
}
