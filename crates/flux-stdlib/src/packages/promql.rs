//! `internal/promql`: the functions PromQL translated to Flux calls, with
//! Prometheus's semantics (rates extrapolated to the range's edges, counter
//! resets, `histogram_quantile` over `le` buckets, `label_replace`, the date
//! functions). `quantile` and `join` are Flux: `flux/promql.flux`.

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::datatypes::DataType;
use chrono::{Datelike, TimeZone, Timelike};

use crate::args::{bool_arg, float_arg, str_arg};
use crate::args::{builtin, fail, stream};
use crate::transform::with_key_columns;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::Args;
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, cell, time_type, times_of};
use flux_runtime::value::Value;

pub(super) fn natives() -> Vec<(&'static str, Value)> {
    let tables = Some("tables");
    vec![
        (
            "changes",
            builtin("changes", &[], tables, |_, a| {
                each_table(a, "changes", |_, t| one_value(&t, changes(&values(&t)?)))
            }),
        ),
        (
            "resets",
            builtin("resets", &[], tables, |_, a| each_table(a, "resets", |_, t| one_value(&t, resets(&values(&t)?)))),
        ),
        ("timestamp", builtin("timestamp", &[], tables, |_, a| each_table(a, "timestamp", |_, t| timestamp(t)))),
        ("emptyTable", builtin("emptyTable", &[], None, |_, _| empty_table())),
        (
            "extrapolatedRate",
            builtin("extrapolatedRate", &["isCounter", "isRate"], tables, |_, a| {
                each_table(a, "extrapolatedRate", |a, t| {
                    let (counter, rate) = (bool_arg(a, "isCounter", false)?, bool_arg(a, "isRate", false)?);
                    let (start, stop) = (key_time(&t, "_start")?, key_time(&t, "_stop")?);
                    one_value(&t, extrapolated_rate(&samples(&t)?, start, stop, counter, rate))
                })
            }),
        ),
        (
            "instantRate",
            builtin("instantRate", &["isRate"], tables, |_, a| {
                each_table(a, "instantRate", |a, t| {
                    one_value(&t, instant_rate(&samples(&t)?, bool_arg(a, "isRate", false)?))
                })
            }),
        ),
        (
            "linearRegression",
            builtin("linearRegression", &["predict", "fromNow"], tables, |_, a| {
                each_table(a, "linearRegression", |a, t| {
                    let predict = match bool_arg(a, "predict", false)? {
                        true => Some((key_time(&t, "_stop")?, float_arg(a, "fromNow", Some(0.0))?)),
                        false => None,
                    };
                    one_value(&t, linear_regression(&samples(&t)?, predict))
                })
            }),
        ),
        (
            "holtWinters",
            builtin("holtWinters", &["smoothingFactor", "trendFactor"], tables, |_, a| {
                let sf = float_arg(a, "smoothingFactor", Some(0.0))?;
                let tf = float_arg(a, "trendFactor", Some(0.0))?;
                if sf <= 0.0 || sf >= 1.0 {
                    return fail(format!("invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"));
                }
                if tf <= 0.0 || tf >= 1.0 {
                    return fail(format!("invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"));
                }
                each_table(a, "holtWinters", |a, t| {
                    let sf = float_arg(a, "smoothingFactor", None)?;
                    let tf = float_arg(a, "trendFactor", None)?;
                    let values: Vec<f64> = samples(&t)?.into_iter().map(|(_, v)| v).collect();
                    one_value(&t, holt_winters(&values, sf, tf))
                })
            }),
        ),
        (
            "labelReplace",
            builtin("labelReplace", &["source", "destination", "regex", "replacement"], tables, |_, a| {
                each_table(a, "labelReplace", label_replace)
            }),
        ),
        (
            "promHistogramQuantile",
            builtin(
                "promHistogramQuantile",
                &["quantile", "countColumn", "upperBoundColumn", "valueColumn"],
                tables,
                |_, a| each_table(a, "promHistogramQuantile", histogram_quantile),
            ),
        ),
        (
            "promqlDayOfMonth",
            builtin("promqlDayOfMonth", &["timestamp"], None, |_, a| date_part(a, |t| t.day().into())),
        ),
        (
            "promqlDayOfWeek",
            builtin("promqlDayOfWeek", &["timestamp"], None, |_, a| {
                date_part(a, |t| t.weekday().num_days_from_sunday().into())
            }),
        ),
        (
            "promqlDaysInMonth",
            builtin("promqlDaysInMonth", &["timestamp"], None, |_, a| date_part(a, |t| days_in_month(t).into())),
        ),
        ("promqlHour", builtin("promqlHour", &["timestamp"], None, |_, a| date_part(a, |t| t.hour().into()))),
        ("promqlMinute", builtin("promqlMinute", &["timestamp"], None, |_, a| date_part(a, |t| t.minute().into()))),
        ("promqlMonth", builtin("promqlMonth", &["timestamp"], None, |_, a| date_part(a, |t| t.month().into()))),
        ("promqlYear", builtin("promqlYear", &["timestamp"], None, |_, a| date_part(a, |t| t.year().into()))),
    ]
}

