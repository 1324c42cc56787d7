//! The Strategic Needs Assessment as HTML and CSV, from the model of `alliance_app::sna`:
//! the report body (askama template `sna/body.html`, shared by the `/sna` page and the file),
//! the self-contained file `alliance sna` writes (`sna/file.html`: inline print-friendly
//! stylesheet, no external requests) and every table, shown beside its chart and
//! downloadable as CSV (`/sna/tables/{name}.csv`).

use alliance_app::sna::{
    age_band_label, id_ranges, method_label, sex_label, EdFigures, EdPermission, EdSection, LsoaFigure, SnaReport,
};
use alliance_core::analytics::sna::series::Seasonality;
use alliance_core::analytics::sna::success::IndicatorValue;
use alliance_core::analytics::sna::times::DAYS;
use alliance_core::analytics::suppression::Shown;
use alliance_core::format::{count as thousands, fixed, percent};
use askama::Template;

use crate::chart::{bar_chart, choropleth, line_chart, Bar, BarLayout, MapArea, MapText, Series, COLOURS};

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

impl Table {
    /// The table as CSV (the one CSV writer: RFC 4180, CRLF), the figures of its numeric
    /// columns as plain numbers (`1112305`, not the page's `"1,112,305"`, which spreadsheets
    /// and analysis tools read as text).
    pub fn csv(&self) -> String {
        let headers: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        let rows = self.rows.iter().map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, cell)| if self.is_numeric(&i) { crate::csv::plain_number(cell) } else { cell.into() })
                .collect::<Vec<std::borrow::Cow<'_, str>>>()
        });
        crate::csv::to_string(&headers, rows)
    }

    /// Whether column `i` is right-aligned.
    pub fn is_numeric(&self, i: &usize) -> bool {
        self.numeric.get(*i).copied().unwrap_or(false)
    }

    /// The table as GOV.UK table markup with its caption and provenance; `csv_links` adds
    /// the link to its CSV download.
    pub fn html(&self, csv_links: bool) -> String {
        render(&TableHtml { table: self, csv_links })
    }
}

/// One table's markup.
#[derive(Template)]
#[template(path = "sna/table.html")]
struct TableHtml<'a> {
    table: &'a Table,
    csv_links: bool,
}

/// Renders a template of this module. Rendering into a `String` fails only on a `fmt::Error`
/// raised by a value's `Display`, which none of these values raise.
fn render(t: &impl Template) -> String {
    t.render().unwrap_or_default()
}

fn opt(v: Option<i64>) -> String {
    v.map_or("no data".into(), thousands)
}

fn one(v: f64) -> String {
    fixed(v, 1)
}

fn count_f(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        thousands(v.round() as i64)
    } else {
        fixed(v, 1)
    }
}

/// A figure as published under the report's disclosure policy.
fn shown(r: &SnaReport, s: Shown) -> String {
    r.disclosure.display_grouped(s)
}

