//! Packages a program can import.

mod array;
mod bitwise;
mod date;
mod dict;
mod dynamic;
mod events;
mod experimental;
mod http;
mod interpolate;
mod join;
mod json;
mod math;
mod monitor;
mod notify;
mod promql;
mod regexp;
mod strings;
mod types;
mod v1;

use std::rc::Rc;

use arrow::datatypes::DataType;

use crate::args::{self, builtin, fail, package, stream};
use flux_runtime::duration::Duration;
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, array_of, cell, infer_type, time_type};
use flux_runtime::value::Value;

/// The package at `path`, or `None` if there is no such package.
pub(crate) fn import(i: &mut Interp, path: &str) -> Option<EvalResult<Value>> {
    Some(Ok(match path {
        "array" | "experimental/array" => {
            let mut members = vec![("from", builtin("from", &["rows"], Some("rows"), array_from))];
            members.extend(array::array_functions());
            if path == "experimental/array" {
                members.extend(array::array_conversions());
            }
            package(members)
        }
        "csv" => package(vec![("from", builtin("from", &["csv", "file", "mode"], None, csv_from))]),
        "testing" => package(vec![
            ("diff", builtin("diff", &["want", "epsilon", "nansEqual", "verbose"], Some("got"), diff)),
            ("assertEquals", builtin("assertEquals", &["name", "got", "want"], None, assert_equals)),
            ("assertEqualValues", builtin("assertEqualValues", &["got", "want"], None, assert_equal_values)),
            ("assertEmpty", builtin("assertEmpty", &[], Some("tables"), assert_empty)),
            ("load", builtin("load", &[], Some("tables"), |_, a| Ok(Value::Stream(stream(a, "tables")?)))),
            ("shouldError", builtin("shouldError", &["fn", "want"], None, should_error)),
        ]),
        "sampledata" => package(vec![
            ("float", builtin("float", &["includeNull"], None, |_, a| sample(a, Sample::Float))),
            ("int", builtin("int", &["includeNull"], None, |_, a| sample(a, Sample::Int))),
            ("uint", builtin("uint", &["includeNull"], None, |_, a| sample(a, Sample::UInt))),
            ("string", builtin("string", &["includeNull"], None, |_, a| sample(a, Sample::String))),
            ("bool", builtin("bool", &["includeNull"], None, |_, a| sample(a, Sample::Bool))),
            ("numericBool", builtin("numericBool", &["includeNull"], None, |_, a| sample(a, Sample::NumericBool))),
            ("start", Value::Time(SAMPLE_START)),
            ("stop", Value::Time(SAMPLE_START + 60_000_000_000)),
        ]),
        "strings" => strings::package_value(),
        "date" => date::package_value(),
        "experimental/date/boundaries" => date::boundaries(),
        "experimental/record" => package(vec![
            ("any", Value::record(std::iter::empty())),
            (
                "get",
                builtin("get", &["r", "key", "default"], None, |_, a| {
                    let key = args::string(a, "key")?;
                    match a.required("r")? {
                        Value::Record(r) => Ok(r.get(key).cloned().unwrap_or(a.required("default")?.clone())),
                        v => fail(format!("r must be a record, got {}", v.type_name())),
                    }
                }),
            ),
        ]),
        "experimental/json" => package(vec![("parse", builtin("parse", &["data"], None, json::json_parse))]),
        "json" => package(vec![(
            "encode",
            builtin("encode", &["v"], None, |_, a| Ok(Value::Bytes(dynamic::encode(a.required("v")?)?))),
        )]),
        "experimental/dynamic" => dynamic::package_value(),
        "internal/influxql" => package(vec![
            ("epoch", Value::Time(0)),
            ("minTime", Value::Time(i64::MIN + 2)),
            ("maxTime", Value::Time(i64::MAX - 1)),
        ]),
        "influxdata/influxdb/secrets" => package(vec![(
            "get",
            builtin("get", &["key"], None, |i, a| {
                let key = args::string(a, "key")?;
                let source = i.source.clone().ok_or_else(|| EvalError::invalid("secrets.get: no secrets here"))?;
                Ok(Value::String(source.secret(key)?))
            }),
        )]),
        "influxdata/influxdb/schema" => return Some(i.flux_package(path, include_str!("flux/schema.flux"))),
        "internal/promql" => {
            return Some(i.flux_package_over(path, include_str!("flux/promql.flux"), promql::natives()));
        }
        "influxdata/influxdb/monitor" => {
            return Some(i.flux_package_over(path, include_str!("flux/monitor.flux"), monitor::natives()));
        }
        "http" => return Some(i.flux_package_over(path, include_str!("flux/http.flux"), http::http_natives())),
        "slack" => return Some(i.flux_package_over(path, include_str!("flux/slack.flux"), notify::slack())),
        "pagerduty" => {
            return Some(i.flux_package_over(path, include_str!("flux/pagerduty.flux"), notify::pagerduty()));
        }
        "contrib/sranka/telegram" => return Some(i.flux_package(path, include_str!("flux/telegram.flux"))),
        "contrib/chobbs/discord" => return Some(i.flux_package(path, include_str!("flux/discord.flux"))),
        "contrib/bonitoo-io/victorops" => return Some(i.flux_package(path, include_str!("flux/victorops.flux"))),
        "contrib/sranka/teams" => return Some(i.flux_package(path, include_str!("flux/teams.flux"))),
        "pushbullet" => return Some(i.flux_package(path, include_str!("flux/pushbullet.flux"))),
        "contrib/sranka/opsgenie" => {
            return Some(i.flux_package_over(path, include_str!("flux/opsgenie.flux"), notify::opsgenie()));
        }
        "contrib/sranka/sensu" => {
            return Some(i.flux_package_over(path, include_str!("flux/sensu.flux"), notify::sensu()));
        }
        "contrib/bonitoo-io/servicenow" => return Some(i.flux_package(path, include_str!("flux/servicenow.flux"))),
        "contrib/rhajek/bigpanda" => return Some(i.flux_package(path, include_str!("flux/bigpanda.flux"))),
        "contrib/bonitoo-io/zenoss" => return Some(i.flux_package(path, include_str!("flux/zenoss.flux"))),
        "http/requests" | "experimental/http/requests" => {
            return Some(i.flux_package_over(path, include_str!("flux/requests.flux"), http::requests_natives()));
        }
        "experimental/http" => http::experimental_http(),
        "experimental/influxdb" => http::experimental_influxdb(),
        "influxdata/influxdb" => {
            let mut natives: Vec<(&'static str, Value)> = ["from", "to", "buckets"]
                .into_iter()
                .filter_map(|name| i.universe.get(name).map(|v| (name, v)))
                .collect();
            natives.push((
                "wideTo",
                builtin(
                    "wideTo",
                    &["bucket", "bucketID", "org", "orgID", "host", "token"],
                    Some("tables"),
                    crate::influxdb::wide_to,
                ),
            ));
            return Some(i.flux_package_over(path, include_str!("flux/influxdb.flux"), natives));
        }
        "influxdata/influxdb/v1" => {
            let natives = vec![
                ("json", builtin("json", &["json", "file"], None, v1::v1_json)),
                ("databases", builtin("databases", &["host", "org", "orgID", "token"], None, v1::v1_databases)),
            ];
            return Some(i.flux_package_over(path, include_str!("flux/v1.flux"), natives));
        }
        "bitwise" | "experimental/bitwise" => bitwise::bitwise(),
        "types" => types::types(),
        "dict" => dict::dict(),
        "math" => math::package_value(),
        "join" => join::package_value(),
        "regexp" => regexp::package_value(),
        "universe" => i.universe.record(),
        "internal/debug" => {
            let natives = vec![
                ("pass", builtin("pass", &[], Some("tables"), |_, a| Ok(Value::Stream(stream(a, "tables")?)))),
                // A step the planner cannot see through: nothing is pushed into storage past it.
                (
                    "opaque",
                    builtin("opaque", &[], Some("tables"), |_, a| {
                        Ok(Value::Stream(Stream::per_table("opaque", stream(a, "tables")?, |_, t| Ok(vec![t]))))
                    }),
                ),
                ("slurp", builtin("slurp", &[], Some("tables"), |_, a| Ok(Value::Stream(stream(a, "tables")?)))),
                (
                    "sink",
                    builtin("sink", &[], Some("tables"), |_, a| {
                        let input = stream(a, "tables")?;
                        Ok(Value::Stream(Stream::whole("sink", vec![input], |_, _| Ok(Vec::new()))))
                    }),
                ),
                ("null", builtin("null", &["type"], None, |_, _| Ok(Value::Null))),
                (
                    "getOption",
                    builtin("getOption", &["pkg", "name"], None, |i, a| {
                        let (pkg, name) = (args::string(a, "pkg")?, args::string(a, "name")?);
                        let scope = i.package_scopes.get(pkg).cloned();
                        match scope.and_then(|s| s.get(name)) {
                            Some(v) => Ok(v),
                            None => fail(format!("getOption: package {pkg:?} has no option {name:?}")),
                        }
                    }),
                ),
                (
                    "feature",
                    builtin("feature", &["flag"], None, |_, a| {
                        fail(format!("feature: no feature flag {:?}: oxiflux has none", args::string(a, "flag")?))
                    }),
                ),
            ];
            return Some(i.flux_package_over(path, "package debug\n\noption vectorize = false\n", natives));
        }
        // Flux's planner rules are its own; there are none here to expect.
        "testing/expect" => package(vec![("planner", builtin("planner", &["rules"], None, |_, _| Ok(Value::Null)))]),
        "planner" => package(vec![]),
        "timezone" => package(vec![
            ("utc", crate::location::value("UTC", Duration::default())),
            (
                "location",
                builtin("location", &["name"], None, |_, a| {
                    let name = args::string(a, "name")?;
                    if name.parse::<chrono_tz::Tz>().is_err() {
                        return fail(format!("timezone.location: unknown time zone {name:?}"));
                    }
                    Ok(crate::location::value(name, Duration::default()))
                }),
            ),
            (
                "fixed",
                builtin("fixed", &["offset"], None, |_, a| match a.required("offset")? {
                    Value::Duration(d) => Ok(crate::location::value("", *d)),
                    v => fail(format!("offset must be a duration, got {}", v.type_name())),
                }),
            ),
        ]),
        "experimental" => {
            let mut members = vec![
                ("addDuration", builtin("addDuration", &["d", "to", "location"], None, |i, a| shift(i, a, "to", 1))),
                (
                    "subDuration",
                    builtin("subDuration", &["d", "from", "location"], None, |i, a| shift(i, a, "from", -1)),
                ),
                ("objectKeys", builtin("objectKeys", &["o"], None, experimental::object_keys)),
                ("unpivot", builtin("unpivot", &["otherColumns"], Some("tables"), experimental::unpivot)),
                ("preview", builtin("preview", &["nrows", "ntables"], Some("tables"), experimental::preview)),
                ("group", builtin("group", &["mode", "columns"], Some("tables"), experimental::group_extend)),
                ("set", builtin("set", &["o"], Some("tables"), experimental::set)),
                // `chain` runs `first` to its end, then answers `second`.
                (
                    "chain",
                    builtin("chain", &["first", "second"], None, |_, a| {
                        a.required("first")?;
                        Ok(a.required("second")?.clone())
                    }),
                ),
            ];
            members.push(("catch", builtin("catch", &["fn"], None, catch)));
            members.push(("diff", builtin("diff", &["want"], Some("got"), experimental::experimental_diff)));
            members.push((
                "to",
                builtin(
                    "to",
                    &["bucket", "bucketID", "org", "orgID", "host", "token"],
                    Some("tables"),
                    crate::influxdb::wide_to,
                ),
            ));
            members.extend(experimental::experimental_forwards());
            return Some(i.flux_package_over(path, include_str!("flux/experimental.flux"), members));
        }
        "influxdata/influxdb/tasks" => {
            let last = i.source.as_ref().and_then(|s| s.task_last_success());
            let natives = vec![
                ("_lastSuccessTime", last.map_or(Value::Null, Value::Time)),
                (
                    "_lastSuccess",
                    builtin("_lastSuccess", &["orTime", "lastSuccessTime"], None, |i, a| {
                        match a.get("lastSuccessTime") {
                            Some(Value::Time(t)) => Ok(Value::Time(*t)),
                            _ => Ok(Value::Time(crate::universe::bound(i, a.required("orTime")?, "orTime")?)),
                        }
                    }),
                ),
            ];
            return Some(i.flux_package_over(path, include_str!("flux/tasks.flux"), natives));
        }
        "profiler" => return Some(i.flux_package(path, include_str!("flux/profiler.flux"))),
        "internal/testing" => return Some(i.flux_package(path, include_str!("flux/internal_testing.flux"))),
        "experimental/aggregate" => return Some(i.flux_package(path, include_str!("flux/aggregate.flux"))),
        "contrib/tomhollingworth/events" => package(vec![(
            "duration",
            builtin(
                "duration",
                &["unit", "columnName", "timeColumn", "stopColumn", "stop"],
                Some("tables"),
                events::events_duration,
            ),
        )]),
        "interpolate" => package(vec![("linear", builtin("linear", &["every"], Some("tables"), interpolate::linear))]),
        "runtime" => package(vec![(
            "version",
            builtin("version", &[], None, |_, _| Ok(Value::String(format!("v{}", env!("CARGO_PKG_VERSION"))))),
        )]),
        "system" => package(vec![(
            "time",
            builtin("time", &[], None, |_, _| {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                Ok(Value::Time(i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)))
            }),
        )]),
        "generate" => package(vec![("from", builtin("from", &["count", "fn", "start", "stop"], None, generate_from))]),
        "experimental/table" => package(vec![("fill", builtin("fill", &[], Some("tables"), table_fill))]),
        _ => return None,
    }))
}

