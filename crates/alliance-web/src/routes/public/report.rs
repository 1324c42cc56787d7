//! `GET/POST /report-unsafe-place`: the public report form; `GET /report-unsafe-place/sent`;
//! `GET /report-unsafe-place/areas`: the wards the form's map (JavaScript only) lets people
//! click; `GET /staff/unsafe-places` and `POST /staff/unsafe-places/{id}`: moderation.

use alliance_app::report_area::ReportArea;
use alliance_db::public::reports::{Decision, NewUnsafeReport, AGE_BANDS, GENDERS, REASONS, TIMES_OF_DAY};
use alliance_db::public::streets::PlaceLookup;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::NaiveDate;

use super::guard::{PublicForm, HONEYPOT};
use super::{allowed, csrf, too_many};
use crate::auth::{actor_of, ClientIp, CurrentUser};
use crate::error::bad_request;
use crate::extract::{Form, Path};
use crate::routes::see_other;
use crate::views::public::{form_of, FormErrors, MessagePage, PublicLayout, ReportPage, StaffReportsPage};
use crate::views::Layout;
use crate::{AppState, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/report-unsafe-place", get(form).post(submit))
        .route("/report-unsafe-place/sent", get(sent))
        .route("/report-unsafe-place/areas", get(areas))
        .route("/staff/unsafe-places", get(queue))
        .route("/staff/unsafe-places/{id}", post(moderate))
}

/// The longest place name looked up (the longest street and town names are under 80).
pub const MAX_PLACE_CHARS: usize = 200;

/// Why a report was not accepted: the errors, and the places to choose from when a street
/// name was ambiguous.
#[derive(Default)]
struct Invalid {
    errors: FormErrors,
    place_choices: Vec<String>,
    /// The point sent was refused: the form comes back without it (it is a hidden field,
    /// which a reporter without the map could not otherwise clear).
    drop_point: bool,
}

/// The reasons ticked: the one field of the form that repeats.
/// The form's one-time key as sent, if it sent one.
fn submission_of(fields: &[(String, String)]) -> Option<String> {
    fields.iter().find(|(name, _)| name == crate::forms::SUBMISSION).map(|(_, v)| v.trim().to_string())
}

fn reasons_of(fields: &[(String, String)]) -> Vec<String> {
    fields.iter().filter(|(name, _)| name == "reasons").map(|(_, v)| v.trim().to_string()).collect()
}

/// What the form offers and checks that comes from stored data: the ward and district names
/// (the place field's suggestions), whether postcodes are held, whether the map has wards to
/// draw, and the partnership's area a place must lie in. Kept until the data changes, so a
/// submission reads no boundaries.
#[derive(Debug)]
pub struct ReportChoices {
    place_names: Vec<String>,
    postcodes_held: bool,
    wards_held: bool,
    area: ReportArea,
}

async fn choices(state: &AppState) -> Result<std::sync::Arc<ReportChoices>, PageError> {
    state
        .report_choices
        .get(&state.db, || async {
            Ok::<_, PageError>(ReportChoices {
                place_names: state.db.place_names().await?,
                postcodes_held: state.db.postcodes_held().await?,
                wards_held: state.db.partnership_wards_held().await?,
                area: ReportArea::load(&state.db).await?,
            })
        })
        .await
}

async fn page(state: &AppState, fields: &[(String, String)], invalid: Invalid) -> Result<String, PageError> {
    let Invalid { errors, place_choices, drop_point } = invalid;
    let choices = choices(state).await?;
    let mut values = form_of(fields);
    if drop_point {
        values.values.remove("longitude");
        values.values.remove("latitude");
    }
    Ok(ReportPage {
        layout: PublicLayout::new(state, "/report-unsafe-place"),
        csrf: csrf(),
        submission: submission_of(fields).filter(|k| !k.is_empty()).unwrap_or_else(crate::auth::random_token),
        errors,
        values,
        reasons_ticked: reasons_of(fields),
        reasons: REASONS,
        times: TIMES_OF_DAY,
        age_bands: AGE_BANDS,
        genders: GENDERS,
        place_names: choices.place_names.clone(),
        place_choices,
        threshold: state.disclosure().await.threshold(),
        postcodes_held: choices.postcodes_held,
        wards_held: choices.wards_held,
    }
    .render()?)
}

async fn form(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(page(&state, &[], Invalid::default()).await?))
}

/// The district of a postcode as a place, when the district is known to Alliance.
async fn district_place(state: &AppState, code: Option<&str>) -> Result<Option<alliance_db::public::Place>, PageError> {
    let Some(code) = code else { return Ok(None) };
    Ok(state.db.districts().await?.into_iter().find(|d| d.code == code).map(|d| alliance_db::public::Place {
        kind: "district".into(),
        code: d.code.clone(),
        name: d.name,
        district_code: Some(d.code),
    }))
}

/// The refusal of a typed place outside the partnership's area.
fn outside_area(area: &ReportArea, typed: &str) -> String {
    let name = area.name();
    format!("Choose a place in {name}: \"{typed}\" is outside the partnership's area")
}

