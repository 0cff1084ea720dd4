//! The source functions of `universe`: `from`, `range`, `filter`, `yield`.
//!
//! `from` makes a pending storage scan; `range` bounds it and `filter` narrows
//! its predicate when the filter is a plain comparison on `_measurement`,
//! `_field` or tags (`== != =~ !~`, `and`, `or`), so that storage reads only
//! what the query keeps. Anything else runs row by row on the tables read.

use std::rc::Rc;

use arrow::array::{Array, BooleanArray, TimestampNanosecondArray};

use crate::ast::{Expression, FunctionBody, PropertyKey};
use crate::interp::{Args, EvalError, EvalResult, Interp};
use crate::outbound::{HttpRequest, HttpResponse};
use crate::stream::{ScanSpec, Sink, Stream};
use crate::table::{GroupKey, Table, time_type};
use crate::value::{Function, Value};
use storage::{Matcher, Predicate, Subject};

/// Where `from` reads: bucket lookup (with the caller's permission check) and storage.
pub trait Source {
    /// The ID of the bucket named `name`, if the query may read it.
    fn bucket(&self, name: &str) -> Result<u64, EvalError>;
    /// The bucket with this ID (hex), if the query may read it.
    fn bucket_id(&self, id: &str) -> Result<u64, EvalError>;
    fn storage(&self) -> &dyn storage::ReadApi;
    /// The buckets the query may read, as `buckets()` lists them.
    fn buckets(&self) -> Result<Vec<BucketInfo>, EvalError>;
    /// Writes line protocol (nanosecond times) to a bucket the query may write to (`to()`).
    fn write(&self, target: &WriteTarget, lines: &[u8]) -> Result<(), EvalError>;
    /// The value of the query's org's secret `key` (`secrets.get()`).
    fn secret(&self, key: &str) -> Result<String, EvalError> {
        Err(EvalError { message: format!("cannot read secret {key:?}: no secrets here") })
    }
    /// The query's org's v1 database/retention-policy mappings the query may read (`v1.databases()`).
    fn databases(&self) -> Result<Vec<DatabaseInfo>, EvalError> {
        Err(EvalError { message: "no v1 databases here".into() })
    }
    /// When the task running this query last succeeded (`tasks.lastSuccess()`); `None` outside tasks or before any success.
    fn task_last_success(&self) -> Option<i64> {
        None
    }
    /// Sends a request out of the server (`http.post`, `requests.do`,
    /// `influxdb.api` with a host, `from` with a host).
    fn http(&self, req: &HttpRequest) -> Result<HttpResponse, EvalError> {
        Err(EvalError { message: format!("cannot send a request to {}: no HTTP client here", req.url) })
    }
    /// Sends a request to this server's own API with the query's authorization
    /// (`influxdb.api` without a host).
    fn api(&self, req: &HttpRequest) -> Result<HttpResponse, EvalError> {
        Err(EvalError { message: format!("cannot call {}: no API here", req.url) })
    }
}

/// A bucket as `buckets()` lists it.
#[derive(Debug, Clone)]
pub struct BucketInfo {
    pub name: String,
    pub id: String,
    pub org_id: String,
    pub retention_ns: i64,
}

/// A v1 database and retention policy and the bucket it maps to, as `v1.databases()` lists it.
#[derive(Debug, Clone)]
pub struct DatabaseInfo {
    pub org_id: String,
    pub database: String,
    pub retention_policy: String,
    pub retention_ns: i64,
    pub default: bool,
    pub bucket_id: String,
}

/// Where `to()` writes: a bucket by name or ID, in an org by name or ID (the query's by default).
#[derive(Debug, Clone, Default)]
pub struct WriteTarget {
    pub bucket: Option<String>,
    pub bucket_id: Option<String>,
    pub org: Option<String>,
    pub org_id: Option<String>,
}

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError { message: message.into() })
}

pub(crate) fn stream_arg(a: &Args) -> EvalResult<Rc<Stream>> {
    match a.required("tables")? {
        Value::Stream(s) => Ok(Rc::clone(s)),
        v => fail(format!("expected a stream of tables, got {}", v.type_name())),
    }
}

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
    let source = i.source.clone().ok_or_else(|| EvalError { message: "from: no storage in this context".into() })?;
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
    Ok(Value::Stream(Rc::new(Stream::Remote(crate::outbound::RemoteRead {
        bucket,
        by_id: a.get("bucket").is_none(),
        host: host.clone(),
        token: text("token")?,
        org: text("org")?,
        org_id: text("orgID")?,
        range: None,
    }))))
}

