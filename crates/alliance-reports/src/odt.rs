//! The Board pack as an OpenDocument text file (`.odt`) a Board secretary can open and edit
//! in LibreOffice, Microsoft Word or Google Docs: the same sections and figures as the HTML
//! pack (`board_pack.rs`), as headings, paragraphs and tables (no charts: each chart's table
//! is there).
//!
//! An ODT file is a zip whose first entry is `mimetype`, stored uncompressed, followed by
//! `META-INF/manifest.xml`, `content.xml` and `styles.xml` (OpenDocument 1.2, part 3).

use std::io::{Cursor, Write};

use alliance_app::board_pack::BoardPack;
use alliance_core::format::{date, money};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

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
}

impl Body {
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

/// The pack's sections as a document body.
fn body(pack: &BoardPack) -> Body {
    let mut b = Body::default();
    let end = date(&pack.quarter.end_date());
    b.para(&pack.partnership);
    b.heading(1, &format!("Executive Board pack: {} ({})", pack.quarter.label(), pack.quarter));
    b.para(&format!("{}. Generated from Alliance's data on {}.", pack.strategy, pack.generated_at));

    b.heading(2, "Executive summary");
    let statuses: Vec<String> = pack
        .rag
        .iter()
        .filter(|r| r.count > 0)
        .map(|r| format!("{} {}", r.count, r.status.label().to_lowercase()))
        .collect();
    b.para(&format!(
        "At {end}: {} actions in the plan ({}); {} overdue actions and {} overdue milestones (as at {}); {} \
         escalations; {} indicators off target; {} decisions required.",
        pack.actions_total,
        if statuses.is_empty() { "none".to_string() } else { statuses.join(", ") },
        pack.overdue_actions().len(),
        pack.overdue_milestones().len(),
        pack.as_of_text(),
        pack.escalations.len(),
        pack.off_target().len(),
        pack.decisions.len(),
    ));
    let rag_rows: Vec<Vec<String>> = pack
        .rag
        .iter()
        .map(|r| vec![r.status.label().to_string(), r.status.rag().to_string(), r.count.to_string()])
        .chain(std::iter::once(vec!["Total".to_string(), String::new(), pack.actions_total.to_string()]))
        .collect();
    b.table(&["Status", "RAG", "Actions"], &rag_rows);
    b.para(pack.status_rule());

    b.heading(2, "Decisions required");
    b.para(pack.decisions_rule());
    if pack.decisions.is_empty() {
        b.para("No decisions are required this quarter.");
    } else {
        let rows: Vec<Vec<String>> =
            pack.decisions.iter().map(|d| vec![d.decision.clone(), d.because.clone()]).collect();
        b.table(&["The Board is asked to decide", "Because"], &rows);
    }

    b.heading(2, "Escalations to the Board");
    b.para(pack.escalation_rule());
    if pack.escalations.is_empty() {
        b.para("No escalations this quarter.");
    } else {
        let rows: Vec<Vec<String>> = pack.escalations.iter().map(|e| vec![e.source.clone(), e.text.clone()]).collect();
        b.table(&["From", "Item"], &rows);
    }

    b.heading(2, "Overdue actions and milestones");
    b.para(pack.overdue_rule());
    let mut overdue: Vec<Vec<String>> = pack
        .overdue_actions()
        .iter()
        .map(|a| vec![format!("Action: {}", a.title), a.owner.clone(), a.due.clone(), a.status.label().to_string()])
        .collect();
    overdue.extend(pack.overdue_milestones().iter().map(|m| {
        vec![format!("Milestone: {} ({})", m.title, m.action), m.owner.clone(), m.due.clone(), "Not done".to_string()]
    }));
    if overdue.is_empty() {
        b.para(&format!("Nothing is overdue at {}.", pack.as_of_text()));
    } else {
        b.table(&["Overdue", "Owner", "Due", "Status"], &overdue);
    }

    b.heading(2, "Indicators off target");
    let off: Vec<Vec<String>> = pack
        .off_target()
        .iter()
        .map(|i| vec![i.name.clone(), i.latest_text(), i.target_text(), i.trend.label().to_string()])
        .collect();
    if off.is_empty() {
        b.para("No indicator is off target.");
    } else {
        b.table(&["Indicator", "Latest", "Target", "Trend"], &off);
    }

    b.heading(2, "Priorities: actions and indicators");
    b.para(pack.indicator_rule());
    for (n, p) in pack.priorities.iter().enumerate() {
        b.heading(3, &format!("{}. {}", n + 1, p.name));
        if p.actions.is_empty() {
            b.para("No actions yet.");
        } else {
            let rows: Vec<Vec<String>> = p
                .actions
                .iter()
                .map(|a| {
                    vec![
                        a.title.clone(),
                        a.owner.clone(),
                        if a.overdue { format!("{} (overdue)", a.due) } else { a.due.clone() },
                        a.previous_status.map(|s| s.label().to_string()).unwrap_or_else(|| "New".into()),
                        a.status.label().to_string(),
                    ]
                })
                .collect();
            b.table(&["Action", "Owner", "Due", "Last quarter", "This quarter"], &rows);
        }
        if !p.indicators.is_empty() {
            let rows: Vec<Vec<String>> = p
                .indicators
                .iter()
                .map(|i| {
                    vec![
                        i.name.clone(),
                        i.latest_text(),
                        i.latest_period.clone().unwrap_or_default(),
                        i.target_text(),
                        i.status.label().to_string(),
                        i.trend.label().to_string(),
                    ]
                })
                .collect();
            b.table(&["Indicator", "Latest", "Period", "Target", "Status", "Trend"], &rows);
        }
    }

    referrals(&mut b, pack);

    b.heading(2, "Milestones");
    if pack.milestones.is_empty() {
        b.para("No milestones are set for the actions in this pack.");
    } else {
        let rows: Vec<Vec<String>> = pack
            .milestones
            .iter()
            .map(|m| {
                vec![
                    m.title.clone(),
                    format!("{} ({})", m.action, m.owner),
                    if m.overdue { format!("{} (overdue)", m.due) } else { m.due.clone() },
                    m.done.clone(),
                ]
            })
            .collect();
        b.table(&["Milestone", "Action", "Due", "Done"], &rows);
    }

    let f = &pack.funding;
    b.heading(2, &format!("Funding position, financial year {} ({})", f.financial_year, pack.financial_quarter()));
    b.para(pack.spend_rule());
    b.para(&format!(
        "{} available, {} allocated, {} spent to date; {} of spend on evaluation.",
        money(f.available_pence),
        money(f.allocated_pence),
        money(f.spent_to_date_pence),
        f.evaluation_share_text()
    ));
    if !f.streams.is_empty() {
        let rows: Vec<Vec<String>> = f
            .streams
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.funder.clone(),
                    money(s.available_pence),
                    money(s.allocated_pence),
                    money(s.spent_to_date_pence),
                    if s.over_allocated {
                        format!("Over-allocated by {}", money(s.over_allocated_by_pence))
                    } else {
                        "Within amount".into()
                    },
                ]
            })
            .collect();
        b.table(&["Stream", "Funder", "Available", "Allocated", "Spent to date", "Allocation"], &rows);
    }
    if !f.allocations.is_empty() {
        let rows: Vec<Vec<String>> = f
            .allocations
            .iter()
            .map(|a| {
                vec![
                    a.stream.clone(),
                    a.recipient.clone(),
                    a.purpose.clone(),
                    money(a.amount_pence),
                    money(a.spent_to_date_pence),
                    a.flag.label().to_string(),
                ]
            })
            .collect();
        b.table(&["Stream", "To", "Purpose", "Allocated", "Spent to date", "Position"], &rows);
    }

    b.heading(2, &format!("What changed since {}", pack.previous.label()));
    if pack.changes.is_empty() {
        b.para("No changes recorded in the quarter.");
    } else {
        let rows: Vec<Vec<String>> =
            pack.changes.iter().map(|c| vec![date(&c.on), c.action.clone(), c.what.clone(), c.by.clone()]).collect();
        b.table(&["Date", "Action", "Change", "By"], &rows);
    }

    b.heading(2, "Meetings this quarter");
    if pack.meetings.is_empty() {
        b.para("No meetings recorded this quarter.");
    }
    for m in &pack.meetings {
        b.heading(3, &format!("{}, {}: {}", m.body, date(&m.held_on), m.title));
        b.para(&format!("Attended: {}", m.attendees.join(", ")));
        for (what, list) in [
            ("Decision", &m.decisions),
            ("Escalated to the Board", &m.escalations),
            ("Action arising", &m.actions_arising),
        ] {
            for item in list.iter() {
                b.para(&format!("{what}: {item}"));
            }
        }
    }
    b
}

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#;

