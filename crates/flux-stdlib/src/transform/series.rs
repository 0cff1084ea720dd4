//! Transformations along each table's rows in time order: differences and
//! rates, running sums and averages, elapsed time, state tracking,
//! histograms and integrals.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, TimestampNanosecondArray, UInt64Array};
use arrow::datatypes::DataType;

use super::aggregate::with_key_columns;
use crate::args::{Def, bool_arg, duration_arg, fail, float_arg, input, int_arg, out, str_arg, str_list};
use flux_runtime::duration::Duration;
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, type_label};
use flux_runtime::value::Value;

pub(super) fn install(def: Def<'_>) {
    def("difference", &["columns", "nonNegative", "keepFirst", "initialZero"], Some("tables"), difference);
    def("derivative", &["unit", "nonNegative", "columns", "timeColumn", "initialZero"], Some("tables"), derivative);
    def("increase", &["columns"], Some("tables"), increase);
    def("cumulativeSum", &["columns"], Some("tables"), cumulative_sum);
    def("movingAverage", &["n"], Some("tables"), moving_average);
    def("exponentialMovingAverage", &["n"], Some("tables"), exponential_moving_average);
    def("elapsed", &["unit", "timeColumn", "columnName"], Some("tables"), elapsed);
    def("stateCount", &["fn", "column"], Some("tables"), state_count);
    def("stateDuration", &["fn", "column", "timeColumn", "unit"], Some("tables"), state_duration);
    def(
        "stateTracking",
        &["fn", "countColumn", "durationColumn", "durationUnit", "timeColumn"],
        Some("tables"),
        state_tracking,
    );
    def("histogram", &["column", "upperBoundColumn", "countColumn", "bins", "normalize"], Some("tables"), histogram);
    def(
        "histogramQuantile",
        &["quantile", "countColumn", "upperBoundColumn", "valueColumn", "minValue", "onNonmonotonic"],
        Some("tables"),
        histogram_quantile,
    );
    def("integral", &["unit", "column", "timeColumn", "interpolate"], Some("tables"), integral);
}

fn unit_nanos(a: &Args) -> EvalResult<f64> {
    let unit = duration_arg(a, "unit")?.unwrap_or(Duration::from_nanos(1_000_000_000));
    if unit.months != 0 {
        return fail("unit must be a fixed duration (no months or years)");
    }
    let (_, n) = unit.signed();
    if n == 0 {
        return fail("unit must not be zero");
    }
    Ok(n as f64)
}

fn replace_columns(t: &Table, new: Vec<(String, ArrayRef)>, drop_first: usize) -> EvalResult<Table> {
    let mut cols = Vec::new();
    for (n, c) in t.columns() {
        match new.iter().find(|(m, _)| *m == n) {
            Some((_, x)) => cols.push((n, Arc::clone(x))),
            None => cols.push((n, c.slice(drop_first, c.len() - drop_first))),
        }
    }
    Table::with_key(t.key.clone(), cols)
}

fn times<'a>(t: &'a Table, name: &str) -> EvalResult<&'a TimestampNanosecondArray> {
    t.need(name)?
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .ok_or_else(|| EvalError::invalid(format!("column {name:?} is not of type time")))
}

// ---- difference, increase, cumulativeSum ----

#[derive(Clone, Copy)]
struct DiffOptions {
    non_negative: bool,
    keep_first: bool,
    initial_zero: bool,
}

/// Differences of one column (int for int and uint, float for float): see `difference`'s rules.
fn diff_column(c: &ArrayRef, o: DiffOptions) -> EvalResult<ArrayRef> {
    let skip = usize::from(!o.keep_first);
    macro_rules! run {
        ($arr:ty, $out:ty, $conv:expr, $back:expr, $zero:expr) => {{
            let x = c.as_any().downcast_ref::<$arr>().expect("checked type");
            let mut prev = None;
            let mut out = Vec::with_capacity(x.len());
            for (i, v) in x.iter().enumerate() {
                let r = match v {
                    None => None,
                    Some(v) => {
                        let v = $conv(v);
                        let before = prev.replace(v);
                        match before {
                            None if o.keep_first && o.initial_zero => Some($zero),
                            None => None,
                            Some(p) => {
                                let d = v - p;
                                if d >= $zero || !o.non_negative {
                                    Some(d)
                                } else if o.initial_zero && v >= $zero {
                                    Some(v)
                                } else {
                                    None
                                }
                            }
                        }
                    }
                };
                if i >= skip {
                    out.push(r.map($back));
                }
            }
            Arc::new(<$out>::from(out)) as ArrayRef
        }};
    }
    Ok(match c.data_type() {
        DataType::Int64 => run!(Int64Array, Int64Array, |v: i64| v as i128, |d: i128| d as i64, 0i128),
        DataType::UInt64 => run!(UInt64Array, Int64Array, |v: u64| v as i128, |d: i128| d as i64, 0i128),
        DataType::Float64 => run!(Float64Array, Float64Array, |v: f64| v, |d: f64| d, 0.0f64),
        DataType::Timestamp(..) => return fail("difference does not support time columns. Try the elapsed function"),
        t => return fail(format!("difference does not support a column of type {}", type_label(t))),
    })
}

