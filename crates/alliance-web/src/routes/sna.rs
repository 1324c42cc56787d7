//! `GET /sna`: the Strategic Needs Assessment as a page (filters as a GET form);
//! `GET /sna/tables/{name}.csv`: any of its tables as CSV; `GET /sna/definition`: the
//! serious violence definition, read-only; `GET /sna/report.html`: the report file to download.
//! Each takes `area=CODE` (repeated) or `place=ID` (a place of the register: the police
//! records inside its outline), and `from`/`to`.

use crate::extract::Path;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use alliance_core::access::AccessLevel;

use crate::auth::access::dataset_access;
use crate::auth::{Caller, Principal};
use crate::views::sna::page::{field_error, parse_query, DefinitionPage, SnaPage};
use crate::{AppState, PageError};
use alliance_app::sna::{EdPermission, EdSection, SnaReport, SnaRequest};

/// Emergency department figures appear only for readers with at least aggregate access to
/// the `ed-assaults` dataset (the one access check decides): suppressed, over one whole
/// calendar quarter and the whole area at aggregate level; exact at record level.
async fn ed_permission(state: &AppState, who: &Principal) -> Result<EdPermission, alliance_db::DbError> {
    Ok(match dataset_access(state, who, "ed-assaults").await? {
        AccessLevel::Record => EdPermission::Record,
        AccessLevel::Aggregate => EdPermission::Included,
        AccessLevel::None => EdPermission::Withheld,
    })
}

/// The query's request and errors, a place id not in the register being one.
async fn request_of(
    state: &AppState,
    who: &Principal,
    query: Option<&str>,
    places: &[(i64, String)],
) -> Result<(alliance_app::sna::SnaRequest, Vec<(String, String)>, String, String), PageError> {
    let (mut request, mut errors, from, to) = parse_query(query);
    request.ed = ed_permission(state, who).await?;
    if let Some(id) = request.place {
        if !places.iter().any(|(p, _)| *p == id) {
            errors.push(("place".into(), "Choose a place from the list".into()));
        }
    }
    // Districts and months no record held can answer: refused by the use case's own rule,
    // shown in the form's error summary rather than as a report of no crime.
    if errors.is_empty() {
        match request.check(&state.db).await {
            Ok(()) => {}
            Err(alliance_app::AppError::Invalid { field, reason }) => {
                errors.push(field_error(alliance_app::AppError::Invalid { field, reason }))
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok((request, errors, from, to))
}

/// The request of a download (a table, the report file); a query with errors is a 422
/// plain-text answer listing them, as a download has no form to show them on.
async fn download_request(
    state: &AppState,
    who: &Principal,
    query: Option<&str>,
) -> Result<Result<alliance_app::sna::SnaRequest, Response>, PageError> {
    let places = state.db.place_choices().await?;
    let (request, errors, _, _) = request_of(state, who, query, &places).await?;
    if errors.is_empty() {
        return Ok(Ok(request));
    }
    let text = errors.iter().map(|e| format!("{}: {}", e.0, e.1)).collect::<Vec<_>>().join("\n");
    Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, text).into_response()))
}

/// The report for `request`, kept until the data changes (`AppState::sna`): on 20 million
/// records one district's report took about 80 ms to build alone and 550 ms each under 20
/// readers at once, for answers that change only with the data. The key is the whole request,
/// which holds the reader's emergency department permission, and the disclosure policy in
/// force: a reader is never given a report built for other rights or another threshold.
async fn kept_report(state: &AppState, request: &SnaRequest) -> Result<std::sync::Arc<SnaReport>, PageError> {
    let disclosure = state.disclosure().await;
    let key = format!("{request:?} {disclosure:?}");
    let build = || SnaReport::build(&state.db, request, &disclosure);
    let (report, _) = state.sna.get::<_, _, alliance_app::AppError>(&state.db, &key, build).await?;
    Ok(report)
}

pub async fn get(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let places = state.db.place_choices().await?;
    let (request, errors, from, to) = request_of(&state, &who, query.as_deref(), &places).await?;
    let districts = state.db.districts().await?;
    let partnership_area = state.db.partnership_area().await?;
    let (status, body, covered) = if errors.is_empty() {
        let report = kept_report(&state, &request).await?;
        (StatusCode::OK, alliance_reports::sna::body_html(&report, true), report.area_codes.clone())
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, String::new(), request.areas.clone())
    };
    // The form shows the districts the report covers: the partnership's when none was asked for.
    let shown = SnaRequest { areas: covered, ..request.clone() };
    let mut page = SnaPage::new(
        &state,
        &districts,
        &partnership_area,
        &places,
        &shown,
        errors,
        (from, to),
        query.as_deref(),
        body,
    );
    page.force_note = alliance_app::forces::ForceCoverage::load(&state.db).await?.note();
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn table_csv(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let request = match download_request(&state, &who, query.as_deref()).await? {
        Ok(request) => request,
        Err(refused) => return Ok(refused),
    };
    let Some(name) = file.strip_suffix(".csv") else {
        return Ok((StatusCode::NOT_FOUND, "no such table").into_response());
    };
    let report = kept_report(&state, &request).await?;
    // An emergency department table below record level covers one fixed quarter, which the
    // file's name states (the page says why).
    let period = match &report.ed {
        EdSection::Data(f) if name.starts_with("ed-") => {
            f.published_period.map(|p| format!("-{}-to-{}", p.from, p.to)).unwrap_or_default()
        }
        _ => String::new(),
    };
    Ok(match alliance_reports::sna::table(&report, name) {
        Some(t) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"sna-{name}{period}.csv\"")),
            ],
            t.csv(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such table").into_response(),
    })
}

/// `GET /sna/report.html?area=…&from=…&to=…`: the report as one self-contained HTML file to
/// download, the same file `alliance sna --out` writes, built by the same use case with the
/// reader's own rights (emergency department figures only for readers with aggregate access,
/// suppressed under the partnership's threshold).
pub async fn report_file(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let request = match download_request(&state, &who, query.as_deref()).await? {
        Ok(request) => request,
        Err(refused) => return Ok(refused),
    };
    let report = kept_report(&state, &request).await?;
    let period = report.period.map(|p| format!("-{}-to-{}", p.from, p.to)).unwrap_or_default();
    let name: String = format!("strategic-needs-assessment{period}.html")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        alliance_reports::sna::standalone_html(&report),
    )
        .into_response())
}

pub async fn definition(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let definition = state.db.sv_definition_current().await?;
    let versions = state.db.sv_definition_versions().await?;
    Ok(Html(DefinitionPage::new(&state, definition, versions).render()?))
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/sna", axum::routing::get(get))
        .route("/sna/definition", axum::routing::get(definition))
        .route("/sna/tables/{file}", axum::routing::get(table_csv))
        .route("/sna/report.html", axum::routing::get(report_file))
}
