//! Area reference data: LSOA deprivation, population, district names and boundaries.
//!
//! Each supported file is recognised by its header (CSV) or its feature properties
//! (GeoJSON), so a folder such as `shared/data/lsoa/` can be imported as a whole. These
//! files are small (tens of thousands of rows), so each is read whole.

mod boundaries;
mod tables;

pub use boundaries::{read_boundaries, Boundary, BoundaryKind};
pub use tables::{read_table, AreaTable, Deprivation, District, Population};

use crate::{IngestError, SourceFile};

/// The contents of one area reference file.
#[derive(Debug)]
pub enum AreaFile {
    Table(AreaTable),
    Boundaries(BoundaryKind, Vec<Boundary>),
}

impl AreaFile {
    /// A short name of what the file holds, stored with its import.
    pub fn kind_name(&self) -> &'static str {
        match self {
            AreaFile::Table(t) => t.kind_name(),
            AreaFile::Boundaries(kind, _) => kind.as_str(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            AreaFile::Table(t) => t.len(),
            AreaFile::Boundaries(_, b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// True for names the folder search picks up.
pub fn is_area_file_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.ends_with(".csv") || name.ends_with(".geojson") || name.ends_with(".json")
}

/// The kinds of area file Alliance recognises, and how it tells them, for the message about a
/// file it does not.
pub const EXPECTED_AREA_FILES: &str = "an IMD 2019 File 1 or File 2 (columns \"LSOA code (2011)\", \"Index of \
Multiple Deprivation (IMD) Rank…\", \"…Decile…\"), an IoD 2019 File 6 of population denominators (\"LSOA code \
(2011)\", \"Total population…\"), a WIMD 2019 file (\"lsoa11_code\", \"IMD_rank\", \"IMD_decile\"), Census 2011 usual \
residents (\"LSOA Code\", \"Persons\", \"Households\"), district names (\"LADCD\", \"LADNM\"), or GeoJSON boundaries \
whose features carry LSOA11CD, LSOA21CD or WD25CD";

/// A file that is not an area file Alliance recognises: what it found instead (the CSV
/// header, or the first feature's properties), to say beside what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecognised {
    pub file: String,
    /// What the file holds, in words: `the header "Crime ID", "Month", …`.
    pub found: String,
}

impl Unrecognised {
    /// At most this many names are quoted from what was found.
    const NAMES_SHOWN: usize = 12;

    /// `what` ("the header", "properties") quoting the first of `names`, each cut short.
    pub(crate) fn found(file: &str, what: &str, names: &[String]) -> Unrecognised {
        let mut quoted: Vec<String> =
            names.iter().take(Self::NAMES_SHOWN).map(|n| format!("\"{}\"", crate::error::excerpt(n))).collect();
        if names.len() > Self::NAMES_SHOWN {
            quoted.push(format!("and {} more", names.len() - Self::NAMES_SHOWN));
        }
        Unrecognised { file: file.to_string(), found: format!("{what} {}", quoted.join(", ")) }
    }
}

impl std::fmt::Display for Unrecognised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: not an area file Alliance recognises: it has {}, and Alliance expected {EXPECTED_AREA_FILES}",
            self.file, self.found
        )
    }
}

/// Reads an area file of any supported kind. `Ok(Err(_))` means the file is not one Alliance
/// knows, saying what it found (a folder import skips it and says so; a file named on its
/// own is refused).
pub fn read_area_file(file: &SourceFile) -> Result<Result<AreaFile, Unrecognised>, IngestError> {
    let name = file.logical_name();
    if name.ends_with(".geojson") || name.ends_with(".json") {
        return Ok(read_boundaries(file)?.map(|(kind, b)| AreaFile::Boundaries(kind, b)));
    }
    Ok(read_table(file)?.map(AreaFile::Table))
}
