//! Geometry: where things are, in metres.

pub mod adjacency;
pub mod containment;
pub mod gazetteer;
pub mod grid;
pub mod projection;
pub mod streets;