const NAMESPACES: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:xmlns:xsl-fo-compatible:1.0" office:version="1.2""#;

/// The quarter's referral figures, as published (suppressed) in the HTML pack.
fn referrals(b: &mut Body, pack: &BoardPack) {
    b.heading(2, "Referrals into commissioned services");
    let Some(r) = &pack.referrals else {
        b.para(alliance_app::board_pack::NO_REFERRALS);
        return;
    };
    b.para(&alliance_app::board_pack::referrals_rule(r));
    let line = |name: &str, l: &alliance_app::referrals::QuarterLine| {
        vec![
            name.to_string(),
            l.made.clone(),
            l.accepted.clone(),
            l.declined.clone(),
            l.engaged.clone(),
            l.closed.clone(),
        ]
    };
    let mut rows: Vec<Vec<String>> = r.services.iter().map(|s| line(&s.service_name, s)).collect();
    rows.push(line("All services", &r.all));
    b.table(&["Service", "Made", "Accepted", "Declined", "Engaged", "Closed"], &rows);
    let mut outcomes: Vec<Vec<String>> = r.all.outcomes.iter().map(|(o, n)| vec![o.clone(), n.clone()]).collect();
    outcomes.push(vec!["Total closed".to_string(), r.all.closed.clone()]);
    b.table(&["Outcome of referrals closed in the quarter", "Referrals"], &outcomes);
    b.para(&alliance_app::board_pack::referral_waits_text(r));
}

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

fn content_xml(pack: &BoardPack) -> String {
    let body = body(pack);
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
    zip.start_file("META-INF/manifest.xml", deflated)?;
    zip.write_all(MANIFEST.as_bytes())?;
    zip.start_file("styles.xml", deflated)?;
    zip.write_all(styles_xml().as_bytes())?;
    zip.start_file("content.xml", deflated)?;
    zip.write_all(content_xml(pack).as_bytes())?;
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
