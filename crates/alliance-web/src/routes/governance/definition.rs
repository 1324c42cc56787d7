//! The serious violence definition on the web (`alliance_app::definition`, beside
//! `alliance definition show|export|import`):
//! - `GET /sna/definition/edit`: staff see every mapping of the current version as a row
//!   they can change (group, fit, headline, note) or remove, and a row to add one;
//! - `POST /sna/definition/edit` with `action=preview`: the same form, as typed, with how many
//!   police-recorded crimes of the latest twelve months the current and the proposed
//!   definition count; with `action=save`: stored as the next version with its audit row
//!   (what changed and why), then `GET /sna/definition/history`;
//! - `GET /sna/definition/history`: every version with what changed from the one before.
//!
//! A form with an error comes back as typed, with a GOV.UK error summary (422), and nothing
//! is stored. Who may edit is the route table's (partnership staff).

use std::collections::HashMap;

use alliance_app::definition::{self, HistoryEntry, Preview, MAX_MAPPINGS};
use alliance_app::AppError;
use alliance_core::analytics::sna::definition::{Definition, Fit, Mapping, SourceKind, SvGroup};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;

use super::{actor, page, see_other};
use crate::auth::CurrentUser;
use crate::views::governance::{error, FieldError, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

/// One mapping row of the editor, as shown (from the stored version or as typed).
pub struct Row {
    pub index: usize,
    pub source: String,
    pub source_label: String,
    pub category: String,
    pub group: String,
    pub fit: String,
    pub headline: bool,
    pub note: String,
    pub remove: bool,
}

impl Row {
    pub fn group_is(&self, key: &str) -> bool {
        self.group == key
    }
    pub fn fit_is(&self, key: &str) -> bool {
        self.fit == key
    }
}

impl EditPage {
    /// The error of a row's field (`m3_group`), if any.
    fn row_error(&self, index: &usize, field: &str) -> Option<String> {
        self.form.error(&format!("m{index}_{field}"))
    }
}

#[derive(Template)]
#[template(path = "governance/definition_edit.html")]
struct EditPage {
    layout: Layout,
    base_version: i64,
    rows: Vec<Row>,
    form: Form,
    errors: Vec<FieldError>,
    preview: Option<Preview>,
    previewed: bool,
    sources: Vec<(&'static str, &'static str)>,
    groups: Vec<(&'static str, &'static str)>,
    fits: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "governance/definition_history.html")]
struct HistoryPage {
    layout: Layout,
    entries: Vec<HistoryEntry>,
    saved: Option<i64>,
}

fn layout(state: &AppState) -> Layout {
    Layout::new(state, "/sna")
}

fn rows_of(d: &Definition) -> Vec<Row> {
    d.mappings
        .iter()
        .enumerate()
        .map(|(index, m)| Row {
            index,
            source: m.source.code().into(),
            source_label: m.source.label().into(),
            category: m.category.clone(),
            group: m.group.code().into(),
            fit: m.fit.code().into(),
            headline: m.in_headline,
            note: m.note.clone(),
            remove: false,
        })
        .collect()
}

fn edit_page(
    state: &AppState,
    base_version: i64,
    rows: Vec<Row>,
    form: Form,
    previewed: bool,
    preview: Option<Preview>,
) -> EditPage {
    let errors = form.errors.clone();
    EditPage {
        layout: layout(state),
        base_version,
        rows,
        form,
        errors,
        previewed,
        preview,
        sources: SourceKind::choices(),
        groups: SvGroup::choices(),
        fits: Fit::ALL.iter().map(|f| f.code()).collect(),
    }
}

async fn edit_form(State(state): State<AppState>) -> Result<Response, PageError> {
    let d = state.db.sv_definition_current().await?;
    let form = Form::new(HashMap::from([("name".to_string(), d.name.clone()), ("notes".to_string(), d.notes.clone())]));
    page(&edit_page(&state, d.version, rows_of(&d), form, false, None), false)
}