/// `experimental.catch(fn)`: `fn()`'s value, or its error as `{code, msg}`.
fn catch(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let (value, code, msg) = match i.call(&f, Args::default()) {
        Ok(v) => (v, 0, Value::Null),
        Err(e) => (Value::Null, flux_code(&e), Value::String(e.message().to_owned())),
    };
    Ok(Value::record([("value".to_owned(), value), ("code".to_owned(), Value::UInt(code)), ("msg".to_owned(), msg)]))
}

/// Flux's code for an error of this kind (`codes.Code`: Invalid 3, what `die`
/// raises; NotFound 5; PermissionDenied 7; ResourceExhausted 8; Internal 13;
/// Unavailable 14).
fn flux_code(e: &EvalError) -> u64 {
    match e {
        EvalError::Invalid(_) => 3,
        EvalError::NotFound(_) => 5,
        EvalError::Unauthorized(_) | EvalError::Forbidden(_) => 7,
        EvalError::ResourcesExhausted(_) => 8,
        EvalError::Internal(_) => 13,
        EvalError::Remote(_) => 14,
    }
}

/// `experimental.addDuration`/`subDuration`: a time (or duration from now) moved by `d`.
fn shift(i: &mut Interp, a: &Args, what: &str, sign: i64) -> EvalResult<Value> {
    let Value::Duration(d) = a.required("d")? else { return fail("d must be a duration") };
    let t = crate::universe::bound(i, a.required(what)?, what)?;
    Ok(Value::Time(flux_runtime::duration::add_duration(t, d, sign)?))
}

