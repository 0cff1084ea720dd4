//! The technical-analysis functions of `universe` beyond
//! `exponentialMovingAverage`: double and triple exponential moving averages,
//! the Chande momentum oscillator and Kaufman's efficiency ratio; and
//! `covariance` with `cov`/`pearsonr`, and `timeWeightedAvg`.

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};

use super::aggregate::with_key_columns;
use super::series::{ema, numbers};
use crate::args::{Def, bool_arg, fail, input, int_arg, out, str_arg, str_list};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::Table;
use flux_runtime::value::{Record, Value};

pub(super) fn install(def: Def<'_>) {
    def("doubleEMA", &["n"], Some("tables"), |_, a| cascaded_ema(a, "doubleEMA", 2));
    def("tripleEMA", &["n"], Some("tables"), |_, a| cascaded_ema(a, "tripleEMA", 3));
    def("chandeMomentumOscillator", &["n", "columns"], Some("tables"), |_, a| {
        chande(a, "chandeMomentumOscillator", false)
    });
    def("kaufmansER", &["n"], Some("tables"), |_, a| chande(a, "kaufmansER", true));
    def("covariance", &["columns", "pearsonr", "valueDst"], Some("tables"), covariance);
    def("cov", &["x", "y", "on", "pearsonr"], None, |i, a| cov(i, a, None));
    def("pearsonr", &["x", "y", "on"], None, |i, a| cov(i, a, Some(true)));
    def("timeWeightedAvg", &["unit"], Some("tables"), time_weighted_avg);
    def("relativeStrengthIndex", &["n", "columns"], Some("tables"), relative_strength_index);
    def("kaufmansAMA", &["n", "column"], Some("tables"), kaufmans_ama);
    def("tripleExponentialDerivative", &["n"], Some("tables"), triple_exponential_derivative);
}

/// Rows `from..` of every column but those replaced.
fn rows_from(t: &Table, from: usize, replaced: Vec<(String, ArrayRef)>) -> EvalResult<Table> {
    let kept = t.num_rows().saturating_sub(from);
    let mut cols = Vec::new();
    for (c, values) in t.columns() {
        match replaced.iter().find(|(m, _)| *m == c) {
            Some((_, x)) => cols.push((c, Arc::clone(x))),
            None => cols.push((c, values.slice(t.num_rows() - kept, kept))),
        }
    }
    Table::with_key(t.key.clone(), cols)
}

/// An average that is simple over its first `n` values and exponential
/// (weight `multiplier`) after, as Flux's RSI smooths ups and downs.
struct Smoothed {
    n: usize,
    multiplier: f64,
    value: f64,
    count: usize,
    seen: usize,
    reached: bool,
}

impl Smoothed {
    fn new(n: usize) -> Self {
        Self { n, multiplier: 1.0 / n as f64, value: 0.0, count: 0, seen: 0, reached: false }
    }

    fn add(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.value = if self.count == 0 {
                v
            } else if !self.reached {
                (self.value * self.count as f64 + v) / (self.count as f64 + 1.0)
            } else {
                v * self.multiplier + self.value * (1.0 - self.multiplier)
            };
            if self.count < self.n {
                self.count += 1;
            }
        }
        if self.seen + 1 == self.n {
            self.reached = true;
        }
        self.seen += 1;
    }
}

