//! Aggregates (one row per table: the key columns and the result) and
//! selectors (whole rows picked from each table).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, UInt32Array, UInt64Array};
use arrow::compute::SortOptions;
use arrow::datatypes::DataType;

use crate::args::{Def, fail, input, out, str_arg, str_list};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, arrow_err, cell, repeat, type_label};
use flux_runtime::value::Value;

pub(super) fn install(def: Def<'_>) {
    def("count", &["column"], Some("tables"), |i, a| aggregate(i, a, "count", Agg::Count));
    def("sum", &["column"], Some("tables"), |i, a| aggregate(i, a, "sum", Agg::Sum));
    def("mean", &["column"], Some("tables"), |i, a| aggregate(i, a, "mean", Agg::Mean));
    def("spread", &["column"], Some("tables"), |i, a| aggregate(i, a, "spread", Agg::Spread));
    def("stddev", &["column", "mode"], Some("tables"), stddev);
    def("median", &["column", "method", "compression"], Some("tables"), median);
    def("quantile", &["column", "q", "method", "compression"], Some("tables"), quantile);
    def("first", &["column"], Some("tables"), |i, a| select(i, a, "first", Pick::First));
    def("last", &["column"], Some("tables"), |i, a| select(i, a, "last", Pick::Last));
    def("min", &["column"], Some("tables"), |i, a| select(i, a, "min", Pick::Min));
    def("max", &["column"], Some("tables"), |i, a| select(i, a, "max", Pick::Max));
    def("top", &["n", "columns"], Some("tables"), |i, a| top(i, a, "top", true));
    def("bottom", &["n", "columns"], Some("tables"), |i, a| top(i, a, "bottom", false));
    def("distinct", &["column"], Some("tables"), distinct);
    def("unique", &["column"], Some("tables"), unique);
    def("mode", &["column"], Some("tables"), mode);
    def("skew", &["column"], Some("tables"), skew);
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Agg {
    Count,
    Sum,
    Mean,
    Spread,
    Stddev { population: bool },
}

/// A table of the key columns (their values repeated `n` times) and `columns`.
pub(crate) fn with_key_columns(t: &Table, n: usize, columns: Vec<(String, ArrayRef)>) -> EvalResult<Table> {
    let mut cols = Vec::with_capacity(t.key.0.len() + columns.len());
    for (k, v) in &t.key.0 {
        if columns.iter().any(|(c, _)| c == k) {
            continue;
        }
        let dt = t.column(k).map_or(DataType::Utf8, |c| c.data_type().clone());
        cols.push((k.clone(), repeat(v, &dt, n)));
    }
    cols.extend(columns);
    Table::with_key(t.key.clone(), cols)
}

/// Non-null values of a numeric column as floats.
pub(crate) fn floats(a: &ArrayRef) -> EvalResult<Vec<f64>> {
    let any = a.as_any();
    if let Some(x) = any.downcast_ref::<Float64Array>() {
        Ok(x.iter().flatten().collect())
    } else if let Some(x) = any.downcast_ref::<Int64Array>() {
        Ok(x.iter().flatten().map(|v| v as f64).collect())
    } else if let Some(x) = any.downcast_ref::<UInt64Array>() {
        Ok(x.iter().flatten().map(|v| v as f64).collect())
    } else {
        fail(format!("unsupported column type {}; expected a number", type_label(a.data_type())))
    }
}

/// One aggregate over a column, as a one-row array.
pub(crate) fn aggregate_array(agg: Agg, a: &ArrayRef) -> EvalResult<ArrayRef> {
    let any = a.as_any();
    let unsupported = || EvalError::invalid(format!("unsupported aggregate column type {}", type_label(a.data_type())));
    Ok(match agg {
        // Every record counts, null or not.
        Agg::Count => Arc::new(Int64Array::from(vec![a.len() as i64])),
        Agg::Sum => {
            if let Some(x) = any.downcast_ref::<Float64Array>() {
                Arc::new(Float64Array::from(vec![arrow::compute::sum(x)]))
            } else if let Some(x) = any.downcast_ref::<Int64Array>() {
                Arc::new(Int64Array::from(vec![arrow::compute::sum(x)]))
            } else if let Some(x) = any.downcast_ref::<UInt64Array>() {
                Arc::new(UInt64Array::from(vec![arrow::compute::sum(x)]))
            } else {
                return Err(unsupported());
            }
        }
        Agg::Mean => {
            let n = a.len() - a.null_count();
            let s = if let Some(x) = any.downcast_ref::<Float64Array>() {
                arrow::compute::sum(x)
            } else if let Some(x) = any.downcast_ref::<Int64Array>() {
                Some(x.iter().flatten().map(|v| v as f64).sum())
            } else if let Some(x) = any.downcast_ref::<UInt64Array>() {
                Some(x.iter().flatten().map(|v| v as f64).sum())
            } else {
                return Err(unsupported());
            };
            Arc::new(Float64Array::from(vec![if n == 0 { None } else { s.map(|s| s / n as f64) }]))
        }
        Agg::Spread => {
            if let Some(x) = any.downcast_ref::<Float64Array>() {
                let (lo, hi) = (arrow::compute::min(x), arrow::compute::max(x));
                Arc::new(Float64Array::from(vec![lo.zip(hi).map(|(l, h)| h - l)]))
            } else if let Some(x) = any.downcast_ref::<Int64Array>() {
                let (lo, hi) = (arrow::compute::min(x), arrow::compute::max(x));
                Arc::new(Int64Array::from(vec![lo.zip(hi).map(|(l, h)| h.wrapping_sub(l))]))
            } else if let Some(x) = any.downcast_ref::<UInt64Array>() {
                let (lo, hi) = (arrow::compute::min(x), arrow::compute::max(x));
                Arc::new(UInt64Array::from(vec![lo.zip(hi).map(|(l, h)| h - l)]))
            } else {
                return Err(unsupported());
            }
        }
        Agg::Stddev { population } => {
            let v = floats(a)?;
            let n = v.len() as f64;
            let d = if population { n } else { n - 1.0 };
            let sd = if v.is_empty() || d <= 0.0 {
                None
            } else {
                let mean = v.iter().sum::<f64>() / n;
                Some((v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / d).sqrt())
            };
            Arc::new(Float64Array::from(vec![sd]))
        }
    })
}

fn aggregate_with(name: &'static str, a: &Args, agg: Agg) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    let input = input(a)?;
    if let Some(spec) = flux_runtime::pushdown::open_scan(&input)
        && column == "_value"
        && let Some(s) =
            flux_runtime::pushdown::aggregate_named(name).and_then(|agg| flux_runtime::pushdown::bare(spec, agg))
    {
        return out(Rc::new(s));
    }
    out(Stream::per_table(name, input, move |_, t| {
        let c = t.need(&column)?;
        let v = aggregate_array(agg, c)?;
        Ok(vec![with_key_columns(&t, 1, vec![(column.clone(), v)])?])
    }))
}

use std::rc::Rc;

fn aggregate(_: &mut Interp, a: &Args, name: &'static str, agg: Agg) -> EvalResult<Value> {
    aggregate_with(name, a, agg)
}

fn stddev(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let population = match str_arg(a, "mode", "sample")?.as_str() {
        "sample" => false,
        "population" => true,
        m => return fail(format!("stddev: unknown mode {m:?}; use \"sample\" or \"population\"")),
    };
    aggregate_with("stddev", a, Agg::Stddev { population })
}

// ---- quantiles ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum QuantileMethod {
    EstimateTdigest,
    ExactMean,
    ExactSelector,
}