/// `generate.from`: `count` rows evenly spaced over `[start, stop)`, `_value = fn(n)`.
fn generate_from(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let count = match a.required("count")? {
        Value::Int(n) if *n >= 0 => *n,
        v => return fail(format!("count must be a non-negative int, got {v}")),
    };
    let start = crate::universe::bound(i, a.required("start")?, "start")?;
    let stop = crate::universe::bound(i, a.required("stop")?, "stop")?;
    let f = a.required("fn")?.clone();
    let step = if count == 0 { 0 } else { (stop - start) / count };
    let mut times = Vec::with_capacity(count as usize);
    let mut values = Vec::with_capacity(count as usize);
    for n in 0..count {
        let mut args = Args::default();
        args.named.insert("n".into(), Value::Int(n));
        values.push(i.call(&f, args)?);
        times.push(Value::Time(start + n * step));
    }
    let vt = infer_type(&values)?;
    let columns =
        vec![("_time".to_owned(), array_of(&time_type(), times)), ("_value".to_owned(), array_of(&vt, values))];
    Ok(Value::Stream(Stream::tables(vec![Table::new(&[], columns)?])))
}

/// `table.fill` (experimental): an empty table gets one row of its key values and nulls.
fn table_fill(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let input = stream(a, "tables")?;
    Ok(Value::Stream(Stream::per_table("fill", input, |_, t| {
        if !t.is_empty() {
            return Ok(vec![t]);
        }
        let columns = t
            .fields()
            .into_iter()
            .map(|(n, dt)| {
                let v = t.key.get(&n).cloned().unwrap_or(Value::Null);
                let c = flux_runtime::table::repeat(&v, &dt, 1);
                (n, c)
            })
            .collect();
        Ok(vec![Table::with_key(t.key.clone(), columns)?])
    })))
}

