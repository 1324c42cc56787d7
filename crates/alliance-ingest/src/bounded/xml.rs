//! The byte source of an XML reader: counts lines as the reader consumes bytes (so an error
//! names its line without the document in memory) and bounds each event.

use std::io::{self, BufRead, BufReader, Read};

use super::Breach;
use crate::limits::bytes;

/// A buffered source for `quick_xml::Reader` that knows the line of what has been consumed
/// and refuses an event (a tag, a text, a comment) longer than `max_event_bytes`, which the
/// XML reader would otherwise copy whole into its buffer. Call [`XmlSource::start_event`]
/// before reading each event.
pub(crate) struct XmlSource<R> {
    inner: BufReader<R>,
    newlines: u64,
    event_bytes: u64,
    max_event_bytes: u64,
}

impl<R: Read> XmlSource<R> {
    pub fn new(inner: R, max_event_bytes: u64) -> XmlSource<R> {
        XmlSource { inner: BufReader::with_capacity(1 << 16, inner), newlines: 0, event_bytes: 0, max_event_bytes }
    }

    /// The line (from 1) of the next byte to be consumed.
    pub fn line(&self) -> u64 {
        self.newlines + 1
    }

    pub fn start_event(&mut self) {
        self.event_bytes = 0;
    }
}

impl<R: Read> Read for XmlSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for XmlSource<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.event_bytes > self.max_event_bytes {
            return Err(Breach::new(
                Some(self.line()),
                format!(
                    "an XML tag, text or comment longer than {} (the longest accepted)",
                    bytes(self.max_event_bytes)
                ),
            )
            .into_io());
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        let consumed = &self.inner.buffer()[..amt.min(self.inner.buffer().len())];
        self.newlines += consumed.iter().filter(|b| **b == b'\n').count() as u64;
        self.event_bytes += amt as u64;
        self.inner.consume(amt);
    }
}
