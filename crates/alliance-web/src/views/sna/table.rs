//! The report's tables: one model, shown as an HTML table beside its chart and downloadable
//! as CSV.

use std::fmt::Write;

/// A named table of text cells; `numeric` marks right-aligned columns.
#[derive(Debug, Clone)]
pub struct Table {
    /// The CSV name: `/sna/tables/{name}.csv`.
    pub name: &'static str,
    pub caption: String,
    pub headers: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    pub provenance: String,
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Table {
    /// The table as GOV.UK table markup, with its caption and provenance.
    pub fn html(&self, csv_links: bool) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<div class="app-table-scroll"><table class="govuk-table" id="table-{}"><caption class="govuk-table__caption govuk-table__caption--s">{}</caption><thead class="govuk-table__head"><tr class="govuk-table__row">"#,
            self.name,
            escape(&self.caption)
        );
        for (i, h) in self.headers.iter().enumerate() {
            let class =
                if self.numeric.get(i).copied().unwrap_or(false) { " govuk-table__header--numeric" } else { "" };
            let _ = write!(out, r#"<th scope="col" class="govuk-table__header{class}">{}</th>"#, escape(h));
        }
        out.push_str(r#"</tr></thead><tbody class="govuk-table__body">"#);
        for row in &self.rows {
            out.push_str(r#"<tr class="govuk-table__row">"#);
            for (i, cell) in row.iter().enumerate() {
                if i == 0 {
                    let _ = write!(out, r#"<th scope="row" class="govuk-table__header">{}</th>"#, escape(cell));
                } else {
                    let class =
                        if self.numeric.get(i).copied().unwrap_or(false) { " govuk-table__cell--numeric" } else { "" };
                    let _ = write!(out, r#"<td class="govuk-table__cell{class}">{}</td>"#, escape(cell));
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
        let _ = write!(out, r#"<p class="govuk-body-s app-provenance">{}"#, escape(&self.provenance));
        if csv_links {
            let _ = write!(
                out,
                r#" <a class="govuk-link" href="/sna/tables/{}.csv">Download this table as CSV<span class="govuk-visually-hidden"> ({})</span></a>"#,
                self.name,
                escape(&self.caption)
            );
        }
        out.push_str("</p>");
        out
    }

    /// The table as CSV (RFC 4180: fields with commas, quotes or line breaks are quoted).
    pub fn csv(&self) -> String {
        let field = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        out.push_str(&self.headers.iter().map(|h| field(h)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
        for r in &self.rows {
            out.push_str(&r.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_html_escapes() {
        let t = Table {
            name: "t",
            caption: "A & B".into(),
            headers: vec!["name".into(), "n".into()],
            numeric: vec![false, true],
            rows: vec![vec!["Stoke, \"city\"".into(), "1,234".into()]],
            provenance: "p".into(),
        };
        assert_eq!(t.csv(), "name,n\r\n\"Stoke, \"\"city\"\"\",\"1,234\"\r\n");
        assert!(t.html(true).contains("A &amp; B"));
        assert!(t.html(true).contains("/sna/tables/t.csv"));
        assert!(!t.html(false).contains("href"));
    }
}