fn difference_with(name: &'static str, a: &Args, o: DiffOptions, then_sum: bool) -> EvalResult<Value> {
    let columns = str_list(a, "columns")?.unwrap_or_else(|| vec!["_value".into()]);
    out(Stream::per_table(name, input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![t]);
        }
        let mut new = Vec::new();
        for c in &columns {
            let Some(col) = t.column(c) else { continue };
            let mut d = diff_column(col, o)?;
            if then_sum {
                d = running_sum(&d)?;
            }
            new.push((c.clone(), d));
        }
        let skip = usize::from(!o.keep_first);
        Ok(vec![replace_columns(&t, new, skip)?])
    }))
}

fn difference(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let o = DiffOptions {
        non_negative: bool_arg(a, "nonNegative", false)?,
        keep_first: bool_arg(a, "keepFirst", false)?,
        initial_zero: bool_arg(a, "initialZero", false)?,
    };
    difference_with("difference", a, o, false)
}

fn increase(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let o = DiffOptions { non_negative: true, keep_first: true, initial_zero: true };
    difference_with("increase", a, o, true)
}

/// A running sum; a null adds nothing and shows the sum so far.
fn running_sum(c: &ArrayRef) -> EvalResult<ArrayRef> {
    Ok(match c.data_type() {
        DataType::Int64 => {
            let x = c.as_any().downcast_ref::<Int64Array>().expect("checked type");
            let mut s = 0i64;
            Arc::new(Int64Array::from_iter_values(x.iter().map(|v| {
                s = s.wrapping_add(v.unwrap_or(0));
                s
            })))
        }
        DataType::UInt64 => {
            let x = c.as_any().downcast_ref::<UInt64Array>().expect("checked type");
            let mut s = 0u64;
            Arc::new(UInt64Array::from_iter_values(x.iter().map(|v| {
                s = s.wrapping_add(v.unwrap_or(0));
                s
            })))
        }
        DataType::Float64 => {
            let x = c.as_any().downcast_ref::<Float64Array>().expect("checked type");
            let mut s = 0f64;
            Arc::new(Float64Array::from_iter_values(x.iter().map(|v| {
                s += v.unwrap_or(0.0);
                s
            })))
        }
        t => return fail(format!("cumulativeSum does not support a column of type {}", type_label(t))),
    })
}

fn cumulative_sum(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let columns = str_list(a, "columns")?.unwrap_or_else(|| vec!["_value".into()]);
    out(Stream::per_table("cumulativeSum", input(a)?, move |_, t| {
        let mut new = Vec::new();
        for c in &columns {
            if let Some(col) = t.column(c) {
                new.push((c.clone(), running_sum(col)?));
            }
        }
        Ok(vec![replace_columns(&t, new, 0)?])
    }))
}

// ---- derivative ----

pub(super) fn numbers(c: &ArrayRef) -> EvalResult<Vec<Option<f64>>> {
    let any = c.as_any();
    if let Some(x) = any.downcast_ref::<Float64Array>() {
        Ok(x.iter().collect())
    } else if let Some(x) = any.downcast_ref::<Int64Array>() {
        Ok(x.iter().map(|v| v.map(|v| v as f64)).collect())
    } else if let Some(x) = any.downcast_ref::<UInt64Array>() {
        Ok(x.iter().map(|v| v.map(|v| v as f64)).collect())
    } else {
        fail(format!("unsupported column type {}; expected a number", type_label(c.data_type())))
    }
}

