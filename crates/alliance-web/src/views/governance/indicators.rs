//! The performance framework: `/indicators` (each with its status in the quarter and the
//! rule that decides it), `/indicators/{id}` (values per period as a chart and a table,
//! and the form to enter a value), and the staff forms to add an indicator
//! (`/indicators/new`) and to change its baseline, target and tolerance
//! (`/indicators/{id}/target`). Status, trend and computed values are the Board pack's
//! ([`BoardPack::load`]); a computed indicator is shown as computed and has no value form.

use alliance_core::analytics::sna::definition::SvGroup;
use alliance_core::domain::police::CRIME_TYPES;
use alliance_core::governance::{Quarter, INDICATOR_RULE};
use alliance_db::governance::Indicator;
use alliance_db::{Db, DbError};
use askama::Template;

use super::{FieldError, Form};
use crate::views::board_pack::{bar_chart, fmt_value, BoardPack, IndicatorRow};
use crate::views::Layout;

#[derive(Template)]
#[template(path = "governance/indicators.html")]
pub struct IndicatorsPage {
    pub layout: Layout,
    pub quarter: Quarter,
    pub rows: Vec<IndicatorRow>,
    pub can_upload: bool,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl IndicatorsPage {
    pub fn new(layout: Layout, pack: BoardPack, can_upload: bool, form: Form) -> IndicatorsPage {
        let errors = form.errors.clone();
        IndicatorsPage { layout, quarter: pack.quarter, rows: pack.indicators, can_upload, form, errors }
    }
    pub fn rule(&self) -> &'static str {
        INDICATOR_RULE
    }
}

/// One stored or computed value of an indicator.
pub struct ValueRow {
    pub period: String,
    pub value: String,
    pub note: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "governance/indicator.html")]
pub struct IndicatorPage {
    pub layout: Layout,
    pub indicator: Indicator,
    pub row: IndicatorRow,
    pub values: Vec<ValueRow>,
    pub chart: String,
    /// Entered indicators only, for staff and the owning organisation's partner users.
    pub can_enter: bool,
    /// Staff: offered the link to change the baseline, target and tolerance.
    pub can_edit: bool,
    pub form: Form,
    pub errors: Vec<FieldError>,
    /// The indicator's source in words: its computed definition, or "entered".
    pub source_text: String,
}

impl IndicatorPage {
    /// The page of `indicator` in `pack` (loaded for the quarter shown).
    pub async fn load(
        db: &Db,
        layout: Layout,
        indicator: Indicator,
        pack: &BoardPack,
        (can_enter, can_edit): (bool, bool),
        form: Form,
    ) -> Result<Option<IndicatorPage>, DbError> {
        let Some(row) = pack.indicators.iter().find(|r| r.id == indicator.id).cloned() else { return Ok(None) };
        let values: Vec<ValueRow> = if indicator.source.is_computed() {
            row.series
                .iter()
                .map(|(p, v)| ValueRow {
                    period: p.clone(),
                    value: match (v, &row.withheld) {
                        (Some(v), _) => fmt_value(*v),
                        (None, Some(w)) => w.clone(),
                        (None, None) => "Not computed".into(),
                    },
                    note: String::new(),
                    by: "Computed".into(),
                })
                .collect()
        } else {
            db.indicator_values()
                .await?
                .remove(&indicator.id)
                .unwrap_or_default()
                .into_iter()
                .map(|v| {
                    // A restricted dataset's value as the reader may see it (the row carries
                    // what the reader's level hides: BoardPack::restrict_indicators).
                    let value = if row.hidden.hides(v.value) {
                        row.withheld.clone().unwrap_or_default()
                    } else {
                        fmt_value(v.value)
                    };
                    ValueRow { period: v.period, value, note: v.note, by: v.entered_by }
                })
                .collect()
        };
        let bars: Vec<(String, f64, &str)> = if indicator.source.is_computed() {
            row.series.iter().filter_map(|(p, v)| v.map(|v| (p.clone(), v, "#1d70b8"))).collect()
        } else {
            values
                .iter()
                .filter_map(|v| v.value.replace(',', "").parse().ok().map(|x| (v.period.clone(), x, "#1d70b8")))
                .collect()
        };
        let chart = bar_chart(
            "indicator-chart",
            &format!("{} by period ({})", indicator.name, indicator.unit),
            &bars,
            fmt_value,
        );
        let can_enter = can_enter && !indicator.source.is_computed();
        let errors = form.errors.clone();
        let source_text = alliance_app::indicators::describe(db, &indicator.source).await?;
        Ok(Some(IndicatorPage {
            layout,
            indicator,
            row,
            values,
            chart,
            can_enter,
            can_edit,
            form,
            errors,
            source_text,
        }))
    }
    pub fn rule(&self) -> &'static str {
        INDICATOR_RULE
    }
    pub fn baseline_text(&self) -> String {
        match (self.indicator.baseline, &self.indicator.baseline_period) {
            (Some(b), Some(p)) => format!("{} ({p})", fmt_value(b)),
            (Some(b), None) => fmt_value(b),
            _ => "None set".into(),
        }
    }
    /// The stored definition line (`computed:…`), for the command line and strategy files.
    pub fn source_line(&self) -> String {
        self.indicator.source.as_string()
    }
    /// How a partner series feeds a period, for a partner series indicator.
    pub fn series_rule(&self) -> Option<&'static str> {
        matches!(
            self.indicator.source.computed().map(|c| &c.data),
            Some(alliance_core::governance::ComputedData::PartnerSeries { .. })
        )
        .then_some(alliance_core::governance::SERIES_RULE)
    }
}

