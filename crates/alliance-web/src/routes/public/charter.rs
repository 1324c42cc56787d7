//! The partnership's charter (named by its profile, `charter_name`): `GET /safer-places` (the public directory and
//! map of current signatories), `GET/POST /safer-places/join` (an organisation applies),
//! `GET /staff/safer-places` and `POST /staff/safer-places/{id}` (verify, return, renew).

use alliance_db::public::charter::{NewPledge, NewSignatory, NewVenue};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::guard::{PublicForm, HONEYPOT};
use super::{allowed, csrf, too_many};
use crate::auth::{actor, CurrentUser};
use crate::error::{bad_request, invalid, not_found};
use crate::extract::{Form, Path, Query};
use crate::routes::see_other;
use crate::views::public::{
    form_of, DirectoryPage, FormErrors, JoinPage, MapPoint, MessagePage, PublicLayout, StaffCharterPage,
};
use crate::views::Layout;
use crate::{AppState, PageError};

/// The longest name (of the organisation, a venue, a place, the contact or their email).
const MAX_NAME: usize = 200;
/// The longest address.
const MAX_ADDRESS: usize = 500;
/// The longest postcode (a phone number may have three times as many characters).
const MAX_POSTCODE: usize = 10;
/// The longest description of how a commitment is met, or of its evidence.
const MAX_TEXT: usize = 2_000;

pub const ORG_TYPES: &[&str] = &[
    "Pub, bar or club",
    "Restaurant or cafe",
    "Shop or shopping centre",
    "Transport",
    "Leisure or sport",
    "Education",
    "Health",
    "Public sector",
    "Charity or community group",
    "Other",
];

/// Venues the join form offers.
const VENUE_SLOTS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/safer-places", get(directory))
        .route("/safer-places/join", get(join_form).post(join))
        .route("/safer-places/join/sent", get(sent))
        .route("/staff/safer-places", get(staff))
        .route("/staff/safer-places/{id}", post(decide))
}

/// SVG map: ward outlines and venue dots in a 600 × 600 box (equirectangular with the
/// longitude scaled by cos(latitude), good enough for a picture of a county).
fn map(
    boundaries: &[alliance_db::areas::StoredBoundary],
    venues: &[(f64, f64, String)],
) -> (Vec<String>, Vec<MapPoint>) {
    let mut rings: Vec<Vec<(f64, f64)>> = Vec::new();
    for b in boundaries {
        let Ok(g) = serde_json::from_str::<serde_json::Value>(&b.geometry) else { continue };
        let polygons = match g["type"].as_str() {
            Some("Polygon") => vec![g["coordinates"].clone()],
            Some("MultiPolygon") => g["coordinates"].as_array().cloned().unwrap_or_default(),
            _ => continue,
        };
        for p in polygons {
            let Some(outer) = p.get(0).and_then(|r| r.as_array()) else { continue };
            let step = (outer.len() / 40).max(1);
            let ring: Vec<(f64, f64)> =
                outer.iter().step_by(step).filter_map(|c| Some((c.get(0)?.as_f64()?, c.get(1)?.as_f64()?))).collect();
            if ring.len() > 2 {
                rings.push(ring);
            }
        }
    }
    let all = rings.iter().flatten().copied().chain(venues.iter().map(|(x, y, _)| (*x, *y)));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return (Vec::new(), Vec::new());
    }
    let k = ((y0 + y1) / 2.0).to_radians().cos();
    let scale = 580.0 / ((x1 - x0) * k).max(y1 - y0).max(1e-6);
    let px = |x: f64, y: f64| (10.0 + (x - x0) * k * scale, 10.0 + (y1 - y) * scale);
    let outlines = rings
        .iter()
        .map(|r| {
            let mut d = String::new();
            for (i, (x, y)) in r.iter().enumerate() {
                let (a, b) = px(*x, *y);
                d.push_str(&format!("{}{a:.1} {b:.1}", if i == 0 { "M" } else { "L" }));
            }
            d.push('Z');
            d
        })
        .collect();
    let points = venues
        .iter()
        .map(|(x, y, label)| {
            let (a, b) = px(*x, *y);
            MapPoint { x: (a * 10.0).round() / 10.0, y: (b * 10.0).round() / 10.0, label: label.clone() }
        })
        .collect();
    (outlines, points)
}

