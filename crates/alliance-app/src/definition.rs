//! The serious violence definition edited by partnership staff on the web (`/sna/definition/edit`),
//! beside `alliance definition export|import` at the command line: the bounds a definition
//! must keep, a preview of how many police-recorded crimes a proposed definition counts in the
//! latest twelve months of data (beside the current one), storage as a new version with an
//! audit row saying what changed and why, and the history of versions with their changes.

use std::collections::BTreeMap;

use alliance_core::analytics::sna::definition::{Definition, Mapping, SourceKind};
use alliance_core::domain::{CountField, CountFilter, Month};
use alliance_db::audit::Actor;
use alliance_db::sna::DefinitionVersion;
use alliance_db::Db;

use crate::counts::Scope;
use crate::AppError;

/// Mappings a definition may hold (the default has 26).
pub const MAX_MAPPINGS: usize = 300;
/// Characters of a definition's name.
pub const MAX_NAME_CHARS: usize = 200;
/// Characters of a definition's notes.
pub const MAX_NOTES_CHARS: usize = 4_000;
/// Characters of a mapping's category.
pub const MAX_CATEGORY_CHARS: usize = 100;
/// Characters of a mapping's note.
pub const MAX_NOTE_CHARS: usize = 1_000;
/// Characters of the reason given for a change.
pub const MAX_REASON_CHARS: usize = 1_000;
/// Change lines kept in an audit row (the rest are counted).
const MAX_CHANGES_AUDITED: usize = 40;

/// How many police records of each crime type the current and a proposed definition count
/// as serious violence (the headline), over the latest twelve months with data, in the
/// partnership's area as the SNA counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub from: Month,
    pub to: Month,
    pub rows: Vec<PreviewRow>,
    pub current_total: i64,
    pub proposed_total: i64,
}

/// One crime type of a [`Preview`].
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRow {
    pub crime_type: String,
    pub count: i64,
    /// Counted in the headline by the current definition.
    pub now: bool,
    /// Counted in the headline by the proposed definition.
    pub proposed: bool,
}

/// One stored version with what changed from the version before it.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub version: DefinitionVersion,
    pub changes: Vec<String>,
}

fn chars(field: &'static str, what: &str, value: &str, max: usize) -> Result<(), AppError> {
    let n = value.chars().count();
    if n > max {
        return Err(AppError::invalid(field, format!("{what} must be {max} characters or fewer (this has {n})")));
    }
    Ok(())
}

/// Checks a proposed definition's bounds and rules (`Definition::validate`): a name, at least
/// one mapping, no empty or duplicate category, every text within its bound. The field named
/// is the form's: `name`, `notes`, or `mappings` for a mapping's fault.
pub fn check(d: &Definition) -> Result<(), AppError> {
    if d.name.trim().is_empty() {
        return Err(AppError::invalid("name", "Enter a name for the definition"));
    }
    chars("name", "The name", &d.name, MAX_NAME_CHARS)?;
    chars("notes", "The notes", &d.notes, MAX_NOTES_CHARS)?;
    if d.mappings.len() > MAX_MAPPINGS {
        return Err(AppError::invalid(
            "mappings",
            format!("A definition holds at most {MAX_MAPPINGS} mappings (this has {})", d.mappings.len()),
        ));
    }
    for m in &d.mappings {
        chars("mappings", &format!("The category \"{}\"", short(&m.category)), &m.category, MAX_CATEGORY_CHARS)?;
        chars("mappings", &format!("The note of \"{}\"", short(&m.category)), &m.note, MAX_NOTE_CHARS)?;
    }
    d.validate().map_err(|e| AppError::invalid("mappings", alliance_core::format::capitalised(&e.to_string())))
}

