//! The report as a web page: the filter form (GET) above the same body as the file.

use alliance_core::analytics::sna::definition::Definition;
use alliance_core::domain::Month;
use alliance_db::areas::DistrictInfo;
use alliance_db::sna::DefinitionVersion;
use askama::Template;

use crate::forms::{error, FieldError};
use crate::views::Layout;
use crate::AppState;
use alliance_app::sna::SnaRequest;

/// `/sna`: the form and the report body.
#[derive(Template)]
#[template(path = "sna.html")]
pub struct SnaPage {
    pub layout: Layout,
    /// The form's errors, for the error summary.
    pub errors: Vec<FieldError>,
    /// The districts offered first (code, name, chosen): the partnership's and any chosen,
    /// or every district when there are neither.
    pub districts: Vec<(String, String, bool)>,
    /// The other districts held, by name, behind a "more" link: on a database holding the
    /// national archive they are hundreds, and would bury the partnership's own.
    pub other_districts: Vec<(String, String, bool)>,
    /// What choosing no district covers.
    pub none_means: &'static str,
    /// The place register's places (id, name, chosen), offered instead of districts.
    pub places: Vec<(i64, String, bool)>,
    pub from: String,
    pub to: String,
    pub query: String,
    /// The report body (built by `SnaReport::body_html`, every value escaped there).
    pub body: String,
    /// What to say when the police records held are only other forces'
    /// (`alliance_app::forces`; empty otherwise).
    pub force_note: String,
}

/// `/sna/definition`: the current definition, read-only.
#[derive(Template)]
#[template(path = "sna_definition.html")]
pub struct DefinitionPage {
    pub layout: Layout,
    pub definition: Definition,
    pub versions: Vec<DefinitionVersion>,
}

impl DefinitionPage {
    pub fn new(state: &AppState, definition: Definition, versions: Vec<DefinitionVersion>) -> DefinitionPage {
        DefinitionPage { layout: Layout::new(state, "/sna"), definition, versions }
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `area=…&area=…&from=YYYY-MM&to=YYYY-MM` or `place=ID&from=…&to=…`; returns the
/// request and the errors `(field, message)` of values that are not valid (whether a place
/// id is in the register is the handler's to check).
/// The most districts one report covers: more than England and Wales have (about 330), so a
/// query cannot make the report's `IN (…)` lists and its cache keys as long as the URL allows.
pub const MAX_AREAS: usize = 400;

pub fn parse_query(query: Option<&str>) -> (SnaRequest, Vec<(String, String)>, String, String) {
    let mut request = SnaRequest::default();
    let mut errors = Vec::new();
    let (mut from_text, mut to_text) = (String::new(), String::new());
    let mut too_many = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v).trim().to_string();
        match k {
            "area" if !v.is_empty() => {
                if !(v.len() <= 12 && v.chars().all(|c| c.is_ascii_alphanumeric())) {
                    errors.push(("area".into(), "Choose areas from the list".into()));
                } else if request.areas.len() == MAX_AREAS {
                    if !too_many {
                        errors.push(("area".into(), format!("Choose at most {MAX_AREAS} districts")));
                        too_many = true;
                    }
                } else if !request.areas.contains(&v) {
                    request.areas.push(v);
                }
            }
            "place" if !v.is_empty() => match v.parse::<i64>() {
                Ok(id) if request.place.is_none() => request.place = Some(id),
                _ => errors.push(("place".into(), "Choose a place from the list".into())),
            },
            "from" | "to" if !v.is_empty() => {
                match v.parse::<Month>() {
                    Ok(m) if k == "from" => request.from = Some(m),
                    Ok(m) => request.to = Some(m),
                    Err(_) => errors.push((
                        k.into(),
                        format!(
                            "Enter the {} month as YYYY-MM, for example 2025-01",
                            if k == "from" { "first" } else { "last" }
                        ),
                    )),
                }
                if k == "from" {
                    from_text = v;
                } else {
                    to_text = v;
                }
            }
            _ => {}
        }
    }
    if request.place.is_some() && !request.areas.is_empty() {
        errors.push(("place".into(), "Choose either districts or a place, not both".into()));
    }
    // The period's shape by the one rule of `alliance_app::bounds` (reversed, or longer than
    // ten years); whether its months are held is checked against the data by the handler.
    if let Err(e) = alliance_app::bounds::period(request.from, request.to, &[]) {
        errors.push(field_error(e));
    }
    (request, errors, from_text, to_text)
}

