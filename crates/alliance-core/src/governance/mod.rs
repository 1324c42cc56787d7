//! Governance and performance rules: calendar quarters and financial years, action
//! statuses with their RAG colours, the status of an indicator against its target and its
//! trend, the under/over-spend flag of a funding allocation, the over-allocation of a
//! funding stream in a financial year ([`allocation`]), and the automatic escalation of
//! actions off track for two quarters running.
//!
//! Every rule here is pure so it can be shown on the page that uses it ([`INDICATOR_RULE`],
//! [`SPEND_RULE`], [`ALLOCATION_RULE`], [`ESCALATION_RULE`]) and tested on hand-worked
//! examples.

pub mod allocation;
mod codes;
pub mod computed;

pub use allocation::{
    is_over_allocated, stream_year_positions, AllocationSpend, StreamAllocation, StreamAmount, StreamYearPosition,
    ALLOCATION_RULE,
};
pub use codes::{Frequency, IndicatorKind, MeetingBody, MeetingItemKind};
pub use computed::{
    combine_series, ComputedData, ComputedIndicator, EdSelection, Measure, PoliceSelection, ReferralEvent, SeriesValue,
    SERIES_RULE,
};

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::{Month, MonthRange};

/// A calendar quarter: `2025Q3` is July to September 2025.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub q: u32,
}

impl Quarter {
    pub fn new(year: i32, q: u32) -> Option<Quarter> {
        ((1..=4).contains(&q) && (1900..=2200).contains(&year)).then_some(Quarter { year, q })
    }

    /// The quarter a month falls in.
    pub fn of_month(m: Month) -> Quarter {
        Quarter { year: m.year(), q: (m.month() - 1) / 3 + 1 }
    }

    /// The quarter of a `YYYY-MM-DD` date.
    pub fn of_date(date: &str) -> Option<Quarter> {
        let m: Month = date.get(..7)?.parse().ok()?;
        Some(Quarter::of_month(m))
    }

    pub fn first_month(self) -> Month {
        Month::new(self.year, (self.q - 1) * 3 + 1).expect("quarters have valid months")
    }

    pub fn last_month(self) -> Month {
        self.first_month().plus(2)
    }

    pub fn months(self) -> MonthRange {
        MonthRange { from: self.first_month(), to: self.last_month() }
    }

    /// The 12 months ending with this quarter's last month.
    pub fn rolling_12_months(self) -> MonthRange {
        MonthRange::ending(self.last_month(), 12)
    }

    pub fn previous(self) -> Quarter {
        if self.q == 1 {
            Quarter { year: self.year - 1, q: 4 }
        } else {
            Quarter { year: self.year, q: self.q - 1 }
        }
    }

    pub fn next(self) -> Quarter {
        if self.q == 4 {
            Quarter { year: self.year + 1, q: 1 }
        } else {
            Quarter { year: self.year, q: self.q + 1 }
        }
    }

    /// First day, `YYYY-MM-DD`.
    pub fn start_date(self) -> String {
        format!("{}-01", self.first_month())
    }

    /// Last day, `YYYY-MM-DD`.
    pub fn end_date(self) -> String {
        let day = match self.q {
            1 | 4 => 31,
            _ => 30,
        };
        format!("{}-{day:02}", self.last_month())
    }

    /// e.g. "July to September 2025".
    pub fn label(self) -> String {
        const NAMES: [&str; 4] = ["January to March", "April to June", "July to September", "October to December"];
        format!("{} {}", NAMES[(self.q - 1) as usize], self.year)
    }

    /// The UK financial year (April to March) the quarter falls in, e.g. `2025/26` for
    /// 2025Q2, 2025Q3, 2025Q4 and 2026Q1.
    pub fn financial_year(self) -> FinancialYear {
        FinancialYear { start: if self.q == 1 { self.year - 1 } else { self.year } }
    }

    /// The quarter as money is reported: its financial year and its place in it, e.g.
    /// `2025/26 Q2` for 2025Q3 (July to September 2025).
    pub fn financial_label(self) -> String {
        format!("{} Q{}", self.financial_year(), self.financial_quarter())
    }

    /// 1 to 4: the position of the quarter in its financial year (April to June is 1).
    pub fn financial_quarter(self) -> u32 {
        if self.q == 1 {
            4
        } else {
            self.q - 1
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.q)
    }
}

