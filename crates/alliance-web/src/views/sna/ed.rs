//! The report's emergency department sections (people, times, methods): tables and charts
//! of counts that `alliance_core::analytics::sna::ed` has already suppressed. A hidden
//! figure is drawn as no bar with its words ("fewer than 5", "withheld") beside it, never as
//! a zero.

use std::fmt::Write;

use alliance_app::disclosure::DEFAULT_THRESHOLD;
use alliance_core::analytics::sna::times::DAYS;
use alliance_core::analytics::suppression::Shown;
use alliance_core::format::count as thousands;
use alliance_ingest::ed::codes::{label, AGE_BANDS, ASSAULT_METHODS, SEXES};

use super::table::{escape, Table};
use super::{EdSection, SnaReport};

/// A figure as published under the default threshold.
fn shown(s: Shown) -> String {
    match s {
        Shown::Value(n) => thousands(n as i64),
        other => other.display(DEFAULT_THRESHOLD),
    }
}

fn code_label(list: &[(&'static str, &'static str)], code: &Option<String>) -> String {
    match code {
        Some(c) => label(list, c).map_or_else(|| c.clone(), str::to_string),
        None => "Not recorded".into(),
    }
}

/// A horizontal bar chart of suppressed counts; hidden figures get no bar, only words.
pub fn shown_bar_chart(id: &str, title: &str, description: &str, items: &[(String, Shown)]) -> String {
    let max = items.iter().filter_map(|i| i.1.value()).max().unwrap_or(0) as f64;
    let (row, label_w, width) = (26.0, 150.0, 720.0);
    let height = row * items.len() as f64 + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="app-chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
    for (i, (name, value)) in items.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let w = match value.value() {
            Some(v) if max > 0.0 => (width - label_w - 130.0) * v as f64 / max,
            _ => 0.0,
        };
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_w}" y="{}" width="{w:.1}" height="18" fill="#1d70b8"/><text x="{}" y="{}">{}</text>"##,
            label_w - 8.0,
            y + 14.0,
            escape(name),
            y + 1.0,
            label_w + w + 6.0,
            y + 14.0,
            escape(&shown(*value))
        );
    }
    svg.push_str("</svg>");
    svg
}

