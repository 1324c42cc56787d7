//! Counts of police records as JSON: the shape of `GET /api/v1/counts` and of
//! `alliance counts --format json`.

use alliance_core::domain::{CountField, CountRow};
use serde_json::{Map, Value};

/// `{"rows":[{"month":"2025-01","crime_type":"Robbery","count":41},…]}`: the CSV's columns
/// as object keys; a missing value is `null`.
pub fn counts_value(fields: &[CountField], rows: &[CountRow]) -> Value {
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
    serde_json::json!({ "rows": rows })
}

/// [`counts_value`] as text.
pub fn counts_json(fields: &[CountField], rows: &[CountRow]) -> String {
    counts_value(fields, rows).to_string()
}
