//! Table functions of `universe`: `from`, `range`, `filter`, `yield`.
//!
//! `from` makes a pending storage scan; `range` bounds it and `filter` narrows
//! its predicate when the filter is a plain comparison on `_measurement`,
//! `_field` or tags (`== != =~ !~`, `and`, `or`), so that storage reads only
//! what the query keeps. Anything else runs row by row on the tables read.

use std::rc::Rc;

use crate::ast::{Expression, FunctionBody, PropertyKey};
use crate::interp::{Args, EvalError, EvalResult, Interp};
use crate::table::{ScanSpec, Stream, Table};
use crate::value::{Function, Value};
use storage::{Matcher, Predicate, Subject};

/// Where `from` reads: bucket lookup (with the caller's permission check) and storage.
pub trait Source {
    /// The ID of the bucket named `name`, if the query may read it.
    fn bucket(&self, name: &str) -> Result<u64, EvalError>;
    fn storage(&self) -> &dyn storage::ReadApi;
}

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError { message: message.into() })
}

fn stream_arg(a: &Args) -> EvalResult<Stream> {
    match a.required("tables")? {
        Value::Stream(s) => Ok((**s).clone()),
        v => fail(format!("expected a stream of tables, got {}", v.type_name())),
    }
}

pub(crate) fn from(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let name = match a.get("bucket") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => return fail(format!("from: bucket must be a string, got {}", v.type_name())),
        None => return fail("from: missing required argument bucket"),
    };
    let source = i.source.clone().ok_or_else(|| EvalError { message: "from: no storage in this context".into() })?;
    let bucket = source.bucket(&name)?;
    Ok(Value::Stream(Rc::new(Stream::Scan(ScanSpec {
        bucket_name: name,
        bucket,
        range: None,
        predicate: Predicate::True,
    }))))
}

/// A time bound: a time, or a duration relative to `now`.
fn bound(i: &Interp, v: &Value, what: &str) -> EvalResult<i64> {
    match v {
        Value::Time(t) => Ok(*t),
        Value::Duration(d) => crate::interp::add_duration(i.now, d, 1),
        Value::Int(n) => Ok(n.saturating_mul(1_000_000_000)),
        v => fail(format!("range: {what} must be a time or duration, got {}", v.type_name())),
    }
}

pub(crate) fn range(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let start = bound(i, a.required("start")?, "start")?;
    let stop = match a.get("stop") {
        Some(v) => bound(i, v, "stop")?,
        None => i.now,
    };
    match stream_arg(a)? {
        Stream::Scan(mut spec) => {
            spec.range = Some(match spec.range {
                Some((s, e)) => (s.max(start), e.min(stop)),
                None => (start, stop),
            });
            Ok(Value::Stream(Rc::new(Stream::Scan(spec))))
        }
        Stream::Tables(_) => fail("range: only directly after from() for now"),
    }
}

pub(crate) fn filter(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let stream = stream_arg(a)?;
    if let Stream::Scan(mut spec) = stream.clone()
        && let Some(p) = pushdown(&f)
    {
        spec.predicate = std::mem::replace(&mut spec.predicate, Predicate::True).and(p);
        return Ok(Value::Stream(Rc::new(Stream::Scan(spec))));
    }
    let tables = materialize(i, &stream)?;
    let mut out = Vec::with_capacity(tables.len());
    for t in tables {
        let mut keep = Vec::with_capacity(t.num_rows());
        for row in 0..t.num_rows() {
            let mut args = Args::default();
            args.named.insert("r".into(), t.row(row));
            keep.push(matches!(i.call(&f, args)?, Value::Bool(true)));
        }
        if keep.iter().any(|k| *k) {
            out.push(t.filter(&keep)?);
        }
    }
    Ok(Value::Stream(Rc::new(Stream::Tables(out))))
}

pub(crate) fn yield_(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let name = match a.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => return fail(format!("yield: name must be a string, got {}", v.type_name())),
        None => "_result".to_owned(),
    };
    let stream = stream_arg(a)?;
    let tables = materialize(i, &stream)?;
    if i.results.iter().any(|(n, _)| *n == name) {
        return fail(format!("duplicate yield name {name:?}"));
    }
    let v = Value::Stream(Rc::new(Stream::Tables(tables)));
    i.results.push((name, v.clone()));
    Ok(v)
}

/// Runs a pending scan (or passes tables through).
pub(crate) fn materialize(i: &Interp, s: &Stream) -> EvalResult<Vec<Table>> {
    match s {
        Stream::Tables(t) => Ok(t.clone()),
        Stream::Scan(spec) => {
            let Some((start, stop)) = spec.range else {
                return fail(format!(
                    "cannot submit unbounded read to {:?}; try bounding 'from' with a call to 'range'",
                    spec.bucket_name
                ));
            };
            let source = i.source.clone().ok_or_else(|| EvalError { message: "no storage in this context".into() })?;
            let req = storage::ScanRequest::new(spec.bucket, start, stop, spec.predicate.clone());
            let series =
                source.storage().scan(&req).map_err(|e| EvalError { message: format!("reading storage: {e}") })?;
            series.iter().map(|fs| Table::from_series(fs, start, stop)).collect()
        }
    }
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
