//! Time windows: `window`, `aggregateWindow`, and the time-column helpers
//! `timeShift`, `truncateTimeColumn`, `hourSelection`.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, TimestampNanosecondArray};

use super::aggregate::{Agg, Pick, aggregate_array, pick_row};
use crate::args::{Def, bool_arg, duration_arg, fail, input, int_arg, out, str_arg, str_list};
use crate::location::Location;
use flux_runtime::duration::Duration;
use flux_runtime::duration::add_duration;
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::scan::{WindowShape, WindowSpec};
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, repeat, time_type};
use flux_runtime::value::{Function, Value};

pub(super) fn install(def: Def<'_>) {
    def(
        "window",
        &["every", "period", "offset", "location", "timeColumn", "startColumn", "stopColumn", "createEmpty"],
        Some("tables"),
        window,
    );
    def(
        "aggregateWindow",
        &["every", "period", "offset", "fn", "column", "timeSrc", "timeDst", "createEmpty", "location"],
        Some("tables"),
        aggregate_window,
    );
    def("timeShift", &["duration", "columns"], Some("tables"), time_shift);
    def("truncateTimeColumn", &["unit", "timeColumn", "location"], Some("tables"), truncate_time_column);
    def("hourSelection", &["start", "stop", "timeColumn", "location"], Some("tables"), hour_selection);
    def("timedMovingAverage", &["every", "period", "column"], Some("tables"), timed_moving_average);
    def("today", &[], None, today);
}

/// Window boundaries: `every` apart, each `period` long, shifted by `offset`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Windows {
    every: Duration,
    period: Duration,
    offset: Duration,
    /// Boundaries fall on this location's wall clock.
    loc: Location,
}

const EPOCH_MONTHS: i64 = 1970 * 12;

fn months_of(t: i64) -> i64 {
    use chrono::Datelike;
    let dt = chrono::DateTime::from_timestamp_nanos(t);
    i64::from(dt.year()) * 12 + i64::from(dt.month0()) - EPOCH_MONTHS
}

fn month_start(months: i64) -> EvalResult<i64> {
    add_duration(0, &Duration { months, nanos: 0, negative: false }, 1)
}

impl Windows {
    fn new(every: Duration, period: Option<Duration>, offset: Option<Duration>, loc: Location) -> EvalResult<Self> {
        if every.months == 0 && every.nanos == 0 || every.negative {
            return fail("every must be positive");
        }
        Ok(Self { every, period: period.unwrap_or(every), offset: offset.unwrap_or_default(), loc })
    }

    fn infinite(&self) -> bool {
        self.every.months == 0 && self.every.nanos == i64::MAX
    }

