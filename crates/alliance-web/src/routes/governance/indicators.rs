//! The performance framework: `GET /indicators`, `GET /indicators/{id}`, entering a value
//! (`POST /indicators/{id}/values`: staff, or the owning organisation's partner users),
//! uploading many as a CSV file or pasted text (`POST /indicators/upload`: staff), adding an
//! indicator (`GET /indicators/new`, `POST /indicators`: staff) and changing its baseline,
//! target and tolerance (`GET|POST /indicators/{id}/target`: staff). Computed indicators
//! refuse typed values (the storage layer's rule, shown on the form); they are created as
//! computed, with the rule and crime type they are computed by, never as entered.

use std::collections::HashMap;

use crate::extract::Path;
use crate::forms;
use alliance_core::analytics::sna::definition::SvGroup;
use alliance_core::domain::police::CRIME_TYPES;
use alliance_core::governance::{
    ComputedData, ComputedIndicator, Direction, EdSelection, FinancialYear, Frequency, IndicatorKind, IndicatorSource,
    Measure, PoliceSelection, Quarter, ReferralEvent,
};
use alliance_db::access::User;
use alliance_db::governance::{Indicator, NewIndicator};
use alliance_db::DbError;
use alliance_ingest::governance_values::parse_numbered_indicator_values;
use axum::extract::{Query, Request, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::{actor, may_edit_governance, not_found, page, see_other, Staff};
use crate::auth::access::{may_enter_indicator, require_indicator_entry};
use crate::auth::CurrentUser;
use crate::views::governance::indicators::{
    target_values, IndicatorFormPage, IndicatorPage, IndicatorsPage, TargetPage,
};
use crate::views::governance::{default_quarter, error, invalid_to_field, quarter_from_or, FieldError, Form};
use crate::views::Layout;
use crate::{AppState, PageError};

type Values = HashMap<String, String>;

async fn list_page(state: &AppState, user: &User, mut form: Form) -> Result<Response, PageError> {
    let (quarter, mut errors) = quarter_from_or(&form, default_quarter(state, true).await?);
    form.errors.append(&mut errors);
    let has_errors = !form.errors.is_empty();
    let pack = crate::views::board_pack::load_for_reader(state, quarter).await?;
    page(&IndicatorsPage::new(Layout::new(state, "/indicators"), pack, may_edit_governance(user), form), has_errors)
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    list_page(&state, &user, Form::new(q)).await
}

/// The upload form's text fields and its file (name, bytes), if one was chosen.
/// `POST /indicators/upload`: a CSV file (or the pasted text) of `code,period,value[,note]`,
/// stored whole or not at all; a bad line is named with its line, column and reason.
async fn upload(State(state): State<AppState>, Staff(user): Staff, request: Request) -> Result<Response, PageError> {
    let (values, file) = match crate::forms::read_with_file(&state, request).await {
        Ok(upload) => upload,
        Err(e) => {
            let errors = vec![error("file", format!("The upload could not be read: {e}"))];
            return list_page(&state, &user, Form::with_errors(Values::new(), errors)).await;
        }
    };
    let mut form = Form::new(values);
    form.values.remove("quarter");
    // Where the values come from: the file's name (as the messages name it) and its text.
    let source = match (file, form.get("csv")) {
        (Some(_), Some(_)) => Err(error("file", "Upload a file or paste the CSV text, not both")),
        (Some((name, bytes)), None) => {
            let name = if name.is_empty() { "the uploaded file".to_string() } else { name };
            match String::from_utf8(bytes) {
                Ok(text) => Ok(("file", name, text)),
                Err(_) => Err(error(
                    "file",
                    format!("{name} is not UTF-8 text: save it as \"CSV UTF-8\" and upload it again"),
                )),
            }
        }
        (None, Some(text)) => Ok(("csv", "the pasted CSV".to_string(), text)),
        (None, None) => Err(error("file", "Choose a CSV file of values, or paste the CSV text")),
    };
    match source {
        Err(e) => form.errors.push(e),
        Ok((field, name, text)) => match parse_numbered_indicator_values(&name, &text) {
            Err(e) => form.errors.push(error(field, e.to_string())),
            Ok(rows) => match state.db.enter_indicator_values_from(&name, &rows, &actor(&user)).await {
                Ok(_) => return Ok(see_other("/indicators")),
                // The reason names the file, line and column: shown on the field the values came in.
                Err(DbError::Invalid { reason, .. }) => form.errors.push(error(field, reason)),
                Err(e) => return Err(e.into()),
            },
        },
    }
    list_page(&state, &user, form).await
}

/// An optional number from a form field: `None` when empty, an error naming the field when
/// it is not a number.
fn number(form: &Form, field: &str, what: &str) -> Result<Option<f64>, FieldError> {
    let Some(text) = form.get(field) else { return Ok(None) };
    match text.replace(',', "").parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(error(field, format!("Enter the {what} as a number, like 430 or 12.5, not \"{text}\""))),
    }
}

