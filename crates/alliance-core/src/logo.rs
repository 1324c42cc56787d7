//! The partnership's logo: a PNG image, checked before it is stored so that what the header
//! and the Board pack show is a picture and nothing else.
//!
//! Only PNG is accepted. SVG would need sanitising (scripts, foreign objects, external
//! references); a PNG is inert, and the checks here are simple and complete: the file is at
//! most [`MAX_BYTES`], starts with the PNG signature, is a sequence of well-formed chunks
//! (each within the file, its CRC-32 right) beginning with `IHDR` and ending with `IEND` with
//! nothing after it, and its width and height are from 1 to [`MAX_SIDE`] pixels.

use std::fmt;

/// The largest logo accepted (bytes): 200 KB, plenty for a header logo.
pub const MAX_BYTES: usize = 200 * 1024;
/// The largest width or height accepted (pixels).
pub const MAX_SIDE: u32 = 2000;
/// The content type a checked logo is served with.
pub const CONTENT_TYPE: &str = "image/png";

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Why a file is not accepted as a logo (shown to the administrator who chose it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("The logo is empty: choose a PNG file")]
    Empty,
    #[error("The logo is {0} bytes: it must be 200 KB or smaller")]
    TooLarge(usize),
    #[error("The logo must be a PNG image (this file does not start like one)")]
    NotPng,
    #[error("The PNG file is damaged: {0}")]
    Damaged(String),
    #[error("The logo is {width} × {height} pixels: each side must be from 1 to {MAX_SIDE} pixels")]
    Dimensions { width: u32, height: u32 },
}

/// A checked PNG logo: its bytes and size in pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct Logo {
    bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl fmt::Debug for Logo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Logo({} bytes, {}×{})", self.bytes.len(), self.width, self.height)
    }
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// CRC-32 (ISO 3309, the polynomial PNG uses), bit by bit: a logo is checked once, on upload.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
    }
    !crc
}

impl Logo {
    /// Checks `bytes` as a PNG logo (see the module's documentation).
    pub fn from_png(bytes: Vec<u8>) -> Result<Logo, LogoError> {
        if bytes.is_empty() {
            return Err(LogoError::Empty);
        }
        if bytes.len() > MAX_BYTES {
            return Err(LogoError::TooLarge(bytes.len()));
        }
        if bytes.len() < SIGNATURE.len() || bytes[..8] != SIGNATURE {
            return Err(LogoError::NotPng);
        }
        let damaged = |why: String| LogoError::Damaged(why);
        let mut at = 8;
        let mut first = true;
        let mut size = None;
        loop {
            if bytes.len() - at < 12 {
                return Err(damaged(format!("it ends inside a chunk at byte {at}, before the IEND chunk")));
            }
            let length = be32(&bytes[at..]) as usize;
            let kind = &bytes[at + 4..at + 8];
            if !kind.iter().all(u8::is_ascii_alphabetic) {
                return Err(damaged(format!("the chunk at byte {at} has no valid type")));
            }
            let name = String::from_utf8_lossy(kind).to_string();
            if length > bytes.len() - at - 12 {
                return Err(damaged(format!("the {name} chunk at byte {at} runs past the end of the file")));
            }
            let data = &bytes[at + 8..at + 8 + length];
            let stored = be32(&bytes[at + 8 + length..]);
            if crc32(&[kind, data]) != stored {
                return Err(damaged(format!("the {name} chunk at byte {at} fails its checksum")));
            }
            if first {
                if kind != b"IHDR" || length != 13 {
                    return Err(damaged("the first chunk is not a 13-byte IHDR".into()));
                }
                size = Some((be32(data), be32(&data[4..])));
                first = false;
            }
            at += 12 + length;
            if kind == b"IEND" {
                break;
            }
        }
        if at != bytes.len() {
            return Err(damaged(format!("{} bytes follow the IEND chunk", bytes.len() - at)));
        }
        let (width, height) = size.ok_or_else(|| damaged("no IHDR chunk".into()))?;
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(LogoError::Dimensions { width, height });
        }
        Ok(Logo { bytes, width, height })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The logo as a `data:` URI, for self-contained documents (the Board pack).
    pub fn data_uri(&self) -> String {
        format!("data:{CONTENT_TYPE};base64,{}", base64(&self.bytes))
    }
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A small valid PNG of `width` × `height` (one grey pixel row per line, uncompressed
/// deflate), for tests and examples.
pub fn sample_png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
    }
    // Raw scanlines: a filter byte (0) and one grey byte per pixel.
    let row = width as usize + 1;
    let mut raw = Vec::with_capacity(row * height as usize);
    for _ in 0..height {
        raw.push(0);
        raw.extend(std::iter::repeat_n(0x80u8, width as usize));
    }
    // zlib stream of stored (uncompressed) deflate blocks, then the Adler-32 of the data.
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale, no interlace
    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_base64_match_their_standards() {
        // The CRC-32 check value of "123456789" (ISO 3309 / ITU-T V.42).
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        // RFC 4648 section 10.
        for (plain, encoded) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn a_well_formed_png_is_accepted_with_its_size() {
        let logo = Logo::from_png(sample_png(120, 40)).expect("valid");
        assert_eq!((logo.width, logo.height), (120, 40));
        assert!(logo.data_uri().starts_with("data:image/png;base64,iVBORw0KGgo"));
    }

    #[test]
    fn anything_else_is_refused_saying_why() {
        assert_eq!(Logo::from_png(Vec::new()), Err(LogoError::Empty));
        assert_eq!(Logo::from_png(b"<svg onload=alert(1)>".to_vec()), Err(LogoError::NotPng));
        assert_eq!(Logo::from_png(vec![0; MAX_BYTES + 1]), Err(LogoError::TooLarge(MAX_BYTES + 1)));
        let good = sample_png(10, 10);
        // Truncated, a flipped byte, something appended (a polyglot), a script after IEND.
        assert!(matches!(Logo::from_png(good[..good.len() - 5].to_vec()), Err(LogoError::Damaged(_))));
        let mut flipped = good.clone();
        flipped[40] ^= 1;
        assert!(matches!(Logo::from_png(flipped), Err(LogoError::Damaged(_))));
        let mut appended = good.clone();
        appended.extend_from_slice(b"<script>alert(1)</script>");
        assert!(matches!(Logo::from_png(appended), Err(LogoError::Damaged(m)) if m.contains("follow the IEND")));
        assert_eq!(
            Logo::from_png(sample_png(MAX_SIDE + 1, 1)),
            Err(LogoError::Dimensions { width: MAX_SIDE + 1, height: 1 })
        );
        // A length field pointing far past the end does not overflow.
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(Logo::from_png(huge), Err(LogoError::Damaged(_))));
    }
}