/// A refusal of the use case as an error of the form: its field and its reason as a sentence.
pub fn field_error(e: alliance_app::AppError) -> (String, String) {
    let (field, reason) = match e {
        alliance_app::AppError::Invalid { field, reason } => (field, reason),
        other => ("area", other.to_string()),
    };
    let mut chars = reason.chars();
    let sentence = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    (field.to_string(), sentence)
}

impl SnaPage {
    /// `months` are the first and last month fields as typed, shown again in the form;
    /// `partnership_area` the districts a report covers when none is chosen (empty: every
    /// record).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        state: &AppState,
        districts: &[DistrictInfo],
        partnership_area: &[String],
        places: &[(i64, String)],
        request: &SnaRequest,
        errors: Vec<(String, String)>,
        (from, to): (String, String),
        query: Option<&str>,
        body: String,
    ) -> SnaPage {
        let entry = |d: &DistrictInfo| (d.code.clone(), d.name.clone(), request.areas.contains(&d.code));
        let (mut first, mut others): (Vec<_>, Vec<_>) =
            districts.iter().map(entry).partition(|(code, _, chosen)| *chosen || partnership_area.contains(code));
        if first.is_empty() {
            first = std::mem::take(&mut others);
        }
        others.sort_by(|a, b| a.1.cmp(&b.1));
        SnaPage {
            layout: Layout::new(state, "/sna"),
            errors: errors.into_iter().map(|(field, message)| error(&field, message)).collect(),
            districts: first,
            other_districts: others,
            none_means: if partnership_area.is_empty() { "every record held" } else { "the partnership's area" },
            places: places.iter().map(|(id, name)| (*id, name.clone(), request.place == Some(*id))).collect(),
            from,
            to,
            query: query.map(|q| format!("?{q}")).unwrap_or_default(),
            body,
            force_note: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_are_counted_once_and_bounded() {
        let (r, errors, _, _) = parse_query(Some("area=E06000021&area=E06000021&area=E07000197"));
        assert!(errors.is_empty());
        assert_eq!(r.areas, vec!["E06000021", "E07000197"], "a district asked twice is one");
        let many: Vec<String> = (0..MAX_AREAS + 50).map(|i| format!("area=E{i:08}")).collect();
        let (r, errors, from, _) = parse_query(Some(&format!("{}&from=2025-01", many.join("&"))));
        assert_eq!(from, "2025-01", "what follows the areas is still read");
        assert_eq!(r.areas.len(), MAX_AREAS);
        assert_eq!(errors, vec![("area".to_string(), format!("Choose at most {MAX_AREAS} districts"))]);
    }

    #[test]
    fn parses_repeated_areas_and_months() {
        let (r, errors, f, _) = parse_query(Some("area=E06000021&area=E07000197&from=2025-01&to=2025-06"));
        assert!(errors.is_empty());
        assert_eq!(r.areas, vec!["E06000021", "E07000197"]);
        assert_eq!(f, "2025-01");
        assert_eq!(r.to.map(|m| m.to_string()).as_deref(), Some("2025-06"));
        let (_, errors, _, _) = parse_query(Some("from=2025-13&area=%3Cscript%3E"));
        assert_eq!(errors.len(), 2);
        let (r, errors, _, _) = parse_query(Some("place=12&from=2025-01"));
        assert!(errors.is_empty());
        assert_eq!(r.place, Some(12));
        let (_, errors, _, _) = parse_query(Some("place=park"));
        assert_eq!(errors, [("place".to_string(), "Choose a place from the list".to_string())]);
        let (_, errors, _, _) = parse_query(Some("place=12&area=E06000021"));
        assert_eq!(errors[0].1, "Choose either districts or a place, not both");
        assert_eq!(percent_decode("a%2Cb+c"), "a,b c");
    }

    #[test]
    fn a_reversed_or_overlong_period_is_an_error_of_its_field() {
        let (_, errors, _, _) = parse_query(Some("from=2025-06&to=2025-01"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "to");
        assert!(errors[0].1.starts_with("The last month (2025-01) is before the first month (2025-06)"), "{errors:?}");
        let (_, errors, _, _) = parse_query(Some("from=2025-01&to=9999-12"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "to");
        assert!(errors[0].1.contains("at most 120 months"), "{errors:?}");
        let (_, errors, _, _) = parse_query(Some("from=2016-01&to=2025-12"));
        assert!(errors.is_empty(), "ten years: {errors:?}");
    }
}
