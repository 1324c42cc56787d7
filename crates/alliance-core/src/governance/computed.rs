//! One definition of a computed indicator, whatever its source: police-recorded crime (a
//! data.police.uk crime type, the serious violence definition's headline or one of its
//! groups), emergency department assaults (all, one assault method code, or the serious
//! violence definition's methods), a partner indicator series (by name, optionally by the
//! organisation that supplies it and one area) or referrals (made, accepted, or closed with
//! an outcome; to one service or all).
//!
//! A definition is **source, selection, measure, area**; the indicator's frequency (monthly
//! or quarterly) gives its periods. It is stored as one line of text in the indicator's
//! `source` column, `computed:<source>;measure=<measure>;<key>=<value>…`, e.g.
//! `computed:police;measure=rate-12m;select=crime-type:Robbery`, and shown in words by
//! [`ComputedIndicator::describe`]. The two forms of earlier versions
//! (`computed:rate-12m:<crime type>`, `computed:quarter-count:<crime type>`) are read as
//! the police definitions they meant.
//!
//! Rules a definition must keep ([`ComputedIndicator::validate`]):
//! - emergency department and referral indicators are **quarterly**: figures from those
//!   restricted sources are published below record level over calendar quarters only (the
//!   fixed partition of `docs/disclosure-control.md`), and over the whole area (no `area`);
//! - police indicators count crimes in the partnership's area or one district of it, per
//!   period, over the 12 months ending with the period, or per 1,000 residents over those
//!   12 months;
//! - a partner series indicator takes the series' values inside each period: a value for
//!   the period itself, or one for every month of it, summed or averaged as the definition
//!   says ([`combine_series`]);
//! - computed indicators are monthly or quarterly (an annual figure is a quarterly
//!   indicator's rolling 12 months).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Frequency;
use crate::analytics::sna::definition::SvGroup;
use crate::domain::police::CRIME_TYPES;
use crate::domain::{Month, MonthRange};

/// Longest text of a definition's values (a series name, a service id, an area code).
pub const MAX_VALUE_LEN: usize = 200;

/// Which police records a police indicator counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoliceSelection {
    /// One data.police.uk crime type.
    CrimeType(String),
    /// The crime types counted in the headline of the current serious violence definition.
    SeriousViolence,
    /// The crime types the current serious violence definition maps to one group.
    SvGroup(SvGroup),
}

/// Which emergency department assaults an ED indicator counts (by the assault's date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EdSelection {
    All,
    /// One ISTV assault method code, e.g. `06` (knife or other bladed or sharp object).
    Method(String),
    /// The method codes counted in the headline of the current serious violence definition.
    SeriousViolence,
}

/// What happened to a referral, counted in the period it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferralEvent {
    /// Referrals received (made) in the period.
    Made,
    /// Referrals accepted in the period.
    Accepted,
    /// Referrals closed in the period with an outcome recorded.
    ClosedWithOutcome,
}

impl ReferralEvent {
    pub const ALL: [ReferralEvent; 3] =
        [ReferralEvent::Made, ReferralEvent::Accepted, ReferralEvent::ClosedWithOutcome];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralEvent::Made => "made",
            ReferralEvent::Accepted => "accepted",
            ReferralEvent::ClosedWithOutcome => "closed-with-outcome",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReferralEvent::Made => "Referrals made",
            ReferralEvent::Accepted => "Referrals accepted",
            ReferralEvent::ClosedWithOutcome => "Referrals closed with an outcome",
        }
    }

    pub fn parse(s: &str) -> Result<ReferralEvent, String> {
        let key = s.trim().to_ascii_lowercase();
        ReferralEvent::ALL.into_iter().find(|e| e.as_str() == key).ok_or_else(|| {
            format!("\"{}\" is not a referral event: expected made, accepted or closed-with-outcome", s.trim())
        })
    }
}