type TableFn = fn(&Args, Table) -> EvalResult<Vec<Table>>;

/// `f` over each table of the piped input, with the call's arguments.
fn each_table(a: &Args, name: &'static str, f: TableFn) -> EvalResult<Value> {
    let input = stream(a, "tables")?;
    let args = Rc::new(a.clone());
    Ok(Value::Stream(Stream::per_table(name, input, move |_, t| f(&args, t))))
}

/// The table's key columns and one `_value`, or no table for `None`.
fn one_value(t: &Table, v: Option<f64>) -> EvalResult<Vec<Table>> {
    match v {
        None => Ok(vec![]),
        Some(v) => Ok(vec![with_key_columns(t, 1, vec![("_value".to_owned(), float_column(vec![v]))])?]),
    }
}

fn float_column(v: Vec<f64>) -> ArrayRef {
    Arc::new(Float64Array::from(v))
}

fn float_values(t: &Table, name: &str) -> EvalResult<Vec<Option<f64>>> {
    let c = t.need(name)?;
    match c.as_any().downcast_ref::<Float64Array>() {
        Some(f) => Ok(f.iter().collect()),
        None => fail(format!("column {name} must be of type float")),
    }
}

/// The non-null `_value`s, in row order.
fn values(t: &Table) -> EvalResult<Vec<f64>> {
    Ok(float_values(t, "_value")?.into_iter().flatten().collect())
}

/// (time, value) of the rows where both are set, in row order.
fn samples(t: &Table) -> EvalResult<Vec<(i64, f64)>> {
    let times = times_of(t.need("_time")?, "_time")?;
    let values = float_values(t, "_value")?;
    Ok(times.into_iter().zip(values).filter_map(|(t, v)| Some((t?, v?))).collect())
}

fn key_time(t: &Table, name: &str) -> EvalResult<i64> {
    match t.key.get(name) {
        Some(Value::Time(v)) => Ok(*v),
        Some(_) => fail(format!("{} column is not of time type", name.trim_start_matches('_'))),
        None => fail(format!("{} column not found: {name}", name.trim_start_matches('_'))),
    }
}

fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

/// How many times the value differs from the one before (NaN equals NaN).
fn changes(v: &[f64]) -> Option<f64> {
    let first = v.first()?;
    let mut prev = *first;
    let mut n = 0;
    for &x in &v[1..] {
        if x != prev && !(x.is_nan() && prev.is_nan()) {
            n += 1;
        }
        prev = x;
    }
    Some(f64::from(n))
}

/// How many times the value falls below the one before (a counter reset).
fn resets(v: &[f64]) -> Option<f64> {
    v.first()?;
    Some(v.windows(2).filter(|w| w[1] < w[0]).count() as f64)
}

/// The increase (or, with `rate`, per-second rate) over the range
/// `start..stop`: the change between the first and last samples (counter
/// resets corrected), extrapolated to the range's edges where the samples come
/// close to them, as Prometheus's `rate`, `increase` and `delta` do.
fn extrapolated_rate(s: &[(i64, f64)], start: i64, stop: i64, counter: bool, rate: bool) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let (first_t, first_v) = s[0];
    let (last_t, last_v) = s[s.len() - 1];
    let mut correction = 0.0;
    let mut prev = 0.0;
    for &(_, v) in s {
        if counter && v < prev {
            correction += prev;
        }
        prev = v;
    }
    let mut result = last_v - first_v + correction;
    let mut to_start = (first_t - start) as f64;
    let to_end = (stop - last_t) as f64;
    let sampled = (last_t - first_t) as f64;
    let average_gap = sampled / (s.len() - 1) as f64;
    // A counter does not go below zero: extrapolate no further back than its zero point.
    if counter && result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average_gap * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold { to_start } else { average_gap / 2.0 };
    interval += if to_end < threshold { to_end } else { average_gap / 2.0 };
    result *= interval / sampled;
    if rate {
        result /= seconds(stop - start);
    }
    Some(result)
}