impl FromStr for Quarter {
    type Err = String;
    /// A calendar quarter `2025Q3`, `2025-Q3` or `2025 Q3` (any case), or a financial-year
    /// quarter `2025/26 Q2` (the same quarter: July to September 2025).
    fn from_str(s: &str) -> Result<Quarter, String> {
        let t = s.trim().to_ascii_uppercase().replace(' ', "");
        let bad = || {
            format!(
                "\"{s}\" is not a quarter: expected a calendar quarter like 2025Q3 (July to September 2025) or a \
                 financial-year quarter like 2025/26 Q2 (the same months)"
            )
        };
        if t.contains('/') {
            let (fy, n) = t.split_once('Q').ok_or_else(bad)?;
            let fy: FinancialYear = fy.parse().map_err(|_| bad())?;
            let n: usize = n.parse().map_err(|_| bad())?;
            return (1..=4).contains(&n).then(|| fy.quarters()[n - 1]).ok_or_else(bad);
        }
        let t = t.replace('-', "");
        let (y, q) = t.split_once('Q').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let q: u32 = q.parse().map_err(|_| bad())?;
        if (1..=4).contains(&q) && Quarter::new(year, q).is_none() {
            return Err(format!("\"{s}\" is outside the years Alliance holds quarters of (1900 to 2200)"));
        }
        Quarter::new(year, q).ok_or_else(bad)
    }
}

/// A UK financial year, April to March, written `2025/26`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FinancialYear {
    /// The calendar year it starts in.
    pub start: i32,
}

impl FinancialYear {
    /// Its four quarters, April to June first.
    pub fn quarters(self) -> [Quarter; 4] {
        [
            Quarter { year: self.start, q: 2 },
            Quarter { year: self.start, q: 3 },
            Quarter { year: self.start, q: 4 },
            Quarter { year: self.start + 1, q: 1 },
        ]
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.start, (self.start + 1).rem_euclid(100))
    }
}

impl FromStr for FinancialYear {
    type Err = String;
    /// `2025/26`, `2025-26` or `2025`.
    fn from_str(s: &str) -> Result<FinancialYear, String> {
        let t = s.trim();
        let bad = || format!("\"{s}\" is not a financial year: expected e.g. 2025/26");
        let (start, end) = match t.split_once(['/', '-']) {
            Some((a, b)) => (a, Some(b)),
            None => (t, None),
        };
        let start: i32 = start.parse().map_err(|_| bad())?;
        if !(1900..=2200).contains(&start) {
            return Err(bad());
        }
        if let Some(end) = end {
            let end: i32 = end.parse().map_err(|_| bad())?;
            if end != (start + 1).rem_euclid(100) && end != start + 1 {
                return Err(bad());
            }
        }
        Ok(FinancialYear { start })
    }
}

/// The status of an action in the action plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionStatus {
    NotStarted,
    OnTrack,
    AtRisk,
    OffTrack,
    Complete,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 5] = [
        ActionStatus::NotStarted,
        ActionStatus::OnTrack,
        ActionStatus::AtRisk,
        ActionStatus::OffTrack,
        ActionStatus::Complete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::NotStarted => "not-started",
            ActionStatus::OnTrack => "on-track",
            ActionStatus::AtRisk => "at-risk",
            ActionStatus::OffTrack => "off-track",
            ActionStatus::Complete => "complete",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::NotStarted => "Not started",
            ActionStatus::OnTrack => "On track",
            ActionStatus::AtRisk => "At risk",
            ActionStatus::OffTrack => "Off track",
            ActionStatus::Complete => "Complete",
        }
    }

    /// Red, amber or green (blue for complete, grey for not started).
    pub fn rag(self) -> &'static str {
        match self {
            ActionStatus::NotStarted => "Grey",
            ActionStatus::OnTrack => "Green",
            ActionStatus::AtRisk => "Amber",
            ActionStatus::OffTrack => "Red",
            ActionStatus::Complete => "Blue",
        }
    }

    /// The GOV.UK tag modifier class for the RAG colour.
    pub fn tag_class(self) -> &'static str {
        match self {
            ActionStatus::NotStarted => "govuk-tag--grey",
            ActionStatus::OnTrack => "govuk-tag--green",
            ActionStatus::AtRisk => "govuk-tag--yellow",
            ActionStatus::OffTrack => "govuk-tag--red",
            ActionStatus::Complete => "govuk-tag--blue",
        }
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<ActionStatus, String> {
        let key = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        ActionStatus::ALL.into_iter().find(|a| a.as_str() == key).ok_or_else(|| {
            format!("unknown status \"{s}\": expected not-started, on-track, at-risk, off-track or complete")
        })
    }
}

/// The rule for an action's status, as shown on the action plan and the Board pack.
pub const STATUS_RULE: &str = "An action's status on a date is the one given by its latest progress update (or \
     status change) dated on or before that date; of two dated the same day, the one recorded later counts. An update \
     dated in the past sets the status from its date, even when it is recorded later. Before any update, an action \
     has the status it was added with.";

/// The status an action had at the end of `date` (`YYYY-MM-DD`) (see [`STATUS_RULE`]): of
/// its dated status changes `(effective date, new status)`, given in the order they were
/// recorded, the latest dated on or before `date` (of two on the same date, the one recorded
/// later); `initial` (the status it was added with) when there is none. The creation of the
/// action is not a change: a partner's "At risk" dated yesterday beats a status set when the
/// action was added today.
pub fn status_on(initial: ActionStatus, changes: &[(String, ActionStatus)], date: &str) -> ActionStatus {
    let mut sorted: Vec<&(String, ActionStatus)> = changes.iter().filter(|(d, _)| d.as_str() <= date).collect();
    // A stable sort keeps the order recorded among changes of the same date.
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.last().map(|(_, s)| *s).unwrap_or(initial)
}

