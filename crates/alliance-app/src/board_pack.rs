//! The quarterly Board pack use case: the pack's model, assembled from the data with no
//! manual step: a one-page summary (RAG counts, indicators off target, escalations), each
//! priority's actions and indicators, the funding position, the meetings of the quarter and
//! what changed since the last quarter (from the actions' history). `alliance_reports::
//! board_pack` renders it as one self-contained HTML document (inline CSS, SVG charts each
//! with its table, print styles), the same for `alliance board-pack` and the web app; the
//! governance pages of the web app show parts of the same model.
//!
//! Governance data is read only through the public paths of `alliance_db::governance`.

use std::collections::{BTreeMap, HashMap};

use alliance_core::access::AccessLevel;

use alliance_core::domain::Month;
use alliance_core::governance::{
    action_overdue, milestone_overdue, off_track_two_quarters_running, same_period_a_year_earlier, spend_flag,
    status_on, stream_year_positions, target_status, trend, ActionStatus, AllocationSpend, Direction, Frequency,
    IndicatorSource, Quarter, SpendFlag, StreamAllocation, StreamAmount, StreamYearPosition, TargetStatus, Trend,
    ALLOCATION_RULE, ESCALATION_RULE, INDICATOR_RULE, OVERDUE_RULE, SPEND_RULE, STATUS_RULE,
};
use alliance_db::governance::{Action, Allocation, FundingAmount, HistoryEntry, Indicator, Milestone, Spend};
use alliance_db::{Db, DbError};
use serde::Serialize;

/// How many actions had each status at the end of the quarter.
#[derive(Debug, Clone, Serialize)]
pub struct RagCount {
    pub status: ActionStatus,
    pub count: usize,
}

/// An indicator's position in the quarter.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub unit: String,
    pub definition: String,
    pub computed: bool,
    pub priority_id: Option<i64>,
    /// The latest value at or before the quarter, and its period.
    pub latest: Option<f64>,
    pub latest_period: Option<String>,
    pub target: Option<f64>,
    pub tolerance: Option<f64>,
    pub direction: Direction,
    pub status: TargetStatus,
    pub trend: Trend,
    /// The value the trend set the latest against (the same period a year earlier), and its
    /// period: kept so that the trend is withheld when that value is hidden from the reader.
    #[serde(skip)]
    pub trend_basis: Option<(String, f64)>,
    /// Values of the last four quarters up to this one, oldest first (`None`: no value).
    pub series: Vec<(String, Option<f64>)>,
    /// Why a computed value is missing, or what it was computed from.
    pub note: String,
    /// Set when the reader may not see every value (see [`BoardPack::restrict_indicators`]):
    /// the text shown in place of a hidden value.
    pub withheld: Option<String>,
    /// Which values the reader may not see.
    #[serde(skip)]
    pub hidden: Hidden,
    /// A computed indicator from a restricted source: whose access decides and what each
    /// figure was made from (`crate::indicators::Restriction`).
    #[serde(skip)]
    pub restriction: Option<crate::indicators::Restriction>,
}

/// Which values of an indicator a reader may not see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Hidden {
    #[default]
    Nothing,
    /// Whole numbers from 1 to this threshold − 1.
    Below(u64),
    All,
}

impl Hidden {
    /// Whether value `v` is hidden.
    pub fn hides(self, v: f64) -> bool {
        match self {
            Hidden::Nothing => false,
            Hidden::Below(t) => v.fract() == 0.0 && v >= 1.0 && v < t as f64,
            Hidden::All => true,
        }
    }
}

/// The indicator datasets whose entered values are restricted data in Alliance's governance
/// pages and Board pack: every partner domain whose data is about few, identifiable people
/// (education, youth justice, probation, health: `access::RESTRICTED_INDICATOR_DATASETS`),
/// the indicator's dataset told by `access::indicator_dataset` from its name. Their values
/// inherit the dataset's access (issue 14: indicator values belong to a dataset).
pub const RESTRICTED_INDICATOR_DATASETS: [&str; 4] = alliance_core::access::RESTRICTED_INDICATOR_DATASETS;

/// Every dataset whose access level decides what a reader's pack shows: the restricted
/// indicator datasets above, and the sources computed indicators may be made from (emergency
/// department assaults, partner series of any domain: `crate::indicators::restriction_of`).
pub const DATASETS_OF_INDICATORS: [&str; 6] = [
    "indicators:education",
    "indicators:youth-justice",
    "indicators:probation",
    "indicators:health",
    "ed-assaults",
    "indicators:other",
];

impl IndicatorRow {
    pub fn latest_text(&self) -> String {
        match (&self.withheld, self.latest) {
            (Some(w), None) => w.clone(),
            (_, v) => v.map(fmt_value).unwrap_or_else(|| "No value".into()),
        }
    }
    /// The series as shown: a dash for a quarter with no value.
    pub fn series_text(&self) -> Vec<(String, String)> {
        self.series.iter().map(|(p, v)| (p.clone(), self.value_text(*v))).collect()
    }

    /// One value of the series as shown (a dash for none, the withheld text for a hidden one).
    pub fn value_text(&self, v: Option<f64>) -> String {
        match (&self.withheld, v) {
            (_, Some(v)) => fmt_value(v),
            (Some(w), None) => w.clone(),
            (None, None) => "–".into(),
        }
    }