/// A category as the source writes it: one of data.police.uk's fourteen crime types (in its
/// own spelling), one of Alliance's emergency department method codes, an ICD-10 code (a
/// letter and two digits, optionally `.` and one more), or a Home Office offence code (up to
/// 20 letters, digits, `/` or `.`). `Err` says why not.
pub fn normalise_category(source: SourceKind, text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter the category as the source writes it".into());
    }
    if text.chars().count() > MAX_CATEGORY_CHARS {
        return Err(format!("The category must be {MAX_CATEGORY_CHARS} characters or fewer"));
    }
    match source {
        SourceKind::PoliceCrimeType => alliance_core::domain::police::CRIME_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(text))
            .map(|t| t.to_string())
            .ok_or_else(|| {
                format!(
                    "\"{text}\" is not a data.police.uk crime type: use one of {}",
                    alliance_core::domain::police::CRIME_TYPES.join(", ")
                )
            }),
        SourceKind::EdAssaultMethod => alliance_ingest::ed::codes::ASSAULT_METHODS
            .iter()
            .find(|(code, _)| *code == text)
            .map(|(code, _)| code.to_string())
            .ok_or_else(|| {
                format!("\"{text}\" is not an assault method code: use a two-digit code such as 06 (knife) or 99 (not known)")
            }),
        SourceKind::Icd10 => {
            let upper = text.to_ascii_uppercase();
            let b = upper.as_bytes();
            let ok = (b.len() == 3 || (b.len() == 5 && b[3] == b'.' && b[4].is_ascii_digit()))
                && b[0].is_ascii_uppercase()
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit();
            if ok {
                Ok(upper)
            } else {
                Err(format!("\"{text}\" is not an ICD-10 code: a letter and two digits, such as X99 or Y04.1"))
            }
        }
        SourceKind::PoliceOffenceCode => {
            if text.len() <= 20 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '.') {
                Ok(text.to_string())
            } else {
                Err(format!("\"{text}\" is not an offence code: up to 20 letters, digits, / or ., such as 8/1"))
            }
        }
    }
}

fn short(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        s.chars().take(40).collect::<String>() + "…"
    }
}

/// The preview of `proposed` beside `current`; `None` when no police data is held.
pub async fn preview(db: &Db, current: &Definition, proposed: &Definition) -> Result<Option<Preview>, AppError> {
    let Some(to) = db.police_months_covered().await?.into_iter().max() else { return Ok(None) };
    let from = to.plus(-11);
    // The period is Alliance's own (twelve months to the latest held, which may reach before the
    // first), not a reader's, so it is not put to the checks of `crate::bounds`.
    let districts = crate::counts::districts(db, Vec::new(), Scope::Partnership).await?;
    let filter = CountFilter { from: Some(from), to: Some(to), districts, ..CountFilter::default() };
    let counts = db.counts(&[CountField::CrimeType], &filter).await?;
    let mut by_type: BTreeMap<String, i64> = BTreeMap::new();
    for row in counts {
        let crime_type = row.values.into_iter().next().flatten().unwrap_or_default();
        *by_type.entry(crime_type).or_default() += row.count;
    }
    Ok(Some(preview_of(from, to, &by_type, current, proposed)))
}

/// The preview's arithmetic over counts by crime type (pure, for the tests).
pub fn preview_of(
    from: Month,
    to: Month,
    by_type: &BTreeMap<String, i64>,
    current: &Definition,
    proposed: &Definition,
) -> Preview {
    let rows: Vec<PreviewRow> = by_type
        .iter()
        .map(|(t, n)| PreviewRow {
            crime_type: t.clone(),
            count: *n,
            now: current.in_headline(SourceKind::PoliceCrimeType, t),
            proposed: proposed.in_headline(SourceKind::PoliceCrimeType, t),
        })
        .collect();
    let current_total = rows.iter().filter(|r| r.now).map(|r| r.count).sum();
    let proposed_total = rows.iter().filter(|r| r.proposed).map(|r| r.count).sum();
    Preview { from, to, rows, current_total, proposed_total }
}