/// The baseline, its period, the target and the tolerance of the indicator forms, or their
/// errors. The baseline period is a quarter (`2024Q4`) or a financial year (`2024/25`).
type Target = (Option<f64>, Option<String>, Option<f64>, Option<f64>);

fn target_of(form: &Form, errors: &mut Vec<FieldError>) -> Option<Target> {
    let mut keep = |r: Result<Option<f64>, FieldError>| r.map_err(|e| errors.push(e)).ok();
    let baseline = keep(number(form, "baseline", "baseline"));
    let target = keep(number(form, "target", "target"));
    let tolerance = keep(number(form, "tolerance", "tolerance"));
    let period = match form.get("baseline_period") {
        None => Some(None),
        Some(p) => match (p.parse::<Quarter>(), p.parse::<FinancialYear>()) {
            (Ok(q), _) => Some(Some(q.to_string())),
            (_, Ok(fy)) if p.contains(['/', '-']) => Some(Some(fy.to_string())),
            _ => {
                errors.push(error(
                    "baseline_period",
                    format!("Enter the baseline period as a quarter like 2024Q4 or a financial year like 2024/25, not \"{p}\""),
                ));
                None
            }
        },
    };
    if let Some(Some(t)) = tolerance {
        if t < 0.0 {
            errors.push(error("tolerance", "The tolerance is a distance from the target, so cannot be negative"));
        }
    }
    Some((baseline?, period?, target?, tolerance?))
}

