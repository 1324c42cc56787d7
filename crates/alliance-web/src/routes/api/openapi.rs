//! The API contract: an OpenAPI 3.1 document of every `/api/v1` route, generated from the
//! code by `utoipa`, served at `GET /api/v1/openapi.json`, and the page for partner
//! developers at `GET /developers`.
//!
//! Each operation is declared here with `#[utoipa::path]` (its parameters, bodies and
//! responses, the response shapes as `ToSchema` types mirroring what the handlers write).
//! Who may call it is NOT declared here: it is read from the route table
//! (`auth::access::ROUTES`) when the document is built, so the document's security
//! requirements, scopes and roles are the ones the guard enforces. The integration test
//! `api_contract` checks that every `/api/v1` route of the table (which a unit test ties to
//! the router) is in the document and nothing else is, and validates real responses against
//! the schemas.

#![allow(dead_code)]

use std::sync::OnceLock;

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use crate::auth::access::{rule, Allow, SCOPES};
use crate::error::PageError;
use crate::views::public::PublicLayout;
use crate::AppState;

// ---- Schemas: the shapes the handlers write ------------------------------------------

/// An RFC 9457 problem document (`application/problem+json`): every refusal and error of the API.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What kind of problem (e.g. `Bad request`).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What was wrong with this request, in words a developer can act on.
    pub detail: String,
    /// The parameter at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// One group of `GET /api/v1/counts`: the value of each field asked for in `by` (null when
/// the record has none), and the number of records.
#[derive(Serialize, ToSchema)]
pub struct CountRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lsoa: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Records in the group.
    pub count: i64,
}

/// Counts of police recorded crime.
#[derive(Serialize, ToSchema)]
pub struct CountsResponse {
    /// The districts whose records were counted (ONS codes): the one asked for, else the
    /// partnership's. Empty when every record held was counted (`area=everywhere`, or no
    /// partnership profile).
    pub districts: Vec<String>,
    pub rows: Vec<CountRow>,
}

/// How much of a dataset the caller may see.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    None,
    Aggregate,
    Record,
}

/// A dataset and the caller's access to it.
#[derive(Serialize, ToSchema)]
pub struct DatasetAccess {
    /// The dataset's identifier, e.g. `police-street`.
    pub dataset: String,
    pub name: String,
    /// The organisation that owns it (none for open data).
    pub owner: Option<String>,
    pub open_data: bool,
    pub access: Access,
}

#[derive(Serialize, ToSchema)]
pub struct DatasetsResponse {
    pub datasets: Vec<DatasetAccess>,
}

/// What became of an uploaded file.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UploadStatus {
    Imported,
    Unchanged,
    Failed,
}

/// The result of an upload of one file. `import_id` for an imported or unchanged file; `rows`,
/// `rows_without_location` and `replaced` for an imported police file; `error` (naming the
/// line and field) for a refused one, when nothing was imported.
#[derive(Serialize, ToSchema)]
pub struct UploadResult {
    pub file: String,
    pub status: UploadStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_without_location: Option<i64>,
    /// The id of the earlier import of the same force, month and kind that this one
    /// replaced; null when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An intervention (a programme or an action in places), as recorded on `/interventions`.
#[derive(Serialize, ToSchema)]
pub struct Intervention {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub intervention_type: String,
    /// How its place is given: `lsoa`, `ward`, `district` or `geometry`.
    pub place_kind: String,
    pub place_codes: Vec<String>,
    pub crime_types: Vec<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct InterventionsResponse {
    pub interventions: Vec<Intervention>,
}

/// A GeoJSON feature (RFC 7946), coordinates in WGS84 longitude and latitude.
#[derive(Serialize, ToSchema)]
pub struct Feature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Object)]
    pub geometry: Value,
    #[schema(value_type = Object)]
    pub properties: Value,
}

/// A GeoJSON feature collection (RFC 7946).
#[derive(Serialize, ToSchema)]
pub struct FeatureCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    pub features: Vec<Feature>,
}

/// A page of support services in the Open Referral UK (ORUK) format.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServicesPage {
    pub total_elements: i64,
    pub total_pages: i64,
    pub number: i64,
    pub size: i64,
    pub first: bool,
    pub last: bool,
    /// ORUK services (`id`, `name`, `description`, `url`, contacts, schedules, areas).
    #[schema(value_type = Vec<Object>)]
    pub content: Vec<Value>,
}

