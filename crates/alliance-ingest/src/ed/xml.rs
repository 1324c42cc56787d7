//! ED assault files as XML: `<IstvSubmission>` with the header elements and one
//! `<Assault>` per assault. Element names follow the data set's item names in UpperCamelCase;
//! namespace prefixes are ignored. A comment containing `SYNTHETIC` or the root attribute
//! `synthetic="true"` marks the file as synthetic.
//!
//! Read with `quick-xml`'s event reader rather than serde: a refusal must name the element
//! path of the bad value (`/IstvSubmission/Assault[12]/AssaultDateTime`), and an element that
//! is not in the format (above all one that looks like a patient identifier) must be refused
//! by name, neither of which serde's derive reports.

use quick_xml::events::Event;

use super::{
    check_period, identifiers, parse_date, parse_site_code, validate_assault, EdSubmission, Field, RawAssault,
};
use crate::bounded::{Breach, XmlSource};
use crate::error::{brief, excerpt};
use crate::{IngestError, Location, SourceFile};

/// The root element.
pub const ROOT: &str = "IstvSubmission";
/// The element of one assault.
pub const ASSAULT: &str = "Assault";

/// The elements accepted: (parent, element, required).
pub const XML_ELEMENTS: &[(&str, &str, bool)] = &[
    (ROOT, "ReportingPeriodStartDate", true),
    (ROOT, "ReportingPeriodEndDate", true),
    (ROOT, "SiteCode", true),
    (ROOT, ASSAULT, false),
    (ASSAULT, "ArrivalDateTime", false),
    (ASSAULT, "AssaultDateTime", true),
    (ASSAULT, "AssaultMethod", true),
    (ASSAULT, "AssaultMethodOtherDescription", false),
    (ASSAULT, "AssaultLocationType", true),
    (ASSAULT, "AssaultLocationDescription", false),
    (ASSAULT, "AgeBand", false),
    (ASSAULT, "Sex", false),
];

fn element_error(file: &str, path: &str, reason: impl std::fmt::Display) -> IngestError {
    IngestError::file(file, format!("element {path}: {reason}"))
}

fn identifier_refusal(file: &str, path: &str, kind: &str) -> IngestError {
    element_error(
        file,
        path,
        format!(
            "looks like {kind}; patient identifiers are never accepted, so the whole file is refused: remove it at \
             source and send the file again"
        ),
    )
}

/// The values of the submission as read, each with the path it came from.
#[derive(Default)]
struct Header {
    start: Option<String>,
    end: Option<String>,
    site: Option<String>,
}

fn field_of(name: &str) -> Option<Field> {
    Field::ALL.iter().copied().find(|f| f.xml() == name)
}

/// The refusal of a file over one of the XML limits, at `line`.
fn too_large(file: &str, line: u64, reason: String) -> IngestError {
    IngestError::too_large(Location::new(file, Some(line), None), reason)
}

