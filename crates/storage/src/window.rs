//! Window aggregates over one series: the windows of `[start, stop)` every
//! `every` from `offset`, each reduced by one of the pushed-down aggregates
//! (count, sum, mean, min, max, first, last), as Flux's `aggregateWindow`
//! would compute them over the raw rows.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array};

use crate::error::{Error, Result};
use crate::series::FieldType;

/// What a window is reduced to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
}

/// The last (or first) row in `[start, stop)` with a value, of rows sorted by time.
pub(crate) fn edge_row(times: &[i64], values: &dyn Array, start: i64, stop: i64, last: bool) -> Option<usize> {
    let lo = times.partition_point(|&t| t < start);
    let hi = times.partition_point(|&t| t < stop);
    if last { (lo..hi).rev().find(|&i| values.is_valid(i)) } else { (lo..hi).find(|&i| values.is_valid(i)) }
}

/// The start of the window holding `t`: windows are `[start, start + every)`
/// with starts at `offset + k * every` (computed wide: any bounds are safe).
pub(crate) fn window_start(t: i64, every: i64, offset: i64) -> i64 {
    let (t, every, offset) = (i128::from(t), i128::from(every), i128::from(offset));
    let ws = (t - offset).div_euclid(every) * every + offset;
    ws.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

pub(crate) type Windows = [(i64, std::ops::Range<usize>)];

/// Aggregates each window; returns the values, each window's `_time` (the
/// selected point's for selectors, the window's stop otherwise) and the value type.
pub(crate) fn aggregate_windows(
    agg: Aggregate,
    ft: FieldType,
    values: &ArrayRef,
    t: &[i64],
    windows: &Windows,
    stops: &[i64],
) -> Result<(ArrayRef, Vec<i64>, FieldType)> {
    let pick = |select: &dyn Fn(std::ops::Range<usize>) -> Option<usize>| -> (Vec<Option<usize>>, Vec<i64>) {
        let idx: Vec<Option<usize>> = windows.iter().map(|(_, r)| select(r.clone())).collect();
        let ts = idx.iter().zip(stops).map(|(i, stop)| i.map_or(*stop, |i| t[i])).collect();
        (idx, ts)
    };
    match agg {
        Aggregate::Count => {
            let counts = Int64Array::from_iter_values(windows.iter().map(|(_, r)| r.len() as i64));
            Ok((Arc::new(counts), stops.to_vec(), FieldType::Integer))
        }
        Aggregate::First | Aggregate::Last => {
            let (idx, ts) = pick(&|r: std::ops::Range<usize>| {
                if agg == Aggregate::First { r.clone().next() } else { r.clone().last() }
            });
            Ok((take_opt(values, &idx)?, ts, ft))
        }
        Aggregate::Min | Aggregate::Max => {
            let want_max = agg == Aggregate::Max;
            let (idx, ts) = match ft {
                FieldType::Float => {
                    let a = column::<Float64Array>(values, "float column")?;
                    pick(&|r| select_by(r, |i, j| a.value(i).partial_cmp(&a.value(j)), want_max))
                }
                FieldType::Integer => {
                    let a = column::<Int64Array>(values, "integer column")?;
                    pick(&|r| select_by(r, |i, j| a.value(i).partial_cmp(&a.value(j)), want_max))
                }
                FieldType::UInteger => {
                    let a = column::<UInt64Array>(values, "unsigned column")?;
                    pick(&|r| select_by(r, |i, j| a.value(i).partial_cmp(&a.value(j)), want_max))
                }
                FieldType::String => {
                    let a = column::<StringArray>(values, "string column")?;
                    pick(&|r| select_by(r, |i, j| a.value(i).partial_cmp(a.value(j)), want_max))
                }
                FieldType::Boolean => {
                    let a = column::<BooleanArray>(values, "boolean column")?;
                    pick(&|r| select_by(r, |i, j| a.value(i).partial_cmp(&a.value(j)), want_max))
                }
            };
            Ok((take_opt(values, &idx)?, ts, ft))
        }
        Aggregate::Sum | Aggregate::Mean => {
            let mean = agg == Aggregate::Mean;
            let arr: ArrayRef = match ft {
                FieldType::Float => {
                    let a = column::<Float64Array>(values, "float column")?;
                    let sums = windows
                        .iter()
                        .map(|(_, r)| (!r.is_empty()).then(|| r.clone().map(|i| a.value(i)).sum::<f64>()));
                    if mean {
                        Arc::new(Float64Array::from_iter(
                            sums.zip(windows).map(|(s, (_, r))| s.map(|s| s / r.len() as f64)),
                        ))
                    } else {
                        Arc::new(Float64Array::from_iter(sums))
                    }
                }
                FieldType::Integer => {
                    let a = column::<Int64Array>(values, "integer column")?;
                    if mean {
                        Arc::new(Float64Array::from_iter(windows.iter().map(|(_, r)| {
                            (!r.is_empty()).then(|| r.clone().map(|i| a.value(i) as f64).sum::<f64>() / r.len() as f64)
                        })))
                    } else {
                        Arc::new(Int64Array::from_iter(windows.iter().map(|(_, r)| {
                            (!r.is_empty()).then(|| r.clone().fold(0i64, |s, i| s.wrapping_add(a.value(i))))
                        })))
                    }
                }
                FieldType::UInteger => {
                    let a = column::<UInt64Array>(values, "unsigned column")?;
                    if mean {
                        Arc::new(Float64Array::from_iter(windows.iter().map(|(_, r)| {
                            (!r.is_empty()).then(|| r.clone().map(|i| a.value(i) as f64).sum::<f64>() / r.len() as f64)
                        })))
                    } else {
                        Arc::new(UInt64Array::from_iter(windows.iter().map(|(_, r)| {
                            (!r.is_empty()).then(|| r.clone().fold(0u64, |s, i| s.wrapping_add(a.value(i))))
                        })))
                    }
                }
                other => {
                    return Err(Error::Invalid(format!(
                        "cannot {} {other} values",
                        if mean { "average" } else { "sum" }
                    )));
                }
            };
            let out_type = if mean { FieldType::Float } else { ft };
            Ok((arr, stops.to_vec(), out_type))
        }
    }
}

/// The index of the least (or greatest) value in `r`; the first one on ties.
fn select_by(
    r: std::ops::Range<usize>,
    cmp: impl Fn(usize, usize) -> Option<std::cmp::Ordering>,
    want_max: bool,
) -> Option<usize> {
    let mut best: Option<usize> = None;
    for i in r {
        best = match best {
            None => Some(i),
            Some(b) => {
                let better = match cmp(i, b) {
                    Some(std::cmp::Ordering::Greater) => want_max,
                    Some(std::cmp::Ordering::Less) => !want_max,
                    _ => false,
                };
                Some(if better { i } else { b })
            }
        };
    }
    best
}

fn take_opt(values: &ArrayRef, idx: &[Option<usize>]) -> Result<ArrayRef> {
    let indices = arrow::array::UInt64Array::from_iter(idx.iter().map(|i| i.map(|i| i as u64)));
    Ok(arrow::compute::take(values.as_ref(), &indices, None)?)
}

/// `values` as the Arrow array type its field type says it is.
fn column<'a, A: 'static>(values: &'a ArrayRef, what: &str) -> Result<&'a A> {
    values.as_any().downcast_ref::<A>().ok_or_else(|| Error::Invalid(what.into()))
}