impl SnaReport {
    /// The ED tables (empty when the section is withheld or has no data).
    pub fn ed_tables(&self) -> Vec<Table> {
        let prov = self.ed_provenance();
        let f = match &self.ed {
            EdSection::Data(f) => Some(f.as_ref()),
            _ => None,
        };
        let mut tables = Vec::new();
        let hour_rows = f.map_or_else(Vec::new, |f| {
            let mut rows: Vec<Vec<String>> = f
                .times
                .by_hour
                .iter()
                .enumerate()
                .map(|(h, n)| vec![format!("{h:02}:00 to {h:02}:59"), shown(*n)])
                .collect();
            rows.push(vec!["Total".into(), shown(f.times.total)]);
            rows
        });
        tables.push(Table {
            name: "ed-hours",
            caption: "Emergency department assaults by hour of the assault".into(),
            headers: ["Hour", "Assaults"].map(String::from).to_vec(),
            numeric: vec![false, true],
            rows: hour_rows,
            provenance: prov.clone(),
        });
        let day_rows = f.map_or_else(Vec::new, |f| {
            let mut rows: Vec<Vec<String>> =
                f.times.by_day.iter().zip(DAYS).map(|(n, d)| vec![d.to_string(), shown(*n)]).collect();
            rows.push(vec!["Total".into(), shown(f.times.total)]);
            rows
        });
        tables.push(Table {
            name: "ed-days",
            caption: "Emergency department assaults by day of the week of the assault".into(),
            headers: ["Day", "Assaults"].map(String::from).to_vec(),
            numeric: vec![false, true],
            rows: day_rows,
            provenance: prov.clone(),
        });
        let (mut people_headers, mut people_rows) = (vec!["Age band".to_string()], Vec::new());
        if let Some(f) = f.filter(|f| f.people.recorded) {
            let p = &f.people;
            people_headers.extend(p.sexes.iter().map(|s| code_label(SEXES, s)));
            people_headers.push("Total".into());
            for (i, band) in p.age_bands.iter().enumerate() {
                let mut r = vec![code_label(AGE_BANDS, band)];
                r.extend(p.table.cells[i].iter().map(|c| shown(*c)));
                r.push(shown(p.table.row_totals[i]));
                people_rows.push(r);
            }
            let mut r = vec!["Total".to_string()];
            r.extend(p.table.column_totals.iter().map(|c| shown(*c)));
            r.push(shown(p.table.total));
            people_rows.push(r);
        }
        let n = people_headers.len();
        tables.push(Table {
            name: "ed-people",
            caption: "Emergency department assault patients by age band and sex".into(),
            headers: people_headers,
            numeric: (0..n).map(|i| i > 0).collect(),
            rows: people_rows,
            provenance: prov.clone(),
        });
        let mut method_rows = Vec::new();
        if let Some(f) = f {
            for g in &f.methods.groups {
                let group = g.group.map_or("Not mapped by the definition", |g| g.label()).to_string();
                for m in &g.methods {
                    method_rows.push(vec![
                        group.clone(),
                        m.code.clone(),
                        label(ASSAULT_METHODS, &m.code).unwrap_or("(code not in the data standard)").to_string(),
                        m.fit.map_or("not mapped", |x| x.key()).to_string(),
                        shown(m.count),
                    ]);
                }
                method_rows.push(vec![
                    format!("{group}: all methods"),
                    String::new(),
                    String::new(),
                    String::new(),
                    shown(g.subtotal),
                ]);
            }
            method_rows.push(vec![
                "All methods".into(),
                String::new(),
                String::new(),
                String::new(),
                shown(f.methods.total),
            ]);
        }
        tables.push(Table {
            name: "ed-methods",
            caption: "Emergency department assaults by method, grouped by the serious violence definition".into(),
            headers: ["Serious violence group", "Method code", "Method", "Fit", "Assaults"].map(String::from).to_vec(),
            numeric: vec![false, false, false, false, true],
            rows: method_rows,
            provenance: prov,
        });
        tables
    }