/// Checks the form; `Ok` holds the report to store. When the partnership's profile names
/// districts, the place must lie in them (`alliance_app::report_area`): a typed place by its
/// district, a point on the map inside their outline.
async fn validate(
    state: &AppState,
    fields: &[(String, String)],
    today: NaiveDate,
) -> Result<Result<NewUnsafeReport, Invalid>, PageError> {
    let v = form_of(fields);
    let get = |name: &str| v.get(name).unwrap_or_default();
    let mut errors = FormErrors::default();
    let mut place_choices = Vec::new();
    let choices = choices(state).await?;
    let area = &choices.area;
    let (lon, lat) = (get("longitude"), get("latitude"));
    let mut point = match (lon.as_str(), lat.as_str()) {
        ("", "") => None,
        (lon, lat) => match (lon.parse::<f64>(), lat.parse::<f64>()) {
            (Ok(lon), Ok(lat)) if !((-9.0..=2.5).contains(&lon) && (49.0..=61.0).contains(&lat)) => {
                errors.add("place", "The point on the map is not in Great Britain: choose it again or type the place");
                None
            }
            (Ok(_), Ok(_)) if !area.can_place_points() => {
                errors.add(
                    "place",
                    format!("We cannot check points on the map in {} yet: type the place instead", area.name()),
                );
                None
            }
            (Ok(lon), Ok(lat)) if !area.admits_point(lon, lat) => {
                errors.add(
                    "place",
                    format!(
                        "Choose a point in {}: the point you chose is outside the partnership's area. Choose again on the map or type the place",
                        area.name()
                    ),
                );
                None
            }
            (Ok(lon), Ok(lat)) => Some((lon, lat)),
            _ => {
                errors.add("place", "The point on the map is not in Great Britain: choose it again or type the place");
                None
            }
        },
    };
    let typed = get("place");
    let typed = typed.as_str();
    let mut place = None;
    let mut place_text = None;
    let drop_point = errors.has("place");
    if drop_point {
        // The point was refused: one error for the field, about the point.
    } else if typed.chars().count() > MAX_PLACE_CHARS {
        errors.add(
            "place",
            format!("Enter a place of at most {MAX_PLACE_CHARS} characters, such as Church Street or Market Square"),
        );
    } else if typed.is_empty() && point.is_none() {
        errors.add(
            "place",
            "Enter where it was: a street, town, village or ward, such as Church Street or Market Square",
        );
    } else if alliance_ingest::postcodes::normalise_postcode(typed).is_some() {
        // A postcode (from the postcodes imported, `alliance import postcodes`): its centre is
        // the point (shown publicly only as its 250 m cell), its ward (else district) the area.
        match alliance_app::postcodes::locate(&state.db, typed).await? {
            Ok(at)
                if !area.admits_district(at.district_code.as_deref())
                    && !area.admits_point(at.longitude, at.latitude) =>
            {
                errors.add("place", outside_area(area, &at.postcode));
            }
            Ok(at) => {
                let (lon, lat) = (at.longitude, at.latitude);
                point = point.or(Some((lon, lat)));
                place = match state.db.ward_at(lon, lat).await? {
                    Some(ward) => Some(ward),
                    None => district_place(state, at.district_code.as_deref()).await?,
                };
                place_text = Some(format!("Near {}", at.postcode));
            }
            Err(_) if point.is_some() => {}
            Err(unplaced) => {
                errors.add("place", format!("{}; or enter a street, town, village or ward instead", unplaced.message()))
            }
        }
    } else if !typed.is_empty() {
        match state.db.locate_place(typed).await? {
            PlaceLookup::Area(p) if !area.admits_place(&p) => errors.add("place", outside_area(area, typed)),
            PlaceLookup::Street { area: ref a, point: (x, y), .. } if !area.admits_place(a) && !area.admits_point(x, y) => {
                errors.add("place", outside_area(area, typed))
            }
            PlaceLookup::Area(p) => place = Some(p),
            // A clicked point says more than a street's: keep it, with the street's ward.
            PlaceLookup::Street { label, area, point: at } => {
                place = Some(area);
                place_text = Some(label);
                point = point.or(Some(at));
            }
            PlaceLookup::Choose { .. } | PlaceLookup::NotFound if point.is_some() => {}
            PlaceLookup::Choose { street, not_in, choices } => {
                let example = choices.first().cloned().unwrap_or_default();
                errors.add(
                    "place",
                    match not_in {
                        None => format!(
                            "There is more than one {street}: enter which one you mean from the list, such as {example}"
                        ),
                        Some(_) => format!(
                            "We could not find {street} in the place you gave: enter one from the list, such as {example}"
                        ),
                    },
                );
                place_choices = choices;
            }
            PlaceLookup::NotFound => errors.add(
                "place",
                format!(
                    "We could not find a place called \"{typed}\": enter a street, town, village or ward, such as Church Street or Market Square"
                ),
            ),
        }
    }
    let date = match (get("date-day").parse::<u32>(), get("date-month").parse::<u32>(), get("date-year").parse::<i32>())
    {
        (Ok(d), Ok(m), Ok(y)) => NaiveDate::from_ymd_opt(y, m, d),
        _ => None,
    };
    match date {
        None => errors.add("date-day", "Enter the date it happened, such as 27 3 2025"),
        Some(d) if d > today => errors.add("date-day", "The date must be today or in the past"),
        Some(d) if (today - d).num_days() > 366 => errors.add("date-day", "The date must be within the last year"),
        Some(_) => {}
    }
    let time = get("time-of-day");
    let time = time.as_str();
    if !TIMES_OF_DAY.iter().any(|(s, _)| *s == time) {
        errors.add("time-of-day", "Select roughly what time of day it was");
    }
    let reasons: Vec<String> = reasons_of(fields).into_iter().filter(|r| !r.is_empty()).collect();
    if reasons.is_empty() {
        errors.add("reasons", "Select what made you feel unsafe");
    } else if !reasons.iter().all(|r| REASONS.iter().any(|(s, _)| s == r)) {
        errors.add("reasons", "Select from the choices given");
    }
    let optional = |name: &str, allowed: &[&str]| {
        let value = get(name);
        allowed.contains(&value.as_str()).then_some(value)
    };
    if !errors.is_empty() {
        return Ok(Err(Invalid { errors, place_choices, drop_point }));
    }
    Ok(Ok(NewUnsafeReport {
        place_text: place_text
            .or_else(|| place.as_ref().map(|p| p.name.clone()))
            .unwrap_or_else(|| "Point on the map".to_string()),
        place,
        point,
        incident_date: date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        time_of_day: time.to_string(),
        reasons,
        age_band: optional("age-band", AGE_BANDS),
        gender: optional("gender", GENDERS),
        submission: submission_of(fields),
    }))
}