/// The relative strength index over `n` values: 100 − 100 / (1 + ups/downs),
/// ups and downs (from 0 before the first value) smoothed; from row `n` on,
/// or one row for a table of at most `n` rows.
fn relative_strength_index(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let n = period(a, "relativeStrengthIndex")?;
    let columns = str_list(a, "columns")?.unwrap_or_else(|| vec!["_value".into()]);
    out(Stream::per_table("relativeStrengthIndex", input(a)?, move |_, t| {
        let len = t.num_rows();
        if len == 0 {
            return Ok(vec![t]);
        }
        let mut replaced = Vec::new();
        for c in &columns {
            let Some(col) = t.column(c) else { continue };
            let vs = numbers(col).map_err(|_| {
                EvalError::invalid(format!(
                    "cannot take relative strength index of column {c} (type {})",
                    type_name(col)
                ))
            })?;
            let (mut up, mut down) = (Smoothed::new(n), Smoothed::new(n));
            let mut last: Option<f64> = None;
            let mut out = Vec::new();
            let rsi = |up: &Smoothed, down: &Smoothed| 100.0 - 100.0 / (1.0 + up.value / down.value);
            for (j, v) in vs.iter().enumerate() {
                match v {
                    Some(v) => {
                        let previous = last.unwrap_or(0.0);
                        up.add(Some(if *v > previous { v - previous } else { 0.0 }));
                        down.add(Some(if *v < previous { previous - v } else { 0.0 }));
                        last = Some(*v);
                    }
                    None => {
                        up.add(None);
                        down.add(None);
                    }
                }
                if j >= n {
                    out.push(last.map(|_| rsi(&up, &down)));
                }
            }
            if len <= n {
                out = vec![Some(rsi(&up, &down))];
            }
            replaced.push((c.clone(), Arc::new(Float64Array::from(out)) as ArrayRef));
        }
        if len > n {
            return Ok(vec![rows_from(&t, n, replaced)?]);
        }
        // A short table answers one row: the last of its other columns.
        let last = if len >= 2 { t.slice(len - 1, 1) } else { t.slice(0, 0) };
        let mut cols = Vec::new();
        for (c, values) in last.columns() {
            match replaced.iter().find(|(m, _)| *m == c) {
                Some((_, x)) => cols.push((c, Arc::clone(x))),
                None if values.is_empty() => {
                    cols.push((c.clone(), arrow::array::new_null_array(values.data_type(), 1)))
                }
                None => cols.push((c, values)),
            }
        }
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}

/// Kaufman's adaptive moving average over `n` values: from row `n` on, the
/// previous average moved towards the value by the squared smoothing constant
/// that the efficiency ratio sets between 2/31 and 2/3.
fn kaufmans_ama(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let n = int_arg(a, "n", None)?;
    if n <= 0 {
        return fail(format!("cannot take KaufmansAMA with a period of {n} (must be greater than 0)"));
    }
    let n = n as usize;
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("kaufmansAMA", input(a)?, move |_, t| {
        let len = t.num_rows();
        let Some(col) = t.column(&column) else { return Ok(vec![t]) };
        if len == 0 {
            return Ok(vec![t]);
        }
        let vs = numbers(col).map_err(|_| {
            EvalError::invalid(format!("cannot take KAMA of column {column} (type {})", type_name(col)))
        })?;
        let vs: Vec<f64> = vs.iter().map(|v| v.unwrap_or(0.0)).collect();
        let (fast, slow) = (2.0 / (2.0 + 1.0), 2.0 / (30.0 + 1.0));
        let mut changes = vec![0.0; n];
        let (mut ups, mut downs) = (0.0, 0.0);
        let (mut previous, mut average) = (vs[0], 0.0);
        let mut out = Vec::new();
        for (count, &current) in vs.iter().enumerate() {
            let change = current - previous;
            if change > 0.0 {
                ups += change;
            } else if change < 0.0 {
                downs -= change;
            }
            let ratio = (100.0 * (ups - downs) / (ups + downs)).abs() / 100.0;
            let oldest = if count >= n { changes[(count + 1) % n] } else { 0.0 };
            if oldest > 0.0 {
                ups -= oldest;
            } else {
                downs += oldest;
            }
            if count >= n {
                if count == n {
                    average = previous;
                }
                let sc = (ratio * (fast - slow) + slow).powi(2);
                average += sc * (current - average);
                out.push(average);
            }
            changes[count % n] = change;
            previous = current;
        }
        Ok(vec![rows_from(&t, n, vec![(column.clone(), Arc::new(Float64Array::from(out)) as ArrayRef)])?])
    }))
}

/// TRIX: the rate of change, in percent, of the triple exponential moving
/// average of `_value`, from the row after that average's first.
fn triple_exponential_derivative(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let n = period(a, "tripleExponentialDerivative")?;
    out(Stream::per_table("tripleExponentialDerivative", input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![t]);
        }
        let col = t.need("_value")?;
        let vs = numbers(col).map_err(|_| {
            EvalError::invalid(format!(
                "cannot take exponential moving average of column _value (type {})",
                type_name(col)
            ))
        })?;
        // Each average starts only once the one before has n values.
        let full = |vs: &[Option<f64>]| if vs.len() < n { (Vec::new(), Vec::new()) } else { ema(vs, n) };
        let (r1, v1) = full(&vs);
        let (r2, v2) = full(&v1);
        let (r3, v3) = full(&v2);
        let mut rows = Vec::new();
        let mut values = Vec::new();
        for k in 1..v3.len() {
            rows.push(r1[r2[r3[k]]] as u32);
            values.push(match (v3[k], v3[k - 1]) {
                (Some(x), Some(prev)) => Some((x / prev - 1.0) * 100.0),
                _ => None,
            });
        }
        Ok(vec![super::series::set_value(&t, &rows, values)?])
    }))
}

fn period(a: &Args, name: &str) -> EvalResult<usize> {
    let n = int_arg(a, "n", None)?;
    if n <= 0 {
        return fail(format!("{name}: n must be positive, got {n}"));
    }
    Ok(n as usize)
}

