//! Strategy files: a partnership's strategy (its priorities, the commitments under each, and
//! the computed indicators defined with it) as one JSON document, the format documented in
//! `docs/formats/strategy.md`. The same file is imported by `alliance strategy import`, the
//! web form (`/strategies/import`) and `serve --demo` (`data/strategies/`), and written by
//! `alliance strategy export` and `/strategies/{id}/export`.
//!
//! The whole file is checked before anything is stored: a document over
//! [`Limits::max_document_bytes`](crate::Limits::max_document_bytes) or nested deeper than
//! [`Limits::max_json_depth`](crate::Limits::max_json_depth) is refused as it is read, a
//! field of the wrong type or an unknown field is named by its path (`priorities[2].name`)
//! and line, and every rule below is checked with the field's path in the message.

use std::collections::HashSet;
use std::str::FromStr;

use alliance_core::governance::{
    Direction, Frequency, IndicatorKind, IndicatorSeed, IndicatorSource, PrioritySeed, StrategySeed,
};
use serde::{Deserialize, Serialize};

use crate::bounded::JsonDepth;
use crate::error::{brief, quoted};
use crate::{IngestError, Location, SourceFile};

/// The value of the `format` field a strategy file carries (optional when importing).
pub const FORMAT: &str = "alliance-strategy/1";

/// Characters of a name (strategy, priority, indicator).
pub const MAX_NAME_CHARS: usize = 200;
/// Characters of a longer text: the aim, the source, a description, a commitment, a definition.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Priorities of one strategy.
pub const MAX_PRIORITIES: usize = 50;
/// Commitments under one priority.
pub const MAX_COMMITMENTS: usize = 100;
/// Computed indicators defined with one strategy.
pub const MAX_INDICATORS: usize = 100;

/// The document as written: [`StrategySeed`] with the `format` marker, no unknown fields.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format: Option<String>,
    name: String,
    period_start: String,
    period_end: String,
    #[serde(default)]
    source: String,
    aim: String,
    priorities: Vec<PriorityDoc>,
    #[serde(default)]
    computed_indicators: Vec<IndicatorDoc>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PriorityDoc {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    commitments: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct IndicatorDoc {
    code: String,
    name: String,
    kind: String,
    definition: String,
    unit: String,
    frequency: String,
    direction: String,
    #[serde(default)]
    priority: Option<String>,
    source: String,
}

/// Reads and checks a strategy file; the first problem is an [`IngestError`] naming the
/// file, the field's path (and the line for a problem of shape) and the reason.
pub fn parse(file: &SourceFile) -> Result<StrategySeed, IngestError> {
    let limits = file.limits();
    let capped = file.reader_capped(limits.max_document_bytes, "for a strategy file")?;
    let reader = std::io::BufReader::new(JsonDepth::new(capped, limits.max_json_depth));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let doc: Document = match serde_path_to_error::deserialize(&mut de) {
        Ok(doc) => doc,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.classify() == serde_json::error::Category::Io {
                return Err(IngestError::io(&file.name, inner.into()));
            }
            let line = (inner.line() > 0).then_some(inner.line() as u64);
            // A path from the top is a field; `[0]` means the document is a list, not an object.
            let field = (path != "." && !path.is_empty() && !path.starts_with('[')).then_some(path);
            return Err(IngestError::Invalid {
                location: Location::new(&file.name, line, None),
                reason: match field {
                    Some(f) => format!("field {f}: {}", brief(strip_position(&inner))),
                    None => format!("not a strategy file ({})", brief(strip_position(&inner))),
                },
            });
        }
    };
    if let Err(e) = de.end() {
        return Err(IngestError::from_json(&file.name, e, "not a strategy file"));
    }
    check(&file.name, doc)
}

/// Parses a strategy file held in memory (the bundled demo strategy, a test).
pub fn parse_text(name: &str, text: &str) -> Result<StrategySeed, IngestError> {
    parse(&SourceFile::from_bytes(name, text.as_bytes().to_vec()))
}

