//! What every fuzz target shares: small limits, so short inputs reach the limit checks, and
//! the checks every refusal must pass whatever the input.

use alliance_ingest::{IngestError, Limits, SourceFile};

/// Limits small enough that inputs of a few kilobytes (libFuzzer's usual length) pass them.
pub fn small_limits() -> Limits {
    Limits {
        max_decompressed_bytes: 64 * 1024,
        max_rows: 64,
        max_held_rows: 32,
        max_field_bytes: 256,
        max_record_bytes: 1024,
        max_columns: 24,
        max_sheet_rows: 200,
        max_document_bytes: 32 * 1024,
        max_xml_depth: 6,
        max_xml_elements: 400,
        max_xml_attributes: 4,
        max_json_depth: 12,
        max_geojson_bytes: 32 * 1024,
    }
}

/// The same input under the default limits and under [`small_limits`]: the first byte
/// chooses (even: default), the rest is the file.
pub fn source(name: &str, data: &[u8]) -> SourceFile {
    match data.split_first() {
        Some((choice, rest)) if choice % 2 == 1 => SourceFile::from_bytes(name, rest.to_vec()).with_limits(small_limits()),
        Some((_, rest)) => SourceFile::from_bytes(name, rest.to_vec()),
        None => SourceFile::from_bytes(name, Vec::new()),
    }
}

/// The longest refusal message accepted: a refusal quotes excerpts, never whole values.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Checks a parser's outcome: any refusal must be short.
pub fn check<T>(outcome: Result<T, IngestError>) {
    if let Err(e) = outcome {
        let message = e.to_string();
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "a refusal of {} bytes: {}",
            message.len(),
            alliance_ingest::error::excerpt_to(&message, 300)
        );
    }
}
