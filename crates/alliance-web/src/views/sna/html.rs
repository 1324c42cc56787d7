//! The report as HTML: the body (shared by the page and the file), the self-contained file
//! with its inline print-friendly stylesheet, the tables, and a horizontal bar chart.

use std::fmt::Write;

use alliance_core::analytics::sna::series::Seasonality;
use alliance_core::analytics::sna::success::IndicatorValue;
use alliance_core::format::count as thousands;

use super::table::{escape, Table};
use super::SnaReport;
use alliance_reports::chart::{line_chart, Series, COLOURS};

/// The sections of the report, in order: `(id, heading)`.
pub const SECTIONS: [(&str, &str); 12] = [
    ("summary", "Summary of key findings"),
    ("context", "Context: population and deprivation"),
    ("trends", "Trends"),
    ("places", "Places"),
    ("people", "People"),
    ("times", "Times"),
    ("injuries", "Injuries: emergency department assault methods"),
    ("success-measures", "Success measures"),
    ("outcomes", "Outcomes"),
    ("definition", "The serious violence definition"),
    ("data-sources", "Data sources, coverage and caveats"),
    ("methodology", "Methodology"),
];

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn opt(v: Option<i64>) -> String {
    v.map_or("no data".into(), thousands)
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

fn count_f(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        thousands(v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A horizontal bar chart of non-negative values (a table always goes with it).
pub fn bar_chart(id: &str, title: &str, description: &str, items: &[(String, f64)]) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max);
    let row = 26.0;
    let label_w = 230.0;
    let width = 720.0;
    let height = row * items.len() as f64 + 10.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="app-chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let w = if max > 0.0 { (width - label_w - 70.0) * value / max } else { 0.0 };
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_w}" y="{}" width="{w:.1}" height="18" fill="#1d70b8"/><text x="{}" y="{}">{}</text>"##,
            label_w - 8.0,
            y + 14.0,
            escape(label),
            y + 1.0,
            label_w + w + 6.0,
            y + 14.0,
            one(*value)
        );
    }
    svg.push_str("</svg>");
    svg
}