    /// The restricted dataset this indicator's values belong to, if any: entered values of an
    /// indicator of a restricted partner domain (computed ones come from open police data).
    pub fn restricted_dataset(&self) -> Option<&'static str> {
        let dataset = alliance_core::access::indicator_dataset(&self.name);
        (!self.computed && RESTRICTED_INDICATOR_DATASETS.contains(&dataset)).then_some(dataset)
    }

    /// Hides what a reader at `level` of the indicator's dataset may not see: nothing at record
    /// level; at aggregate level, whole-number values from 1 to the threshold − 1 ("fewer than
    /// N"); with no access, every value, its status and its trend ("not shown").
    fn restrict(&mut self, disclosure: &crate::Disclosure, level: alliance_core::access::AccessLevel) {
        use alliance_core::access::AccessLevel;
        let (hidden, text) = match level {
            AccessLevel::Record => return,
            AccessLevel::Aggregate => {
                (Hidden::Below(disclosure.threshold()), format!("fewer than {}", disclosure.threshold()))
            }
            AccessLevel::None => {
                let dataset = alliance_core::access::indicator_dataset(&self.name);
                let label = alliance_core::access::indicator_dataset_label(dataset);
                (Hidden::All, format!("Not shown: {label} data your organisation has no access to"))
            }
        };
        self.hidden = hidden;
        let mut hid = false;
        for (_, v) in &mut self.series {
            if v.is_some_and(|x| hidden.hides(x)) {
                *v = None;
                hid = true;
            }
        }
        if self.latest.is_some_and(|x| hidden.hides(x)) {
            self.latest = None;
            hid = true;
        }
        // The value a year earlier is not in the series shown, but the trend would tell of it.
        if self.trend_basis.as_ref().is_some_and(|(_, x)| hidden.hides(*x)) {
            self.trend = Trend::Unknown;
        }
        if hid || hidden == Hidden::All {
            self.withheld = Some(text);
            self.trend = Trend::Unknown;
            if self.latest.is_none() {
                self.status = TargetStatus::NoData;
            }
        }
    }
    /// Hides what a reader at `level` of a computed indicator's restricted source may not
    /// see: nothing at record level; at aggregate level, the figure of every period made from
    /// a count below the threshold (`crate::indicators::Restriction::publishable`); with no
    /// access, every figure.
    fn restrict_computed(
        &mut self,
        disclosure: &crate::Disclosure,
        level: alliance_core::access::AccessLevel,
        r: &crate::indicators::Restriction,
    ) {
        use alliance_core::access::AccessLevel;
        let threshold = disclosure.threshold();
        let text = match level {
            AccessLevel::Record => return,
            AccessLevel::Aggregate => format!("withheld (made from a count below {threshold})"),
            AccessLevel::None => format!("Not shown: {} data your organisation has no access to", r.label),
        };
        let hides = |period: &str| level == AccessLevel::None || !r.publishable(period, threshold);
        let mut hid = false;
        for (period, v) in &mut self.series {
            if v.is_some() && hides(period.as_str()) {
                *v = None;
                hid = true;
            }
        }
        if self.latest.is_some() && self.latest_period.as_deref().is_some_and(hides) {
            self.latest = None;
            hid = true;
        }
        if self.trend_basis.as_ref().is_some_and(|(period, _)| hides(period)) {
            self.trend = Trend::Unknown;
        }
        if hid || level == AccessLevel::None {
            self.hidden = Hidden::All;
            self.withheld = Some(text);
            self.trend = Trend::Unknown;
            if self.latest.is_none() {
                self.status = TargetStatus::NoData;
            }
        }
    }

    pub fn target_text(&self) -> String {
        match (self.target, self.tolerance) {
            (Some(t), Some(tol)) if tol != 0.0 => format!("{} (± {})", fmt_value(t), fmt_value(tol)),
            (Some(t), _) => fmt_value(t),
            (None, _) => "None set".into(),
        }
    }
}

/// Up to two decimals, trailing zeros dropped, thousands separated.
pub fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    // Thousands grouped on the digits themselves, so a value past i64 (1e19) is shown as it
    // is, not as 0.
    let mut out = format!("{sign}{}", alliance_core::format::group_digits(digits));
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// An action's position in the quarter.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRow {
    pub id: i64,
    pub title: String,
    pub commitment: String,
    pub priority_id: i64,
    pub owner_org_id: i64,
    pub owner: String,
    pub lead: String,
    /// The due date in words (`31 March 2027`), or "Not set".
    pub due: String,
    /// The due date, `YYYY-MM-DD`.
    pub due_date: Option<String>,
    pub status: ActionStatus,
    pub previous_status: Option<ActionStatus>,
    pub escalated: bool,
    /// Due before the pack's date and not complete ([`OVERDUE_RULE`]).
    pub overdue: bool,
}

/// A milestone of an action in the pack.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneRow {
    pub action_id: i64,
    pub action: String,
    pub owner: String,
    pub title: String,
    /// In words, or "Not set".
    pub due: String,
    /// In words, or "Not yet".
    pub done: String,
    /// Due before the pack's date and not done by then ([`OVERDUE_RULE`]).
    pub overdue: bool,
}

/// A decision the Board is asked to take, and the fact behind it.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRow {
    pub decision: String,
    pub because: String,
}

/// The rule for the decisions the pack asks of the Board.
pub const DECISIONS_RULE: &str = "The Board is asked to decide on every escalation (what it will do about it), \
     every funding stream with more allocated than available (what to cut or where more comes from), and every \
     overdue action (a new due date, or what is done instead).";

#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    /// Why it is escalated: "Delivery Group, 10 September 2025", "Off track two quarters running",
    /// or both joined with "; " when one action is escalated for more than one reason.
    pub source: String,
    pub text: String,
    pub action_id: Option<i64>,
    /// Each reason on its own (what `source` joins).
    pub reasons: Vec<String>,
}