/// The definition a form gives: entered, or computed from one source with its selection,
/// measure and area (`alliance_core::governance::computed`). The earlier form's choices
/// `rate-12m` and `quarter-count` (police, one crime type) are still understood.
fn source_of(form: &Form, errors: &mut Vec<FieldError>) -> Option<IndicatorSource> {
    let source = form.get("source").unwrap_or_default();
    let (source, measure) = match source.as_str() {
        "rate-12m" => ("police", Some(Measure::Rate12Months)),
        "quarter-count" => ("police", Some(Measure::Count)),
        s => (s, None),
    };
    let measure_or = |field: &'static str, default: Measure, errors: &mut Vec<FieldError>| -> Option<Measure> {
        match measure.map(Ok).or_else(|| form.get(field).map(|m| Measure::parse(&m))) {
            None => Some(default),
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                errors.push(error(field, e));
                None
            }
        }
    };
    let data = match source {
        "entered" => return Some(IndicatorSource::Entered),
        "police" => {
            let selection = match form.get("crime_type").as_deref() {
                Some("serious-violence") => Some(PoliceSelection::SeriousViolence),
                Some(t) if CRIME_TYPES.contains(&t) => Some(PoliceSelection::CrimeType(t.to_string())),
                Some(g) if g.strip_prefix("sv-group:").is_some_and(|g| SvGroup::parse(g).is_ok()) => {
                    g.strip_prefix("sv-group:").and_then(|g| SvGroup::parse(g).ok()).map(PoliceSelection::SvGroup)
                }
                _ => {
                    errors.push(error("crime_type", "Select the crimes the computed indicator counts"));
                    None
                }
            };
            let measure = measure_or("measure", Measure::Count, errors);
            return Some(IndicatorSource::Computed(ComputedIndicator {
                data: ComputedData::Police(selection?),
                measure: measure?,
                area: form.get("district"),
            }));
        }
        "ed" => {
            let selection = match form.get("ed_select").as_deref() {
                Some("all") => Some(EdSelection::All),
                Some("serious-violence") => Some(EdSelection::SeriousViolence),
                Some(m) if m.starts_with("method:") => Some(EdSelection::Method(m["method:".len()..].to_string())),
                _ => {
                    errors.push(error("ed_select", "Select the assaults the computed indicator counts"));
                    None
                }
            };
            ComputedData::Ed(selection?)
        }
        "partner-series" => {
            let org = match form.get("series_org") {
                None => Some(None),
                Some(o) => match o.parse::<i64>() {
                    Ok(id) => Some(Some(id)),
                    Err(_) => {
                        errors.push(error("series_org", "Select the organisation from the list, or any"));
                        None
                    }
                },
            };
            let series = form.get("series");
            if series.is_none() {
                errors.push(error("series", "Select the partner series the indicator takes its values from"));
            }
            let measure = measure_or("series_measure", Measure::Sum, errors);
            return Some(IndicatorSource::Computed(ComputedIndicator {
                data: ComputedData::PartnerSeries { series: series?, org: org? },
                measure: measure?,
                area: form.get("series_area").map(|a| a.to_ascii_uppercase()),
            }));
        }
        "referrals" => {
            let event = match form.get("referral_event").map(|e| ReferralEvent::parse(&e)) {
                Some(Ok(e)) => Some(e),
                _ => {
                    errors.push(error(
                        "referral_event",
                        "Select what the indicator counts: referrals made, accepted or closed with an outcome",
                    ));
                    None
                }
            };
            ComputedData::Referrals { event: event?, service: form.get("referral_service") }
        }
        _ => {
            errors.push(error("source", "Select where the indicator's values come from"));
            return None;
        }
    };
    Some(IndicatorSource::Computed(ComputedIndicator { data, measure: Measure::Count, area: None }))
}

/// An optional choice from a select of ids (`offered`), or an error.
fn optional_choice(form: &Form, field: &str, offered: &[i64], what: &str) -> Result<Option<i64>, FieldError> {
    match form.get(field) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|id| offered.contains(id))
            .map(Some)
            .ok_or_else(|| error(field, format!("Select {what} from the list, or none"))),
    }
}

async fn new_form(State(state): State<AppState>, _: Staff) -> Result<Response, PageError> {
    let form = Form::new(Values::from([
        ("frequency".to_string(), "quarterly".to_string()),
        ("source".to_string(), "entered".to_string()),
    ]));
    page(&IndicatorFormPage::load(&state.db, Layout::new(&state, "/indicators"), form).await?, false)
}

