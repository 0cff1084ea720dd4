//! The source functions of `universe`: `from`, `range`, `filter`, `yield`.
//!
//! `from` makes a pending storage scan; `range` bounds it and `filter` narrows
//! its predicate when the filter is a plain comparison on `_measurement`,
//! `_field` or tags (`== != =~ !~`, `and`, `or`), so that storage reads only
//! what the query keeps. Anything else runs row by row on the tables read.

use std::rc::Rc;

use arrow::array::{Array, BooleanArray, TimestampNanosecondArray};

use crate::args::{fail, input, str_arg};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::scan::ScanSpec;
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, time_type};
use flux_runtime::value::{Function, Value};
use flux_syntax::ast::{Expression, FunctionBody, PropertyKey};
use storage::{Matcher, Predicate, Subject};

pub(crate) fn from(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let name = match (a.get("bucket"), a.get("bucketID")) {
        (Some(Value::String(s)), _) => s.clone(),
        (None, Some(Value::String(id))) => id.clone(),
        (Some(v), _) | (None, Some(v)) => return fail(format!("from: bucket must be a string, got {}", v.type_name())),
        (None, None) => return fail("from: must specify one of bucket or bucketID"),
    };
    if let Some(host) = a.get("host")
        && !matches!(host, Value::String(h) if h.is_empty())
    {
        return remote_from(a, name, host);
    }
    let source = i.source.clone().ok_or_else(|| EvalError::invalid("from: no storage in this context"))?;
    let bucket = if a.get("bucket").is_some() { source.bucket(&name)? } else { source.bucket_id(&name)? };
    Ok(Value::Stream(Rc::new(Stream::Scan(ScanSpec {
        bucket_name: name,
        bucket,
        range: None,
        predicate: Predicate::True,
        window: None,
        group: None,
    }))))
}

/// `from` with a `host`: a read from that server, with `token` and `org` or `orgID`.
fn remote_from(a: &Args, bucket: String, host: &Value) -> EvalResult<Value> {
    let text = |name: &str| match a.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => fail(format!("from: {name} must be a string, got {}", v.type_name())),
    };
    let Value::String(host) = host else {
        return fail(format!("from: host must be a string, got {}", host.type_name()));
    };
    if !(host.starts_with("http://") || host.starts_with("https://")) {
        return fail(format!("from: host must be an http:// or https:// URL, got {host:?}"));
    }
    Ok(Value::Stream(Rc::new(Stream::Source(Rc::new(crate::remote::RemoteRead {
        bucket,
        by_id: a.get("bucket").is_none(),
        host: host.clone(),
        token: text("token")?,
        org: text("org")?,
        org_id: text("orgID")?,
        range: None,
    })))))
}

/// A time bound: a time, a duration relative to `now`, or Unix seconds.
pub(crate) fn bound(i: &Interp, v: &Value, what: &str) -> EvalResult<i64> {
    match v {
        Value::Time(t) => Ok(*t),
        Value::Duration(d) => flux_runtime::duration::add_duration(i.now, d, 1),
        Value::Int(n) => Ok(n.saturating_mul(1_000_000_000)),
        v => fail(format!("{what} must be a time, duration or int, got {}", v.type_name())),
    }
}

pub(crate) fn range(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let start = bound(i, a.required("start")?, "start")?;
    let stop = match a.get("stop") {
        Some(v) => bound(i, v, "stop")?,
        None => i.now,
    };
    let time_col = str_arg(a, "timeColumn", "_time")?;
    let start_col = str_arg(a, "startColumn", "_start")?;
    let stop_col = str_arg(a, "stopColumn", "_stop")?;
    let input = input(a)?;
    let defaults = time_col == "_time" && start_col == "_start" && stop_col == "_stop";
    if let Stream::Scan(spec) = input.as_ref()
        && spec.window.is_none()
        && defaults
    {
        let mut spec = spec.clone();
        spec.range = Some(match spec.range {
            Some((s, e)) => (s.max(start), e.min(stop)),
            None => (start, stop),
        });
        return Ok(Value::Stream(Rc::new(Stream::Scan(spec))));
    }
    if let Stream::Source(source) = input.as_ref()
        && defaults
        && let Some(narrowed) = source.with_range(start, stop)
    {
        return Ok(Value::Stream(Rc::new(Stream::Source(narrowed))));
    }
    // A range after a range keeps to both.
    let (start, stop) = match input.bounds() {
        Some((s, e)) => (start.max(s), stop.min(e)),
        None => (start, stop),
    };
    Ok(Value::Stream(Stream::bounded("range", input, (start, stop), move |_, t| {
        Ok(range_table(&t, start, stop, &time_col, &start_col, &stop_col)?.into_iter().collect())
    })))
}

