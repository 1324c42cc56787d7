//! The intervention register: list, form (with server-side validation) and detail pages,
//! and the "Evaluate" form.

use std::collections::HashMap;

use alliance_app::evaluation::{parse_area, AreaSpec, EvaluationDesign};
use alliance_core::domain::intervention::{EmmieEffect, EvidenceQuality, InterventionType};
use alliance_core::domain::{Month, MonthRange};
use alliance_db::interventions::{Intervention, NewIntervention, StoredEvaluation};
use askama::Template;

use super::Layout;
use crate::AppState;

pub use crate::forms::FieldError;
use crate::forms::Form;

pub use alliance_core::format::money;

#[derive(Template)]
#[template(path = "interventions.html")]
pub struct ListPage {
    pub layout: Layout,
    pub interventions: Vec<Intervention>,
}

impl ListPage {
    pub fn new(state: &AppState, interventions: Vec<Intervention>) -> ListPage {
        ListPage { layout: Layout::new(state, "/interventions"), interventions }
    }
    pub fn type_label(&self, t: &InterventionType) -> &'static str {
        t.label()
    }
}

/// The submitted form, as text (so it can be shown back with the errors).
pub type FormValues = HashMap<String, String>;

#[derive(Template)]
#[template(path = "intervention_form.html")]
pub struct FormPage {
    pub layout: Layout,
    /// `None` for a new intervention.
    pub id: Option<i64>,
    /// What was typed and its errors, shown in the form.
    pub form: Form,
    pub types: Vec<(&'static str, &'static str)>,
    pub effects: Vec<(&'static str, &'static str)>,
    pub quality: Vec<(&'static str, &'static str)>,
    pub emmie_fields: Vec<(&'static str, &'static str)>,
    /// The commissioned services it can name as delivering it: (id, name).
    pub services: Vec<(String, String)>,
}

impl FormPage {
    pub fn new(state: &AppState, id: Option<i64>, mut values: FormValues, errors: Vec<FieldError>) -> FormPage {
        if id.is_none() {
            crate::forms::ensure_submission_key(&mut values);
        }
        FormPage {
            layout: Layout::new(state, "/interventions"),
            id,
            form: Form::with_errors(values, errors),
            types: InterventionType::choices(),
            effects: EmmieEffect::choices(),
            quality: EvidenceQuality::choices(),
            emmie_fields: vec![
                ("emmie_effect_quality", "Effect: quality of the evidence"),
                ("emmie_mechanism", "Mechanism: how it works"),
                ("emmie_moderators", "Moderators: where it works"),
                ("emmie_implementation", "Implementation: how to do it"),
                ("emmie_economic_cost", "Economic cost"),
            ],
            services: Vec::new(),
        }
    }

    /// The commissioned services the form offers (see `routes::interventions::form_page`).
    pub fn with_services(mut self, services: Vec<(String, String)>) -> FormPage {
        self.services = services;
        self
    }
}

/// The form's values for an existing intervention.
pub fn values_of(i: &Intervention) -> FormValues {
    let mut v = FormValues::new();
    let mut put = |k: &str, s: Option<String>| {
        v.insert(k.to_string(), s.unwrap_or_default());
    };
    put("name", Some(i.name.clone()));
    put("description", Some(i.description.clone()));
    put("intervention_type", Some(i.intervention_type.code().to_string()));
    put("strategy_priority", i.strategy_priority.clone());
    put("lead_organisation", i.lead_organisation.clone());
    put("funding_stream", i.funding_stream.clone());
    put("funding_amount", i.funding_pence.map(|p| format!("{}.{:02}", p / 100, p % 100)));
    put("start_date", i.start_date.clone());
    put("end_date", i.end_date.clone());
    put("place_kind", Some(i.place_kind.clone()));
    if i.place_kind == "place" {
        put("place_names", Some(i.place_codes.join(", ")));
    } else {
        put("place_codes", Some(i.place_codes.join(", ")));
    }
    put("place_geojson", i.place_geometry.as_ref().map(|g| g.to_string()));
    put("crime_types", Some(i.crime_types.join("\n")));
    put(crate::forms::VERSION, Some(i.version.to_string()));
    let quality = |q: Option<EvidenceQuality>| q.map(|q| q.code().to_string());
    put("emmie_effect", i.emmie_effect.map(|e| e.code().to_string()));
    put("emmie_effect_quality", quality(i.emmie_effect_quality));
    put("emmie_mechanism", quality(i.emmie_mechanism));
    put("emmie_moderators", quality(i.emmie_moderators));
    put("emmie_implementation", quality(i.emmie_implementation));
    put("emmie_economic_cost", quality(i.emmie_economic_cost));
    put("referral_service", i.referral_service.clone());
    v
}