/// The form to add an indicator to the performance framework (staff).
#[derive(Template)]
#[template(path = "governance/indicator_form.html")]
pub struct IndicatorFormPage {
    pub layout: Layout,
    pub form: Form,
    pub errors: Vec<FieldError>,
    pub organisations: Vec<(String, String)>,
    pub priorities: Vec<(String, String)>,
    /// What a police indicator can count: the serious violence definition's headline, one
    /// of its groups, or a data.police.uk crime type (`(value, label)`).
    pub crime_types: Vec<(String, String)>,
    /// The districts a police indicator may count (its area): the partnership's.
    pub districts: Vec<(String, String)>,
    /// What an ED indicator can count: all assaults, the definition's headline methods, or one
    /// method code.
    pub ed_options: Vec<(String, String)>,
    /// The partner series held (name, name with its number of values).
    pub series: Vec<(String, String)>,
    /// The services that take referrals.
    pub services: Vec<(String, String)>,
}

impl IndicatorFormPage {
    pub async fn load(db: &Db, layout: Layout, mut form: Form) -> Result<IndicatorFormPage, DbError> {
        crate::forms::ensure_submission_key(&mut form.values);
        let priorities = match db.strategies().await?.into_iter().next() {
            Some(s) => db.priorities(s.id).await?.into_iter().map(|p| (p.id.to_string(), p.name)).collect(),
            None => Vec::new(),
        };
        let errors = form.errors.clone();
        // The partnership's districts (a national deprivation file holds all of England's,
        // which would bury them), and the one an indicator already names; every district
        // when no profile says which are the partnership's.
        let area = db.partnership_area().await?;
        let chosen = form.value("district").to_string();
        let districts = db
            .districts()
            .await?
            .into_iter()
            .filter(|d| area.is_empty() || area.contains(&d.code) || d.code == chosen)
            .map(|d| (d.code.clone(), format!("{} ({})", d.name, d.code)))
            .collect();
        Ok(IndicatorFormPage {
            layout,
            form,
            errors,
            organisations: super::actions::organisation_options(db).await?,
            priorities,
            crime_types: police_options(),
            districts,
            ed_options: ed_options(),
            series: db
                .partner_indicator_names()
                .await?
                .into_iter()
                .map(|(name, n)| (name.clone(), format!("{name} ({n} values)")))
                .collect(),
            services: db
                .referral_services()
                .await?
                .into_iter()
                .map(|s| (s.service.id.clone(), format!("{} ({})", s.service.name, s.run_by_name)))
                .collect(),
        })
    }
}

/// The form to change an indicator's baseline, target and tolerance (staff; computed
/// indicators too: a target is not a value).
#[derive(Template)]
#[template(path = "governance/indicator_target.html")]
pub struct TargetPage {
    pub layout: Layout,
    pub indicator: Indicator,
    pub form: Form,
    pub errors: Vec<FieldError>,
}

impl TargetPage {
    pub fn new(layout: Layout, indicator: Indicator, form: Form) -> TargetPage {
        let errors = form.errors.clone();
        TargetPage { layout, indicator, form, errors }
    }
}

/// What a police indicator can count (`(value, label)`).
fn police_options() -> Vec<(String, String)> {
    let mut out = vec![(
        "serious-violence".to_string(),
        "Serious violence: the crime types in the serious violence definition's headline".to_string(),
    )];
    for g in SvGroup::ALL {
        out.push((format!("sv-group:{}", g.code()), format!("Serious violence group: {}", g.label())));
    }
    out.extend(CRIME_TYPES.iter().map(|t| (t.to_string(), format!("Crime type: {t}"))));
    out
}

/// What an ED indicator can count (`(value, label)`).
fn ed_options() -> Vec<(String, String)> {
    let mut out = vec![
        ("all".to_string(), "All assault attendances".to_string()),
        (
            "serious-violence".to_string(),
            "The assault methods in the serious violence definition's headline".to_string(),
        ),
    ];
    out.extend(
        alliance_ingest::ed::codes::ASSAULT_METHODS
            .iter()
            .map(|(code, label)| (format!("method:{code}"), format!("Assault method {code}: {label}"))),
    );
    out
}

/// A number as the forms show it: `430`, `12.5` (no grouping, so it reads back the same).
pub fn number_text(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// The target form's values for an indicator as stored.
pub fn target_values(ind: &Indicator) -> super::FormValues {
    super::FormValues::from([
        ("baseline".to_string(), number_text(ind.baseline)),
        ("baseline_period".to_string(), ind.baseline_period.clone().unwrap_or_default()),
        ("target".to_string(), number_text(ind.target)),
        ("tolerance".to_string(), number_text(ind.tolerance)),
        crate::forms::version_value(ind.version),
    ])
}