async fn directory(
    State(state): State<AppState>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let q = form_of(&query).get("q").unwrap_or_default();
    let today = alliance_db::clock::today_date();
    let signatories = state.db.charter_directory(&q, today).await?;
    let mut venues = Vec::new();
    let mut unmapped = 0;
    for s in &signatories {
        for v in &s.venues {
            // A venue given without a point is placed at its postcode, when the postcode is
            // among those imported (`alliance import postcodes`).
            let point = match v.point {
                Some(p) => Some(p),
                None => state.db.postcode(&v.postcode).await?.map(|p| (p.longitude, p.latitude)),
            };
            match point {
                Some((lon, lat)) => venues.push((lon, lat, format!("{}: {}", s.name, v.name))),
                None => unmapped += 1,
            }
        }
    }
    let (map_outlines, map_points) = map(&state.db.partnership_wards().await?, &venues);
    Ok(Html(
        DirectoryPage {
            layout: PublicLayout::new(&state, "/safer-places"),
            query: q,
            signatories,
            commitments: state.db.charter_commitments().await?,
            map_outlines,
            map_points,
            unmapped,
        }
        .render()?,
    ))
}

async fn join_page(state: &AppState, mut values: crate::forms::Form, errors: FormErrors) -> Result<String, PageError> {
    crate::forms::ensure_submission_key(&mut values.values);
    Ok(JoinPage {
        layout: PublicLayout::new(state, "/safer-places"),
        csrf: csrf(),
        errors,
        values,
        commitments: state.db.charter_commitments().await?,
        org_types: ORG_TYPES,
    }
    .render()?)
}

async fn join_form(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    Ok(Html(join_page(&state, crate::forms::Form::default(), FormErrors::default()).await?))
}

async fn validate(state: &AppState, v: &crate::forms::Form) -> Result<Result<NewSignatory, FormErrors>, PageError> {
    let get = |name: &str| v.get(name).unwrap_or_default();
    let mut errors = FormErrors::default();
    let mut required = |field: &str, message: &str| {
        if get(field).is_empty() {
            errors.add(field, message);
        }
    };
    required("name", "Enter the name of your organisation");
    required("address", "Enter your organisation's address");
    required("postcode", "Enter your organisation's postcode");
    required("contact-name", "Enter the name of the person we should contact");
    required("contact-email", "Enter an email address for the contact");
    required("venue-name-1", "Enter the name of at least one venue");
    required("venue-place-1", "Enter the town, village or ward of the venue");
    // Bounds on what is typed (the whole form is bounded by the access guard's limit).
    let mut bounded = vec![
        ("name".to_string(), MAX_NAME),
        ("address".to_string(), MAX_ADDRESS),
        ("postcode".to_string(), MAX_POSTCODE),
        ("contact-name".to_string(), MAX_NAME),
        ("contact-email".to_string(), MAX_NAME),
        ("contact-phone".to_string(), MAX_POSTCODE * 3),
    ];
    for i in 1..=VENUE_SLOTS {
        bounded.push((format!("venue-name-{i}"), MAX_NAME));
        bounded.push((format!("venue-place-{i}"), MAX_NAME));
        bounded.push((format!("venue-address-{i}"), MAX_ADDRESS));
        bounded.push((format!("venue-postcode-{i}"), MAX_POSTCODE));
        bounded.push((format!("venue-location-{i}"), MAX_POSTCODE * 5));
    }
    for (field, max) in &bounded {
        if get(field).chars().count() > *max {
            errors.add(field, format!("Enter at most {max} characters here"));
        }
    }
    if !ORG_TYPES.contains(&get("org-type").as_str()) {
        errors.add("org-type", "Select the type of organisation");
    }
    if !get("contact-email").is_empty() && !get("contact-email").contains('@') {
        errors.add("contact-email", "Enter an email address in the correct format, like name@example.com");
    }
    let staff_trained = match get("staff-trained").as_str() {
        "" => 0,
        s => s.parse::<i64>().ok().filter(|n| *n >= 0).unwrap_or_else(|| {
            errors.add("staff-trained", "Enter the number of staff trained as a whole number, like 12");
            0
        }),
    };
    let mut venues = Vec::new();
    for i in 1..=VENUE_SLOTS {
        let name = get(&format!("venue-name-{i}"));
        if name.is_empty() {
            continue;
        }
        let place_text = get(&format!("venue-place-{i}"));
        let place = if place_text.is_empty() { None } else { state.db.find_place(&place_text).await? };
        if place.is_none() && !place_text.is_empty() {
            errors.add(
                &format!("venue-place-{i}"),
                format!("We could not find \"{place_text}\": enter a town, village or ward"),
            );
        }
        let point = match get(&format!("venue-location-{i}")).as_str() {
            "" => None,
            text => {
                let parsed = text
                    .split_once(',')
                    .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
                match parsed {
                    Some((lat, lon)) if (49.0..=61.0).contains(&lat) && (-9.0..=2.5).contains(&lon) => Some((lon, lat)),
                    _ => {
                        errors.add(
                            &format!("venue-location-{i}"),
                            "Enter the location as latitude then longitude in decimal degrees, separated by a comma",
                        );
                        None
                    }
                }
            }
        };
        venues.push(NewVenue {
            name: name.to_string(),
            address: get(&format!("venue-address-{i}")),
            postcode: get(&format!("venue-postcode-{i}")).to_uppercase(),
            place,
            point,
        });
    }
    let mut pledges = Vec::new();
    let commitments = state.db.charter_commitments().await?;
    if commitments.is_empty() {
        // Nothing to agree to yet: the page says so and offers no form.
        errors.add(
            "commitments",
            "The charter has no commitments yet: it cannot be joined until the partnership sets them out",
        );
    }
    for c in commitments {
        if get(&format!("agree-{}", c.id)) != "yes" {
            errors.add(&format!("agree-{}", c.id), format!("Agree to the commitment \"{}\"", c.title));
            continue;
        }
        let how = get(&format!("how-{}", c.id));
        if how.is_empty() {
            errors.add(&format!("how-{}", c.id), format!("Describe how you meet \"{}\"", c.title));
        }
        for field in [format!("how-{}", c.id), format!("evidence-{}", c.id)] {
            if get(&field).chars().count() > MAX_TEXT {
                errors.add(&field, format!("Enter at most {MAX_TEXT} characters here"));
            }
        }
        pledges.push(NewPledge {
            commitment_id: c.id,
            how_met: how.clone(),
            evidence: get(&format!("evidence-{}", c.id)),
        });
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(NewSignatory {
        name: get("name"),
        org_type: get("org-type"),
        address: get("address"),
        postcode: get("postcode").to_uppercase(),
        contact_name: get("contact-name"),
        contact_email: get("contact-email"),
        contact_phone: get("contact-phone"),
        staff_trained,
        venues,
        pledges,
    }))
}

