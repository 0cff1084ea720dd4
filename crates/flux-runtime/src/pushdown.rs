//! Window aggregates that storage runs inside the scan: `aggregateWindow` and
//! bare `count/sum/mean/min/max/first/last` directly over `from |> range |> filter`.
//! Each gives exactly the tables the same query gives without pushdown.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use crate::error::{EvalError, EvalResult};
use crate::scan::{GroupSpec, ScanSpec, WindowShape, WindowSpec};
use crate::stream::Stream;
use crate::table::{GroupKey, Table, cell, repeat, time_type};
use crate::value::Value;

/// The storage aggregate for a builtin of this name.
pub fn aggregate_named(name: &str) -> Option<storage::Aggregate> {
    Some(match name {
        "count" => storage::Aggregate::Count,
        "sum" => storage::Aggregate::Sum,
        "mean" => storage::Aggregate::Mean,
        "min" => storage::Aggregate::Min,
        "max" => storage::Aggregate::Max,
        "first" => storage::Aggregate::First,
        "last" => storage::Aggregate::Last,
        _ => return None,
    })
}

pub fn is_selector(a: storage::Aggregate) -> bool {
    matches!(
        a,
        storage::Aggregate::Min | storage::Aggregate::Max | storage::Aggregate::First | storage::Aggregate::Last
    )
}

/// The scan a stream is, if a window aggregate can still be added to it.
pub fn open_scan(s: &Stream) -> Option<&ScanSpec> {
    match s {
        Stream::Scan(spec) if spec.window.is_none() && spec.range.is_some() => Some(spec),
        _ => None,
    }
}

/// Whether storage can run this aggregate for the scan (a grouped scan needs
/// one that combines across series).
pub fn pushable(spec: &ScanSpec, aggregate: storage::Aggregate) -> bool {
    spec.group.as_ref().is_none_or(|g| can_merge(g, aggregate))
}

/// `scan |> agg()` as one storage window aggregate spanning the range.
pub fn bare(spec: &ScanSpec, aggregate: storage::Aggregate) -> Option<Stream> {
    if !pushable(spec, aggregate) {
        return None;
    }
    let (start, stop) = spec.range?;
    let every = stop.checked_sub(start)?;
    if every <= 0 {
        return None;
    }
    let mut spec = spec.clone();
    spec.window = Some(WindowSpec { every, offset: start, aggregate, create_empty: false, shape: WindowShape::Bare });
    Some(Stream::Scan(spec))
}

/// A table from one series' window aggregate.
pub fn window_table(fs: &storage::FieldSeries, w: &WindowSpec, start: i64, stop: i64) -> EvalResult<Table> {
    let b = &fs.batch;
    let col = |name: &str| -> EvalResult<ArrayRef> {
        b.column_by_name(name)
            .cloned()
            .ok_or_else(|| EvalError::internal(format!("storage window aggregate has no {name} column")))
    };
    let n = b.num_rows();
    let mut columns: Vec<(String, ArrayRef)> = vec![
        ("_start".into(), repeat(&Value::Time(start), &time_type(), n)),
        ("_stop".into(), repeat(&Value::Time(stop), &time_type(), n)),
    ];
    let mut tail: Vec<(String, ArrayRef)> = Vec::new();
    let selector = is_selector(w.aggregate);
    match w.shape {
        WindowShape::AggregateWindow { time_from_start } => {
            let t = col(if time_from_start { "_start" } else { "_stop" })?;
            columns.push(("_time".into(), t));
            columns.push(("_value".into(), col("_value")?));
        }
        WindowShape::Bare if selector => {
            columns.push(("_time".into(), col("_time")?));
            columns.push(("_value".into(), col("_value")?));
        }
        // Aggregates keep the key columns, then the value.
        WindowShape::Bare => tail.push(("_value".into(), col("_value")?)),
    }
    let mut key = vec![("_start".to_owned(), Value::Time(start)), ("_stop".to_owned(), Value::Time(stop))];
    let field = Value::String(fs.field.clone());
    let measurement = Value::String(fs.series.measurement.clone());
    columns.push(("_field".into(), repeat(&field, &DataType::Utf8, n)));
    columns.push(("_measurement".into(), repeat(&measurement, &DataType::Utf8, n)));
    key.push(("_field".into(), field));
    key.push(("_measurement".into(), measurement));
    for (k, v) in &fs.series.tags {
        let v = Value::String(v.clone());
        columns.push((k.clone(), repeat(&v, &DataType::Utf8, n)));
        key.push((k.clone(), v));
    }
    columns.extend(tail);
    let columns = columns.into_iter().map(|(n, c)| (n, Arc::clone(&c))).collect();
    Table::with_key(GroupKey(key), columns)
}

