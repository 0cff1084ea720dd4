//! Checks and notification rules as InfluxDB 2.7 defines them: their bodies
//! read and checked, and the Flux task each one runs, generated from the
//! body exactly as 2.7 generates it (so a check made by the 2.x UI, the
//! `influx` CLI or a template runs the same here).
//!
//! Nothing here stores or runs anything: the server keeps the bodies and
//! their tasks; the task scheduler runs the generated Flux.

mod build;
pub mod check;
mod duration;
pub mod endpoint;
pub mod rule;

pub use duration::Duration;

/// A body that is not a valid check or rule, with InfluxDB's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(msg.into()))
}

/// A body's string field, empty when absent.
pub(crate) fn text(v: &serde_json::Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// A body's duration field (`"1h30m"`), `None` when absent or empty.
pub(crate) fn duration(v: &serde_json::Value, key: &str) -> Result<Option<Duration>, Invalid> {
    match &v[key] {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) if s.is_empty() => Ok(None),
        serde_json::Value::String(s) => Duration::parse(s)
            .map(Some)
            .ok_or_else(|| Invalid(format!("{key} {s:?} is not a duration, like 1m or 1h30m"))),
        other => invalid(format!("{key} must be a duration string, like 1m, not {other}")),
    }
}
