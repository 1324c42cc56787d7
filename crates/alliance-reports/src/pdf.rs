//! The Board pack as a PDF: the same cover, sections, figures and tables as the OpenDocument
//! file (both are written from `board_pack_text.rs`), laid out on A4 pages here.
//!
//! - **Fonts**: the standard Helvetica and Helvetica-Bold every PDF reader has (PDF 32000-1,
//!   9.6.2.2), so nothing is embedded and nothing depends on the machine's fonts. Text is in
//!   `WinAnsiEncoding` (annex D.2): ASCII, Latin-1 and the typographic characters a pack uses
//!   ("£", "–", "’", "“”", "…", "€"). A character outside it is shown as "?" (a few have a
//!   plain equivalent: "≤" as "<=", "−" as "-"), never dropped silently. Lines are wrapped
//!   with the fonts' published advance widths (Adobe's Core 14 AFM files).
//! - **Layout**: paragraphs wrap; a heading is kept with the lines after it; a table's rows
//!   run across pages, its header row repeated at the top of each page, and a row taller than
//!   a page is split between pages; every page ends "Page N of M".
//! - **Accessibility**: the document's language (en-GB) and title (shown as the window's
//!   title), and a tagged structure (PDF 32000-1, 14.7–14.8): headings H1–H3, paragraphs,
//!   tables with header cells, the logo a figure with a text alternative; footers, repeated
//!   header rows and rules are artifacts, so a screen reader reads each thing once, in order.
//! - **Logo**: the partnership's PNG (`alliance_core::logo`) decoded and embedded on the
//!   cover, its transparency kept as a soft mask. A logo that cannot be decoded is left out
//!   rather than failing the pack.

use std::io::{Cursor, Write};

use alliance_app::board_pack::BoardPack;
use pdf_writer::types::{ArtifactType, StructRole};
use pdf_writer::writers::StructTreeRoot;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::board_pack_text::{write_pack, Cover, PackWriter};

pub const MIME_TYPE: &str = "application/pdf";

/// Why the PDF could not be written (compressing in memory failed: not expected).
#[derive(Debug, thiserror::Error)]
#[error("writing the PDF: {0}")]
pub struct PdfError(String);

impl From<std::io::Error> for PdfError {
    fn from(e: std::io::Error) -> PdfError {
        PdfError(e.to_string())
    }
}

// A4 in points, and the text area.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 56.7;
const TOP: f32 = PAGE_H - 56.7;
const BOTTOM: f32 = 62.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

const BODY_SIZE: f32 = 10.0;
const BODY_LEADING: f32 = 14.0;
const TABLE_SIZE: f32 = 8.5;
const TABLE_LEADING: f32 = 11.0;
const CELL_PAD: f32 = 3.5;
const FOOTER_SIZE: f32 = 8.0;

/// The WinAnsiEncoding bytes 0x80–0x9F and the characters they show (PDF 32000-1, D.2).
const WIN_ANSI_HIGH: [(u8, char); 27] = [
    (0x80, '€'),
    (0x82, '‚'),
    (0x83, 'ƒ'),
    (0x84, '„'),
    (0x85, '…'),
    (0x86, '†'),
    (0x87, '‡'),
    (0x88, 'ˆ'),
    (0x89, '‰'),
    (0x8A, 'Š'),
    (0x8B, '‹'),
    (0x8C, 'Œ'),
    (0x8E, 'Ž'),
    (0x91, '‘'),
    (0x92, '’'),
    (0x93, '“'),
    (0x94, '”'),
    (0x95, '•'),
    (0x96, '–'),
    (0x97, '—'),
    (0x98, '˜'),
    (0x99, '™'),
    (0x9A, 'š'),
    (0x9B, '›'),
    (0x9C, 'œ'),
    (0x9E, 'ž'),
    (0x9F, 'Ÿ'),
];

/// What a character outside WinAnsi is shown as.
pub const REPLACEMENT: u8 = b'?';

