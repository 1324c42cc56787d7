//! Bounds on a CSV stream, checked before the CSV reader buffers anything.
//!
//! The `csv` crate reads a whole record into memory before handing it over, so a single
//! 268 MB field would be held whole. [`CsvGuard`] runs `csv-core`, the tokenizer `csv` is
//! built on, configured alike, over the same bytes as they pass, and fails as soon as a
//! field, a record, the fields of a record or the records of the file pass their bound.

use std::io::{self, Read};

use super::Breach;
use crate::limits::bytes;
use crate::Limits;

/// The bounds of one CSV stream.
#[derive(Debug, Clone)]
struct Bounds {
    field_bytes: u64,
    record_bytes: u64,
    fields: u64,
    /// Records after the header.
    data_rows: u64,
}

/// Passes the bytes of a CSV file through, measuring fields and records as the CSV reader
/// above will see them (same comment character, RFC 4180 quoting).
pub(crate) struct CsvGuard<R> {
    inner: R,
    tokenizer: csv_core::Reader,
    bounds: Bounds,
    /// Where the tokenizer writes what it reads (discarded) and the ends of the fields.
    scratch: Box<[u8]>,
    ends: Box<[usize]>,
    /// Bytes of the record so far, and where its open field started among them.
    record_len: u64,
    field_start: u64,
    fields_in_record: u64,
    records: u64,
    failed: Option<Breach>,
}

impl<R: Read> CsvGuard<R> {
    fn new(inner: R, limits: &Limits, comment: Option<u8>, data_rows: u64) -> CsvGuard<R> {
        CsvGuard {
            inner,
            tokenizer: csv_core::ReaderBuilder::new().comment(comment).build(),
            bounds: Bounds {
                field_bytes: limits.max_field_bytes,
                record_bytes: limits.max_record_bytes,
                fields: limits.max_columns,
                data_rows,
            },
            scratch: vec![0; 1 << 13].into_boxed_slice(),
            ends: vec![0; 64].into_boxed_slice(),
            record_len: 0,
            field_start: 0,
            fields_in_record: 0,
            records: 0,
            failed: None,
        }
    }

    /// The stream below.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Measures `input`, a chunk of the stream (empty at its end); the first bound passed is
    /// the error. The tokenizer reads a record at a time (`read_record`, three times faster
    /// than a field at a time: this guard ran over every byte of a national import, 7 GB),
    /// writing field ends as if the record were one contiguous buffer, so a field's length is
    /// the distance between two ends however the output and the stream were cut.
    fn measure(&mut self, mut input: &[u8]) -> Result<(), Breach> {
        let at_end = input.is_empty();
        loop {
            // The tokenizer takes empty input as the end of the stream: give it only then.
            if input.is_empty() && !at_end {
                return Ok(());
            }
            let (result, nin, nout, nend) = self.tokenizer.read_record(input, &mut self.scratch, &mut self.ends);
            // The line reached; a record's end has consumed its line's end, so step back.
            let ended_line = matches!(result, csv_core::ReadRecordResult::Record) && nin > 0 && input[nin - 1] == b'\n';
            let line = Some(self.tokenizer.line() - u64::from(ended_line));
            input = &input[nin..];
            self.record_len += nout as u64;
            for &end in &self.ends[..nend] {
                let end = end as u64;
                self.check_field(end - self.field_start, line)?;
                self.check_record(end, line)?;
                self.field_start = end;
                self.fields_in_record += 1;
                if self.fields_in_record > self.bounds.fields {
                    return Err(Breach::new(
                        line,
                        format!("more than {} fields (the most accepted)", self.bounds.fields),
                    ));
                }
            }
            // The field still open, as far as it has come.
            self.check_field(self.record_len - self.field_start, line)?;
            self.check_record(self.record_len, line)?;
            match result {
                csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => return Ok(()),
                csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {}
                csv_core::ReadRecordResult::Record => {
                    self.records += 1;
                    self.fields_in_record = 0;
                    self.record_len = 0;
                    self.field_start = 0;
                    // The first record is the header.
                    if self.records > self.bounds.data_rows.saturating_add(1) {
                        return Err(Breach::new(
                            line,
                            format!(
                                "more than {} rows (the most accepted in one file); nothing of it was imported",
                                self.bounds.data_rows
                            ),
                        ));
                    }
                }
            }
        }
    }

    /// A field of `len` bytes so far (the field after the record's `fields_in_record`).
    fn check_field(&self, len: u64, line: Option<u64>) -> Result<(), Breach> {
        if len > self.bounds.field_bytes {
            return Err(Breach::new(
                line,
                format!("a field longer than {} (the longest accepted)", bytes(self.bounds.field_bytes)),
            )
            .in_column(format!("field {}", self.fields_in_record + 1)));
        }
        Ok(())
    }

    /// A record of `len` bytes of fields so far.
    fn check_record(&self, len: u64, line: Option<u64>) -> Result<(), Breach> {
        if len > self.bounds.record_bytes {
            return Err(Breach::new(
                line,
                format!("a record longer than {} (the longest accepted)", bytes(self.bounds.record_bytes)),
            ));
        }
        Ok(())
    }
}

impl<R: Read> Read for CsvGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(breach) = &self.failed {
            return Err(breach.clone().into_io());
        }
        let n = self.inner.read(buf)?;
        if let Err(breach) = self.measure(&buf[..n]) {
            self.failed = Some(breach.clone());
            return Err(breach.into_io());
        }
        Ok(n)
    }
}