/// The change between the last two samples (`idelta`), or with `rate` their
/// per-second rate, a drop counting as a counter reset (`irate`).
fn instant_rate(s: &[(i64, f64)], rate: bool) -> Option<f64> {
    let [.., (prev_t, prev_v), (last_t, last_v)] = s else { return None };
    let mut result = if rate && last_v < prev_v { *last_v } else { last_v - prev_v };
    let gap = last_t - prev_t;
    if gap == 0 {
        return None;
    }
    if rate {
        result /= seconds(gap);
    }
    Some(result)
}

/// The least-squares slope per second (`deriv`), or with `predict` (the
/// range's stop and a number of seconds) the value predicted that long after
/// the stop (`predict_linear`).
fn linear_regression(s: &[(i64, f64)], predict: Option<(i64, f64)>) -> Option<f64> {
    if s.len() < 2 {
        return None;
    }
    let origin = predict.map_or(s[0].0, |(stop, _)| stop);
    let (mut sum_x, mut sum_y, mut sum_xy, mut sum_x2) = (0.0, 0.0, 0.0, 0.0);
    for &(t, v) in s {
        let x = seconds(t - origin);
        sum_x += x;
        sum_y += v;
        sum_xy += x * v;
        sum_x2 += x * x;
    }
    let n = s.len() as f64;
    let slope = (sum_xy - sum_x * sum_y / n) / (sum_x2 - sum_x * sum_x / n);
    Some(match predict {
        None => slope,
        Some((_, from_now)) => slope * from_now + (sum_y / n - slope * sum_x / n),
    })
}

/// Double exponential smoothing: the last smoothed value, with smoothing
/// factor `sf` and trend factor `tf` (`holt_winters`).
fn holt_winters(v: &[f64], sf: f64, tf: f64) -> Option<f64> {
    if v.len() < 2 {
        return None;
    }
    let (mut previous, mut smoothed) = (0.0, v[0]);
    let mut trend = v[1] - v[0];
    for (i, &x) in v.iter().enumerate().skip(1) {
        if i > 1 {
            trend = tf * (smoothed - previous) + (1.0 - tf) * trend;
        }
        let next = sf * x + (1.0 - sf) * (smoothed + trend);
        previous = smoothed;
        smoothed = next;
    }
    Some(smoothed)
}

/// `_value` as the Unix time of each row's `_time` (else `_stop`) in
/// seconds, to the millisecond.
fn timestamp(t: Table) -> EvalResult<Vec<Table>> {
    let name = if t.has("_time") { "_time" } else { "_stop" };
    let times = times_of(t.need(name)?, name)?;
    t.need("_value")?;
    let stamps: Vec<Option<f64>> = times.into_iter().map(|x| x.map(|n| (n / 1_000_000) as f64 / 1e3)).collect();
    let columns = t
        .columns()
        .into_iter()
        .map(
            |(n, c)| if n == "_value" { (n, Arc::new(Float64Array::from(stamps.clone())) as ArrayRef) } else { (n, c) },
        )
        .collect();
    Ok(vec![Table::with_key(t.key.clone(), columns)?])
}

fn empty_table() -> EvalResult<Value> {
    let key = GroupKey(vec![("_start".into(), Value::Time(0)), ("_stop".into(), Value::Time(0))]);
    let fields = [
        ("_start".to_owned(), time_type()),
        ("_stop".to_owned(), time_type()),
        ("_time".to_owned(), time_type()),
        ("_value".to_owned(), DataType::Float64),
    ];
    Ok(Value::Stream(Stream::tables(vec![Table::empty(key, &fields)?])))
}