/// `text` in WinAnsiEncoding: line breaks and tabs as spaces, narrow and figure spaces as
/// no-break spaces, a few characters as their plain equivalents, zero-width characters
/// left out, and anything else Helvetica cannot show as [`REPLACEMENT`].
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' | '\u{A0}'..='\u{FF}' => out.push(c as u8),
            '\t' | '\n' | '\r' => out.push(b' '),
            '\u{2007}' | '\u{2009}' | '\u{202F}' => out.push(0xA0),
            '\u{2000}'..='\u{200A}' => out.push(b' '),
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            '\u{2010}' | '\u{2011}' | '\u{2212}' => out.push(b'-'),
            '\u{2264}' => out.extend_from_slice(b"<="),
            '\u{2265}' => out.extend_from_slice(b">="),
            '\u{2192}' => out.extend_from_slice(b"->"),
            '\u{2190}' => out.extend_from_slice(b"<-"),
            c => out.push(WIN_ANSI_HIGH.iter().find(|(_, ch)| *ch == c).map_or(REPLACEMENT, |(b, _)| *b)),
        }
    }
    out
}

// Advance widths (1/1000 em) of bytes 0x20–0xFF in WinAnsiEncoding, from Adobe's Core 14
// AFM files for Helvetica and Helvetica-Bold (bytes WinAnsi leaves undefined are 0).
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0x30
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 0x50
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 0x60
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, // 0x70
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 0xF0
];
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0x30
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 0x50
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 0x60
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, // 0x70
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 0xF0
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }
    fn advance(self, byte: u8) -> u16 {
        let table = match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        };
        table[usize::from(byte.saturating_sub(0x20))]
    }
}

/// The width (points) of WinAnsi `text` in `font` at `size`.
pub fn text_width(text: &[u8], font: Font, size: f32) -> f32 {
    text.iter().map(|&b| f32::from(font.advance(b))).sum::<f32>() * size / 1000.0
}

