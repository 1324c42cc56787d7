//! Successive strategies (`alliance_app::strategies`, the same use case as
//! `alliance strategy list|import|export`):
//! - `GET /strategies`: every strategy held, the current one first, each with its file;
//! - `GET /strategies/new`, `POST /strategies`: staff create a strategy (name, years, aim);
//! - `GET|POST /strategies/import`: staff import a strategy file (JSON, multipart upload);
//! - `GET /strategies/{id}`: one strategy, with staff forms to add a priority
//!   (`POST /strategies/{id}/priorities`) and a commitment (`POST /strategies/{id}/commitments`);
//! - `GET /strategies/{id}/export`: the strategy as a strategy file;
//! - `GET|POST /strategies/{id}/priorities/{pid}`, `GET|POST /strategies/{id}/commitments/{cid}`:
//!   staff change a priority's name and description, a commitment's words;
//! - `GET|POST /strategies/{id}/priorities/{pid}/delete`, `…/commitments/{cid}/delete`: staff
//!   delete one (a priority with its commitments), after a confirmation page; refused with a
//!   409 while an action (or, for a priority, an indicator or an intervention) refers to it.
//!
//! The route table admits the roles; every handler that changes anything takes a
//! [`Staff`](super::Staff) user, refused before the request's body is read.

use std::collections::HashMap;

use crate::extract::Path;
use crate::forms;
use alliance_app::strategies::{self, StrategyImport};
use alliance_db::governance::{Commitment, Priority, Strategy, StrategyFields};
use alliance_ingest::SourceFile;
use askama::Template;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{actor, may_edit_governance, not_found, page, see_other, Staff};
use crate::auth::CurrentUser;
use crate::error::bad_request;
use crate::views::governance::{error, invalid_to_field, FieldError, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

/// The largest strategy file accepted through the web (the real one is 20 KB).
pub const MAX_STRATEGY_UPLOAD: usize = 2 * 1024 * 1024;

/// A strategy in the list.
pub struct Listed {
    pub strategy: Strategy,
    pub priorities: usize,
    pub commitments: usize,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "governance/strategies.html")]
struct ListPage {
    layout: Layout,
    strategies: Vec<Listed>,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "governance/strategy_new.html")]
struct NewPage {
    layout: Layout,
    form: Form,
    errors: Vec<FieldError>,
}

impl NewPage {
    /// The page with `form`, which keeps its one-time key (a new one when first shown).
    fn new(layout: Layout, mut form: Form) -> NewPage {
        forms::ensure_submission_key(&mut form.values);
        let errors = form.errors.clone();
        NewPage { layout, form, errors }
    }
}

#[derive(Template)]
#[template(path = "governance/strategy_import.html")]
struct ImportPage {
    layout: Layout,
    errors: Vec<FieldError>,
}

/// A priority with its commitments.
pub struct Block {
    pub priority: Priority,
    pub commitments: Vec<Commitment>,
}

#[derive(Template)]
#[template(path = "governance/strategy_show.html")]
struct ShowPage {
    layout: Layout,
    strategy: Strategy,
    current: bool,
    blocks: Vec<Block>,
    indicators: Vec<(String, String, String)>,
    can_edit: bool,
    form: Form,
    errors: Vec<FieldError>,
    done: Option<String>,
}

fn layout(state: &AppState) -> Layout {
    Layout::new(state, "/strategy")
}

async fn list_page(state: &AppState, can_edit: bool) -> Result<ListPage, PageError> {
    let mut strategies = Vec::new();
    for (i, s) in state.db.strategies().await?.into_iter().enumerate() {
        let priorities = state.db.priorities(s.id).await?.len();
        let commitments = state.db.commitments(s.id).await?.len();
        strategies.push(Listed { strategy: s, priorities, commitments, current: i == 0 });
    }
    Ok(ListPage { layout: layout(state), strategies, can_edit })
}

async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, PageError> {
    page(&list_page(&state, may_edit_governance(&user)).await?, false)
}

async fn new_form(State(state): State<AppState>, _: Staff) -> Result<Response, PageError> {
    page(&NewPage::new(layout(&state), Form::default()), false)
}

