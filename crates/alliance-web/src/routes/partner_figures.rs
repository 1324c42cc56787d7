//! Partner data as figures and records: the index (`/partner-data`), ED assaults
//! (`/partner-data/ed-assaults`, CSVs under `/partner-data/ed-assaults/{file}`), partner
//! indicators (`/partner-data/indicators`, `/partner-data/indicators/values.csv`) and the
//! upload form (`/partner-data/upload`). Every handler asks `auth::access::require_dataset`
//! for the caller's level first and shows only what that level allows: suppressed figures at
//! aggregate level, figures in full and the records themselves (audited) at record level,
//! a 403 page without access.

use alliance_core::access::{AccessLevel, INDICATOR_DATASETS};
use alliance_db::partner::ed::EdFilter;
use alliance_db::partner::indicators::IndicatorFilter;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use serde::Deserialize;

use crate::auth::access::{dataset_access, require_dataset};
use crate::auth::{Caller, ClientIp, Principal};
use crate::error::{bad_request, forbidden, not_found};
use crate::extract::{Path, Query};
use crate::forms::{self, FormErrors};
use crate::uploads::{Kind, Uploaded, MAX_PARTNER_UPLOAD};
use crate::views::ed_assaults::{self, EdAssaultsPage, Paging, RecordRow, PAGE_SIZE};
use crate::views::partner_indicators::{self, DatasetSection, IndicatorsPage};
use crate::views::Layout;
use crate::{AppState, PageError};

const ED: &str = "ed-assaults";

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/partner-data", get(index))
        .route("/partner-data/ed-assaults", get(ed_page))
        .route("/partner-data/ed-assaults/{file}", get(ed_csv))
        .route("/partner-data/indicators", get(indicators_page))
        .route("/partner-data/indicators/{file}", get(indicators_csv))
        .route(
            "/partner-data/upload",
            get(upload_form).post(upload).layer(axum::extract::DefaultBodyLimit::max(MAX_PARTNER_UPLOAD)),
        )
}

/// The refusal (403) of a caller whose organisation has too little access to a dataset. It
/// says what the caller can do about it: an administrator (who gets no more than their
/// organisation's grants, `alliance_core::access::access_level`) is sent to the agreements
/// page, not told to ask their administrator.
pub fn no_access(what: &str, who: &Principal) -> PageError {
    let next = if who.role() == Some(alliance_core::access::Role::Administrator) {
        "Administering Alliance does not open the data: if your work needs it, record an agreement that \
         grants your organisation access on the Data sharing page, once the data's owner has agreed."
    } else {
        "If your work needs it, ask your administrator whether an agreement covers your organisation."
    };
    forbidden(format!(
        "Your organisation has no access to this data. {what} is shared only with organisations that an \
         information sharing agreement grants access to it. {next} This refusal has been recorded in the audit log."
    ))
}

#[derive(Template)]
#[template(path = "partner_data_index.html")]
struct IndexPage {
    layout: Layout,
    datasets: Vec<(String, String)>,
    /// Links only to the pages that would admit the caller (a link to a 403 is a dead end):
    /// the ED page with any access to the ED data, the indicators page with any access to an
    /// indicator dataset, the upload form when the route table admits the role.
    may_read_ed: bool,
    may_read_indicators: bool,
    may_upload: bool,
    /// Whether the caller may use the geocoding queue: the route table admits their role and
    /// their organisation has record-level access to the ED data (what the queue checks).
    may_place: bool,
}