// ---- Operations ------------------------------------------------------------------------

const FILTERS: &str = "Filters of the stored police data: `crime-type` (a comma list), `from` and `to` (YYYY-MM), `district` (an ONS code), `lsoa` (a comma list), `area` (see below).";

/// The `area` of the analyses of stored records: the partnership's districts by default, as
/// on the map and in `/api/v1/counts`.
const AREA: &str = "Whose records are analysed: `partnership` (the default when `area` is absent: the partnership's districts, as the map shows, unless `district` or `lsoa` is given), `everywhere` (every record held, other forces' too; not with `district`), or a comma list of district ONS codes (records in any of them).";

/// One operation: `#[utoipa::path]` on an empty `fn $name`, with the refusals it may answer
/// listed under `problems` as `STATUS: "why"`, each an RFC 9457 [`Problem`] document, so that
/// every operation declares its problem responses the same way. `responses` holds the others.
macro_rules! operation {
    (
        $name:ident: $method:ident $path:tt, tag = $tag:tt, summary = $summary:tt,
        $(description = $description:tt,)?
        $(params($($param:tt)*),)?
        $(request_body($($body:tt)*),)?
        responses($($response:tt),* $(,)?)
        $(, problems($($status:tt: $why:tt),* $(,)?))? $(,)?
    ) => {
        #[utoipa::path($method, path = $path, tag = $tag, summary = $summary,
            $(description = $description,)?
            $(params($($param)*),)?
            $(request_body($($body)*),)?
            responses(
                $($response,)*
                $($((status = $status, description = $why, body = Problem, content_type = "application/problem+json"),)*)?
            ))]
        fn $name() {}
    };
}

operation!(counts: get "/api/v1/counts", tag = "Police data",
    summary = "Count police recorded crime, grouped",
    params(
        ("by" = String, Query, description = "Fields to group by, a comma list of month, crime-type, district, lsoa, outcome", example = "month,crime-type"),
        ("from" = Option<String>, Query, description = "First month (YYYY-MM)", example = "2025-01"),
        ("to" = Option<String>, Query, description = "Last month (YYYY-MM)", example = "2025-06"),
        ("crime-type" = Option<String>, Query, description = "Only this crime type", example = "Violence and sexual offences"),
        ("district" = Option<String>, Query, description = "Only this local authority district (ONS code); without it, the partnership's districts", example = "E07000198"),
        ("area" = Option<String>, Query, description = "partnership (the default: the partnership's districts) or everywhere (every record held, other areas' and those with no location too); not with district", example = "everywhere"),
    ),
    responses((status = 200, description = "One row per group", body = CountsResponse)),
    problems(400: "A parameter is missing or invalid", 401: "No session and no valid token",
        422: "The district asked for has no LSOA held, so no record can be placed in it (load its area files)"));

operation!(datasets: get "/api/v1/datasets", tag = "Data sharing",
    summary = "Every dataset, with the caller's access to it",
    responses((status = 200, description = "The datasets", body = DatasetsResponse)),
    problems(401: "Not signed in"));

operation!(imports_police: post "/api/v1/imports/police", tag = "Uploads",
summary = "Upload one data.police.uk street or outcomes file",
params(("filename" = String, Query, description = "The file's data.police.uk name (YYYY-MM-FORCE-street.csv or -outcomes.csv, optionally .gz; FORCE is the force as data.police.uk names it in its files)", example = "2025-01-your-force-street.csv")),
request_body(content = String, content_type = "text/csv", description = "The file, as downloaded (up to 256 MB)"),
responses(
    (status = 200, description = "Imported, or unchanged (the same file was imported before)", body = UploadResult),
    (status = 422, description = "The file was refused; nothing was imported", body = UploadResult),
),
problems(
    400: "No or a wrong file name",
    403: "The caller is neither an administrator nor of the organisation that supplies police recorded crime (asked before the file is read)",
    413: "The file is larger than 256 MB",
));

/// A partner upload (`POST /api/v1/imports/…`): the one contract of each dataset a partner
/// organisation supplies, named, summarised and exemplified by `$path`, `$summary` and `$example`.
macro_rules! partner_upload {
    ($name:ident, $path:tt, $summary:tt, $example:tt) => {
        operation!($name: post $path, tag = "Uploads",
            summary = $summary,
            params(("filename" = String, Query, description = "The file's name", example = $example)),
            request_body(content = String, content_type = "text/csv", description = "The file"),
            responses(
                (status = 200, description = "The import's report", body = Object),
                (status = 403, description = "The caller's organisation does not supply this dataset", body = Object),
                (status = 422, description = "The file was refused; nothing was imported", body = UploadResult),
            ));
    };
}

