//! Domain types: validated newtypes ("parse, don't validate") shared by every layer.

pub mod area;
pub mod counts;
pub mod intervention;
pub mod month;
pub mod place;
pub mod police;

pub use area::{DistrictCode, LsoaCode, LsoaVintage};
pub use counts::{CountField, CountFilter, CountRow};
pub use month::{Month, MonthRange};
pub use police::{street_of_location, ForceSlug, PoliceFileKind, PoliceOutcome, StreetCrime};