    /// The start of the latest window boundary at or before `t` (both on the local clock).
    fn floor(&self, t: i64) -> EvalResult<i64> {
        if self.every.months != 0 {
            let (om, on) = self.offset.signed();
            // Whole months since the epoch, shifted by the offset.
            let shifted = add_duration(t, &Duration { months: -om, nanos: -on, negative: false }, 1)?;
            let m = months_of(shifted);
            let k = m.div_euclid(self.every.months) * self.every.months;
            let mut start = add_duration(month_start(k)?, &self.offset, 1)?;
            if start > t {
                start = add_duration(month_start(k - self.every.months)?, &self.offset, 1)?;
            }
            return Ok(start);
        }
        let every = self.every.nanos;
        let (_, off) = self.offset.signed();
        let k = (t as i128 - off as i128).div_euclid(every as i128);
        Ok((k * every as i128 + off as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    fn next(&self, start: i64) -> EvalResult<i64> {
        add_duration(start, &self.every, 1)
    }

    fn stop_of(&self, start: i64) -> EvalResult<i64> {
        add_duration(start, &self.period, 1)
    }

    /// The windows (start, stop) that contain `t` (on the local clock).
    fn containing(&self, t: i64) -> EvalResult<Vec<(i64, i64)>> {
        let mut out = Vec::new();
        let mut s = self.floor(t)?;
        // Walk back while earlier windows (longer periods) still reach `t`.
        loop {
            let stop = self.stop_of(s)?;
            if s <= t && t < stop {
                out.push((s, stop));
            } else if stop <= t {
                break;
            }
            let prev = add_duration(s, &self.every, -1)?;
            if prev >= s || self.stop_of(prev)? <= t {
                break;
            }
            s = prev;
        }
        out.reverse();
        Ok(out)
    }
}

/// `every`, `period` and `offset`: either of `every` and `period` stands for both when alone.
fn window_arg(i: &Interp, a: &Args) -> EvalResult<Windows> {
    let (every, period) = (duration_arg(a, "every")?, duration_arg(a, "period")?);
    let every = every.or(period).ok_or_else(|| EvalError::invalid("window: one of every or period is required"))?;
    Windows::new(every, period, duration_arg(a, "offset")?, location_arg(i, a)?)
}

/// The `location` argument, else `option location`.
pub(crate) fn location_arg(i: &Interp, a: &Args) -> EvalResult<Location> {
    match a.get("location").cloned().or_else(|| i.universe.get("location")) {
        Some(v) => Location::from_value(&v),
        None => Ok(Location::default()),
    }
}

/// The bounds windows keep to: the upstream `range`'s, else the table's
/// `_start`/`_stop` (key values, or the first row's).
fn bounds_of(plan: Option<(i64, i64)>, t: &Table, start_col: &str, stop_col: &str) -> (Option<i64>, Option<i64>) {
    if let Some((s, e)) = plan {
        return (Some(s), Some(e));
    }
    let get = |name: &str| match t.key.get(name) {
        Some(Value::Time(x)) => Some(*x),
        _ => match t.column(name).filter(|c| !c.is_empty()).map(|c| flux_runtime::table::cell(c.as_ref(), 0)) {
            Some(Value::Time(x)) => Some(x),
            _ => None,
        },
    };
    (get(start_col), get(stop_col))
}

/// Rows of `t` by window: (window start, stop, row indices), in time order;
/// with `create_empty`, every window within `bounds` appears.
fn assign(
    w: &Windows,
    times: &TimestampNanosecondArray,
    bounds: (Option<i64>, Option<i64>),
    create_empty: bool,
) -> EvalResult<Vec<(i64, i64, Vec<u32>)>> {
    let mut map: BTreeMap<(i64, i64), Vec<u32>> = BTreeMap::new();
    let single = w.period == w.every;
    let utc = w.loc.is_utc();
    let mut last: Option<(i64, i64)> = None;
    for (i, t) in times.iter().enumerate() {
        let Some(t) = t else { continue };
        if bounds.0.is_some_and(|s| t < s) || bounds.1.is_some_and(|e| t >= e) {
            continue;
        }
        if !utc {
            // Windows on the local clock, their bounds as instants.
            for (s, e) in w.containing(w.loc.to_local(t))? {
                map.entry((w.loc.to_utc(s), w.loc.to_utc(e))).or_default().push(i as u32);
            }
            continue;
        }
        if single {
            // Sorted input mostly stays in the same window.
            let win = match last {
                Some((s, e)) if s <= t && t < e => (s, e),
                _ => {
                    let s = w.floor(t)?;
                    (s, w.stop_of(s)?)
                }
            };
            last = Some(win);
            map.entry(win).or_default().push(i as u32);
        } else {
            for win in w.containing(t)? {
                map.entry(win).or_default().push(i as u32);
            }
        }
    }
    if create_empty && let (Some(lo), Some(hi)) = bounds {
        let (lo_l, hi_l) = (w.loc.to_local(lo), w.loc.to_local(hi));
        let mut s = w.floor(lo_l)?;
        // Windows that start before the bounds but reach into them.
        while w.stop_of(add_duration(s, &w.every, -1)?)? > lo_l && add_duration(s, &w.every, -1)? < s {
            s = add_duration(s, &w.every, -1)?;
        }
        while s < hi_l {
            let e = w.stop_of(s)?;
            if e > lo_l {
                map.entry((w.loc.to_utc(s), w.loc.to_utc(e))).or_default();
            }
            let n = w.next(s)?;
            if n <= s {
                break;
            }
            s = n;
        }
    }
    Ok(map.into_iter().map(|((s, e), rows)| (s, e, rows)).collect())
}

fn times_column<'a>(t: &'a Table, name: &str) -> EvalResult<&'a TimestampNanosecondArray> {
    t.need(name)?
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .ok_or_else(|| EvalError::invalid(format!("column {name:?} is not of type time")))
}

/// `t`'s rows at `rows` with the window bounds in `start_col`/`stop_col` (added if missing) and the key.
fn window_table(t: &Table, rows: &[u32], start: i64, stop: i64, start_col: &str, stop_col: &str) -> EvalResult<Table> {
    let part = if rows.len() == t.num_rows() && rows.iter().enumerate().all(|(i, r)| i as u32 == *r) {
        t.clone()
    } else {
        t.take(rows)?
    };
    let n = part.num_rows();
    let mut cols = part.columns();
    for (name, v) in [(start_col, start), (stop_col, stop)] {
        let c = repeat(&Value::Time(v), &time_type(), n);
        match cols.iter_mut().find(|(c, _)| c == name) {
            Some(slot) => slot.1 = c,
            None => cols.push((name.to_owned(), c)),
        }
    }
    let mut key: Vec<(String, Value)> =
        part.key.0.iter().filter(|(k, _)| k != start_col && k != stop_col).cloned().collect();
    key.push((start_col.to_owned(), Value::Time(start)));
    key.push((stop_col.to_owned(), Value::Time(stop)));
    Table::with_key(GroupKey(key), cols)
}

fn window(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let w = window_arg(i, a)?;
    let time_col = str_arg(a, "timeColumn", "_time")?;
    let start_col = str_arg(a, "startColumn", "_start")?;
    let stop_col = str_arg(a, "stopColumn", "_stop")?;
    let create_empty = bool_arg(a, "createEmpty", false)?;
    let input = input(a)?;
    let plan = input.bounds();
    if w.infinite() {
        // One window over everything: tables that then share a key merge.
        return out(Stream::whole("window", vec![input], move |_, mut inputs| {
            let mut outs = Vec::new();
            for t in inputs.swap_remove(0) {
                let (lo, hi) = bounds_of(plan, &t, &start_col, &stop_col);
                let times = times_column(&t, &time_col)?;
                let lo = lo.or_else(|| arrow::compute::min(times)).unwrap_or(i64::MIN);
                let hi = hi.or_else(|| arrow::compute::max(times).map(|m| m.saturating_add(1))).unwrap_or(i64::MAX);
                let rows: Vec<u32> = (0..t.num_rows() as u32).collect();
                outs.push(window_table(&t, &rows, lo, hi, &start_col, &stop_col)?);
            }
            flux_runtime::group::regroup(outs)
        }));
    }
    out(Stream::per_table("window", input, move |_, t| {
        let bounds = bounds_of(plan, &t, &start_col, &stop_col);
        let times = times_column(&t, &time_col)?;
        let mut out = Vec::new();
        for (s, e, rows) in assign(&w, times, bounds, create_empty)? {
            let (s, e) = (bounds.0.map_or(s, |b| s.max(b)), bounds.1.map_or(e, |b| e.min(b)));
            out.push(window_table(&t, &rows, s, e, &start_col, &stop_col)?);
        }
        Ok(out)
    }))
}

/// What `aggregateWindow`'s `fn` is, when it is a builtin we can run directly.
#[derive(Clone, Copy)]
enum Known {
    Agg(Agg),
    Pick(Pick),
}

fn known(f: &Value) -> Option<(Known, &'static str)> {
    let Value::Function(func) = f else { return None };
    let Function::Builtin { name, .. } = func.as_ref() else { return None };
    Some((
        match *name {
            "count" => Known::Agg(Agg::Count),
            "sum" => Known::Agg(Agg::Sum),
            "mean" => Known::Agg(Agg::Mean),
            "spread" => Known::Agg(Agg::Spread),
            "stddev" => Known::Agg(Agg::Stddev { population: false }),
            "first" => Known::Pick(Pick::First),
            "last" => Known::Pick(Pick::Last),
            "min" => Known::Pick(Pick::Min),
            "max" => Known::Pick(Pick::Max),
            _ => return None,
        },
        name,
    ))
}

fn aggregate_window(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let w = window_arg(i, a)?;
    let f = a.required("fn")?.clone();
    let column = str_arg(a, "column", "_value")?;
    let time_src = str_arg(a, "timeSrc", "_stop")?;
    let time_dst = str_arg(a, "timeDst", "_time")?;
    let create_empty = bool_arg(a, "createEmpty", true)?;
    if time_src != "_start" && time_src != "_stop" {
        return fail(format!("aggregateWindow: timeSrc must be \"_start\" or \"_stop\", got {time_src:?}"));
    }
    let input = input(a)?;
    let plain = column == "_value"
        && time_dst == "_time"
        && w.period == w.every
        && w.every.months == 0
        && w.offset.months == 0
        && !w.infinite()
        && w.loc.is_utc();
    if plain
        && let Some(spec) = flux_runtime::pushdown::open_scan(&input)
        && let Some((_, name)) = known(&f)
        && let Some(aggregate) = flux_runtime::pushdown::aggregate_named(name)
        && flux_runtime::pushdown::pushable(spec, aggregate)
    {
        let mut spec = spec.clone();
        spec.window = Some(WindowSpec {
            every: w.every.nanos,
            offset: w.offset.signed().1,
            aggregate,
            create_empty,
            shape: WindowShape::AggregateWindow { time_from_start: time_src == "_start" },
        });
        return out(Rc::new(Stream::Scan(spec)));
    }
    let plan = input.bounds();
    let builtin = known(&f).map(|(k, _)| k);
    let spec = WindowedAggregate { w, f, builtin, column, time_src, time_dst, create_empty };
    out(Stream::per_table("aggregateWindow", input, move |i, t| spec.run(i, plan, &t)))
}

/// `aggregateWindow`'s work on one table.
struct WindowedAggregate {
    w: Windows,
    f: Value,
    /// `f` when it is a builtin aggregate or selector, run directly.
    builtin: Option<Known>,
    column: String,
    time_src: String,
    time_dst: String,
    create_empty: bool,
}

impl WindowedAggregate {
    fn run(&self, i: &mut Interp, plan: Option<(i64, i64)>, t: &Table) -> EvalResult<Vec<Table>> {
        let bounds = bounds_of(plan, t, "_start", "_stop");
        // The output keeps the bounds as `_start`/`_stop` key columns.
        let t = match bounds {
            (Some(lo), Some(hi)) => {
                let all: Vec<u32> = (0..t.num_rows() as u32).collect();
                window_table(t, &all, lo, hi, "_start", "_stop")?
            }
            _ => t.clone(),
        };
        let times = times_column(&t, "_time")?;
        let windows = assign(&self.w, times, bounds, self.create_empty)?;
        let mut parts: Vec<Table> = Vec::with_capacity(windows.len());
        for (s, e, rows) in windows {
            let (s, e) = (bounds.0.map_or(s, |b| s.max(b)), bounds.1.map_or(e, |b| e.min(b)));
            let stamp = if self.time_src == "_start" { s } else { e };
            match self.builtin {
                Some(k) => parts.extend(window_builtin(&t, &rows, k, &self.column, stamp, &self.time_dst)?),
                None => parts.extend(window_closure(i, &self.f, &t, &rows, s, e, &self.column, stamp, &self.time_dst)?),
            }
        }
        if parts.is_empty() {
            return Ok(vec![]);
        }
        Ok(vec![flux_runtime::group::concat(t.key.clone(), &parts)?])
    }
}

fn timed_moving_average(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let every = duration_arg(a, "every")?.ok_or_else(|| EvalError::invalid("missing required argument every"))?;
    let period = duration_arg(a, "period")?.ok_or_else(|| EvalError::invalid("missing required argument period"))?;
    let w = Windows::new(every, Some(period), None, location_arg(i, a)?)?;
    let column = str_arg(a, "column", "_value")?;
    let input = input(a)?;
    let plan = input.bounds();
    // Windows of `period` every `every`, each one's mean stamped with its stop.
    let spec = WindowedAggregate {
        w,
        f: Value::Null,
        builtin: Some(Known::Agg(Agg::Mean)),
        column,
        time_src: "_stop".into(),
        time_dst: "_time".into(),
        create_empty: false,
    };
    out(Stream::per_table("timedMovingAverage", input, move |i, t| spec.run(i, plan, &t)))
}

/// One window of a builtin aggregate or selector, in the table's column order:
/// aggregates keep the key columns and the time and value; selectors the row.
#[allow(clippy::too_many_arguments)]
fn window_builtin(
    t: &Table,
    rows: &[u32],
    k: Known,
    column: &str,
    stamp: i64,
    time_dst: &str,
) -> EvalResult<Option<Table>> {
    let part = t.take(rows)?;
    let c = part.need(column)?;
    let (row, value): (Option<usize>, ArrayRef) = match k {
        Known::Agg(agg) => (None, aggregate_array(agg, c)?),
        Known::Pick(p) => match pick_row(p, c)? {
            Some(r) => (Some(r), c.slice(r, 1)),
            None => (None, arrow::array::new_null_array(c.data_type(), 1)),
        },
    };
    let mut cols: Vec<(String, ArrayRef)> = Vec::new();
    for (n, col) in part.columns() {
        if n == column {
            cols.push((n, Arc::clone(&value)));
        } else if n == time_dst {
            cols.push((n, repeat(&Value::Time(stamp), &time_type(), 1)));
        } else if let Some(v) = t.key.get(&n) {
            cols.push((n.clone(), repeat(v, col.data_type(), 1)));
        } else if let (Known::Pick(_), Some(r)) = (k, row) {
            cols.push((n, col.slice(r, 1)));
        } else if let Known::Pick(_) = k {
            cols.push((n, arrow::array::new_null_array(col.data_type(), 1)));
        }
    }
    if !cols.iter().any(|(n, _)| n == time_dst) {
        cols.push((time_dst.to_owned(), repeat(&Value::Time(stamp), &time_type(), 1)));
    }
    Ok(Some(Table::with_key(t.key.clone(), cols)?))
}

/// One window through a user's function: its tables, stamped with the window time.
#[allow(clippy::too_many_arguments)]
fn window_closure(
    i: &mut Interp,
    f: &Value,
    t: &Table,
    rows: &[u32],
    s: i64,
    e: i64,
    column: &str,
    stamp: i64,
    time_dst: &str,
) -> EvalResult<Vec<Table>> {
    let part = window_table(t, rows, s, e, "_start", "_stop")?;
    let mut args = Args::default();
    args.named.insert("tables".into(), Value::Stream(Stream::tables(vec![part])));
    args.named.insert("column".into(), Value::String(column.to_owned()));
    let Value::Stream(result) = i.call(f, args)? else {
        return fail("aggregateWindow: fn must return a stream of tables");
    };
    let mut out = Vec::new();
    for r in flux_runtime::exec::collect(i, &result)? {
        let n = r.num_rows();
        let mut cols: Vec<(String, ArrayRef)> = Vec::new();
        for (name, c) in r.columns() {
            match name.as_str() {
                "_start" => cols.push((name, repeat(t.key.get("_start").unwrap_or(&Value::Time(s)), &time_type(), n))),
                "_stop" => cols.push((name, repeat(t.key.get("_stop").unwrap_or(&Value::Time(e)), &time_type(), n))),
                _ if name == time_dst => {}
                _ => cols.push((name, c)),
            }
        }
        cols.push((time_dst.to_owned(), repeat(&Value::Time(stamp), &time_type(), n)));
        out.push(Table::with_key(t.key.clone(), cols)?);
    }
    Ok(out)
}

fn time_shift(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let d = duration_arg(a, "duration")?.ok_or_else(|| EvalError::invalid("missing required argument duration"))?;
    let columns = str_list(a, "columns")?.unwrap_or_else(|| vec!["_start".into(), "_stop".into(), "_time".into()]);
    out(Stream::per_table("timeShift", input(a)?, move |_, t| {
        let mut cols = Vec::new();
        for (n, c) in t.columns() {
            if columns.contains(&n) {
                let times = c
                    .as_any()
                    .downcast_ref::<TimestampNanosecondArray>()
                    .ok_or_else(|| EvalError::invalid(format!("column {n:?} is not of type time")))?;
                let shifted: TimestampNanosecondArray =
                    times.iter().map(|x| x.map(|x| add_duration(x, &d, 1)).transpose()).collect::<EvalResult<_>>()?;
                cols.push((n, Arc::new(shifted) as ArrayRef));
            } else {
                cols.push((n, c));
            }
        }
        let key = GroupKey(
            t.key
                .0
                .iter()
                .map(|(k, v)| match v {
                    Value::Time(x) if columns.contains(k) => {
                        add_duration(*x, &d, 1).map(|x| (k.clone(), Value::Time(x)))
                    }
                    _ => Ok((k.clone(), v.clone())),
                })
                .collect::<EvalResult<_>>()?,
        );
        Ok(vec![Table::with_key(key, cols)?])
    }))
}

/// `t` truncated to a multiple of `unit` (calendar months when it has any).
pub(crate) fn truncate(t: i64, unit: &Duration, loc: Location) -> EvalResult<i64> {
    Ok(loc.to_utc(Windows::new(*unit, None, None, loc)?.floor(loc.to_local(t))?))
}

fn truncate_time_column(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let loc = location_arg(i, a)?;
    let unit = duration_arg(a, "unit")?.ok_or_else(|| EvalError::invalid("missing required argument unit"))?;
    let time_col = str_arg(a, "timeColumn", "_time")?;
    out(Stream::whole("truncateTimeColumn", vec![input(a)?], move |_, mut inputs| {
        let mut produced = Vec::new();
        for t in inputs.swap_remove(0) {
            let times = times_column(&t, &time_col)?;
            let truncated: TimestampNanosecondArray =
                times.iter().map(|x| x.map(|x| truncate(x, &unit, loc)).transpose()).collect::<EvalResult<_>>()?;
            let truncated: ArrayRef = Arc::new(truncated);
            let cols = t
                .columns()
                .into_iter()
                .map(|(n, c)| if n == time_col { (n, Arc::clone(&truncated)) } else { (n, c) })
                .collect();
            let key_names: Vec<String> = t.key.names().map(str::to_owned).collect();
            if t.key.contains(&time_col) {
                // A truncated key column regroups rows by their new values.
                let table = Table::new(&[], cols)?;
                let mut parts = flux_runtime::group::partition(&table, &key_names)
                    .into_iter()
                    .map(|(gk, rows)| {
                        let mut p = table.take(&rows)?;
                        p.key = gk;
                        Ok(p)
                    })
                    .collect::<EvalResult<Vec<_>>>()?;
                produced.append(&mut parts);
            } else {
                produced.push(Table::with_key(t.key.clone(), cols)?);
            }
        }
        flux_runtime::group::regroup(produced)
    }))
}

fn hour_selection(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let loc = location_arg(i, a)?;
    let start = int_arg(a, "start", None)?;
    let stop = int_arg(a, "stop", None)?;
    let time_col = str_arg(a, "timeColumn", "_time")?;
    out(Stream::per_table("hourSelection", input(a)?, move |_, t| {
        let times = times_column(&t, &time_col)?;
        let keep: BooleanArray = times
            .iter()
            .map(|x| {
                Some(x.is_some_and(|x| {
                    let hour = loc.to_local(x).div_euclid(3_600_000_000_000).rem_euclid(24);
                    if start <= stop { hour >= start && hour <= stop } else { hour >= start || hour <= stop }
                }))
            })
            .collect();
        Ok(vec![t.filter(&keep)?])
    }))
}

/// `now()` truncated to the start of its day in `option location`.
fn today(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let location = location_arg(i, a)?;
    let local = location.to_local(i.now);
    Ok(Value::Time(location.to_utc(local - local.rem_euclid(time::DAY))))
}