/// serde_json's message without its ` at line L column C` (the location says the line).
fn strip_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// The strategy as a file: pretty-printed JSON with the [`FORMAT`] marker, its fields in
/// the documented order.
pub fn to_json(seed: &StrategySeed) -> String {
    let doc = Document {
        format: Some(FORMAT.to_string()),
        name: seed.name.clone(),
        period_start: seed.period_start.clone(),
        period_end: seed.period_end.clone(),
        source: seed.source.clone(),
        aim: seed.aim.clone(),
        priorities: seed
            .priorities
            .iter()
            .map(|p| PriorityDoc {
                name: p.name.clone(),
                description: p.description.clone(),
                commitments: p.commitments.clone(),
            })
            .collect(),
        computed_indicators: seed
            .computed_indicators
            .iter()
            .map(|i| IndicatorDoc {
                code: i.code.clone(),
                name: i.name.clone(),
                kind: i.kind.clone(),
                definition: i.definition.clone(),
                unit: i.unit.clone(),
                frequency: i.frequency.clone(),
                direction: i.direction.clone(),
                priority: i.priority.clone(),
                source: i.source.clone(),
            })
            .collect(),
    };
    // Serialising plain strings and vectors cannot fail.
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// A problem with one field: `file: field priorities[1].name: reason`.
fn field(file: &str, path: &str, reason: impl Into<String>) -> IngestError {
    IngestError::file(file, format!("field {path}: {}", reason.into()))
}

/// Trimmed text that must not be empty and must fit `max` characters.
fn text(file: &str, path: &str, value: &str, max: usize, required: bool) -> Result<String, IngestError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(field(file, path, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(field(file, path, format!("{chars} characters, more than the {max} accepted")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(field(file, path, "contains control characters"));
    }
    Ok(value.to_string())
}

/// A four-digit year from 2000 to 2100.
fn year(file: &str, path: &str, value: &str) -> Result<(String, u32), IngestError> {
    let value = value.trim();
    match value.parse::<u32>() {
        Ok(y) if value.len() == 4 && (2000..=2100).contains(&y) => Ok((value.to_string(), y)),
        _ => Err(field(file, path, format!("{} is not a year: expected four digits, e.g. 2024", quoted(value)))),
    }
}

fn check(file: &str, doc: Document) -> Result<StrategySeed, IngestError> {
    if let Some(format) = &doc.format {
        if format.trim() != FORMAT {
            return Err(field(
                file,
                "format",
                format!("{} is not a format Alliance reads: expected {FORMAT}", quoted(format)),
            ));
        }
    }
    let name = text(file, "name", &doc.name, MAX_NAME_CHARS, true)?;
    let (period_start, start) = year(file, "period_start", &doc.period_start)?;
    let (period_end, end) = year(file, "period_end", &doc.period_end)?;
    if end < start {
        return Err(field(file, "period_end", format!("{end} is before period_start {start}")));
    }
    let aim = text(file, "aim", &doc.aim, MAX_TEXT_CHARS, true)?;
    let source = text(file, "source", &doc.source, MAX_TEXT_CHARS, false)?;
    if doc.priorities.is_empty() {
        return Err(field(file, "priorities", "a strategy needs at least one priority"));
    }
    if doc.priorities.len() > MAX_PRIORITIES {
        return Err(field(
            file,
            "priorities",
            format!("{} priorities, more than the {MAX_PRIORITIES} accepted", doc.priorities.len()),
        ));
    }
    let mut names = HashSet::new();
    let mut priorities = Vec::with_capacity(doc.priorities.len());
    for (i, p) in doc.priorities.into_iter().enumerate() {
        let at = format!("priorities[{i}]");
        let pname = text(file, &format!("{at}.name"), &p.name, MAX_NAME_CHARS, true)?;
        if !names.insert(pname.to_lowercase()) {
            return Err(field(file, &format!("{at}.name"), format!("{} names two priorities", quoted(&pname))));
        }
        let description = text(file, &format!("{at}.description"), &p.description, MAX_TEXT_CHARS, false)?;
        if p.commitments.len() > MAX_COMMITMENTS {
            return Err(field(
                file,
                &format!("{at}.commitments"),
                format!("{} commitments, more than the {MAX_COMMITMENTS} accepted", p.commitments.len()),
            ));
        }
        let commitments = p
            .commitments
            .iter()
            .enumerate()
            .map(|(j, c)| text(file, &format!("{at}.commitments[{j}]"), c, MAX_TEXT_CHARS, true))
            .collect::<Result<Vec<_>, _>>()?;
        priorities.push(PrioritySeed { name: pname, description, commitments });
    }
    if doc.computed_indicators.len() > MAX_INDICATORS {
        return Err(field(
            file,
            "computed_indicators",
            format!("{} indicators, more than the {MAX_INDICATORS} accepted", doc.computed_indicators.len()),
        ));
    }
    let mut codes = HashSet::new();
    let mut indicators = Vec::with_capacity(doc.computed_indicators.len());
    for (i, ind) in doc.computed_indicators.into_iter().enumerate() {
        let at = format!("computed_indicators[{i}]");
        let code = text(file, &format!("{at}.code"), &ind.code, 60, true)?;
        if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(field(
                file,
                &format!("{at}.code"),
                format!("{} may use only letters, digits, - and _", quoted(&code)),
            ));
        }
        if !codes.insert(code.clone()) {
            return Err(field(file, &format!("{at}.code"), format!("{} names two indicators", quoted(&code))));
        }
        let iname = text(file, &format!("{at}.name"), &ind.name, MAX_NAME_CHARS, true)?;
        let kind =
            IndicatorKind::from_str(ind.kind.trim()).map_err(|e| field(file, &format!("{at}.kind"), e.to_string()))?;
        let definition = text(file, &format!("{at}.definition"), &ind.definition, MAX_TEXT_CHARS, true)?;
        let unit = text(file, &format!("{at}.unit"), &ind.unit, MAX_NAME_CHARS, true)?;
        let frequency = Frequency::from_str(ind.frequency.trim())
            .map_err(|e| field(file, &format!("{at}.frequency"), e.to_string()))?;
        let direction =
            Direction::from_str(ind.direction.trim()).map_err(|e| field(file, &format!("{at}.direction"), e))?;
        let source = IndicatorSource::parse(&ind.source).map_err(|e| field(file, &format!("{at}.source"), e))?;
        if !source.is_computed() {
            return Err(field(
                file,
                &format!("{at}.source"),
                "a strategy file defines computed indicators only: entered indicators are added on the indicators page",
            ));
        }
        let priority = match ind.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => match priorities.iter().find(|q| q.name.eq_ignore_ascii_case(p)) {
                Some(q) => Some(q.name.clone()),
                None => {
                    return Err(field(
                        file,
                        &format!("{at}.priority"),
                        format!("{} is not the name of a priority of this strategy", quoted(p)),
                    ))
                }
            },
            None => None,
        };
        indicators.push(IndicatorSeed {
            code,
            name: iname,
            kind: kind.code().to_string(),
            definition,
            unit,
            frequency: frequency.code().to_string(),
            direction: direction.as_str().to_string(),
            priority,
            source: source.as_string(),
        });
    }
    Ok(StrategySeed { name, period_start, period_end, source, aim, priorities, computed_indicators: indicators })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "format": "alliance-strategy/1",
  "name": "Example Violence Reduction Strategy 2025-2030",
  "period_start": "2025",
  "period_end": "2030",
  "aim": "Prevent serious violence",
  "priorities": [
    { "name": "Prevention", "description": "Early help", "commitments": ["Work with schools", "Fund youth work"] },
    { "name": "Enforcement", "commitments": [] }
  ],
  "computed_indicators": [
    { "code": "vso-count", "name": "Violence recorded", "kind": "outcome", "definition": "Count", "unit": "offences",
      "frequency": "quarterly", "direction": "down", "priority": "enforcement",
      "source": "computed:quarter-count:Violence and sexual offences" }
  ]
}"#;

    fn err(text: &str) -> String {
        parse_text("s.json", text).unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_reads_and_round_trips() {
        let seed = parse_text("s.json", GOOD).unwrap();
        assert_eq!(seed.priorities.len(), 2);
        assert_eq!(seed.priorities[0].commitments, ["Work with schools", "Fund youth work"]);
        assert_eq!(seed.computed_indicators[0].priority.as_deref(), Some("Enforcement"), "named as the priority is");
        let again = parse_text("s.json", &to_json(&seed)).unwrap();
        assert_eq!(to_json(&again), to_json(&seed));
        assert!(to_json(&seed).starts_with("{\n  \"format\": \"alliance-strategy/1\""));
    }

    #[test]
    fn problems_name_the_file_the_field_and_the_reason() {
        let e = err(&GOOD.replace("\"2030\"", "\"2020\""));
        assert_eq!(e, "s.json: field period_end: 2020 is before period_start 2025");
        let e = err(&GOOD.replace("\"Enforcement\", \"commitments\"", "\"Prevention\", \"commitments\""));
        assert!(e.contains("field priorities[1].name: \"Prevention\" names two priorities"), "{e}");
        let e = err(&GOOD.replace("\"Fund youth work\"", "\"  \""));
        assert!(e.contains("field priorities[0].commitments[1]: must not be empty"), "{e}");
        let e = err(&GOOD.replace("\"priority\": \"enforcement\"", "\"priority\": \"Nothing\""));
        assert!(e.contains("field computed_indicators[0].priority: \"Nothing\" is not the name"), "{e}");
        let e = err(&GOOD.replace("\"direction\": \"down\"", "\"direction\": \"sideways\""));
        assert!(e.contains("field computed_indicators[0].direction:"), "{e}");
        let e = err(&GOOD.replace("computed:quarter-count:Violence and sexual offences", "entered"));
        assert!(e.contains("computed indicators only"), "{e}");
        let e = err(&GOOD.replace("alliance-strategy/1", "alliance-strategy/9"));
        assert!(e.contains("field format:"), "{e}");
    }

    #[test]
    fn shape_problems_name_the_path_and_line() {
        let e = err(&GOOD.replace("\"commitments\": []", "\"commitments\": [], \"colour\": \"red\""));
        assert!(e.starts_with("s.json:9: field priorities[1].colour: unknown field `colour`"), "{e}");
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = err(&GOOD.replace("\"period_start\": \"2025\"", "\"period_start\": 2025"));
        assert!(e.starts_with("s.json:4: field period_start: invalid type"), "{e}");
        let e = err("{\"name\": \"x\"");
        assert!(e.starts_with("s.json"), "{e}");
        let e = err("[1, 2]");
        assert!(e.contains("not a strategy file"), "{e}");
    }

    #[test]
    fn bounds_hold() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(err(&deep).contains("nested deeper"), "{}", err(&deep));
        let many: Vec<String> = (0..=MAX_PRIORITIES).map(|i| format!("{{\"name\": \"P{i}\"}}")).collect();
        let text = GOOD.replace(
            &GOOD[GOOD.find("\"priorities\"").unwrap()..GOOD.find("\"computed_indicators\"").unwrap()],
            &format!("\"priorities\": [{}],\n", many.join(",")),
        );
        let text = text.replace("\"priority\": \"enforcement\",", "");
        assert!(err(&text).contains("priorities: 51 priorities"), "{}", err(&text));
        let long = GOOD.replace("Prevent serious violence", &"x".repeat(MAX_TEXT_CHARS + 1));
        assert!(err(&long).contains("field aim: 4001 characters"), "{}", err(&long));
    }
}