/// A time bound: a time, a duration relative to `now`, or Unix seconds.
pub(crate) fn bound(i: &Interp, v: &Value, what: &str) -> EvalResult<i64> {
    match v {
        Value::Time(t) => Ok(*t),
        Value::Duration(d) => crate::interp::add_duration(i.now, d, 1),
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
    let input = stream_arg(a)?;
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
    if let Stream::Remote(r) = input.as_ref()
        && defaults
    {
        let mut r = r.clone();
        r.range = Some(match r.range {
            Some((s, e)) => (s.max(start), e.min(stop)),
            None => (start, stop),
        });
        return Ok(Value::Stream(Rc::new(Stream::Remote(r))));
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
        .ok_or_else(|| EvalError { message: format!("range: column {time_col:?} is not of type time") })?;
    let keep: BooleanArray = times.iter().map(|x| Some(x.is_some_and(|x| x >= start && x < stop))).collect();
    let kept = t.filter(&keep)?;
    let n = kept.num_rows();
    let mut cols: Vec<(String, arrow::array::ArrayRef)> = Vec::new();
    let has_start = t.has(start_col);
    let has_stop = t.has(stop_col);
    if !has_start {
        cols.push((start_col.to_owned(), crate::table::repeat(&Value::Time(start), &time_type(), n)));
    }
    if !has_stop {
        cols.push((stop_col.to_owned(), crate::table::repeat(&Value::Time(stop), &time_type(), n)));
    }
    for (name, c) in kept.columns() {
        if name == start_col {
            cols.push((name, crate::table::repeat(&Value::Time(start), &time_type(), n)));
        } else if name == stop_col {
            cols.push((name, crate::table::repeat(&Value::Time(stop), &time_type(), n)));
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

fn str_arg(a: &Args, name: &str, default: &str) -> EvalResult<String> {
    match a.get(name) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => fail(format!("{name} must be a string, got {}", v.type_name())),
    }
}

pub(crate) fn filter(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let input = stream_arg(a)?;
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
        let keep = crate::vector::predicate(i, &f, &t)?;
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
    let stream = stream_arg(a)?;
    if i.results.iter().any(|(n, _)| *n == name) {
        return fail(format!("duplicate yield name \"{name}\""));
    }
    i.results.push((name, Rc::clone(&stream)));
    Ok(Value::Stream(stream))
}

/// Runs a storage scan, one table per series and field.
pub(crate) fn run_scan(i: &mut Interp, spec: &ScanSpec, sink: &mut Sink<'_>) -> EvalResult<()> {
    let Some((start, stop)) = spec.range else {
        return fail(format!(
            "cannot submit unbounded read to {:?}; try bounding 'from' with a call to 'range'",
            spec.bucket_name
        ));
    };
    let source = i.source.clone().ok_or_else(|| EvalError { message: "no storage in this context".into() })?;
    let req = storage::ScanRequest::new(spec.bucket, start, stop, spec.predicate.clone());
    if spec.window.is_none() && spec.group.is_none() {
        // A raw read goes to the sink series by series, never held whole.
        let mut failed = None;
        let mut each = |fs: storage::FieldSeries| -> EvalResult<()> {
            let _held = i.budget.reserve(|| crate::table::batch_memory_size(&fs.batch))?;
            i.budget.check_time()?;
            let t = crate::table::from_series(&fs, start, stop)?;
            sink(i, t)
        };
        source
            .storage()
            .scan_each(&req, &mut |fs| match each(fs) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    std::ops::ControlFlow::Break(())
                }
            })
            .map_err(|e| EvalError { message: format!("reading storage: {e}") })?;
        return failed.map_or(Ok(()), Err);
    }
    let series = match &spec.window {
        None => source.storage().scan(&req),
        Some(w) => source.storage().window_aggregate(&storage::WindowRequest {
            scan: req,
            every: w.every,
            offset: w.offset,
            aggregate: w.aggregate,
            create_empty: w.create_empty,
        }),
    }
    .map_err(|e| EvalError { message: format!("reading storage: {e}") })?;
    let _held = i.budget.reserve(|| series.iter().map(|fs| crate::table::batch_memory_size(&fs.batch)).sum())?;
    i.budget.check_time()?;
    match (&spec.group, &spec.window) {
        (None, _) => {
            for fs in &series {
                let t = match &spec.window {
                    None => crate::table::from_series(fs, start, stop)?,
                    Some(w) => crate::pushdown::window_table(fs, w, start, stop)?,
                };
                i.budget.check_time()?;
                sink(i, t)?;
            }
        }
        (Some(g), None) => {
            let tables =
                series.iter().map(|fs| crate::table::from_series(fs, start, stop)).collect::<EvalResult<Vec<_>>>()?;
            for t in crate::transform::regroup_by(tables, |t| g.key_of(&t.names()))? {
                i.budget.check_time()?;
                sink(i, t)?;
            }
        }
        (Some(g), Some(w)) => {
            for t in crate::pushdown::grouped_windows(&series, w, g, start, stop)? {
                i.budget.check_time()?;
                sink(i, t)?;
            }
        }
    }
    Ok(())
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
