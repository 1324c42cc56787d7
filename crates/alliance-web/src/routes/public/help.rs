//! `GET /find-help`: the directory of support services and positive activities (a GET form,
//! no JavaScript; with a postcode, the nearest services first, `alliance_app::directory`);
//! `GET /api/v1/services`: the same search (`alliance_app::directory::search`, nearest first
//! with a postcode) as an Open Referral UK page.

use alliance_db::public::services::ServiceSearch;
use alliance_ingest::oruk::{to_oruk, NEEDS};
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};

use crate::extract::{ApiQuery, Query};
use crate::views::public::{form_of, FindHelpPage, Form, PublicLayout};
use crate::{ApiError, AppState, PageError};

pub fn routes() -> Router<AppState> {
    Router::new().route("/find-help", get(find_help)).route("/api/v1/services", get(api_services))
}

fn search_of(v: &Form) -> ServiceSearch {
    let get = |name: &str| v.get(name).unwrap_or_default();
    ServiceSearch {
        text: get("q"),
        need: get("need"),
        area: get("area"),
        age: age_of(&get("age")).ok().flatten(),
        kind: get("kind"),
    }
}

/// The age asked about: empty is any age; anything else must be a whole number of years
/// from 0 to 120. (Ignored silently, `age=abc` listed services for every age as if they
/// matched it.)
fn age_of(text: &str) -> Result<Option<i64>, &'static str> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .ok()
            .filter(|a: &i64| (0..=120).contains(a))
            .map(Some)
            .ok_or("Enter the age as a whole number of years, like 15, or leave it empty"),
    }
}

async fn find_help(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let mut values = form_of(&query);
    let areas = state.db.service_areas().await?;
    // The search matches an area in any case (`?area=stoke-on-trent`); the list shows it
    // chosen in its own spelling.
    if let Some(area) = areas.iter().find(|a| a.eq_ignore_ascii_case(values.value("area").trim())) {
        values.values.insert("area".into(), area.clone());
    }
    let postcode: String = values.value("postcode").chars().take(16).collect();
    let (services, distances, postcode_error) =
        match alliance_app::directory::search(&state.db, &search_of(&values), &postcode).await? {
            Ok(found) => {
                let distances: Vec<Option<f64>> = found.iter().map(|n| n.km).collect();
                (found.into_iter().map(|n| n.service).collect(), distances, None)
            }
            // A postcode that cannot be placed: said on its field, and the search runs without it.
            Err(unplaced) => {
                let services = state.db.services(&search_of(&values)).await?;
                let none = vec![None; services.len()];
                (services, none, Some(unplaced.message()))
            }
        };
    let age_error = age_of(&values.value("age")).err().map(str::to_string);
    Ok(Html(
        FindHelpPage {
            layout: PublicLayout::new(&state, "/find-help"),
            searched: !query.is_empty(),
            values,
            needs: NEEDS,
            areas,
            services,
            distances,
            postcode_error,
            age_error,
        }
        .render()?,
    ))
}

/// ORUK's paged list of services (`content` holds the services). Filters: `text`/`q`,
/// `need` (a taxonomy id of the `alliance-need` vocabulary), `area`, `age`, `kind`; with
/// `postcode`, the order of `/find-help` (nearest first, each located service with its
/// `distance_km`), and a postcode that cannot be placed is a 422 naming it. One page holds
/// every match.
async fn api_services(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<Vec<(String, String)>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut values = form_of(&query);
    if values.get("q").is_none() {
        let text = values.value("text");
        values.values.insert("q".into(), text);
    }
    if let Err(reason) = age_of(&values.value("age")) {
        return Err(ApiError::Invalid { field: "age", reason: reason.to_string() });
    }
    let postcode: String = values.value("postcode").chars().take(16).collect();
    let found = alliance_app::directory::search(&state.db, &search_of(&values), &postcode)
        .await?
        .map_err(|unplaced| ApiError::Invalid { field: "postcode", reason: unplaced.message() })?;
    let mut services = Vec::with_capacity(found.len());
    for near in &found {
        let mut service = serde_json::to_value(to_oruk(&near.service))
            .map_err(|e| ApiError::Internal(format!("a service as ORUK JSON: {e}")))?;
        if let (Some(km), Some(fields)) = (near.km, service.as_object_mut()) {
            fields.insert("distance_km".into(), serde_json::json!((km * 10.0).round() / 10.0));
        }
        services.push(service);
    }
    let n = services.len();
    Ok(Json(serde_json::json!({
        "totalElements": n,
        "totalPages": 1,
        "number": 1,
        "size": n,
        "first": true,
        "last": true,
        "content": services,
    })))
}