partner_upload!(
    imports_ed,
    "/api/v1/imports/ed",
    "Upload an emergency department assaults file (ISTV CSV or XML)",
    "ed-2025-01.csv"
);
partner_upload!(
    imports_indicators,
    "/api/v1/imports/indicators",
    "Upload a partner indicator file (CSV or .xlsx)",
    "youth-service-2025-q1.csv"
);

operation!(interventions: get "/api/v1/interventions", tag = "Interventions",
    summary = "Every intervention recorded",
    responses((status = 200, description = "The interventions", body = InterventionsResponse)));

operation!(evaluation: get "/api/v1/interventions/{id}/evaluations/{eid}", tag = "Interventions",
summary = "One stored evaluation of an intervention",
params(("id" = i64, Path, description = "The intervention"), ("eid" = i64, Path, description = "The evaluation")),
responses(
    (status = 200, description = "The evaluation: its design, the figures and the verdict", body = Object),
    (status = 404, description = "No such evaluation", body = Object),
));

operation!(evaluate: post "/api/v1/evaluate", tag = "Interventions",
    summary = "Evaluate a design: change in the target, buffer and comparison areas, displacement, verdict",
    request_body(content = Object, content_type = "application/json", description = "The evaluation design (areas, periods, crime types), as `alliance evaluate --design` takes"),
    responses((status = 200, description = "The evaluation report", body = Object)),
    problems(400: "The design cannot be run on the data held"));

operation!(hotspots_get: get "/api/v1/hotspots", tag = "Spatial analysis",
    summary = "Hotspots of the stored police data (Gi*, Gi, local Moran's I) on a grid or per area",
    description = "Parameters: `stat`, `cell`, `origin=X,Y`, `contiguity`, `distance-band`, `cells` (`area` or `bbox`), `areas` (`lsoa21`, `lsoa11`, `ward`), `significance` (`normal` or `permutation`), `permutations`, `seed`, `alpha`, `alternative`, `standardisation`, `format=json|geojson`, `place` (a registered place's id as the study area), and the filters.",
    params(("format" = Option<String>, Query, description = "`json` (the default) or `geojson`"), ("cell" = Option<f64>, Query, description = "Cell size in metres", example = 250), ("area" = Option<String>, Query, description = AREA, example = "everywhere")),
    responses((status = 200, description = "The analysis", body = Object)),
    problems(400: "A parameter is invalid", 422: "Over a bound of the analysis (cells, permutations), refused before any work", 429: "The caller already runs four analyses at once: ask again after `Retry-After` seconds"));

operation!(hotspots_post: post "/api/v1/hotspots", tag = "Spatial analysis",
    summary = "Hotspots of the points sent (British National Grid metres)",
    description = "The body is a CSV with the header `id,x,y,t` or JSON `{\"points\": [{\"id\", \"x\", \"y\", \"t\"}]}`; parameters as for GET.",
    request_body(content = String, content_type = "text/csv", description = "Points: `id,x,y,t`"),
    responses((status = 200, description = "The analysis", body = Object)),
    problems(400: "A parameter or the body is invalid", 422: "Over a bound of the analysis", 429: "The caller already runs four analyses at once: ask again after `Retry-After` seconds"));

operation!(hotspots_optimized: get "/api/v1/hotspots/optimized", tag = "Spatial analysis",
    summary = "Optimized hot spot analysis of the stored police data",
    description = "Parameters: `cell` and `band` (metres, chosen from the data when absent), `alpha`, `format`, and the filters.",
    params(("area" = Option<String>, Query, description = AREA, example = "everywhere")),
    responses((status = 200, description = "The analysis", body = Object)),
    problems(400: "A parameter is invalid", 422: "Over a bound of the analysis", 429: "The caller already runs four analyses at once: ask again after `Retry-After` seconds"));

