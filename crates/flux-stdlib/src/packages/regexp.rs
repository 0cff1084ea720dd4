//! The `regexp` package.

use std::rc::Rc;

use crate::args::builtin;
use crate::args::package;
use crate::args::{int, regex, string};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::value::Value;

fn s(v: impl Into<String>) -> EvalResult<Value> {
    Ok(Value::String(v.into()))
}

pub(super) fn package_value() -> Value {
    package(vec![
        (
            "compile",
            builtin("compile", &["v"], None, |_, a| {
                regex::Regex::new(string(a, "v")?)
                    .map(|r| Value::Regex(Rc::new(r)))
                    .map_err(|e| EvalError::invalid(format!("regexp.compile: {e}")))
            }),
        ),
        ("quoteMeta", builtin("quoteMeta", &["v"], None, |_, a| s(regex::escape(string(a, "v")?)))),
        (
            "findString",
            builtin("findString", &["r", "v"], None, |_, a| {
                s(regex(a, "r")?.find(string(a, "v")?).map_or("", |m| m.as_str()))
            }),
        ),
        (
            "findStringIndex",
            builtin("findStringIndex", &["r", "v"], None, |_, a| {
                let found = regex(a, "r")?.find(string(a, "v")?);
                Ok(Value::Array(Rc::new(match found {
                    Some(m) => vec![Value::Int(m.start() as i64), Value::Int(m.end() as i64)],
                    None => Vec::new(),
                })))
            }),
        ),
        (
            "matchRegexpString",
            builtin("matchRegexpString", &["r", "v"], None, |_, a| {
                Ok(Value::Bool(regex(a, "r")?.is_match(string(a, "v")?)))
            }),
        ),
        (
            "replaceAllString",
            builtin("replaceAllString", &["r", "v", "t"], None, |_, a| {
                // Go's `$1` expansion and Rust's agree for numbered groups.
                s(regex(a, "r")?.replace_all(string(a, "v")?, string(a, "t")?).into_owned())
            }),
        ),
        (
            "splitRegexp",
            builtin("splitRegexp", &["r", "v", "i"], None, |_, a| {
                let (r, v, n) = (regex(a, "r")?, string(a, "v")?, int(a, "i")?);
                let parts: Vec<Value> = if n < 0 {
                    r.split(v).map(|p| Value::String(p.to_owned())).collect()
                } else {
                    r.splitn(v, n as usize).map(|p| Value::String(p.to_owned())).collect()
                };
                Ok(Value::Array(Rc::new(parts)))
            }),
        ),
        ("getString", builtin("getString", &["r"], None, |_, a| s(regex(a, "r")?.as_str()))),
    ])
}
