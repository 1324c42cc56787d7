//! The Strategic Needs Assessment on the web: the page around the report body (the filter
//! form). The report's model is `alliance_app::sna`; its body, file and tables are rendered
//! by `alliance_reports::sna`, the same for the page and for `alliance sna`.

pub mod page;

pub use alliance_app::sna::{EdPermission, EdSection, SnaReport, SnaRequest};