/// The status an action has now: its latest-dated change whatever the date (see
/// [`status_on`]), or `initial`.
pub fn current_status(initial: ActionStatus, changes: &[(String, ActionStatus)]) -> ActionStatus {
    status_on(initial, changes, "9999-12-31")
}

/// The rule for escalating actions, as shown on the Board pack.
pub const ESCALATION_RULE: &str = "An action is escalated to the Board automatically when it existed at the end of \
     the quarter before and its status at the end of the quarter and at the end of the quarter before were both 'off \
     track' (from its dated updates), so an action added in the quarter is never escalated for this reason; every \
     item a Delivery Group meeting in the quarter marked for escalation is escalated. An action escalated for more \
     than one reason is listed once, with every reason.";

/// Whether an action is escalated for being off track two quarters running.
pub fn off_track_two_quarters(this_quarter_end: ActionStatus, last_quarter_end: ActionStatus) -> bool {
    this_quarter_end == ActionStatus::OffTrack && last_quarter_end == ActionStatus::OffTrack
}

/// Whether an action added on `created_on` (`YYYY-MM-DD`), with its initial status and its
/// dated status changes, is off track two quarters running at `quarter` ([`ESCALATION_RULE`]):
/// it existed at the end of the quarter before, and was off track at the end of each.
pub fn off_track_two_quarters_running(
    created_on: &str,
    initial: ActionStatus,
    changes: &[(String, ActionStatus)],
    quarter: Quarter,
) -> bool {
    let prev_end = quarter.previous().end_date();
    created_on <= prev_end.as_str()
        && off_track_two_quarters(
            status_on(initial, changes, &quarter.end_date()),
            status_on(initial, changes, &prev_end),
        )
}

/// The rule for overdue actions and milestones, as shown on every page that flags them.
pub const OVERDUE_RULE: &str = "An action is overdue when its due date has passed and its status is not \
     'complete'; a milestone is overdue when its due date has passed and it has not been marked done. On the Board \
     pack, 'passed' is as at the end of the quarter (or today, for the quarter in progress).";

/// Whether an action due on `due` with `status` on `as_of` is overdue on `as_of` (all
/// `YYYY-MM-DD`): due before it, and not complete. See [`OVERDUE_RULE`].
pub fn action_overdue(due: Option<&str>, status: ActionStatus, as_of: &str) -> bool {
    status != ActionStatus::Complete && due.is_some_and(|d| !d.is_empty() && d < as_of)
}

/// Whether a milestone due on `due` and done on `done_on` is overdue on `as_of`: due before
/// it and not done by then. See [`OVERDUE_RULE`].
pub fn milestone_overdue(due: Option<&str>, done_on: Option<&str>, as_of: &str) -> bool {
    due.is_some_and(|d| !d.is_empty() && d < as_of) && done_on.is_none_or(|done| done > as_of)
}

/// Which way is good for an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Higher is better (e.g. people reached).
    Up,
    /// Lower is better (e.g. offences per 1,000).
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Direction::Up => "Higher is better",
            Direction::Down => "Lower is better",
        }
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Direction, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "up" | "higher" | "higher is better" => Ok(Direction::Up),
            "down" | "lower" | "lower is better" => Ok(Direction::Down),
            _ => Err(format!("unknown direction \"{s}\": expected up (higher is better) or down (lower is better)")),
        }
    }
}

/// An indicator's status against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetStatus {
    OnTarget,
    WithinTolerance,
    OffTarget,
    NoTarget,
    NoData,
}

impl TargetStatus {
    pub fn label(self) -> &'static str {
        match self {
            TargetStatus::OnTarget => "On target",
            TargetStatus::WithinTolerance => "Within tolerance",
            TargetStatus::OffTarget => "Off target",
            TargetStatus::NoTarget => "No target set",
            TargetStatus::NoData => "No data",
        }
    }

    pub fn tag_class(self) -> &'static str {
        match self {
            TargetStatus::OnTarget => "govuk-tag--green",
            TargetStatus::WithinTolerance => "govuk-tag--yellow",
            TargetStatus::OffTarget => "govuk-tag--red",
            TargetStatus::NoTarget | TargetStatus::NoData => "govuk-tag--grey",
        }
    }
}

/// How an indicator's latest value compares with the same period a year earlier ([`trend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trend {
    Improving,
    Steady,
    Worsening,
    /// No trend yet: no latest value, no value for the same period a year earlier, or a
    /// value withheld from the reader.
    Unknown,
}

impl Trend {
    pub fn label(self) -> &'static str {
        match self {
            Trend::Improving => "Improving",
            Trend::Steady => "No change",
            Trend::Worsening => "Worsening",
            Trend::Unknown => "Not enough data",
        }
    }
}