/// The rows as typed and the definition they make (`None` when a field is in error: the
/// errors are on `form`). The gaps (what each source cannot show) are kept from `base`.
fn read_form(form: &mut Form, base: &Definition) -> (Vec<Row>, Option<Definition>) {
    let mut errors = Vec::new();
    let count = form.value("count").trim().parse::<usize>().unwrap_or(0);
    if count > MAX_MAPPINGS {
        errors.push(error("mappings", format!("A definition holds at most {MAX_MAPPINGS} mappings")));
    }
    let count = count.min(MAX_MAPPINGS);
    let mut rows = Vec::with_capacity(count);
    let mut mappings = Vec::with_capacity(count + 1);
    for i in 0..count {
        let v = |f: &str| form.value(&format!("m{i}_{f}"));
        let row = Row {
            index: i,
            source: v("source"),
            source_label: SourceKind::parse(&v("source")).map(|s| s.label().to_string()).unwrap_or_default(),
            category: v("category"),
            group: v("group"),
            fit: v("fit"),
            headline: v("headline") == "yes",
            note: v("note"),
            remove: v("remove") == "yes",
        };
        if !row.remove {
            match mapping_of(&row, &format!("m{i}")) {
                Ok(m) => mappings.push(m),
                Err(e) => errors.push(e),
            }
        }
        rows.push(row);
    }
    let new_category = form.value("new_category");
    if !new_category.trim().is_empty() || !form.value("new_source").is_empty() {
        let row = Row {
            index: count,
            source: form.value("new_source"),
            source_label: String::new(),
            category: new_category,
            group: form.value("new_group"),
            fit: form.value("new_fit"),
            headline: form.value("new_headline") == "yes",
            note: form.value("new_note"),
            remove: false,
        };
        match mapping_of(&row, "new") {
            Ok(m) => mappings.push(m),
            Err(e) => errors.push(e),
        }
    }
    let proposed = Definition {
        version: 0,
        name: form.value("name").trim().to_string(),
        created: String::new(),
        notes: form.value("notes").trim().to_string(),
        mappings,
        gaps: base.gaps.clone(),
    };
    if errors.is_empty() {
        if let Err(AppError::Invalid { field, reason }) = definition::check(&proposed) {
            errors.push(error(field, reason));
        }
    }
    form.errors.extend(errors);
    let ok = form.errors.is_empty();
    (rows, ok.then_some(proposed))
}

/// A row as a mapping; `prefix` is the row's field ids' (`m3`, `new`).
fn mapping_of(row: &Row, prefix: &str) -> Result<Mapping, FieldError> {
    let source = SourceKind::parse(&row.source)
        .map_err(|_| error(&format!("{prefix}_source"), "Select the source the category comes from"))?;
    let category = definition::normalise_category(source, &row.category)
        .map_err(|reason| error(&format!("{prefix}_category"), reason))?;
    let group = SvGroup::parse(&row.group)
        .map_err(|_| error(&format!("{prefix}_group"), format!("Select the group \"{category}\" counts towards")))?;
    let fit = Fit::parse(&row.fit)
        .map_err(|_| error(&format!("{prefix}_fit"), format!("Select how well \"{category}\" fits its group")))?;
    if row.note.chars().count() > definition::MAX_NOTE_CHARS {
        return Err(error(
            &format!("{prefix}_note"),
            format!("The note of \"{category}\" must be {} characters or fewer", definition::MAX_NOTE_CHARS),
        ));
    }
    Ok(Mapping { source, category, group, fit, in_headline: row.headline, note: row.note.trim().to_string() })
}

async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    mut form: Form,
) -> Result<Response, PageError> {
    let current = state.db.sv_definition_current().await?;
    let base_version = form.value("base_version").trim().parse::<i64>().unwrap_or(current.version);
    let (rows, proposed) = read_form(&mut form, &current);
    let Some(proposed) = proposed else {
        return page(&edit_page(&state, base_version, rows, form, false, None), true);
    };
    if form.value("action") == "save" {
        match definition::store(&state.db, &proposed, base_version, &form.value("reason"), &actor(&user)).await {
            Ok(version) => return Ok(see_other(&format!("/sna/definition/history?saved={version}"))),
            Err(AppError::Invalid { field, reason } | AppError::Conflict { field, reason }) => {
                // The version opened is a hidden field: its conflict belongs to the mappings.
                let field = if field == "base_version" { "mappings" } else { field };
                form.errors.push(error(field, reason));
                return page(&edit_page(&state, base_version, rows, form, false, None), true);
            }
            Err(e) => return Err(e.into()),
        }
    }
    // A preview: nothing stored. With no police data held there is nothing to count, and the
    // page says so.
    let preview = definition::preview(&state.db, &current, &proposed).await?;
    page(&edit_page(&state, base_version, rows, form, true, preview), false)
}

async fn history(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, PageError> {
    let saved = query.as_deref().and_then(|q| q.strip_prefix("saved=")).and_then(|v| v.parse().ok());
    let entries = definition::history(&state.db).await?;
    page(&HistoryPage { layout: layout(&state), entries, saved }, false)
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/sna/definition/edit", get(edit_form).post(edit))
        .route("/sna/definition/history", get(history))
}