/// Adds an escalation to the list, or, when it is about an action already escalated this
/// quarter (marked by the Delivery Group and also off track two quarters running, say), adds
/// its reason to that action's one entry, so an action appears once with every reason.
/// `note` is what the Delivery Group said (joined onto the entry's text); `None` when the
/// escalation is automatic.
fn add_escalation(list: &mut Vec<Escalation>, action: Option<(i64, &str)>, reason: String, note: Option<&str>) {
    let Some((id, title)) = action else {
        // A meeting item about no particular action.
        let text = note.unwrap_or_default().to_string();
        list.push(Escalation { source: reason.clone(), text, action_id: None, reasons: vec![reason] });
        return;
    };
    match list.iter_mut().find(|e| e.action_id == Some(id)) {
        Some(e) => {
            e.reasons.push(reason);
            e.source = e.reasons.join("; ");
            if let Some(note) = note {
                e.text = if e.text == title { format!("{title}: {note}") } else { format!("{}; {note}", e.text) };
            }
        }
        None => {
            let text = match note {
                Some(note) => format!("{title}: {note}"),
                None => title.to_string(),
            };
            list.push(Escalation { source: reason.clone(), text, action_id: Some(id), reasons: vec![reason] });
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PrioritySection {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub actions: Vec<ActionRow>,
    pub indicators: Vec<IndicatorRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AllocationRow {
    pub id: i64,
    pub stream: String,
    pub recipient: String,
    pub purpose: String,
    pub amount_pence: i64,
    pub spent_to_date_pence: i64,
    pub spent_in_quarter_pence: i64,
    pub evaluation_pence: i64,
    pub flag: SpendFlag,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamRow {
    pub id: i64,
    pub name: String,
    pub funder: String,
    pub available_pence: i64,
    pub allocated_pence: i64,
    /// Available less allocated, never below zero.
    pub unallocated_pence: i64,
    /// Allocated less available when that is more than zero.
    pub over_allocated_by_pence: i64,
    pub spent_to_date_pence: i64,
    /// More allocated than available ([`ALLOCATION_RULE`]).
    pub over_allocated: bool,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct FundingPosition {
    pub financial_year: String,
    pub quarters_elapsed: u32,
    pub streams: Vec<StreamRow>,
    pub allocations: Vec<AllocationRow>,
    pub available_pence: i64,
    pub allocated_pence: i64,
    pub spent_to_date_pence: i64,
    pub spent_in_quarter_pence: i64,
    pub evaluation_pence: i64,
    pub underspends: usize,
    pub overspends: usize,
    /// Streams with more allocated than available in the year.
    pub over_allocated: usize,
}

impl FundingPosition {
    /// Share of spend to date that went on evaluation, in percent.
    pub fn evaluation_share(&self) -> Option<f64> {
        (self.spent_to_date_pence > 0).then(|| self.evaluation_pence as f64 / self.spent_to_date_pence as f64 * 100.0)
    }
    /// The evaluation share as a figure and the words after it ("12.5%", "of spend on
    /// evaluation"); with no spend recorded there is no share ("No spend", "recorded yet").
    pub fn evaluation_share_parts(&self) -> (String, &'static str) {
        match self.evaluation_share() {
            Some(s) => (format!("{s:.1}%"), "of spend on evaluation"),
            None => ("No spend".into(), "recorded yet, so no share on evaluation"),
        }
    }
    pub fn evaluation_share_text(&self) -> String {
        let (figure, words) = self.evaluation_share_parts();
        format!("{figure} {words}")
    }
    pub fn over_allocated_streams(&self) -> Vec<&StreamRow> {
        self.streams.iter().filter(|s| s.over_allocated).collect()
    }
    /// Available less allocated over all streams, never below zero.
    pub fn unallocated_pence(&self) -> i64 {
        self.streams.iter().map(|s| s.unallocated_pence).sum()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub action_id: i64,
    pub action: String,
    pub on: String,
    pub what: String,
    pub by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeetingRow {
    pub body: String,
    pub held_on: String,
    pub title: String,
    pub attendees: Vec<String>,
    pub decisions: Vec<String>,
    pub escalations: Vec<String>,
    pub actions_arising: Vec<String>,
}

/// What the pack says when no commissioned service takes referrals through Alliance.
pub const NO_REFERRALS: &str =
    "No commissioned service takes referrals through Alliance, so this pack has no referral figures.";

/// How the quarter's referral figures are counted and protected, in words.
pub fn referrals_rule(r: &crate::referrals::QuarterFigures) -> String {
    format!(
        "Referrals made, accepted, declined, engaged (first contact) and closed between {} and {}: each step \
         counts in the quarter its date falls in. Counts from 1 to {} are shown as \"fewer than {}\", and other \
         counts \"withheld\" where they would let a hidden one be worked out from the totals. No person is shown.",
        alliance_core::format::date(&r.from.to_string()),
        alliance_core::format::date(&r.to.to_string()),
        r.threshold.saturating_sub(1),
        r.threshold
    )
}

/// The quarter's median waits in words (not published when the count behind them is not).
pub fn referral_waits_text(r: &crate::referrals::QuarterFigures) -> String {
    let median = |m: &Option<String>| match m {
        Some(m) => format!("median {m} days"),
        None => "median not published (too few referrals)".to_string(),
    };
    format!(
        "Decisions in the quarter: {} ({} from receipt). First engagements in the quarter: {} ({} from acceptance \
         to first contact).",
        r.decided,
        median(&r.decision_median),
        r.engaged,
        median(&r.engagement_median)
    )
}

/// The Board pack of a quarter.
#[derive(Debug, Clone, Serialize)]
pub struct BoardPack {
    pub partnership: String,
    /// The partnership's logo as a `data:` URI (the HTML pack is one self-contained file),
    /// shown on the cover when the partnership has one.
    #[serde(skip)]
    pub logo: Option<String>,
    /// The same logo as PNG bytes, for the documents that embed the picture itself (the PDF
    /// and the OpenDocument file).
    #[serde(skip)]
    pub logo_png: Option<Vec<u8>>,
    pub quarter: Quarter,
    pub previous: Quarter,
    pub strategy: String,
    pub rag: Vec<RagCount>,
    pub actions_total: usize,
    pub indicators: Vec<IndicatorRow>,
    pub escalations: Vec<Escalation>,
    pub priorities: Vec<PrioritySection>,
    /// Actions under no priority of the current strategy (should be none).
    pub funding: FundingPosition,
    pub changes: Vec<ChangeRow>,
    pub status_changes: usize,
    pub meetings: Vec<MeetingRow>,
    /// The milestones of the pack's actions.
    pub milestones: Vec<MilestoneRow>,
    pub decisions: Vec<DecisionRow>,
    /// The quarter's referral figures through the disclosure point (issue 17); `None` when no
    /// commissioned service takes referrals through Alliance.
    pub referrals: Option<crate::referrals::QuarterFigures>,
    /// The date overdue is judged at: the quarter's end, or today for the quarter in progress
    /// (`YYYY-MM-DD`).
    pub as_of: String,
    pub generated_at: String,
}

/// The pack's strategy line when none is stored. It names what any partnership can do (the
/// bundled Staffordshire strategy is only an example elsewhere), and it is printed in the pack.
pub const NO_STRATEGY: &str =
    "No strategy loaded: add the partnership's strategy on the Strategies page, or import it with alliance strategy import FILE";

impl BoardPack {
    /// Applies each restricted indicator's dataset access ([`IndicatorRow::restricted_dataset`]):
    /// `level_of` gives the reader's level of a dataset. Call it before showing the pack to
    /// anyone but a reader with the database's own rights; a Board pack file is shown to the
    /// Board, which sees no more than aggregate figures.
    pub fn restrict_indicators(
        &mut self,
        disclosure: &crate::Disclosure,
        level_of: impl Fn(&str) -> alliance_core::access::AccessLevel,
    ) {
        for row in &mut self.indicators {
            if let Some(r) = row.restriction.clone() {
                let level = r.level(&level_of);
                row.restrict_computed(disclosure, level, &r);
            } else if let Some(dataset) = row.restricted_dataset() {
                row.restrict(disclosure, level_of(dataset));
            }
        }
        // Each priority's section holds copies of its indicators' rows: the same rows,
        // restricted the same way (else a priority's table showed the hidden value).
        for section in &mut self.priorities {
            for row in &mut section.indicators {
                if let Some(restricted) = self.indicators.iter().find(|i| i.code == row.code) {
                    *row = restricted.clone();
                }
            }
        }
    }

    pub fn off_target(&self) -> Vec<&IndicatorRow> {
        self.indicators.iter().filter(|i| i.status == TargetStatus::OffTarget).collect()
    }
    pub fn rag_count(&self, status: ActionStatus) -> usize {
        self.rag.iter().find(|r| r.status == status).map(|r| r.count).unwrap_or(0)
    }
    pub fn indicator(&self, code: &str) -> Option<&IndicatorRow> {
        self.indicators.iter().find(|i| i.code == code)
    }
    pub fn indicator_rule(&self) -> &'static str {
        INDICATOR_RULE
    }
    pub fn spend_rule(&self) -> &'static str {
        SPEND_RULE
    }
    pub fn allocation_rule(&self) -> &'static str {
        ALLOCATION_RULE
    }
    pub fn escalation_rule(&self) -> &'static str {
        ESCALATION_RULE
    }
    pub fn status_rule(&self) -> &'static str {
        STATUS_RULE
    }
    pub fn overdue_rule(&self) -> &'static str {
        OVERDUE_RULE
    }
    pub fn decisions_rule(&self) -> &'static str {
        DECISIONS_RULE
    }
    pub fn no_referrals_text(&self) -> &'static str {
        NO_REFERRALS
    }
    /// The date overdue is judged at, in words.
    pub fn as_of_text(&self) -> String {
        alliance_core::format::date(&self.as_of)
    }
    /// Every action of the pack, priority by priority.
    pub fn all_actions(&self) -> impl Iterator<Item = &ActionRow> {
        self.priorities.iter().flat_map(|p| p.actions.iter())
    }
    /// The executive summary's sentence when the pack has nothing to report on (a new
    /// partnership: no actions, indicators, escalations or decisions), instead of a row of
    /// zeros a Board member would read as a quarter of no problems; `None` otherwise.
    pub fn nothing_to_report(&self) -> Option<&'static str> {
        let empty = self.actions_total == 0
            && self.indicators.is_empty()
            && self.escalations.is_empty()
            && self.decisions.is_empty();
        empty.then_some(
            "No action plan, indicators or decisions are held yet, so this pack has no delivery to report. \
             Add the strategy, its actions and its indicators on the Strategies, Actions and Indicators pages.",
        )
    }

    pub fn overdue_actions(&self) -> Vec<&ActionRow> {
        self.all_actions().filter(|a| a.overdue).collect()
    }
    pub fn overdue_milestones(&self) -> Vec<&MilestoneRow> {
        self.milestones.iter().filter(|m| m.overdue).collect()
    }
    /// The quarter as money is reported (`2025/26 Q3`).
    pub fn financial_quarter(&self) -> String {
        self.quarter.financial_label()
    }
    /// Assembles the pack of `quarter` from the database, its referral figures suppressed
    /// under the partnership profile's threshold (a Board pack goes to the Board, which sees
    /// referral figures only).
    pub async fn load(db: &Db, quarter: Quarter, partnership: &str) -> Result<BoardPack, DbError> {
        let threshold = db.partnership().await?.map(|p| p.threshold());
        let disclosure = threshold.and_then(|t| crate::Disclosure::new(t).ok()).unwrap_or_default();
        BoardPack::load_with(db, quarter, partnership, &disclosure).await
    }

    /// The quarter's referral figures, through `disclosure` (see [`BoardPack::referrals`]).
    async fn referral_lines(
        db: &Db,
        quarter: Quarter,
        disclosure: &crate::Disclosure,
    ) -> Result<Option<crate::referrals::QuarterFigures>, DbError> {
        let services: Vec<(String, String)> =
            db.referral_services().await?.into_iter().map(|s| (s.service.id.clone(), s.service.name.clone())).collect();
        if services.is_empty() {
            return Ok(None);
        }
        let day = |text: String| {
            chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|_| DbError::invalid("quarter", format!("{quarter} has no date {text}")))
        };
        let (from, to) = (day(quarter.start_date())?, day(quarter.end_date())?);
        let facts: Vec<_> = db.all_referrals().await?.into_iter().map(|s| s.facts).collect();
        Ok(Some(crate::referrals::quarter_figures(&facts, &services, from, to, disclosure)))
    }

    /// Assembles the pack of `quarter` from the database, its referral figures through
    /// `disclosure`.
    pub async fn load_with(
        db: &Db,
        quarter: Quarter,
        partnership: &str,
        disclosure: &crate::Disclosure,
    ) -> Result<BoardPack, DbError> {
        let referrals = BoardPack::referral_lines(db, quarter, disclosure).await?;
        let strategy = db.strategies().await?.into_iter().next();
        let (strategy_name, priorities) = match &strategy {
            Some(s) => (s.name.clone(), db.priorities(s.id).await?),
            None => (NO_STRATEGY.to_string(), Vec::new()),
        };
        let actions = db.actions().await?;
        let history = db.action_history(None).await?;
        let end = quarter.end_date();
        let previous = quarter.previous();
        let prev_end = previous.end_date();

        // Status of each action at the two quarter ends, from its history: the status it was
        // added with, then its dated changes (alliance_core::governance::status_on).
        let today = alliance_db::clock::today();
        let as_of = if today.as_str() < end.as_str() { today.clone() } else { end.clone() };
        let mut changes_by_action: HashMap<i64, Vec<(String, ActionStatus)>> = HashMap::new();
        let mut initial: HashMap<i64, ActionStatus> = HashMap::new();
        let mut created_on: HashMap<i64, String> = HashMap::new();
        for h in &history {
            if h.field == "created" {
                created_on.insert(h.action_id, h.effective_on.clone());
            }
            if h.field == "status" {
                if let Some(Ok(s)) = h.new_value.as_deref().map(str::parse::<ActionStatus>) {
                    if h.old_value.is_none() && !initial.contains_key(&h.action_id) {
                        initial.insert(h.action_id, s);
                    } else {
                        changes_by_action.entry(h.action_id).or_default().push((h.effective_on.clone(), s));
                    }
                }
            }
        }
        let mut rows: Vec<ActionRow> = Vec::new();
        let mut off_track_running: Vec<i64> = Vec::new();
        for a in &actions {
            let created = created_on.get(&a.id).cloned().unwrap_or_else(|| a.created_at.chars().take(10).collect());
            if created.as_str() > end.as_str() {
                continue;
            }
            let changes = changes_by_action.get(&a.id).map(Vec::as_slice).unwrap_or(&[]);
            let first = initial.get(&a.id).copied().unwrap_or(ActionStatus::NotStarted);
            let now = status_on(first, changes, &end);
            let before = (created.as_str() <= prev_end.as_str()).then(|| status_on(first, changes, &prev_end));
            if off_track_two_quarters_running(&created, first, changes, quarter) {
                off_track_running.push(a.id);
            }
            let mut row = action_row(a, now, before);
            row.overdue = action_overdue(a.due_date.as_deref(), status_on(first, changes, &as_of), &as_of);
            rows.push(row);
        }
        let rag = ActionStatus::ALL
            .into_iter()
            .map(|s| RagCount { status: s, count: rows.iter().filter(|r| r.status == s).count() })
            .collect();

        // Escalations.
        let meetings = db.meetings().await?;
        let items = db.meeting_items().await?;
        let attendees = db.meeting_attendees().await?;
        let start = quarter.start_date();
        let mut escalations = Vec::new();
        let mut meeting_rows = Vec::new();
        let mut in_quarter: Vec<_> = meetings
            .iter()
            .filter(|m| m.held_on.as_str() >= start.as_str() && m.held_on.as_str() <= end.as_str())
            .collect();
        in_quarter.sort_by(|a, b| a.held_on.cmp(&b.held_on).then(a.id.cmp(&b.id)));
        for m in &in_quarter {
            let body = body_label(&m.body);
            let of = |kind: &str| -> Vec<String> {
                items.iter().filter(|i| i.meeting_id == m.id && i.kind == kind).map(|i| i.text.clone()).collect()
            };
            if m.body == "delivery-group" {
                for i in items.iter().filter(|i| i.meeting_id == m.id && i.kind == "escalation") {
                    let reason = format!("{body}, {}", alliance_core::format::date(&m.held_on));
                    match i.action_id.and_then(|id| actions.iter().find(|a| a.id == id)) {
                        Some(a) => add_escalation(&mut escalations, Some((a.id, &a.title)), reason, Some(&i.text)),
                        None => add_escalation(&mut escalations, None, reason, Some(&i.text)),
                    }
                }
            }
            meeting_rows.push(MeetingRow {
                body: body.to_string(),
                held_on: m.held_on.clone(),
                title: m.title.clone(),
                attendees: attendees
                    .iter()
                    .filter(|a| a.meeting_id == m.id)
                    .map(|a| if a.person.is_empty() { a.org.clone() } else { format!("{} ({})", a.person, a.org) })
                    .collect(),
                decisions: of("decision"),
                escalations: of("escalation"),
                actions_arising: of("action"),
            });
        }
        // Actions the Delivery Group marked for escalation on the action plan in the quarter.
        for e in db.action_escalations().await?.iter().filter(|e| e.raised_on >= start && e.raised_on <= end) {
            let Some(r) = rows.iter_mut().find(|r| r.id == e.action_id) else { continue };
            r.escalated = true;
            let reason = format!("Delivery Group, {} (action plan)", alliance_core::format::date(&e.raised_on));
            add_escalation(&mut escalations, Some((r.id, &r.title)), reason, Some(&e.note));
        }
        for r in rows.iter_mut() {
            if off_track_running.contains(&r.id) {
                r.escalated = true;
                let title = format!("{} ({})", r.title, r.owner);
                let known = escalations.iter().any(|e| e.action_id == Some(r.id));
                // A new entry names the owner; an action already escalated keeps its text.
                let shown = if known { r.title.as_str() } else { title.as_str() };
                add_escalation(&mut escalations, Some((r.id, shown)), "Off track two quarters running".into(), None);
            }
        }

        // Milestones of the pack's actions, overdue as at the pack's date.
        let milestones: Vec<MilestoneRow> = db
            .all_milestones()
            .await?
            .iter()
            .filter_map(|m| rows.iter().find(|r| r.id == m.action_id).map(|r| milestone_row(m, r, &as_of)))
            .collect();

        // Indicators.
        let indicators = db.indicators().await?;
        let values = db.indicator_values().await?;
        let coverage = crate::forces::ForceCoverage::load(db).await?;
        let mut indicator_rows = Vec::new();
        for ind in &indicators {
            let entered = values.get(&ind.id).map(Vec::as_slice).unwrap_or(&[]);
            indicator_rows.push(indicator_row(db, ind, quarter, entered, &coverage).await?);
        }

        // Funding.
        let funding = funding_position(db, quarter).await?;

        // What changed since the last quarter.
        let titles: HashMap<i64, String> = actions.iter().map(|a| (a.id, a.title.clone())).collect();
        let changes: Vec<ChangeRow> = history
            .iter()
            .filter(|h| h.effective_on.as_str() > prev_end.as_str() && h.effective_on.as_str() <= end.as_str())
            .map(|h| change_row(h, &titles))
            .collect();
        let status_changes = rows.iter().filter(|r| r.previous_status.is_some_and(|p| p != r.status)).count();

        let sections = priorities
            .iter()
            .map(|p| PrioritySection {
                id: p.id,
                name: p.name.clone(),
                description: p.description.clone(),
                actions: rows.iter().filter(|r| r.priority_id == p.id).cloned().collect(),
                indicators: indicator_rows.iter().filter(|i| i.priority_id == Some(p.id)).cloned().collect(),
            })
            .collect();
        let decisions = decisions(&escalations, &funding, &rows);
        let logo = db.partnership_logo().await?;
        Ok(BoardPack {
            milestones,
            decisions,
            as_of,
            partnership: partnership.to_string(),
            logo: logo.as_ref().map(|l| l.data_uri()),
            logo_png: logo.map(|l| l.png),
            quarter,
            previous,
            strategy: strategy_name,
            actions_total: rows.len(),
            rag,
            indicators: indicator_rows,
            escalations,
            priorities: sections,
            funding,
            changes,
            status_changes,
            meetings: meeting_rows,
            referrals,
            generated_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        })
    }
}

