//! Postcodes: importing an ONS Postcode Directory or Code-Point Open file
//! (`alliance import postcodes FILE`), and placing a postcode a person types (the public
//! report form, the directory search, the charter map).
//!
//! By default only the postcodes of the partnership's own districts (its profile) are kept,
//! so the national files a deployment downloads fit the parser's bound on rows held; with no
//! profile, or when asked, every postcode of the file is kept.

use std::collections::HashSet;

use alliance_db::audit::Actor;
use alliance_db::imports::{ImportAudit, ImportOutcome};
use alliance_db::postcodes::PostcodePlace;
use alliance_db::{Db, DbError};
use alliance_ingest::postcodes::normalise_postcode;
use alliance_ingest::SourceFile;

use crate::AppError;

/// The audit action of a postcode import.
pub const ACTION: &str = "import postcodes";

/// Which postcodes of a file to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    /// The partnership's districts (every postcode when no profile names any).
    PartnershipArea,
    /// Every postcode of the file.
    All,
    /// These districts (GSS codes).
    Districts(Vec<String>),
}

/// What an import did: the outcome, and the rows passed over.
#[derive(Debug, Clone)]
pub struct Imported {
    pub outcome: ImportOutcome,
    pub format: Option<&'static str>,
    pub kept: usize,
    pub unlocated: u64,
    pub outside: u64,
    /// The districts kept (empty: all).
    pub districts: Vec<String>,
}

impl Imported {
    /// The one-line account of the import of file `name`, as the command line prints it and
    /// the upload page shows it.
    pub fn summary(&self, name: &str) -> String {
        match &self.outcome {
            ImportOutcome::Imported { import_id, counts, .. } => format!(
                "{name}: {} postcodes imported as import {import_id} ({}; {} without a grid reference and {} outside {} passed over; {} replaced)",
                self.kept,
                self.format.unwrap_or("postcodes"),
                self.unlocated,
                self.outside,
                if self.districts.is_empty() { "no district filter".to_string() } else { self.districts.join(", ") },
                counts.rows_replaced
            ),
            ImportOutcome::Unchanged { import_id, .. } => format!("{name}: unchanged (already import {import_id})"),
            ImportOutcome::Skipped { reason } => format!("{name}: skipped: {reason}"),
        }
    }
}

/// Imports one postcode file, audited as `import postcodes` (in the import's transaction when
/// it stores rows; on its own when it is refused or unchanged). The inner result is the file's:
/// a refused file names the file, line, column and reason, and nothing is stored.
pub async fn import(
    db: &Db,
    actor: &Actor,
    file: &SourceFile,
    keep: &Keep,
) -> Result<Result<Imported, DbError>, AppError> {
    let districts: Vec<String> = match keep {
        Keep::All => Vec::new(),
        Keep::Districts(d) => d.iter().map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect(),
        Keep::PartnershipArea => {
            db.partnership().await?.map(|p| p.districts.iter().map(|d| d.to_string()).collect()).unwrap_or_default()
        }
    };
    let set: HashSet<String> = districts.iter().cloned().collect();
    let result = db.import_postcodes(file, &set, &ImportAudit::new(actor.clone(), ACTION)).await;
    let attempt = match &result {
        Ok((ImportOutcome::Imported { .. }, _)) => None,
        Ok((ImportOutcome::Unchanged { import_id, .. }, _)) => Some(format!("unchanged: already import {import_id}")),
        Ok((ImportOutcome::Skipped { reason }, _)) => Some(format!("skipped: {reason}")),
        Err(e) => Some(format!("FAILED: {e}")),
    };
    if let Some(detail) = attempt {
        let detail: String = detail.chars().take(2_000).collect();
        db.audit(&actor.event(ACTION, &file.name, &detail)).await?;
    }
    Ok(result.map(|(outcome, contents)| Imported {
        outcome,
        format: contents.as_ref().map(|c| c.format.label()),
        kept: contents.as_ref().map_or(0, |c| c.postcodes.len()),
        unlocated: contents.as_ref().map_or(0, |c| c.unlocated),
        outside: contents.as_ref().map_or(0, |c| c.outside),
        districts,
    }))
}

/// Why a typed postcode could not be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unplaced {
    /// Not shaped like a UK postcode.
    NotAPostcode,
    /// A postcode, but not among those held (or none are held).
    Unknown(String),
}

impl Unplaced {
    /// The message for the person who typed it.
    pub fn message(&self) -> String {
        match self {
            Unplaced::NotAPostcode => "Enter a real postcode, with its space, like SN1 1AA or B12 9QA".to_string(),
            Unplaced::Unknown(p) => format!("We could not find the postcode {p}: check it, or leave it out"),
        }
    }
}

/// The place of a typed postcode.
pub async fn locate(db: &Db, typed: &str) -> Result<Result<PostcodePlace, Unplaced>, AppError> {
    let Some(postcode) = normalise_postcode(typed) else { return Ok(Err(Unplaced::NotAPostcode)) };
    Ok(db.postcode(&postcode).await?.ok_or(Unplaced::Unknown(postcode)))
}

/// Great-circle distance in kilometres (haversine, mean Earth radius 6,371 km): the distance
/// a person reads, accurate to well under a percent at the scale of a partnership's area.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1, lat2, lon2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6_371.0 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circle_kilometres() {
        // Stoke-on-Trent station (53.008, -2.181) to Stafford station (52.804, -2.122): about 23 km.
        let d = distance_km((53.008, -2.181), (52.804, -2.122));
        assert!((d - 23.0).abs() < 1.0, "{d}");
        assert_eq!(distance_km((52.0, -2.0), (52.0, -2.0)), 0.0);
    }
}