async fn create(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    let fields = StrategyFields {
        name: form.value("name"),
        period_start: form.value("period_start"),
        period_end: form.value("period_end"),
        aim: form.value("aim"),
        source: form.value("source"),
    };
    match state.db.create_strategy(&fields, form.get(forms::SUBMISSION).as_deref(), &actor(&user)).await {
        Ok(id) => return Ok(see_other(&format!("/strategies/{id}"))),
        Err(e) => form.errors.push(invalid_to_field(
            e,
            &[
                ("name", "name"),
                ("period_start", "period_start"),
                ("period_end", "period_end"),
                ("aim", "aim"),
                ("source", "source"),
            ],
            "name",
        )?),
    }
    page(&NewPage::new(layout(&state), form), true)
}

async fn import_form(State(state): State<AppState>, _: Staff) -> Result<Response, PageError> {
    page(&ImportPage { layout: layout(&state), errors: Vec::new() }, false)
}

/// The multipart form's field `file`. Who may import is checked before the body is read; a
/// refused file comes back on the form (422) with the file, field and reason, and nothing is
/// stored.
async fn import(
    State(state): State<AppState>,
    Staff(user): Staff,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    let file = match crate::forms::read_with_file(&state, request).await {
        Ok((_, file)) => file,
        Err(e) => {
            tracing::debug!(error = %e, "strategy upload refused");
            return Err(bad_request("The upload could not be read. Choose the file again and send the form again."));
        }
    };
    let (name, bytes) = file.unwrap_or_default();
    let name = name.trim().rsplit(['/', '\\']).next().unwrap_or_default().to_string();
    let refuse =
        |message: String| page(&ImportPage { layout: layout(&state), errors: vec![error("file", message)] }, true);
    if name.is_empty() || bytes.is_empty() {
        return refuse("Choose a strategy file to import".into());
    }
    if !name.to_ascii_lowercase().ends_with(".json") {
        return refuse(format!("{name}: a strategy file is JSON and its name ends .json"));
    }
    let source = SourceFile::from_bytes(&name, bytes);
    match strategies::import(&state.db, &actor(&user), &source).await? {
        StrategyImport::Imported(done) => Ok(see_other(&format!("/strategies/{}?imported=1", done.id))),
        StrategyImport::Refused(reason) => refuse(reason),
    }
}

async fn show_page(
    state: &AppState,
    strategy: Strategy,
    can_edit: bool,
    mut form: Form,
    done: Option<String>,
) -> Result<ShowPage, PageError> {
    // One key for the priority and the commitment forms: each store namespaces it.
    forms::ensure_submission_key(&mut form.values);
    let current = state.db.current_strategy().await?.is_some_and(|c| c.id == strategy.id);
    let priorities = state.db.priorities(strategy.id).await?;
    let commitments = state.db.commitments(strategy.id).await?;
    let names: HashMap<i64, String> = priorities.iter().map(|p| (p.id, p.name.clone())).collect();
    let indicators = state
        .db
        .indicators()
        .await?
        .into_iter()
        .filter_map(|i| Some((i.code, i.name, names.get(&i.priority_id?)?.clone())))
        .collect();
    let blocks = priorities
        .into_iter()
        .map(|p| {
            let mine = commitments.iter().filter(|c| c.priority_id == p.id).cloned().collect();
            Block { priority: p, commitments: mine }
        })
        .collect();
    let errors = form.errors.clone();
    Ok(ShowPage { layout: layout(state), strategy, current, blocks, indicators, can_edit, form, errors, done })
}

async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let Some(s) = state.db.strategy(id).await? else { return Err(not_found()) };
    let done = (query.as_deref() == Some("imported=1")).then(|| format!("Imported {}", s.name));
    page(&show_page(&state, s, may_edit_governance(&user), Form::default(), done).await?, false)
}

async fn add_priority(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(s) = state.db.strategy(id).await? else { return Err(not_found()) };
    let (name, description) = (form.value("priority_name"), form.value("priority_description"));
    let key = form.get(forms::SUBMISSION);
    match state.db.add_priority(id, &name, &description, key.as_deref(), &actor(&user)).await {
        Ok(pid) => return Ok(see_other(&format!("/strategies/{id}#priority-{pid}"))),
        Err(e) => form.errors.push(invalid_to_field(
            e,
            &[("name", "priority_name"), ("description", "priority_description")],
            "priority_name",
        )?),
    }
    page(&show_page(&state, s, true, form, None).await?, true)
}