fn milestone_row(m: &Milestone, action: &ActionRow, as_of: &str) -> MilestoneRow {
    // Done after the pack's date: not yet done as at that date.
    let done = m.done_on.as_deref().filter(|d| *d <= as_of);
    MilestoneRow {
        action_id: action.id,
        action: action.title.clone(),
        owner: action.owner.clone(),
        title: m.title.clone(),
        due: m.due_date.as_deref().map(alliance_core::format::date).unwrap_or_else(|| "Not set".into()),
        done: done.map(alliance_core::format::date).unwrap_or_else(|| "Not yet".into()),
        overdue: milestone_overdue(m.due_date.as_deref(), m.done_on.as_deref(), as_of),
    }
}

/// The decisions the pack asks of the Board ([`DECISIONS_RULE`]).
fn decisions(escalations: &[Escalation], funding: &FundingPosition, rows: &[ActionRow]) -> Vec<DecisionRow> {
    let mut out = Vec::new();
    for e in escalations {
        out.push(DecisionRow {
            decision: format!("What the Board will do about: {}", e.text),
            because: format!("Escalated ({})", e.source),
        });
    }
    for s in funding.streams.iter().filter(|s| s.over_allocated) {
        out.push(DecisionRow {
            decision: format!("How to fund the {} allocations beyond what is available", s.name),
            because: format!(
                "{} allocated against {} available in {}: over by {}",
                alliance_core::format::money(s.allocated_pence),
                alliance_core::format::money(s.available_pence),
                funding.financial_year,
                alliance_core::format::money(s.over_allocated_by_pence)
            ),
        });
    }
    for r in rows.iter().filter(|r| r.overdue) {
        out.push(DecisionRow {
            decision: format!("A new due date for \"{}\" ({}), or what is done instead", r.title, r.owner),
            because: format!("Overdue: due {}, {}", r.due, r.status.label().to_lowercase()),
        });
    }
    out
}