async fn submit(
    State(state): State<AppState>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if form_of(&fields).get(HONEYPOT).is_some() {
        return Ok(see_other("/report-unsafe-place/sent"));
    }
    if !allowed(&state, PublicForm::UnsafeReport.any()).await? {
        return too_many(&state, "/report-unsafe-place");
    }
    let today = alliance_db::clock::today_date();
    match validate(&state, &fields, today).await? {
        Err(invalid) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page(&state, &fields, invalid).await?)).into_response())
        }
        Ok(report) => {
            if !allowed(&state, PublicForm::UnsafeReport.accepted()).await? {
                return too_many(&state, "/report-unsafe-place");
            }
            state.db.submit_unsafe_report(&report).await?;
            Ok(see_other("/report-unsafe-place/sent"))
        }
    }
}

/// The clickable wards of the form's map, simplified (see `alliance_app::spatial::place_picker_geojson`).
async fn areas(State(state): State<AppState>) -> Result<Response, PageError> {
    let geojson = alliance_app::spatial::place_picker_geojson(&state.db).await?;
    Ok(([(axum::http::header::CACHE_CONTROL, "public, max-age=3600")], axum::Json(geojson)).into_response())
}

async fn sent(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(
        MessagePage {
            layout: PublicLayout::new(&state, "/report-unsafe-place"),
            title: "Thank you: your report was sent".into(),
            paragraphs: vec![
                format!(
                    "We check every report before it is used. Reports are published only as counts for an area, never fewer than {} together.",
                    state.disclosure().await.threshold()
                ),
                "This is not a way to report a crime. If you are in danger, call 999. To report a crime that is not an emergency, call 101 or report it online at police.uk.".into(),
            ],
            link: Some(("/you-said-we-did".into(), "See what the partnership has done about reports".into())),
        }
        .render()?,
    ))
}

async fn queue(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let counts = state.db.unsafe_report_status_counts().await?;
    Ok(Html(
        StaffReportsPage {
            layout: Layout::new(&state, "/staff/unsafe-places"),
            pending: state.db.unsafe_reports("pending", 200).await?,
            recently_approved: state.db.recently_approved_reports(20).await?,
            approved: counts.get("approved").copied().unwrap_or(0),
            rejected: counts.get("rejected").copied().unwrap_or(0),
            cells: state.db.unsafe_report_cells().await?,
            threshold: state.disclosure().await.threshold(),
        }
        .render()?,
    ))
}

#[derive(serde::Deserialize)]
struct Moderation {
    #[serde(default)]
    decision: String,
}

/// Approves or rejects a pending report. A report that is not pending (unknown, or already
/// moderated) is a 404: the link named nothing to moderate.
async fn moderate(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Path(id): Path<i64>,
    Form(form): Form<Moderation>,
) -> Result<Response, PageError> {
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        "withdraw" => Decision::WithdrawApproval,
        _ => {
            return Err(bad_request("The decision must be to approve or reject the report, or withdraw its approval."))
        }
    };
    state.db.moderate_unsafe_report(id, decision, &actor_of(&me, &ip)).await?;
    Ok(see_other("/staff/unsafe-places"))
}