operation!(hotspots_emerging: get "/api/v1/hotspots/emerging", tag = "Spatial analysis",
    summary = "Emerging hot spot analysis of the stored police data",
    description = "Parameters: `cell`, `band`, `period=month|quarter`, `time-steps`, `confidence=90|95|99`, `place` (a place id of the register as the study area), `format` (`all=true` for every cell in GeoJSON), and the filters (`from`/`to` make the period). Results are cached until the next import.",
    params(("area" = Option<String>, Query, description = AREA, example = "everywhere")),
    responses((status = 200, description = "The analysis", body = Object)),
    problems(400: "A parameter is invalid", 404: "No such place", 422: "Over a bound of the analysis", 429: "The caller already runs four analyses at once: ask again after `Retry-After` seconds"));

operation!(kde_get: get "/api/v1/kde", tag = "Spatial analysis",
    summary = "Kernel density of the stored police data, in events per km²",
    description = "Parameters: `kernel` (`quartic`, `epanechnikov`, `gaussian`), `radius` (metres or `auto`), `truncate`, `cell`, `origin`, `format`, and the filters.",
    params(("area" = Option<String>, Query, description = AREA, example = "everywhere")),
    responses((status = 200, description = "The surface, with `dropped_outside_area`", body = Object)),
    problems(400: "A parameter is invalid", 422: "Over a bound of the analysis", 429: "The caller already runs four analyses at once: ask again after `Retry-After` seconds"));

operation!(kde_post: post "/api/v1/kde", tag = "Spatial analysis",
    summary = "Kernel density of the points sent",
    request_body(content = String, content_type = "text/csv", description = "Points: `id,x,y,t` (or JSON, as for hotspots)"),
    responses((status = 200, description = "The surface", body = Object)),
    problems(400: "A parameter or the body is invalid", 422: "Over a bound of the analysis", 429: "The caller already runs four analyses at once: ask again after `Retry-After` seconds"));

operation!(near_repeat_get: get "/api/v1/near-repeat", tag = "Spatial analysis",
    summary = "Refused: near-repeat analysis needs dates, which the stored data (months) lacks",
    responses(),
    problems(422: "Always: post points with times instead"));

operation!(near_repeat_post: post "/api/v1/near-repeat", tag = "Spatial analysis",
    summary = "Near-repeat (Knox) analysis of the points sent, with times in days",
    description = "Parameters: `space-breaks`, `time-breaks` (comma lists, `inf` allowed), `distance` (`manhattan` or `euclidean`), `permutations`, `seed`.",
    request_body(content = String, content_type = "text/csv", description = "Points: `id,x,y,t`, every point with a time `t` in days"),
    responses((status = 200, description = "The Knox table", body = Object)),
    problems(400: "A parameter or the body is invalid", 422: "Over a bound of the analysis", 429: "The caller already runs four analyses at once: ask again after `Retry-After` seconds"));

operation!(boundaries: get "/api/v1/boundaries", tag = "Spatial analysis",
    summary = "Stored boundaries as GeoJSON (WGS84)",
    params(
        ("kind" = Option<String>, Query, description = "`lsoa21` (the default), `lsoa11` or `ward`"),
        ("district" = Option<String>, Query, description = "Only this district (ONS code)"),
    ),
    responses((status = 200, description = "The boundaries", body = FeatureCollection)),
    problems(400: "A parameter is invalid, unknown or given twice", 422: "Nothing is held of the district (neither its LSOAs nor its name)"));

operation!(streets: get "/api/v1/streets", tag = "Spatial analysis",
    summary = "The streets the police data names, as points (GeoJSON, WGS84)",
    params(("district" = Option<String>, Query, description = "Only this district (ONS code)")),
    responses((status = 200, description = "The streets", body = FeatureCollection)),
    problems(400: "A parameter is unknown or given twice", 422: "No LSOA of the district is held"));

operation!(places: get "/api/v1/places", tag = "Spatial analysis",
    summary = "The place register (parks, town centres, streets, zones) as GeoJSON (WGS84)",
    responses((status = 200, description = "Every registered place, its outline with its name and kind", body = FeatureCollection)));

