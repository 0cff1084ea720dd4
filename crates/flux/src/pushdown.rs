//! Window aggregates that storage runs inside the scan: `aggregateWindow` and
//! bare `count/sum/mean/min/max/first/last` directly over `from |> range |> filter`.
//! Each gives exactly the tables the same query gives without pushdown.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use crate::interp::{EvalError, EvalResult};
use crate::stream::{ScanSpec, Stream, WindowShape, WindowSpec};
use crate::table::{GroupKey, Table, repeat, time_type};
use crate::value::Value;

/// The storage aggregate for a builtin of this name.
pub(crate) fn aggregate_named(name: &str) -> Option<storage::Aggregate> {
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

pub(crate) fn is_selector(a: storage::Aggregate) -> bool {
    matches!(
        a,
        storage::Aggregate::Min | storage::Aggregate::Max | storage::Aggregate::First | storage::Aggregate::Last
    )
}

/// The scan a stream is, if a window aggregate can still be added to it.
pub(crate) fn open_scan(s: &Stream) -> Option<&ScanSpec> {
    match s {
        Stream::Scan(spec) if spec.window.is_none() && spec.range.is_some() => Some(spec),
        _ => None,
    }
}

/// `scan |> agg()` as one storage window aggregate spanning the range.
pub(crate) fn bare(spec: &ScanSpec, aggregate: storage::Aggregate) -> Option<Stream> {
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
pub(crate) fn window_table(fs: &storage::FieldSeries, w: &WindowSpec, start: i64, stop: i64) -> EvalResult<Table> {
    let b = &fs.batch;
    let col = |name: &str| -> EvalResult<ArrayRef> {
        b.column_by_name(name)
            .cloned()
            .ok_or_else(|| EvalError { message: format!("storage window aggregate has no {name} column") })
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