/// `array.from(rows:)`: one table, a column per record property.
fn array_from(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let Value::Array(rows) = a.required("rows")? else {
        return fail("rows must be an array of records");
    };
    let mut names: Vec<String> = Vec::new();
    for r in rows.iter() {
        let Value::Record(r) = r else { return fail(format!("rows must be records, got a {}", r.type_name())) };
        for k in r.keys() {
            if !names.iter().any(|n| n == k) {
                names.push(k.to_owned());
            }
        }
    }
    let mut columns = Vec::with_capacity(names.len());
    for n in &names {
        let values: Vec<Value> = rows
            .iter()
            .map(|r| match r {
                Value::Record(r) => r.get(n).cloned().unwrap_or(Value::Null),
                _ => Value::Null,
            })
            .collect();
        let t = infer_type(&values).map_err(|e| e.context(format!("array.from: column {n}")))?;
        columns.push((n.clone(), array_of(&t, values)));
    }
    Ok(Value::Stream(Stream::tables(vec![Table::new(&[], columns)?])))
}

fn csv_from(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    if a.get("file").is_some() {
        return fail("csv.from: reading files is not allowed on this server; pass the data as csv");
    }
    let Some(Value::String(text)) = a.get("csv") else { return fail("csv.from: csv must be a string") };
    let tables = match a.get("mode") {
        None => flux_runtime::csv::decode(text)?,
        Some(Value::String(m)) if m == "annotations" => flux_runtime::csv::decode(text)?,
        Some(Value::String(m)) if m == "raw" => flux_runtime::csv::decode_raw(text)?,
        Some(v) => return fail(format!("csv.from: mode must be \"annotations\" or \"raw\", got {v}")),
    };
    Ok(Value::Stream(Stream::tables(tables)))
}

