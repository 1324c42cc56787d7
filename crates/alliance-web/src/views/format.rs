//! Number and time stamp formatting for pages: the one set of formatters in `alliance_core::format`.

pub use alliance_core::format::{change, count, money, rate, stamp_time};