/// Where a computed indicator's figures come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComputedData {
    Police(PoliceSelection),
    Ed(EdSelection),
    /// A partner indicator series by its name; `org`: only the values a given organisation
    /// supplied (its id); `None`: whoever supplied them.
    PartnerSeries {
        series: String,
        org: Option<i64>,
    },
    /// Referrals; `service`: to one service (its id), or `None` for all.
    Referrals {
        event: ReferralEvent,
        service: Option<String>,
    },
}

impl ComputedData {
    /// The stored source name.
    pub fn source_key(&self) -> &'static str {
        match self {
            ComputedData::Police(_) => "police",
            ComputedData::Ed(_) => "ed",
            ComputedData::PartnerSeries { .. } => "partner-series",
            ComputedData::Referrals { .. } => "referrals",
        }
    }

    /// The source in words, for a page.
    pub fn source_label(&self) -> &'static str {
        match self {
            ComputedData::Police(_) => "Police-recorded crime (data.police.uk)",
            ComputedData::Ed(_) => "Emergency department assaults",
            ComputedData::PartnerSeries { .. } => "A partner indicator series",
            ComputedData::Referrals { .. } => "Referrals",
        }
    }

    /// Whether its figures are restricted data: shown below record level only through the
    /// disclosure point (police data is open).
    pub fn is_restricted(&self) -> bool {
        !matches!(self, ComputedData::Police(_))
    }
}

/// How the figure of a period is made from the source's records or values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// Records in the period.
    Count,
    /// Records in the 12 months ending with the period's last month.
    Count12Months,
    /// Records in the 12 months ending with the period's last month per 1,000 residents.
    Rate12Months,
    /// The sum of a series' values inside the period.
    Sum,
    /// The mean of a series' values inside the period (one per source period).
    Mean,
}

impl Measure {
    pub const ALL: [Measure; 5] =
        [Measure::Count, Measure::Count12Months, Measure::Rate12Months, Measure::Sum, Measure::Mean];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Count => "count",
            Measure::Count12Months => "count-12m",
            Measure::Rate12Months => "rate-12m",
            Measure::Sum => "sum",
            Measure::Mean => "mean",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Measure::Count => "number in the period",
            Measure::Count12Months => "number in the 12 months ending with the period",
            Measure::Rate12Months => "number per 1,000 residents in the 12 months ending with the period",
            Measure::Sum => "the sum of the series' values in the period",
            Measure::Mean => "the mean of the series' values in the period",
        }
    }

    pub fn parse(s: &str) -> Result<Measure, String> {
        let key = s.trim().to_ascii_lowercase();
        Measure::ALL.into_iter().find(|m| m.as_str() == key).ok_or_else(|| {
            format!("\"{}\" is not a measure: expected count, count-12m, rate-12m, sum or mean", s.trim())
        })
    }

    /// The months a figure for `period` is made from.
    pub fn months_for(self, period: MonthRange) -> MonthRange {
        match self {
            Measure::Count12Months | Measure::Rate12Months => MonthRange::ending(period.to, 12),
            Measure::Count | Measure::Sum | Measure::Mean => period,
        }
    }
}

/// A computed indicator's definition (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputedIndicator {
    pub data: ComputedData,
    pub measure: Measure,
    /// Police: a district code (`None`: the partnership's area). A partner series: one area
    /// code of the series (`None`: every area of the series, see [`combine_series`]).
    pub area: Option<String>,
}

/// A value of a definition must fit on its line: no `;`, no line break, not too long.
fn check_value(what: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if v.len() > MAX_VALUE_LEN {
        return Err(format!("the {what} is longer than {MAX_VALUE_LEN} characters"));
    }
    if v.contains([';', '\n', '\r']) {
        return Err(format!("the {what} \"{v}\" contains a semicolon or a line break, which a definition cannot hold"));
    }
    Ok(())
}

/// An area code: letters and digits, as ONS GSS codes are (`E06000021`).
fn check_area(area: &str) -> Result<(), String> {
    if area.is_empty() || area.len() > 16 || !area.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("\"{area}\" is not an area code: expected letters and digits, as an ONS code is, such as a district's (E06…) or an LSOA's (E01…)"));
    }
    Ok(())
}

