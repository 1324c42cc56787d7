//! Geometry: where things are, in metres.

pub mod containment;
pub mod grid;
pub mod projection;
