//! Aggregates that storage computes per series and window (`count`, `sum`,
//! `mean`, `min`, `max`, `first`, `last` of a field), combined here across
//! each group's series.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, ArrayRef, TimestampNanosecondArray};
use storage::{Aggregate, ScanRequest};

use crate::ast::*;
use crate::condition::TimeRange;
use crate::error::{Error, Result};
use crate::value::{V, value_at};

use super::aggregate::tie_wins;
use super::window::{GroupKey, Interval, WindowRow, group_key, windows_for};

/// Each output field as a pushed aggregate of one field, when all of them are.
pub(super) fn pushable(
    fields: &[Field],
    types: &BTreeMap<String, storage::FieldType>,
) -> Option<Vec<(Aggregate, String)>> {
    fields
        .iter()
        .map(|f| {
            let Expr::Call { name, args } = &f.expr else { return None };
            let [Expr::VarRef { name: field, ty: None | Some(DataType::AnyField) }] = args.as_slice() else {
                return None;
            };
            let ty = types.get(field)?;
            let numeric =
                matches!(ty, storage::FieldType::Float | storage::FieldType::Integer | storage::FieldType::UInteger);
            let agg = match name.as_str() {
                "count" => Aggregate::Count,
                "sum" if numeric => Aggregate::Sum,
                "mean" if numeric => Aggregate::Mean,
                "min" if numeric => Aggregate::Min,
                "max" if numeric => Aggregate::Max,
                "first" => Aggregate::First,
                "last" => Aggregate::Last,
                _ => return None,
            };
            Some((agg, field.clone()))
        })
        .collect()
}

/// A window's value of one pushed aggregate across a group's series: the
/// value, and the time of the point a selector picked.
type Windowed = BTreeMap<i64, (V, i64)>;

/// Runs the plan's aggregates as storage window aggregates and combines each
/// group's series per window: the rows of each group.
#[allow(clippy::too_many_arguments)]
pub(super) fn pushdown(
    storage: &dyn storage::ReadApi,
    scan: &ScanRequest,
    plan: &[(Aggregate, String)],
    group_tags: &[String],
    range: &TimeRange,
    interval: Interval,
    now: i64,
) -> Result<BTreeMap<GroupKey, Vec<WindowRow>>> {
    // Without GROUP BY time, one window spanning the range.
    let (every, offset) = match interval {
        Some(i) => i,
        None => {
            let lo = range.min.unwrap_or(i64::MIN / 4);
            let hi = range.max.map_or(i64::MAX / 4, |m| m.saturating_add(1));
            let every = hi.saturating_sub(lo).max(1);
            (every, lo.rem_euclid(every))
        }
    };
    // Each (aggregate, field) storage must compute once; a mean is a sum and
    // a count, which combine across a group's series where means do not.
    let mut requests: Vec<(Aggregate, String)> = Vec::new();
    for (p, field) in plan {
        let aggs: &[Aggregate] = match p {
            Aggregate::Mean => &[Aggregate::Sum, Aggregate::Count],
            other => std::slice::from_ref(other),
        };
        for a in aggs {
            if !requests.iter().any(|(x, f)| x == a && f == field) {
                requests.push((*a, field.clone()));
            }
        }
    }
    let mut results: Vec<BTreeMap<Vec<(String, String)>, Windowed>> = vec![BTreeMap::new(); requests.len()];
    let mut first_time: Option<i64> = None;
    // Unbounded reads cover (almost) all time, within what window arithmetic allows.
    let mut scan = scan.clone();
    scan.start = scan.start.max(i64::MIN / 4);
    scan.stop = scan.stop.min(i64::MAX / 4);
    // One storage read per aggregate, for all the fields that want it.
    let mut kinds: Vec<Aggregate> = Vec::new();
    for (a, _) in &requests {
        if !kinds.contains(a) {
            kinds.push(*a);
        }
    }
    for agg in kinds {
        let mut req = scan.clone();
        req.fields = Some(requests.iter().filter(|(a, _)| *a == agg).map(|(_, f)| f.clone()).collect());
        let per_series = storage.window_aggregate(&storage::WindowRequest {
            scan: req,
            every,
            offset,
            aggregate: agg,
            create_empty: false,
        })?;
        for fs in per_series {
            let Some(slot) = requests.iter().position(|(a, f)| *a == agg && *f == fs.field) else { continue };
            let by_group = &mut results[slot];
            let starts = timestamps(fs.batch.column(0)).ok_or_else(|| Error::internal("window starts"))?;
            let times = timestamps(fs.batch.column(2)).ok_or_else(|| Error::internal("window times"))?;
            let values = values_at(fs.batch.column(3))?;
            let windows = by_group.entry(group_key(group_tags, &fs.series)).or_default();
            for (i, v) in values.into_iter().enumerate() {
                let Some(v) = v else { continue };
                let ws = (starts.value(i) - offset).div_euclid(every) * every + offset;
                let t = times.value(i);
                first_time = Some(first_time.map_or(ws, |f: i64| f.min(ws)));
                match windows.get_mut(&ws) {
                    None => {
                        windows.insert(ws, (v, t));
                    }
                    Some(have) => combine(agg, have, v, t),
                }
            }
        }
    }
    let windows = windows_for(range, interval, first_time, now);
    let lone_selector =
        plan.len() == 1 && matches!(plan[0].0, Aggregate::Min | Aggregate::Max | Aggregate::First | Aggregate::Last);
    let mut groups: BTreeSet<Vec<(String, String)>> = BTreeSet::new();
    for r in &results {
        groups.extend(r.keys().cloned());
    }
    let find = |agg: Aggregate, field: &str| requests.iter().position(|(a, f)| *a == agg && f == field);
    let mut out = BTreeMap::new();
    for key in groups {
        let mut rows = Vec::with_capacity(windows.len());
        for &(ws, _) in &windows {
            let mut time = if interval.is_some() { ws } else { range.min.unwrap_or(0) };
            let lookup_ws = if interval.is_some() {
                ws
            } else {
                (range.min.unwrap_or(i64::MIN / 4) - offset).div_euclid(every) * every + offset
            };
            let get = |agg: Aggregate, field: &str| {
                find(agg, field).and_then(|i| results[i].get(&key)).and_then(|w| w.get(&lookup_ws)).cloned()
            };
            let mut values = Vec::with_capacity(plan.len());
            for (p, field) in plan {
                let v = match p {
                    Aggregate::Count | Aggregate::Sum => get(*p, field).map(|(v, _)| v),
                    Aggregate::Mean => match (get(Aggregate::Sum, field), get(Aggregate::Count, field)) {
                        (Some((s, _)), Some((c, _))) => match (s.num(), c.num()) {
                            (Some(s), Some(c)) if c > 0.0 => Some(V::F(s / c)),
                            _ => None,
                        },
                        _ => None,
                    },
                    selector => get(*selector, field).map(|(v, t)| {
                        if lone_selector && interval.is_none() {
                            time = t;
                        }
                        v
                    }),
                };
                values.push(v);
            }
            rows.push((time, values));
        }
        out.insert(key, rows);
    }
    Ok(out)
}