/// `POST /indicators`: adds an indicator to the performance framework.
async fn create(State(state): State<AppState>, Staff(user): Staff, mut form: Form) -> Result<Response, PageError> {
    let key = form.get(forms::SUBMISSION);
    let mut errors = Vec::new();
    let name = form.get("name").unwrap_or_default();
    if name.is_empty() {
        errors.push(error("name", "Enter the indicator's name"));
    }
    let code = form.get("code").unwrap_or_default();
    if code.is_empty() {
        errors.push(error("code", "Enter a code for the indicator, like people-reached"));
    } else if !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || code.starts_with('-') {
        errors
            .push(error("code", "The code can only have lower-case letters, digits and hyphens, like people-reached"));
    } else if state.db.indicator_by_code(&code).await?.is_some() {
        // The code is taken: by this very form sent before, whose key was stored in the same
        // transaction as the indicator (so it is seen now too), or by another indicator. A
        // repeat whose first is not committed yet does not see the code and is answered by
        // the key's claim in `create_indicator_keyed` instead.
        if let Some(id) = state.db.made_by_submission("indicator", key.as_deref()).await? {
            return Ok(see_other(&format!("/indicators/{id}")));
        }
        errors.push(error("code", format!("There is already an indicator with the code \"{code}\"")));
    }
    let kind = form.get("kind").and_then(|k| k.parse::<IndicatorKind>().ok());
    if kind.is_none() {
        errors.push(error("kind", "Select the kind of indicator: input, output or outcome"));
    }
    let definition = form.get("definition").unwrap_or_default();
    if definition.is_empty() {
        errors.push(error("definition", "Enter the definition: what is counted, and from which source"));
    }
    let unit = form.get("unit").unwrap_or_default();
    if unit.is_empty() {
        errors.push(error("unit", "Enter the unit, like people, sessions or £"));
    }
    let frequency = form.get("frequency").and_then(|f| f.parse::<Frequency>().ok());
    if frequency.is_none() {
        errors.push(error("frequency", "Select how often the indicator is reported"));
    }
    let direction = form.get("direction").and_then(|d| d.parse::<Direction>().ok());
    if direction.is_none() {
        errors.push(error("direction", "Select which way is good: higher or lower"));
    }
    let source = source_of(&form, &mut errors);
    // What only stored data can tell (the ED code list, the organisation, the service, the
    // district), and the frequency a definition allows.
    if let (Some(source), Some(frequency)) = (&source, frequency) {
        match alliance_app::indicators::check(&state.db, source, frequency).await {
            Ok(()) => {}
            Err(alliance_app::AppError::Invalid { reason, .. }) => {
                errors.push(invalid_to_field(DbError::invalid("source", reason), &[], "source")?)
            }
            Err(e) => return Err(e.into()),
        }
    }
    let target = target_of(&form, &mut errors);
    let organisations: Vec<i64> = state.db.organisations().await?.iter().map(|o| o.id).collect();
    let owner = optional_choice(&form, "owner", &organisations, "the organisation").map_err(|e| errors.push(e)).ok();
    let priorities: Vec<i64> = match state.db.strategies().await?.into_iter().next() {
        Some(s) => state.db.priorities(s.id).await?.iter().map(|p| p.id).collect(),
        None => Vec::new(),
    };
    let priority = optional_choice(&form, "priority", &priorities, "the priority").map_err(|e| errors.push(e)).ok();
    if let (
        Some(kind),
        Some(frequency),
        Some(direction),
        Some(source),
        Some((baseline, baseline_period, target, tolerance)),
        Some(owner_org_id),
        Some(priority_id),
        true,
    ) = (kind, frequency, direction, source, target, owner, priority, errors.is_empty())
    {
        let new = NewIndicator {
            code: &code,
            name: &name,
            kind: kind.code(),
            definition: &definition,
            unit: &unit,
            frequency: frequency.code(),
            direction,
            baseline,
            baseline_period: baseline_period.as_deref(),
            target,
            tolerance,
            owner_org_id,
            priority_id,
            source: source.clone(),
        };
        match state.db.create_indicator_keyed(&new, key.as_deref(), &actor(&user)).await {
            Ok(id) => return Ok(see_other(&format!("/indicators/{id}"))),
            Err(e) => errors.push(invalid_to_field(
                e,
                &[
                    ("code", "code"),
                    ("kind", "kind"),
                    ("frequency", "frequency"),
                    ("tolerance", "tolerance"),
                    ("source", "source"),
                ],
                "name",
            )?),
        }
    }
    form.errors = errors;
    page(&IndicatorFormPage::load(&state.db, Layout::new(&state, "/indicators"), form).await?, true)
}

async fn target_form(State(state): State<AppState>, _: Staff, Path(id): Path<i64>) -> Result<Response, PageError> {
    let Some(ind) = state.db.indicator(id).await? else { return Err(not_found()) };
    let form = Form::new(target_values(&ind));
    page(&TargetPage::new(Layout::new(&state, "/indicators"), ind, form), false)
}

