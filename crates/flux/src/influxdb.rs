//! `buckets()` and `to()`: the storage functions of the prelude beyond `from`.

use std::fmt::Write;
use std::rc::Rc;

use arrow::datatypes::DataType;

use crate::interp::{Args, EvalError, EvalResult, Interp};
use crate::stream::Stream;
use crate::table::{Table, array_of, cell};
use crate::universe::WriteTarget;
use crate::value::Value;

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError { message: message.into() })
}

fn opt_string(a: &Args, name: &str) -> EvalResult<Option<String>> {
    match a.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => fail(format!("{name} must be a string, got {}", v.type_name())),
    }
}

/// `buckets()`: name, id, organizationID, retentionPolicy, retentionPeriod (ns).
pub(crate) fn buckets(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    if a.get("host").is_some() {
        return fail("buckets: reading another host is not supported; query that host directly");
    }
    let source = i.source.clone().ok_or_else(|| EvalError { message: "buckets: no storage in this context".into() })?;
    let list = source.buckets()?;
    let s = |f: &dyn Fn(&crate::universe::BucketInfo) -> String| -> Vec<Value> {
        list.iter().map(|b| Value::String(f(b))).collect()
    };
    let columns = vec![
        ("name".to_owned(), array_of(&DataType::Utf8, s(&|b| b.name.clone()))),
        ("id".to_owned(), array_of(&DataType::Utf8, s(&|b| b.id.clone()))),
        ("organizationID".to_owned(), array_of(&DataType::Utf8, s(&|b| b.org_id.clone()))),
        ("retentionPolicy".to_owned(), array_of(&DataType::Utf8, s(&|_| String::new()))),
        ("retentionPeriod".to_owned(), array_of(&DataType::Int64, list.iter().map(|b| Value::Int(b.retention_ns)))),
    ];
    Ok(Value::Stream(Stream::tables(vec![Table::new(&[], columns)?])))
}

