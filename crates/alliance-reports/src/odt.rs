//! The Board pack as an OpenDocument text file (`.odt`) a Board secretary can open and edit
//! in LibreOffice, Microsoft Word or Google Docs: the same sections and figures as the HTML
//! pack (`board_pack.rs`), as headings, paragraphs and tables (no charts: each chart's table
//! is there).
//!
//! An ODT file is a zip whose first entry is `mimetype`, stored uncompressed, followed by
//! `META-INF/manifest.xml`, `content.xml` and `styles.xml` (OpenDocument 1.2, part 3), and the
//! partnership's logo as `Pictures/logo.png` when it has one (shown on the cover).

use std::io::{Cursor, Write};

use alliance_app::board_pack::BoardPack;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::board_pack_text::{write_pack, Cover, PackWriter};

/// Why the file could not be written (the zip writer failed: not expected in memory).
#[derive(Debug, thiserror::Error)]
#[error("writing the OpenDocument file: {0}")]
pub struct OdtError(String);

impl From<zip::result::ZipError> for OdtError {
    fn from(e: zip::result::ZipError) -> OdtError {
        OdtError(e.to_string())
    }
}

impl From<std::io::Error> for OdtError {
    fn from(e: std::io::Error) -> OdtError {
        OdtError(e.to_string())
    }
}

pub const MIME_TYPE: &str = "application/vnd.oasis.opendocument.text";

/// Text escaped for XML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The body of a text document, built a block at a time.
#[derive(Default)]
struct Body {
    xml: String,
    tables: usize,
    /// The logo's size on the cover (cm), when the cover has one.
    logo_cm: Option<(f64, f64)>,
}

/// The logo's size on the cover (cm): 2 cm high, at most 8 cm wide, in its proportions.
fn logo_size_cm(width: u32, height: u32) -> (f64, f64) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (2.0 / h).min(8.0 / w);
    (w * scale, h * scale)
}

/// The width and height (pixels) in a PNG's header, read without decoding the image.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let ihdr = png.get(16..24)?;
    Some((
        u32::from_be_bytes([ihdr[0], ihdr[1], ihdr[2], ihdr[3]]),
        u32::from_be_bytes([ihdr[4], ihdr[5], ihdr[6], ihdr[7]]),
    ))
}

impl PackWriter for Body {
    fn cover(&mut self, cover: &Cover<'_>) {
        if let Some((w, h)) = cover.logo_png.and_then(png_size) {
            let (w, h) = logo_size_cm(w, h);
            self.logo_cm = Some((w, h));
            self.xml.push_str(&format!(
                "<text:p text:style-name=\"Text_20_body\"><draw:frame draw:name=\"Logo\" text:anchor-type=\"as-char\" \
                 svg:width=\"{w:.2}cm\" svg:height=\"{h:.2}cm\"><draw:image xlink:href=\"Pictures/logo.png\" \
                 xlink:type=\"simple\" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/><svg:title>{}</svg:title>\
                 </draw:frame></text:p>",
                esc(cover.partnership)
            ));
        }
        self.para(cover.partnership);
        self.heading(1, &cover.title);
        self.para(&cover.subtitle);
    }
    fn heading(&mut self, level: u8, text: &str) {
        self.xml.push_str(&format!(
            "<text:h text:style-name=\"Heading_20_{level}\" text:outline-level=\"{level}\">{}</text:h>",
            esc(text)
        ));
    }
    fn para(&mut self, text: &str) {
        self.xml.push_str(&format!("<text:p text:style-name=\"Text_20_body\">{}</text:p>", esc(text)));
    }
    fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        self.tables += 1;
        let n = headers.len();
        self.xml.push_str(&format!(
            "<table:table table:name=\"Table{}\" table:style-name=\"Table\"><table:table-column \
             table:number-columns-repeated=\"{n}\"/><table:table-header-rows><table:table-row>",
            self.tables
        ));
        for h in headers {
            self.xml.push_str(&format!(
                "<table:table-cell office:value-type=\"string\" table:style-name=\"Cell\"><text:p \
                 text:style-name=\"Table_20_Heading\">{}</text:p></table:table-cell>",
                esc(h)
            ));
        }
        self.xml.push_str("</table:table-row></table:table-header-rows>");
        for row in rows {
            self.xml.push_str("<table:table-row>");
            for i in 0..n {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                self.xml.push_str(&format!(
                    "<table:table-cell office:value-type=\"string\" table:style-name=\"Cell\"><text:p \
                     text:style-name=\"Table_20_Contents\">{}</text:p></table:table-cell>",
                    esc(cell)
                ));
            }
            self.xml.push_str("</table:table-row>");
        }
        self.xml.push_str("</table:table>");
    }
}