/// Folds one series' window value into the group's.
fn combine(agg: Aggregate, have: &mut (V, i64), v: V, t: i64) {
    use Aggregate as A;
    match agg {
        A::Count | A::Sum => {
            have.0 = match (&have.0, &v) {
                (V::I(a), V::I(b)) => V::I(a.wrapping_add(*b)),
                (V::U(a), V::U(b)) => V::U(a.wrapping_add(*b)),
                _ => V::F(have.0.num().unwrap_or(0.0) + v.num().unwrap_or(0.0)),
            }
        }
        A::Min | A::Max => {
            let better = match v.cmp(&have.0) {
                Some(o) if agg == A::Max => o.is_gt() || (o.is_eq() && t < have.1),
                Some(o) => o.is_lt() || (o.is_eq() && t < have.1),
                None => false,
            };
            if better {
                *have = (v, t);
            }
        }
        A::First => {
            if t < have.1 || (t == have.1 && tie_wins(&v, &have.0, true)) {
                *have = (v, t);
            }
        }
        A::Last => {
            if t > have.1 || (t == have.1 && tie_wins(&v, &have.0, false)) {
                *have = (v, t);
            }
        }
        A::Mean => {}
    }
}

/// A column of times, if it is one.
fn timestamps(col: &ArrayRef) -> Option<&TimestampNanosecondArray> {
    col.as_any().downcast_ref::<TimestampNanosecondArray>()
}

/// An array's values, nulls as `None`.
fn values_at(col: &ArrayRef) -> Result<Vec<Option<V>>> {
    let get = |i: usize| {
        value_at(col, i).ok_or_else(|| Error::internal(format!("unsupported field type {}", col.data_type())))
    };
    (0..col.len()).map(|i| if col.is_null(i) { Ok(None) } else { get(i).map(Some) }).collect()
}
