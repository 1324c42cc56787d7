//! Files inside a zip, read where they lie: a data.police.uk download (`2025-01/2025-01-
//! staffordshire-street.csv`, …) uploaded whole is never unpacked to disk. Each wanted entry
//! becomes a [`SourceFile`] whose reader inflates the entry from the zip's bytes in memory as
//! the parser asks, so a run of files streams exactly as files on disk do.
//!
//! Bounds, checked from the zip's central directory before any entry is read:
//! - at most [`MAX_ENTRIES`] entries (counted by their directory records before the zip
//!   reader builds its index);
//! - each wanted entry at most [`Limits::max_decompressed_bytes`] once unzipped, all of them
//!   together at most [`MAX_TOTAL_UNZIPPED`], and none compressed more than [`MAX_RATIO`] to
//!   one (CSV compresses about ten to one; a zip bomb thousands);
//! - only stored or deflated entries, not encrypted;
//! - as an entry is read, it may not inflate past the size it declares, and its CRC-32 and
//!   length are checked at its end, so a zip that lies about an entry is refused, not read on.

use std::io::{self, Read};
use std::sync::Arc;

use crate::bounded::Capped;
use crate::error::quoted;
use crate::limits::bytes;
use crate::{IngestError, Limits, SourceFile};

/// Entries a zip may hold (a data.police.uk download of every force for three years holds
/// about 5,000).
pub const MAX_ENTRIES: usize = 20_000;
/// The most an entry may be compressed: bytes unzipped per byte stored (plus 64 KiB of
/// slack for tiny files).
pub const MAX_RATIO: u64 = 100;
/// The wanted entries' declared sizes added up: 16 GiB.
pub const MAX_TOTAL_UNZIPPED: u64 = 16 << 30;

/// An entry of a zip held in memory, located from its local header.
#[derive(Debug, Clone)]
pub(crate) struct ZipEntry {
    archive: Arc<[u8]>,
    start: usize,
    compressed: usize,
    size: u64,
    crc: u32,
    deflated: bool,
}

impl ZipEntry {
    /// The declared size once unzipped.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The entry's content as a stream: inflated (when deflated), capped at its declared size,
    /// its length and CRC-32 checked at its end.
    pub(crate) fn reader(&self) -> Box<dyn Read + Send> {
        let raw = ArcSlice { data: self.archive.clone(), pos: self.start, end: self.start + self.compressed };
        let inflated: Box<dyn Read + Send> =
            if self.deflated { Box::new(flate2::read::DeflateDecoder::new(raw)) } else { Box::new(raw) };
        Box::new(Checked {
            inner: Capped::new(inflated, self.size, "once unzipped (more than the zip declares for it)"),
            crc: flate2::Crc::new(),
            expected_crc: self.crc,
            expected_len: self.size,
            done: false,
        })
    }
}

/// Bytes `pos..end` of a shared buffer, owned (so the reader is `'static` and `Send`).
struct ArcSlice {
    data: Arc<[u8]>,
    pos: usize,
    end: usize,
}

impl Read for ArcSlice {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.end - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Checks length and CRC-32 when the entry ends.
struct Checked<R> {
    inner: R,
    crc: flate2::Crc,
    expected_crc: u32,
    expected_len: u64,
    done: bool,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n > 0 || buf.is_empty() {
            self.crc.update(&buf[..n]);
            return Ok(n);
        }
        self.done = true;
        if u64::from(self.crc.amount()) != self.expected_len & 0xffff_ffff || self.crc.sum() != self.expected_crc {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the zip entry is damaged: its length or CRC-32 does not match the zip's directory",
            ));
        }
        Ok(0)
    }
}

/// The wanted files of a zip and the names of the entries passed over.
#[derive(Debug)]
pub struct ZipContents {
    pub files: Vec<SourceFile>,
    /// Entries that are not wanted (e.g. stop-and-search files), by their path in the zip.
    pub skipped: Vec<String>,
}

/// Whether a file name is a zip's.
pub fn is_zip_file_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".zip")
}

