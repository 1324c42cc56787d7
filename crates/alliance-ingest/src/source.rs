//! A file to import: its name (for messages and provenance), its bytes as a stream, its
//! checksum, and the [`Limits`] its parsers enforce. Files ending in `.gz` are decompressed
//! on the fly, through a counting reader that stops at the limit.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::bounded::Capped;
use crate::{IngestError, Limits};

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
enum Origin {
    Path(PathBuf),
    Bytes(std::sync::Arc<[u8]>),
    /// An entry of a zip held in memory, inflated as it is read (`crate::archive`).
    ZipEntry(crate::archive::ZipEntry),
}

/// A file offered for import, from disk or from memory (an upload, the bundled demo data).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file's name as shown in messages and stored in provenance (no directories).
    pub name: String,
    origin: Origin,
    limits: Limits,
}

impl SourceFile {
    pub fn from_path(path: &Path) -> SourceFile {
        let name =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        SourceFile { name, origin: Origin::Path(path.to_path_buf()), limits: Limits::default() }
    }

    pub fn from_bytes(name: &str, bytes: impl Into<std::sync::Arc<[u8]>>) -> SourceFile {
        SourceFile { name: name.to_string(), origin: Origin::Bytes(bytes.into()), limits: Limits::default() }
    }

    /// An entry of a zip in memory (made by [`crate::archive::files_in_zip`]).
    pub(crate) fn from_zip_entry(name: &str, entry: crate::archive::ZipEntry) -> SourceFile {
        SourceFile { name: name.to_string(), origin: Origin::ZipEntry(entry), limits: Limits::default() }
    }

    /// The same file with other bounds for its parsers (the default is [`Limits::default`]).
    pub fn with_limits(mut self, limits: Limits) -> SourceFile {
        self.limits = limits;
        self
    }

    /// The bounds this file's parsers enforce.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The name without a trailing `.gz`.
    pub fn logical_name(&self) -> &str {
        self.name.strip_suffix(".gz").unwrap_or(&self.name)
    }

    fn is_gzip(&self) -> bool {
        self.name.ends_with(".gz")
    }

    fn raw_reader(&self) -> Result<Box<dyn Read + Send>, IngestError> {
        Ok(match &self.origin {
            Origin::Path(path) => Box::new(File::open(path).map_err(|e| IngestError::io(&self.name, e))?),
            Origin::Bytes(bytes) => Box::new(io::Cursor::new(bytes.clone())),
            Origin::ZipEntry(entry) => entry.reader(),
        })
    }

    /// The size of the content in bytes, estimated for `.gz` files (taken as compressing
    /// five to one, typical of CSV), and 0 when the file cannot be read. For planning only.
    pub fn approximate_len(&self) -> u64 {
        let stored = self.stored_len().unwrap_or(0);
        if self.is_gzip() {
            stored.saturating_mul(5)
        } else {
            stored
        }
    }