/// `doubleEMA` (2·EMA − EMA(EMA)) and `tripleEMA` (3·EMA − 3·EMA(EMA) +
/// EMA(EMA(EMA))) of `_value`: each average starts where the one before has
/// `n` values, on the rows where the last one has a value.
fn cascaded_ema(a: &Args, name: &'static str, depth: usize) -> EvalResult<Value> {
    let n = period(a, name)?;
    out(Stream::per_table(name, input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![t]);
        }
        // Each level: the rows (of the input) it has values on, and the values.
        let mut levels: Vec<(Vec<usize>, Vec<Option<f64>>)> = Vec::with_capacity(depth);
        let (rows, values) = ema(&numbers(t.need("_value")?)?, n);
        levels.push((rows, values));
        for _ in 1..depth {
            let (prev_rows, prev_values) = &levels[levels.len() - 1];
            let (at, values) = ema(prev_values, n);
            levels.push((at.iter().map(|&j| prev_rows[j]).collect(), values));
        }
        let (last_rows, last_values) = &levels[depth - 1];
        let value_at = |level: usize, row: usize| -> Option<f64> {
            let (rows, values) = &levels[level];
            rows.binary_search(&row).ok().and_then(|i| values[i])
        };
        let combined: Vec<Option<f64>> = last_rows
            .iter()
            .zip(last_values)
            .map(|(&row, last)| match depth {
                2 => Some(2.0 * value_at(0, row)? - (*last)?),
                _ => Some(3.0 * value_at(0, row)? - 3.0 * value_at(1, row)? + (*last)?),
            })
            .collect();
        let rows: Vec<u32> = last_rows.iter().map(|&r| r as u32).collect();
        Ok(vec![super::series::set_value(&t, &rows, combined)?])
    }))
}