async fn add_commitment(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(s) = state.db.strategy(id).await? else { return Err(not_found()) };
    let priorities = state.db.priorities(id).await?;
    // Only a priority of this strategy: an id from elsewhere is not a choice offered.
    match form.get("priority").and_then(|p| p.parse::<i64>().ok()).filter(|p| priorities.iter().any(|q| q.id == *p)) {
        None => form.errors.push(error("priority", "Select the priority the commitment comes under")),
        Some(pid) => match state
            .db
            .add_commitment(pid, &form.value("text"), form.get(forms::SUBMISSION).as_deref(), &actor(&user))
            .await
        {
            Ok(_) => return Ok(see_other(&format!("/strategies/{id}#priority-{pid}"))),
            Err(e) => form.errors.push(invalid_to_field(e, &[("text", "text"), ("priority", "priority")], "text")?),
        },
    }
    page(&show_page(&state, s, true, form, None).await?, true)
}

async fn export(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, PageError> {
    if state.db.strategy(id).await?.is_none() {
        return Err(not_found());
    }
    let (name, json) = strategies::export(&state.db, id).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        json,
    )
        .into_response())
}

/// The edit page of a priority or a commitment of a strategy.
#[derive(Template)]
#[template(path = "governance/strategy_item.html")]
struct ItemPage {
    layout: Layout,
    strategy: Strategy,
    /// `priority` or `commitment`.
    kind: &'static str,
    /// e.g. `Priority 2` or `Commitment 2.3`.
    caption: String,
    action: String,
    back: String,
    form: Form,
    errors: Vec<FieldError>,
}

/// The confirmation page before a priority or a commitment is deleted.
#[derive(Template)]
#[template(path = "governance/strategy_item_delete.html")]
struct DeleteItemPage {
    layout: Layout,
    strategy: Strategy,
    kind: &'static str,
    caption: String,
    words: String,
    /// The commitments deleted with a priority.
    with: Vec<String>,
    action: String,
    back: String,
}

/// A strategy and one of its priorities, or 404.
async fn strategy_priority(state: &AppState, id: i64, pid: i64) -> Result<(Strategy, Priority), PageError> {
    let Some(s) = state.db.strategy(id).await? else { return Err(not_found()) };
    let Some(p) = state.db.priorities(id).await?.into_iter().find(|p| p.id == pid) else { return Err(not_found()) };
    Ok((s, p))
}

/// A strategy, one of its commitments and the commitment's priority, or 404.
async fn strategy_commitment(
    state: &AppState,
    id: i64,
    cid: i64,
) -> Result<(Strategy, Commitment, Priority), PageError> {
    let Some(s) = state.db.strategy(id).await? else { return Err(not_found()) };
    let Some(c) = state.db.commitments(id).await?.into_iter().find(|c| c.id == cid) else { return Err(not_found()) };
    let Some(p) = state.db.priorities(id).await?.into_iter().find(|p| p.id == c.priority_id) else {
        return Err(not_found());
    };
    Ok((s, c, p))
}

/// How the edit and delete pages name a priority or a commitment of strategy `strategy`, and
/// where they lead.
struct Item {
    strategy: Strategy,
    kind: &'static str,
    caption: String,
    /// The item's edit address; its delete page is `{path}/delete`.
    path: String,
    /// The strategy page at the item's priority.
    back: String,
}

impl Item {
    fn priority(strategy: Strategy, p: &Priority) -> Item {
        Item {
            path: format!("/strategies/{}/priorities/{}", strategy.id, p.id),
            back: format!("/strategies/{}#priority-{}", strategy.id, p.id),
            kind: "priority",
            caption: format!("Priority {}", p.position),
            strategy,
        }
    }

    fn commitment(strategy: Strategy, c: &Commitment, p: &Priority) -> Item {
        Item {
            path: format!("/strategies/{}/commitments/{}", strategy.id, c.id),
            back: format!("/strategies/{}#priority-{}", strategy.id, p.id),
            kind: "commitment",
            caption: format!("Commitment {}.{} under {}", p.position, c.position, p.name),
            strategy,
        }
    }

    /// The item's edit page, with `form`.
    fn edit_page(self, state: &AppState, form: Form) -> ItemPage {
        let errors = form.errors.clone();
        let Item { strategy, kind, caption, path, back } = self;
        ItemPage { layout: layout(state), strategy, kind, caption, action: path, back, form, errors }
    }

    /// The page asking to confirm the item's deletion, quoting its `words` and listing what
    /// goes `with` it.
    fn delete_page(self, state: &AppState, words: String, with: Vec<String>) -> DeleteItemPage {
        let Item { strategy, kind, caption, path, back } = self;
        DeleteItemPage {
            layout: layout(state),
            strategy,
            kind,
            caption,
            words,
            with,
            action: format!("{path}/delete"),
            back,
        }
    }
}

