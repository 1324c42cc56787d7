//! Pure analytics over plain slices, shared by the CLI, the web app and the reports.

pub mod comparison;
pub mod evaluation;
pub mod poisson;
pub mod sna;
pub mod spatial;
pub mod suppression;

/// What the analytics' unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    /// Whether `a` is within `tol` of `b`.
    pub(crate) fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }
}