/// `label_replace`: where `regex` matches all of the `source` key column's
/// value, the `destination` key column becomes `replacement` with the
/// matched groups expanded (`$1`, `${name}`), or is removed when that comes
/// out empty. The tables keep their key columns and `_value`.
fn label_replace(a: &Args, t: Table) -> EvalResult<Vec<Table>> {
    let source = str_arg(a, "source", "")?;
    let destination = str_arg(a, "destination", "")?;
    let pattern = str_arg(a, "regex", "")?;
    let replacement = str_arg(a, "replacement", "")?;
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
        flux_runtime::error::EvalError::invalid(format!("invalid regular expression in label_replace(): {pattern}"))
    })?;
    let value = match t.key.get(&source) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let mut key = t.key.clone();
    if let Some(caps) = re.captures(&value) {
        let mut replaced = String::new();
        caps.expand(&replacement, &mut replaced);
        key.0.retain(|(k, _)| *k != destination);
        if !replaced.is_empty() {
            key.0.push((destination.clone(), Value::String(replaced)));
        }
    }
    let n = t.num_rows();
    let mut columns: Vec<(String, ArrayRef)> = key
        .0
        .iter()
        .map(|(k, v)| {
            let dt = t.column(k).map_or(DataType::Utf8, |c| c.data_type().clone());
            (k.clone(), flux_runtime::table::repeat(v, &dt, n))
        })
        .collect();
    columns.push(("_value".to_owned(), Arc::clone(t.need("_value")?)));
    Ok(vec![Table::with_key(key, columns)?])
}

/// `histogram_quantile`: the `quantile` of a table of cumulative buckets
/// (count in `countColumn`, upper bound in the string `upperBoundColumn`,
/// `+Inf` last), interpolated linearly within its bucket, as Prometheus
/// computes it.
fn histogram_quantile(a: &Args, t: Table) -> EvalResult<Vec<Table>> {
    let q = float_arg(a, "quantile", Some(0.0))?;
    let count_column = str_arg(a, "countColumn", "_value")?;
    let bound_column = str_arg(a, "upperBoundColumn", "le")?;
    let value_column = str_arg(a, "valueColumn", "_value")?;
    let Some(counts) = t.column(&count_column) else {
        return fail(format!("table is missing count column {count_column:?}"));
    };
    let Some(counts) = counts.as_any().downcast_ref::<Float64Array>() else {
        return fail(format!("count column {count_column:?} must be of type float"));
    };
    let Some(bounds) = t.column(&bound_column) else {
        // No buckets at all: an empty table.
        let empty = Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef;
        return Ok(vec![with_key_columns(&t, 0, vec![(value_column, empty)])?]);
    };
    if bounds.data_type() != &DataType::Utf8 {
        return fail(format!("upper bound column {bound_column:?} must be of type string"));
    }
    let mut buckets = Vec::with_capacity(t.num_rows());
    for i in 0..t.num_rows() {
        if counts.is_null(i) {
            return fail("unexpected null in the countColumn");
        }
        // A bucket whose bound is missing or not a number is left out.
        if let Value::String(b) = cell(bounds.as_ref(), i)
            && let Ok(bound) = b.parse::<f64>()
        {
            buckets.push((bound, counts.value(i)));
        }
    }
    buckets.sort_by(|x, y| x.0.total_cmp(&y.0));
    let v = bucket_quantile(q, buckets);
    Ok(vec![with_key_columns(&t, 1, vec![(value_column, float_column(vec![v]))])?])
}

/// Prometheus's quantile of sorted (upper bound, cumulative count) buckets.
fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Buckets of one bound are one; counts never fall as bounds rise.
    buckets.dedup_by(|b, kept| {
        let same = b.0 == kept.0;
        if same {
            kept.1 += b.1;
        }
        same
    });
    let mut most = f64::NEG_INFINITY;
    for b in &mut buckets {
        most = most.max(b.1);
        b.1 = most;
    }
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let total = buckets[buckets.len() - 1].1;
    let mut rank = q * total;
    let i = buckets[..buckets.len() - 1].partition_point(|b| b.1 < rank);
    if i == buckets.len() - 1 {
        return buckets[buckets.len() - 2].0;
    }
    if i == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (mut start, end, mut count) = (0.0, buckets[i].0, buckets[i].1);
    if i > 0 {
        start = buckets[i - 1].0;
        count -= buckets[i - 1].1;
        rank -= buckets[i - 1].1;
    }
    start + (end - start) * (rank / count)
}

