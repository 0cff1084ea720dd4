//! The universe: every name a program sees without an import — the sources
//! (`from`, `range`, `filter`, `yield`, `buckets`, `to`), the
//! transformations, the conversions, and the small builtins that need no
//! tables (`now`, `length`, `contains`, `die`, `display`, bins), with the
//! `location` option's default.

use std::rc::Rc;

use crate::args::{builtin, fail};
use crate::convert::{display, to_bool, to_bytes, to_duration, to_float, to_int, to_string, to_time, to_uint};
use flux_runtime::duration::Duration;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp, Scope};
use flux_runtime::value::Value;

fn def(
    scope: &Scope,
    name: &'static str,
    params: &'static [&'static str],
    pipe: Option<&'static str>,
    call: flux_runtime::interp::BuiltinFn,
) {
    scope.set(name, builtin(name, params, pipe, call));
}

pub(crate) fn install(s: &Scope) {
    def(s, "now", &[], None, |i: &mut Interp, _| Ok(Value::Time(i.now)));
    def(s, "length", &["arr"], Some("arr"), |_, a| match a.required("arr")? {
        Value::Array(v) => Ok(Value::Int(v.len() as i64)),
        v => fail(format!("length: arr must be an array, got {}", v.type_name())),
    });
    def(s, "contains", &["value", "set"], None, |_, a| match a.required("set")? {
        Value::Array(v) => {
            let x = a.required("value")?;
            Ok(Value::Bool(v.iter().any(|e| e == x)))
        }
        v => fail(format!("contains: set must be an array, got {}", v.type_name())),
    });
    def(s, "die", &["msg"], None, |_, a| match a.required("msg")? {
        Value::String(m) => Err(flux_runtime::error::EvalError::invalid(m.clone())),
        v => Err(flux_runtime::error::EvalError::invalid(v.to_string())),
    });
    def(s, "display", &["v"], None, |_, a| {
        let mut out = String::new();
        display(a.required("v")?, 0, &mut out);
        Ok(Value::String(out))
    });
    def(s, "string", &["v"], None, |_, a| to_string(a.required("v")?));
    def(s, "int", &["v"], None, |_, a| to_int(a.required("v")?));
    def(s, "uint", &["v"], None, |_, a| to_uint(a.required("v")?));
    def(s, "float", &["v"], None, |_, a| to_float(a.required("v")?));
    def(s, "bool", &["v"], None, |_, a| to_bool(a.required("v")?));
    def(s, "time", &["v"], None, |_, a| to_time(a.required("v")?));
    def(s, "duration", &["v"], None, |_, a| to_duration(a.required("v")?));
    def(s, "bytes", &["v"], None, |_, a| to_bytes(a.required("v")?));
    let _ = Args::default;
    def(s, "from", &["bucket", "bucketID", "host", "org", "orgID", "token"], None, crate::universe::from);
    def(
        s,
        "range",
        &["start", "stop", "timeColumn", "startColumn", "stopColumn"],
        Some("tables"),
        crate::universe::range,
    );
    def(s, "filter", &["fn", "onEmpty"], Some("tables"), crate::universe::filter);
    def(s, "yield", &["name"], Some("tables"), crate::universe::yield_);
    def(s, "buckets", &["host", "org", "orgID", "token"], None, crate::influxdb::buckets);
    // The prelude holds influxdata/influxdb's functions, wideTo among them.
    def(
        s,
        "wideTo",
        &["bucket", "bucketID", "org", "orgID", "host", "token"],
        Some("tables"),
        crate::influxdb::wide_to,
    );
    def(
        s,
        "to",
        &[
            "bucket",
            "bucketID",
            "org",
            "orgID",
            "host",
            "token",
            "timeColumn",
            "measurementColumn",
            "tagColumns",
            "fieldFn",
        ],
        Some("tables"),
        crate::influxdb::to,
    );
    crate::transform::install(&mut |name, params, pipe, call| def(s, name, params, pipe, call));
    def(s, "linearBins", &["start", "width", "count", "infinity"], None, |_, a| {
        bins(a, "width", |start, step, k| start + step * k as f64)
    });
    def(s, "logarithmicBins", &["start", "factor", "count", "infinity"], None, |_, a| {
        bins(a, "factor", |start, factor, k| start * factor.powi(k as i32))
    });
    s.set("location", crate::location::value("UTC", Duration::default()));
    // An endless duration, as `window(every: inf)` uses it.
    s.set("inf", Value::Duration(Duration { months: 0, nanos: i64::MAX, negative: false }));
}

/// Histogram bin bounds: `count` values from `start`, then `+Inf` unless `infinity: false`.
fn bins(a: &Args, step_name: &str, at: fn(f64, f64, i64) -> f64) -> EvalResult<Value> {
    let num = |name: &str| match a.required(name)? {
        Value::Float(x) => Ok(*x),
        Value::Int(n) => Ok(*n as f64),
        v => fail(format!("{name} must be a float, got {}", v.type_name())),
    };
    let (start, step) = (num("start")?, num(step_name)?);
    let count = match a.required("count")? {
        Value::Int(n) if *n >= 0 => *n,
        v => return fail(format!("count must be a non-negative int, got {v}")),
    };
    let mut out: Vec<Value> = (0..count).map(|k| Value::Float(at(start, step, k))).collect();
    if !matches!(a.get("infinity"), Some(Value::Bool(false))) {
        out.push(Value::Float(f64::INFINITY));
    }
    Ok(Value::Array(Rc::new(out)))
}