async fn join(State(state): State<AppState>, Form(fields): Form<Vec<(String, String)>>) -> Result<Response, PageError> {
    let values = form_of(&fields);
    if values.get(HONEYPOT).is_some() {
        return Ok(see_other("/safer-places/join/sent"));
    }
    if !allowed(&state, PublicForm::CharterJoin.any()).await? {
        return too_many(&state, "/safer-places");
    }
    match validate(&state, &values).await? {
        Err(errors) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(join_page(&state, values, errors).await?)).into_response())
        }
        Ok(application) => {
            if !allowed(&state, PublicForm::CharterJoin.accepted()).await? {
                return too_many(&state, "/safer-places");
            }
            let submission = values.get(crate::forms::SUBMISSION);
            state.db.register_signatory(&application, submission.as_deref()).await?;
            Ok(see_other("/safer-places/join/sent"))
        }
    }
}

async fn sent(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let layout = PublicLayout::new(&state, "/safer-places");
    let charter = layout.charter.clone();
    Ok(Html(
        MessagePage {
            layout,
            title: "Application sent".into(),
            paragraphs: vec![
                format!("Thank you for applying to the {charter}. The partnership will check your application and contact you."),
                "Once verified, your venues appear in the public directory. Signatories renew every year.".into(),
            ],
            link: Some(("/safer-places".into(), format!("See the directory of the {charter}"))),
        }
        .render()?,
    ))
}

async fn staff(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let today = alliance_db::clock::today_date();
    Ok(Html(
        StaffCharterPage {
            layout: Layout::new(&state, "/staff/safer-places"),
            submitted: state.db.signatories("submitted").await?,
            renewals: state.db.charter_renewals_due(today, 30).await?,
            verified: state.db.signatories("verified").await?.len(),
            returned: state.db.signatories("returned").await?,
            current: state.db.current_signatory_count(today).await?,
        }
        .render()?,
    ))
}

#[derive(serde::Deserialize)]
struct Decision {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

/// Verifies, renews or returns an application. A decision on an application that is not
/// waiting for it (unknown, or already decided) is a 404: the link named nothing to decide.
async fn decide(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<Decision>,
) -> Result<Response, PageError> {
    let today = alliance_db::clock::today_date();
    let actor = actor(&me);
    let done = match form.action.as_str() {
        "verify" | "renew" => state.db.verify_signatory(id, today, &actor).await?,
        "return" if !form.reason.trim().is_empty() => state.db.return_signatory(id, form.reason.trim(), &actor).await?,
        "return" => return Err(invalid("reason", "Give the reason for returning the application")),
        _ => return Err(bad_request("The decision must be to verify, return or renew the application.")),
    };
    if !done {
        return Err(not_found());
    }
    Ok(see_other("/staff/safer-places"))
}