/// A real calendar date written `YYYY-MM-DD` (chrono: 2025-02-31 is refused).
fn valid_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// Validates the submitted form: the intervention, or the errors in page order.
pub fn validate(v: &FormValues) -> Result<NewIntervention, Vec<FieldError>> {
    let mut errors = Vec::new();
    let get = |k: &str| v.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let opt = |k: &str| Some(get(k)).filter(|s| !s.is_empty());
    let mut err = |field: &str, message: &str| errors.push(FieldError { field: field.into(), message: message.into() });
    let name = get("name");
    if name.is_empty() {
        err("name", "Enter the name of the intervention");
    } else if name.chars().count() > 200 {
        err("name", "Name must be 200 characters or fewer");
    }
    let intervention_type = get("intervention_type").parse::<InterventionType>().unwrap_or_else(|_| {
        err("intervention_type", "Select the type of intervention");
        InterventionType::Other
    });
    // Money is read one way everywhere (`parse_pounds`: to the penny, checked, bounded).
    let funding_pence = match opt("funding_amount").map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => match alliance_core::governance::parse_pounds(&text) {
            Ok(pence) => Some(pence),
            Err(reason) => {
                err("funding_amount", &format!("Enter the funding amount in pounds, like 25000 or 25000.50: {reason}"));
                None
            }
        },
    };
    let start_date = opt("start_date");
    let end_date = opt("end_date");
    if start_date.as_deref().is_some_and(|d| !valid_date(d)) {
        err("start_date", "Start date must be a real date, like 2023-04-01");
    }
    if end_date.as_deref().is_some_and(|d| !valid_date(d)) {
        err("end_date", "End date must be a real date, like 2024-03-31");
    }
    if let (Some(s), Some(e)) = (&start_date, &end_date) {
        if valid_date(s) && valid_date(e) && e < s {
            err("end_date", "End date must be the same as or after the start date");
        }
    }
    let place_kind = get("place_kind");
    let mut place_codes = Vec::new();
    let mut place_geometry = None;
    match place_kind.as_str() {
        "lsoa" | "ward" => {
            place_codes = get("place_codes")
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|c| !c.is_empty())
                .map(|c| c.to_uppercase())
                .collect();
            if place_codes.is_empty() {
                err("place_codes", "Enter at least one area code, like E01014001");
            } else if let Some(bad) =
                place_codes.iter().find(|c| c.len() != 9 || !c.chars().all(|x| x.is_ascii_alphanumeric()))
            {
                let message = format!("{bad} is not an area code: codes are 9 letters and digits, like E01014001");
                err("place_codes", &message);
            }
        }
        "place" => {
            place_codes = place_names(&get("place_names"));
            if place_codes.is_empty() {
                err("place_names", "Enter the names of places in the register, separated by commas");
            }
        }
        "geojson" => match serde_json::from_str::<serde_json::Value>(&get("place_geojson")) {
            Ok(value) => match parse_area(&value) {
                Ok(_) => place_geometry = Some(value),
                Err(e) => err("place_geojson", &format!("The GeoJSON has a problem: {e}")),
            },
            Err(_) => {
                err("place_geojson", "Paste GeoJSON: a Polygon, MultiPolygon, or Point features with radius_metres")
            }
        },
        _ => err("place_kind", "Select how the place is given"),
    }
    fn choice<T: std::str::FromStr>(value: Option<String>, k: &str, errors: &mut Vec<FieldError>) -> Option<T> {
        match value?.parse::<T>() {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(FieldError { field: k.into(), message: "Select one of the options".into() });
                None
            }
        }
    }
    let emmie_effect = choice::<EmmieEffect>(opt("emmie_effect"), "emmie_effect", &mut errors);
    // The service is checked against the register by the route (it needs the database).
    let referral_service = opt("referral_service");
    if referral_service.as_ref().is_some_and(|s| s.len() > 200) {
        errors.push(FieldError {
            field: "referral_service".into(),
            message: "Select a commissioned service from the list, or \"None\"".into(),
        });
    }
    let q = |k: &str, errors: &mut Vec<FieldError>| choice::<EvidenceQuality>(opt(k), k, errors);
    let fields = NewIntervention {
        name,
        description: get("description"),
        intervention_type,
        strategy_priority: opt("strategy_priority"),
        lead_organisation: opt("lead_organisation"),
        funding_stream: opt("funding_stream"),
        funding_pence,
        start_date,
        end_date,
        place_kind,
        place_codes,
        place_geometry,
        crime_types: get("crime_types").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        emmie_effect,
        emmie_effect_quality: q("emmie_effect_quality", &mut errors),
        emmie_mechanism: q("emmie_mechanism", &mut errors),
        emmie_moderators: q("emmie_moderators", &mut errors),
        emmie_implementation: q("emmie_implementation", &mut errors),
        emmie_economic_cost: q("emmie_economic_cost", &mut errors),
        referral_service,
    };
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

#[derive(Template)]
#[template(path = "intervention.html")]
pub struct DetailPage {
    pub layout: Layout,
    pub i: Intervention,
    pub evaluations: Vec<StoredEvaluation>,
    /// What was typed and its errors, shown in the form.
    pub form: Form,
}