/// `POST /indicators/{id}/target`: the baseline, its period, the target and the tolerance
/// (an empty box clears the figure). The audit log keeps the figures before and after.
async fn set_target(
    State(state): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(ind) = state.db.indicator(id).await? else { return Err(not_found()) };
    let mut errors = Vec::new();
    if let (Some((baseline, period, target, tolerance)), true) = (target_of(&form, &mut errors), errors.is_empty()) {
        let seen = forms::seen_version(&form.values);
        match state
            .db
            .set_indicator_target(id, baseline, period.as_deref(), target, tolerance, seen, &actor(&user))
            .await
        {
            Ok(()) => return Ok(see_other(&format!("/indicators/{id}"))),
            Err(e) => errors.push(invalid_to_field(e, &[("tolerance", "tolerance")], "target")?),
        }
    }
    form.errors = errors;
    page(&TargetPage::new(Layout::new(&state, "/indicators"), ind, form), true)
}

async fn indicator_page(state: &AppState, user: &User, ind: Indicator, mut form: Form) -> Result<Response, PageError> {
    let (quarter, mut errors) = quarter_from_or(
        &Form::new(HashMap::from([("quarter".to_string(), form.values.get("quarter").cloned().unwrap_or_default())])),
        default_quarter(state, true).await?,
    );
    form.errors.append(&mut errors);
    let has_errors = !form.errors.is_empty();
    let pack = crate::views::board_pack::load_for_reader(state, quarter).await?;
    let rights = (may_enter_indicator(user, &ind), may_edit_governance(user));
    match IndicatorPage::load(&state.db, Layout::new(state, "/indicators"), ind, &pack, rights, form).await? {
        Some(p) => page(&p, has_errors),
        None => Err(not_found()),
    }
}

async fn detail(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<Values>,
) -> Result<Response, PageError> {
    let Some(ind) = state.db.indicator(id).await? else { return Err(not_found()) };
    let mut form = Form::default();
    if let Some(quarter) = q.get("quarter") {
        form.values.insert("quarter".into(), quarter.clone());
    }
    indicator_page(&state, &user, ind, form).await
}

async fn enter(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    mut form: Form,
) -> Result<Response, PageError> {
    let Some(ind) = state.db.indicator(id).await? else { return Err(not_found()) };
    require_indicator_entry(&user, &ind)?;
    form.values.remove("quarter");
    let period = form.value("period").trim().to_string();
    let value_text = form.value("value");
    let monthly = ind.frequency.parse::<Frequency>() == Ok(Frequency::Monthly);
    // The quarter to show after: the quarter of the period (a month for a monthly indicator).
    let shown = alliance_app::board_pack::period_quarter(&period);
    if monthly && period.parse::<alliance_core::domain::Month>().is_err() {
        form.errors.push(error("period", format!("Enter the period as a month like 2025-08, not \"{period}\"")));
    } else if !monthly && period.parse::<Quarter>().is_err() {
        form.errors.push(error("period", format!("Enter the period as a quarter like 2025Q3, not \"{period}\"")));
    }
    let value = value_text.trim().replace(',', "").parse::<f64>().ok().filter(|v| v.is_finite());
    if value.is_none() {
        form.errors.push(error(
            "value",
            format!("Enter the value as a number, like 430 or 12.5, not \"{}\"", value_text.trim()),
        ));
    }
    if let (Some(v), true) = (value, form.errors.is_empty()) {
        let row = vec![(ind.code.clone(), period.clone(), v, form.value("note"))];
        match state.db.enter_indicator_values(&row, &actor(&user)).await {
            Ok(_) => {
                let q = shown.map(|q| q.to_string()).unwrap_or_default();
                return Ok(see_other(&format!("/indicators/{id}?quarter={q}")));
            }
            Err(e) => form.errors.push(invalid_to_field(e, &[("period", "period"), ("value", "value")], "value")?),
        }
    }
    indicator_page(&state, &user, ind, form).await
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/indicators", get(list).post(create))
        .route("/indicators/new", get(new_form))
        .route("/indicators/upload", post(upload))
        .route("/indicators/{id}", get(detail))
        .route("/indicators/{id}/target", get(target_form).post(set_target))
        .route("/indicators/{id}/values", post(enter))
}
