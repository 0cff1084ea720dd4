//! What every native function of the library starts with: reading its
//! arguments (a stream of tables, strings, numbers, lists, options with
//! defaults), failing with Flux's words, and making function and package
//! values.

use std::rc::Rc;

use flux_runtime::duration::Duration;
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, BuiltinFn};
use flux_runtime::stream::Stream;
use flux_runtime::value::{Function, Value};

/// A builtin function value.
pub(crate) fn builtin(
    name: &'static str,
    params: &'static [&'static str],
    pipe: Option<&'static str>,
    call: BuiltinFn,
) -> Value {
    Value::Function(Rc::new(Function::Builtin { name, params, pipe, call }))
}

/// A package: its members as a record.
pub(crate) fn package(members: Vec<(&'static str, Value)>) -> Value {
    Value::record(members.into_iter().map(|(k, v)| (k.to_owned(), v)))
}

/// A stream of tables given as argument `name`.
pub(crate) fn stream(a: &Args, name: &str) -> EvalResult<Rc<Stream>> {
    match a.required(name)? {
        Value::Stream(s) => Ok(Rc::clone(s)),
        v => fail(format!("{name} must be a stream of tables, got {}", v.type_name())),
    }
}

/// The piped-in stream of tables (`tables`).
pub(crate) fn input(a: &Args) -> EvalResult<Rc<Stream>> {
    match a.required("tables")? {
        Value::Stream(s) => Ok(Rc::clone(s)),
        v => fail(format!("expected a stream of tables, got {}", v.type_name())),
    }
}

pub(crate) fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message.into()))
}

/// A stream as the value a transformation returns.
pub(crate) fn out(s: Rc<Stream>) -> EvalResult<Value> {
    Ok(Value::Stream(s))
}

pub(crate) fn str_arg(a: &Args, name: &str, default: &str) -> EvalResult<String> {
    match a.get(name) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => fail(format!("{name} must be a string, got {}", v.type_name())),
    }
}

pub(crate) fn str_list(a: &Args, name: &str) -> EvalResult<Option<Vec<String>>> {
    match a.get(name) {
        None => Ok(None),
        Some(Value::Array(v)) => v
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                v => fail(format!("{name} must be an array of strings, got an element of type {}", v.type_name())),
            })
            .collect::<EvalResult<Vec<_>>>()
            .map(Some),
        Some(v) => fail(format!("{name} must be an array of strings, got {}", v.type_name())),
    }
}

pub(crate) fn int_arg(a: &Args, name: &str, default: Option<i64>) -> EvalResult<i64> {
    match a.get(name) {
        None => default.ok_or_else(|| EvalError::invalid(format!("missing required argument {name}"))),
        Some(Value::Int(n)) => Ok(*n),
        Some(v) => fail(format!("{name} must be an int, got {}", v.type_name())),
    }
}

pub(crate) fn float_arg(a: &Args, name: &str, default: Option<f64>) -> EvalResult<f64> {
    match a.get(name) {
        None => default.ok_or_else(|| EvalError::invalid(format!("missing required argument {name}"))),
        Some(Value::Float(x)) => Ok(*x),
        Some(Value::Int(n)) => Ok(*n as f64),
        Some(v) => fail(format!("{name} must be a float, got {}", v.type_name())),
    }
}

pub(crate) fn bool_arg(a: &Args, name: &str, default: bool) -> EvalResult<bool> {
    match a.get(name) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => fail(format!("{name} must be a bool, got {}", v.type_name())),
    }
}

pub(crate) fn duration_arg(a: &Args, name: &str) -> EvalResult<Option<Duration>> {
    match a.get(name) {
        None => Ok(None),
        Some(Value::Duration(d)) => Ok(Some(*d)),
        Some(v) => fail(format!("{name} must be a duration, got {}", v.type_name())),
    }
}

/// How a group of functions is defined into the universe: name, parameters,
/// the piped parameter, the function.
pub(crate) type Def<'a> = &'a mut dyn FnMut(&'static str, &'static [&'static str], Option<&'static str>, BuiltinFn);

fn wrong<T>(name: &str, want: &str, v: &Value) -> EvalResult<T> {
    Err(EvalError::invalid(format!("{name} must be {want}, got {}", v.type_name())))
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