impl QuantileMethod {
    fn parse(s: &str) -> EvalResult<Self> {
        Ok(match s {
            "estimate_tdigest" => QuantileMethod::EstimateTdigest,
            "exact_mean" => QuantileMethod::ExactMean,
            "exact_selector" => QuantileMethod::ExactSelector,
            m => return fail(format!("unknown quantile method {m:?}")),
        })
    }
}

/// The `q` quantile of values in their row order: a t-digest estimate of
/// the given compression, or exact.
pub(crate) fn quantile_of(mut v: Vec<f64>, q: f64, method: QuantileMethod, compression: f64) -> Option<f64> {
    if method == QuantileMethod::EstimateTdigest {
        let mut digest = super::tdigest::TDigest::new(compression);
        for x in v {
            digest.add(x);
        }
        return digest.quantile(q);
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return None;
    }
    match method {
        QuantileMethod::EstimateTdigest => None,
        QuantileMethod::ExactMean => {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            if lo == hi {
                return Some(v[lo]);
            }
            Some(v[lo] * (hi as f64 - pos) + v[hi] * (pos - lo as f64))
        }
        QuantileMethod::ExactSelector => Some(v[selector_rank(n, q)]),
    }
}

/// The rank `exact_selector` picks among `n` sorted values.
fn selector_rank(n: usize, q: f64) -> usize {
    let k = (q * n as f64).ceil() as i64 - 1;
    k.clamp(0, n as i64 - 1) as usize
}