/// WinAnsi `text` broken into lines no wider than `max` points: at spaces, and inside a word
/// only when the word alone is wider than a line. Always at least one line (maybe empty).
pub fn wrap(text: &[u8], font: Font, size: f32, max: f32) -> Vec<Vec<u8>> {
    let space = text_width(b" ", font, size);
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_w = 0.0;
    for word in text.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let word_w = text_width(word, font, size);
        if !line.is_empty() && line_w + space + word_w <= max {
            line.push(b' ');
            line.extend_from_slice(word);
            line_w += space + word_w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        }
        if word_w <= max {
            line.extend_from_slice(word);
            line_w = word_w;
        } else {
            for &b in word {
                let w = text_width(&[b], font, size);
                if !line.is_empty() && line_w + w > max {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                line.push(b);
                line_w += w;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A node of the structure tree: its role, and its children in reading order.
struct Element {
    role: StructRole,
    parent: Option<usize>,
    kids: Vec<Kid>,
    alt: Option<String>,
}

enum Kid {
    Element(usize),
    /// A marked-content sequence: the page (index) and its MCID there.
    Content(usize, i32),
}

struct Page {
    content: Content,
    /// The element each MCID of the page belongs to (the page's entry of the parent tree).
    owners: Vec<usize>,
}

/// The logo, decoded: 8-bit samples, grey or RGB, and an alpha channel if it has one.
struct Image {
    width: u32,
    height: u32,
    rgb: bool,
    samples: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

/// Decodes a PNG (any colour type, bit depth or interlacing) to 8-bit samples.
fn decode_png(png: &[u8]) -> Option<Image> {
    let mut decoder = png::Decoder::new(Cursor::new(png));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    let (channels, rgb) = match info.color_type {
        png::ColorType::Grayscale => (1, false),
        png::ColorType::GrayscaleAlpha => (2, false),
        png::ColorType::Rgb => (3, true),
        png::ColorType::Rgba => (4, true),
        png::ColorType::Indexed => return None,
    };
    let colour = if rgb { 3 } else { 1 };
    let (samples, alpha) = if channels > colour {
        let mut samples = Vec::with_capacity(buf.len());
        let mut alpha = Vec::with_capacity(buf.len() / channels);
        for px in buf.chunks_exact(channels) {
            samples.extend_from_slice(&px[..colour]);
            alpha.push(px[colour]);
        }
        (samples, Some(alpha))
    } else {
        (buf, None)
    };
    Some(Image { width: info.width, height: info.height, rgb, samples, alpha })
}

/// One line of text with its baseline at (`x`, `y`), as a text object of its own, so that
/// a reader extracting the text gets each line on a line.
fn show(c: &mut Content, line: &[u8], font: Font, size: f32, x: f32, y: f32) {
    c.begin_text();
    c.set_font(font.resource(), size);
    c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
    c.show(Str(line));
    c.end_text();
}

/// The pack laid out on pages, with its structure tree.
struct Layout {
    pages: Vec<Page>,
    /// The top of the space left on the last page.
    y: f32,
    elements: Vec<Element>,
    logo: Option<Image>,
    /// The document's title (metadata, and the footer's left).
    title: String,
    footer: String,
}

const DOCUMENT: usize = 0;

fn tag(role: StructRole) -> Name<'static> {
    Name(match role {
        StructRole::H1 => b"H1",
        StructRole::H2 => b"H2",
        StructRole::H3 => b"H3",
        StructRole::TH => b"TH",
        StructRole::TD => b"TD",
        StructRole::Figure => b"Figure",
        _ => b"P",
    })
}

impl Layout {
    fn new() -> Layout {
        let mut l = Layout {
            pages: Vec::new(),
            y: TOP,
            elements: vec![Element { role: StructRole::Document, parent: None, kids: Vec::new(), alt: None }],
            logo: None,
            title: String::new(),
            footer: String::new(),
        };
        l.new_page();
        l
    }

    fn new_page(&mut self) {
        self.pages.push(Page { content: Content::new(), owners: Vec::new() });
        self.y = TOP;
    }

    fn page(&mut self) -> &mut Page {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn element(&mut self, role: StructRole, parent: usize) -> usize {
        let id = self.elements.len();
        self.elements.push(Element { role, parent: Some(parent), kids: Vec::new(), alt: None });
        self.elements[parent].kids.push(Kid::Element(id));
        id
    }

    /// Starts a marked-content sequence of `element` on the current page.
    fn begin(&mut self, element: usize) {
        let page = self.pages.len() - 1;
        let role = self.elements[element].role;
        let p = self.page();
        let mcid = p.owners.len() as i32;
        p.owners.push(element);
        p.content.begin_marked_content_with_properties(tag(role)).properties().identify(mcid);
        self.elements[element].kids.push(Kid::Content(page, mcid));
    }

    fn end(&mut self) {
        self.page().content.end_marked_content();
    }

    fn begin_artifact(&mut self, kind: ArtifactType) {
        self.page().content.begin_marked_content_with_properties(Name(b"Artifact")).properties().artifact().kind(kind);
    }

    /// Lines of text of `element` at `x`, each `leading` high, from the top of the space left,
    /// continued on new pages as needed.
    fn lines(&mut self, element: usize, lines: &[Vec<u8>], font: Font, size: f32, leading: f32, x: f32) {
        let mut i = 0;
        while i < lines.len() {
            if self.y - leading < BOTTOM {
                self.new_page();
            }
            let fit = (((self.y - BOTTOM) / leading).floor() as usize).max(1);
            let n = fit.min(lines.len() - i);
            self.begin(element);
            let mut y = self.y;
            let c = &mut self.page().content;
            for line in &lines[i..i + n] {
                y -= leading;
                show(c, line, font, size, x, y + (leading - size) * 0.5 + size * 0.22);
            }
            self.end();
            self.y = y;
            i += n;
        }
    }

    fn block(&mut self, role: StructRole, text: &str, font: Font, size: f32, leading: f32, after: f32) {
        let element = self.element(role, DOCUMENT);
        let lines = wrap(&encode(text), font, size, TEXT_W);
        self.lines(element, &lines, font, size, leading, MARGIN_X);
        self.y -= after;
    }

    fn draw_logo(&mut self, alt: &str) {
        let Some((w, h)) = self.logo.as_ref().map(|i| (i.width as f32, i.height as f32)) else { return };
        // At most 80 points high and 240 wide, in its proportions.
        let scale = (80.0 / h).min(240.0 / w);
        let (w, h) = (w * scale, h * scale);
        let figure = self.element(StructRole::Figure, DOCUMENT);
        self.elements[figure].alt = Some(alt.to_string());
        self.begin(figure);
        let y = self.y - h;
        let c = &mut self.page().content;
        c.save_state();
        c.transform([w, 0.0, 0.0, h, MARGIN_X, y]);
        c.x_object(Name(b"Logo"));
        c.restore_state();
        self.end();
        self.y = y - 24.0;
    }

    /// Column widths for `headers` and `rows` across the text width: each column in
    /// proportion to its longest text, but never narrower than its longest word (as far as
    /// the width allows).
    fn columns(headers: &[Vec<u8>], rows: &[Vec<Vec<u8>>]) -> Vec<f32> {
        let n = headers.len();
        let inner = |t: &[u8], f: Font| text_width(t, f, TABLE_SIZE);
        let mut natural = vec![0.0f32; n];
        let mut longest_word = vec![0.0f32; n];
        for (i, h) in headers.iter().enumerate() {
            natural[i] = inner(h, Font::Bold);
            longest_word[i] = h.split(|&b| b == b' ').map(|w| inner(w, Font::Bold)).fold(0.0, f32::max);
        }
        for row in rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                natural[i] = natural[i].max(inner(cell, Font::Regular));
                let word = cell.split(|&b| b == b' ').map(|w| inner(w, Font::Regular)).fold(0.0, f32::max);
                longest_word[i] = longest_word[i].max(word);
            }
        }
        let pad = 2.0 * CELL_PAD;
        let total: f32 = natural.iter().map(|w| w + pad).sum();
        if total <= TEXT_W {
            // Everything fits on one line: share the room left in proportion.
            return natural.iter().map(|w| (w + pad) * TEXT_W / total).collect();
        }
        let floor: Vec<f32> = longest_word.iter().map(|w| (w + pad).min(TEXT_W * 0.4)).collect();
        let floor_total: f32 = floor.iter().sum();
        if floor_total >= TEXT_W {
            return floor.iter().map(|w| w * TEXT_W / floor_total).collect();
        }
        // The floors, and the rest in proportion to what each column still wants.
        let want: Vec<f32> = natural.iter().zip(&floor).map(|(n, f)| (n + pad - f).max(0.0)).collect();
        let want_total: f32 = want.iter().sum::<f32>().max(1.0);
        let spare = TEXT_W - floor_total;
        floor.iter().zip(&want).map(|(f, w)| f + spare * w / want_total).collect()
    }

    /// The header row at the top of the space left, its cells in the structure tree under
    /// `row`; `None` for a repetition after a page break (an artifact: read once, where the
    /// table starts).
    fn header_row(&mut self, row: Option<usize>, cells: &[Vec<Vec<u8>>], widths: &[f32]) -> f32 {
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
        let h = lines as f32 * TABLE_LEADING + 2.0 * CELL_PAD;
        self.begin_artifact(ArtifactType::Layout);
        let y = self.y;
        let c = &mut self.page().content;
        c.set_fill_rgb(0.953, 0.949, 0.945); // GOV.UK light grey #f3f2f1
        c.rect(MARGIN_X, y - h, TEXT_W, h);
        c.fill_nonzero();
        c.set_fill_gray(0.043); // #0b0c0c
        self.end();
        let top = self.y;
        let mut x = MARGIN_X;
        for (i, cell) in cells.iter().enumerate() {
            self.y = top - CELL_PAD;
            match row {
                Some(tr) => {
                    let th = self.element(StructRole::TH, tr);
                    self.lines(th, cell, Font::Bold, TABLE_SIZE, TABLE_LEADING, x + CELL_PAD);
                }
                None => {
                    self.begin_artifact(ArtifactType::Pagination);
                    self.plain_lines(cell, Font::Bold, x + CELL_PAD);
                    self.end();
                }
            }
            x += widths[i];
        }
        self.y = top - h;
        self.rule(1.0);
        h
    }

    /// Table lines drawn without marking them (inside an artifact).
    fn plain_lines(&mut self, lines: &[Vec<u8>], font: Font, x: f32) {
        let mut y = self.y;
        let c = &mut self.page().content;
        for line in lines {
            y -= TABLE_LEADING;
            show(c, line, font, TABLE_SIZE, x, y + (TABLE_LEADING - TABLE_SIZE) * 0.5 + TABLE_SIZE * 0.22);
        }
        self.y = y;
    }

    /// A rule across the text width at the top of the space left (an artifact).
    fn rule(&mut self, width: f32) {
        self.begin_artifact(ArtifactType::Layout);
        let y = self.y;
        let c = &mut self.page().content;
        c.set_line_width(width);
        c.set_stroke_rgb(0.694, 0.706, 0.714); // #b1b4b6
        c.move_to(MARGIN_X, y);
        c.line_to(MARGIN_X + TEXT_W, y);
        c.stroke();
        self.end();
    }
}

impl PackWriter for Layout {
    fn cover(&mut self, cover: &Cover<'_>) {
        self.title = format!("{}: {}", cover.partnership, cover.title);
        self.footer = cover.title.clone();
        self.y = TOP - 40.0;
        self.draw_logo(&format!("{} logo", cover.partnership));
        self.block(StructRole::P, cover.partnership, Font::Bold, 24.0, 30.0, 18.0);
        self.block(StructRole::H1, &cover.title, Font::Bold, 20.0, 26.0, 14.0);
        self.block(StructRole::P, &cover.subtitle, Font::Regular, 12.0, 17.0, 0.0);
        self.new_page();
    }

    fn heading(&mut self, level: u8, text: &str) {
        let (role, size) = match level {
            1 => (StructRole::H1, 18.0),
            2 => (StructRole::H2, 15.0),
            _ => (StructRole::H3, 12.0),
        };
        let leading = size * 1.25;
        let lines = wrap(&encode(text), Font::Bold, size, TEXT_W);
        // Space above (not at a page's top), and kept with three lines of what follows.
        if self.y < TOP {
            self.y -= size * 0.8;
        }
        if self.y - lines.len() as f32 * leading - 3.0 * BODY_LEADING < BOTTOM {
            self.new_page();
        }
        let element = self.element(role, DOCUMENT);
        self.lines(element, &lines, Font::Bold, size, leading, MARGIN_X);
        self.y -= 4.0;
    }

    fn para(&mut self, text: &str) {
        self.block(StructRole::P, text, Font::Regular, BODY_SIZE, BODY_LEADING, 6.0);
    }

    fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let n = headers.len();
        let head: Vec<Vec<u8>> = headers.iter().map(|h| encode(h)).collect();
        let body: Vec<Vec<Vec<u8>>> =
            rows.iter().map(|r| (0..n).map(|i| r.get(i).map(|c| encode(c)).unwrap_or_default()).collect()).collect();
        let widths = Layout::columns(&head, &body);
        let wrap_cells = |cells: &[Vec<u8>], font: Font| -> Vec<Vec<Vec<u8>>> {
            cells.iter().zip(&widths).map(|(c, w)| wrap(c, font, TABLE_SIZE, w - 2.0 * CELL_PAD)).collect()
        };
        let head_lines = wrap_cells(&head, Font::Bold);
        let head_h = head_lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * TABLE_LEADING + 2.0 * CELL_PAD;
        let table = self.element(StructRole::Table, DOCUMENT);
        // The header and the first row (or two lines of it) together.
        let first = body.first().map_or(0, |r| wrap_cells(r, Font::Regular).iter().map(Vec::len).max().unwrap_or(1));
        if self.y - head_h - (first.min(2) as f32 * TABLE_LEADING + 2.0 * CELL_PAD) < BOTTOM {
            self.new_page();
        }
        let tr = self.element(StructRole::TR, table);
        self.header_row(Some(tr), &head_lines, &widths);
        let fresh = (((TOP - BOTTOM - head_h - 2.0 * CELL_PAD) / TABLE_LEADING).floor() as usize).max(1);
        for row in &body {
            let cells = wrap_cells(row, Font::Regular);
            let total = cells.iter().map(Vec::len).max().unwrap_or(1);
            let tr = self.element(StructRole::TR, table);
            let tds: Vec<usize> = (0..n).map(|_| self.element(StructRole::TD, tr)).collect();
            let mut from = 0;
            while from < total {
                let room = ((self.y - BOTTOM - 2.0 * CELL_PAD) / TABLE_LEADING).floor().max(0.0) as usize;
                let left = total - from;
                // A row that fits on a page starts on the next one rather than being split.
                if left > room && ((from == 0 && left <= fresh) || room == 0) {
                    self.new_page();
                    self.header_row(None, &head_lines, &widths);
                    continue;
                }
                let to = from + left.min(room.max(1));
                let top = self.y;
                let mut x = MARGIN_X;
                for (i, cell) in cells.iter().enumerate() {
                    let part = &cell[from.min(cell.len())..to.min(cell.len())];
                    if !part.is_empty() {
                        self.y = top - CELL_PAD;
                        self.lines(tds[i], part, Font::Regular, TABLE_SIZE, TABLE_LEADING, x + CELL_PAD);
                    }
                    x += widths[i];
                }
                self.y = top - (to - from) as f32 * TABLE_LEADING - 2.0 * CELL_PAD;
                self.rule(0.5);
                from = to;
                if from < total {
                    self.new_page();
                    self.header_row(None, &head_lines, &widths);
                }
            }
        }
        self.y -= 10.0;
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data)?;
    Ok(z.finish()?)
}

/// Hands out object numbers.
struct Ids(i32);

impl Ids {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

/// The Board pack of `pack` as a PDF.
pub fn board_pack_pdf(pack: &BoardPack) -> Result<Vec<u8>, PdfError> {
    let mut layout = Layout::new();
    layout.logo = pack.logo_png.as_deref().and_then(decode_png);
    write_pack(pack, &mut layout);
    write(layout)
}

fn write(mut layout: Layout) -> Result<Vec<u8>, PdfError> {
    let mut ids = Ids(0);
    let catalog = ids.next();
    let tree = ids.next();
    let info = ids.next();
    let regular = ids.next();
    let bold = ids.next();
    let struct_root = ids.next();
    let mut pdf = Pdf::new();

    // The footer of every page, now that the number of pages is known.
    let count = layout.pages.len();
    let footer = encode(&layout.footer);
    for (n, page) in layout.pages.iter_mut().enumerate() {
        let number = encode(&format!("Page {} of {count}", n + 1));
        let c = &mut page.content;
        c.begin_marked_content_with_properties(Name(b"Artifact"))
            .properties()
            .artifact()
            .kind(ArtifactType::Pagination);
        c.set_fill_gray(0.31); // #505a5f, GOV.UK secondary text
        show(c, &footer, Font::Regular, FOOTER_SIZE, MARGIN_X, 32.0);
        let w = text_width(&number, Font::Regular, FOOTER_SIZE);
        show(c, &number, Font::Regular, FOOTER_SIZE, PAGE_W - MARGIN_X - w, 32.0);
        c.end_marked_content();
    }

    let logo = match &layout.logo {
        Some(image) => {
            let id = ids.next();
            let mask = match &image.alpha {
                Some(alpha) => {
                    let mask_id = ids.next();
                    let data = deflate(alpha)?;
                    let mut m = pdf.image_xobject(mask_id, &data);
                    m.filter(Filter::FlateDecode);
                    m.width(image.width as i32).height(image.height as i32).bits_per_component(8);
                    m.color_space().device_gray();
                    m.finish();
                    Some(mask_id)
                }
                None => None,
            };
            let data = deflate(&image.samples)?;
            let mut x = pdf.image_xobject(id, &data);
            x.filter(Filter::FlateDecode);
            x.width(image.width as i32).height(image.height as i32).bits_per_component(8);
            if image.rgb {
                x.color_space().device_rgb();
            } else {
                x.color_space().device_gray();
            }
            if let Some(mask_id) = mask {
                x.s_mask(mask_id);
            }
            x.finish();
            Some(id)
        }
        None => None,
    };

    let page_ids: Vec<(Ref, Ref)> = (0..count).map(|_| (ids.next(), ids.next())).collect();
    for (n, &(page_id, content_id)) in page_ids.iter().enumerate() {
        let mut p = pdf.page(page_id);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        p.parent(tree);
        p.contents(content_id);
        p.struct_parents(n as i32);
        p.tab_order(pdf_writer::types::TabOrder::StructureOrder);
        let mut resources = p.resources();
        resources.fonts().pair(Font::Regular.resource(), regular).pair(Font::Bold.resource(), bold);
        if let Some(logo) = logo {
            resources.x_objects().pair(Name(b"Logo"), logo);
        }
        resources.finish();
        p.finish();
    }
    let pages = std::mem::take(&mut layout.pages);
    let mut owners = Vec::with_capacity(count);
    for (n, page) in pages.into_iter().enumerate() {
        let data = deflate(&page.content.finish())?;
        pdf.stream(page_ids[n].1, &data).filter(Filter::FlateDecode);
        owners.push(page.owners);
    }
    pdf.pages(tree).kids(page_ids.iter().map(|(p, _)| *p)).count(count as i32);
    for (font, id) in [("Helvetica", regular), ("Helvetica-Bold", bold)] {
        pdf.type1_font(id).base_font(Name(font.as_bytes())).encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    // The structure tree: one object per element, and each page's MCIDs to their elements.
    let element_ids: Vec<Ref> = layout.elements.iter().map(|_| ids.next()).collect();
    for (i, e) in layout.elements.iter().enumerate() {
        let mut s = pdf.struct_element(element_ids[i]);
        s.kind(e.role);
        s.parent(e.parent.map_or(struct_root, |p| element_ids[p]));
        if let Some(alt) = &e.alt {
            s.alt(TextStr(alt));
        }
        let mut kids = s.children();
        for kid in &e.kids {
            match kid {
                Kid::Element(k) => {
                    kids.struct_element(element_ids[*k]);
                }
                Kid::Content(page, mcid) => {
                    kids.marked_content_ref().marked_content_id(*mcid).page(page_ids[*page].0);
                }
            }
        }
        kids.finish();
        s.finish();
    }
    let parent_arrays: Vec<Ref> = owners.iter().map(|_| ids.next()).collect();
    for (n, list) in owners.iter().enumerate() {
        pdf.indirect(parent_arrays[n]).array().items(list.iter().map(|e| element_ids[*e]));
    }
    let mut root: StructTreeRoot = pdf.indirect(struct_root).start();
    root.child(element_ids[DOCUMENT]);
    let mut tree_root = root.parent_tree();
    let mut nums = tree_root.nums();
    for (n, r) in parent_arrays.iter().enumerate() {
        nums.insert(n as i32, *r);
    }
    nums.finish();
    tree_root.finish();
    root.parent_tree_next_key(count as i32);
    root.finish();

    let mut cat = pdf.catalog(catalog);
    cat.pages(tree);
    cat.lang(TextStr("en-GB"));
    cat.viewer_preferences().display_doc_title(true);
    cat.mark_info().marked(true);
    cat.pair(Name(b"StructTreeRoot"), struct_root);
    cat.finish();
    pdf.document_info(info).title(TextStr(&layout.title)).creator(TextStr("Alliance")).producer(TextStr("Alliance"));
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_dashes_and_curly_quotes_are_win_ansi_and_the_rest_is_replaced_visibly() {
        assert_eq!(encode("£1,200 – ‘a’ “b” … €5"), b"\xa31,200 \x96 \x91a\x92 \x93b\x94 \x85 \x805");
        assert_eq!(encode("≥ 3 − 1"), b">= 3 - 1");
        // Greek, CJK and an emoji are shown as "?", one each: nothing vanishes.
        assert_eq!(encode("α 中 😀"), b"? ? ?");
        assert_eq!(encode("a\u{200B}b\tc\nd"), b"ab c d");
    }

    #[test]
    fn widths_are_helveticas() {
        // "Hello" in Helvetica: H 722 + e 556 + l 222 + l 222 + o 556 = 2278/1000 em.
        assert!((text_width(b"Hello", Font::Regular, 10.0) - 22.78).abs() < 1e-4);
        // Bold: 722 + 556 + 278 + 278 + 611.
        assert!((text_width(b"Hello", Font::Bold, 10.0) - 24.45).abs() < 1e-4);
        assert_eq!(Font::Regular.advance(0xA3), 556, "£");
        assert_eq!(Font::Regular.advance(0x96), 556, "en dash");
        assert_eq!(Font::Bold.advance(0x93), 500, "left double quote, bold");
    }

    #[test]
    fn text_wraps_at_spaces_within_the_width_and_breaks_only_overlong_words() {
        let text = b"the quick brown fox jumps over the lazy dog";
        let max = text_width(b"the quick brown", Font::Regular, 10.0) + 0.01;
        let lines = wrap(text, Font::Regular, 10.0, max);
        assert_eq!(lines[0], b"the quick brown");
        assert!(lines.iter().all(|l| text_width(l, Font::Regular, 10.0) <= max));
        assert_eq!(lines.join(&b' '), text.to_vec(), "no word lost or split");
        let long = wrap(b"aaaaaaaaaaaaaaaaaaaa b", Font::Regular, 10.0, 30.0);
        assert!(long.len() > 2 && long.iter().all(|l| text_width(l, Font::Regular, 10.0) <= 30.0));
        assert_eq!(long.concat().iter().filter(|&&b| b == b'a').count(), 20);
        assert_eq!(wrap(b"", Font::Regular, 10.0, 30.0), vec![Vec::<u8>::new()]);
    }

    /// A document of `rows` table rows, parsed back by an independent reader.
    fn document(rows: usize, logo: Option<Vec<u8>>) -> (Vec<u8>, lopdf::Document) {
        let mut l = Layout::new();
        l.logo = logo.as_deref().and_then(decode_png);
        l.cover(&Cover {
            partnership: "Wiltshire and Swindon Violence Reduction Partnership",
            title: "Executive Board pack: October to December 2025 (2025Q4)".into(),
            subtitle: "Strategy.".into(),
            logo_png: None,
        });
        l.heading(2, "Funding – “position”");
        l.para("£1,200 allocated to the Board’s fund; 中 is not in Helvetica.");
        let body: Vec<Vec<String>> =
            (0..rows).map(|i| vec![format!("Action number {i}"), "Owner".into(), "31 March 2026".into()]).collect();
        l.table(&["Action", "Owner", "Due"], &body);
        let bytes = write(l).expect("pdf");
        let doc = lopdf::Document::load_mem(&bytes).expect("an independent reader parses it");
        (bytes, doc)
    }

    fn text(doc: &lopdf::Document) -> String {
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        let t = doc.extract_text(&pages).expect("text");
        t.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_text_comes_back_out_with_its_characters() {
        let (bytes, doc) = document(3, None);
        assert!(bytes.starts_with(b"%PDF-"));
        let t = text(&doc);
        assert!(t.contains("£1,200"), "{t}");
        assert!(t.contains("Board’s"), "{t}");
        assert!(t.contains("Funding – “position”"), "{t}");
        assert!(t.contains("? is not in Helvetica"), "{t}");
        assert!(t.contains("Action number 2"), "{t}");
        assert!(t.contains("Page 2 of 2"), "{t}");
        let catalog = doc.catalog().expect("catalog");
        assert_eq!(catalog.get(b"Lang").and_then(|l| l.as_str()).expect("Lang"), b"en-GB");
        assert!(catalog.get(b"StructTreeRoot").is_ok(), "tagged");
    }

    #[test]
    fn a_long_table_runs_across_pages_with_its_header_on_each() {
        let (_, doc) = document(200, None);
        let pages = doc.get_pages();
        assert!(pages.len() >= 4, "{} pages", pages.len());
        let last = pages.len() as u32;
        for n in 2..=last {
            let t = doc.extract_text(&[n]).expect("text");
            assert!(t.contains(&format!("Page {n} of {last}")), "page {n}: {t}");
            if n > 2 {
                assert!(t.contains("Action") && t.contains("Owner") && t.contains("Due"), "header on page {n}");
            }
        }
        let all = text(&doc);
        for i in [0, 99, 199] {
            assert!(all.contains(&format!("Action number {i}")), "row {i}");
        }
    }

    #[test]
    fn a_row_taller_than_a_page_is_split_between_pages() {
        let mut l = Layout::new();
        let long = "word ".repeat(3000);
        l.table(&["A", "B"], &[vec!["short".into(), long], vec!["after".into(), "x".into()]]);
        assert!(l.pages.len() >= 3, "{} pages", l.pages.len());
        let bytes = write(l).expect("pdf");
        let doc = lopdf::Document::load_mem(&bytes).expect("parses");
        assert!(text(&doc).contains("after"));
    }

    #[test]
    fn the_logo_is_embedded_with_its_size() {
        let png = alliance_core::logo::sample_png(120, 40);
        let (_, doc) = document(1, Some(png));
        let images: Vec<_> = doc
            .objects
            .values()
            .filter_map(|o| o.as_stream().ok())
            .filter(|s| s.dict.get(b"Subtype").and_then(|t| t.as_name()).ok() == Some(b"Image".as_slice()))
            .collect();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].dict.get(b"Width").and_then(|w| w.as_i64()).expect("width"), 120);
        assert_eq!(images[0].dict.get(b"Height").and_then(|w| w.as_i64()).expect("height"), 40);
        assert!(decode_png(b"not a png").is_none(), "an undecodable logo is left out");
    }
}