/// `range` on a table already read: rows in `[start, stop)`, bounds as key columns.
fn range_table(
    t: &Table,
    start: i64,
    stop: i64,
    time_col: &str,
    start_col: &str,
    stop_col: &str,
) -> EvalResult<Option<Table>> {
    let times = t.need(time_col)?;
    let times = times
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .ok_or_else(|| EvalError::invalid(format!("range: column {time_col:?} is not of type time")))?;
    let keep: BooleanArray = times.iter().map(|x| Some(x.is_some_and(|x| x >= start && x < stop))).collect();
    let kept = t.filter(&keep)?;
    let n = kept.num_rows();
    let mut cols: Vec<(String, arrow::array::ArrayRef)> = Vec::new();
    let has_start = t.has(start_col);
    let has_stop = t.has(stop_col);
    if !has_start {
        cols.push((start_col.to_owned(), flux_runtime::table::repeat(&Value::Time(start), &time_type(), n)));
    }
    if !has_stop {
        cols.push((stop_col.to_owned(), flux_runtime::table::repeat(&Value::Time(stop), &time_type(), n)));
    }
    for (name, c) in kept.columns() {
        if name == start_col {
            cols.push((name, flux_runtime::table::repeat(&Value::Time(start), &time_type(), n)));
        } else if name == stop_col {
            cols.push((name, flux_runtime::table::repeat(&Value::Time(stop), &time_type(), n)));
        } else {
            cols.push((name, c));
        }
    }
    let mut key: Vec<(String, Value)> =
        kept.key.0.iter().filter(|(k, _)| k != start_col && k != stop_col).cloned().collect();
    key.push((start_col.to_owned(), Value::Time(start)));
    key.push((stop_col.to_owned(), Value::Time(stop)));
    Ok(Some(Table::with_key(GroupKey(key), cols)?))
}

pub(crate) fn filter(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let input = input(a)?;
    let keep_empty = match a.get("onEmpty") {
        None => false,
        Some(Value::String(s)) if s == "drop" => false,
        Some(Value::String(s)) if s == "keep" => true,
        Some(v) => return fail(format!("filter: onEmpty must be \"keep\" or \"drop\", got {v}")),
    };
    if let Stream::Scan(spec) = input.as_ref()
        && spec.window.is_none()
        && let Some(p) = pushdown(&f)
    {
        let mut spec = spec.clone();
        spec.predicate = std::mem::replace(&mut spec.predicate, Predicate::True).and(p);
        return Ok(Value::Stream(Rc::new(Stream::Scan(spec))));
    }
    Ok(Value::Stream(Stream::per_table("filter", input, move |i, t| {
        let keep = flux_runtime::vector::predicate(i, &f, &t)?;
        let out = t.filter(&keep)?;
        Ok(if out.is_empty() && !keep_empty { vec![] } else { vec![out] })
    })))
}

pub(crate) fn yield_(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let name = match a.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => return fail(format!("yield: name must be a string, got {}", v.type_name())),
        None => "_result".to_owned(),
    };
    let stream = input(a)?;
    if i.results.iter().any(|(n, _)| *n == name) {
        return fail(format!("duplicate yield name \"{name}\""));
    }
    i.results.push((name, Rc::clone(&stream)));
    Ok(Value::Stream(stream))
}

/// The storage predicate a filter function means, when it is one storage can
/// evaluate exactly; `None` otherwise.
fn pushdown(f: &Value) -> Option<Predicate> {
    let Value::Function(func) = f else { return None };
    let Function::Closure { params, body, .. } = func.as_ref() else { return None };
    let [param] = params.as_slice() else { return None };
    let FunctionBody::Expression(e) = body.as_ref() else { return None };
    translate(&param.name, e)
}

fn translate(r: &str, e: &Expression) -> Option<Predicate> {
    match e {
        Expression::ParenExpression { expression, .. } => translate(r, expression),
        Expression::LogicalExpression { operator, left, right, .. } => {
            let (l, rt) = (translate(r, left)?, translate(r, right)?);
            Some(if operator == "and" { l.and(rt) } else { l.or(rt) })
        }
        Expression::BinaryExpression { operator, left, right, .. } => {
            let (column, value) = match (column_of(r, left), column_of(r, right)) {
                (Some(c), None) => (c, right.as_ref()),
                (None, Some(c)) if matches!(operator.as_str(), "==" | "!=") => (c, left.as_ref()),
                _ => return None,
            };
            let subject = match column.as_str() {
                "_measurement" => Subject::Measurement,
                "_field" => Subject::Field,
                "_value" | "_time" | "_start" | "_stop" => return None,
                tag => Subject::Tag(tag.to_owned()),
            };
            // A missing tag is null in Flux, and a null comparison drops the row;
            // storage reads a missing tag as "", so only positive tests go down.
            let always_present = !matches!(subject, Subject::Tag(_));
            let matcher = match (operator.as_str(), value) {
                ("==", Expression::StringLiteral(s)) => Matcher::Eq(s.value.clone()),
                ("!=", Expression::StringLiteral(s)) if always_present => Matcher::NotEq(s.value.clone()),
                ("=~", Expression::RegexpLiteral { value, .. }) => Matcher::Regex(regex::Regex::new(value).ok()?),
                ("!~", Expression::RegexpLiteral { value, .. }) if always_present => {
                    Matcher::NotRegex(regex::Regex::new(value).ok()?)
                }
                _ => return None,
            };
            if let (Subject::Tag(_), Matcher::Regex(re)) = (&subject, &matcher)
                && re.is_match("")
            {
                // A regex that matches "" would keep rows without the tag.
                return None;
            }
            Some(Predicate::Compare(subject, matcher))
        }
        _ => None,
    }
}

/// `r.col` or `r["col"]`: the column name.
fn column_of(r: &str, e: &Expression) -> Option<String> {
    let Expression::MemberExpression(m) = e else { return None };
    let Expression::Identifier(id) = m.object.as_ref() else { return None };
    if id.name != r {
        return None;
    }
    Some(match &m.property {
        PropertyKey::Identifier(i) => i.name.clone(),
        PropertyKey::StringLiteral(s) => s.value.clone(),
    })
}