async fn priority_form(
    State(state): State<AppState>,
    _: Staff,
    Path((id, pid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (s, p) = strategy_priority(&state, id, pid).await?;
    let form = Form::new(HashMap::from([
        ("name".to_string(), p.name.clone()),
        ("description".to_string(), p.description.clone()),
        forms::version_value(p.version),
    ]));
    page(&Item::priority(s, &p).edit_page(&state, form), false)
}

async fn edit_priority(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path((id, pid)): Path<(i64, i64)>,
    mut form: Form,
) -> Result<Response, PageError> {
    let (s, p) = strategy_priority(&state, id, pid).await?;
    let (name, description) = (form.value("name"), form.value("description"));
    match state.db.update_priority(pid, &name, &description, forms::seen_version(&form.values), &actor(&user)).await {
        Ok(()) => return Ok(see_other(&format!("/strategies/{id}#priority-{pid}"))),
        Err(e) => form.errors.push(invalid_to_field(e, &[("name", "name"), ("description", "description")], "name")?),
    }
    page(&Item::priority(s, &p).edit_page(&state, form), true)
}

async fn commitment_form(
    State(state): State<AppState>,
    _: Staff,
    Path((id, cid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (s, c, p) = strategy_commitment(&state, id, cid).await?;
    let form = Form::new(HashMap::from([("text".to_string(), c.text.clone()), forms::version_value(c.version)]));
    page(&Item::commitment(s, &c, &p).edit_page(&state, form), false)
}

async fn edit_commitment(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path((id, cid)): Path<(i64, i64)>,
    mut form: Form,
) -> Result<Response, PageError> {
    let (s, c, p) = strategy_commitment(&state, id, cid).await?;
    match state.db.update_commitment(cid, &form.value("text"), forms::seen_version(&form.values), &actor(&user)).await {
        Ok(()) => return Ok(see_other(&format!("/strategies/{id}#priority-{}", p.id))),
        Err(e) => form.errors.push(invalid_to_field(e, &[("text", "text")], "text")?),
    }
    page(&Item::commitment(s, &c, &p).edit_page(&state, form), true)
}

async fn delete_priority_form(
    State(state): State<AppState>,
    _: Staff,
    Path((id, pid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (s, p) = strategy_priority(&state, id, pid).await?;
    let with = state.db.commitments(id).await?.into_iter().filter(|c| c.priority_id == pid).map(|c| c.text).collect();
    page(&Item::priority(s, &p).delete_page(&state, p.name, with), false)
}

/// Deletes a priority with its commitments; a priority still in use is a 409 page naming
/// what refers to it, and nothing is deleted.
async fn delete_priority(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path((id, pid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    strategy_priority(&state, id, pid).await?;
    state.db.delete_priority(pid, &actor(&user)).await?;
    Ok(see_other(&format!("/strategies/{id}")))
}

async fn delete_commitment_form(
    State(state): State<AppState>,
    _: Staff,
    Path((id, cid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (s, c, p) = strategy_commitment(&state, id, cid).await?;
    page(&Item::commitment(s, &c, &p).delete_page(&state, c.text, Vec::new()), false)
}

/// Deletes a commitment; one an action is under is a 409 page naming the actions.
async fn delete_commitment(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path((id, cid)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (_, _, p) = strategy_commitment(&state, id, cid).await?;
    state.db.delete_commitment(cid, &actor(&user)).await?;
    Ok(see_other(&format!("/strategies/{id}#priority-{}", p.id)))
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/strategies", get(list).post(create))
        .route("/strategies/new", get(new_form))
        .route(
            "/strategies/import",
            get(import_form).post(import).layer(axum::extract::DefaultBodyLimit::max(MAX_STRATEGY_UPLOAD)),
        )
        .route("/strategies/{id}", get(show))
        .route("/strategies/{id}/priorities", axum::routing::post(add_priority))
        .route("/strategies/{id}/commitments", axum::routing::post(add_commitment))
        .route("/strategies/{id}/export", get(export))
        .route("/strategies/{id}/priorities/{pid}", get(priority_form).post(edit_priority))
        .route("/strategies/{id}/priorities/{pid}/delete", get(delete_priority_form).post(delete_priority))
        .route("/strategies/{id}/commitments/{cid}", get(commitment_form).post(edit_commitment))
        .route("/strategies/{id}/commitments/{cid}/delete", get(delete_commitment_form).post(delete_commitment))
}