    /// The sentence for a reader who cannot, or need not, see ED figures; `None` when there
    /// are figures.
    fn ed_absent(&self) -> Option<&'static str> {
        match &self.ed {
            EdSection::NotPermitted => Some(
                r#"<p class="govuk-body"><strong>Emergency department data: not shown.</strong> Your organisation does not have aggregate access to the emergency department assaults dataset; an administrator can grant it under a data-sharing agreement.</p>"#,
            ),
            EdSection::NoData => Some(
                r#"<p class="govuk-body"><strong>Emergency department data: no data.</strong> No emergency department assaults are loaded for this period and area, so these figures cannot be given: a missing source is not an absence of violence.</p>"#,
            ),
            EdSection::Data(_) => None,
        }
    }

    fn ed_scope(&self) -> String {
        match &self.ed {
            EdSection::Data(f) => format!(
                r#"<p class="govuk-body">From {} emergency department assaults, {} to {}{}.{}</p>"#,
                shown(f.times.total),
                escape(&f.months.0),
                escape(&f.months.1),
                if f.by_district { ", geocoded to the chosen districts" } else { "" },
                if f.synthetic {
                    " <strong>These are SYNTHETIC (generated) records, for testing: they describe no real patients.</strong>"
                } else {
                    ""
                }
            ),
            _ => String::new(),
        }
    }

    /// The body of the "people" section.
    pub fn people_html(&self, table: &dyn Fn(&str) -> String) -> String {
        let mut h = String::from(
            r#"<p class="govuk-body">data.police.uk street-level records carry no victim or suspect age, sex or ethnicity; emergency department data records the patient's age band and sex where the department collects them.</p>"#,
        );
        if let Some(absent) = self.ed_absent() {
            h.push_str(absent);
            return h;
        }
        h.push_str(&self.ed_scope());
        match &self.ed {
            EdSection::Data(f) if f.people.recorded => h.push_str(&table("ed-people")),
            _ => h.push_str(
                r#"<p class="govuk-body"><strong>No data:</strong> the emergency department data loaded records neither age band nor sex.</p>"#,
            ),
        }
        h
    }

    /// The body of the "times" section: day-of-week and hour-of-day charts, each with its
    /// table.
    pub fn times_html(&self, table: &dyn Fn(&str) -> String) -> String {
        let mut h = String::from(
            r#"<p class="govuk-body">Police street-level data records the month only, so times come from emergency department data. They are the date and time of the <strong>assault</strong> as the patient gave it, not the arrival at the department (which is later, and not always sent).</p>"#,
        );
        if let Some(absent) = self.ed_absent() {
            h.push_str(absent);
            return h;
        }
        let EdSection::Data(f) = &self.ed else { return h };
        h.push_str(&self.ed_scope());
        let days: Vec<(String, Shown)> = DAYS.iter().zip(&f.times.by_day).map(|(d, n)| (d.to_string(), *n)).collect();
        h.push_str(r#"<h3 class="govuk-heading-m">Day of the week</h3>"#);
        h.push_str(&shown_bar_chart(
            "sna-ed-days",
            "Emergency department assaults by day of the week",
            "Bars show assaults on each day; hidden small counts have no bar.",
            &days,
        ));
        h.push_str(&table("ed-days"));
        let hours: Vec<(String, Shown)> =
            f.times.by_hour.iter().enumerate().map(|(i, n)| (format!("{i:02}:00"), *n)).collect();
        h.push_str(r#"<h3 class="govuk-heading-m">Hour of the day</h3>"#);
        h.push_str(&shown_bar_chart(
            "sna-ed-hours",
            "Emergency department assaults by hour of the day",
            "Bars show assaults in each hour, from 00:00; hidden small counts have no bar.",
            &hours,
        ));
        h.push_str(&table("ed-hours"));
        // Said in words, not as a count: with the total shown, a count of assaults with an
        // arrival time would give away a small count of those without one.
        let arrival = match f.times.total.value() {
            Some(total) if f.with_arrival.max(0) as u64 == total => {
                "Every one of these assaults also has an arrival time."
            }
            _ if f.with_arrival > 0 => {
                "Some of these assaults also have an arrival time; the department did not send it for the others."
            }
            _ => "None of these assaults has an arrival time.",
        };
        let _ = write!(h, r#"<p class="govuk-body-s">{arrival}</p>"#);
        h
    }

    /// The body of the "injuries" section: ED assault methods by serious violence group.
    pub fn methods_html(&self, table: &dyn Fn(&str) -> String) -> String {
        let mut h = String::from(
            r#"<p class="govuk-body">How emergency department patients were hurt, mapped to serious violence groups by the definition (its "ED assault method" rows): knives, glass and firearms are exact; punches, kicks and other methods are "broader" because the data does not record how serious the injury was.</p>"#,
        );
        if let Some(absent) = self.ed_absent() {
            h.push_str(absent);
            return h;
        }
        h.push_str(&self.ed_scope());
        if let EdSection::Data(f) = &self.ed {
            let groups: Vec<(String, Shown)> = f
                .methods
                .groups
                .iter()
                .map(|g| (g.group.map_or("Not mapped", |g| g.label()).to_string(), g.subtotal))
                .collect();
            h.push_str(&shown_bar_chart(
                "sna-ed-groups",
                "Emergency department assaults by serious violence group",
                "Bars show assaults in each group; hidden small counts have no bar.",
                &groups,
            ));
        }
        h.push_str(&table("ed-methods"));
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_figures_get_words_not_bars() {
        let svg = shown_bar_chart(
            "c",
            "T",
            "D",
            &[("Mon".into(), Shown::Value(10)), ("Tue".into(), Shown::Primary), ("Wed".into(), Shown::Secondary)],
        );
        assert!(svg.contains(r#"width="440.0""#), "{svg}");
        assert_eq!(svg.matches(r#"width="0.0""#).count(), 2);
        assert!(svg.contains(">fewer than 5<") && svg.contains(">withheld<"));
        assert_eq!(code_label(SEXES, &Some("2".into())), "Female");
        assert_eq!(code_label(SEXES, &None), "Not recorded");
    }
}