/// The latest quarter, not after `current`, with data every staff reader may see (police
/// data and entered indicator values; see [`latest_quarter_seen_by`], with no restricted
/// dataset visible). `current` when there is none.
pub async fn latest_quarter_with_data(db: &Db, current: Quarter, indicators_only: bool) -> Result<Quarter, DbError> {
    latest_quarter_seen_by(db, current, indicators_only, |_| AccessLevel::None).await
}

/// The latest quarter, not after `current`, with data the reader may see: a quarter all three
/// months of which have police data loaded, or with an indicator value entered (of an indicator
/// of a restricted partner domain, [`RESTRICTED_INDICATOR_DATASETS`], only when the reader has
/// at least aggregate access to that domain's dataset); a quarter all
/// three months of which the current emergency department files cover, when the reader has
/// at least aggregate access to `ed-assaults`; a quarter a partner series has a monthly or
/// quarterly value for, when the reader has at least aggregate access to the series' dataset
/// (`indicators:…`); and, unless `indicators_only`, with a change to an action, a meeting or
/// spend recorded. `current` when there is none. Pages and the pack open on it, so a computed
/// indicator is not shown "not computed" for a quarter whose data has not yet been published.
///
/// `level_of(dataset)` is the reader's access: a restricted dataset the reader may not see
/// never moves the default, so the quarter a page opens on does not tell them that the
/// dataset exists or how recent it is. The command line passes `Record` (the database's own
/// rights).
pub async fn latest_quarter_seen_by(
    db: &Db,
    current: Quarter,
    indicators_only: bool,
    level_of: impl Fn(&str) -> AccessLevel,
) -> Result<Quarter, DbError> {
    let found = quarters_seen_by(db, indicators_only, level_of).await?;
    Ok(found.into_iter().filter(|q| *q <= current).max().unwrap_or(current))
}

