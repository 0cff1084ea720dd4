//! `contrib/tomhollingworth/events.duration`: how long each row lasted.

use arrow::datatypes::DataType;

use crate::args::fail;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, array_of};
use flux_runtime::value::Value;

/// `events.duration`: how long each row's event lasts — until the next row's
/// time, or for the last row until `stop` (else its `stopColumn`) — in `unit`s.
pub(super) fn events_duration(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let text = |n: &str, default: &str| match a.get(n) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => fail(format!("{n} must be a string, got {}", v.type_name())),
    };
    // One second unless asked (as Flux runs it; its page says 1ns).
    let unit = match a.get("unit") {
        None => 1_000_000_000,
        Some(Value::Duration(d)) if d.months == 0 && d.signed().1 > 0 => d.signed().1,
        Some(v) => return fail(format!("unit must be a positive duration, got {v}")),
    };
    let (column, time_col, stop_col) =
        (text("columnName", "duration")?, text("timeColumn", "_time")?, text("stopColumn", "_stop")?);
    let stop = match a.get("stop") {
        None => None,
        Some(v) => Some(crate::universe::bound(i, v, "stop")?),
    };
    let input = crate::args::stream(a, "tables")?;
    Ok(Value::Stream(Stream::per_table("events.duration", input, move |_, t| {
        let times = flux_runtime::table::times_of(t.need(&time_col)?, &time_col)?;
        let stops = match (stop, t.column(&stop_col)) {
            (Some(_), _) | (None, None) => None,
            (None, Some(c)) => Some(flux_runtime::table::times_of(c, &stop_col)?),
        };
        let mut out = Vec::with_capacity(times.len());
        for (r, at) in times.iter().enumerate() {
            let Some(at) = at else {
                out.push(Value::Null);
                continue;
            };
            let until = match times.get(r + 1) {
                Some(next) => *next,
                None => stop.or_else(|| stops.as_ref().and_then(|s| s[r])),
            };
            let Some(until) = until else {
                return fail(format!("events.duration: the last event has no end: give stop or a {stop_col} column"));
            };
            out.push(Value::Int((until - at) / unit));
        }
        let mut cols = t.columns();
        cols.retain(|(n, _)| *n != column);
        cols.push((column.clone(), array_of(&DataType::Int64, out)));
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    })))
}