/// The Chande momentum oscillator over `n` changes, 100 (ups − downs) /
/// (ups + downs), from row `n` on; with `efficiency`, Kaufman's efficiency
/// ratio (its absolute value over 100) of `_value`.
fn chande(a: &Args, name: &'static str, efficiency: bool) -> EvalResult<Value> {
    let n = period(a, name)?;
    let columns = if efficiency {
        vec!["_value".to_owned()]
    } else {
        str_list(a, "columns")?.unwrap_or_else(|| vec!["_value".into()])
    };
    out(Stream::per_table(name, input(a)?, move |_, t| {
        let mut new_columns = Vec::new();
        for c in &columns {
            let Some(col) = t.column(c) else { continue };
            let vs = numbers(col).map_err(|_| {
                EvalError::invalid(format!(
                    "cannot take chande momentum oscillator of column {c} (type {})",
                    type_name(col)
                ))
            })?;
            // Missing values count as zero, as Flux reads them.
            let vs: Vec<f64> = vs.iter().map(|v| v.unwrap_or(0.0)).collect();
            let mut out = Vec::new();
            let (mut ups, mut downs) = (0.0, 0.0);
            for i in 0..vs.len() {
                let change = if i == 0 { 0.0 } else { vs[i] - vs[i - 1] };
                if change > 0.0 {
                    ups += change;
                } else if change < 0.0 {
                    downs -= change;
                }
                if i >= n {
                    let value = 100.0 * (ups - downs) / (ups + downs);
                    out.push(if efficiency { value.abs() / 100.0 } else { value });
                    let oldest = vs[i - n + 1] - vs[i - n];
                    if oldest > 0.0 {
                        ups -= oldest;
                    } else {
                        downs += oldest;
                    }
                }
            }
            new_columns.push((c.clone(), Arc::new(Float64Array::from(out)) as ArrayRef));
        }
        let kept = t.num_rows().saturating_sub(n);
        let mut cols = Vec::new();
        for (c, values) in t.columns() {
            match new_columns.iter().find(|(m, _)| *m == c) {
                Some((_, x)) => cols.push((c, Arc::clone(x))),
                None => cols.push((c, values.slice(t.num_rows() - kept, kept))),
            }
        }
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}

fn type_name(c: &ArrayRef) -> &'static str {
    flux_runtime::table::type_label(c.data_type())
}

/// The covariance (or, with `pearsonr`, the Pearson correlation) of two float
/// columns, one row per table: the group key and `valueDst`.
fn covariance(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let columns = str_list(a, "columns")?.unwrap_or_default();
    if columns.len() != 2 {
        return fail("covariance: must specify exactly two columns");
    }
    let pearson = bool_arg(a, "pearsonr", false)?;
    let dst = str_arg(a, "valueDst", "_value")?;
    out(Stream::per_table("covariance", input(a)?, move |_, t| {
        let column = |name: &str| {
            t.column(name)
                .cloned()
                .ok_or_else(|| EvalError::invalid(format!("specified column does not exist in table: {name}")))
        };
        let (x, y) = (column(&columns[0])?, column(&columns[1])?);
        if x.data_type() != y.data_type() {
            return fail("cannot compute the covariance between different types");
        }
        let (Some(xs), Some(ys)) =
            (x.as_any().downcast_ref::<Float64Array>(), y.as_any().downcast_ref::<Float64Array>())
        else {
            return fail(format!("covariance does not support {}", type_name(&x)));
        };
        // Welford's running means and co-moments.
        let (mut n, mut xm, mut ym, mut xm2, mut ym2, mut xym2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..xs.len() {
            if xs.is_null(i) || ys.is_null(i) {
                continue;
            }
            let (xv, yv) = (xs.value(i), ys.value(i));
            n += 1.0;
            let (dx, dy) = (xv - xm, yv - ym);
            xm += dx / n;
            ym += dy / n;
            let (dx2, dy2) = (xv - xm, yv - ym);
            xm2 += dx * dx2;
            ym2 += dy * dy2;
            xym2 += dx * dy2;
        }
        let value = if n < 2.0 {
            f64::NAN
        } else if pearson {
            xym2 / (xm2 * ym2).sqrt()
        } else {
            xym2 / (n - 1.0)
        };
        let col: ArrayRef = Arc::new(Float64Array::from(vec![value]));
        Ok(vec![with_key_columns(&t, 1, vec![(dst.clone(), col)])?])
    }))
}

/// `cov(x, y, on)`: `join(tables: {x, y}, on)` then `covariance` of
/// `_value_x` and `_value_y`; `pearsonr` is the same with the correlation.
fn cov(i: &mut Interp, a: &Args, pearson: Option<bool>) -> EvalResult<Value> {
    let pearson = match pearson {
        Some(p) => p,
        None => bool_arg(a, "pearsonr", false)?,
    };
    let mut tables = Record::default();
    tables.insert("x".into(), a.required("x")?.clone());
    tables.insert("y".into(), a.required("y")?.clone());
    let joined = call(i, "join", vec![("tables", Value::Record(Rc::new(tables))), ("on", a.required("on")?.clone())])?;
    let columns = Value::Array(Rc::new(vec![Value::String("_value_x".into()), Value::String("_value_y".into())]));
    call(i, "covariance", vec![("tables", joined), ("pearsonr", Value::Bool(pearson)), ("columns", columns)])
}

/// Calls a universe function with named arguments.
fn call(i: &mut Interp, name: &str, args: Vec<(&str, Value)>) -> EvalResult<Value> {
    let f = i.universe.get(name).ok_or_else(|| EvalError::invalid(format!("no {name}")))?;
    let mut call = Args::default();
    for (k, v) in args {
        call.named.insert(k.into(), v);
    }
    i.call(&f, call)
}

/// The time-weighted average: the linearly interpolated integral in `unit`s,
/// over the table's `_start`–`_stop` span.
fn time_weighted_avg(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let unit = match a.required("unit")? {
        Value::Duration(d) => *d,
        v => return fail(format!("timeWeightedAvg: unit must be a duration, got {}", v.type_name())),
    };
    let (_, unit_ns) = unit.signed();
    let integrated = call(
        i,
        "integral",
        vec![
            ("tables", a.required("tables")?.clone()),
            ("unit", Value::Duration(unit)),
            ("interpolate", Value::String("linear".into())),
        ],
    )?;
    let Value::Stream(s) = integrated else { return fail("timeWeightedAvg: integral gave no tables") };
    out(Stream::per_table("timeWeightedAvg", s, move |_, t| {
        let value = numbers(t.need("_value")?)?;
        let bound = |name: &str| -> EvalResult<Vec<Option<i64>>> {
            let c = t.need(name)?;
            Ok(match c.as_any().downcast_ref::<arrow::array::TimestampNanosecondArray>() {
                Some(ts) => ts.iter().collect(),
                None => return fail(format!("timeWeightedAvg: {name} is not a time")),
            })
        };
        let (start, stop) = (bound("_start")?, bound("_stop")?);
        let averaged: Vec<Option<f64>> = (0..value.len())
            .map(|r| Some(value[r]? * (unit_ns as u64) as f64 / (stop[r]? - start[r]?) as f64))
            .collect();
        let mut cols = t.columns();
        for (n, c) in &mut cols {
            if n == "_value" {
                *c = Arc::new(Float64Array::from(averaged.clone()));
            }
        }
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}
