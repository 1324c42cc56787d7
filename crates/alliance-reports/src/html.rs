//! HTML escaping for markup built outside a template: askama's escaper, so text is escaped
//! the same way in templates and in the SVG toolkit.

use std::fmt::Write;

/// `text` with `& < > " '` replaced by entities, safe in element content and in quoted
/// attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = write!(out, "{}", askama::filters::escape(text, askama::filters::Html).unwrap_or_else(|e| match e {}));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&#60;a href=&#34;x&#34;&#62;Tom &#38; &#39;Jerry&#39;&#60;/a&#62;"
        );
        assert_eq!(escape("plain"), "plain");
    }
}