// ---- testing ----

/// Whether two cells are equal as `testing.diff` sees them.
fn same_cell(a: &Value, b: &Value, epsilon: f64, nans_equal: bool) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            if x.is_nan() || y.is_nan() {
                return nans_equal && x.is_nan() && y.is_nan();
            }
            x == y || (x - y).abs() <= epsilon
        }
        _ => a == b,
    }
}

fn same_table(a: &Table, b: &Table, epsilon: f64, nans_equal: bool) -> bool {
    let (mut fa, mut fb) = (a.fields(), b.fields());
    fa.sort();
    fb.sort();
    if fa != fb || a.num_rows() != b.num_rows() {
        return false;
    }
    // Key columns are compared through the group keys; rows on the other columns.
    fa.iter().filter(|(n, _)| !a.key.contains(n)).all(|(n, _)| {
        let (ca, cb) = (a.batch.column_by_name(n), b.batch.column_by_name(n));
        let (Some(ca), Some(cb)) = (ca, cb) else { return false };
        (0..a.num_rows()).all(|i| same_cell(&cell(ca.as_ref(), i), &cell(cb.as_ref(), i), epsilon, nans_equal))
    })
}

/// The rows of a table as a diff: each cell rendered, plus `_diff`.
fn diff_rows(t: &Table, mark: &str, names: &mut Vec<String>, rows: &mut Vec<Vec<(String, Value)>>) {
    for (n, _) in t.fields() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    for i in 0..t.num_rows() {
        let mut row = vec![("_diff".to_owned(), Value::String(mark.to_owned()))];
        for (n, c) in t.columns() {
            let v = cell(c.as_ref(), i);
            row.push((n, if matches!(v, Value::Null) { v } else { Value::String(v.to_string()) }));
        }
        rows.push(row);
    }
}

