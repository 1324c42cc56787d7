//! ED assault files as XML: `<IstvSubmission>` with the header elements and one
//! `<Assault>` per assault. Element names follow the data set's item names in UpperCamelCase;
//! namespace prefixes are ignored. A comment containing `SYNTHETIC` or the root attribute
//! `synthetic="true"` marks the file as synthetic.
//!
//! Read with `quick-xml`'s event reader rather than serde: a refusal must name the element
//! path of the bad value (`/IstvSubmission/Assault[12]/AssaultDateTime`), and an element that
//! is not in the format (above all one that looks like a patient identifier) must be refused
//! by name, neither of which serde's derive reports.

use std::io::Read;

use quick_xml::events::Event;

use super::{
    check_period, identifiers, parse_date, parse_site_code, validate_assault, EdSubmission, Field, RawAssault,
};
use crate::{IngestError, SourceFile};

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

pub(crate) fn read(file: &SourceFile) -> Result<EdSubmission, IngestError> {
    let name = file.name.as_str();
    let mut text = String::new();
    file.reader()?.read_to_string(&mut text).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => IngestError::file(name, "not valid UTF-8 text"),
        _ => IngestError::io(name, e),
    })?;
    let mut reader = quick_xml::Reader::from_str(&text);
    let malformed = |reader: &quick_xml::Reader<&[u8]>, e: &dyn std::fmt::Display| {
        let pos = reader.buffer_position() as usize;
        let line = text.as_bytes()[..pos.min(text.len())].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        IngestError::line(name, line, format!("malformed XML ({e})"))
    };

    let mut synthetic = false;
    // (element name, path) of open elements.
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut header = Header::default();
    let mut raws: Vec<(String, RawAssault)> = Vec::new();
    let mut assault_count = 0usize;
    let mut current_text = String::new();
    let mut seen_root = false;

    loop {
        let event = reader.read_event().map_err(|e| malformed(&reader, &e))?;
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let local = e.local_name().as_ref().to_string();
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
                for attr in e.attributes() {
                    let attr = attr.map_err(|err| malformed(&reader, &err))?;
                    let key = attr.key.local_name().as_ref().to_string();
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
                        None => return Err(malformed(&reader, &format!("unknown entity &{entity};"))),
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