fn derivative(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let unit = unit_nanos(a)?;
    let non_negative = bool_arg(a, "nonNegative", false)?;
    let initial_zero = bool_arg(a, "initialZero", false)?;
    let columns = str_list(a, "columns")?.unwrap_or_else(|| vec!["_value".into()]);
    let time_col = str_arg(a, "timeColumn", "_time")?;
    out(Stream::per_table("derivative", input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![t]);
        }
        let ts = times(&t, &time_col)?;
        if ts.null_count() > 0 {
            return fail("derivative found null time in time column");
        }
        // Rows whose time does not increase are skipped; earlier times are an error.
        let mut keep = vec![0u32];
        for i in 1..ts.len() {
            let (prev, cur) = (ts.value(keep[keep.len() - 1] as usize), ts.value(i));
            if cur < prev {
                return fail("derivative found out-of-order times in time column");
            }
            if cur > prev {
                keep.push(i as u32);
            }
        }
        let t = if keep.len() == ts.len() { t } else { t.take(&keep)? };
        let ts = times(&t, &time_col)?;
        let mut new = Vec::new();
        for c in &columns {
            let Some(col) = t.column(c) else { continue };
            let vs = numbers(col)?;
            let mut prev: Option<(i64, f64)> = None;
            let mut outv = Vec::with_capacity(vs.len().saturating_sub(1));
            for (i, v) in vs.iter().enumerate() {
                let r = match v {
                    None => None,
                    Some(v) => {
                        let now = ts.value(i);
                        let r = match prev {
                            None => None,
                            Some((_, pv)) if non_negative && pv > *v => initial_zero.then_some(0.0),
                            Some((pt, pv)) => Some((v - pv) / ((now - pt) as f64 / unit)),
                        };
                        prev = Some((now, *v));
                        r
                    }
                };
                if i > 0 {
                    outv.push(r);
                }
            }
            new.push((c.clone(), Arc::new(Float64Array::from(outv)) as ArrayRef));
        }
        Ok(vec![replace_columns(&t, new, 1)?])
    }))
}

// ---- moving averages ----

pub(super) fn set_value(t: &Table, rows: &[u32], values: Vec<Option<f64>>) -> EvalResult<Table> {
    let part = t.take(rows)?;
    replace_columns(&part, vec![("_value".into(), Arc::new(Float64Array::from(values)) as ArrayRef)], 0)
}

fn moving_average(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let n = int_arg(a, "n", None)?;
    if n <= 0 {
        return fail(format!("movingAverage: n must be positive, got {n}"));
    }
    let n = n as usize;
    out(Stream::per_table("movingAverage", input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![t]);
        }
        let vs = numbers(t.need("_value")?)?;
        let len = vs.len();
        let (first, m) = if len < n { (len - 1, len) } else { (n - 1, n) };
        let mut rows = Vec::new();
        let mut values = Vec::new();
        for i in first..len {
            let window = &vs[i + 1 - m..=i];
            let present: Vec<f64> = window.iter().flatten().copied().collect();
            rows.push(i as u32);
            values.push((!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64));
        }
        Ok(vec![set_value(&t, &rows, values)?])
    }))
}

fn exponential_moving_average(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let n = int_arg(a, "n", None)?;
    if n <= 0 {
        return fail(format!("exponentialMovingAverage: n must be positive, got {n}"));
    }
    let n = n as usize;
    out(Stream::per_table("exponentialMovingAverage", input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![t]);
        }
        let (rows, values) = ema(&numbers(t.need("_value")?)?, n);
        let rows: Vec<u32> = rows.into_iter().map(|r| r as u32).collect();
        Ok(vec![set_value(&t, &rows, values)?])
    }))
}

/// The exponential moving average of `n` values as Flux computes it: the
/// first at row `n - 1` (the mean of the values so far), then each new value
/// weighted `2 / (n + 1)`; a missing value repeats the average. The rows it
/// has values on, and the values.
pub(super) fn ema(vs: &[Option<f64>], n: usize) -> (Vec<usize>, Vec<Option<f64>>) {
    if vs.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let k = 2.0 / (1.0 + n as f64);
    let mut rows = Vec::new();
    let mut values = Vec::new();
    let mut average: Option<f64> = None;
    let first = n.min(vs.len()) - 1;
    for i in first..vs.len() {
        let v = if i == first {
            let present: Vec<f64> = vs[..=i].iter().flatten().copied().collect();
            (!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64)
        } else {
            match (vs[i], average) {
                (Some(x), Some(prev)) => Some(x * k + prev * (1.0 - k)),
                (Some(x), None) => Some(x),
                (None, prev) => prev,
            }
        };
        average = v.or(average);
        rows.push(i);
        values.push(v);
    }
    (rows, values)
}

