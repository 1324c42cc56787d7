//! Partner data: emergency department assaults (ISTV, the Cardiff Model) with their
//! geocoding, and partner indicator series. Who may read what is decided by the access
//! check above this crate; these methods only store and fetch.

pub mod ed;
pub mod gazetteer;
pub mod indicators;

use crate::Backend;

/// `INSERT INTO table (columns) VALUES (…), …` for `rows` rows of `width` columns. Columns
/// in `doubles` are bound as text and cast, since the `Any` driver declares a NULL parameter
/// with a type of its own: a cached PostgreSQL statement first run with a NULL double would
/// refuse a real double later. SQLite gets `?` placeholders (its lookup of `$N` names is
/// linear).
pub(crate) fn insert_sql(backend: Backend, table: &str, columns: &[&str], doubles: &[usize], rows: usize) -> String {
    let width = columns.len();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..width {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            let p = match backend {
                Backend::Sqlite => "?".to_string(),
                Backend::Postgres => format!("${n}"),
            };
            if doubles.contains(&c) {
                sql.push_str(&format!("CAST({p} AS DOUBLE PRECISION)"));
            } else {
                sql.push_str(&p);
            }
        }
        sql.push(')');
    }
    sql
}

/// A double as text for binding (see [`insert_sql`]).
pub(crate) fn double_text(v: Option<f64>) -> Option<String> {
    v.filter(|x| x.is_finite()).map(|x| format!("{x}"))
}