impl SnaReport {
    /// Every table of the report.
    pub fn tables(&self) -> Vec<Table> {
        let prov = self.provenance();
        let area_prov = format!("{} {}", prov, self.area_provenance());
        let mut tables = Vec::new();
        // Monthly series.
        let mut headers = vec!["Month".to_string(), self.headline_label.clone()];
        headers.extend(self.categories.iter().map(|c| c.category.clone()));
        headers.push("Rolling 12 months".into());
        let mut rows = Vec::new();
        for (i, m) in self.headline.iter().enumerate() {
            let mut r = vec![m.month.to_string(), opt(m.count)];
            r.extend(self.categories.iter().map(|c| opt(c.series[i].count)));
            r.push(opt(self.rolling.get(i).and_then(|x| x.count)));
            rows.push(r);
        }
        let n = headers.len();
        tables.push(Table {
            name: "monthly",
            caption:
                "Serious violence (police proxy) and its police categories by month, with the rolling 12-month total"
                    .into(),
            headers,
            numeric: (0..n).map(|i| i > 0).collect(),
            rows,
            provenance: prov.clone(),
        });
        // Year on year.
        let yoy_rows = match &self.year_on_year {
            Some(y) => vec![vec![
                format!("{} against {}", y.current_period, y.previous_period),
                thousands(y.current),
                thousands(y.previous),
                thousands(y.change),
                y.percent.map_or("not defined".into(), |p| format!("{p:.1}%")),
                y.rate_ratio.map_or("not defined".into(), |r| format!("{r:.3}")),
                format!("{:.3} to {:.3}", y.interval_lower, y.interval_upper),
                if y.significant { "yes".into() } else { "no".into() },
            ]],
            None => Vec::new(),
        };
        tables.push(Table {
            name: "year-on-year",
            caption: "The latest 12 months against the 12 before".into(),
            headers: [
                "Periods",
                "Latest 12 months",
                "12 months before",
                "Change",
                "Change %",
                "Rate ratio",
                "95% CI",
                "Significant",
            ]
            .map(String::from)
            .to_vec(),
            numeric: vec![false, true, true, true, true, true, true, false],
            rows: yoy_rows,
            provenance: prov.clone(),
        });
        // Seasonality.
        let seasonal_rows = match &self.seasonality {
            Seasonality::Estimated(e) => (0..12)
                .map(|k| {
                    vec![
                        MONTH_NAMES[k].to_string(),
                        one(e.average_profile[k]),
                        format!("{:.3}", e.indices[k]),
                        e.ratios_per_month[k].to_string(),
                    ]
                })
                .collect(),
            Seasonality::TooShort { .. } => Vec::new(),
        };
        tables.push(Table {
            name: "seasonality",
            caption: "Average monthly profile and seasonal index (ratio to a centred 12-month moving average)".into(),
            headers: ["Calendar month", "Average count", "Seasonal index", "Years averaged"].map(String::from).to_vec(),
            numeric: vec![false, true, true, true],
            rows: seasonal_rows,
            provenance: prov.clone(),
        });
        // Context: deciles by LSOAs and residents.
        tables.push(Table {
            name: "context",
            caption:
                "Neighbourhoods (LSOAs 2021) and residents by deprivation decile (1 = most deprived 10% nationally)"
                    .into(),
            headers: ["IMD decile", "Residents"].map(String::from).to_vec(),
            numeric: vec![false, true],
            rows: self.deciles.iter().map(|d| vec![d.name.clone(), thousands(d.population)]).collect(),
            provenance: self.area_provenance(),
        });
        tables.push(Table {
            name: "districts",
            caption: "Serious violence (police proxy) by district: count and rate per 1,000 residents a year".into(),
            headers: ["District", "Code", "Offences", "Residents", "Rate per 1,000 a year"].map(String::from).to_vec(),
            numeric: vec![false, false, true, true, true],
            rows: self
                .districts
                .iter()
                .map(|d| {
                    vec![
                        d.name.clone(),
                        d.key.clone(),
                        count_f(d.count),
                        thousands(d.population),
                        d.rate.map_or("no data".into(), one),
                    ]
                })
                .collect(),
            provenance: area_prov.clone(),
        });
        tables.push(Table {
            name: "deprivation",
            caption: "Serious violence (police proxy) by deprivation decile of the neighbourhood".into(),
            headers: ["IMD decile", "Offences", "Residents", "Rate per 1,000 a year"].map(String::from).to_vec(),
            numeric: vec![false, true, true, true],
            rows: self
                .deciles
                .iter()
                .map(|d| {
                    vec![
                        d.name.clone(),
                        count_f(d.count),
                        thousands(d.population),
                        d.rate.map_or("no data".into(), one),
                    ]
                })
                .collect(),
            provenance: area_prov.clone(),
        });
        tables.push(Table {
            name: "concentration",
            caption: "Share of serious violence (police proxy) in the neighbourhoods with the most".into(),
            headers: ["Top share of LSOAs", "LSOAs", "Offences", "Share of offences"].map(String::from).to_vec(),
            numeric: vec![false, true, true, true],
            rows: self
                .concentration
                .iter()
                .map(|c| {
                    vec![
                        format!("{}%", c.percent_of_lsoas),
                        c.lsoas.to_string(),
                        count_f(c.count),
                        format!("{:.1}%", c.share_percent),
                    ]
                })
                .collect(),
            provenance: area_prov.clone(),
        });
        let mut ranked: Vec<&super::LsoaFigure> = self.lsoas.iter().collect();
        ranked.sort_by(|a, b| b.count.total_cmp(&a.count).then(a.code.cmp(&b.code)));
        let lsoa_row = |l: &super::LsoaFigure| {
            vec![
                l.code.clone(),
                l.name.clone(),
                l.district.clone(),
                count_f(l.count),
                l.population.map_or("no data".into(), thousands),
                l.rate.map_or("no data".into(), one),
                l.decile.map_or("no data".into(), |d| d.to_string()),
            ]
        };
        let lsoa_headers = ["LSOA", "Name", "District", "Offences", "Residents", "Rate per 1,000 a year", "IMD decile"]
            .map(String::from)
            .to_vec();
        let lsoa_numeric = vec![false, false, false, true, true, true, true];
        tables.push(Table {
            name: "top-lsoas",
            caption: "The 20 neighbourhoods (LSOAs 2021) with the most serious violence (police proxy)".into(),
            headers: lsoa_headers.clone(),
            numeric: lsoa_numeric.clone(),
            rows: ranked.iter().take(20).map(|l| lsoa_row(l)).collect(),
            provenance: area_prov.clone(),
        });
        tables.push(Table {
            name: "lsoas",
            caption: "Every neighbourhood (LSOA 2021) of the area".into(),
            headers: lsoa_headers,
            numeric: lsoa_numeric,
            rows: ranked.iter().map(|l| lsoa_row(l)).collect(),
            provenance: area_prov,
        });
        tables.push(Table {
            name: "success-measures",
            caption: "Home Office success measures".into(),
            headers: ["Measure", "Value", "Source needed or used"].map(String::from).to_vec(),
            numeric: vec![false, true, false],
            rows: self
                .success
                .iter()
                .map(|(m, v)| {
                    vec![
                        m.name.to_string(),
                        v.display(),
                        match v {
                            IndicatorValue::Value { period, provenance, .. } => format!("{period}; {provenance}"),
                            IndicatorValue::NoData { reason } => reason.clone(),
                        },
                    ]
                })
                .collect(),
            provenance: format!("Serious violence definition version {}.", self.definition.version),
        });
        tables.push(Table {
            name: "outcomes",
            caption: "Latest recorded outcome of serious violence (police proxy) offences, grouped".into(),
            headers: ["Outcome group", "Offences", "Share"].map(String::from).to_vec(),
            numeric: vec![false, true, true],
            rows: self
                .outcomes
                .iter()
                .map(|o| vec![o.group.label().to_string(), thousands(o.count), format!("{:.1}%", o.percent)])
                .collect(),
            provenance: prov.clone(),
        });
        // Sources.
        let mut by_force: std::collections::BTreeMap<(String, String), (Vec<i64>, Vec<String>)> = Default::default();
        for i in &self.imports {
            let key = (i.force.clone().unwrap_or_else(|| "area reference data".into()), i.kind.clone());
            let e = by_force.entry(key).or_default();
            e.0.push(i.id);
            if let Some(m) = &i.month {
                e.1.push(m.clone());
            } else {
                e.1.push(i.file_name.clone());
            }
        }
        tables.push(Table {
            name: "sources",
            caption: "Current imports behind this report".into(),
            headers: ["Dataset", "Kind", "Imports", "Import ids", "Coverage"].map(String::from).to_vec(),
            numeric: vec![false, false, true, false, false],
            rows: by_force
                .into_iter()
                .map(|((force, kind), (ids, what))| {
                    let coverage = if what.iter().all(|w| w.len() == 7) {
                        let mut w = what.clone();
                        w.sort();
                        format!("{} months, {} to {}", w.len(), w[0], w[w.len() - 1])
                    } else {
                        what.join("; ")
                    };
                    vec![force, kind, ids.len().to_string(), super::id_ranges(&ids), coverage]
                })
                .collect(),
            provenance: "Imports recorded by Alliance (alliance imports).".into(),
        });
        tables.push(Table {
            name: "partner-sources",
            caption: "Partner data sources".into(),
            headers: ["Source", "Status"].map(String::from).to_vec(),
            numeric: vec![false, false],
            rows: self
                .partner_sources
                .iter()
                .map(|p| {
                    vec![
                        p.name.to_string(),
                        match p.rows {
                            None => "no data source is loaded (not available in this installation)".into(),
                            Some(0) => "no data: none imported yet".into(),
                            Some(_)
                                if p.table == "ed_assaults" && matches!(self.ed, super::EdSection::NotPermitted) =>
                            {
                                "loaded, but not available to your organisation".into()
                            }
                            Some(n) if p.table == "ed_assaults" => {
                                format!("{} records loaded (see people, times and injuries)", thousands(n))
                            }
                            Some(n) => format!("{} records loaded (not yet analysed in this report)", thousands(n)),
                        },
                    ]
                })
                .collect(),
            provenance: "Alliance database.".into(),
        });
        tables.push(Table {
            name: "definition",
            caption: format!(
                "Serious violence definition version {}: {}",
                self.definition.version, self.definition.name
            ),
            headers: ["Source", "Category", "Group", "Fit", "In headline", "What it can and cannot show"]
                .map(String::from)
                .to_vec(),
            numeric: vec![false; 6],
            rows: self
                .definition
                .mappings
                .iter()
                .map(|m| {
                    vec![
                        m.source.label().to_string(),
                        m.category.clone(),
                        m.group.label().to_string(),
                        m.fit.key().to_string(),
                        if m.in_headline { "yes".into() } else { "no".into() },
                        m.note.clone(),
                    ]
                })
                .chain(self.definition.gaps.iter().map(|g| {
                    vec![
                        g.source.label().to_string(),
                        "(none)".into(),
                        g.group.label().to_string(),
                        "cannot show".into(),
                        "no".into(),
                        g.note.clone(),
                    ]
                }))
                .collect(),
            provenance: format!("Created {}.", self.definition.created),
        });
        tables.extend(self.ed_tables());
        tables
    }