// ---- elapsed, state ----

fn elapsed(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let unit = unit_nanos(a)?;
    let time_col = str_arg(a, "timeColumn", "_time")?;
    let name = str_arg(a, "columnName", "elapsed")?;
    out(Stream::per_table("elapsed", input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![t]);
        }
        let ts = times(&t, &time_col)?;
        let values: Int64Array = (1..ts.len())
            .map(|i| match (ts.is_valid(i - 1), ts.is_valid(i)) {
                (true, true) => Some(((ts.value(i) - ts.value(i - 1)) as f64 / unit) as i64),
                _ => None,
            })
            .collect();
        let mut cols: Vec<(String, ArrayRef)> =
            t.columns().into_iter().map(|(n, c)| (n, c.slice(1, c.len() - 1))).collect();
        cols.push((name.clone(), Arc::new(values)));
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}

/// Evaluates the state predicate per row: `None` where it failed (the row is dropped).
fn states(i: &mut Interp, f: &Value, t: &Table) -> EvalResult<Vec<Option<bool>>> {
    let param = "r";
    let mut out = Vec::with_capacity(t.num_rows());
    for row in 0..t.num_rows() {
        out.push(match flux_runtime::vector::call_row(i, f, param, t, row, &[]) {
            Ok(Value::Bool(b)) => Some(b),
            Ok(Value::Null) => Some(false),
            Ok(v) => return fail(format!("fn must return a bool, got {}", v.type_name())),
            Err(_) => None,
        });
    }
    Ok(out)
}