fn escape(s: &str, specials: &[char], out: &mut String) {
    for c in s.chars() {
        if specials.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A field value in line protocol (`None` for null).
fn field_value(v: &Value, out: &mut String) -> EvalResult<bool> {
    match v {
        Value::Null => return Ok(false),
        Value::Float(x) => {
            if !x.is_finite() {
                return fail(format!("to: cannot write the float {x}"));
            }
            let _ = write!(out, "{x}");
        }
        Value::Int(x) => {
            let _ = write!(out, "{x}i");
        }
        Value::UInt(x) => {
            let _ = write!(out, "{x}u");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => {
            out.push('"');
            escape(s, &['"', '\\'], out);
            out.push('"');
        }
        v => return fail(format!("to: a field cannot hold a {}", v.type_name())),
    }
    Ok(true)
}

struct ToSpec {
    target: WriteTarget,
    time_col: String,
    measurement_col: String,
    tag_columns: Option<Vec<String>>,
    field_fn: Option<Value>,
}

/// A table's rows as line protocol.
fn lines(i: &mut Interp, spec: &ToSpec, t: &Table) -> EvalResult<String> {
    let time = t.need(&spec.time_col)?;
    let measurement = t.need(&spec.measurement_col)?;
    let value_columns = ["_field", "_value"];
    // Tags: the listed columns, or every string column but the measurement,
    // `_field`, `_value` and the fields fieldFn makes.
    let tags: Vec<String> = match &spec.tag_columns {
        Some(list) => list.clone(),
        None => {
            let made: Vec<String> = match (&spec.field_fn, t.num_rows()) {
                (Some(f), n) if n > 0 => match crate::vector::call_row(i, f, "r", t, 0, &[])? {
                    Value::Record(rec) => rec.keys().map(str::to_owned).collect(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            t.fields()
                .into_iter()
                .filter(|(n, dt)| {
                    *dt == DataType::Utf8
                        && *n != spec.measurement_col
                        && !value_columns.contains(&n.as_str())
                        && !made.contains(n)
                })
                .map(|(n, _)| n)
                .collect()
        }
    };
    let mut tags = tags;
    tags.sort();
    tags.dedup();
    let mut out = String::new();
    for r in 0..t.num_rows() {
        // Rows without a time are not written.
        let Value::Time(ts) = cell(time.as_ref(), r) else { continue };
        let Value::String(m) = cell(measurement.as_ref(), r) else {
            return fail(format!("to: no measurement in column {:?} on a row", spec.measurement_col));
        };
        let mut line = String::new();
        escape(&m, &[',', ' '], &mut line);
        for k in &tags {
            let Some(c) = t.column(k) else { continue };
            match cell(c.as_ref(), r) {
                Value::Null => {}
                Value::String(v) if v.is_empty() => {}
                Value::String(v) => {
                    line.push(',');
                    escape(k, &[',', '=', ' '], &mut line);
                    line.push('=');
                    escape(&v, &[',', '=', ' '], &mut line);
                }
                v => return fail(format!("to: tag {k} must be a string, got {}", v.type_name())),
            }
        }
        let fields: Vec<(String, Value)> = match &spec.field_fn {
            None => {
                let (Some(f), Some(v)) = (t.column("_field"), t.column("_value")) else {
                    return fail("to: without fieldFn the tables need _field and _value columns");
                };
                match cell(f.as_ref(), r) {
                    Value::String(name) => vec![(name, cell(v.as_ref(), r))],
                    _ => continue,
                }
            }
            Some(f) => match crate::vector::call_row(i, f, "r", t, r, &[])? {
                Value::Record(rec) => rec.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                v => return fail(format!("to: fieldFn must return a record, got {}", v.type_name())),
            },
        };
        line.push(' ');
        let mut any = false;
        for (k, v) in &fields {
            let mark = line.len();
            if any {
                line.push(',');
            }
            escape(k, &[',', '=', ' '], &mut line);
            line.push('=');
            if field_value(v, &mut line)? {
                any = true;
            } else {
                line.truncate(mark);
            }
        }
        if !any {
            continue;
        }
        let _ = writeln!(line, " {ts}");
        out.push_str(&line);
    }
    Ok(out)
}

/// `to()`: writes each table's rows through the storage write path and passes them on.
pub(crate) fn to(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    if a.get("host").is_some() {
        return fail("to: writing to another host is not supported; write to a bucket of this server");
    }
    let target = WriteTarget {
        bucket: opt_string(a, "bucket")?,
        bucket_id: opt_string(a, "bucketID")?,
        org: opt_string(a, "org")?,
        org_id: opt_string(a, "orgID")?,
    };
    if target.bucket.is_none() == target.bucket_id.is_none() {
        return fail("to: give exactly one of bucket or bucketID");
    }
    let tag_columns = match a.get("tagColumns") {
        None => None,
        Some(Value::Array(v)) => Some(
            v.iter()
                .map(|x| match x {
                    Value::String(s) => Ok(s.clone()),
                    v => fail(format!("tagColumns must be strings, got {}", v.type_name())),
                })
                .collect::<EvalResult<Vec<_>>>()?,
        ),
        Some(v) => return fail(format!("tagColumns must be an array of strings, got {}", v.type_name())),
    };
    let spec = Rc::new(ToSpec {
        target,
        time_col: opt_string(a, "timeColumn")?.unwrap_or_else(|| "_time".into()),
        measurement_col: opt_string(a, "measurementColumn")?.unwrap_or_else(|| "_measurement".into()),
        tag_columns,
        field_fn: a.get("fieldFn").cloned(),
    });
    let source = i.source.clone().ok_or_else(|| EvalError { message: "to: no storage in this context".into() })?;
    let input = crate::universe::stream_arg(a)?;
    Ok(Value::Stream(Stream::per_table("to", input, move |i, t| {
        let body = lines(i, &spec, &t)?;
        if !body.is_empty() {
            source.write(&spec.target, body.as_bytes())?;
        }
        Ok(vec![t])
    })))
}