impl ComputedIndicator {
    /// Checks the definition against the indicator's frequency (see the module docs); the
    /// error says what is wrong and what is allowed.
    pub fn validate(&self, frequency: Frequency) -> Result<(), String> {
        use ComputedData::*;
        use Measure::*;
        let allowed: &[Measure] = match &self.data {
            Police(_) => &[Count, Count12Months, Rate12Months],
            Ed(_) | Referrals { .. } => &[Count],
            PartnerSeries { .. } => &[Sum, Mean],
        };
        if !allowed.contains(&self.measure) {
            let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            return Err(format!(
                "a {} indicator cannot be measured as {}: expected {}",
                self.data.source_key(),
                self.measure.as_str(),
                names.join(" or ")
            ));
        }
        match frequency {
            Frequency::Annually => {
                return Err("a computed indicator is monthly or quarterly: for a yearly figure use a quarterly \
                            indicator counted over the 12 months ending with each quarter"
                    .into())
            }
            Frequency::Monthly if self.data.is_restricted() && !matches!(self.data, PartnerSeries { .. }) => {
                return Err(format!(
                    "{} indicators are quarterly: figures from this restricted source are published over calendar \
                     quarters only, so that no two published periods overlap",
                    self.data.source_label()
                ))
            }
            _ => {}
        }
        match &self.data {
            Police(PoliceSelection::CrimeType(t)) if !CRIME_TYPES.contains(&t.as_str()) => {
                return Err(format!(
                    "\"{t}\" is not a data.police.uk crime type: expected one of {}",
                    CRIME_TYPES.join(", ")
                ))
            }
            Ed(EdSelection::Method(code)) if code.len() != 2 || !code.chars().all(|c| c.is_ascii_digit()) => {
                return Err(format!("\"{code}\" is not an assault method code: expected two digits, like 06"))
            }
            PartnerSeries { series, org } => {
                check_value("series name", series)?;
                if org.is_some_and(|o| o <= 0) {
                    return Err("the organisation must be one of the partnership's organisations".into());
                }
            }
            Referrals { service: Some(s), .. } => check_value("service", s)?,
            _ => {}
        }
        match (&self.data, &self.area) {
            (Ed(_) | Referrals { .. }, Some(_)) => Err(format!(
                "{} indicators cover the whole partnership area: restricted figures are not published for a part of it",
                self.data.source_label()
            )),
            (_, Some(a)) => check_area(a),
            _ => Ok(()),
        }
    }

    /// Whether the source is restricted data (see [`ComputedData::is_restricted`]).
    pub fn is_restricted(&self) -> bool {
        self.data.is_restricted()
    }

    /// The stored line, `computed:<source>;measure=…;…` (see the module docs).
    pub fn as_string(&self) -> String {
        let mut out = format!("computed:{};measure={}", self.data.source_key(), self.measure.as_str());
        let mut push = |k: &str, v: &str| out.push_str(&format!(";{k}={v}"));
        match &self.data {
            ComputedData::Police(s) => push(
                "select",
                &match s {
                    PoliceSelection::CrimeType(t) => format!("crime-type:{t}"),
                    PoliceSelection::SeriousViolence => "serious-violence".into(),
                    PoliceSelection::SvGroup(g) => format!("sv-group:{}", g.code()),
                },
            ),
            ComputedData::Ed(s) => push(
                "select",
                &match s {
                    EdSelection::All => "all".into(),
                    EdSelection::Method(c) => format!("method:{c}"),
                    EdSelection::SeriousViolence => "serious-violence".into(),
                },
            ),
            ComputedData::PartnerSeries { series, org } => {
                push("series", series);
                if let Some(o) = org {
                    push("org", &o.to_string());
                }
            }
            ComputedData::Referrals { event, service } => {
                push("event", event.as_str());
                if let Some(s) = service {
                    push("service", s);
                }
            }
        }
        if let Some(a) = &self.area {
            push("area", a);
        }
        out
    }