/// A CSV reader over `inner` whose fields, records and rows are bounded by `limits`, with
/// at most `data_rows` rows after the header. `builder` sets everything but the comment
/// character, which is given here so the guard and the reader agree on it.
pub(crate) fn open_csv<R: Read>(
    inner: R,
    limits: &Limits,
    mut builder: ::csv::ReaderBuilder,
    comment: Option<u8>,
    data_rows: u64,
) -> ::csv::Reader<CsvGuard<R>> {
    builder.comment(comment).from_reader(CsvGuard::new(inner, limits, comment, data_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Limits {
        Limits { max_field_bytes: 10, max_record_bytes: 25, max_columns: 4, ..Limits::default() }
    }

    fn read_all(text: &[u8], comment: Option<u8>, rows: u64) -> Result<usize, Breach> {
        let mut reader = open_csv(text, &small(), ::csv::ReaderBuilder::new(), comment, rows);
        let mut n = 0;
        for record in reader.byte_records() {
            match record {
                Ok(_) => n += 1,
                Err(e) => match e.into_kind() {
                    ::csv::ErrorKind::Io(io) => return Err(Breach::of_io(&io).expect("a breach")),
                    other => panic!("{other:?}"),
                },
            }
        }
        Ok(n)
    }

    #[test]
    fn within_bounds_reads_as_usual() {
        assert_eq!(read_all(b"a,b\n1,2\n\"x,\"\"y\",3\n", None, 10), Ok(2));
    }

    #[test]
    fn a_long_field_is_refused_with_its_line_and_position() {
        let err = read_all(b"a,b\n1,2\n3,\"0123456789ab\"\n", None, 10).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(err.column.as_deref(), Some("field 2"));
        assert!(err.reason.starts_with("a field longer than 10 bytes"), "{}", err.reason);
    }

    #[test]
    fn quoted_newlines_do_not_hide_a_long_field() {
        // The field spans lines 2 to 8; the refusal names the line the reader had reached.
        let err = read_all(b"a\n\"1\n2\n3\n4\n5\n6\n\"\n", None, 10).unwrap_err();
        assert_eq!((err.line, err.column.as_deref()), (Some(8), Some("field 1")));
    }

    #[test]
    fn records_fields_and_rows_are_bounded() {
        let err = read_all(b"a\n0123456789,0123456789,0123456789\n", None, 10).unwrap_err();
        assert!(err.reason.starts_with("a record longer than 25 bytes"), "{}", err.reason);
        let err = read_all(b"a\n1,2,3,4,5\n", None, 10).unwrap_err();
        assert_eq!(err.reason, "more than 4 fields (the most accepted)");
        let err = read_all(b"h\n1\n2\n3\n", None, 2).unwrap_err();
        assert_eq!(err.line, Some(4));
        assert!(err.reason.starts_with("more than 2 rows"), "{}", err.reason);
        assert_eq!(read_all(b"h\n1\n\n\n2\n", None, 2), Ok(2), "blank lines are not rows");
    }

    #[test]
    fn comments_are_skipped_alike() {
        // A long comment is no field; a quote in a comment does not open a quoted field.
        let text = b"# \"a comment far longer than ten bytes\n h\n1\n";
        assert_eq!(read_all(text, Some(b'#'), 10), Ok(1), "one row under the header");
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    /// Hands out at most `n` bytes a read.
    struct Chunks<'a>(&'a [u8], usize);
    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Records counted and the first breach, reading `text` `chunk` bytes at a time.
    fn run(text: &str, chunk: usize, limits: &Limits) -> (u64, Option<Breach>) {
        let mut guard = CsvGuard::new(Chunks(text.as_bytes(), chunk), limits, None, 1000);
        let breach = io::copy(&mut guard, &mut io::sink()).err().map(|e| Breach::of_io(&e).unwrap());
        (guard.records, breach)
    }

    #[test]
    fn counts_records_alike_however_the_stream_is_cut() {
        // A chunk ending just after a field must not end the record (the tokenizer takes
        // empty input as the end of the stream).
        let text = "h,i\n".to_string() + &"ab,cd\n".repeat(100);
        let no_newline = "h,i\nab,cd";
        let wide = format!("h\n{}\n", "a,".repeat(5));
        let limits = Limits { max_columns: 5, ..Limits::default() };
        for chunk in [1, 2, 3, 5, 7, 64] {
            assert_eq!(run(&text, chunk, &limits), (101, None), "chunks of {chunk}");
            assert_eq!(run(no_newline, chunk, &limits), (2, None), "chunks of {chunk}");
            let (_, breach) = run(&wide, chunk, &limits);
            assert_eq!(
                breach.map(|b| (b.line, b.reason)),
                Some((Some(2), "more than 5 fields (the most accepted)".into()))
            );
        }
    }

    #[test]
    fn a_long_field_is_found_however_the_stream_is_cut() {
        // Short fields around it, and one longer than the tokenizer's 8 KiB output buffer.
        let limits = Limits { max_field_bytes: 10, ..Limits::default() };
        let text = "h,i,j\nab,cd,ef\nab,0123456789ab,ef\n";
        let huge = format!("h,i\nab,{}\n", "x".repeat(20_000));
        let huge_limits = Limits { max_field_bytes: 10_000, ..Limits::default() };
        for chunk in [1, 2, 3, 5, 7, 64, 1 << 16] {
            let (_, breach) = run(text, chunk, &limits);
            let breach = breach.expect("a breach");
            assert_eq!((breach.line, breach.column.as_deref()), (Some(3), Some("field 2")), "chunks of {chunk}");
            let (records, breach) = run(&huge, chunk, &huge_limits);
            let breach = breach.expect("a breach");
            assert_eq!((records, breach.column.as_deref()), (1, Some("field 2")), "chunks of {chunk}");
            assert!(breach.reason.starts_with("a field longer than"), "{}", breach.reason);
        }
    }
}
