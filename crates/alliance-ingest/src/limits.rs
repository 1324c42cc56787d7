//! The bounds every parser enforces before it does work, in one place.
//!
//! Partner files come from users who are only partly trusted, and through uploads from anyone
//! who signs in: a careless or hostile file must be refused with a clear message, never
//! allowed to take the memory or the time of the server. Each bound below is checked as the
//! bytes stream in (a `.gz` is inflated through a counting reader; a CSV field is measured
//! before the CSV reader has buffered it; a workbook cell's position is checked before any
//! row is built), so a refusal costs at most about the bound itself.
//!
//! The defaults are generous for real data: data.police.uk street files are at most about
//! 10 MB and 10,000 rows a force-month (the largest shared file is 4.6 MB), and a national
//! file of 100 MB (about 450,000 rows) passes. Callers with other needs pass their own
//! [`Limits`] to [`SourceFile::with_limits`](crate::SourceFile::with_limits).

/// One mebibyte.
const MIB: u64 = 1 << 20;

/// The bounds on one file. Every parser reads them from the [`SourceFile`](crate::SourceFile)
/// it is given ([`Limits::default`] unless the caller set others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of a file's content as parsed: a `.gz` once inflated, an `.xlsx` workbook's
    /// parts added up once unzipped. Default 256 MiB: a national police file of 100 MB
    /// passes with room to spare; streamed files (police) never hold it in memory.
    pub max_decompressed_bytes: u64,
    /// Data rows (lines after the header) in one streamed file: police street and outcomes
    /// files. Default 1,000,000, twice a national month.
    pub max_rows: u64,
    /// Records a parser holds in memory before anything is stored: ED assaults, indicator
    /// values, points, ORUK services, boundary features, reference-table rows, governance
    /// values, workbook rows. Default 250,000 (every LSOA of England and Wales is about
    /// 36,000; a year of assaults at a large emergency department a few thousand), which
    /// keeps a whole-file parse under about 100 MB (measured by the crate's tests: 84 MB for
    /// 250,000 indicator values, 49 MB for as many assaults).
    pub max_held_rows: u64,
    /// Bytes of one field: a CSV field, a workbook cell's text, an XML element's text, a JSON
    /// string of a service. Default 64 KiB; real fields are under a kilobyte.
    pub max_field_bytes: u64,
    /// Bytes of one CSV record, or of one XML event (a tag, a text, a comment). Default 1 MiB.
    pub max_record_bytes: u64,
    /// Fields in one CSV record, and the last column a workbook cell may use. Default 1,000
    /// (the widest reference table has fewer than 100 columns).
    pub max_columns: u64,
    /// The last row a workbook cell may use (1-based, as Excel numbers rows). Default
    /// 1,000,000; together with [`max_columns`](Self::max_columns) this refuses a sheet
    /// whose used range would be rows × columns cells before any row is built.
    pub max_sheet_rows: u64,
    /// Bytes of a document parsed whole in memory: an ORUK JSON file, an `.xlsx` file as
    /// uploaded, and each part of a workbook once unzipped (a sheet, the shared strings).
    /// Default 64 MiB: a sheet of 250,000 rows of six cells is about 60 MB.
    pub max_document_bytes: u64,
    /// Nesting depth of an XML document. Default 16 (the ED format needs 3).
    pub max_xml_depth: u64,
    /// Elements in an XML document. Default 4,000,000 (an assault is at most 9 elements).
    pub max_xml_elements: u64,
    /// Attributes on one XML element. Default 32.
    pub max_xml_attributes: u64,
    /// Nesting depth of a JSON document (ORUK, GeoJSON). Default 64 (ORUK needs 6, a GeoJSON
    /// MultiPolygon 8).
    pub max_json_depth: u64,
    /// Bytes of a GeoJSON boundary file, read whole (in memory about five times its size;
    /// imported from the command line only). Default 256 MiB.
    pub max_geojson_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_decompressed_bytes: 256 * MIB,
            max_rows: 1_000_000,
            max_held_rows: 250_000,
            max_field_bytes: 64 * 1024,
            max_record_bytes: MIB,
            max_columns: 1_000,
            max_sheet_rows: 1_000_000,
            max_document_bytes: 64 * MIB,
            max_xml_depth: 16,
            max_xml_elements: 4_000_000,
            max_xml_attributes: 32,
            max_json_depth: 64,
            max_geojson_bytes: 256 * MIB,
        }
    }
}

/// A byte count for messages: `262144 bytes (256 MiB)`, or plain bytes below a kibibyte.
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    match UNITS.iter().find(|(size, _)| n >= *size) {
        Some((size, unit)) if n.is_multiple_of(*size) => format!("{} {unit}", n / size),
        Some((size, unit)) => format!("{n} bytes ({:.1} {unit})", n as f64 / *size as f64),
        None => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_naturally() {
        assert_eq!(bytes(256 << 20), "256 MiB");
        assert_eq!(bytes(64 * 1024), "64 KiB");
        assert_eq!(bytes(1_500), "1500 bytes (1.5 KiB)");
        assert_eq!(bytes(12), "12 bytes");
    }

    #[test]
    fn defaults_pass_a_national_police_file() {
        let l = Limits::default();
        // About 450,000 rows of about 220 bytes: 100 MB.
        assert!(l.max_decompressed_bytes >= 100_000_000 && l.max_rows >= 450_000);
        assert!(l.max_held_rows <= l.max_rows && l.max_field_bytes <= l.max_record_bytes);
    }
}