    /// Reads a stored line (after `computed:`); the error names what is wrong.
    pub fn parse(rest: &str) -> Result<ComputedIndicator, String> {
        // The forms of earlier versions.
        if let Some(t) = rest.strip_prefix("rate-12m:") {
            return Ok(ComputedIndicator::police(PoliceSelection::CrimeType(t.into()), Measure::Rate12Months));
        }
        if let Some(t) = rest.strip_prefix("quarter-count:") {
            return Ok(ComputedIndicator::police(PoliceSelection::CrimeType(t.into()), Measure::Count));
        }
        let mut parts = rest.split(';');
        let source = parts.next().unwrap_or_default().trim();
        let mut keys: BTreeMap<&str, &str> = BTreeMap::new();
        for part in parts {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("\"{part}\" is not a key=value pair of a computed indicator's definition"))?;
            if keys.insert(k.trim(), v.trim()).is_some() {
                return Err(format!("\"{}\" is given twice", k.trim()));
            }
        }
        let mut take = |k: &str| keys.remove(k);
        let measure = Measure::parse(take("measure").ok_or("the definition has no measure")?)?;
        let area = take("area").map(str::to_string);
        let data = match source {
            "police" => ComputedData::Police(match take("select").ok_or("a police indicator needs select=…")? {
                "serious-violence" => PoliceSelection::SeriousViolence,
                s => match (s.strip_prefix("crime-type:"), s.strip_prefix("sv-group:")) {
                    (Some(t), _) => PoliceSelection::CrimeType(t.to_string()),
                    (_, Some(g)) => PoliceSelection::SvGroup(SvGroup::parse(g).map_err(|e| e.to_string())?),
                    _ => {
                        return Err(format!(
                            "\"{s}\" is not a police selection: expected crime-type:<type>, serious-violence or \
                             sv-group:<group>"
                        ))
                    }
                },
            }),
            "ed" => ComputedData::Ed(match take("select").ok_or("an ED indicator needs select=…")? {
                "all" => EdSelection::All,
                "serious-violence" => EdSelection::SeriousViolence,
                s => match s.strip_prefix("method:") {
                    Some(c) => EdSelection::Method(c.to_string()),
                    None => {
                        return Err(format!(
                            "\"{s}\" is not an ED selection: expected all, method:<code> or serious-violence"
                        ))
                    }
                },
            }),
            "partner-series" => ComputedData::PartnerSeries {
                series: take("series").ok_or("a partner series indicator needs series=<name>")?.to_string(),
                org: match take("org") {
                    Some(o) => Some(o.parse().map_err(|_| format!("\"{o}\" is not an organisation id"))?),
                    None => None,
                },
            },
            "referrals" => ComputedData::Referrals {
                event: ReferralEvent::parse(take("event").ok_or("a referrals indicator needs event=…")?)?,
                service: take("service").map(str::to_string),
            },
            other => {
                return Err(format!(
                "\"{other}\" is not a source of computed indicators: expected police, ed, partner-series or referrals"
            ))
            }
        };
        if let Some(k) = keys.keys().next() {
            return Err(format!("\"{k}\" is not a key of a {source} indicator's definition"));
        }
        Ok(ComputedIndicator { data, measure, area })
    }

    fn police(selection: PoliceSelection, measure: Measure) -> ComputedIndicator {
        ComputedIndicator { data: ComputedData::Police(selection), measure, area: None }
    }

    /// The definition in words, for the indicator's page; `org_name` names the
    /// organisation of a partner series when it is restricted to one.
    pub fn describe(&self, org_name: Option<&str>) -> String {
        let what = match &self.data {
            ComputedData::Police(PoliceSelection::CrimeType(t)) => {
                format!("police-recorded crimes of the type \"{t}\"")
            }
            ComputedData::Police(PoliceSelection::SeriousViolence) => {
                "police-recorded crimes of the types in the serious violence definition's headline".into()
            }
            ComputedData::Police(PoliceSelection::SvGroup(g)) => {
                format!("police-recorded crimes of the types the serious violence definition maps to {}", g.label())
            }
            ComputedData::Ed(EdSelection::All) => "emergency department attendances for assault".into(),
            ComputedData::Ed(EdSelection::Method(c)) => {
                format!("emergency department attendances for assault with method code {c}")
            }
            ComputedData::Ed(EdSelection::SeriousViolence) => {
                "emergency department attendances for assault by the methods in the serious violence definition's \
                 headline"
                    .into()
            }
            ComputedData::PartnerSeries { series, org } => match (org, org_name) {
                (Some(_), Some(name)) => format!("the partner series \"{series}\" supplied by {name}"),
                (Some(o), None) => format!("the partner series \"{series}\" supplied by organisation {o}"),
                (None, _) => format!("the partner series \"{series}\""),
            },
            ComputedData::Referrals { event, service } => match service {
                Some(s) => format!("{} to the service {s}", event.label().to_lowercase()),
                None => format!("{} to any service", event.label().to_lowercase()),
            },
        };
        let area = match (&self.data, &self.area) {
            (ComputedData::Police(_), None) => " recorded in the partnership's area (its LSOAs)".to_string(),
            (ComputedData::Police(_), Some(d)) => format!(" recorded in district {d}"),
            (ComputedData::PartnerSeries { .. }, Some(a)) => format!(" for area {a}"),
            (ComputedData::PartnerSeries { .. }, None) => " for every area it covers".into(),
            _ => " in the whole partnership area".into(),
        };
        format!("{}: {what}{area}; {}.", self.data.source_label(), self.measure.label())
    }
}