/// The rule for an indicator's status, as shown on every page that shows one.
pub const INDICATOR_RULE: &str = "Status compares the latest value with the target. On target: the target is met or \
     beaten in the good direction. Within tolerance: it misses the target by no more than the tolerance (in the \
     indicator's unit). Off target: it misses by more than the tolerance. Trend compares the latest value with the \
     value of the same period a year earlier (the same quarter, or the same month for a monthly indicator), as crime \
     and demand are seasonal: improving if it moved in the good direction (down when lower is better, up when \
     higher is better), worsening if it moved the other way, no change if equal; not enough data if there is no \
     value for that period a year earlier.";

/// The status of `latest` against `target` with `tolerance` (absolute, in the indicator's
/// unit; a missing tolerance counts as zero). See [`INDICATOR_RULE`].
pub fn target_status(latest: Option<f64>, target: Option<f64>, tolerance: Option<f64>, dir: Direction) -> TargetStatus {
    let Some(value) = latest else { return TargetStatus::NoData };
    let Some(target) = target else { return TargetStatus::NoTarget };
    let tolerance = tolerance.unwrap_or(0.0).abs();
    // How far the value falls short of the target (positive = worse than target).
    let shortfall = match dir {
        Direction::Up => target - value,
        Direction::Down => value - target,
    };
    if shortfall <= 0.0 {
        TargetStatus::OnTarget
    } else if shortfall <= tolerance {
        TargetStatus::WithinTolerance
    } else {
        TargetStatus::OffTarget
    }
}

/// A period an indicator's value is for: a calendar quarter (`2025Q4`, quarterly and annual
/// indicators) or a month (`2025-08`, monthly ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValuePeriod {
    Quarter(Quarter),
    Month(Month),
}

impl ValuePeriod {
    fn parse(s: &str) -> Option<ValuePeriod> {
        match s.trim().parse::<Month>() {
            Ok(m) => Some(ValuePeriod::Month(m)),
            Err(_) => s.parse::<Quarter>().ok().map(ValuePeriod::Quarter),
        }
    }

    /// The same quarter or month one year earlier (`None` before the years a quarter may be).
    fn year_earlier(self) -> Option<ValuePeriod> {
        match self {
            ValuePeriod::Quarter(q) => Quarter::new(q.year - 1, q.q).map(ValuePeriod::Quarter),
            ValuePeriod::Month(m) => Some(ValuePeriod::Month(m.plus(-12))),
        }
    }
}

/// The trend of an indicator whose values are `(period, value)` in period order, the last
/// being the latest; see [`INDICATOR_RULE`].
///
/// The convention is year on year, as analysts of seasonal series compare: the latest value
/// is set against the value of the same period a year earlier (2025Q4 against 2024Q4,
/// 2025-08 against 2024-08), never against an earlier period of the same year, since crime
/// and demand rise and fall with the seasons (a fall from summer to autumn is no
/// improvement). The change is read through the indicator's direction: a fall is improving
/// when lower is better ([`Direction::Down`]) and worsening when higher is better
/// ([`Direction::Up`]), a rise the other way round. There is no tolerance band: only an
/// exactly equal value is "no change" (as before this rule; an indicator's tolerance is for its
/// target, not its trend). With no value for the period a year earlier, or a period that
/// is neither a quarter nor a month, the trend is [`Trend::Unknown`] ("not enough data"):
/// no verdict is made from other periods.
pub fn trend<P: AsRef<str>>(values_in_order: &[(P, f64)], dir: Direction) -> Trend {
    let Some((latest_period, latest)) = values_in_order.last() else { return Trend::Unknown };
    let Some(earlier_period) = ValuePeriod::parse(latest_period.as_ref()).and_then(ValuePeriod::year_earlier) else {
        return Trend::Unknown;
    };
    let year_earlier =
        values_in_order.iter().rev().find(|(p, _)| ValuePeriod::parse(p.as_ref()) == Some(earlier_period));
    let Some((_, earlier)) = year_earlier else { return Trend::Unknown };
    let change = latest - earlier;
    if !change.is_finite() {
        return Trend::Unknown;
    }
    let good = match dir {
        Direction::Up => change,
        Direction::Down => -change,
    };
    if good > 0.0 {
        Trend::Improving
    } else if good < 0.0 {
        Trend::Worsening
    } else {
        Trend::Steady
    }
}

/// The period a year before `period` (`2025Q4` → `2024Q4`, `2025-08` → `2024-08`): the one
/// [`trend`] compares the latest value with. `None` for a period that is neither a quarter
/// nor a month.
pub fn same_period_a_year_earlier(period: &str) -> Option<String> {
    ValuePeriod::parse(period).and_then(ValuePeriod::year_earlier).map(|p| match p {
        ValuePeriod::Quarter(q) => q.to_string(),
        ValuePeriod::Month(m) => m.to_string(),
    })
}