/// The entries of the zip `name` (its bytes in memory) whose file names (without folders)
/// satisfy `wanted`, as files to import, each with `limits`; `what` says what was wanted
/// when none is there (`data.police.uk street or outcomes files`). Refused, naming the zip
/// and the entry, when a bound above is passed, two wanted entries share a name, or an entry
/// is encrypted or compressed other than by deflate.
pub fn files_in_zip(
    name: &str,
    archive: Arc<[u8]>,
    limits: &Limits,
    wanted: impl Fn(&str) -> bool,
    what: &str,
) -> Result<ZipContents, IngestError> {
    let records = archive.windows(4).filter(|w| *w == b"PK\x01\x02").count();
    if records > MAX_ENTRIES {
        return Err(IngestError::file_too_large(
            name,
            format!("a zip of more than {MAX_ENTRIES} entries; nothing of it was imported"),
        ));
    }
    let mut zip = zip::ZipArchive::new(io::Cursor::new(archive.clone()))
        .map_err(|e| IngestError::library(name, None, "not a readable .zip file", &e))?;
    let (mut files, mut skipped, mut total) = (Vec::<SourceFile>::new(), Vec::new(), 0u64);
    for i in 0..zip.len() {
        let entry =
            zip.by_index_raw(i).map_err(|e| IngestError::library(name, None, "not a readable .zip file", &e))?;
        let path = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() {
            continue;
        }
        let base = path.rsplit(['/', '\\']).next().unwrap_or_default().to_string();
        if !wanted(&base) {
            skipped.push(path);
            continue;
        }
        let at = |reason: String| IngestError::file(name, format!("entry {}: {reason}", quoted(&path)));
        if entry.encrypted() {
            return Err(at("encrypted: send the zip without a password".into()));
        }
        let deflated = match entry.compression() {
            zip::CompressionMethod::Stored => false,
            zip::CompressionMethod::Deflated => true,
            other => return Err(at(format!("compressed by {other}: Alliance reads stored or deflated entries"))),
        };
        let (size, compressed) = (entry.size(), entry.compressed_size());
        if size > limits.max_decompressed_bytes {
            return Err(IngestError::file_too_large(
                name,
                format!(
                    "entry {}: larger than {} once unzipped; nothing of the zip was imported",
                    quoted(&path),
                    bytes(limits.max_decompressed_bytes)
                ),
            ));
        }
        if size > compressed.saturating_mul(MAX_RATIO).saturating_add(64 * 1024) {
            return Err(IngestError::file_too_large(
                name,
                format!(
                    "entry {}: compressed more than {MAX_RATIO} to 1 ({} to {}), which no data file is; nothing of \
                     the zip was imported",
                    quoted(&path),
                    bytes(size),
                    bytes(compressed)
                ),
            ));
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL_UNZIPPED {
            return Err(IngestError::file_too_large(
                name,
                format!("larger than {} once unzipped; nothing of it was imported", bytes(MAX_TOTAL_UNZIPPED)),
            ));
        }
        let start = entry.data_start().ok_or_else(|| at("its data cannot be found".into()))?;
        let (Ok(start), Ok(len)) = (usize::try_from(start), usize::try_from(compressed)) else {
            return Err(at("its data lies outside the zip".into()));
        };
        if start.checked_add(len).is_none_or(|end| end > archive.len()) {
            return Err(at("its data lies outside the zip (the zip is cut short)".into()));
        }
        if files.iter().any(|f| f.name == base) {
            return Err(IngestError::file(name, format!("two entries are called {}: send one of them", quoted(&base))));
        }
        let entry = ZipEntry { archive: archive.clone(), start, compressed: len, size, crc: entry.crc32(), deflated };
        files.push(SourceFile::from_zip_entry(&base, entry).with_limits(limits.clone()));
    }
    if files.is_empty() {
        return Err(IngestError::file(name, format!("the zip holds no {what}")));
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ZipContents { files, skipped })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8], zip::CompressionMethod)]) -> Arc<[u8]> {
        let mut out = io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            for (name, bytes, method) in entries {
                w.start_file(*name, zip::write::SimpleFileOptions::default().compression_method(*method)).unwrap();
                w.write_all(bytes).unwrap();
            }
            w.finish().unwrap();
        }
        out.into_inner().into()
    }

    fn read_all(f: &SourceFile) -> Result<String, IngestError> {
        let mut s = String::new();
        f.reader()?.read_to_string(&mut s).map_err(|e| IngestError::io(&f.name, e))?;
        Ok(s)
    }

    fn police(name: &str) -> bool {
        crate::police::is_police_file_name(name)
    }

    #[test]
    fn wanted_entries_are_read_in_place() {
        use zip::CompressionMethod::{Deflated, Stored};
        let csv = "Crime ID,Month\n".repeat(50);
        let z = zip_of(&[
            ("2025-01/2025-01-test-street.csv", csv.as_bytes(), Deflated),
            ("2025-01/2025-01-test-stop-and-search.csv", b"x", Deflated),
            ("2025-01/2025-01-test-outcomes.csv", b"Crime ID\n", Stored),
        ]);
        let got = files_in_zip("download.zip", z, &Limits::default(), police, "police files").unwrap();
        assert_eq!(
            got.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["2025-01-test-outcomes.csv", "2025-01-test-street.csv"]
        );
        assert_eq!(got.skipped, ["2025-01/2025-01-test-stop-and-search.csv"]);
        assert_eq!(read_all(&got.files[1]).unwrap(), csv);
        assert_eq!(read_all(&got.files[0]).unwrap(), "Crime ID\n");
        // The checksum is the content's, as for the same file sent unzipped.
        let plain = SourceFile::from_bytes("2025-01-test-street.csv", csv.as_bytes().to_vec());
        assert_eq!(got.files[1].checksum().unwrap(), plain.checksum().unwrap());
    }

    #[test]
    fn bad_zips_are_refused_by_name() {
        use zip::CompressionMethod::Deflated;
        let e = files_in_zip("x.zip", b"not a zip".to_vec().into(), &Limits::default(), police, "police files");
        assert!(e.unwrap_err().to_string().starts_with("x.zip: not a readable .zip file"));
        let z = zip_of(&[("notes.txt", b"hello", Deflated)]);
        let e = files_in_zip("x.zip", z, &Limits::default(), police, "police files").unwrap_err();
        assert_eq!(e.to_string(), "x.zip: the zip holds no police files");
        let z = zip_of(&[("a/2025-01-t-street.csv", b"1", Deflated), ("b/2025-01-t-street.csv", b"2", Deflated)]);
        let e = files_in_zip("x.zip", z, &Limits::default(), police, "police files").unwrap_err();
        assert!(e.to_string().contains("two entries are called \"2025-01-t-street.csv\""), "{e}");
    }

    #[test]
    fn bombs_and_liars_are_refused() {
        use zip::CompressionMethod::Deflated;
        // 4 MiB of zeros deflate to a few KiB: over the ratio.
        let zeros = vec![0u8; 4 << 20];
        let z = zip_of(&[("2025-01-t-street.csv", &zeros, Deflated)]);
        let e = files_in_zip("bomb.zip", z, &Limits::default(), police, "police files").unwrap_err();
        assert!(
            matches!(e, IngestError::TooLarge { .. }) && e.to_string().contains("compressed more than 100 to 1"),
            "{e}"
        );
        // Over the per-file limit.
        let small = Limits { max_decompressed_bytes: 100, ..Limits::default() };
        let z = zip_of(&[("2025-01-t-street.csv", &[b'a'; 200][..], zip::CompressionMethod::Stored)]);
        let e = files_in_zip("big.zip", z, &small, police, "police files").unwrap_err();
        assert!(e.to_string().contains("larger than 100 bytes once unzipped"), "{e}");
        // A damaged entry: its bytes changed after the zip was written.
        let text = "Crime ID,Month\n".repeat(20);
        let z = zip_of(&[("2025-01-t-street.csv", text.as_bytes(), zip::CompressionMethod::Stored)]);
        let mut raw = z.to_vec();
        let at = raw.windows(8).position(|w| w == b"Crime ID").unwrap();
        raw[at] = b'X';
        let got = files_in_zip("bad.zip", raw.into(), &Limits::default(), police, "police files").unwrap();
        let e = read_all(&got.files[0]).unwrap_err();
        assert!(e.to_string().contains("CRC-32 does not match"), "{e}");
    }
}
