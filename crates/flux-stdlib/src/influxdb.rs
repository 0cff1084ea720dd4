//! `buckets()` and `to()`: the storage functions of the prelude beyond `from`.

use std::fmt::Write;
use std::rc::Rc;

use arrow::datatypes::DataType;

use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::source::WriteTarget;
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, array_of, cell};
use flux_runtime::value::Value;

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message.into()))
}

fn opt_string(a: &Args, name: &str) -> EvalResult<Option<String>> {
    match a.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => fail(format!("{name} must be a string, got {}", v.type_name())),
    }
}

/// A string argument, `None` when absent or empty.
fn nonempty(a: &Args, name: &str) -> EvalResult<Option<String>> {
    Ok(opt_string(a, name)?.filter(|s| !s.is_empty()))
}

/// A line-protocol write (nanosecond times) to another server.
fn remote_write(
    i: &Interp,
    host: &str,
    token: Option<&str>,
    target: &WriteTarget,
    body: Vec<u8>,
) -> flux_runtime::outbound::HttpRequest {
    use crate::remote::escape_query;
    let mut url = format!("{}/api/v2/write?precision=ns", host.trim_end_matches('/'));
    match (&target.bucket_id, &target.bucket) {
        (Some(id), _) => url.push_str(&format!("&bucket={}", escape_query(id))),
        (None, Some(name)) => url.push_str(&format!("&bucket={}", escape_query(name))),
        (None, None) => {}
    }
    match (&target.org_id, &target.org) {
        (Some(id), _) => url.push_str(&format!("&orgID={}", escape_query(id))),
        (None, Some(name)) => url.push_str(&format!("&org={}", escape_query(name))),
        (None, None) => {}
    }
    let mut req = flux_runtime::outbound::HttpRequest::new("POST", url).with_timeout(&i.budget, None);
    req.headers.push(("Content-Type".into(), "text/plain; charset=utf-8".into()));
    if let Some(token) = token {
        req.headers.push(("Authorization".into(), format!("Token {token}")));
    }
    req.body = body;
    req
}

/// `buckets(host:)`: another server's buckets, from its `/api/v2/buckets`.
fn remote_buckets(i: &Interp, a: &Args, host: &str) -> EvalResult<Vec<flux_runtime::source::BucketInfo>> {
    use crate::remote::escape_query;
    let mut url = format!("{}/api/v2/buckets?limit=100", host.trim_end_matches('/'));
    if let Some(id) = nonempty(a, "orgID")? {
        url.push_str(&format!("&orgID={}", escape_query(&id)));
    } else if let Some(org) = nonempty(a, "org")? {
        url.push_str(&format!("&org={}", escape_query(&org)));
    }
    let mut req = flux_runtime::outbound::HttpRequest::new("GET", url).with_timeout(&i.budget, None);
    if let Some(token) = nonempty(a, "token")? {
        req.headers.push(("Authorization".into(), format!("Token {token}")));
    }
    let source = i.source.clone().ok_or_else(|| EvalError::invalid("buckets: no HTTP client here"))?;
    let resp = source.http(&req).map_err(|e| e.context("buckets"))?;
    let text = String::from_utf8_lossy(&resp.body);
    if !(200..300).contains(&resp.status) {
        return Err(EvalError::remote(format!(
            "buckets: {host} answered {}: {}",
            resp.status,
            crate::remote::error_message(&text)
        )));
    }
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| EvalError::remote(format!("buckets: {host} answered with bad JSON: {e}")))?;
    let text_of = |b: &serde_json::Value, k: &str| b.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    Ok(json["buckets"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|b| flux_runtime::source::BucketInfo {
                    name: text_of(b, "name"),
                    id: text_of(b, "id"),
                    org_id: text_of(b, "orgID"),
                    retention_ns: b["retentionRules"][0]["everySeconds"]
                        .as_i64()
                        .unwrap_or(0)
                        .saturating_mul(1_000_000_000),
                })
                .collect()
        })
        .unwrap_or_default())
}

