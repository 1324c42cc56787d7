//! The Board pack as text: its cover, headings, paragraphs and tables in order, written once
//! here for the two documents built from blocks, the OpenDocument file (`odt.rs`) and the PDF
//! (`pdf.rs`), so that they carry the same sections and figures. (The HTML pack,
//! `board_pack.rs`, has its own template with charts; each chart's table is here.)

use alliance_app::board_pack::BoardPack;
use alliance_core::format::{date, money};

/// The cover: the partnership, the pack's title and the line under it, and the logo.
pub(crate) struct Cover<'a> {
    pub partnership: &'a str,
    pub title: String,
    pub subtitle: String,
    /// The partnership's logo (a PNG checked by `alliance_core::logo`), if it has one.
    pub logo_png: Option<&'a [u8]>,
}

/// A document the pack is written into, a block at a time.
pub(crate) trait PackWriter {
    fn cover(&mut self, cover: &Cover<'_>);
    /// A heading of level 1 to 3.
    fn heading(&mut self, level: u8, text: &str);
    fn para(&mut self, text: &str);
    /// A table with one header row; a row shorter than `headers` is padded with empty cells.
    fn table(&mut self, headers: &[&str], rows: &[Vec<String>]);
}

/// Writes the pack's cover and sections, in order, to `b`.
pub(crate) fn write_pack(pack: &BoardPack, b: &mut impl PackWriter) {
    let end = date(&pack.quarter.end_date());
    b.cover(&Cover {
        partnership: &pack.partnership,
        title: format!("Executive Board pack: {} ({})", pack.quarter.label(), pack.quarter),
        subtitle: format!("{}. Generated from Alliance's data on {}.", pack.strategy, pack.generated_at),
        logo_png: pack.logo_png.as_deref(),
    });

    b.heading(2, "Executive summary");
    if let Some(nothing) = pack.nothing_to_report() {
        b.para(nothing);
    } else {
        summary(b, pack, &end);
    }
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
    table_or(
        b,
        &["The Board is asked to decide", "Because"],
        &pack.decisions,
        |d| vec![d.decision.clone(), d.because.clone()],
        Some("No decisions are required this quarter."),
    );

    b.heading(2, "Escalations to the Board");
    b.para(pack.escalation_rule());
    table_or(
        b,
        &["From", "Item"],
        &pack.escalations,
        |e| vec![e.source.clone(), e.text.clone()],
        Some("No escalations this quarter."),
    );

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
    let nothing_overdue = format!("Nothing is overdue at {}.", pack.as_of_text());
    table_or(b, &["Overdue", "Owner", "Due", "Status"], overdue, |row| row, Some(&nothing_overdue));

    b.heading(2, "Indicators off target");
    table_or(
        b,
        &["Indicator", "Latest", "Target", "Trend"],
        pack.off_target(),
        |i| vec![i.name.clone(), i.latest_text(), i.target_text(), i.trend.label().to_string()],
        Some("No indicator is off target."),
    );

    b.heading(2, "Priorities: actions and indicators");
    b.para(pack.indicator_rule());
    for (n, p) in pack.priorities.iter().enumerate() {
        b.heading(3, &format!("{}. {}", n + 1, p.name));
        table_or(
            b,
            &["Action", "Owner", "Due", "Last quarter", "This quarter"],
            &p.actions,
            |a| {
                vec![
                    a.title.clone(),
                    a.owner.clone(),
                    if a.overdue { format!("{} (overdue)", a.due) } else { a.due.clone() },
                    a.previous_status.map(|s| s.label().to_string()).unwrap_or_else(|| "New".into()),
                    a.status.label().to_string(),
                ]
            },
            Some("No actions yet."),
        );
        table_or(
            b,
            &["Indicator", "Latest", "Period", "Target", "Status", "Trend"],
            &p.indicators,
            |i| {
                vec![
                    i.name.clone(),
                    i.latest_text(),
                    i.latest_period.clone().unwrap_or_default(),
                    i.target_text(),
                    i.status.label().to_string(),
                    i.trend.label().to_string(),
                ]
            },
            None,
        );
    }

    referrals(b, pack);

    b.heading(2, "Milestones");
    table_or(
        b,
        &["Milestone", "Action", "Due", "Done"],
        &pack.milestones,
        |m| {
            vec![
                m.title.clone(),
                format!("{} ({})", m.action, m.owner),
                if m.overdue { format!("{} (overdue)", m.due) } else { m.due.clone() },
                m.done.clone(),
            ]
        },
        Some("No milestones are set for the actions in this pack."),
    );

    let f = &pack.funding;
    b.heading(2, &format!("Funding position, financial year {} ({})", f.financial_year, pack.financial_quarter()));
    b.para(pack.spend_rule());
    b.para(&format!(
        "{} available, {} allocated, {} spent to date; {}.",
        money(f.available_pence),
        money(f.allocated_pence),
        money(f.spent_to_date_pence),
        f.evaluation_share_text()
    ));
    table_or(
        b,
        &["Stream", "Funder", "Available", "Allocated", "Spent to date", "Allocation"],
        &f.streams,
        |s| {
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
        },
        None,
    );
    table_or(
        b,
        &["Stream", "To", "Purpose", "Allocated", "Spent to date", "Position"],
        &f.allocations,
        |a| {
            vec![
                a.stream.clone(),
                a.recipient.clone(),
                a.purpose.clone(),
                money(a.amount_pence),
                money(a.spent_to_date_pence),
                a.flag.label().to_string(),
            ]
        },
        None,
    );

    b.heading(2, &format!("What changed since {}", pack.previous.label()));
    table_or(
        b,
        &["Date", "Action", "Change", "By"],
        &pack.changes,
        |c| vec![date(&c.on), c.action.clone(), c.what.clone(), c.by.clone()],
        Some("No changes recorded in the quarter."),
    );

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
}

/// A table of `items`, a row each; when there are none, the paragraph `none` instead (a
/// section says it is empty rather than showing a bare header), or nothing.
/// The executive summary's counts in one sentence.
fn summary(b: &mut impl PackWriter, pack: &BoardPack, end: &str) {
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
}

fn table_or<T>(
    b: &mut impl PackWriter,
    headers: &[&str],
    items: impl IntoIterator<Item = T>,
    row: impl FnMut(T) -> Vec<String>,
    none: Option<&str>,
) {
    let rows: Vec<Vec<String>> = items.into_iter().map(row).collect();
    if !rows.is_empty() {
        b.table(headers, &rows);
    } else if let Some(none) = none {
        b.para(none);
    }
}

/// The quarter's referral figures, as published (suppressed) in the HTML pack.
fn referrals(b: &mut impl PackWriter, pack: &BoardPack) {
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
