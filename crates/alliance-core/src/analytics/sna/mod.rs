//! The serious violence lens and the Strategic Needs Assessment's analytics: the definition
//! as data, monthly series, seasonality, places and deprivation, concentration, times,
//! outcomes, comparisons and the plain-English findings. Pure functions over plain values.

pub mod compare;
pub mod definition;
pub mod ed;
pub mod findings;
pub mod outcomes;
pub mod places;
pub mod series;
pub mod success;
pub mod times;