fn state_count(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let column = str_arg(a, "column", "stateCount")?;
    out(Stream::per_table("stateCount", input(a)?, move |i, t| {
        let st = states(i, &f, &t)?;
        let mut rows = Vec::new();
        let mut counts = Vec::new();
        let mut n = 0i64;
        for (r, s) in st.iter().enumerate() {
            let Some(s) = s else { continue };
            n = if *s { n + 1 } else { 0 };
            rows.push(r as u32);
            counts.push(if *s { n } else { -1 });
        }
        let part = t.take(&rows)?;
        let mut cols = part.columns();
        cols.retain(|(n, _)| *n != column);
        cols.push((column.clone(), Arc::new(Int64Array::from(counts))));
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}

fn state_duration(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let column = str_arg(a, "column", "stateDuration")?;
    let time_col = str_arg(a, "timeColumn", "_time")?;
    let unit = unit_nanos(a)?;
    out(Stream::per_table("stateDuration", input(a)?, move |i, t| {
        let st = states(i, &f, &t)?;
        let ts = times(&t, &time_col)?;
        let mut rows = Vec::new();
        let mut durations = Vec::new();
        let mut began: Option<i64> = None;
        for (r, s) in st.iter().enumerate() {
            let Some(s) = s else { continue };
            let now = ts.value(r);
            rows.push(r as u32);
            if *s {
                let b = *began.get_or_insert(now);
                durations.push(((now - b) as f64 / unit) as i64);
            } else {
                began = None;
                durations.push(-1);
            }
        }
        let part = t.take(&rows)?;
        let mut cols = part.columns();
        cols.retain(|(n, _)| *n != column);
        cols.push((column.clone(), Arc::new(Int64Array::from(durations))));
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}

/// `stateTracking`: for each row, how many rows in a row (`countColumn`) and
/// for how long (`durationColumn`, in `durationUnit`) `fn` has held; -1 where
/// it does not. Each column only when named.
fn state_tracking(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let name = |n: &str| -> EvalResult<Option<String>> {
        match a.get(n) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => fail(format!("{n} must be a string, got {}", v.type_name())),
        }
    };
    let (count_col, duration_col) = (name("countColumn")?, name("durationColumn")?);
    let unit = match duration_arg(a, "durationUnit")? {
        None => 1_000_000_000,
        Some(d) if d.months == 0 && d.signed().1 > 0 => d.signed().1,
        Some(_) => return fail("state tracking duration unit must be greater than zero"),
    };
    let time_col = str_arg(a, "timeColumn", "_time")?;
    out(Stream::per_table("stateTracking", input(a)?, move |i, t| {
        let ts = if duration_col.is_some() { Some(times(&t, &time_col)?) } else { None };
        let (mut counts, mut durations) = (Vec::with_capacity(t.num_rows()), Vec::with_capacity(t.num_rows()));
        let (mut count, mut began, mut previous) = (-1i64, None::<i64>, i64::MIN);
        for r in 0..t.num_rows() {
            let holds = match flux_runtime::vector::call_row(i, &f, "r", &t, r, &[])? {
                Value::Bool(b) => b,
                Value::Null => false,
                v => return fail(format!("fn must return a bool, got {}", v.type_name())),
            };
            count = if holds { count.max(0) + 1 } else { -1 };
            counts.push(count);
            if let Some(ts) = ts {
                if ts.is_null(r) {
                    return fail("got a null timestamp");
                }
                let now = ts.value(r);
                if now < previous {
                    return fail("got an out-of-order timestamp");
                }
                previous = now;
                durations.push(if holds { (now - *began.get_or_insert(now)) / unit } else { -1 });
                if !holds {
                    began = None;
                }
            }
        }
        let mut cols = t.columns();
        for (column, values) in [(&count_col, counts), (&duration_col, durations)] {
            if let Some(column) = column {
                cols.retain(|(n, _)| n != column);
                cols.push((column.clone(), Arc::new(Int64Array::from(values))));
            }
        }
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}

// ---- histograms ----

fn float_list(a: &Args, name: &str) -> EvalResult<Vec<f64>> {
    match a.required(name)? {
        Value::Array(v) => v
            .iter()
            .map(|x| match x {
                Value::Float(f) => Ok(*f),
                Value::Int(n) => Ok(*n as f64),
                v => fail(format!("{name} must be an array of floats, got an element of type {}", v.type_name())),
            })
            .collect(),
        v => fail(format!("{name} must be an array of floats, got {}", v.type_name())),
    }
}

fn histogram(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    let upper = str_arg(a, "upperBoundColumn", "le")?;
    let count = str_arg(a, "countColumn", "_value")?;
    let normalize = bool_arg(a, "normalize", false)?;
    let mut bins = float_list(a, "bins")?;
    bins.sort_by(f64::total_cmp);
    out(Stream::per_table("histogram", input(a)?, move |_, t| {
        let c = t.need(&column)?;
        let Some(vs) = c.as_any().downcast_ref::<Float64Array>() else {
            return fail(format!("column {column:?} must be of type float, got {}", type_label(c.data_type())));
        };
        let mut sorted: Vec<f64> = vs.iter().flatten().collect();
        sorted.sort_by(f64::total_cmp);
        let total = sorted.len() as f64;
        let counts: Vec<f64> = bins
            .iter()
            .map(|b| {
                let n = sorted.partition_point(|x| x <= b) as f64;
                if normalize && total > 0.0 { n / total } else { n }
            })
            .collect();
        let n = bins.len();
        let mut key = t.key.clone();
        key.0.retain(|(k, _)| *k != upper && *k != count);
        let t = Table { key, batch: t.batch.clone() };
        with_key_columns(
            &t,
            n,
            vec![
                (upper.clone(), Arc::new(Float64Array::from(bins.clone())) as ArrayRef),
                (count.clone(), Arc::new(Float64Array::from(counts)) as ArrayRef),
            ],
        )
        .map(|t| vec![t])
    }))
}

fn histogram_quantile(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let q = float_arg(a, "quantile", None)?;
    let count_col = str_arg(a, "countColumn", "_value")?;
    let upper_col = str_arg(a, "upperBoundColumn", "le")?;
    let value_col = str_arg(a, "valueColumn", "_value")?;
    let min_value = float_arg(a, "minValue", Some(0.0))?;
    let on_nonmonotonic = str_arg(a, "onNonmonotonic", "error")?;
    if !matches!(on_nonmonotonic.as_str(), "error" | "force" | "drop") {
        return fail(format!(
            "value provided to histogramQuantile parameter onNonmonotonic is invalid: {on_nonmonotonic:?}; use \"error\", \"force\" or \"drop\""
        ));
    }
    if !(0.0..=1.0).contains(&q) {
        return fail(format!("quantile must be between 0 and 1, got {q}"));
    }
    out(Stream::per_table("histogramQuantile", input(a)?, move |_, t| {
        let counts = numbers(t.need(&count_col)?)?;
        let uppers = numbers(t.need(&upper_col)?)?;
        let mut bins: Vec<(f64, f64)> = Vec::with_capacity(counts.len());
        for (c, u) in counts.iter().zip(&uppers) {
            match (c, u) {
                (Some(c), Some(u)) => bins.push((*u, *c)),
                _ => return fail("histogramQuantile: unexpected null in the count or upper bound column"),
            }
        }
        bins.sort_by(|a, b| a.0.total_cmp(&b.0));
        for i in 1..bins.len() {
            if bins[i].1 < bins[i - 1].1 {
                match on_nonmonotonic.as_str() {
                    "force" => bins[i].1 = bins[i - 1].1,
                    "drop" => return Ok(vec![]),
                    _ => return fail("histogram records counts are not monotonic"),
                }
            }
        }
        let v = quantile_of_histogram(&bins, q, min_value);
        let mut key = t.key.clone();
        key.0.retain(|(k, _)| *k != value_col);
        let t = Table { key, batch: t.batch.clone() };
        Ok(vec![with_key_columns(&t, 1, vec![(value_col.clone(), Arc::new(Float64Array::from(vec![v])) as ArrayRef)])?])
    }))
}

/// Linear interpolation within the bin where the rank `q * total` falls.
fn quantile_of_histogram(bins: &[(f64, f64)], q: f64, min_value: f64) -> Option<f64> {
    let total = bins.last()?.1;
    if total == 0.0 {
        return None;
    }
    let rank = q * total;
    let i = bins.iter().position(|(_, c)| *c >= rank)?;
    let (upper, count) = bins[i];
    let (lower, lower_count) = if i == 0 { (min_value, 0.0) } else { bins[i - 1] };
    if upper.is_infinite() {
        return Some(lower);
    }
    if lower.is_infinite() {
        return Some(upper);
    }
    if count == lower_count {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - lower_count) / (count - lower_count))
}

fn integral(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let unit = unit_nanos(a)?;
    let column = str_arg(a, "column", "_value")?;
    let time_col = str_arg(a, "timeColumn", "_time")?;
    let linear = match str_arg(a, "interpolate", "")?.as_str() {
        "" => false,
        "linear" => true,
        m => return fail(format!("integral: interpolate must be \"\" or \"linear\", got {m:?}")),
    };
    out(Stream::per_table("integral", input(a)?, move |_, t| {
        let vs = numbers(t.need(&column)?)?;
        let ts = times(&t, &time_col)?;
        let points: Vec<(f64, f64)> = vs
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((ts.is_valid(i).then(|| ts.value(i))? as f64, (*v)?)))
            .collect();
        let mut area = 0.0;
        for w in points.windows(2) {
            area += (w[0].1 + w[1].1) / 2.0 * (w[1].0 - w[0].0);
        }
        if linear && points.len() >= 2 {
            // Extend the curve linearly to the table's bounds.
            let bound = |name: &str| match t.key.get(name) {
                Some(Value::Time(x)) => Some(*x as f64),
                _ => None,
            };
            let (first, second) = (points[0], points[1]);
            let (last, before) = (points[points.len() - 1], points[points.len() - 2]);
            if let Some(s) = bound("_start")
                && s < first.0
            {
                let slope = (second.1 - first.1) / (second.0 - first.0);
                let v = first.1 - slope * (first.0 - s);
                area += (v + first.1) / 2.0 * (first.0 - s);
            }
            if let Some(e) = bound("_stop")
                && e > last.0
            {
                let slope = (last.1 - before.1) / (last.0 - before.0);
                let v = last.1 + slope * (e - last.0);
                area += (v + last.1) / 2.0 * (e - last.0);
            }
        }
        // No points: no area. One point: with interpolation, its value over the whole range.
        let result = match points.len() {
            0 => 0.0,
            1 if linear => match (t.key.get("_start"), t.key.get("_stop")) {
                (Some(Value::Time(s)), Some(Value::Time(e))) => points[0].1 * (e - s) as f64 / unit,
                _ => 0.0,
            },
            1 => 0.0,
            _ => area / unit,
        };
        let result = Some(result);
        let mut key = t.key.clone();
        key.0.retain(|(k, _)| *k != column);
        let t = Table { key, batch: t.batch.clone() };
        Ok(vec![with_key_columns(
            &t,
            1,
            vec![(column.clone(), Arc::new(Float64Array::from(vec![result])) as ArrayRef)],
        )?])
    }))
}
