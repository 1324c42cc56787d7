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

/// Reads an area file of any supported kind. `Ok(None)` means the file is not one Alliance
/// knows (so a folder import can skip it and say so).
pub fn read_area_file(file: &SourceFile) -> Result<Option<AreaFile>, IngestError> {
    let name = file.logical_name();
    if name.ends_with(".geojson") || name.ends_with(".json") {
        return Ok(read_boundaries(file)?.map(|(kind, b)| AreaFile::Boundaries(kind, b)));
    }
    Ok(read_table(file)?.map(AreaFile::Table))
}