operation!(referrals_create: post "/api/v1/referrals", tag = "Referrals",
summary = "Make a referral into a commissioned service (with consent; only the personal fields the service needs)",
params(("Idempotency-Key" = Option<String>, Header, description = "Any printable ASCII text up to 200 characters, new for each referral: the same request sent again with it (a retry after a timeout) answers 200 with the referral the first made, and makes no second one")),
request_body(content = Object, content_type = "application/json", description = "The referral: service, reason, needs, source setting, consent and the service's personal fields"),
responses(
    (status = 201, description = "The referral was made", body = Object),
    (status = 200, description = "The same request with the same Idempotency-Key was made before: its referral (`repeated` is true)", body = Object),
),
problems(
    400: "The body is not the JSON expected",
    403: "The caller may not make referrals (a Board member)",
    422: "A field is invalid: `field` and each of `errors` name the body's member, e.g. `person.date_of_birth`",
));

operation!(referrals_event: post "/api/v1/referrals/{id}/events", tag = "Referrals",
summary = "Move a referral on (accepted, declined with a reason, engaged, closed with an outcome)",
params(("id" = i64, Path, description = "The referral")),
request_body(content = Object, content_type = "application/json", description = "The step and its date"),
responses((status = 200, description = "The referral's new status", body = Object)),
problems(
    400: "The body is not the JSON expected",
    403: "The caller's organisation is not the side that takes this step (the receiving service accepts, declines, engages and closes; the referring organisation withdraws)",
    404: "No such referral for this organisation",
    409: "The step does not follow the referral's status",
    422: "The event or its date is invalid (the field is named)",
));

operation!(referrals_figures: get "/api/v1/referrals/figures", tag = "Referrals",
    summary = "Aggregate referral figures, suppressed through the partnership's disclosure policy",
    responses((status = 200, description = "Counts by service, source, need, outcome, waiting time, area and age band", body = Object)));

operation!(services: get "/api/v1/services", tag = "Public",
summary = "Support services (Open Referral UK)",
params(
    ("q" = Option<String>, Query, description = "Words to search for"),
    ("need" = Option<String>, Query, description = "A need the service meets"),
    ("area" = Option<String>, Query, description = "An area it serves"),
    ("age" = Option<i64>, Query, description = "The age of the person needing help, in whole years from 0 to 120"),
    ("postcode" = Option<String>, Query, description = "Nearest first from this postcode, as /find-help (each located service gains distance_km)"),
),
responses(
    (status = 200, description = "One page of every matching service", body = ServicesPage),
    (status = 422, description = "The postcode is not a postcode or not among those held, or the age is not a whole number from 0 to 120"),
));

operation!(openapi_json: get "/api/v1/openapi.json", tag = "Public",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)));

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alliance API",
        version = "1",
        description = "The JSON API of Alliance, the data and delivery platform for violence reduction partnerships. Every path is under `/api/v1`. Partners' systems call it with an API token (`Authorization: Bearer …`) made by the partnership's administrator with the scopes it needs; signed-in users' browsers call it with their session. Errors are RFC 9457 problem documents. See `/developers`."
    ),
    paths(
        counts,
        datasets,
        imports_police,
        imports_ed,
        imports_indicators,
        interventions,
        evaluation,
        evaluate,
        hotspots_get,
        hotspots_post,
        hotspots_optimized,
        hotspots_emerging,
        kde_get,
        kde_post,
        near_repeat_get,
        near_repeat_post,
        boundaries,
        streets,
        places,
        referrals_create,
        referrals_event,
        referrals_figures,
        services,
        openapi_json
    ),
    components(schemas(
        Problem,
        CountRow,
        CountsResponse,
        Access,
        DatasetAccess,
        DatasetsResponse,
        UploadStatus,
        UploadResult,
        Intervention,
        InterventionsResponse,
        Feature,
        FeatureCollection,
        ServicesPage
    ))
)]
struct ApiDoc;

/// The document: utoipa's, with each operation's security, scopes and roles from the route
/// table, and the two ways to authenticate.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| Value::Object(Default::default()));
        with_access(&mut doc);
        doc
    })
}