/// Tables of `got` and `want` that differ, matched by group key: (got, want).
fn differences(got: &[Table], want: &[Table], epsilon: f64, nans_equal: bool) -> Vec<(Option<Table>, Option<Table>)> {
    let mut out = Vec::new();
    let mut used = vec![false; want.len()];
    for g in got {
        match want.iter().enumerate().find(|(j, w)| !used[*j] && w.key.same_group(&g.key)) {
            Some((j, w)) => {
                used[j] = true;
                if !same_table(g, w, epsilon, nans_equal) {
                    out.push((Some(g.clone()), Some(w.clone())));
                }
            }
            None => out.push((Some(g.clone()), None)),
        }
    }
    for (j, w) in want.iter().enumerate() {
        if !used[j] {
            out.push((None, Some(w.clone())));
        }
    }
    out
}

fn float_arg(a: &Args, name: &str, default: f64) -> EvalResult<f64> {
    match a.get(name) {
        None => Ok(default),
        Some(Value::Float(x)) => Ok(*x),
        Some(Value::Int(x)) => Ok(*x as f64),
        Some(v) => fail(format!("{name} must be a float, got {}", v.type_name())),
    }
}

/// `testing.assertEqualValues`: `diff` of one-row tables `{v: got}` and `{v: want}`.
fn assert_equal_values(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let one = |i: &mut Interp, v: &Value| -> EvalResult<Value> {
        let mut rows = Args::default();
        let row = Value::Record(Rc::new([("v".to_owned(), v.clone())].into_iter().collect()));
        rows.named.insert("rows".into(), Value::Array(Rc::new(vec![row])));
        array_from(i, &rows)
    };
    let mut args = Args::default();
    args.named.insert("got".into(), one(i, a.required("got")?)?);
    args.named.insert("want".into(), one(i, a.required("want")?)?);
    diff(i, &args)
}

fn diff(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let got = stream(a, "got")?;
    let want = stream(a, "want")?;
    let epsilon = float_arg(a, "epsilon", 1e-9)?;
    let nans_equal = matches!(a.get("nansEqual"), Some(Value::Bool(true)));
    Ok(Value::Stream(Stream::whole("diff", vec![got, want], move |_, inputs| {
        let mut out = Vec::new();
        for (g, w) in differences(&inputs[0], &inputs[1], epsilon, nans_equal) {
            let mut names = vec!["_diff".to_owned()];
            let mut rows = Vec::new();
            if let Some(w) = &w {
                diff_rows(w, "-", &mut names, &mut rows);
            }
            if let Some(g) = &g {
                diff_rows(g, "+", &mut names, &mut rows);
            }
            let key = g.as_ref().or(w.as_ref()).map(|t| t.key.clone()).unwrap_or_default();
            if rows.is_empty() {
                // Tables without rows have nothing to show as different.
                continue;
            }
            let columns = names
                .iter()
                .map(|n| {
                    let values: Vec<Value> = rows
                        .iter()
                        .map(|r| r.iter().find(|(k, _)| k == n).map_or(Value::Null, |(_, v)| v.clone()))
                        .collect();
                    (n.clone(), array_of(&DataType::Utf8, values))
                })
                .collect();
            let key = GroupKey(key.0.into_iter().map(|(k, v)| (k, Value::String(v.to_string()))).collect());
            out.push(Table::with_key(key, columns)?);
        }
        Ok(out)
    })))
}

fn assert_equals(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let name = match a.required("name")? {
        Value::String(s) => s.clone(),
        v => return fail(format!("name must be a string, got {}", v.type_name())),
    };
    let got = stream(a, "got")?;
    let want = stream(a, "want")?;
    Ok(Value::Stream(Stream::whole("assertEquals", vec![got, want], move |_, mut inputs| {
        if !differences(&inputs[0], &inputs[1], 1e-9, false).is_empty() {
            return fail(format!("test {name}: unequal streams"));
        }
        Ok(inputs.swap_remove(0))
    })))
}