/// The quarters there are Board packs of: from the earliest quarter with any data held (of
/// every source, restricted ones too, and referrals: a pack shows a restricted figure as not
/// shown, and the bound names no source) or of the strategy's start, to `current`. A pack of
/// a quarter outside them would be empty: it is refused instead, naming these.
pub async fn pack_quarters(db: &Db, current: Quarter) -> Result<(Quarter, Quarter), DbError> {
    let mut found = quarters_seen_by(db, false, |_| AccessLevel::Record).await?;
    found.extend(db.strategies().await?.iter().filter_map(|s| Quarter::of_date(&s.period_start)));
    found.extend(
        db.all_referrals().await?.iter().filter_map(|r| Quarter::of_date(&r.facts.timeline.received_on().to_string())),
    );
    let first = found.into_iter().filter(|q| *q <= current).min().unwrap_or(current);
    Ok((first, current))
}

/// Every quarter with data the reader may see (see [`latest_quarter_seen_by`]), unsorted.
async fn quarters_seen_by(
    db: &Db,
    indicators_only: bool,
    level_of: impl Fn(&str) -> AccessLevel,
) -> Result<Vec<Quarter>, DbError> {
    let mut found: Vec<Quarter> = Vec::new();
    let complete = |months: &[Month]| -> Vec<Quarter> {
        let mut by_quarter: BTreeMap<Quarter, usize> = BTreeMap::new();
        for m in months {
            *by_quarter.entry(Quarter::of_month(*m)).or_default() += 1;
        }
        by_quarter.into_iter().filter(|(_, n)| *n == 3).map(|(q, _)| q).collect()
    };
    if level_of("ed-assaults") >= AccessLevel::Aggregate {
        found.extend(complete(&db.ed_months_covered().await?));
    }
    for (series, start, end) in db.partner_series_periods().await? {
        let (first, last) = (Quarter::of_month(start), Quarter::of_month(end));
        if first == last && level_of(alliance_core::access::indicator_dataset(&series)) >= AccessLevel::Aggregate {
            found.push(last);
        }
    }
    found.extend(complete(&db.police_months_covered().await?));
    let names: HashMap<i64, String> = db.indicators().await?.into_iter().map(|i| (i.id, i.name)).collect();
    for (id, list) in db.indicator_values().await? {
        let dataset = names.get(&id).map(|n| alliance_core::access::indicator_dataset(n));
        if dataset.is_some_and(|d| RESTRICTED_INDICATOR_DATASETS.contains(&d) && level_of(d) < AccessLevel::Aggregate) {
            continue;
        }
        found.extend(list.iter().filter_map(|v| period_quarter(&v.period)));
    }
    if !indicators_only {
        found.extend(db.action_history(None).await?.iter().filter_map(|h| Quarter::of_date(&h.effective_on)));
        found.extend(db.meetings().await?.iter().filter_map(|m| Quarter::of_date(&m.held_on)));
        found.extend(db.spend().await?.iter().filter_map(|s| s.quarter.parse::<Quarter>().ok()));
    }
    Ok(found)
}

/// The quarter of an indicator value's period: a quarter (`2025Q3`) or, for a monthly
/// indicator, a month (`2025-08`).
pub fn period_quarter(period: &str) -> Option<Quarter> {
    period.parse::<Quarter>().ok().or_else(|| period.parse::<Month>().ok().map(Quarter::of_month))
}

/// The months of an indicator value's period: a month (`2025-08`) or a quarter (`2025Q3`).
fn period_months(period: &str) -> Option<alliance_core::domain::MonthRange> {
    match period.parse::<Month>() {
        Ok(m) => Some(alliance_core::domain::MonthRange { from: m, to: m }),
        Err(_) => period.parse::<Quarter>().ok().map(Quarter::months),
    }
}