/// The spending position of a funding allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpendFlag {
    Underspend,
    OnProfile,
    Overspend,
}

impl SpendFlag {
    pub fn label(self) -> &'static str {
        match self {
            SpendFlag::Underspend => "Underspend",
            SpendFlag::OnProfile => "On profile",
            SpendFlag::Overspend => "Overspend",
        }
    }

    pub fn tag_class(self) -> &'static str {
        match self {
            SpendFlag::Underspend => "govuk-tag--yellow",
            SpendFlag::OnProfile => "govuk-tag--green",
            SpendFlag::Overspend => "govuk-tag--red",
        }
    }
}

/// The rule for flagging spend, as shown on the funding pages.
pub const SPEND_RULE: &str = "Spend to date in the financial year is compared with the pro-rata allocation: the \
     allocation times the quarters elapsed (April to June is 1 of 4). More than 10% below the pro-rata figure is an \
     underspend; more than 10% above it, or above the whole allocation, is an overspend.";

/// Flags `spent_to_date` (pence) against `allocation` (pence) after `quarters_elapsed` (1 to 4)
/// quarters of the financial year. See [`SPEND_RULE`].
pub fn spend_flag(allocation: i64, spent_to_date: i64, quarters_elapsed: u32) -> SpendFlag {
    let expected = allocation as f64 * f64::from(quarters_elapsed.clamp(1, 4)) / 4.0;
    let spent = spent_to_date as f64;
    if spent > allocation as f64 || spent > expected * 1.1 {
        SpendFlag::Overspend
    } else if spent < expected * 0.9 {
        SpendFlag::Underspend
    } else {
        SpendFlag::OnProfile
    }
}

/// The largest amount of money Alliance records: £10 trillion, in pence. Far above any
/// partnership's budget, and low enough that sums of many amounts cannot overflow.
pub const MAX_PENCE: i64 = 1_000_000_000_000_000;