/// A group's key: its columns' values for one series (a tag the series lacks is not in it).
fn series_key(fs: &storage::FieldSeries, g: &GroupSpec, start: i64, stop: i64) -> Vec<(String, Value)> {
    let mut names: Vec<String> = vec!["_start".into(), "_stop".into(), "_time".into(), "_value".into()];
    names.push("_field".into());
    names.push("_measurement".into());
    names.extend(fs.series.tags.iter().map(|(k, _)| k.clone()));
    let wanted = g.key_of(&names);
    names
        .iter()
        .filter(|n| wanted.contains(n))
        .filter_map(|n| {
            let v = match n.as_str() {
                "_start" => Value::Time(start),
                "_stop" => Value::Time(stop),
                "_field" => Value::String(fs.field.clone()),
                "_measurement" => Value::String(fs.series.measurement.clone()),
                // Per-row columns cannot be a scan's group key; the caller checks.
                "_time" | "_value" => return None,
                tag => Value::String(fs.series.tag(tag)?.to_owned()),
            };
            Some((n.clone(), v))
        })
        .collect()
}

/// Whether a grouped scan's window aggregate can merge per-series results:
/// the aggregate combines across series, and the key holds no per-row column.
pub fn can_merge(g: &GroupSpec, aggregate: storage::Aggregate) -> bool {
    let per_row = |c: &str| c == "_time" || c == "_value";
    let keyed_by_row = if g.except {
        !g.columns.iter().any(|c| c == "_time") || !g.columns.iter().any(|c| c == "_value")
    } else {
        g.columns.iter().any(|c| per_row(c))
    };
    aggregate != storage::Aggregate::Mean && !keyed_by_row
}

/// One window of a group: the running result and which series gave it.
#[derive(Clone)]
struct Acc {
    value: Value,
    /// For selectors: the series (index in the group) of the chosen row.
    from: Option<usize>,
}

/// `group() |> aggregateWindow()` (or a bare aggregate) from per-series window
/// aggregates: each window's results combine across the group's series as the
/// aggregate over the grouped rows would (a sum of sums, a max of maxes with the
/// first series winning ties, the first series' first, the last series' last).
pub fn grouped_windows(
    series: &[storage::FieldSeries],
    w: &WindowSpec,
    g: &GroupSpec,
    start: i64,
    stop: i64,
) -> EvalResult<Vec<Table>> {
    use storage::Aggregate as A;
    // Each group's key and its series (indices into `series`), in order of appearance.
    type Group = (Vec<(String, Value)>, Vec<usize>);
    let mut groups: Vec<Group> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, fs) in series.iter().enumerate() {
        let key = series_key(fs, g, start, stop);
        let id = format!("{key:?}");
        let slot = *index.entry(id).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(i);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, members) in groups {
        // Window start → (window _start, _stop, _time of a selected row, accumulated value).
        let mut windows: std::collections::BTreeMap<i64, (i64, i64, i64, Acc)> = std::collections::BTreeMap::new();
        for (pos, &si) in members.iter().enumerate() {
            let b = &series[si].batch;
            let col = |n: &str| b.column_by_name(n).cloned();
            let (Some(ws), Some(we), Some(wt), Some(vals)) = (col("_start"), col("_stop"), col("_time"), col("_value"))
            else {
                return Err(EvalError::internal("storage window aggregate lacks its columns"));
            };
            let times = |a: &ArrayRef, r: usize| match cell(a.as_ref(), r) {
                Value::Time(t) => t,
                _ => 0,
            };
            for r in 0..b.num_rows() {
                let (s, e, t) = (times(&ws, r), times(&we, r), times(&wt, r));
                let v = cell(vals.as_ref(), r);
                let entry = windows.entry(s).or_insert((s, e, t, Acc { value: Value::Null, from: None }));
                let acc = &mut entry.3;
                let take = match (&acc.value, &v) {
                    (_, Value::Null) => false,
                    (Value::Null, _) => true,
                    (have, new) => match w.aggregate {
                        A::Max => crate::table::cmp_values(new, have).is_gt(),
                        A::Min => crate::table::cmp_values(new, have).is_lt(),
                        A::First => false,
                        A::Last => true,
                        A::Sum | A::Count | A::Mean => {
                            acc.value = crate::ops::binary("+", have.clone(), new.clone())?;
                            false
                        }
                    },
                };
                if take {
                    acc.value = v;
                    acc.from = Some(pos);
                    entry.2 = t;
                }
            }
        }
        if windows.is_empty() {
            continue;
        }
        out.push(group_table(series, &members, key, &windows, w, start, stop)?);
    }
    // In key order, as grouping tables orders them.
    crate::group::sort_by_key(&mut out);
    Ok(out)
}