pub fn body_label(body: &str) -> &'static str {
    match body {
        "board" => "Executive Board",
        _ => "Delivery Group",
    }
}

pub fn action_row(a: &Action, status: ActionStatus, previous: Option<ActionStatus>) -> ActionRow {
    let today = alliance_db::clock::today();
    ActionRow {
        id: a.id,
        title: a.title.clone(),
        commitment: a.commitment.clone(),
        priority_id: a.priority_id,
        owner_org_id: a.owner_org_id,
        owner: a.owner_org.clone(),
        lead: a.lead_person.clone(),
        due: a.due_date.as_deref().map(alliance_core::format::date).unwrap_or_else(|| "Not set".into()),
        due_date: a.due_date.clone(),
        status,
        previous_status: previous,
        escalated: false,
        overdue: action_overdue(a.due_date.as_deref(), status, &today),
    }
}

pub fn change_row(h: &HistoryEntry, titles: &HashMap<i64, String>) -> ChangeRow {
    let label = |v: &Option<String>| -> String {
        match v.as_deref() {
            Some(s) => s.parse::<ActionStatus>().map(|st| st.label().to_string()).unwrap_or_else(|_| s.to_string()),
            None => "(none)".into(),
        }
    };
    let what = match h.field.as_str() {
        "created" => "Action added to the plan".to_string(),
        "update" => format!("Progress update: {}", h.new_value.clone().unwrap_or_default()),
        "status" if h.old_value.is_none() => format!("Status set to {}", label(&h.new_value)),
        "status" if h.old_value == h.new_value => format!("Status reported as {}", label(&h.new_value)),
        "status" => format!("Status changed from {} to {}", label(&h.old_value), label(&h.new_value)),
        "milestone" => format!("Milestone added: {}", h.new_value.clone().unwrap_or_default()),
        "escalated" => format!("Escalated to the Board: {}", h.new_value.clone().unwrap_or_default()),
        "milestone done" => format!("Milestone completed: {}", h.new_value.clone().unwrap_or_default()),
        f => format!("{} changed from {} to {}", f.replace('_', " "), label(&h.old_value), label(&h.new_value)),
    };
    ChangeRow {
        action_id: h.action_id,
        action: titles.get(&h.action_id).cloned().unwrap_or_default(),
        on: h.effective_on.clone(),
        what,
        by: h.by_user.clone(),
    }
}

/// The value of a computed indicator for a quarter, or why there is none
/// ([`crate::indicators::figure`]).
pub async fn computed_value(db: &Db, source: &IndicatorSource, q: Quarter) -> Result<(Option<f64>, String), DbError> {
    match source.computed() {
        None => Ok((None, String::new())),
        Some(def) => {
            let f = crate::indicators::figure(db, def, q.months()).await?;
            Ok((f.value, f.note))
        }
    }
}

async fn indicator_row(
    db: &Db,
    ind: &Indicator,
    quarter: Quarter,
    entered: &[alliance_db::governance::IndicatorValue],
    coverage: &crate::forces::ForceCoverage,
) -> Result<IndicatorRow, DbError> {
    let quarters =
        [quarter.previous().previous().previous(), quarter.previous().previous(), quarter.previous(), quarter];
    let mut series = Vec::new();
    let mut note = String::new();
    let mut restriction = None;
    // `history`: (period, value) in order, the latest last, holding the value of the same
    // period a year earlier when there is one (for the trend, which is year on year).
    let (latest, latest_period, history): (Option<f64>, Option<String>, Vec<(String, f64)>) = if let Some(def) =
        ind.source.computed()
    {
        // One definition, whatever the source (crate::indicators).
        let frequency = ind.frequency.parse::<Frequency>().unwrap_or(Frequency::Quarterly);
        let computed = crate::indicators::series(db, def, frequency, quarter, coverage).await?;
        series = computed.series;
        note = computed.note;
        restriction = computed.restriction;
        // The figure of the same period a year earlier, which the periods shown do not hold.
        let mut history = Vec::new();
        let earlier = computed.latest.as_ref().and_then(|(p, _)| same_period_a_year_earlier(p));
        if let Some((earlier, months)) = earlier.and_then(|p| period_months(&p).map(|m| (p, m))) {
            let f = crate::indicators::figure(db, def, months).await?;
            if let Some(v) = f.value {
                // Its parts decide whether a reader may see the trend, like a shown figure's.
                if let Some(r) = restriction.as_mut() {
                    r.parts.push((earlier.clone(), f.parts));
                }
                history.push((earlier, v));
            }
        }
        history.extend(computed.latest.clone());
        (computed.latest.as_ref().map(|l| l.1), computed.latest.map(|l| l.0), history)
    } else if ind.frequency.parse::<Frequency>() == Ok(Frequency::Monthly) {
        // A monthly indicator: its values are per month; the series is the six months to the
        // quarter's last, the latest value the latest month up to it.
        let by_month: BTreeMap<Month, &alliance_db::governance::IndicatorValue> =
            entered.iter().filter_map(|v| v.period.parse::<Month>().ok().map(|m| (m, v))).collect();
        let last_month = quarter.last_month();
        for k in (0..6).rev() {
            let m = last_month.plus(-k);
            series.push((m.to_string(), by_month.get(&m).map(|v| v.value)));
        }
        let upto: Vec<(&Month, &&alliance_db::governance::IndicatorValue)> =
            by_month.iter().filter(|(m, _)| **m <= last_month).collect();
        let last = upto.last().map(|(m, v)| (m.to_string(), v.value, v.note.clone()));
        if let Some((_, _, n)) = &last {
            note = n.clone();
        }
        (last.as_ref().map(|l| l.1), last.map(|l| l.0), upto.iter().map(|(m, v)| (m.to_string(), v.value)).collect())
    } else {
        let by_period: BTreeMap<&str, f64> = entered.iter().map(|v| (v.period.as_str(), v.value)).collect();
        for q in quarters {
            series.push((q.to_string(), by_period.get(q.to_string().as_str()).copied()));
        }
        let q = quarter.to_string();
        let upto: Vec<(&str, f64)> =
            by_period.iter().filter(|(p, _)| **p <= q.as_str()).map(|(p, v)| (*p, *v)).collect();
        let last = upto.last().copied();
        if let Some(v) = entered.iter().find(|v| Some(v.period.as_str()) == last.map(|l| l.0)) {
            note = v.note.clone();
        }
        (last.map(|l| l.1), last.map(|l| l.0.to_string()), upto.iter().map(|(p, v)| (p.to_string(), *v)).collect())
    };
    let trend_basis = latest_period
        .as_deref()
        .and_then(same_period_a_year_earlier)
        .and_then(|p| history.iter().find(|(h, _)| *h == p).cloned());
    Ok(IndicatorRow {
        id: ind.id,
        code: ind.code.clone(),
        name: ind.name.clone(),
        kind: ind.kind.clone(),
        unit: ind.unit.clone(),
        definition: ind.definition.clone(),
        computed: ind.source.is_computed(),
        priority_id: ind.priority_id,
        latest,
        latest_period,
        target: ind.target,
        tolerance: ind.tolerance,
        direction: ind.direction,
        status: target_status(latest, ind.target, ind.tolerance, ind.direction),
        trend: trend(&history, ind.direction),
        trend_basis,
        series,
        note,
        withheld: None,
        hidden: Hidden::Nothing,
        restriction,
    })
}

