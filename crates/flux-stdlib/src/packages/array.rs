//! `array` and `experimental/array`: map, filter, concat and the element
//! conversions over array values.

use std::rc::Rc;

use crate::args::builtin;
use crate::args::fail;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::value::Value;

/// `array.concat`, `array.map`, `array.filter` (also in `experimental/array`).
pub(super) fn array_functions() -> Vec<(&'static str, Value)> {
    vec![
        (
            "concat",
            builtin("concat", &["arr", "v"], Some("arr"), |_, a| {
                let (head, tail) = (array(a, "arr")?, array(a, "v")?);
                Ok(Value::Array(Rc::new(head.iter().chain(tail.iter()).cloned().collect())))
            }),
        ),
        (
            "map",
            builtin("map", &["arr", "fn"], Some("arr"), |i, a| {
                let f = function(a)?;
                let out = array(a, "arr")?.iter().map(|x| i.call(&f, one_arg(x))).collect::<EvalResult<Vec<_>>>()?;
                Ok(Value::Array(Rc::new(out)))
            }),
        ),
        (
            "filter",
            builtin("filter", &["arr", "fn"], Some("arr"), |i, a| {
                let f = function(a)?;
                let mut out = Vec::new();
                for x in array(a, "arr")?.iter() {
                    match i.call(&f, one_arg(x))? {
                        Value::Bool(true) => out.push(x.clone()),
                        Value::Bool(false) | Value::Null => {}
                        v => return fail(format!("filter: fn must return a bool, got {}", v.type_name())),
                    }
                }
                Ok(Value::Array(Rc::new(out)))
            }),
        ),
    ]
}

fn array(a: &Args, name: &str) -> EvalResult<Rc<Vec<Value>>> {
    match a.required(name)? {
        Value::Array(v) => Ok(Rc::clone(v)),
        v => fail(format!("{name} must be an array, got {}", v.type_name())),
    }
}

fn function(a: &Args) -> EvalResult<Value> {
    match a.required("fn")? {
        f @ Value::Function(_) => Ok(f.clone()),
        v => fail(format!("fn must be a function, got {}", v.type_name())),
    }
}

/// The arguments `(x: v)`.
fn one_arg(v: &Value) -> Args {
    let mut args = Args::default();
    args.named.insert("x".into(), v.clone());
    args
}

/// `experimental/array`'s `toBool`, `toInt`, …: `array.map` with the
/// universe conversion of that name.
pub(super) fn array_conversions() -> Vec<(&'static str, Value)> {
    macro_rules! conversions {
        ($($name:literal => $universe:literal),*) => {
            vec![$(($name, builtin($name, &["arr"], Some("arr"), |i, a| convert(i, a, $universe)))),*]
        };
    }
    conversions![
        "toBool" => "bool",
        "toDuration" => "duration",
        "toFloat" => "float",
        "toInt" => "int",
        "toString" => "string",
        "toTime" => "time",
        "toUInt" => "uint"
    ]
}

fn convert(i: &mut Interp, a: &Args, name: &str) -> EvalResult<Value> {
    let f = i.universe.get(name).ok_or_else(|| flux_runtime::error::EvalError::invalid(format!("no {name}")))?;
    let mut out = Vec::new();
    for x in array(a, "arr")?.iter() {
        let mut args = Args::default();
        args.named.insert("v".into(), x.clone());
        out.push(i.call(&f, args)?);
    }
    Ok(Value::Array(Rc::new(out)))
}
