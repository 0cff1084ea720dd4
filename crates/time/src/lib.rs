//! Time as oxiflux handles it, in one place for every crate: storage, both
//! query languages, the server, the configuration and the benchmark.
//!
//! Inside oxiflux a time is an `i64` of nanoseconds since the Unix epoch, UTC;
//! a duration an `i64` of nanoseconds. This crate holds what turns those into
//! text and back: the proleptic Gregorian calendar ([`civil`]), RFC 3339 in
//! each form InfluxDB writes it ([`rfc3339`]), and durations — the units every
//! grammar shares and Go's own duration syntax ([`duration`]).
//!
//! Not here: time zones and calendar arithmetic in a location (Flux's
//! `location`, InfluxQL's `tz()`, over `chrono-tz`), and the duration literals
//! of Flux and InfluxQL, whose grammars belong to their languages (both use the
//! units of [`duration`]).

pub mod civil;
pub mod duration;
pub mod rfc3339;

/// One microsecond, in nanoseconds.
pub const MICROSECOND: i64 = 1_000;
/// One millisecond, in nanoseconds.
pub const MILLISECOND: i64 = 1_000_000;
/// One second, in nanoseconds.
pub const SECOND: i64 = 1_000_000_000;
/// One minute, in nanoseconds.
pub const MINUTE: i64 = 60 * SECOND;
/// One hour, in nanoseconds.
pub const HOUR: i64 = 60 * MINUTE;
/// One day of 24 hours, in nanoseconds.
pub const DAY: i64 = 24 * HOUR;
/// One week of 7 days, in nanoseconds.
pub const WEEK: i64 = 7 * DAY;

/// The time now, in nanoseconds since the epoch (0 before 1970, `i64::MAX`
/// after 2262: neither happens on a working clock).
pub fn now_ns() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Whole seconds and the nanoseconds past them (always in `0..1e9`, also for
/// times before the epoch).
pub fn split_seconds(ns: i64) -> (i64, u32) {
    (ns.div_euclid(SECOND), ns.rem_euclid(SECOND) as u32)
}