impl fmt::Display for ComputedIndicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

/// One value of a partner series, as [`combine_series`] reads it: all ages and sexes.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesValue {
    pub area_code: String,
    /// `district`, `ward` or `lsoa`.
    pub area_kind: String,
    pub start: Month,
    pub end: Month,
    pub value: f64,
}

/// A figure made from a series, and the values it was made from (each must be publishable
/// for the figure to be shown below record level).
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    pub value: f64,
    pub parts: Vec<f64>,
    /// How many of the series' periods it combined (1, or the months of a quarter).
    pub periods: usize,
}

/// The rule by which a partner series gives an indicator's figure for a period, as shown on
/// the indicator's page.
pub const SERIES_RULE: &str = "A partner series gives the figure of a period from its values for all ages and both \
     sexes: a value for the period itself when the series has one, otherwise one value for every month of the period, \
     summed or averaged as the indicator's definition says. With no area chosen, the values of every area of the \
     coarsest kind the series has for the period (districts before wards before LSOAs) are added up first. A period \
     some month of which has no value is not computed.";

/// The figure of `period` from a series' values (all ages and sexes), by [`SERIES_RULE`],
/// or why there is none. `area`: only that area's values.
pub fn combine_series(
    values: &[SeriesValue],
    period: MonthRange,
    area: Option<&str>,
    measure: Measure,
) -> Result<Combined, String> {
    let inside: Vec<&SeriesValue> = values
        .iter()
        .filter(|v| area.is_none_or(|a| v.area_code == a))
        .filter(|v| v.start >= period.from && v.end <= period.to)
        .collect();
    if inside.is_empty() {
        return Err(format!("the series has no value inside {period}"));
    }
    // Areas: one, or every area of the coarsest kind present.
    let rank = |k: &str| match k {
        "district" => 0,
        "ward" => 1,
        _ => 2,
    };
    let coarsest = inside.iter().map(|v| rank(&v.area_kind)).min().unwrap_or(2);
    let inside: Vec<&SeriesValue> = inside.into_iter().filter(|v| rank(&v.area_kind) == coarsest).collect();
    // A value for the whole period, else one for each month.
    let whole: Vec<&SeriesValue> =
        inside.iter().copied().filter(|v| v.start == period.from && v.end == period.to).collect();
    let chosen: Vec<&SeriesValue> = if !whole.is_empty() {
        whole
    } else {
        let monthly: Vec<&SeriesValue> = inside.into_iter().filter(|v| v.start == v.end).collect();
        let months: BTreeSet<Month> = monthly.iter().map(|v| v.start).collect();
        if months.len() as i64 != period.len() {
            return Err(format!(
                "the series has monthly values for {} of the {} months of {period}",
                months.len(),
                period.len()
            ));
        }
        monthly
    };
    // Per source period: the areas added up.
    let mut by_period: BTreeMap<(Month, Month), f64> = BTreeMap::new();
    for v in &chosen {
        *by_period.entry((v.start, v.end)).or_default() += v.value;
    }
    let periods = by_period.len();
    let total: f64 = by_period.values().sum();
    let value = match measure {
        Measure::Mean => total / periods as f64,
        _ => total,
    };
    Ok(Combined { value, parts: chosen.iter().map(|v| v.value).collect(), periods })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        s.parse().expect("month")
    }

    fn q3() -> MonthRange {
        MonthRange::new(m("2025-07"), m("2025-09")).expect("range")
    }

    fn value(area: &str, kind: &str, from: &str, to: &str, v: f64) -> SeriesValue {
        SeriesValue { area_code: area.into(), area_kind: kind.into(), start: m(from), end: m(to), value: v }
    }

    #[test]
    fn definitions_round_trip_and_read_the_old_forms() {
        let lines = [
            "computed:police;measure=rate-12m;select=crime-type:Robbery",
            "computed:police;measure=count;select=serious-violence;area=E06000021",
            "computed:police;measure=count-12m;select=sv-group:robbery",
            "computed:ed;measure=count;select=method:06",
            "computed:ed;measure=count;select=all",
            "computed:partner-series;measure=sum;series=School exclusions: fixed term;org=3;area=E06000021",
            "computed:referrals;measure=count;event=closed-with-outcome;service=mentoring",
            "computed:referrals;measure=count;event=made",
        ];
        for line in lines {
            let rest = line.strip_prefix("computed:").expect("prefix");
            let parsed = ComputedIndicator::parse(rest).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(parsed.as_string(), line);
        }
        let old = ComputedIndicator::parse("quarter-count:Robbery").expect("old form");
        assert_eq!(old.measure, Measure::Count);
        assert_eq!(old.data, ComputedData::Police(PoliceSelection::CrimeType("Robbery".into())));
        let old = ComputedIndicator::parse("rate-12m:Drugs").expect("old form");
        assert_eq!(old.measure, Measure::Rate12Months);
        assert!(ComputedIndicator::parse("police;measure=count").is_err(), "no selection");
        assert!(ComputedIndicator::parse("police;measure=count;select=all;colour=red").is_err(), "unknown key");
        assert!(ComputedIndicator::parse("weather;measure=count").is_err());
        assert!(ComputedIndicator::parse("ed;measure=count;select=all;select=all").is_err(), "twice");
    }

    #[test]
    fn validation_keeps_restricted_sources_quarterly_and_whole_area() {
        let ed = ComputedIndicator { data: ComputedData::Ed(EdSelection::All), measure: Measure::Count, area: None };
        assert_eq!(ed.validate(Frequency::Quarterly), Ok(()));
        assert!(ed.validate(Frequency::Monthly).unwrap_err().contains("quarterly"));
        let with_area = ComputedIndicator { area: Some("E06000021".into()), ..ed.clone() };
        assert!(with_area.validate(Frequency::Quarterly).unwrap_err().contains("whole partnership area"));
        let rate = ComputedIndicator { measure: Measure::Rate12Months, ..ed };
        assert!(rate.validate(Frequency::Quarterly).unwrap_err().contains("cannot be measured as rate-12m"));
        let bad_type = ComputedIndicator::police(PoliceSelection::CrimeType("Arson".into()), Measure::Count);
        assert!(bad_type.validate(Frequency::Quarterly).unwrap_err().contains("not a data.police.uk crime type"));
        let police = ComputedIndicator::police(PoliceSelection::SeriousViolence, Measure::Count);
        assert_eq!(police.validate(Frequency::Monthly), Ok(()));
        assert!(police.validate(Frequency::Annually).is_err());
        let series = ComputedIndicator {
            data: ComputedData::PartnerSeries { series: "a;b".into(), org: None },
            measure: Measure::Sum,
            area: None,
        };
        assert!(series.validate(Frequency::Monthly).unwrap_err().contains("semicolon"));
        let method = ComputedIndicator {
            data: ComputedData::Ed(EdSelection::Method("6".into())),
            measure: Measure::Count,
            area: None,
        };
        assert!(method.validate(Frequency::Quarterly).is_err());
    }

    #[test]
    fn monthly_values_make_a_quarter_summed_or_averaged() {
        // 10, 12 and 14 in July to September: 36 summed, 12 on average.
        let values = [
            value("E06000021", "district", "2025-07", "2025-07", 10.0),
            value("E06000021", "district", "2025-08", "2025-08", 12.0),
            value("E06000021", "district", "2025-09", "2025-09", 14.0),
            value("E06000021", "district", "2025-10", "2025-10", 99.0),
        ];
        let sum = combine_series(&values, q3(), None, Measure::Sum).expect("complete");
        assert_eq!(sum.value, 36.0);
        assert_eq!(sum.periods, 3);
        assert_eq!(sum.parts, vec![10.0, 12.0, 14.0]);
        assert_eq!(combine_series(&values, q3(), None, Measure::Mean).expect("complete").value, 12.0);
        // A month missing: not computed, and the reason says how many months there are.
        let err = combine_series(&values[..2], q3(), None, Measure::Sum).unwrap_err();
        assert!(err.contains("2 of the 3 months"), "{err}");
        // One month as a monthly indicator's period.
        let aug = MonthRange::new(m("2025-08"), m("2025-08")).expect("range");
        assert_eq!(combine_series(&values, aug, None, Measure::Sum).expect("month").value, 12.0);
    }

    #[test]
    fn a_value_for_the_period_itself_wins_and_areas_add_up_at_the_coarsest_kind() {
        let values = [
            value("E06000021", "district", "2025-07", "2025-09", 30.0),
            value("E07000192", "district", "2025-07", "2025-09", 20.0),
            value("E01000001", "lsoa", "2025-07", "2025-09", 3.0),
            value("E06000021", "district", "2025-07", "2025-07", 9.0),
        ];
        assert_eq!(combine_series(&values, q3(), None, Measure::Sum).expect("whole").value, 50.0);
        assert_eq!(combine_series(&values, q3(), None, Measure::Mean).expect("whole").value, 50.0);
        assert_eq!(combine_series(&values, q3(), Some("E07000192"), Measure::Sum).expect("one").value, 20.0);
        assert_eq!(combine_series(&values, q3(), Some("E01000001"), Measure::Sum).expect("lsoa").value, 3.0);
        assert!(combine_series(&values, q3(), Some("E09999999"), Measure::Sum).is_err());
        // A financial-year value is not inside a quarter.
        let fy = [value("E06000021", "district", "2025-04", "2026-03", 400.0)];
        assert!(combine_series(&fy, q3(), None, Measure::Sum).is_err());
    }

    #[test]
    fn descriptions_say_source_area_and_measure() {
        let d = ComputedIndicator::police(PoliceSelection::CrimeType("Robbery".into()), Measure::Count).describe(None);
        assert_eq!(
            d,
            "Police-recorded crime (data.police.uk): police-recorded crimes of the type \"Robbery\" recorded in the \
             partnership's area (its LSOAs); number in the period."
        );
        let s = ComputedIndicator {
            data: ComputedData::PartnerSeries { series: "Exclusions".into(), org: Some(4) },
            measure: Measure::Mean,
            area: None,
        };
        assert!(s.describe(Some("Stoke-on-Trent City Council")).contains("supplied by Stoke-on-Trent City Council"));
    }
}
