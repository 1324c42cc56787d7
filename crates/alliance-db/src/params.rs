//! Numbered parameters (`$1`, `$2`, …) for a query whose conditions are chosen at run time,
//! the one way Alliance builds them: each value is pushed as it is used and its placeholder
//! comes back, so the numbers cannot drift from the binds.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

/// A query of either backend with its values bound so far: what the helpers that bind a
/// record's columns in one place take and give back.
pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// The text values of a query being built, in order.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: Vec<String>,
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Parameters numbered after `n` placeholders already written in the query by hand
    /// (the caller binds those first, then calls [`Params::bind`] with `skip = n`).
    pub fn after(n: usize) -> Params {
        Params { values: vec![String::new(); n] }
    }

    /// Adds a value and returns its placeholder, e.g. `$3`.
    pub fn push(&mut self, value: impl Into<String>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Adds every value and returns their placeholders for an `IN (…)` list: `$3, $4, $5`.
    pub fn list<I, S>(&mut self, values: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        values.into_iter().map(|v| self.push(v)).collect::<Vec<_>>().join(", ")
    }

    /// Binds the values pushed (not the first `n` of [`Params::after`], which the caller
    /// binds itself, before calling this).
    pub fn bind<'q>(&'q self, mut query: AnyQuery<'q>, skip: usize) -> AnyQuery<'q> {
        for v in self.values.iter().skip(skip) {
            query = query.bind(v.as_str());
        }
        query
    }

    /// The values in the order of their placeholders (for a driver other than `sqlx`).
    pub(crate) fn values(&self) -> &[String] {
        &self.values
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// `$from, $from+1, …` for `n` values bound by the caller.
pub fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_values() {
        let mut p = Params::new();
        assert_eq!(p.push("2025-01"), "$1");
        assert_eq!(p.list(["a", "b"]), "$2, $3");
        assert_eq!(p.len(), 3);
        let mut q = Params::after(2);
        assert_eq!(q.push("x"), "$3");
        assert_eq!(placeholders(4, 3), "$4, $5, $6");
        assert_eq!(placeholders(1, 0), "");
    }
}