    /// The report body (headings, findings, figures and tables); `web` adds CSV links.
    pub fn body_html(&self, web: bool) -> String {
        let tables = self.tables();
        let table = |name: &str| tables.iter().find(|t| t.name == name).map(|t| t.html(web)).unwrap_or_default();
        let mut h = String::new();
        let period = self.period.map_or("no period".into(), |p| p.to_string());
        let _ = write!(
            h,
            r#"<h1 class="govuk-heading-xl">Serious violence: Strategic Needs Assessment</h1><p class="govuk-body-l">{} · {} · {} of {} months with police data</p><p class="govuk-body-s">Draft generated by Alliance on {} from the data loaded; serious violence definition version {}. Check the caveats before publishing.</p>"#,
            escape(&self.area_label),
            escape(&period),
            self.months_covered.len(),
            self.period.map_or(0, |p| p.len()),
            escape(&self.generated_at),
            self.definition.version
        );
        h.push_str(r#"<nav class="app-contents" aria-label="Contents"><h2 class="govuk-heading-s">Contents</h2><ol class="govuk-list govuk-list--number">"#);
        for (id, title) in SECTIONS {
            let _ = write!(h, r##"<li><a class="govuk-link" href="#{id}">{title}</a></li>"##);
        }
        h.push_str("</ol></nav>");
        let section = |h: &mut String, id: &str| {
            let title = SECTIONS.iter().find(|s| s.0 == id).map_or("", |s| s.1);
            let _ = write!(h, r#"<section class="app-section" id="{id}"><h2 class="govuk-heading-l">{title}</h2>"#);
        };
        // Summary.
        section(&mut h, "summary");
        h.push_str(r#"<ul class="govuk-list govuk-list--bullet app-findings">"#);
        for f in &self.findings {
            let _ = write!(h, "<li>{}</li>", escape(f));
        }
        let _ = write!(
            h,
            r#"</ul><div class="govuk-inset-text">Police figures here are a <strong>proxy</strong>: data.police.uk's category "Violence and sexual offences" includes common assault without injury, so the headline overstates serious violence, and knife crime, gun crime and homicide cannot be counted from it. {}</div></section>"#,
            escape(&self.provenance())
        );
        // Context.
        section(&mut h, "context");
        let _ = write!(
            h,
            r#"<p class="govuk-body">The area has {} residents in {} neighbourhoods (LSOAs, 2021 boundaries){}. {}</p>"#,
            thousands(self.population),
            thousands(self.lsoa_count as i64),
            if self.lsoas_without_population > 0 {
                format!(
                    "; {} neighbourhoods have no population figure and are left out of rates",
                    self.lsoas_without_population
                )
            } else {
                String::new()
            },
            escape(&self.area_provenance())
        );
        h.push_str(&table("context"));
        h.push_str("</section>");
        // Trends.
        section(&mut h, "trends");
        let labels: Vec<String> = self.headline.iter().map(|m| m.month.to_string()).collect();
        let mut series = vec![Series {
            name: self.headline_label.clone(),
            colour: COLOURS[0],
            values: self.headline.iter().map(|m| m.count).collect(),
        }];
        for (i, c) in self.categories.iter().enumerate() {
            series.push(Series {
                name: c.category.clone(),
                colour: COLOURS[(i + 1) % 4],
                values: c.series.iter().map(|m| m.count).collect(),
            });
        }
        h.push_str(r#"<h3 class="govuk-heading-m">Monthly counts</h3><ul class="app-key">"#);
        for s in &series {
            let _ = write!(
                h,
                r#"<li><span class="app-key__swatch" style="background:{}"></span>{}</li>"#,
                s.colour,
                escape(&s.name)
            );
        }
        h.push_str("</ul>");
        if !labels.is_empty() {
            h.push_str(&line_chart(
                "sna-monthly",
                "Serious violence (police proxy) by month",
                "Monthly counts; gaps are months without data, not zero. The table below gives every value.",
                &labels,
                &series,
            ));
        }
        h.push_str(&table("monthly"));
        h.push_str(r#"<h3 class="govuk-heading-m">Rolling 12 months and year on year</h3>"#);
        let rolled: Vec<Option<i64>> = self.rolling.iter().map(|m| m.count).collect();
        if rolled.iter().any(Option::is_some) {
            h.push_str(&line_chart(
                "sna-rolling",
                "Rolling 12-month total of serious violence (police proxy)",
                "Each point is the total of the 12 months to that month; shown only where all 12 months have data.",
                &labels,
                &[Series { name: "Rolling 12 months".into(), colour: COLOURS[0], values: rolled }],
            ));
        } else {
            h.push_str(r#"<p class="govuk-body">No month has 12 consecutive months of data before it, so there is no rolling 12-month total.</p>"#);
        }
        match &self.year_on_year {
            Some(_) => h.push_str(&table("year-on-year")),
            None => h.push_str(r#"<p class="govuk-body">Year on year: there are not 24 consecutive months of data ending with the latest month, so no year-on-year change is given.</p>"#),
        }
        h.push_str(r#"<h3 class="govuk-heading-m">Seasonality</h3>"#);
        match &self.seasonality {
            Seasonality::TooShort { consecutive_months } => {
                let _ = write!(
                    h,
                    r#"<p class="govuk-body">Seasonality cannot be estimated: the longest run of consecutive months with data is {consecutive_months}, and at least 24 are needed to tell a seasonal pattern from a trend.</p>"#
                );
            }
            Seasonality::Estimated(e) => {
                let labels: Vec<String> = e.adjusted.iter().map(|(m, _)| m.to_string()).collect();
                let raw: Vec<Option<i64>> =
                    self.headline.iter().filter(|m| e.period.contains(m.month)).map(|m| m.count).collect();
                let adj: Vec<Option<i64>> = e.adjusted.iter().map(|(_, v)| Some(v.round() as i64)).collect();
                let _ = write!(
                    h,
                    r#"<p class="govuk-body">Estimated from {} ({} months).</p>"#,
                    e.period,
                    e.adjusted.len()
                );
                h.push_str(&line_chart(
                    "sna-seasonal",
                    "Recorded and seasonally adjusted serious violence (police proxy)",
                    "Blue: recorded; red: seasonally adjusted (count divided by the calendar month's seasonal index).",
                    &labels,
                    &[
                        Series { name: "Recorded".into(), colour: COLOURS[0], values: raw },
                        Series { name: "Seasonally adjusted".into(), colour: COLOURS[1], values: adj },
                    ],
                ));
                h.push_str(&table("seasonality"));
            }
        }
        h.push_str("</section>");
        // Places.
        section(&mut h, "places");
        let _ = write!(
            h,
            r#"<p class="govuk-body">Across the area: {} per 1,000 residents a year. {} offences had no location or a neighbourhood outside the area's reference data and are not in the place figures.</p>"#,
            self.overall_rate.map_or("no data".into(), one),
            thousands(self.unplaced)
        );
        let bars: Vec<(String, f64)> =
            self.districts.iter().filter_map(|d| d.rate.map(|r| (d.name.clone(), r))).collect();
        if !bars.is_empty() {
            h.push_str(&bar_chart(
                "sna-districts",
                "Rate per 1,000 residents a year by district",
                "Bars show each district's rate; the table gives counts and residents.",
                &bars,
            ));
        }
        h.push_str(&table("districts"));
        h.push_str(r#"<h3 class="govuk-heading-m">Deprivation</h3>"#);
        match &self.deprivation {
            Some(d) => {
                let _ = write!(
                    h,
                    r#"<p class="govuk-body">The rate in the most deprived 10% of neighbourhoods is {:.1} times that in the least deprived 10% (95% confidence interval {:.2} to {:.2}).</p>"#,
                    d.ratio, d.interval_lower, d.interval_upper
                );
            }
            None => h.push_str(r#"<p class="govuk-body">The most and least deprived deciles are not both present with offences, so no ratio is given.</p>"#),
        }
        let bars: Vec<(String, f64)> =
            self.deciles.iter().filter_map(|d| d.rate.map(|r| (format!("Decile {}", d.name), r))).collect();
        if !bars.is_empty() {
            h.push_str(&bar_chart(
                "sna-deciles",
                "Rate per 1,000 residents a year by deprivation decile",
                "Decile 1 is the most deprived.",
                &bars,
            ));
        }
        h.push_str(&table("deprivation"));
        h.push_str(r#"<h3 class="govuk-heading-m">Concentration</h3>"#);
        h.push_str(&table("concentration"));
        h.push_str(r#"<h3 class="govuk-heading-m">Map of rates by neighbourhood</h3><figure class="app-figure">"#);
        h.push_str(&self.map_svg);
        h.push_str("</figure>");
        h.push_str(&table("top-lsoas"));
        if !web {
            h.push_str(r#"<p class="govuk-body-s">Every neighbourhood's figures are in the table "lsoas", which the web page offers as CSV (/sna/tables/lsoas.csv).</p>"#);
        }
        h.push_str("</section>");
        // People, times and injuries: emergency department data.
        section(&mut h, "people");
        h.push_str(&self.people_html(&table));
        h.push_str("</section>");
        section(&mut h, "times");
        h.push_str(&self.times_html(&table));
        h.push_str("</section>");
        section(&mut h, "injuries");
        h.push_str(&self.methods_html(&table));
        h.push_str("</section>");
        // Success measures.
        section(&mut h, "success-measures");
        h.push_str(r#"<p class="govuk-body">The Home Office success measures for serious violence. A measure whose data is not loaded says "no data": a missing source is not an absence of violence.</p>"#);
        h.push_str(&table("success-measures"));
        h.push_str("</section>");
        // Outcomes.
        section(&mut h, "outcomes");
        if !self.outcomes_recorded {
            h.push_str(r#"<p class="govuk-body">No outcomes are recorded for these offences.</p>"#);
        }
        h.push_str(&table("outcomes"));
        h.push_str(r#"<p class="govuk-body-s">Outcomes are the latest known for each offence (from outcomes files where loaded, else the street file's last outcome). Recent offences are more often still under investigation.</p></section>"#);
        // Definition.
        section(&mut h, "definition");
        let _ = write!(h, r#"<p class="govuk-body">{}</p>"#, escape(&self.definition.notes));
        h.push_str(&table("definition"));
        h.push_str("</section>");
        // Sources.
        section(&mut h, "data-sources");
        h.push_str(&table("sources"));
        h.push_str(&table("partner-sources"));
        h.push_str(r#"<ul class="govuk-list govuk-list--bullet"><li>data.police.uk locations are anonymised to snap points; a few records of a force fall outside its area.</li><li>LSOA codes change from 2011 to 2021 boundaries in January 2023; see the methodology.</li><li>Population is the mid-2015 estimate of the Indices of Deprivation 2019 (no later LSOA estimates are loaded); rates for growing areas are overstated.</li><li>Contains public sector information licensed under the Open Government Licence v3.0.</li></ul></section>"#);
        // Methodology.
        section(&mut h, "methodology");
        h.push_str(METHODOLOGY);
        h.push_str("</section>");
        h
    }

    /// The report as one self-contained HTML file: inline stylesheet, no external requests.
    pub fn standalone_html(&self) -> String {
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Serious violence: Strategic Needs Assessment – {}</title><style>{}</style></head><body><main class=\"app-report\">{}</main></body></html>",
            escape(&self.area_label),
            STANDALONE_CSS,
            self.body_html(false)
        )
    }

    /// The table called `name`, if any.
    pub fn table(&self, name: &str) -> Option<Table> {
        self.tables().into_iter().find(|t| t.name == name)
    }
}

/// Compact print-friendly stylesheet for the file (the GOV.UK classes used by the body).
const STANDALONE_CSS: &str = r#"
body{margin:0;font-family:arial,sans-serif;color:#0b0c0c;background:#fff;line-height:1.4}
.app-report{max-width:960px;margin:0 auto;padding:20px}
.govuk-heading-xl{font-size:36px;margin:0 0 20px}.govuk-heading-l{font-size:28px;margin:40px 0 15px;border-top:2px solid #1d70b8;padding-top:10px}
.govuk-heading-m{font-size:22px;margin:25px 0 10px}.govuk-heading-s{font-size:18px;margin:0 0 8px}
.govuk-body{font-size:16px;margin:0 0 15px}.govuk-body-l{font-size:20px;margin:0 0 15px}.govuk-body-s{font-size:14px;margin:0 0 15px;color:#505a5f}
.govuk-list{font-size:16px;margin:0 0 15px;padding-left:20px}.govuk-list--bullet{list-style:disc}.govuk-list--number{list-style:decimal}
.govuk-inset-text{border-left:8px solid #b1b4b6;padding:10px 15px;margin:20px 0}
.govuk-link{color:#1d70b8}.govuk-visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.govuk-table{border-collapse:collapse;width:100%;font-size:14px;margin:0 0 10px}
.govuk-table__caption{font-weight:700;text-align:left;margin-bottom:8px}
.govuk-table__header,.govuk-table__cell{border-bottom:1px solid #b1b4b6;padding:6px 10px 6px 0;text-align:left;vertical-align:top}
.govuk-table__header--numeric,.govuk-table__cell--numeric{text-align:right;font-variant-numeric:tabular-nums}
.app-table-scroll{overflow-x:auto}
.app-chart,.app-map{width:100%;height:auto;max-width:960px}
.app-chart text,.app-map text{font-family:arial,sans-serif;font-size:14px;fill:#0b0c0c}
.app-chart .app-chart__axis{stroke:#505a5f;stroke-width:1}.app-chart .app-chart__grid{stroke:#b1b4b6;stroke-width:1;stroke-dasharray:2 3}
.app-chart .app-chart__line{fill:none;stroke-width:3}
.app-key{list-style:none;padding:0;margin:0 0 10px}.app-key li{display:inline-block;margin-right:20px;font-size:14px}
.app-key__swatch{display:inline-block;width:24px;height:4px;vertical-align:middle;margin-right:6px}
.app-figure{margin:0 0 20px}
@media print{body{font-size:11pt}.app-report{max-width:none;padding:0}.app-contents{display:none}
.app-section{break-before:page}.app-section#summary{break-before:auto}
.govuk-table,.app-chart,.app-map,figure{break-inside:avoid}.govuk-link{color:#0b0c0c;text-decoration:none}}
"#;

const METHODOLOGY: &str = r#"<ul class="govuk-list govuk-list--bullet">
<li><strong>Serious violence (police proxy).</strong> The police categories counted towards the headline are those the definition marks "in headline" (see the definition section). Each record of a street-level file counts once.</li>
<li><strong>Months.</strong> A month counts as covered when a street-level file for it is loaded; a covered month with no matching records is 0, an uncovered month is shown as "no data", never 0.</li>
<li><strong>Rolling 12 months</strong> is the total of the 12 months to each month, given only when all 12 are covered. <strong>Year on year</strong> compares the 12 months to the latest month with the 12 before (both fully covered) as a Poisson rate ratio with the exact conditional (Clopper–Pearson) 95% confidence interval; a change is called significant when the interval excludes 1.</li>
<li><strong>Seasonality</strong> uses the ratio-to-moving-average method (classical multiplicative decomposition): the trend is the centred 2×12 moving average, each month's ratio to it is averaged by calendar month and the twelve averages are scaled to average 1; the seasonally adjusted series divides each month by its index. It needs at least 24 consecutive covered months and is otherwise not estimated.</li>
<li><strong>Rates</strong> are per 1,000 residents a year: offences × 12 ÷ covered months ÷ residents × 1,000, with the mid-2015 LSOA population of the Indices of Deprivation 2019.</li>
<li><strong>LSOA 2011 → 2021.</strong> Police files use 2011 LSOA codes to December 2022 and 2021 codes from January 2023. Neighbourhood figures are put on 2021 LSOAs: unchanged codes stay; a changed 2011 code is split over its 2021 successors by the share of its area in each (from the boundaries), so such counts can be fractional. 2021 LSOAs that are new take the summed population of their 2011 parents and the deprivation decile of the parent contributing most residents. District figures are unaffected.</li>
<li><strong>Deprivation</strong> deciles are those of the English IMD 2019 (Welsh IMD 2019 for Welsh LSOAs), 1 = most deprived 10% nationally. The most/least deprived ratio is decile 1's rate over decile 10's, with an exact conditional 95% interval.</li>
<li><strong>Concentration</strong>: the top k = ⌈p × N⌉ of the area's N LSOAs by count (p = 1%, 5%, 10%), ties at the cut-off broken by LSOA code so the share is exactly that of k areas; LSOAs with no offences count in N.</li>
<li><strong>Outcomes</strong> group the data.police.uk categories: charged or summonsed (suspect charged, awaiting court outcome, every court result); caution or out-of-court disposal (caution, penalty notice, drugs possession warning, local resolution); no further action or no suspect (investigation complete – no suspect identified, unable to prosecute suspect, not in the public interest); under investigation; other (action by another organisation, status update unavailable); no outcome recorded.</li>
<li><strong>Map</strong>: LSOA 2021 boundaries projected to the British National Grid, shaded in five classes at the quintiles of the LSOA rates (nearest rank).</li>
</ul>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest() {
        let svg = bar_chart("b", "T", "D", &[("A".into(), 10.0), ("B".into(), 5.0)]);
        assert!(svg.contains(r#"width="420.0""#), "{svg}");
        assert!(svg.contains(r#"width="210.0""#));
    }
}