async fn index(State(state): State<AppState>, Caller(who): Caller) -> Result<Response, PageError> {
    let mut datasets = Vec::new();
    let (mut ed, mut indicators) = (AccessLevel::None, false);
    for d in state.db.datasets().await? {
        if d.open_data {
            continue;
        }
        let level = dataset_access(&state, &who, &d.slug).await?;
        if d.slug == ED {
            ed = level;
        }
        indicators |= INDICATOR_DATASETS.contains(&d.slug.as_str()) && level != AccessLevel::None;
        datasets.push((d.name, level.to_string()));
    }
    let layout = Layout::new(&state, "/partner-data");
    let page = IndexPage {
        may_read_ed: ed != AccessLevel::None,
        may_read_indicators: indicators,
        may_upload: layout.may("/partner-data/upload"),
        may_place: layout.may("/partner-data/geocoding") && ed == AccessLevel::Record,
        layout,
        datasets,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<String>,
}

/// The caller's level for the ED data (at least aggregate), or the refusal. A record-level
/// caller's read is audited by `require_dataset`.
async fn ed_level(state: &AppState, who: &Principal, what: &str) -> Result<AccessLevel, PageError> {
    let level = match require_dataset(state, who, ED, AccessLevel::Aggregate, what).await? {
        Ok(level) => level,
        Err(()) => return Err(no_access("Emergency department assault data", who)),
    };
    if level == AccessLevel::Record {
        // Audited as a read of restricted records.
        let _ = require_dataset(state, who, ED, AccessLevel::Record, what).await?;
    }
    Ok(level)
}

async fn ed_page(
    State(state): State<AppState>,
    Caller(who): Caller,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let page = q.page.as_deref().and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).max(1);
    let level = ed_level(&state, &who, &format!("ED assaults page {page}")).await?;
    let filter = EdFilter::default();
    let (facts, quarter) = ed_assaults::published_facts(state.db.ed_assault_facts(&filter).await?, level);
    let disclosure = state.disclosure().await;
    let definition = state.db.sv_definition_current().await?;
    let tables = ed_assaults::tables_for(&facts, quarter, &definition, &disclosure, level);
    let records = if level == AccessLevel::Record {
        let total = state.db.ed_assault_total(&filter).await?;
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        let page = page.min(pages);
        let rows = state.db.ed_assaults_page(&filter, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
        Some((rows.iter().map(RecordRow::from).collect(), Paging { page, pages, total }))
    } else {
        None
    };
    let view = EdAssaultsPage {
        layout: Layout::new(&state, "/partner-data/ed-assaults"),
        level: level.to_string(),
        threshold: disclosure.threshold(),
        quarter: quarter.map(|q| q.to_string()).unwrap_or_default(),
        suppressed: tables.iter().any(|t| t.suppressed),
        // The grand total as the tables publish it (suppressed when small at aggregate level).
        total_assaults: tables.first().map_or_else(|| "0".to_string(), |t| t.total.clone()),
        tables,
        records,
    };
    Ok(Html(view.render()?).into_response())
}

fn csv_response(name: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (StatusCode::OK, [(CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

async fn ed_csv(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let Some(slug) = file.strip_suffix(".csv") else { return Err(not_found()) };
    if slug != "records" && !ed_assaults::TABLES.contains(&slug) {
        return Err(not_found());
    }
    let what = format!("ED assaults download {file}");
    if slug == "records" {
        // The records themselves: record level or nothing.
        return match require_dataset(&state, &who, ED, AccessLevel::Record, &what).await? {
            Ok(_) => {
                let filter = EdFilter::default();
                let total = state.db.ed_assault_total(&filter).await?;
                let rows = state.db.ed_assaults(&filter, total.max(1)).await?;
                Ok(csv_response("ed-assaults-records.csv", ed_assaults::records_csv(&rows)))
            }
            Err(()) => Err(no_access("Record-level emergency department data", &who)),
        };
    }
    let level = ed_level(&state, &who, &what).await?;
    let (facts, quarter) = ed_assaults::published_facts(state.db.ed_assault_facts(&EdFilter::default()).await?, level);
    let definition = state.db.sv_definition_current().await?;
    let table = ed_assaults::tables_for(&facts, quarter, &definition, &state.disclosure().await, level)
        .into_iter()
        .find(|t| t.slug == slug);
    // Below record level the file's name states the one quarter it covers.
    let period = quarter.map(|q| format!("-{}-to-{}", q.from, q.to)).unwrap_or_default();
    match table {
        Some(t) => Ok(csv_response(&format!("ed-assaults-{slug}{period}.csv"), t.csv())),
        None => Err(not_found()),
    }
}

/// The indicator datasets the caller may see, as published sections, and the names of the
/// others. Each granted dataset's read goes through `require_dataset` (and is audited at
/// record level).
async fn indicator_sections(
    state: &AppState,
    who: &Principal,
    what: &str,
) -> Result<(Vec<DatasetSection>, Vec<String>), PageError> {
    let values = state.db.partner_indicator_values(&IndicatorFilter::default()).await?;
    let mut small_areas: Vec<String> =
        values.iter().filter(|v| v.area_kind != "district").map(|v| v.area_code.clone()).collect();
    small_areas.sort();
    small_areas.dedup();
    let district_of = state.db.districts_of_areas(&small_areas).await?;
    let names = state.db.datasets().await?;
    let (mut sections, mut withheld) = (Vec::new(), Vec::new());
    for slug in INDICATOR_DATASETS {
        let name = names.iter().find(|d| d.slug == slug).map_or(slug.to_string(), |d| d.name.clone());
        let level = dataset_access(state, who, slug).await?;
        if level == AccessLevel::None {
            withheld.push(name);
            continue;
        }
        let Ok(level) = require_dataset(state, who, slug, level, what).await? else {
            withheld.push(name);
            continue;
        };
        let mine: Vec<_> =
            values.iter().filter(|v| alliance_core::access::indicator_dataset(&v.indicator) == slug).cloned().collect();
        let (rows, suppressed) = partner_indicators::publish(&mine, &state.disclosure().await, level, &district_of);
        sections.push(DatasetSection { slug: slug.to_string(), name, level: level.to_string(), suppressed, rows });
    }
    Ok((sections, withheld))
}

async fn indicators_page(State(state): State<AppState>, Caller(who): Caller) -> Result<Response, PageError> {
    let (sections, withheld) = indicator_sections(&state, &who, "partner indicators page").await?;
    if sections.is_empty() {
        return Err(no_access("Partner indicator data", &who));
    }
    let page = IndicatorsPage {
        layout: Layout::new(&state, "/partner-data/indicators"),
        threshold: state.disclosure().await.threshold(),
        sections,
        withheld,
    };
    Ok(Html(page.render()?).into_response())
}

async fn indicators_csv(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    if file != "values.csv" {
        return Err(not_found());
    }
    let (sections, _) = indicator_sections(&state, &who, "partner indicators download values.csv").await?;
    if sections.is_empty() {
        return Err(no_access("Partner indicator data", &who));
    }
    Ok(csv_response("partner-indicators.csv", partner_indicators::csv(&sections)))
}

#[derive(Template)]
#[template(path = "partner_data_upload.html")]
struct UploadPage {
    layout: Layout,
    kind: String,
    errors: FormErrors,
    done: Option<String>,
}

async fn upload_form(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let page = UploadPage {
        layout: Layout::new(&state, "/partner-data/upload"),
        kind: "ed".into(),
        errors: FormErrors::default(),
        done: None,
    };
    Ok(Html(page.render()?))
}

/// The multipart form's fields: `kind` (`ed`/`indicators`) and `file`. A body that is not a
/// readable multipart form is a 400 in the service's words; a file refused by its checks
/// comes back on the form (422) with the problem on the file field.
async fn upload(
    State(state): State<AppState>,
    Caller(who): Caller,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let render = |kind: &str, errors: FormErrors, done: Option<String>| {
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        let page =
            UploadPage { layout: Layout::new(&state, "/partner-data/upload"), kind: kind.to_string(), errors, done };
        Ok::<_, PageError>((status, Html(page.render()?)).into_response())
    };
    let (mut kind, mut file) = (String::new(), None::<(String, Vec<u8>)>);
    let read = async {
        let mut multipart = multipart.map_err(|e| e.to_string())?;
        while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
            match field.name() {
                Some("kind") => kind = field.text().await.map_err(|e| e.to_string())?,
                Some("file") => {
                    let name = field.file_name().unwrap_or_default().to_string();
                    file = Some((name, field.bytes().await.map_err(|e| e.to_string())?.to_vec()));
                }
                _ => {}
            }
        }
        Ok::<_, String>(())
    };
    if let Err(e) = read.await {
        tracing::debug!(error = %e, "upload refused");
        return Err(bad_request("The upload could not be read. Choose the file again and send the form again."));
    }
    let Some(k) = Kind::parse(&kind) else {
        return render("ed", vec![forms::error("kind", "Choose what kind of file it is")].into(), None);
    };
    let (name, bytes) = file.unwrap_or_default();
    match crate::uploads::import(&state, &who, &ip, k, &name, bytes).await? {
        Uploaded::Done { message, .. } => render(&kind, FormErrors::default(), Some(message)),
        Uploaded::Refused(e) => render(&kind, vec![forms::error("file", e)].into(), None),
        Uploaded::NotSupplier(e) => Err(forbidden(alliance_core::format::capitalised(&e))),
    }
}