impl DetailPage {
    pub fn new(
        state: &AppState,
        i: Intervention,
        evaluations: Vec<StoredEvaluation>,
        values: FormValues,
        errors: Vec<FieldError>,
    ) -> DetailPage {
        let form = Form::with_errors(values, errors);
        DetailPage { layout: Layout::new(state, "/interventions"), i, evaluations, form }
    }
    pub fn type_label(&self) -> &'static str {
        self.i.intervention_type.label()
    }
    pub fn funding(&self) -> String {
        self.i.funding_pence.map(money).unwrap_or_else(|| "Not given".into())
    }
    pub fn rating(&self, value: &Option<EvidenceQuality>) -> &'static str {
        value.map_or("Not rated", EvidenceQuality::label)
    }
    pub fn effect(&self) -> &'static str {
        self.i.emmie_effect.map_or("Not rated", EmmieEffect::label)
    }
    pub fn place(&self) -> String {
        match self.i.place_kind.as_str() {
            "geojson" => "Drawn or uploaded shapes (GeoJSON)".into(),
            "ward" => format!("Wards: {}", self.i.place_codes.join(", ")),
            "place" => format!("Places: {}", self.i.place_codes.join(", ")),
            _ => format!("LSOAs: {}", self.i.place_codes.join(", ")),
        }
    }
}

/// Place names as typed in a form: separated by commas, trimmed, empty ones dropped.
pub fn place_names(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_string).collect()
}

/// Default values of the Evaluate form.
pub fn evaluate_defaults() -> FormValues {
    [("buffer_metres", "200"), ("comparison_kind", "suggested"), ("suggest_count", "5")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Validates the Evaluate form into a design for the intervention.
pub fn validate_design(i: &Intervention, v: &FormValues) -> Result<EvaluationDesign, Vec<FieldError>> {
    let mut errors = Vec::new();
    let get = |k: &str| v.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let month = |k: &str, what: &str, errors: &mut Vec<FieldError>| -> Option<Month> {
        match get(k).parse::<Month>() {
            Ok(m) => Some(m),
            Err(_) => {
                errors.push(FieldError {
                    field: k.into(),
                    message: format!("Enter the {what} as a month, like 2024-01"),
                });
                None
            }
        }
    };
    let bf = month("before_from", "first month of the before period", &mut errors);
    let bt = month("before_to", "last month of the before period", &mut errors);
    let af = month("after_from", "first month of the after period", &mut errors);
    let at = month("after_to", "last month of the after period", &mut errors);
    let range = |f: Option<Month>, t: Option<Month>, field: &str, errors: &mut Vec<FieldError>| -> Option<MonthRange> {
        let r = MonthRange::new(f?, t?);
        if r.is_none() {
            errors.push(FieldError {
                field: field.into(),
                message: "The last month must be the same as or after the first".into(),
            });
        }
        r
    };
    let before = range(bf, bt, "before_to", &mut errors);
    let after = range(af, at, "after_to", &mut errors);
    if let (Some(b), Some(a)) = (before, after) {
        if a.from <= b.to {
            errors.push(FieldError {
                field: "after_from".into(),
                message: "The after period must start after the before period ends".into(),
            });
        }
    }
    let buffer = get("buffer_metres");
    let buffer_metres = if buffer.is_empty() {
        None
    } else {
        match buffer.parse::<f64>() {
            Ok(w) if (1.0..=5000.0).contains(&w) => Some(w),
            _ => {
                errors.push(FieldError {
                    field: "buffer_metres".into(),
                    message: "Enter a buffer width between 1 and 5000 metres, or leave it empty".into(),
                });
                None
            }
        }
    };
    let comparison = match get("comparison_kind").as_str() {
        "none" => None,
        "lsoa" => {
            let codes: Vec<String> = get("comparison_codes")
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|c| !c.is_empty())
                .map(str::to_uppercase)
                .collect();
            if codes.is_empty() {
                errors.push(FieldError {
                    field: "comparison_codes".into(),
                    message: "Enter the comparison LSOA codes".into(),
                });
            }
            Some(AreaSpec::Lsoa { codes })
        }
        "place" => {
            let names = place_names(&get("comparison_places"));
            if names.is_empty() {
                errors.push(FieldError {
                    field: "comparison_places".into(),
                    message: "Enter the names of the comparison places, separated by commas".into(),
                });
            }
            Some(AreaSpec::Place { names })
        }
        _ => match get("suggest_count").parse::<usize>() {
            Ok(n) if (1..=50).contains(&n) => Some(AreaSpec::Suggested { count: n }),
            _ => {
                errors.push(FieldError {
                    field: "suggest_count".into(),
                    message: "Enter how many LSOAs to suggest, from 1 to 50".into(),
                });
                None
            }
        },
    };
    let target = i.place().map_err(|e| vec![FieldError { field: "before_from".into(), message: e.to_string() }])?;
    match (errors.is_empty(), before, after) {
        (true, Some(before), Some(after)) => Ok(EvaluationDesign {
            target,
            buffer_metres,
            comparison,
            before,
            after,
            crime_types: i.crime_types.clone(),
            harm_weights: None,
            selected_for_high_crime: v.contains_key("selected_for_high_crime"),
            history_months: 24,
            labels: None,
        }),
        _ => Err(errors),
    }
}
