//! A depth bound on a JSON stream, checked as the bytes pass (the JSON parser above would
//! otherwise recurse first and complain later).

use std::io::{self, Read};

use super::Breach;

/// Passes JSON bytes through, tracking nesting outside strings; fails with a [`Breach`] at
/// the first `[` or `{` deeper than the bound. Invalid JSON is left to the parser.
pub(crate) struct JsonDepth<R> {
    inner: R,
    max_depth: u64,
    depth: u64,
    in_string: bool,
    escaped: bool,
    line: u64,
}

impl<R: Read> JsonDepth<R> {
    pub fn new(inner: R, max_depth: u64) -> JsonDepth<R> {
        JsonDepth { inner, max_depth, depth: 0, in_string: false, escaped: false, line: 1 }
    }

    fn measure(&mut self, bytes: &[u8]) -> Result<(), Breach> {
        for &b in bytes {
            if b == b'\n' {
                self.line += 1;
            }
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth > self.max_depth {
                        return Err(Breach::new(
                            Some(self.line),
                            format!("nested deeper than {} levels (the deepest accepted)", self.max_depth),
                        ));
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for JsonDepth<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.measure(&buf[..n]).map_err(Breach::into_io)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(text: &str, max: u64) -> Option<Breach> {
        let mut out = Vec::new();
        JsonDepth::new(text.as_bytes(), max).read_to_end(&mut out).err().map(|e| Breach::of_io(&e).unwrap())
    }

    #[test]
    fn counts_brackets_outside_strings_only() {
        assert_eq!(depth_error(r#"{"a":[{"b":"[[[[\"{{{{"}]}"#, 3), None);
        assert_eq!(depth_error("[[[]]]", 3), None);
        let err = depth_error("[\n[\n[\n[]]]]", 3).unwrap();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.reason, "nested deeper than 3 levels (the deepest accepted)");
    }
}