/// Parses pounds as typed (`£1,234.50`, `1234.5`, `1234`) into pence, at most [`MAX_PENCE`].
pub fn parse_pounds(s: &str) -> Result<i64, String> {
    let t = s.trim().trim_start_matches('£').replace(',', "");
    let bad = || format!("\"{s}\" is not an amount of money: expected pounds, e.g. 1234.50");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let pounds: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    if pounds < 0 {
        return Err(bad());
    }
    let pence: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    let total = pounds.checked_mul(100).and_then(|p| p.checked_add(pence)).ok_or_else(bad)?;
    if total > MAX_PENCE {
        return Err(format!("\"{s}\" is more than the £10,000,000,000,000 Alliance records: check the amount"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_and_financial_years() {
        let q: Quarter = "2025Q3".parse().unwrap();
        assert_eq!(q, Quarter { year: 2025, q: 3 });
        assert_eq!(q.label(), "July to September 2025");
        assert_eq!(q.start_date(), "2025-07-01");
        assert_eq!(q.end_date(), "2025-09-30");
        assert_eq!(q.rolling_12_months().to_string(), "2024-10 to 2025-09");
        assert_eq!(q.previous().to_string(), "2025Q2");
        assert_eq!("2026Q1".parse::<Quarter>().unwrap().previous().to_string(), "2025Q4");
        assert_eq!(q.financial_year().to_string(), "2025/26");
        assert_eq!(q.financial_quarter(), 2);
        assert_eq!("2026q1".parse::<Quarter>().unwrap().financial_year().to_string(), "2025/26");
        assert_eq!("2026Q1".parse::<Quarter>().unwrap().financial_quarter(), 4);
        assert!("2025Q5".parse::<Quarter>().is_err_and(|e| e.contains("is not a quarter")));
        // A well-formed quarter of a year out of range says which years are held.
        assert!("2999Q4".parse::<Quarter>().is_err_and(|e| e.contains("1900 to 2200") && !e.contains("not a quarter")));
        assert!("Q3".parse::<Quarter>().is_err());
        assert_eq!("2025/26".parse::<FinancialYear>().unwrap().quarters()[3].to_string(), "2026Q1");
        assert!("2025/27".parse::<FinancialYear>().is_err());
        assert_eq!(Quarter::of_date("2025-12-31"), Some(Quarter { year: 2025, q: 4 }));
        // Money is reported in financial-year quarters: April to June 2026 is 2026/27 Q1.
        assert_eq!("2026Q2".parse::<Quarter>().unwrap().financial_label(), "2026/27 Q1");
        assert_eq!("2027Q1".parse::<Quarter>().unwrap().financial_label(), "2026/27 Q4");
        assert_eq!("2026/27 Q1".parse::<Quarter>(), Ok(Quarter { year: 2026, q: 2 }));
        assert_eq!("2026/27q4".parse::<Quarter>(), Ok(Quarter { year: 2027, q: 1 }));
        assert!("2026/27 Q5".parse::<Quarter>().is_err());
        assert!("2026/28 Q1".parse::<Quarter>().is_err());
    }

    #[test]
    fn pounds_are_read_to_the_penny_and_bounded() {
        assert_eq!(parse_pounds("£1,234.5"), Ok(123_450));
        assert_eq!(parse_pounds("25000"), Ok(2_500_000));
        assert!(parse_pounds("-5").is_err());
        assert!(parse_pounds("1.234").is_err());
        assert_eq!(parse_pounds("10000000000000"), Ok(MAX_PENCE));
        assert!(parse_pounds("10000000000000.01").is_err_and(|e| e.contains("more than")));
        // Would wrap past i64 if multiplied unchecked.
        assert!(parse_pounds("100000000000000000").is_err());
    }

    #[test]
    fn indicator_status_hand_worked() {
        // Lower is better, target 10, tolerance 1: 9.5 beats it, 10.8 misses by 0.8, 11.5 by 1.5.
        let d = Direction::Down;
        assert_eq!(target_status(Some(9.5), Some(10.0), Some(1.0), d), TargetStatus::OnTarget);
        assert_eq!(target_status(Some(10.0), Some(10.0), Some(1.0), d), TargetStatus::OnTarget);
        assert_eq!(target_status(Some(10.8), Some(10.0), Some(1.0), d), TargetStatus::WithinTolerance);
        assert_eq!(target_status(Some(11.5), Some(10.0), Some(1.0), d), TargetStatus::OffTarget);
        // Higher is better, target 100, no tolerance: 99 is off target.
        assert_eq!(target_status(Some(99.0), Some(100.0), None, Direction::Up), TargetStatus::OffTarget);
        assert_eq!(target_status(None, Some(100.0), None, Direction::Up), TargetStatus::NoData);
        assert_eq!(target_status(Some(1.0), None, None, Direction::Up), TargetStatus::NoTarget);
    }

    /// Values per quarter from `2024Q4` on, in order.
    fn quarters(values: &[f64]) -> Vec<(String, f64)> {
        let mut q = Quarter { year: 2024, q: 4 };
        values
            .iter()
            .map(|v| {
                let out = (q.to_string(), *v);
                q = Quarter { year: q.year + q.q as i32 / 4, q: q.q % 4 + 1 };
                out
            })
            .collect()
    }

    #[test]
    fn trend_compares_the_same_quarter_a_year_earlier() {
        let d = Direction::Down;
        assert_eq!(quarters(&[1.0, 2.0])[1].0, "2025Q1");
        // Robbery, 2025Q1..Q4: 184, 312, 276, 259. Against 2025Q1 (184) the 259 of Q4 looked
        // like a rise; the quarter to set it against is 2024Q4. At 301 that is a fall of 42:
        // improving, lower being better.
        let robbery = quarters(&[301.0, 184.0, 312.0, 276.0, 259.0]);
        assert_eq!(trend(&robbery, d), Trend::Improving);
        // No 2024Q4 value: no trend yet, whatever the quarters of 2025 did.
        assert_eq!(trend(&robbery[1..], d), Trend::Unknown);
        // Public order, 2025Q1..Q4: 1,823, 2,207, 2,392, 1,978. Against 2024Q4 = 2,105 the
        // 1,978 is 127 fewer: improving; against 1,902 it is 76 more: worsening, although it
        // fell 17% from Q3 (the rule is year on year, not quarter on quarter).
        let public_order = quarters(&[2105.0, 1823.0, 2207.0, 2392.0, 1978.0]);
        assert_eq!(trend(&public_order, d), Trend::Improving);
        assert_eq!(trend(&quarters(&[1902.0, 1823.0, 2207.0, 2392.0, 1978.0]), d), Trend::Worsening);
        assert_eq!(trend(&public_order[1..], d), Trend::Unknown);
        // Exactly the value of a year before: no change (there is no tolerance band).
        assert_eq!(trend(&quarters(&[1978.0, 1823.0, 2207.0, 2392.0, 1978.0]), d), Trend::Steady);
        assert_eq!(trend(&quarters(&[1978.5, 1978.0, 1978.0, 1978.0, 1978.0]), d), Trend::Improving);
        // Periods missing in between do not matter; only the one a year earlier does.
        assert_eq!(trend(&[("2024Q4", 301.0), ("2025Q4", 259.0)], d), Trend::Improving);
        assert_eq!(trend(&[("2024Q3", 100.0), ("2025Q4", 259.0)], d), Trend::Unknown);
        assert_eq!(trend::<&str>(&[], d), Trend::Unknown);
        assert_eq!(trend(&[("2025Q4", 259.0)], d), Trend::Unknown);
        assert_eq!(trend(&[("not a period", 1.0), ("also not", 2.0)], d), Trend::Unknown);
    }

    #[test]
    fn trend_reads_the_change_through_the_direction() {
        // Lower is better (crimes): 120 → 90 a year on is improving, 90 → 120 worsening.
        let fell = [("2024Q2", 120.0), ("2025Q2", 90.0)];
        let rose = [("2024Q2", 90.0), ("2025Q2", 120.0)];
        assert_eq!(trend(&fell, Direction::Down), Trend::Improving);
        assert_eq!(trend(&rose, Direction::Down), Trend::Worsening);
        // Higher is better (say, referrals taken up): the same moves read the other way.
        assert_eq!(trend(&fell, Direction::Up), Trend::Worsening);
        assert_eq!(trend(&rose, Direction::Up), Trend::Improving);
    }

    #[test]
    fn monthly_trend_compares_the_same_month_a_year_earlier() {
        let d = Direction::Down;
        // August 2025 (40) against August 2024 (52), not against July 2025 (31).
        let months = [("2024-08", 52.0), ("2025-06", 20.0), ("2025-07", 31.0), ("2025-08", 40.0)];
        assert_eq!(trend(&months, d), Trend::Improving);
        assert_eq!(trend(&months[1..], d), Trend::Unknown, "no August 2024: no trend yet");
        // January against the January before, across the turn of the year.
        assert_eq!(trend(&[("2025-01", 10.0), ("2026-01", 12.0)], d), Trend::Worsening);
        assert_eq!(same_period_a_year_earlier("2026-01").as_deref(), Some("2025-01"));
        assert_eq!(same_period_a_year_earlier("2025Q4").as_deref(), Some("2024Q4"));
        assert_eq!(same_period_a_year_earlier("1900Q1"), None, "before the years quarters are held");
        assert_eq!(same_period_a_year_earlier("2025"), None);
    }

    #[test]
    fn spend_flags_hand_worked() {
        // £40,000 a year, two quarters elapsed: £20,000 pro rata; ±10% is £18,000..£22,000.
        let a = 4_000_000;
        assert_eq!(spend_flag(a, 1_800_000, 2), SpendFlag::OnProfile);
        assert_eq!(spend_flag(a, 1_799_999, 2), SpendFlag::Underspend);
        assert_eq!(spend_flag(a, 2_200_000, 2), SpendFlag::OnProfile);
        assert_eq!(spend_flag(a, 2_200_001, 2), SpendFlag::Overspend);
        assert_eq!(spend_flag(a, 4_000_001, 4), SpendFlag::Overspend);
        assert_eq!(crate::format::money(123_456_789), "£1,234,567.89");
        assert_eq!(crate::format::money(5), "£0.05");
        assert_eq!(parse_pounds("£1,234.5"), Ok(123_450));
        assert_eq!(parse_pounds("20000"), Ok(2_000_000));
        assert!(parse_pounds("12.345").is_err());
        assert!(parse_pounds("abc").is_err());
    }

    #[test]
    fn status_history_and_escalation() {
        use ActionStatus::*;
        let changes = vec![("2025-05-10".to_string(), OffTrack), ("2025-02-01".to_string(), OnTrack)];
        assert_eq!(status_on(NotStarted, &changes, "2025-01-31"), NotStarted);
        assert_eq!(status_on(NotStarted, &changes, "2025-03-31"), OnTrack);
        assert_eq!(status_on(NotStarted, &changes, "2025-06-30"), OffTrack);
        assert!(off_track_two_quarters(OffTrack, OffTrack));
        assert!(!off_track_two_quarters(OffTrack, AtRisk));
        assert_eq!("Off track".parse::<ActionStatus>(), Ok(OffTrack));
    }

    #[test]
    fn a_dated_update_sets_the_status_from_its_date() {
        use ActionStatus::*;
        // Added today (2026-12-02) as not started; a partner's "At risk" dated yesterday is
        // recorded after it and counts from yesterday.
        let changes = vec![("2026-12-01".to_string(), AtRisk)];
        assert_eq!(status_on(NotStarted, &changes, "2026-12-02"), AtRisk);
        assert_eq!(current_status(NotStarted, &changes), AtRisk);
        // Two on the same date: the one recorded later wins, whatever its status.
        let same_day = vec![("2026-11-01".to_string(), OffTrack), ("2026-11-01".to_string(), OnTrack)];
        assert_eq!(status_on(NotStarted, &same_day, "2026-11-01"), OnTrack);
        // A late-recorded update dated earlier does not override a later-dated one.
        let late = vec![("2026-11-20".to_string(), OnTrack), ("2026-11-10".to_string(), OffTrack)];
        assert_eq!(current_status(NotStarted, &late), OnTrack);
        assert_eq!(status_on(NotStarted, &late, "2026-11-15"), OffTrack);
        assert_eq!(status_on(NotStarted, &late, "2026-11-09"), NotStarted);
    }

    #[test]
    fn escalation_needs_two_quarter_ends_off_track_and_the_action_in_both() {
        use ActionStatus::*;
        let q: Quarter = "2026Q4".parse().unwrap();
        // Off track since August, added in May: escalated.
        let off = vec![("2026-08-15".to_string(), OffTrack)];
        assert!(off_track_two_quarters_running("2026-05-01", OnTrack, &off, q));
        // The same history for an action added this quarter: not escalated, though its
        // (back-dated) updates say off track at the end of 2026Q3.
        assert!(!off_track_two_quarters_running("2026-10-02", OnTrack, &off, q));
        assert!(!off_track_two_quarters_running("2026-10-02", OffTrack, &[], q));
        // Added off track on the last day of 2026Q3 and still off track: escalated.
        assert!(off_track_two_quarters_running("2026-09-30", OffTrack, &[], q));
        // Back on track at the end of 2026Q3: not escalated.
        let recovered = vec![
            ("2026-08-15".to_string(), OffTrack),
            ("2026-09-01".to_string(), OnTrack),
            ("2026-10-15".to_string(), OffTrack),
        ];
        assert!(!off_track_two_quarters_running("2026-05-01", OnTrack, &recovered, q));
    }

    #[test]
    fn overdue_hand_worked() {
        use ActionStatus::*;
        assert!(action_overdue(Some("2026-03-31"), OnTrack, "2026-04-01"));
        assert!(!action_overdue(Some("2026-03-31"), OnTrack, "2026-03-31"), "due today is not overdue");
        assert!(!action_overdue(Some("2026-03-31"), Complete, "2026-06-30"));
        assert!(!action_overdue(None, OffTrack, "2026-06-30"));
        assert!(milestone_overdue(Some("2026-03-31"), None, "2026-04-01"));
        assert!(!milestone_overdue(Some("2026-03-31"), Some("2026-03-30"), "2026-04-01"));
        // Done after the date asked about: overdue as at that date.
        assert!(milestone_overdue(Some("2026-03-31"), Some("2026-05-02"), "2026-04-30"));
        assert!(!milestone_overdue(None, None, "2026-04-30"));
    }
}

/// How an indicator gets its values: entered (typed or uploaded) or computed from stored
/// data by one definition ([`ComputedIndicator`]: police, ED, a partner series or
/// referrals), never typed. Stored as `entered` or `computed:…` ([`computed`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndicatorSource {
    Entered,
    Computed(ComputedIndicator),
}

impl IndicatorSource {
    pub fn parse(s: &str) -> Result<IndicatorSource, String> {
        let s = s.trim();
        if s == "entered" {
            return Ok(IndicatorSource::Entered);
        }
        match s.strip_prefix("computed:") {
            Some(rest) => ComputedIndicator::parse(rest).map(IndicatorSource::Computed),
            None => Err(format!(
                "unknown indicator source \"{s}\": expected entered or computed:<source>;measure=<measure>;… \
                 (e.g. computed:police;measure=count;select=crime-type:Robbery)"
            )),
        }
    }

    pub fn is_computed(&self) -> bool {
        !matches!(self, IndicatorSource::Entered)
    }

    /// The computed definition, if any.
    pub fn computed(&self) -> Option<&ComputedIndicator> {
        match self {
            IndicatorSource::Entered => None,
            IndicatorSource::Computed(c) => Some(c),
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            IndicatorSource::Entered => "entered".into(),
            IndicatorSource::Computed(c) => c.as_string(),
        }
    }

    /// Checks a computed definition against the indicator's frequency
    /// ([`ComputedIndicator::validate`]); entered indicators have any frequency.
    pub fn validate(&self, frequency: Frequency) -> Result<(), String> {
        match self {
            IndicatorSource::Entered => Ok(()),
            IndicatorSource::Computed(c) => c.validate(frequency),
        }
    }
}

/// A strategy as held in a strategy file (`data/strategies/*.json`, read by
/// `alliance_ingest::strategy`, format `docs/formats/strategy.md`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StrategySeed {
    pub name: String,
    pub period_start: String,
    pub period_end: String,
    pub source: String,
    pub aim: String,
    pub priorities: Vec<PrioritySeed>,
    #[serde(default)]
    pub computed_indicators: Vec<IndicatorSeed>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PrioritySeed {
    pub name: String,
    pub description: String,
    pub commitments: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct IndicatorSeed {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub definition: String,
    pub unit: String,
    pub frequency: String,
    pub direction: String,
    /// The name of the priority it belongs to, if any.
    pub priority: Option<String>,
    pub source: String,
}

/// Who may post progress updates to (and change the status of) an action: administrators
/// and analysts on any action; partner users only on actions their own organisation owns;
/// board members on none (they read dashboards and packs).
pub fn can_update_action(role: crate::access::Role, user_org: i64, owner_org: i64) -> bool {
    use crate::access::Role;
    match role {
        Role::Administrator | Role::Analyst => true,
        Role::PartnerUser => user_org == owner_org,
        Role::BoardMember => false,
    }
}

/// Who may create and edit strategy, actions, indicators, funding and meetings.
pub fn can_edit_governance(role: crate::access::Role) -> bool {
    matches!(role, crate::access::Role::Administrator | crate::access::Role::Analyst)
}