fn describe(m: &Mapping) -> String {
    format!(
        "{} \"{}\" → {} ({}, {})",
        m.source.label(),
        m.category,
        m.group.label(),
        m.fit.code(),
        if m.in_headline { "in the headline" } else { "context only" }
    )
}

/// What changed from `old` to `new`, one line each: the name, the notes, and each mapping
/// added, removed or changed (a mapping is its source, category and group).
pub fn changes(old: &Definition, new: &Definition) -> Vec<String> {
    let mut out = Vec::new();
    if old.name.trim() != new.name.trim() {
        out.push(format!("name changed from \"{}\" to \"{}\"", old.name.trim(), new.name.trim()));
    }
    if old.notes.trim() != new.notes.trim() {
        out.push("notes changed".to_string());
    }
    let key = |m: &Mapping| (m.source, m.category.to_lowercase(), m.group);
    for m in &old.mappings {
        match new.mappings.iter().find(|n| key(n) == key(m)) {
            None => out.push(format!("removed: {}", describe(m))),
            Some(n) if n != m => {
                let mut what = Vec::new();
                if n.fit != m.fit {
                    what.push(format!("fit {} → {}", m.fit.code(), n.fit.code()));
                }
                if n.in_headline != m.in_headline {
                    what.push(if n.in_headline { "now in the headline".into() } else { "now context only".into() });
                }
                if n.note.trim() != m.note.trim() {
                    what.push("note changed".into());
                }
                if n.category != m.category {
                    what.push(format!("written \"{}\"", n.category));
                }
                out.push(format!(
                    "changed: {} \"{}\" → {}: {}",
                    m.source.label(),
                    m.category,
                    m.group.label(),
                    what.join(", ")
                ));
            }
            Some(_) => {}
        }
    }
    for n in &new.mappings {
        if !old.mappings.iter().any(|m| key(m) == key(n)) {
            out.push(format!("added: {}", describe(n)));
        }
    }
    if old.gaps != new.gaps {
        out.push("what each source cannot show changed".to_string());
    }
    out
}

/// Stores `proposed` as the next version when it differs from the current one, with an
/// audit row naming the changes and the reason, in one transaction. `based_on` is the version
/// the editor opened (another version stored since is a conflict on `base_version`); a
/// proposal identical to the current version is refused on `mappings`, and nothing is stored.
pub async fn store(
    db: &Db,
    proposed: &Definition,
    based_on: i64,
    reason: &str,
    actor: &Actor,
) -> Result<i64, AppError> {
    check(proposed)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "Enter why the definition is changing"));
    }
    chars("reason", "The reason", reason, MAX_REASON_CHARS)?;
    let current = db.sv_definition_current().await?;
    let changed = changes(&current, proposed);
    if changed.is_empty() {
        return Err(AppError::invalid("mappings", "Nothing has changed: change a mapping, the name or the notes"));
    }
    let mut detail = format!("definition version {} changed: {reason}; ", current.version);
    let shown: Vec<&str> = changed.iter().take(MAX_CHANGES_AUDITED).map(String::as_str).collect();
    detail.push_str(&shown.join("; "));
    if changed.len() > MAX_CHANGES_AUDITED {
        detail.push_str(&format!("; and {} more changes", changed.len() - MAX_CHANGES_AUDITED));
    }
    Ok(db.sv_definition_store_audited(proposed, based_on, actor, &detail).await?)
}

