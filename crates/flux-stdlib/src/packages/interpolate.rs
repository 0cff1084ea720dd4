//! `interpolate.linear`: rows added at each `every` boundary between two
//! points, their `_value` on the straight line between the points.

use arrow::datatypes::DataType;

use crate::args::{fail, stream};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, array_of, cell, time_type};
use flux_runtime::value::Value;

pub(super) fn linear(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let every = match a.required("every")? {
        Value::Duration(d) if d.months == 0 && d.nanos > 0 && !d.negative => d.nanos,
        v => return fail(format!("every must be a positive duration of fixed length, got {v}")),
    };
    let input = stream(a, "tables")?;
    Ok(Value::Stream(Stream::per_table("interpolate.linear", input, move |_, t| Ok(vec![interpolate(&t, every)?]))))
}

fn interpolate(t: &Table, every: i64) -> EvalResult<Table> {
    let times = t.need("_time")?;
    let values = t.need("_value")?;
    // Integers are taken as the floats they are (the line between them is not whole).
    let values = match values.data_type() {
        DataType::Float64 => std::sync::Arc::clone(values),
        DataType::Int64 | DataType::UInt64 => {
            arrow::compute::cast(values, &DataType::Float64).map_err(|e| EvalError::invalid(e.to_string()))?
        }
        t => {
            return fail(format!(
                "interpolate.linear: _value must be a float, got {}",
                flux_runtime::table::type_label(t)
            ));
        }
    };
    // Each output row: the input row it copies, and its time and value.
    let mut rows: Vec<(usize, Value, Value)> = Vec::with_capacity(t.num_rows());
    let mut previous: Option<(usize, i64, f64)> = None;
    for r in 0..t.num_rows() {
        let (Value::Time(at), v) = (cell(times.as_ref(), r), cell(values.as_ref(), r)) else {
            continue;
        };
        if let (Some((pr, pt, pv)), Value::Float(x)) = (previous, &v) {
            let mut next = (pt.div_euclid(every) + 1) * every;
            while next < at {
                let share = (next - pt) as f64 / (at - pt) as f64;
                rows.push((pr, Value::Time(next), Value::Float(pv + (x - pv) * share)));
                next += every;
            }
        }
        if let Value::Float(x) = v {
            previous = Some((r, at, x));
        }
        rows.push((r, Value::Time(at), v));
    }
    let columns = t
        .columns()
        .into_iter()
        .map(|(name, c)| {
            let out = match name.as_str() {
                "_time" => array_of(&time_type(), rows.iter().map(|(_, at, _)| at.clone())),
                "_value" => array_of(&DataType::Float64, rows.iter().map(|(_, _, v)| v.clone())),
                _ => array_of(c.data_type(), rows.iter().map(|(r, _, _)| cell(c.as_ref(), *r))),
            };
            (name, out)
        })
        .collect();
    Table::with_key(t.key.clone(), columns)
}