fn quantile_with(name: &'static str, a: &Args, q: f64) -> EvalResult<Value> {
    if !(0.0..=1.0).contains(&q) {
        return fail(format!("{name}: q must be between 0 and 1, got {q}"));
    }
    let column = str_arg(a, "column", "_value")?;
    let method = QuantileMethod::parse(&str_arg(a, "method", "estimate_tdigest")?)?;
    let compression = crate::args::float_arg(a, "compression", Some(1000.0))?;
    if compression <= 0.0 {
        return fail(format!("{name}: compression must be positive, got {compression}"));
    }
    out(Stream::per_table(name, input(a)?, move |_, t| {
        let c = t.need(&column)?;
        if method == QuantileMethod::ExactSelector {
            let idx = sorted_indices(c, false)?;
            let present: Vec<u32> = idx.into_iter().filter(|&i| !c.is_null(i as usize)).collect();
            if present.is_empty() {
                return Ok(vec![t.slice(0, 0)]);
            }
            return Ok(vec![t.take(&[present[selector_rank(present.len(), q)]])?]);
        }
        let r = quantile_of(floats(c)?, q, method, compression);
        Ok(vec![with_key_columns(&t, 1, vec![(column.clone(), Arc::new(Float64Array::from(vec![r])) as ArrayRef)])?])
    }))
}

fn quantile(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let q = crate::args::float_arg(a, "q", None)?;
    quantile_with("quantile", a, q)
}

fn median(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    quantile_with("median", a, 0.5)
}

// ---- selectors ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pick {
    First,
    Last,
    Min,
    Max,
}

/// The row a selector picks (nulls skipped; the first on ties).
pub(crate) fn pick_row(pick: Pick, c: &ArrayRef) -> EvalResult<Option<usize>> {
    let present = (0..c.len()).filter(|&i| !c.is_null(i));
    Ok(match pick {
        Pick::First => present.clone().next(),
        Pick::Last => present.clone().next_back(),
        Pick::Min | Pick::Max => {
            let want_max = pick == Pick::Max;
            macro_rules! extreme {
                ($arr:ty) => {{
                    let x = c.as_any().downcast_ref::<$arr>().expect("checked type");
                    let mut best: Option<usize> = None;
                    for i in present {
                        best = match best {
                            None => Some(i),
                            Some(b) => {
                                let better = if want_max { x.value(i) > x.value(b) } else { x.value(i) < x.value(b) };
                                Some(if better { i } else { b })
                            }
                        };
                    }
                    best
                }};
            }
            match c.data_type() {
                DataType::Float64 => extreme!(Float64Array),
                DataType::Int64 => extreme!(Int64Array),
                DataType::UInt64 => extreme!(UInt64Array),
                DataType::Timestamp(..) => extreme!(arrow::array::TimestampNanosecondArray),
                t => {
                    let which = if want_max { "MaxSelector" } else { "MinSelector" };
                    return fail(format!(
                        "invalid use of function: *universe.{which} has no implementation for type {}",
                        type_label(t)
                    ));
                }
            }
        }
    })
}

fn select(_: &mut Interp, a: &Args, name: &'static str, pick: Pick) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    let input = input(a)?;
    if let Some(spec) = flux_runtime::pushdown::open_scan(&input)
        && column == "_value"
        && let Some(s) =
            flux_runtime::pushdown::aggregate_named(name).and_then(|agg| flux_runtime::pushdown::bare(spec, agg))
    {
        return out(Rc::new(s));
    }
    out(Stream::per_table(name, input, move |_, t| {
        let c = t.need(&column)?;
        Ok(vec![match pick_row(pick, c)? {
            Some(i) => t.take(&[i as u32])?,
            None => t.slice(0, 0),
        }])
    }))
}

/// Row indices ordering a column (nulls first; stable).
pub(crate) fn sorted_indices(c: &ArrayRef, descending: bool) -> EvalResult<Vec<u32>> {
    sort_indices(&[c], descending)
}

/// Row indices ordering rows by several columns in turn (nulls lowest; stable).
pub(crate) fn sort_indices(columns: &[&ArrayRef], descending: bool) -> EvalResult<Vec<u32>> {
    let n = columns.first().map_or(0, |c| c.len());
    let position: ArrayRef = Arc::new(UInt32Array::from_iter_values(0..n as u32));
    let mut keys: Vec<arrow::compute::SortColumn> = columns
        .iter()
        .map(|c| arrow::compute::SortColumn {
            values: Arc::clone(c),
            options: Some(SortOptions { descending, nulls_first: !descending }),
        })
        .collect();
    keys.push(arrow::compute::SortColumn { values: position, options: Some(SortOptions::default()) });
    let idx = arrow::compute::lexsort_to_indices(&keys, None).map_err(arrow_err)?;
    Ok(idx.values().to_vec())
}

