//! The governance pages a partnership uses every week: the Board's dashboard, the strategy,
//! the action plan (and each organisation's own actions), indicators, funding and meetings.
//! Figures that the Board pack also shows (RAG counts, indicator status, escalations, the
//! funding position) come from [`super::board_pack`], so the pages and the pack never
//! disagree.

pub mod actions;
pub mod dashboard;
pub mod funding;
pub mod indicators;
pub mod meetings;
pub mod strategy;

use alliance_core::governance::{ActionStatus, Quarter};
use alliance_db::DbError;

pub use crate::forms::{error, FieldError, Form, FormValues};

/// A storage error about the input ([`DbError::Invalid`] or [`DbError::Conflict`], which name
/// their field) as an error on the form field the storage field came from (`fields`: storage
/// name → form field id), or on `fallback` when the form has no such field. Any other error
/// (a fault, a record not found) is passed on, to be answered as such.
pub fn invalid_to_field(e: DbError, fields: &[(&str, &str)], fallback: &str) -> Result<FieldError, DbError> {
    match e {
        DbError::Invalid { field, reason } | DbError::Conflict { field, reason } => {
            let id = fields.iter().find(|(name, _)| *name == field).map_or(fallback, |(_, id)| *id);
            Ok(error(id, alliance_core::format::capitalised(&reason)))
        }
        other => Err(other),
    }
}

/// Today, `YYYY-MM-DD` (UTC): the form the store keeps dates in.
pub use alliance_db::clock::today;

/// The calendar quarter holding today.
pub fn current_quarter() -> Quarter {
    Quarter::of_date(&today()).unwrap_or_else(|| Quarter::new(2025, 1).expect("a valid quarter"))
}

/// The quarter a page asks for (`?quarter=2025Q3`), or the current one; a bad value is an
/// error on the `quarter` field.
pub fn quarter_from(form: &Form) -> (Quarter, Vec<FieldError>) {
    quarter_from_or(form, current_quarter())
}

/// The quarter a page asks for (`?quarter=2025Q3` or `?quarter=2025/26 Q2`), or `default`;
/// a bad value is an error on the `quarter` field.
pub fn quarter_from_or(form: &Form, default: Quarter) -> (Quarter, Vec<FieldError>) {
    match form.get("quarter") {
        None => (default, Vec::new()),
        Some(text) => match text.parse::<Quarter>() {
            Ok(q) => (q, Vec::new()),
            Err(_) => (
                default,
                vec![error(
                    "quarter",
                    format!("Enter a quarter like 2025Q3, or a financial-year quarter like 2025/26 Q2, not \"{text}\""),
                )],
            ),
        },
    }
}

/// The quarter pages open on: the latest with data (`indicators_only`: indicator data) the
/// signed-in reader may see, so figures whose data is not yet published do not read "not
/// computed", and a restricted dataset (ED assaults, a partner series) the reader's
/// organisation has no access to never moves it (`latest_quarter_seen_by`).
pub async fn default_quarter(state: &crate::AppState, indicators_only: bool) -> Result<Quarter, DbError> {
    let levels = reader_levels(state).await?;
    let level_of = |d: &str| levels.get(d).copied().unwrap_or(alliance_core::access::AccessLevel::None);
    alliance_app::board_pack::latest_quarter_seen_by(&state.db, current_quarter(), indicators_only, level_of).await
}

/// The quarters there are Board packs of, first and last
/// (`alliance_app::board_pack::pack_quarters`).
pub async fn pack_quarters(state: &crate::AppState) -> Result<(Quarter, Quarter), DbError> {
    alliance_app::board_pack::pack_quarters(&state.db, current_quarter()).await
}

/// The signed-in reader's access to each dataset of the indicators.
async fn reader_levels(
    state: &crate::AppState,
) -> Result<std::collections::HashMap<&'static str, alliance_core::access::AccessLevel>, DbError> {
    let context = crate::auth::current();
    let mut levels = std::collections::HashMap::new();
    for dataset in alliance_app::board_pack::DATASETS_OF_INDICATORS {
        let level = match &context.principal {
            Some(who) => crate::auth::access::dataset_access(state, who, dataset).await?,
            None => alliance_core::access::AccessLevel::None,
        };
        levels.insert(dataset, level);
    }
    Ok(levels)
}

/// `(value, label)` options of the action statuses.
pub fn status_options() -> Vec<(String, String)> {
    ActionStatus::ALL.into_iter().map(|s| (s.as_str().to_string(), s.label().to_string())).collect()
}

/// A status from a form field, or an error on it.
pub fn status_from(form: &Form, field: &str) -> Result<ActionStatus, FieldError> {
    form.get(field).and_then(|s| s.parse().ok()).ok_or_else(|| error(field, "Select the status"))
}

/// A whole-number id from a form field (a select), or an error naming what to select.
pub fn id_from(form: &Form, field: &str, what: &str) -> Result<i64, FieldError> {
    form.get(field).and_then(|s| s.parse().ok()).ok_or_else(|| error(field, format!("Select {what}")))
}
