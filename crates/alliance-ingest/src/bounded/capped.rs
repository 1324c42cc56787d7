//! A byte cap on a stream: a `.gz` inflated, a document read whole.

use std::io::{self, Read};

use super::Breach;
use crate::limits::bytes;

/// Passes bytes through until more than `cap` have come, then fails with a [`Breach`]
/// saying `larger than <cap> <what>`. Reads at most one byte past the cap.
pub(crate) struct Capped<R> {
    inner: R,
    cap: u64,
    seen: u64,
    what: &'static str,
}

impl<R: Read> Capped<R> {
    /// `what` ends the message: `larger than 256 MiB {what}`.
    pub fn new(inner: R, cap: u64, what: &'static str) -> Capped<R> {
        Capped { inner, cap, seen: 0, what }
    }
}

/// The refusal for content over `cap`.
pub(crate) fn over_cap(cap: u64, what: &str) -> Breach {
    Breach::new(None, format!("larger than {} {what}; nothing of it was imported", bytes(cap)))
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.seen > self.cap {
            return Err(over_cap(self.cap, self.what).into_io());
        }
        let room = usize::try_from(self.cap - self.seen + 1).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..room])?;
        self.seen += n as u64;
        if self.seen > self.cap {
            return Err(over_cap(self.cap, self.what).into_io());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_up_to_the_cap_and_refuses_one_byte_more() {
        let mut out = Vec::new();
        Capped::new(&[7u8; 100][..], 100, "once decompressed").read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 100);
        let err = Capped::new(&[7u8; 101][..], 100, "once decompressed").read_to_end(&mut Vec::new()).unwrap_err();
        let breach = Breach::of_io(&err).unwrap();
        assert_eq!(breach.reason, "larger than 100 bytes once decompressed; nothing of it was imported");
    }
}