pub(crate) fn read(file: &SourceFile) -> Result<EdSubmission, IngestError> {
    let name = file.name.as_str();
    let limits = file.limits();
    let mut reader = quick_xml::Reader::from_reader(XmlSource::new(file.reader()?, limits.max_record_bytes));
    let xml_error = |line: u64, e: quick_xml::Error| match Breach::find(&e) {
        Some(breach) => breach.into_error(name),
        None => IngestError::line(name, line, format!("malformed XML ({})", brief(&e))),
    };

    let mut synthetic = false;
    // (element name, path) of open elements.
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut header = Header::default();
    let mut raws: Vec<(String, RawAssault)> = Vec::new();
    let mut assault_count = 0u64;
    let mut elements = 0u64;
    let mut current_text = String::new();
    let mut seen_root = false;
    let mut buf = Vec::new();

    loop {
        buf.clear();
        reader.get_mut().start_event();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => return Err(xml_error(reader.get_ref().line(), e)),
        };
        let line = reader.get_ref().line();
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::DocType(_) => {
                return Err(IngestError::line(
                    name,
                    line,
                    "a DOCTYPE declaration is not accepted: ED files need no DTD, and entities are never expanded",
                ));
            }
            Event::Start(e) | Event::Empty(e) => {
                elements += 1;
                if elements > limits.max_xml_elements {
                    return Err(too_large(
                        name,
                        line,
                        format!("more than {} elements (the most accepted)", limits.max_xml_elements),
                    ));
                }
                if stack.len() as u64 >= limits.max_xml_depth {
                    return Err(too_large(
                        name,
                        line,
                        format!("elements nested deeper than {} levels (the deepest accepted)", limits.max_xml_depth),
                    ));
                }
                let local = excerpt(e.local_name().as_ref());
                let parent = stack.last().map(|(n, _)| n.as_str());
                let parent_path = stack.last().map(|(_, p)| p.as_str()).unwrap_or_default();
                let path = if local == ASSAULT && parent == Some(ROOT) {
                    format!("{parent_path}/{local}[{}]", assault_count + 1)
                } else {
                    format!("{parent_path}/{local}")
                };
                if let Some(kind) = identifiers::identifier_kind(&local) {
                    return Err(identifier_refusal(name, &path, kind));
                }
                for (i, attr) in e.attributes().enumerate() {
                    if i as u64 >= limits.max_xml_attributes {
                        return Err(too_large(
                            name,
                            line,
                            format!(
                                "element {path}: more than {} attributes (the most accepted)",
                                limits.max_xml_attributes
                            ),
                        ));
                    }
                    let attr =
                        attr.map_err(|err| IngestError::line(name, line, format!("malformed XML ({})", brief(&err))))?;
                    let key = excerpt(attr.key.local_name().as_ref());
                    if let Some(kind) = identifiers::identifier_kind(&key) {
                        return Err(identifier_refusal(name, &format!("{path}/@{key}"), kind));
                    }
                    if parent.is_none() && key == "synthetic" {
                        synthetic |= attr.value.as_ref().eq_ignore_ascii_case("true");
                    }
                }
                let allowed = match parent {
                    None => local == ROOT && !seen_root,
                    Some(p) => XML_ELEMENTS.iter().any(|(par, el, _)| *par == p && *el == local),
                };
                if !allowed {
                    let reason = match parent {
                        None => format!("expected the root element <{ROOT}>"),
                        Some(p) => format!(
                            "not an element of <{p}> in the ED assault format (accepted: {})",
                            XML_ELEMENTS
                                .iter()
                                .filter(|(par, _, _)| *par == p)
                                .map(|(_, el, _)| *el)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    return Err(element_error(name, &path, reason));
                }
                if parent.is_none() {
                    seen_root = true;
                }
                if local == ASSAULT {
                    assault_count += 1;
                    if assault_count > limits.max_held_rows {
                        return Err(too_large(
                            name,
                            line,
                            format!(
                                "more than {} assaults (the most accepted in one file); nothing of it was imported",
                                limits.max_held_rows
                            ),
                        ));
                    }
                    raws.push((path.clone(), RawAssault::default()));
                }
                current_text.clear();
                if is_empty {
                    store(&mut header, &mut raws, parent, &local, &path, String::new(), name)?;
                } else {
                    stack.push((local, path));
                }
            }
            Event::Text(t) => {
                current_text.push_str(&t.xml10_content());
            }
            Event::CData(t) => {
                current_text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    current_text.push(ch);
                } else {
                    let entity = r.xml10_content();
                    match quick_xml::escape::resolve_predefined_entity(&entity) {
                        Some(s) => current_text.push_str(s),
                        None => {
                            return Err(IngestError::line(
                                name,
                                line,
                                format!(
                                    "malformed XML (unknown entity &{};): only the five predefined entities and \
                                     character references are read",
                                    excerpt(&entity)
                                ),
                            ))
                        }
                    }
                }
            }
            Event::Comment(c) if c.as_ref().to_ascii_uppercase().contains("SYNTHETIC") => {
                synthetic = true;
            }
            Event::End(_) => {
                let Some((local, path)) = stack.pop() else { continue };
                let parent = stack.last().map(|(n, _)| n.clone());
                let value = std::mem::take(&mut current_text);
                store(&mut header, &mut raws, parent.as_deref(), &local, &path, value, name)?;
            }
            Event::Eof => break,
            _ => {}
        }
        if current_text.len() as u64 > limits.max_field_bytes {
            let at = stack.last().map(|(_, p)| p.as_str()).unwrap_or_default();
            return Err(too_large(
                name,
                line,
                format!(
                    "element {at}: text longer than {} (the longest accepted)",
                    crate::limits::bytes(limits.max_field_bytes)
                ),
            ));
        }
    }
    if !seen_root {
        return Err(IngestError::file(name, format!("no <{ROOT}> element")));
    }
    let root_blame = |f: Field, reason: String| element_error(name, &format!("/{ROOT}/{}", f.xml()), reason);
    let site_code = parse_site_code(header.site.as_deref(), &root_blame)?;
    let period_start = parse_date(Field::PeriodStart, header.start.as_deref(), &root_blame)?;
    let period_end = parse_date(Field::PeriodEnd, header.end.as_deref(), &root_blame)?;
    check_period(period_start, period_end, &root_blame)?;
    let mut assaults = Vec::with_capacity(raws.len());
    for (path, raw) in &raws {
        let blame = |f: Field, reason: String| element_error(name, &format!("{path}/{}", f.xml()), reason);
        assaults.push(validate_assault(raw, (period_start, period_end), &blame)?);
    }
    Ok(EdSubmission { site_code, period_start, period_end, synthetic, assaults })
}

/// Stores the text of a closed leaf element where it belongs.
fn store(
    header: &mut Header,
    raws: &mut [(String, RawAssault)],
    parent: Option<&str>,
    local: &str,
    path: &str,
    value: String,
    file: &str,
) -> Result<(), IngestError> {
    if local == ASSAULT || parent.is_none() {
        return Ok(());
    }
    let twice = || element_error(file, path, "appears twice");
    let slot = match (parent, field_of(local)) {
        (Some(ROOT), Some(Field::SiteCode)) => &mut header.site,
        (Some(ROOT), Some(Field::PeriodStart)) => &mut header.start,
        (Some(ROOT), Some(Field::PeriodEnd)) => &mut header.end,
        (Some(ASSAULT), Some(f)) => {
            let Some((_, raw)) = raws.last_mut() else { return Ok(()) };
            match f {
                Field::Arrival => &mut raw.arrival,
                Field::AssaultAt => &mut raw.assault_at,
                Field::Method => &mut raw.method,
                Field::MethodOther => &mut raw.method_other,
                Field::LocationType => &mut raw.location_type,
                Field::LocationDescription => &mut raw.location_description,
                Field::AgeBand => &mut raw.age_band,
                Field::Sex => &mut raw.sex,
                _ => return Ok(()),
            }
        }
        _ => return Ok(()),
    };
    if slot.is_some() {
        return Err(twice());
    }
    *slot = Some(value.trim().to_string());
    Ok(())
}