    /// The size of the file as stored (compressed for `.gz`), when it can be known.
    fn stored_len(&self) -> Option<u64> {
        match &self.origin {
            Origin::Path(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Origin::Bytes(bytes) => Some(bytes.len() as u64),
            Origin::ZipEntry(entry) => Some(entry.size()),
        }
    }

    /// The decompressed content as a buffered stream, which fails with
    /// [`IngestError::TooLarge`] (through [`IngestError::io`]) past
    /// [`Limits::max_decompressed_bytes`]. A plain file over the limit is refused here,
    /// before any of it is read.
    pub fn reader(&self) -> Result<Box<dyn Read + Send>, IngestError> {
        self.reader_capped(self.limits.max_decompressed_bytes, "once decompressed")
    }

    /// [`SourceFile::reader`] with a tighter cap for a document read whole; `what` ends the
    /// refusal (`larger than 64 MiB {what}`). The decompressed cap still holds when smaller.
    pub(crate) fn reader_capped(&self, cap: u64, what: &'static str) -> Result<Box<dyn Read + Send>, IngestError> {
        let (cap, what) = if self.limits.max_decompressed_bytes < cap {
            (self.limits.max_decompressed_bytes, "once decompressed")
        } else {
            (cap, what)
        };
        if !self.is_gzip() && self.stored_len().is_some_and(|len| len > cap) {
            return Err(crate::bounded::capped::over_cap(cap, what).into_error(&self.name));
        }
        let raw = self.raw_reader()?;
        Ok(if self.is_gzip() {
            let inflated = flate2::read::MultiGzDecoder::new(BufReader::new(raw));
            Box::new(BufReader::with_capacity(1 << 16, Capped::new(inflated, cap, what)))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, Capped::new(raw, cap, what)))
        })
    }

    /// The same file held in memory when it is on disk and stores at most `max_bytes`, so
    /// that its checksum and its parse read it once (an import reads every file twice
    /// otherwise: on a national archive, 7 GB copied from the kernel a second time); any
    /// other file as it is. Never reads more than the file's own limit allows (a larger file is
    /// refused by its reader, before any of it is read). Fails only when the file cannot be read.
    pub fn in_memory_when_small(&self, max_bytes: u64) -> Result<SourceFile, IngestError> {
        let bound = max_bytes.min(self.limits.max_decompressed_bytes);
        match &self.origin {
            Origin::Path(path) if self.stored_len().is_some_and(|len| len <= bound) => {
                let bytes = std::fs::read(path).map_err(|e| IngestError::io(&self.name, e))?;
                Ok(SourceFile {
                    name: self.name.clone(),
                    origin: Origin::Bytes(bytes.into()),
                    limits: self.limits.clone(),
                })
            }
            _ => Ok(self.clone()),
        }
    }

    /// SHA-256 of the file exactly as given (compressed bytes for `.gz`; a zip entry's content,
    /// so it matches the same file sent unzipped), hex-encoded.
    pub fn checksum(&self) -> Result<String, IngestError> {
        let mut hasher = Sha256::new();
        match &self.origin {
            Origin::Bytes(bytes) => hasher.update(bytes),
            // A zip entry's checksum is its content's, as for the same file sent unzipped.
            Origin::Path(_) | Origin::ZipEntry(_) => {
                let mut reader = self.raw_reader()?;
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = reader.read(&mut buf).map_err(|e| IngestError::io(&self.name, e))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                }
            }
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// Finds the files under `paths` (files are taken as given; folders are searched
/// recursively) whose names satisfy `wanted`, sorted by path so imports run in a stable order.
pub fn collect_files(paths: &[PathBuf], wanted: impl Fn(&str) -> bool) -> io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, wanted: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, wanted, out)?;
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(wanted) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &wanted, &mut out)?;
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{}: no such file or folder", path.display())));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_file_is_read_once_into_memory_with_the_same_checksum_and_content() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("2025-01-staffordshire-street.csv");
        std::fs::write(&path, b"Crime ID,Month\nabc,2025-01\n").expect("written");
        let on_disk = SourceFile::from_path(&path);
        let held = on_disk.in_memory_when_small(1024).expect("read");
        assert!(matches!(held.origin, Origin::Bytes(_)), "held in memory");
        assert_eq!(held.name, on_disk.name);
        assert_eq!(held.checksum().expect("sum"), on_disk.checksum().expect("sum"));
        let mut text = String::new();
        held.reader().expect("reader").read_to_string(&mut text).expect("read");
        assert_eq!(text, "Crime ID,Month\nabc,2025-01\n");
        // Past the bound the file stays on disk (streamed, so memory stays flat).
        let streamed = on_disk.in_memory_when_small(10).expect("as it is");
        assert!(matches!(streamed.origin, Origin::Path(_)));
        // Nor is a file read past its own limit: its reader refuses it before reading.
        let tight = on_disk.clone().with_limits(Limits { max_decompressed_bytes: 10, ..Limits::default() });
        assert!(matches!(tight.in_memory_when_small(1024).expect("as it is").origin, Origin::Path(_)));
        // A file whose size cannot be read is left as it is (its reader will name it).
        let gone = SourceFile::from_path(&dir.path().join("missing.csv"));
        assert!(matches!(gone.in_memory_when_small(1024).map(|f| f.origin), Ok(Origin::Path(_))));
    }
}