/// The manifest: the files in the package (the logo's picture when the cover has one).
fn manifest(logo: bool) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>{}
</manifest:manifest>
"#,
        if logo {
            "\n <manifest:file-entry manifest:full-path=\"Pictures/logo.png\" manifest:media-type=\"image/png\"/>"
        } else {
            ""
        }
    )
}

const NAMESPACES: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2""#;

/// Named styles: body text, headings and table text in Arial, as the HTML pack.
fn styles_xml() -> String {
    let heading = |level: u8, size: &str| {
        format!(
            "<style:style style:name=\"Heading_20_{level}\" style:display-name=\"Heading {level}\" \
             style:family=\"paragraph\" style:parent-style-name=\"Standard\" style:next-style-name=\"Text_20_body\" \
             style:default-outline-level=\"{level}\"><style:paragraph-properties fo:margin-top=\"0.4cm\" \
             fo:margin-bottom=\"0.2cm\" fo:keep-with-next=\"always\"/><style:text-properties fo:font-size=\"{size}\" \
             fo:font-weight=\"bold\"/></style:style>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-styles {NAMESPACES}><office:styles>\
         <style:style style:name=\"Standard\" style:family=\"paragraph\"><style:text-properties \
         style:font-name=\"Arial\" fo:font-family=\"Arial\" fo:font-size=\"11pt\"/></style:style>\
         <style:style style:name=\"Text_20_body\" style:display-name=\"Text body\" style:family=\"paragraph\" \
         style:parent-style-name=\"Standard\"><style:paragraph-properties fo:margin-bottom=\"0.2cm\"/></style:style>\
         {}{}{}\
         <style:style style:name=\"Table_20_Contents\" style:display-name=\"Table Contents\" style:family=\"paragraph\" \
         style:parent-style-name=\"Standard\"><style:text-properties fo:font-size=\"10pt\"/></style:style>\
         <style:style style:name=\"Table_20_Heading\" style:display-name=\"Table Heading\" style:family=\"paragraph\" \
         style:parent-style-name=\"Table_20_Contents\"><style:text-properties fo:font-weight=\"bold\"/></style:style>\
         </office:styles></office:document-styles>",
        heading(1, "20pt"),
        heading(2, "16pt"),
        heading(3, "13pt")
    )
}

fn content_xml(body: &Body) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content {NAMESPACES}><office:automatic-styles>\
         <style:style style:name=\"Table\" style:family=\"table\"><style:table-properties style:width=\"17cm\" \
         table:align=\"margins\"/></style:style><style:style style:name=\"Cell\" style:family=\"table-cell\">\
         <style:table-cell-properties fo:padding=\"0.1cm\" fo:border-bottom=\"0.5pt solid #b1b4b6\"/></style:style>\
         </office:automatic-styles><office:body><office:text>{}</office:text></office:body></office:document-content>",
        body.xml
    )
}

/// The Board pack of `pack` as an OpenDocument text file.
pub fn board_pack_odt(pack: &BoardPack) -> Result<Vec<u8>, OdtError> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("mimetype", stored)?;
    zip.write_all(MIME_TYPE.as_bytes())?;
    let mut body = Body::default();
    write_pack(pack, &mut body);
    let logo = pack.logo_png.as_deref().filter(|_| body.logo_cm.is_some());
    zip.start_file("META-INF/manifest.xml", deflated)?;
    zip.write_all(manifest(logo.is_some()).as_bytes())?;
    zip.start_file("styles.xml", deflated)?;
    zip.write_all(styles_xml().as_bytes())?;
    zip.start_file("content.xml", deflated)?;
    zip.write_all(content_xml(&body).as_bytes())?;
    if let Some(png) = logo {
        // PNG is compressed already.
        zip.start_file("Pictures/logo.png", stored)?;
        zip.write_all(png)?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(esc("A & B <c> \"d\" 'e'\u{1}"), "A &amp; B &lt;c&gt; &quot;d&quot; &apos;e&apos;");
    }

    #[test]
    fn a_table_has_its_header_and_every_cell() {
        let mut b = Body::default();
        b.table(&["A", "B"], &[vec!["1".into()], vec!["2".into(), "3".into()]]);
        assert_eq!(b.xml.matches("<table:table-row>").count(), 3);
        assert_eq!(b.xml.matches("<table:table-cell ").count(), 6, "a short row is padded");
        assert!(b.xml.contains("table:number-columns-repeated=\"2\""));
    }
}
