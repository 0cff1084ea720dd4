//! Reading builtin arguments of the basic types.

use crate::interp::{Args, EvalError, EvalResult};
use crate::value::Value;

fn wrong<T>(name: &str, want: &str, v: &Value) -> EvalResult<T> {
    Err(EvalError { message: format!("{name} must be {want}, got {}", v.type_name()) })
}

pub(crate) fn string<'a>(a: &'a Args, name: &str) -> EvalResult<&'a str> {
    match a.required(name)? {
        Value::String(s) => Ok(s),
        v => wrong(name, "a string", v),
    }
}

pub(crate) fn float(a: &Args, name: &str) -> EvalResult<f64> {
    match a.required(name)? {
        Value::Float(x) => Ok(*x),
        v => wrong(name, "a float", v),
    }
}

pub(crate) fn int(a: &Args, name: &str) -> EvalResult<i64> {
    match a.required(name)? {
        Value::Int(n) => Ok(*n),
        v => wrong(name, "an int", v),
    }
}

pub(crate) fn regex<'a>(a: &'a Args, name: &str) -> EvalResult<&'a regex::Regex> {
    match a.required(name)? {
        Value::Regex(r) => Ok(r),
        v => wrong(name, "a regular expression", v),
    }
}

pub(crate) fn strings(a: &Args, name: &str) -> EvalResult<Vec<String>> {
    match a.required(name)? {
        Value::Array(items) => items
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                v => wrong(name, "an array of strings", v),
            })
            .collect(),
        v => wrong(name, "an array of strings", v),
    }
}