fn top(_: &mut Interp, a: &Args, name: &'static str, descending: bool) -> EvalResult<Value> {
    let n = crate::args::int_arg(a, "n", None)?.max(0) as usize;
    let columns = str_list(a, "columns")?.unwrap_or_else(|| vec!["_value".into()]);
    out(Stream::per_table(name, input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![]);
        }
        let cols = columns.iter().map(|c| t.need(c)).collect::<EvalResult<Vec<_>>>()?;
        let mut idx = sort_indices(&cols, descending)?;
        idx.truncate(n);
        Ok(vec![t.take(&idx)?])
    }))
}

/// A hashable cell, for distinct values.
#[derive(Hash, PartialEq, Eq, Clone)]
enum Distinct {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(u64),
    String(String),
    Time(i64),
}

fn distinct_of(v: &Value) -> Distinct {
    match v {
        Value::Bool(b) => Distinct::Bool(*b),
        Value::Int(x) => Distinct::Int(*x),
        Value::UInt(x) => Distinct::UInt(*x),
        Value::Float(x) => Distinct::Float(x.to_bits()),
        Value::String(s) => Distinct::String(s.clone()),
        Value::Time(t) => Distinct::Time(*t),
        _ => Distinct::Null,
    }
}

/// Rows holding the first appearance of each value of a column (null included).
fn first_appearances(c: &ArrayRef) -> Vec<u32> {
    let mut seen = HashSet::new();
    (0..c.len()).filter(|&i| seen.insert(distinct_of(&cell(c.as_ref(), i)))).map(|i| i as u32).collect()
}

fn distinct(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("distinct", input(a)?, move |_, t| {
        let c = t.need(&column)?;
        let idx = UInt32Array::from(first_appearances(c));
        let values = arrow::compute::take(c.as_ref(), &idx, None).map_err(arrow_err)?;
        let n = values.len();
        let mut key = t.key.clone();
        key.0.retain(|(k, _)| k != "_value");
        let t = Table { key, batch: t.batch.clone() };
        Ok(vec![with_key_columns(&t, n, vec![("_value".to_owned(), values)])?])
    }))
}

fn unique(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("unique", input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![]);
        }
        let c = t.need(&column)?;
        Ok(vec![t.take(&first_appearances(c))?])
    }))
}

fn mode(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("mode", input(a)?, move |_, t| {
        if t.is_empty() {
            return Ok(vec![]);
        }
        let c = t.need(&column)?;
        let mut counts: Vec<(Value, usize)> = Vec::new();
        let mut index: std::collections::HashMap<Distinct, usize> = std::collections::HashMap::new();
        for i in 0..c.len() {
            let v = cell(c.as_ref(), i);
            if matches!(v, Value::Null) {
                continue;
            }
            let slot = *index.entry(distinct_of(&v)).or_insert_with(|| {
                counts.push((v.clone(), 0));
                counts.len() - 1
            });
            counts[slot].1 += 1;
        }
        let best = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
        // Every value appearing once (or none at all): there is no mode.
        let mut modes: Vec<Value> = if best <= 1 && counts.len() != 1 {
            vec![Value::Null]
        } else {
            counts.into_iter().filter(|(_, n)| *n == best).map(|(v, _)| v).collect()
        };
        modes.sort_by(flux_runtime::table::cmp_values);
        let n = modes.len();
        let values = flux_runtime::table::array_of(c.data_type(), modes);
        Ok(vec![with_key_columns(&t, n, vec![(column.clone(), values)])?])
    }))
}

/// The skewness of a column: the third central moment over the second's 3/2 power.
fn skew(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("skew", input(a)?, move |_, t| {
        let v = floats(t.need(&column)?)?;
        let n = v.len() as f64;
        let result = if v.len() < 2 {
            None
        } else {
            let mean = v.iter().sum::<f64>() / n;
            let m2 = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            let m3 = v.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
            Some(m3 / m2.powf(1.5))
        };
        let col: ArrayRef = Arc::new(Float64Array::from(vec![result]));
        Ok(vec![with_key_columns(&t, 1, vec![(column.clone(), col)])?])
    }))
}
