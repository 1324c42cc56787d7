//! Counts of police records, grouped: the use case behind `alliance counts` and
//! `GET /api/v1/counts`, and their JSON shape.
//!
//! A count covers the partnership's area unless the caller names districts or asks for every
//! record: on a database that holds other forces' data too (a region, the national archive),
//! counting everything would show a Staffordshire analyst England and Wales as Staffordshire.
//! The area is that of the map, the SNA and the dashboard ([`Db::partnership_area`]).

use alliance_core::domain::{CountField, CountFilter, CountRow, DistrictCode};
use alliance_db::Db;
use serde_json::{Map, Value};

use crate::{bounds, AppError};

/// Which records a count covers when the caller names no district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The partnership's districts (every record when there is no profile, or none of its
    /// districts' LSOAs is held; a count then refuses: [`resolve`]).
    #[default]
    Partnership,
    /// Every record: other areas' and those with no location too.
    Everywhere,
}

/// The districts a count covers: those `asked` for, else by `scope`. Empty means every record.
/// A district asked for that no stored LSOA lies in is refused ([`bounds::districts_held`]):
/// its count could only be an empty table, which reads as no crime rather than no area data.
pub async fn districts(db: &Db, asked: Vec<DistrictCode>, scope: Scope) -> Result<Vec<DistrictCode>, AppError> {
    if !asked.is_empty() {
        let codes: Vec<String> = asked.iter().map(|d| d.to_string()).collect();
        bounds::districts_held(db, "district", &codes).await?;
        return Ok(asked);
    }
    if scope == Scope::Everywhere {
        return Ok(asked);
    }
    let area = db.partnership_area().await?;
    area.iter()
        .map(|code| code.parse().map_err(|e| AppError::internal(format!("a stored district code {code:?}: {e}"))))
        .collect()
}

/// The filter as a count applies it: its period and crime type checked against the data held
/// ([`bounds`]: a reversed period, months not held or a crime type no record carries are
/// refused rather than answered with an empty table), its districts resolved by `scope`.
pub async fn resolve(db: &Db, filter: CountFilter, scope: Scope) -> Result<CountFilter, AppError> {
    bounds::period_held(db, filter.from, filter.to).await?;
    // Counts are of police records alone: a period asked of a database with none is no data,
    // not months of no crime (`bounds::period` lets it pass for reports that have other data).
    if (filter.from.is_some() || filter.to.is_some()) && db.police_months_covered().await?.is_empty() {
        return Err(AppError::invalid(
            if filter.from.is_some() { "from" } else { "to" },
            "no police data is held yet, so no month can be counted: import police files first",
        ));
    }
    bounds::crime_type(db, filter.crime_type.as_deref()).await?;
    let asked_none = filter.districts.is_empty();
    let districts = districts(db, filter.districts, scope).await?;
    if asked_none && districts.is_empty() && scope == Scope::Partnership {
        // A profile whose districts have no LSOA held: counting every record instead would
        // pass whatever forces' data is held (another force's files, the national archive)
        // off as the partnership's. (The dashboard counts them under a warning that says so.)
        if let Some(profile) = db.partnership().await?.filter(|p| !p.districts.is_empty()) {
            let codes: Vec<String> = profile.districts.iter().map(|d| d.to_string()).collect();
            return Err(AppError::invalid(
                "district",
                format!(
                    "no district was named, and no LSOA of the partnership's districts ({}) is held, so no record \
                     can be placed in its area: import their area files (deprivation or boundary files) first, or \
                     ask for every record held, wherever it lies (area=everywhere; --everywhere on the command line)",
                    codes.join(", ")
                ),
            ));
        }
    }
    Ok(CountFilter { districts, ..filter })
}

/// Counts `fields` over the records `filter` selects, checked and its districts resolved by
/// `scope` first ([`resolve`]).
/// Returns the filter as applied (its districts say what was counted) with the rows.
pub async fn count(
    db: &Db,
    fields: &[CountField],
    filter: CountFilter,
    scope: Scope,
) -> Result<(CountFilter, Vec<CountRow>), AppError> {
    let filter = resolve(db, filter, scope).await?;
    let rows = db.counts(fields, &filter).await?;
    Ok((filter, rows))
}

/// `{"districts":["E06000021"],"rows":[{"month":"2025-01","crime_type":"Robbery","count":41},…]}`:
/// the districts counted (empty: every record), then the CSV's columns as object keys; a
/// missing value is `null`.
pub fn counts_value(fields: &[CountField], filter: &CountFilter, rows: &[CountRow]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut object = Map::new();
            for (field, value) in fields.iter().zip(&r.values) {
                object.insert(field.column_name().into(), value.clone().map_or(Value::Null, Value::String));
            }
            object.insert("count".into(), Value::from(r.count));
            Value::Object(object)
        })
        .collect();
    let districts: Vec<String> = filter.districts.iter().map(|d| d.to_string()).collect();
    serde_json::json!({ "districts": districts, "rows": rows })
}

/// [`counts_value`] as text.
pub fn counts_json(fields: &[CountField], filter: &CountFilter, rows: &[CountRow]) -> String {
    counts_value(fields, filter, rows).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_names_the_districts_counted_and_keeps_missing_values() {
        let filter = CountFilter { districts: vec!["E06000021".parse().expect("a code")], ..CountFilter::default() };
        let rows = [CountRow { values: vec![Some("2025-01".into()), None], count: 3 }];
        let value = counts_value(&[CountField::Month, CountField::Lsoa], &filter, &rows);
        assert_eq!(value["districts"], serde_json::json!(["E06000021"]));
        assert_eq!(value["rows"][0]["month"], "2025-01");
        assert!(value["rows"][0]["lsoa"].is_null());
        assert_eq!(value["rows"][0]["count"], 3);
        let everywhere = counts_value(&[CountField::Month], &CountFilter::default(), &[]);
        assert_eq!(everywhere["districts"], serde_json::json!([]));
    }
}
