//! Synthetic ED assault files, for tests, benchmarks and the demo: real ED data is never
//! public. Every file says it is SYNTHETIC (a `#` comment in CSV, a comment and
//! `synthetic="true"` in XML).
//!
//! The shape follows what Cardiff Model reports describe for assault attendances: most in
//! the evening and night, peaking after midnight on Friday and Saturday nights; most assaults
//! by fists and feet, a minority with a weapon; streets and licensed premises the commonest
//! places. The weights below are illustrative, not measured.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use rand::distributions::WeightedIndex;
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;

use super::{codes, EdAssault, EdFormat, EdSubmission, Field, CSV_COLUMNS};

/// Street names found in most English towns, used when no gazetteer is at hand (a database
/// without police data): generic, so a file generated for any partnership names no other
/// partnership's streets. Thirty of them, as many as the list they replaced, so a seed draws
/// the same records as before but for the street names.
pub const BUILT_IN_STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Street",
    "Market Square",
    "London Road",
    "Broad Street",
    "Market Street",
    "Station Street",
    "Hope Street",
    "Albion Street",
    "Trinity Street",
    "Glebe Street",
    "Queen Street",
    "King Street",
    "Victoria Road",
    "Mill Lane",
    "Park Road",
    "Bridge Street",
    "North Street",
    "South Street",
    "New Road",
    "Castle Street",
    "George Street",
    "Green Lane",
    "Chapel Street",
    "Church Road",
    "Manor Road",
    "York Road",
    "Water Street",
    "West Street",
];

