//! The Home Office success measures of the Serious Violence Duty and Violence Reduction
//! Units, as named indicators: each is computed when its data is loaded and is "no data"
//! otherwise, never 0 (a missing source is not an absence of violence).
//!
//! The three measures (Home Office, *Violence Reduction Unit interim guidance* and the
//! Serious Violence Duty statutory guidance, 2022): a reduction in (1) hospital admissions
//! for assault with a knife or sharp object, (2) knife and sharp-object enabled serious
//! violence recorded by the police, and (3) homicides (non-domestic), "especially among
//! those victims aged under 25" — so each also has an under-25 variant.

use serde::Serialize;

/// A success measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SuccessMeasure {
    pub key: &'static str,
    pub name: &'static str,
    /// The data the measure needs.
    pub source: &'static str,
    pub under_25: bool,
}

pub const SUCCESS_MEASURES: [SuccessMeasure; 6] = [
    SuccessMeasure {
        key: "hospital_knife_admissions",
        name: "Hospital admissions for assault with a knife or sharp object",
        source: "Hospital Episode Statistics admissions with ICD-10 X99",
        under_25: false,
    },
    SuccessMeasure {
        key: "hospital_knife_admissions_u25",
        name: "Hospital admissions for assault with a knife or sharp object, victims under 25",
        source: "Hospital Episode Statistics admissions with ICD-10 X99 and age",
        under_25: true,
    },
    SuccessMeasure {
        key: "police_knife_serious_violence",
        name: "Police-recorded knife and sharp-object enabled serious violence",
        source: "Police recorded crime with the knife or sharp instrument flag (ADR 160)",
        under_25: false,
    },
    SuccessMeasure {
        key: "police_knife_serious_violence_u25",
        name: "Police-recorded knife and sharp-object enabled serious violence, victims under 25",
        source: "Police recorded crime with the knife flag and victim age",
        under_25: true,
    },
    SuccessMeasure {
        key: "non_domestic_homicides",
        name: "Non-domestic homicides",
        source: "Home Office Homicide Index or police homicide records",
        under_25: false,
    },
    SuccessMeasure {
        key: "non_domestic_homicides_u25",
        name: "Non-domestic homicides, victims under 25",
        source: "Home Office Homicide Index or police homicide records with victim age",
        under_25: true,
    },
];

/// The value of a measure: a count, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IndicatorValue {
    Value { count: i64, period: String, provenance: String },
    NoData { reason: String },
}

impl IndicatorValue {
    /// The value as a report shows it: the count, or "no data".
    pub fn display(&self) -> String {
        match self {
            IndicatorValue::Value { count, .. } => crate::format::count(*count),
            IndicatorValue::NoData { .. } => "no data".into(),
        }
    }
}

/// The counts a loaded source can give for a measure: `(key, count, period, provenance)`.
pub type MeasureInput = (&'static str, i64, String, String);

/// Every measure with its value: those in `inputs` are counted, the others say which data
/// is missing.
pub fn evaluate_success_measures(inputs: &[MeasureInput]) -> Vec<(SuccessMeasure, IndicatorValue)> {
    SUCCESS_MEASURES
        .iter()
        .map(|m| {
            let value = match inputs.iter().find(|i| i.0 == m.key) {
                Some((_, count, period, provenance)) => {
                    IndicatorValue::Value { count: *count, period: period.clone(), provenance: provenance.clone() }
                }
                None => IndicatorValue::NoData {
                    reason: format!("needs {}; no such data is loaded (data.police.uk has no weapon flag, victim age or homicide detail)", m.source),
                },
            };
            (*m, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_data_is_no_data_never_zero() {
        let all = evaluate_success_measures(&[]);
        assert_eq!(all.len(), 6);
        assert!(all.iter().all(|(_, v)| v.display() == "no data"));
        let some = evaluate_success_measures(&[("non_domestic_homicides", 0, "2025".into(), "x".into())]);
        let h = some.iter().find(|(m, _)| m.key == "non_domestic_homicides").unwrap();
        assert_eq!(h.1.display(), "0", "a real zero from loaded data is shown as 0");
        assert_eq!(some.iter().filter(|(_, v)| v.display() == "no data").count(), 5);
    }
}