fn group_table(
    series: &[storage::FieldSeries],
    members: &[usize],
    key: Vec<(String, Value)>,
    windows: &std::collections::BTreeMap<i64, (i64, i64, i64, Acc)>,
    w: &WindowSpec,
    start: i64,
    stop: i64,
) -> EvalResult<Table> {
    let selector = is_selector(w.aggregate);
    let rows: Vec<&(i64, i64, i64, Acc)> = windows.values().collect();
    let n = rows.len();
    let stamp = |r: &(i64, i64, i64, Acc)| match w.shape {
        WindowShape::AggregateWindow { time_from_start: true } => r.0,
        WindowShape::AggregateWindow { time_from_start: false } => r.1,
        WindowShape::Bare => r.2,
    };
    let value_type =
        series[members[0]].batch.column_by_name("_value").map_or(DataType::Float64, |c| c.data_type().clone());
    let time_col = crate::table::array_of(&time_type(), rows.iter().map(|r| Value::Time(stamp(r))));
    let value_col = crate::table::array_of(&value_type, rows.iter().map(|r| r.3.value.clone()));
    let bare_aggregate = !selector && w.shape == WindowShape::Bare;
    // A bare aggregate keeps only the key's columns, `_start`/`_stop` among them only if grouped by.
    let mut columns: Vec<(String, ArrayRef)> = Vec::new();
    for (name, v) in [("_start", start), ("_stop", stop)] {
        if !bare_aggregate || key.iter().any(|(k, _)| k == name) {
            columns.push((name.into(), repeat(&Value::Time(v), &time_type(), n)));
        }
    }
    if !bare_aggregate {
        columns.push(("_time".into(), time_col));
    }
    if !bare_aggregate {
        columns.push(("_value".into(), Arc::clone(&value_col)));
    }
    // Every other column: a selector's row keeps its series' values; an aggregate keeps the key.
    let mut names: Vec<String> = vec!["_field".into(), "_measurement".into()];
    for &si in members {
        for (k, _) in &series[si].series.tags {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let value_of = |si: usize, name: &str| -> Value {
        let fs = &series[si];
        match name {
            "_field" => Value::String(fs.field.clone()),
            "_measurement" => Value::String(fs.series.measurement.clone()),
            tag => fs.series.tag(tag).map_or(Value::Null, |v| Value::String(v.to_owned())),
        }
    };
    for name in names {
        if let Some((_, v)) = key.iter().find(|(k, _)| *k == name) {
            columns.push((name, repeat(v, &DataType::Utf8, n)));
        } else if selector {
            let values = rows.iter().map(|r| r.3.from.map_or(Value::Null, |p| value_of(members[p], &name)));
            let array = crate::table::array_of(&DataType::Utf8, values);
            columns.push((name, array));
        }
    }
    if bare_aggregate {
        columns.push(("_value".into(), value_col));
    }
    // `aggregateWindow` puts the bounds in the key; a bare aggregate keeps the group's key.
    let full_key = match w.shape {
        WindowShape::Bare => key,
        WindowShape::AggregateWindow { .. } => {
            let mut k = vec![("_start".to_owned(), Value::Time(start)), ("_stop".to_owned(), Value::Time(stop))];
            k.extend(key.into_iter().filter(|(k, _)| k != "_start" && k != "_stop"));
            k
        }
    };
    Table::with_key(GroupKey(full_key), columns)
}