/// Pub and venue names used for licensed premises.
const VENUES: &[&str] = &[
    "The Red Lion",
    "The Crown",
    "The Swan",
    "The Golden Cross",
    "The Royal Oak",
    "The Bull",
    "The Plough",
    "The Sun",
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorSpec {
    pub site_code: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub assaults: usize,
    pub seed: u64,
    /// Street names to draw locations from (the police gazetteer when a database is given).
    pub streets: Vec<String>,
}

const HOUR_WEIGHTS: [f64; 24] =
    [9., 9., 8., 6., 3., 2., 1., 1., 1., 1.5, 2., 2., 2.5, 2.5, 3., 3.5, 4., 4., 4.5, 5., 6., 7., 8., 9.];
const METHOD_WEIGHTS: &[(&str, f64)] = &[
    ("01", 35.),
    ("02", 15.),
    ("03", 5.),
    ("04", 2.),
    ("05", 2.),
    ("06", 8.),
    ("07", 6.),
    ("08", 8.),
    ("09", 0.5),
    ("10", 0.5),
    ("11", 3.),
    ("12", 8.),
    ("98", 2.),
    ("99", 5.),
];
const LOCATION_WEIGHTS: &[(&str, f64)] = &[
    ("01", 35.),
    ("02", 20.),
    ("03", 15.),
    ("04", 5.),
    ("05", 4.),
    ("06", 3.),
    ("07", 5.),
    ("08", 2.),
    ("09", 3.),
    ("10", 3.),
    ("11", 2.),
    ("12", 1.),
    ("98", 1.),
    ("99", 1.),
];
const AGE_WEIGHTS: [f64; 9] = [1., 6., 7., 28., 25., 15., 10., 5., 3.];
const OTHER_METHODS: &[&str] = &["Dog set on victim", "Struck by vehicle", "Pushed down stairs", "Hit with belt"];

fn weekday_weight(d: Weekday) -> f64 {
    match d {
        Weekday::Fri => 1.3,
        Weekday::Sat => 1.7,
        Weekday::Sun => 1.4,
        _ => 0.8,
    }
}

/// Free text as people type it: sometimes a prefix, an abbreviation, lower case or a slip.
fn street_text(rng: &mut ChaCha8Rng, street: &str) -> String {
    let mut s = street.to_string();
    let roll: f64 = rng.gen();
    if roll < 0.10 {
        s = s.replace("Street", "St").replace("Road", "Rd");
    } else if roll < 0.18 {
        s = s.to_lowercase();
    } else if roll < 0.22 && s.len() > 5 {
        // Swap two adjacent letters in the first word.
        let mut chars: Vec<char> = s.chars().collect();
        let i = rng.gen_range(1..chars.len().min(6) - 1);
        chars.swap(i, i + 1);
        s = chars.into_iter().collect();
    }
    match rng.gen_range(0..10) {
        0 => format!("outside shop on {s}"),
        1 => format!("near {s}"),
        _ => s,
    }
}

/// Generates a submission.
pub fn generate(spec: &GeneratorSpec) -> EdSubmission {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let streets: Vec<String> = if spec.streets.is_empty() {
        BUILT_IN_STREETS.iter().map(|s| s.to_string()).collect()
    } else {
        spec.streets.clone()
    };
    let days: Vec<NaiveDate> = spec.from.iter_days().take_while(|d| *d <= spec.to).collect();
    let day_dist = WeightedIndex::new(days.iter().map(|d| weekday_weight(d.weekday()))).ok();
    let hour_dist = WeightedIndex::new(HOUR_WEIGHTS).ok();
    let method_dist = WeightedIndex::new(METHOD_WEIGHTS.iter().map(|(_, w)| *w)).ok();
    let location_dist = WeightedIndex::new(LOCATION_WEIGHTS.iter().map(|(_, w)| *w)).ok();
    let age_dist = WeightedIndex::new(AGE_WEIGHTS).ok();
    let mut assaults = Vec::with_capacity(spec.assaults);
    for _ in 0..spec.assaults {
        let (Some(day_dist), Some(hour_dist), Some(method_dist), Some(location_dist), Some(age_dist)) =
            (&day_dist, &hour_dist, &method_dist, &location_dist, &age_dist)
        else {
            break;
        };
        let day = days[day_dist.sample(&mut rng)];
        let hour = hour_dist.sample(&mut rng) as u32;
        let time = NaiveTime::from_hms_opt(hour, rng.gen_range(0..60), 0).unwrap_or_default();
        let arrival = NaiveDateTime::new(day, time);
        // Delay from assault to arrival: 10 minutes to about 5 hours, mostly under an hour.
        let delay = 10 + (rng.gen::<f64>().powi(3) * 290.0) as i64;
        let assault_at = arrival - Duration::minutes(delay);
        let method = METHOD_WEIGHTS[method_dist.sample(&mut rng)].0.to_string();
        let method_other =
            (method == codes::METHOD_OTHER).then(|| OTHER_METHODS[rng.gen_range(0..OTHER_METHODS.len())].to_string());
        let location_type = LOCATION_WEIGHTS[location_dist.sample(&mut rng)].0.to_string();
        let street = &streets[rng.gen_range(0..streets.len())];
        let location_description = match location_type.as_str() {
            "03" => Some("Own home".to_string()),
            "04" => Some("Friend's house".to_string()),
            "99" => None,
            "02" => Some(format!("{}, {}", VENUES[rng.gen_range(0..VENUES.len())], street_text(&mut rng, street))),
            _ => Some(street_text(&mut rng, street)),
        };
        let age_band = (rng.gen::<f64>() < 0.9).then(|| codes::AGE_BANDS[age_dist.sample(&mut rng)].0.to_string());
        let sex = Some(
            match rng.gen::<f64>() {
                x if x < 0.70 => "1",
                x if x < 0.98 => "2",
                _ => "X",
            }
            .to_string(),
        );
        assaults.push(EdAssault {
            arrival_at: Some(arrival),
            assault_at,
            method,
            method_other,
            location_type,
            location_description,
            age_band,
            sex,
        });
    }
    assaults.sort_by_key(|a| a.arrival_at);
    EdSubmission {
        site_code: spec.site_code.clone(),
        period_start: spec.from,
        period_end: spec.to,
        synthetic: true,
        assaults,
    }
}

const DT: &str = "%Y-%m-%dT%H:%M";

/// Writes a submission in the given format, with the SYNTHETIC label when it is synthetic.
pub fn write(submission: &EdSubmission, format: EdFormat) -> String {
    match format {
        EdFormat::Csv => write_csv(submission),
        EdFormat::Xml => write_xml(submission),
    }
}

fn write_csv(s: &EdSubmission) -> String {
    let mut out = String::new();
    if s.synthetic {
        out.push_str("# SYNTHETIC ED assault data generated by Alliance: not real patients or events.\n");
    }
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(CSV_COLUMNS.iter().map(|(c, _)| *c));
    let (site, start, end) = (s.site_code.clone(), s.period_start.to_string(), s.period_end.to_string());
    for a in &s.assaults {
        let record = [
            site.clone(),
            start.clone(),
            end.clone(),
            a.arrival_at.map(|t| t.format(DT).to_string()).unwrap_or_default(),
            a.assault_at.format(DT).to_string(),
            a.method.clone(),
            a.method_other.clone().unwrap_or_default(),
            a.location_type.clone(),
            a.location_description.clone().unwrap_or_default(),
            a.age_band.clone().unwrap_or_default(),
            a.sex.clone().unwrap_or_default(),
        ];
        let _ = w.write_record(&record);
    }
    out.push_str(&String::from_utf8_lossy(&w.into_inner().unwrap_or_default()));
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn write_xml(s: &EdSubmission) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if s.synthetic {
        out.push_str("<!-- SYNTHETIC ED assault data generated by Alliance: not real patients or events. -->\n");
        out.push_str("<IstvSubmission synthetic=\"true\">\n");
    } else {
        out.push_str("<IstvSubmission>\n");
    }
    out.push_str(&format!("  <{0}>{1}</{0}>\n", Field::PeriodStart.xml(), s.period_start));
    out.push_str(&format!("  <{0}>{1}</{0}>\n", Field::PeriodEnd.xml(), s.period_end));
    out.push_str(&format!("  <{0}>{1}</{0}>\n", Field::SiteCode.xml(), escape(&s.site_code)));
    for a in &s.assaults {
        out.push_str("  <Assault>\n");
        let mut leaf = |f: Field, v: Option<String>| {
            if let Some(v) = v {
                out.push_str(&format!("    <{0}>{1}</{0}>\n", f.xml(), escape(&v)));
            }
        };
        leaf(Field::Arrival, a.arrival_at.map(|t| t.format(DT).to_string()));
        leaf(Field::AssaultAt, Some(a.assault_at.format(DT).to_string()));
        leaf(Field::Method, Some(a.method.clone()));
        leaf(Field::MethodOther, a.method_other.clone());
        leaf(Field::LocationType, Some(a.location_type.clone()));
        leaf(Field::LocationDescription, a.location_description.clone());
        leaf(Field::AgeBand, a.age_band.clone());
        leaf(Field::Sex, a.sex.clone());
        out.push_str("  </Assault>\n");
    }
    out.push_str("</IstvSubmission>\n");
    out
}