/// The position of every stream in every financial year with an amount or an allocation,
/// spend counted to the end of `as_at` (`alliance_core::governance::stream_year_positions`).
/// Records whose financial year or quarter does not parse (none are stored so) are left out.
pub fn stream_year_positions_of(
    amounts: &[FundingAmount],
    allocations: &[Allocation],
    spend: &[Spend],
    as_at: Quarter,
) -> Vec<StreamYearPosition> {
    let amounts: Vec<StreamAmount> = amounts
        .iter()
        .filter_map(|a| {
            let year = a.financial_year.parse().ok()?;
            Some(StreamAmount { stream_id: a.stream_id, year, pence: a.amount_pence })
        })
        .collect();
    let allocations: Vec<StreamAllocation> = allocations
        .iter()
        .filter_map(|a| {
            let year = a.financial_year.parse().ok()?;
            Some(StreamAllocation { allocation_id: a.id, stream_id: a.stream_id, year, pence: a.amount_pence })
        })
        .collect();
    let spend: Vec<AllocationSpend> = spend
        .iter()
        .filter_map(|s| {
            let quarter = s.quarter.parse().ok()?;
            Some(AllocationSpend { allocation_id: s.allocation_id, quarter, pence: s.amount_pence })
        })
        .collect();
    stream_year_positions(&amounts, &allocations, &spend, as_at)
}

/// The funding position of the financial year `quarter` falls in, up to `quarter`.
pub async fn funding_position(db: &Db, quarter: Quarter) -> Result<FundingPosition, DbError> {
    let fy = quarter.financial_year();
    let fy_text = fy.to_string();
    let elapsed = quarter.financial_quarter();
    let fy_quarters: Vec<String> = fy.quarters().iter().take(elapsed as usize).map(|q| q.to_string()).collect();
    let this = quarter.to_string();
    let streams = db.funding_streams().await?;
    let amounts = db.funding_amounts().await?;
    let allocations: Vec<_> = db.allocations().await?.into_iter().filter(|a| a.financial_year == fy_text).collect();
    let spend = db.spend().await?;
    let mut pos = FundingPosition { financial_year: fy_text.clone(), quarters_elapsed: elapsed, ..Default::default() };
    let names: HashMap<i64, String> = streams.iter().map(|s| (s.id, s.name.clone())).collect();
    for a in &allocations {
        let rows: Vec<_> =
            spend.iter().filter(|s| s.allocation_id == a.id && fy_quarters.contains(&s.quarter)).collect();
        let to_date: i64 = rows.iter().map(|s| s.amount_pence).sum();
        let in_quarter: i64 = rows.iter().filter(|s| s.quarter == this).map(|s| s.amount_pence).sum();
        let evaluation: i64 = rows.iter().map(|s| s.evaluation_pence).sum();
        let flag = spend_flag(a.amount_pence, to_date, elapsed);
        match flag {
            SpendFlag::Underspend => pos.underspends += 1,
            SpendFlag::Overspend => pos.overspends += 1,
            SpendFlag::OnProfile => {}
        }
        pos.allocated_pence += a.amount_pence;
        pos.spent_to_date_pence += to_date;
        pos.spent_in_quarter_pence += in_quarter;
        pos.evaluation_pence += evaluation;
        pos.allocations.push(AllocationRow {
            id: a.id,
            stream: names.get(&a.stream_id).cloned().unwrap_or_default(),
            recipient: match (&a.org, a.intervention_id) {
                (Some(o), Some(i)) => format!("{o} (intervention {i})"),
                (Some(o), None) => o.clone(),
                (None, Some(i)) => format!("Intervention {i}"),
                (None, None) => "Unassigned".into(),
            },
            purpose: a.purpose.clone(),
            amount_pence: a.amount_pence,
            spent_to_date_pence: to_date,
            spent_in_quarter_pence: in_quarter,
            evaluation_pence: evaluation,
            flag,
        });
    }
    let positions = stream_year_positions_of(&amounts, &allocations, &spend, quarter);
    for s in &streams {
        let Some(p) = positions.iter().find(|p| p.stream_id == s.id && p.year == fy) else { continue };
        pos.available_pence += p.amount;
        if p.over_allocated {
            pos.over_allocated += 1;
        }
        pos.streams.push(StreamRow {
            id: s.id,
            name: s.name.clone(),
            funder: s.funder.clone(),
            available_pence: p.amount,
            allocated_pence: p.allocated,
            unallocated_pence: p.unallocated,
            over_allocated_by_pence: p.over_by,
            spent_to_date_pence: p.spent,
            over_allocated: p.over_allocated,
        });
    }
    Ok(pos)
}

/// The colour of a status in the pack's charts (GOV.UK tag colours).
pub fn rag_fill(s: ActionStatus) -> &'static str {
    match s {
        ActionStatus::NotStarted => "#505a5f",
        ActionStatus::OnTrack => "#00703c",
        ActionStatus::AtRisk => "#f47738",
        ActionStatus::OffTrack => "#d4351c",
        ActionStatus::Complete => "#1d70b8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_formatted_for_people() {
        assert_eq!(fmt_value(12345.678), "12,345.68");
        assert_eq!(fmt_value(10.0), "10");
        assert_eq!(fmt_value(0.5), "0.5");
        assert_eq!(fmt_value(-0.001), "-0");
        assert_eq!(fmt_value(-1234.5), "-1,234.5");
        assert_eq!(fmt_value(100.0), "100");
        // Past i64: shown, not as 0.
        assert_eq!(fmt_value(1e19), "10,000,000,000,000,000,000");
    }
}