/// Every version, newest first, each with what changed from the one before (bounded by the
/// versions stored: one is stored per deliberate change).
pub async fn history(db: &Db) -> Result<Vec<HistoryEntry>, AppError> {
    let versions = db.sv_definition_versions().await?;
    let mut out = Vec::with_capacity(versions.len());
    let mut later: Option<Definition> = None;
    // Oldest first, so each version is compared with the one before it.
    let mut entries = Vec::with_capacity(versions.len());
    for v in versions.into_iter().rev() {
        let d = db.sv_definition_version(v.version).await?;
        let changes = match (&later, &d) {
            (Some(before), Some(now)) => changes(before, now),
            (None, Some(_)) => vec!["first version".to_string()],
            _ => Vec::new(),
        };
        if d.is_some() {
            later = d;
        }
        entries.push(HistoryEntry { version: v, changes });
    }
    out.extend(entries.into_iter().rev());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alliance_core::analytics::sna::definition::default_definition;

    #[test]
    fn the_preview_counts_the_headline_types_of_each_definition() {
        let current = default_definition();
        let mut proposed = current.clone();
        // Drugs into the headline; robbery out.
        for m in &mut proposed.mappings {
            if m.category == "Drugs" {
                m.in_headline = true;
            }
            if m.category == "Robbery" {
                m.in_headline = false;
            }
        }
        let by_type: BTreeMap<String, i64> = [
            ("Violence and sexual offences", 100),
            ("Robbery", 10),
            ("Possession of weapons", 5),
            ("Drugs", 7),
            ("Burglary", 50),
        ]
        .into_iter()
        .map(|(t, n)| (t.to_string(), n))
        .collect();
        let (from, to) = ("2025-01".parse().unwrap(), "2025-12".parse().unwrap());
        let p = preview_of(from, to, &by_type, &current, &proposed);
        assert_eq!(p.current_total, 115);
        assert_eq!(p.proposed_total, 112);
        let burglary = p.rows.iter().find(|r| r.crime_type == "Burglary").unwrap();
        assert!(!burglary.now && !burglary.proposed);
    }

    #[test]
    fn changes_name_what_was_added_removed_and_changed() {
        let old = default_definition();
        let mut new = old.clone();
        new.mappings.retain(|m| m.category != "Drugs");
        new.mappings[0].fit = alliance_core::analytics::sna::definition::Fit::Exact;
        new.mappings.push(Mapping {
            source: SourceKind::PoliceCrimeType,
            category: "Public order".into(),
            group: alliance_core::analytics::sna::definition::SvGroup::SeriousAssault,
            fit: alliance_core::analytics::sna::definition::Fit::Proxy,
            in_headline: false,
            note: String::new(),
        });
        let c = changes(&old, &new);
        assert_eq!(c.len(), 3, "{c:?}");
        assert!(c.iter().any(|l| l.starts_with("removed:") && l.contains("\"Drugs\"")), "{c:?}");
        assert!(c.iter().any(|l| l.starts_with("changed:") && l.contains("fit broader → exact")), "{c:?}");
        assert!(c.iter().any(|l| l.starts_with("added:") && l.contains("\"Public order\"")), "{c:?}");
        assert!(changes(&old, &old).is_empty());
    }

    #[test]
    fn categories_are_written_as_their_source_writes_them() {
        assert_eq!(normalise_category(SourceKind::PoliceCrimeType, " robbery ").unwrap(), "Robbery");
        assert!(normalise_category(SourceKind::PoliceCrimeType, "Knife crime")
            .unwrap_err()
            .contains("not a data.police.uk"));
        assert_eq!(normalise_category(SourceKind::Icd10, "y04.1").unwrap(), "Y04.1");
        assert!(normalise_category(SourceKind::Icd10, "X9").is_err());
        assert_eq!(normalise_category(SourceKind::EdAssaultMethod, "06").unwrap(), "06");
        assert!(normalise_category(SourceKind::EdAssaultMethod, "6").is_err());
        assert!(normalise_category(SourceKind::PoliceOffenceCode, "").is_err());
    }

    #[test]
    fn bounds_are_checked_before_anything_is_stored() {
        let mut d = default_definition();
        d.mappings[0].category = "x".repeat(MAX_CATEGORY_CHARS + 1);
        assert!(matches!(check(&d), Err(AppError::Invalid { field: "mappings", .. })));
        let mut d = default_definition();
        d.name = " ".into();
        assert!(matches!(check(&d), Err(AppError::Invalid { field: "name", .. })));
        assert!(check(&default_definition()).is_ok());
    }
}
