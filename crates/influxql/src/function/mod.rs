//! InfluxQL's functions that are not aggregates: math functions (a value
//! in, a value out) and transformations (a series in, a series out).

pub(crate) mod math;
pub(crate) mod technical;
pub(crate) mod transform;

mod holt_winters;