/// `buckets()`: name, id, organizationID, retentionPolicy, retentionPeriod (ns).
pub(crate) fn buckets(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let list = match nonempty(a, "host")? {
        Some(host) => remote_buckets(i, a, &host)?,
        None => {
            let source = i.source.clone().ok_or_else(|| EvalError::invalid("buckets: no storage in this context"))?;
            source.buckets()?
        }
    };
    let s = |f: &dyn Fn(&flux_runtime::source::BucketInfo) -> String| -> Vec<Value> {
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

/// How rows become fields.
enum Fields {
    /// `_field` names the field and `_value` holds it.
    Narrow,
    /// `fieldFn` returns a record of them.
    Made(Value),
    /// `wideTo`: every column outside the group key (but time and measurement) is a field.
    Wide,
}

struct ToSpec {
    target: WriteTarget,
    /// Another server to write to, with a token.
    remote: Option<(String, Option<String>)>,
    time_col: String,
    measurement_col: String,
    tag_columns: Option<Vec<String>>,
    fields: Fields,
}

/// A table's rows as line protocol.
fn lines(i: &mut Interp, spec: &ToSpec, t: &Table) -> EvalResult<String> {
    let time = t.need(&spec.time_col)?;
    let measurement = t.need(&spec.measurement_col)?;
    let value_columns = ["_field", "_value"];
    // Tags: the listed columns, or every string column but the measurement,
    // `_field`, `_value` and the fields fieldFn makes.
    let bounds = ["_start", "_stop"];
    let wide_fields: Vec<String> = t
        .names()
        .into_iter()
        .filter(|n| {
            !t.key.0.iter().any(|(k, _)| k == n)
                && *n != spec.time_col
                && *n != spec.measurement_col
                && !bounds.contains(&n.as_str())
        })
        .collect();
    let tags: Vec<String> = match (&spec.tag_columns, &spec.fields) {
        (Some(list), _) => list.clone(),
        (None, Fields::Wide) => t
            .key
            .0
            .iter()
            .filter(|(k, v)| {
                matches!(v, Value::String(_)) && *k != spec.measurement_col && !bounds.contains(&k.as_str())
            })
            .map(|(k, _)| k.clone())
            .collect(),
        (None, _) => {
            let made: Vec<String> = match (&spec.fields, t.num_rows()) {
                (Fields::Made(f), n) if n > 0 => match flux_runtime::vector::call_row(i, f, "r", t, 0, &[])? {
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
        let fields: Vec<(String, Value)> = match &spec.fields {
            Fields::Wide => {
                wide_fields.iter().filter_map(|n| t.column(n).map(|c| (n.clone(), cell(c.as_ref(), r)))).collect()
            }
            Fields::Narrow => {
                let (Some(f), Some(v)) = (t.column("_field"), t.column("_value")) else {
                    return fail("to: without fieldFn the tables need _field and _value columns");
                };
                match cell(f.as_ref(), r) {
                    Value::String(name) => vec![(name, cell(v.as_ref(), r))],
                    _ => continue,
                }
            }
            Fields::Made(f) => match flux_runtime::vector::call_row(i, f, "r", t, r, &[])? {
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

/// `to()`: writes each table's rows through the storage write path (or to
/// another server's `/api/v2/write`) and passes them on.
pub(crate) fn to(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let fields = match a.get("fieldFn") {
        Some(f) => Fields::Made(f.clone()),
        None => Fields::Narrow,
    };
    write_out(i, a, fields)
}

/// `wideTo()`: writes pivoted rows, each column outside the group key a field.
pub(crate) fn wide_to(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    write_out(i, a, Fields::Wide)
}

fn write_out(i: &mut Interp, a: &Args, fields: Fields) -> EvalResult<Value> {
    let remote = match nonempty(a, "host")? {
        None => None,
        Some(host) if host.starts_with("http://") || host.starts_with("https://") => {
            Some((host, nonempty(a, "token")?))
        }
        Some(host) => return fail(format!("to: host must be an http:// or https:// URL, got {host:?}")),
    };
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
        fields,
        remote,
    });
    let source = i.source.clone().ok_or_else(|| EvalError::invalid("to: no storage in this context"))?;
    let input = crate::args::input(a)?;
    Ok(Value::Stream(Stream::per_table("to", input, move |i, t| {
        let body = lines(i, &spec, &t)?;
        if body.is_empty() {
            return Ok(vec![t]);
        }
        match &spec.remote {
            None => source.write(&spec.target, body.as_bytes())?,
            Some((host, token)) => {
                let req = remote_write(i, host, token.as_deref(), &spec.target, body.into_bytes());
                let resp = source.http(&req).map_err(|e| e.context("to"))?;
                if !(200..300).contains(&resp.status) {
                    let text = String::from_utf8_lossy(&resp.body);
                    return Err(EvalError::remote(format!(
                        "to: {host} answered {}: {}",
                        resp.status,
                        crate::remote::error_message(&text)
                    )));
                }
            }
        }
        Ok(vec![t])
    })))
}