fn with_access(doc: &mut Value) {
    let scopes: Vec<String> = SCOPES.iter().map(|(s, d)| format!("`{s}`: {d}")).collect();
    doc["components"]["securitySchemes"] = serde_json::json!({
        "token": {
            "type": "http",
            "scheme": "bearer",
            "description": format!("An API token, made by an administrator at /admin/tokens for one organisation with some of these scopes: {}. Tokens expire and can be revoked.", scopes.join("; ")),
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "alliance_session",
            "description": "A signed-in user's session (a browser). Requests other than GET also need the session's CSRF token in the X-CSRF-Token header.",
        },
    });
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, operation) in item.iter_mut() {
            let Some(entry) = rule(&method.to_ascii_uppercase(), path) else { continue };
            let (security, who) = match entry.allow {
                Allow::Public => (serde_json::json!([]), "Anyone: no authentication.".to_string()),
                Allow::Roles(roles) => {
                    let names: Vec<&str> = roles.iter().map(|r| r.code()).collect();
                    let mut security = vec![serde_json::json!({ "session": [] })];
                    let mut who = format!("Signed-in users with the role {}", names.join(", "));
                    if let Some(scope) = entry.token_scope {
                        security.insert(0, serde_json::json!({ "token": [scope] }));
                        who.push_str(&format!("; or an API token with the scope `{scope}`"));
                    }
                    (Value::Array(security), format!("{who}."))
                }
            };
            operation["security"] = security;
            operation["x-alliance-roles"] = match entry.allow {
                Allow::Public => serde_json::json!(["anyone"]),
                Allow::Roles(roles) => roles.iter().map(|r| Value::from(r.code())).collect(),
            };
            if let Some(scope) = entry.token_scope {
                operation["x-alliance-token-scope"] = Value::from(scope);
            }
            let description = operation.get("description").and_then(Value::as_str).unwrap_or_default().to_string();
            operation["description"] = Value::from(if description.is_empty() {
                format!("Who: {who}")
            } else {
                format!("{description}\n\nWho: {who}")
            });
        }
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn get() -> Response {
    let mut response = axum::Json(document()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

// ---- The page for partner developers -----------------------------------------------------

/// One operation as the page lists it.
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub who: String,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
pub struct ApiDocsPage {
    pub layout: PublicLayout,
    pub endpoints: Vec<Endpoint>,
    pub scopes: Vec<(&'static str, &'static str)>,
    /// The example police file's name, of the partnership's (first) force:
    /// `2025-01-wiltshire-street.csv`.
    pub police_file: String,
}

/// Every operation of the document, in path order.
pub fn endpoints() -> Vec<Endpoint> {
    let mut out = Vec::new();
    let Some(paths) = document().get("paths").and_then(Value::as_object) else { return out };
    for (path, item) in paths {
        let Some(item) = item.as_object() else { continue };
        for (method, op) in item {
            let method = method.to_ascii_uppercase();
            let Some(entry) = rule(&method, path) else { continue };
            let who = match entry.allow {
                Allow::Public => "Anyone".to_string(),
                Allow::Roles(roles) => roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
            };
            out.push(Endpoint {
                method,
                path: path.clone(),
                summary: op.get("summary").and_then(Value::as_str).unwrap_or_default().to_string(),
                who,
                scope: entry.token_scope.unwrap_or("").to_string(),
            });
        }
    }
    out
}

/// `GET /developers`.
pub async fn page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(
        ApiDocsPage {
            layout: PublicLayout::new(&state, "/developers"),
            endpoints: endpoints(),
            scopes: SCOPES.to_vec(),
            police_file: example_police_file(state.partnership.get(&state.db).await.as_deref()),
        }
        .render()?,
    ))
}

/// A police file name as data.police.uk gives it, of the partnership's first force (a
/// placeholder force before a profile is set), for the developers page's example.
fn example_police_file(profile: Option<&alliance_core::partnership::Profile>) -> String {
    let force = profile.and_then(|p| p.forces.first()).map_or("your-force", |f| f.as_str());
    format!("2025-01-{force}-street.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every partnership reads the one document: its examples name no force, and the police
    /// file's is the developers page's placeholder before a profile is set.
    #[test]
    fn the_document_names_no_partnerships_force() {
        let text = document().to_string().to_ascii_lowercase();
        assert!(!text.contains("staffordshire"), "a force's name in the document");
        assert!(text.contains(&example_police_file(None)), "the police file's example");
    }

    /// The analyses of stored records say that `area` defaults to the partnership's.
    #[test]
    fn the_analyses_state_their_default_area() {
        for path in ["/api/v1/hotspots", "/api/v1/hotspots/optimized", "/api/v1/hotspots/emerging", "/api/v1/kde"] {
            let params = document()["paths"][path]["get"]["parameters"].as_array().expect(path);
            let area = params.iter().find(|p| p["name"] == "area").expect(path);
            assert!(area["description"].as_str().unwrap().contains("the default"), "{path}");
        }
    }
}