fn days_in_month(t: &chrono::DateTime<chrono::Utc>) -> u32 {
    let (y, m) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    let first_of_next = chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default();
    first_of_next.pred_opt().map_or(31, |d| d.day())
}

/// A date function of PromQL: a part of the Unix time `timestamp` (in
/// seconds), in UTC.
fn date_part(a: &Args, part: fn(&chrono::DateTime<chrono::Utc>) -> f64) -> EvalResult<Value> {
    let secs = match a.required("timestamp")? {
        Value::Float(x) => *x,
        v => return fail(format!("cannot convert argument of type {} to float", v.type_name())),
    };
    Ok(Value::Float(part(&chrono::Utc.timestamp_nanos((secs * 1e9) as i64))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_extrapolate_to_the_range_edges() {
        // Samples every 10 s from 5 s into a 60 s range: 0, 10, ..., 50.
        let s: Vec<(i64, f64)> = (0..6).map(|i| ((5 + 10 * i) * 1_000_000_000, (10 * i) as f64)).collect();
        // Increase 50 over 50 s, extended by 5 s at each end: 60.
        let close = |got: Option<f64>, want: f64| assert!((got.unwrap() - want).abs() < 1e-9, "{got:?} {want}");
        close(extrapolated_rate(&s, 0, 60_000_000_000, false, false), 60.0);
        close(extrapolated_rate(&s, 0, 60_000_000_000, false, true), 1.0);
        // A counter that starts at 0 is not extended back past its zero point.
        close(extrapolated_rate(&s, 0, 60_000_000_000, true, false), 55.0);
        // A counter reset from 50 to 5 adds the 50 lost.
        let reset = [(0, 40.0), (10_000_000_000, 50.0), (20_000_000_000, 5.0)];
        assert_eq!(extrapolated_rate(&reset, 0, 20_000_000_000, true, false), Some(15.0));
        assert_eq!(instant_rate(&reset, true), Some(0.5));
        assert_eq!(instant_rate(&reset, false), Some(-45.0));
        assert_eq!(extrapolated_rate(&s[..1], 0, 1, false, false), None);
    }

    #[test]
    fn histogram_quantiles_interpolate_within_buckets() {
        let b = vec![(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (f64::INFINITY, 40.0)];
        let close = |got: f64, want: f64| assert!((got - want).abs() < 1e-12, "{got} {want}");
        // Rank 20 of 40 falls in (0.1, 0.5] at 10 of its 20: halfway.
        close(bucket_quantile(0.5, b.clone()), 0.3);
        // Rank 39.6 falls in (0.5, 1.0] at 9.6 of its 10.
        close(bucket_quantile(0.99, b.clone()), 0.5 + 0.5 * 0.96);
        // In the +Inf bucket: the bound below it.
        close(bucket_quantile(1.0, vec![(1.0, 30.0), (f64::INFINITY, 40.0)]), 1.0);
        assert_eq!(bucket_quantile(1.5, b.clone()), f64::INFINITY);
        assert!(bucket_quantile(0.5, vec![(1.0, 3.0)]).is_nan());
    }

    #[test]
    fn counts_of_changes_and_resets_and_date_parts() {
        assert_eq!(changes(&[1.0, 1.0, 2.0, f64::NAN, f64::NAN, 1.0]), Some(3.0));
        assert_eq!(resets(&[1.0, 3.0, 2.0, 5.0, 0.0]), Some(2.0));
        assert_eq!(changes(&[]), None);
        let feb = chrono::Utc.timestamp_opt(1_582_934_400, 0).unwrap(); // 2020-02-29
        assert_eq!(days_in_month(&feb), 29);
        assert_eq!(linear_regression(&[(0, 1.0), (2_000_000_000, 5.0)], None), Some(2.0));
        assert_eq!(linear_regression(&[(0, 1.0), (2_000_000_000, 5.0)], Some((2_000_000_000, 1.0))), Some(7.0));
        assert_eq!(holt_winters(&[1.0, 2.0, 3.0], 0.5, 0.5), Some(3.0));
    }
}