/// `testing.shouldError`: calling `fn` (and running what it returns) must fail with a matching message.
fn should_error(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let want = args::regex(a, "want")?.clone();
    let outcome = match i.call(&f, Args::default()) {
        Ok(Value::Stream(s)) => flux_runtime::exec::collect(i, &s).map(|_| ()),
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    match outcome {
        Err(e) if want.is_match(e.message()) => Ok(Value::Null),
        Err(e) => fail(format!("shouldError: error {:?} does not match {}", e.message(), want.as_str())),
        Ok(()) => fail("shouldError expected an error"),
    }
}

fn assert_empty(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let input = stream(a, "tables")?;
    Ok(Value::Stream(Stream::per_table("assertEmpty", input, |_, t| {
        if t.is_empty() { Ok(vec![t]) } else { fail("found non-empty table") }
    })))
}

// ---- sampledata ----

const SAMPLE_START: i64 = 1_609_459_200_000_000_000; // 2021-01-01T00:00:00Z

#[derive(Clone, Copy, PartialEq)]
enum Sample {
    Float,
    Int,
    UInt,
    String,
    Bool,
    NumericBool,
}

const NUMBERS: [[f64; 6]; 2] = [[-2.18, 10.92, 7.35, 17.53, 15.23, 4.43], [19.85, 4.97, -3.75, 19.77, 13.86, 1.86]];
const STRINGS: [[&str; 6]; 2] = [
    ["smpl_g9qczs", "smpl_0mgv9n", "smpl_phw664", "smpl_guvzy4", "smpl_5v3cce", "smpl_s9fmgy"],
    ["smpl_b5eida", "smpl_eu4oxp", "smpl_5g7tz4", "smpl_sox1ut", "smpl_wfm757", "smpl_dtn2bv"],
];
const BOOLS: [[bool; 6]; 2] = [[true, true, false, true, false, false], [false, true, false, true, true, false]];
/// Rows that are null with `includeNull: true`, per tag.
const NULLS: [[bool; 6]; 2] = [[false, true, false, true, true, false], [true, false, false, false, true, false]];

/// The `sampledata` tables: tags `t1` and `t2`, six rows each, ten seconds apart.
fn sample(a: &Args, kind: Sample) -> EvalResult<Value> {
    let include_null = matches!(a.get("includeNull"), Some(Value::Bool(true)));
    let mut tables = Vec::with_capacity(2);
    for (t, tag) in ["t1", "t2"].into_iter().enumerate() {
        let times: Vec<Value> = (0..6).map(|i| Value::Time(SAMPLE_START + i * 10_000_000_000)).collect();
        let values: Vec<Value> = (0..6)
            .map(|i| {
                if include_null && NULLS[t][i] {
                    return Value::Null;
                }
                let x = NUMBERS[t][i];
                match kind {
                    Sample::Float => Value::Float(x),
                    Sample::Int => Value::Int(x as i64),
                    Sample::UInt => Value::UInt(x as i64 as u64),
                    Sample::String => Value::String(STRINGS[t][i].to_owned()),
                    Sample::Bool => Value::Bool(BOOLS[t][i]),
                    Sample::NumericBool => Value::Int(i64::from(BOOLS[t][i])),
                }
            })
            .collect();
        let value_type = match kind {
            Sample::Float => DataType::Float64,
            Sample::Int | Sample::NumericBool => DataType::Int64,
            Sample::UInt => DataType::UInt64,
            Sample::String => DataType::Utf8,
            Sample::Bool => DataType::Boolean,
        };
        let tag_col =
            ("tag".to_owned(), array_of(&DataType::Utf8, std::iter::repeat_n(Value::String(tag.to_owned()), 6)));
        let value_col = ("_value".to_owned(), array_of(&value_type, values));
        // The converted kinds come out of a map with `with`, which orders columns by name.
        let columns = match kind {
            Sample::Float | Sample::String | Sample::Bool => {
                vec![("_time".to_owned(), array_of(&time_type(), times)), tag_col, value_col]
            }
            _ => vec![("_time".to_owned(), array_of(&time_type(), times)), value_col, tag_col],
        };
        tables.push(Table::new(&["tag".to_owned()], columns)?);
    }
    Ok(Value::Stream(Stream::tables(tables)))
}
