//! View models (askama template structs) and the SVG charts they embed.

pub mod board_pack;
pub mod chart;
pub mod dashboard;
pub mod evaluation_report;
pub mod format;
pub mod imports;
pub mod sna;
pub mod interventions;

/// What every page's layout needs.
pub struct Layout {
    pub partnership: String,
    /// The path of the current page, to mark the navigation.
    pub path: &'static str,
}

impl Layout {
    pub fn new(state: &crate::AppState, path: &'static str) -> Layout {
        Layout { partnership: state.partnership.clone(), path }
    }
}