/// Every table of the report.
pub fn tables(r: &SnaReport) -> Vec<Table> {
    let prov = r.provenance();
    let area_prov = format!("{} {}", prov, r.area_provenance());
    let mut tables = Vec::new();
    // Monthly series.
    let mut headers = vec!["Month".to_string(), r.headline_label.clone()];
    headers.extend(r.categories.iter().map(|c| c.category.clone()));
    headers.push("Rolling 12 months".into());
    let mut rows = Vec::new();
    for (i, m) in r.headline.iter().enumerate() {
        let mut row = vec![m.month.to_string(), opt(m.count)];
        row.extend(r.categories.iter().map(|c| opt(c.series[i].count)));
        row.push(opt(r.rolling.get(i).and_then(|x| x.count)));
        rows.push(row);
    }
    let n = headers.len();
    tables.push(Table {
        name: "monthly",
        caption: "Serious violence (police proxy) and its police categories by month, with the rolling 12-month total"
            .into(),
        headers,
        numeric: (0..n).map(|i| i > 0).collect(),
        rows,
        provenance: prov.clone(),
    });
    // Year on year.
    let yoy_rows = match &r.year_on_year {
        Some(y) => vec![vec![
            format!("{} against {}", y.current_period, y.previous_period),
            thousands(y.current),
            thousands(y.previous),
            thousands(y.change),
            y.percent.map_or("not defined".into(), percent),
            y.rate_ratio.map_or("not defined".into(), |x| fixed(x, 3)),
            format!("{} to {}", fixed(y.interval_lower, 3), fixed(y.interval_upper, 3)),
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
    let seasonal_rows = match &r.seasonality {
        Seasonality::Estimated(e) => (0..12)
            .map(|k| {
                vec![
                    alliance_core::format::MONTH_NAMES[k].to_string(),
                    one(e.average_profile[k]),
                    fixed(e.indices[k], 3),
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
        caption: format!(
            "Neighbourhoods (LSOAs {}) and residents by deprivation decile (1 = most deprived 10% nationally)",
            r.lsoa_vintage()
        ),
        headers: ["IMD decile", "Residents"].map(String::from).to_vec(),
        numeric: vec![false, true],
        rows: r.deciles.iter().map(|d| vec![d.name.clone(), thousands(d.population)]).collect(),
        provenance: r.area_provenance(),
    });
    tables.push(Table {
        name: "districts",
        caption: "Serious violence (police proxy) by district: count and rate per 1,000 residents a year".into(),
        headers: ["District", "Code", "Offences", "Residents", "Rate per 1,000 a year"].map(String::from).to_vec(),
        numeric: vec![false, false, true, true, true],
        rows: r
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
        rows: r
            .deciles
            .iter()
            .map(|d| {
                vec![d.name.clone(), count_f(d.count), thousands(d.population), d.rate.map_or("no data".into(), one)]
            })
            .collect(),
        provenance: area_prov.clone(),
    });
    tables.push(Table {
        name: "concentration",
        caption: "Share of serious violence (police proxy) in the neighbourhoods with the most (only neighbourhoods with at least one offence are counted: where fewer recorded any than the top share, the row has those alone)".into(),
        headers: ["Top share of LSOAs", "LSOAs", "Offences", "Share of offences"].map(String::from).to_vec(),
        numeric: vec![false, true, true, true],
        rows: r
            .concentration
            .iter()
            .map(|c| {
                vec![
                    format!("{}%", c.percent_of_lsoas),
                    c.lsoas.to_string(),
                    count_f(c.count),
                    percent(c.share_percent),
                ]
            })
            .collect(),
        provenance: area_prov.clone(),
    });
    let mut ranked: Vec<&LsoaFigure> = r.lsoas.iter().collect();
    ranked.sort_by(|a, b| b.count.total_cmp(&a.count).then(a.code.cmp(&b.code)));
    let lsoa_row = |l: &LsoaFigure| {
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
    // A ranking of "the most" names only neighbourhoods with at least one offence.
    let top: Vec<&LsoaFigure> = ranked.iter().copied().filter(|l| l.count > 0.0).take(20).collect();
    tables.push(Table {
        name: "top-lsoas",
        caption: match top.len() {
            20 => format!(
                "The 20 neighbourhoods (LSOAs {}) with the most serious violence (police proxy)",
                r.lsoa_vintage()
            ),
            1 => format!(
                "The one neighbourhood (LSOA {}) with any serious violence (police proxy); no other recorded any",
                r.lsoa_vintage()
            ),
            n => format!(
                "The {n} neighbourhoods (LSOAs {}) with any serious violence (police proxy), the most first; no other recorded any",
                r.lsoa_vintage()
            ),
        },
        headers: lsoa_headers.clone(),
        numeric: lsoa_numeric.clone(),
        rows: top.into_iter().map(lsoa_row).collect(),
        provenance: area_prov.clone(),
    });
    tables.push(Table {
        name: "lsoas",
        caption: format!("Every neighbourhood of the area (LSOAs {})", r.lsoa_vintage()),
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
        rows: r
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
        provenance: format!("Serious violence definition version {}.", r.definition.version),
    });
    tables.push(Table {
        name: "outcomes",
        caption: "Latest recorded outcome of serious violence (police proxy) offences, grouped".into(),
        headers: ["Outcome group", "Offences", "Share"].map(String::from).to_vec(),
        numeric: vec![false, true, true],
        rows: r
            .outcomes
            .iter()
            .map(|o| vec![o.group.label().to_string(), thousands(o.count), o.percent.map_or("—".into(), percent)])
            .collect(),
        provenance: prov.clone(),
    });
    // Sources.
    let mut by_force: std::collections::BTreeMap<(String, String), (Vec<i64>, Vec<String>)> = Default::default();
    for i in &r.imports {
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
                vec![force, kind, ids.len().to_string(), id_ranges(&ids), coverage]
            })
            .collect(),
        provenance: "Imports recorded by Alliance (alliance imports).".into(),
    });
    tables.push(Table {
        name: "partner-sources",
        caption: "Partner data sources".into(),
        headers: ["Source", "Status"].map(String::from).to_vec(),
        numeric: vec![false, false],
        rows: r
            .partner_sources
            .iter()
            .map(|p| {
                vec![
                    p.name.to_string(),
                    match p.rows {
                        None => "no data source is loaded (not available in this installation)".into(),
                        Some(0) => "no data: none imported yet".into(),
                        Some(_) if p.table == "ed_assaults" && matches!(r.ed, EdSection::NotPermitted) => {
                            "loaded, but not available to your organisation".into()
                        }
                        // A restricted dataset's row count is a figure of its own: exact at
                        // record level only (issue 14: metadata follows the data).
                        Some(_) if r.ed_permission != EdPermission::Record => {
                            if p.table == "ed_assaults" {
                                "loaded (see people, times and injuries)".into()
                            } else {
                                "loaded (not yet analysed in this report)".into()
                            }
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
        caption: format!("Serious violence definition version {}: {}", r.definition.version, r.definition.name),
        headers: ["Source", "Category", "Group", "Fit", "In headline", "What it can and cannot show"]
            .map(String::from)
            .to_vec(),
        numeric: vec![false; 6],
        rows: r
            .definition
            .mappings
            .iter()
            .map(|m| {
                vec![
                    m.source.label().to_string(),
                    m.category.clone(),
                    m.group.label().to_string(),
                    m.fit.code().to_string(),
                    if m.in_headline { "yes".into() } else { "no".into() },
                    m.note.clone(),
                ]
            })
            .chain(r.definition.gaps.iter().map(|g| {
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
        provenance: format!("Created {}.", r.definition.created),
    });
    tables.extend(ed_tables(r));
    tables
}

/// The table called `name`, if any.
pub fn table(r: &SnaReport, name: &str) -> Option<Table> {
    tables(r).into_iter().find(|t| t.name == name)
}

/// The ED tables (empty when the section is withheld or has no data).
fn ed_tables(r: &SnaReport) -> Vec<Table> {
    let prov = r.ed_provenance();
    let f = match &r.ed {
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
            .map(|(h, n)| vec![format!("{h:02}:00 to {h:02}:59"), shown(r, *n)])
            .collect();
        rows.push(vec!["Total".into(), shown(r, f.times.total)]);
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
            f.times.by_day.iter().zip(DAYS).map(|(n, d)| vec![d.to_string(), shown(r, *n)]).collect();
        rows.push(vec!["Total".into(), shown(r, f.times.total)]);
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
        people_headers.extend(p.sexes.iter().map(sex_label));
        people_headers.push("Total".into());
        for (i, band) in p.age_bands.iter().enumerate() {
            let mut row = vec![age_band_label(band)];
            row.extend(p.table.cells[i].iter().map(|c| shown(r, *c)));
            row.push(shown(r, p.table.row_totals[i]));
            people_rows.push(row);
        }
        let mut row = vec!["Total".to_string()];
        row.extend(p.table.column_totals.iter().map(|c| shown(r, *c)));
        row.push(shown(r, p.table.total));
        people_rows.push(row);
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
                    method_label(&m.code).unwrap_or("(code not in the data standard)").to_string(),
                    m.fit.map_or("not mapped", |x| x.code()).to_string(),
                    shown(r, m.count),
                ]);
            }
            method_rows.push(vec![
                format!("{group}: all methods"),
                String::new(),
                String::new(),
                String::new(),
                shown(r, g.subtotal),
            ]);
        }
        method_rows.push(vec![
            "All methods".into(),
            String::new(),
            String::new(),
            String::new(),
            shown(r, f.methods.total),
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

/// The report body: headings, findings, figures and tables, shared by the page and the file.
#[derive(Template)]
#[template(path = "sna/body.html")]
struct SnaBody<'a> {
    r: &'a SnaReport,
    tables: Vec<Table>,
    /// On the web page: each table links to its CSV download.
    web: bool,
}

/// The self-contained file around the body.
#[derive(Template)]
#[template(path = "sna/file.html")]
struct SnaFile<'a> {
    area_label: &'a str,
    body: String,
}

/// The report body (headings, findings, figures and tables); `web` adds the CSV links of
/// the `/sna` page.
pub fn body_html(report: &SnaReport, web: bool) -> String {
    render(&SnaBody { r: report, tables: tables(report), web })
}

/// The report as one self-contained HTML file: inline stylesheet, no external requests.
pub fn standalone_html(report: &SnaReport) -> String {
    render(&SnaFile { area_label: &report.area_label, body: body_html(report, false) })
}

impl SnaBody<'_> {
    fn table(&self, name: &str) -> String {
        self.tables.iter().find(|t| t.name == name).map(|t| t.html(self.web)).unwrap_or_default()
    }

    fn heading(&self, id: &str) -> &'static str {
        SECTIONS.iter().find(|s| s.0 == id).map_or("", |s| s.1)
    }

    fn sections(&self) -> &'static [(&'static str, &'static str)] {
        &SECTIONS
    }

    fn period(&self) -> String {
        self.r.period.map_or("no period".into(), |p| p.to_string())
    }

    /// "12 months", "1 month": the period's length for the heading.
    fn period_months(&self) -> String {
        match self.r.period.map_or(0, |p| p.len()) {
            1 => "1 month".into(),
            n => format!("{n} months"),
        }
    }

    /// The records of the area's forces placed in no district, which no count includes.
    fn unplaced_beyond(&self) -> String {
        thousands(self.r.unplaced.total() - self.r.unplaced.in_headline)
    }

    fn count(&self, n: &i64) -> String {
        thousands(*n)
    }

    /// Whether any neighbourhood of the area recorded an offence (else none is ranked).
    fn any_lsoa_with_offences(&self) -> bool {
        self.r.lsoas.iter().any(|l| l.count > 0.0)
    }

    /// Whether the period's outcome profile has any offence to give shares of.
    fn any_outcome(&self) -> bool {
        self.r.outcomes.iter().any(|o| o.count > 0)
    }

    fn lsoa_count(&self) -> String {
        thousands(self.r.lsoa_count as i64)
    }

    fn overall_rate(&self) -> String {
        self.r.overall_rate.map_or("no data".into(), one)
    }

    fn series(&self) -> Vec<Series> {
        let mut series = vec![Series {
            name: self.r.headline_label.clone(),
            colour: COLOURS[0],
            values: self.r.headline.iter().map(|m| m.count).collect(),
        }];
        for (i, c) in self.r.categories.iter().enumerate() {
            series.push(Series {
                name: c.category.clone(),
                colour: COLOURS[(i + 1) % 4],
                values: c.series.iter().map(|m| m.count).collect(),
            });
        }
        series
    }

    fn labels(&self) -> Vec<String> {
        self.r.headline.iter().map(|m| m.month.to_string()).collect()
    }

    fn monthly_chart(&self) -> Option<String> {
        let labels = self.labels();
        (!labels.is_empty()).then(|| {
            line_chart(
                "sna-monthly",
                "Serious violence (police proxy) by month",
                "Monthly counts; gaps are months without data, not zero. The table below gives every value.",
                &labels,
                &self.series(),
            )
        })
    }

    fn rolling_chart(&self) -> Option<String> {
        let rolled: Vec<Option<i64>> = self.r.rolling.iter().map(|m| m.count).collect();
        rolled.iter().any(Option::is_some).then(|| {
            line_chart(
                "sna-rolling",
                "Rolling 12-month total of serious violence (police proxy)",
                "Each point is the total of the 12 months to that month; shown only where all 12 months have data.",
                &self.labels(),
                &[Series { name: "Rolling 12 months".into(), colour: COLOURS[0], values: rolled }],
            )
        })
    }

    /// The seasonal chart and the estimate's period and length, when estimated.
    fn seasonal(&self) -> Option<(String, usize, String)> {
        let Seasonality::Estimated(e) = &self.r.seasonality else { return None };
        let labels: Vec<String> = e.adjusted.iter().map(|(m, _)| m.to_string()).collect();
        let raw: Vec<Option<i64>> =
            self.r.headline.iter().filter(|m| e.period.contains(m.month)).map(|m| m.count).collect();
        let adj: Vec<Option<i64>> = e.adjusted.iter().map(|(_, v)| Some(v.round() as i64)).collect();
        let chart = line_chart(
            "sna-seasonal",
            "Recorded and seasonally adjusted serious violence (police proxy)",
            "Blue: recorded; red: seasonally adjusted (count divided by the calendar month's seasonal index).",
            &labels,
            &[
                Series { name: "Recorded".into(), colour: COLOURS[0], values: raw },
                Series { name: "Seasonally adjusted".into(), colour: COLOURS[1], values: adj },
            ],
        );
        Some((e.period.to_string(), e.adjusted.len(), chart))
    }

    fn too_short(&self) -> Option<usize> {
        match &self.r.seasonality {
            Seasonality::TooShort { consecutive_months } => Some(*consecutive_months),
            Seasonality::Estimated(_) => None,
        }
    }

    fn rate_bars(id: &str, title: &str, description: &str, items: Vec<(String, f64)>) -> Option<String> {
        let bars: Vec<Bar> = items.into_iter().map(|(label, v)| Bar::new(label, Some(v), one(v))).collect();
        (!bars.is_empty()).then(|| bar_chart(id, title, description, &bars, BarLayout::default()))
    }

    fn district_chart(&self) -> Option<String> {
        Self::rate_bars(
            "sna-districts",
            "Rate per 1,000 residents a year by district",
            "Bars show each district's rate; the table gives counts and residents.",
            self.r.districts.iter().filter_map(|d| d.rate.map(|r| (d.name.clone(), r))).collect(),
        )
    }

    fn decile_chart(&self) -> Option<String> {
        Self::rate_bars(
            "sna-deciles",
            "Rate per 1,000 residents a year by deprivation decile",
            "Decile 1 is the most deprived.",
            self.r.deciles.iter().filter_map(|d| d.rate.map(|r| (format!("Decile {}", d.name), r))).collect(),
        )
    }

    fn deprivation(&self) -> Option<(String, String, String)> {
        self.r.deprivation.as_ref().map(|d| (fixed(d.ratio, 1), fixed(d.interval_lower, 2), fixed(d.interval_upper, 2)))
    }

    fn map(&self) -> Option<String> {
        let by_code: std::collections::HashMap<&str, &LsoaFigure> =
            self.r.lsoas.iter().map(|l| (l.code.as_str(), l)).collect();
        let areas: Vec<MapArea> = self
            .r
            .outlines
            .iter()
            .filter_map(|o| {
                let f = by_code.get(o.code.as_str())?;
                Some(MapArea {
                    code: &f.code,
                    name: &f.name,
                    geometry: &o.geometry,
                    value: f.rate,
                    text: f.rate.map_or("no population".into(), |r| format!("{} per 1,000", one(r))),
                })
            })
            .collect();
        choropleth(
            "sna-map",
            &MapText {
                title: "Serious violence (police proxy) per 1,000 residents a year, by LSOA",
                description:
                    "{n} LSOAs shaded in five classes of rate, lightest lowest; the LSOA table has every figure.",
                legend: "Rate per 1,000 residents a year",
                no_value: "no population figure",
            },
            &areas,
        )
    }

    fn ed(&self) -> Option<&EdFigures> {
        match &self.r.ed {
            EdSection::Data(f) => Some(f),
            _ => None,
        }
    }

    fn not_permitted(&self) -> bool {
        matches!(self.r.ed, EdSection::NotPermitted)
    }

    fn no_whole_quarter(&self) -> bool {
        matches!(self.r.ed, EdSection::NoWholeQuarter)
    }

    fn shown(&self, s: &Shown) -> String {
        shown(self.r, *s)
    }

    fn shown_chart(&self, id: &str, title: &str, description: &str, items: Vec<(String, Shown)>) -> String {
        let bars: Vec<Bar> =
            items.into_iter().map(|(label, s)| Bar::new(label, s.value().map(|v| v as f64), self.shown(&s))).collect();
        bar_chart(id, title, description, &bars, BarLayout { label_width: 150.0, width: 720.0, text_room: 130.0 })
    }

    fn days_chart(&self, f: &EdFigures) -> String {
        self.shown_chart(
            "sna-ed-days",
            "Emergency department assaults by day of the week",
            "Bars show assaults on each day; hidden small counts have no bar.",
            DAYS.iter().zip(&f.times.by_day).map(|(d, n)| (d.to_string(), *n)).collect(),
        )
    }

    fn hours_chart(&self, f: &EdFigures) -> String {
        self.shown_chart(
            "sna-ed-hours",
            "Emergency department assaults by hour of the day",
            "Bars show assaults in each hour, from 00:00; hidden small counts have no bar.",
            f.times.by_hour.iter().enumerate().map(|(i, n)| (format!("{i:02}:00"), *n)).collect(),
        )
    }

    fn groups_chart(&self, f: &EdFigures) -> String {
        self.shown_chart(
            "sna-ed-groups",
            "Emergency department assaults by serious violence group",
            "Bars show assaults in each group; hidden small counts have no bar.",
            f.methods
                .groups
                .iter()
                .map(|g| (g.group.map_or("Not mapped", |g| g.label()).to_string(), g.subtotal))
                .collect(),
        )
    }

    /// Said in words, not as a count: with the total shown, a count of assaults with an
    /// arrival time would give away a small count of those without one.
    fn arrival(&self, f: &EdFigures) -> &'static str {
        match f.times.total.value() {
            Some(total) if f.with_arrival.max(0) as u64 == total => {
                "Every one of these assaults also has an arrival time."
            }
            _ if f.with_arrival > 0 => {
                "Some of these assaults also have an arrival time; the department did not send it for the others."
            }
            _ => "None of these assaults has an arrival time.",
        }
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
        // The page's "1,234" is a plain number in the CSV; a text column keeps its commas.
        assert_eq!(t.csv(), "name,n\r\n\"Stoke, \"\"city\"\"\",1234\r\n");
        assert!(t.html(true).contains("A &#38; B"), "{}", t.html(true));
        assert!(t.html(true).contains("/sna/tables/t.csv"));
        assert!(!t.html(false).contains("href"));
        assert!(t.html(false).contains(r#"<td class="govuk-table__cell govuk-table__cell--numeric">1,234</td>"#));
    }
}
