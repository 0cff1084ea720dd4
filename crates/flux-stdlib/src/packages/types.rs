//! `types`: `isType` and `isNumeric`.

use crate::args::builtin;
use crate::args::{fail, package};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::value::Value;

/// `types`: `isType(v, type)` and `isNumeric(v)`.
pub(super) fn types() -> Value {
    package(vec![
        ("isType", builtin("isType", &["v", "type"], None, is_type)),
        (
            "isNumeric",
            builtin("isNumeric", &["v"], None, |_, a| {
                Ok(Value::Bool(matches!(a.required("v")?, Value::Int(_) | Value::UInt(_) | Value::Float(_))))
            }),
        ),
    ])
}

/// Whether `v` is of the basic type named (`"string"`, `"int"`, …).
fn is_type(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let Value::String(t) = a.required("type")? else { return fail("type must be a string") };
    let v = a.required("v")?;
    Ok(Value::Bool(match t.as_str() {
        "string" => matches!(v, Value::String(_)),
        "bytes" => matches!(v, Value::Bytes(_)),
        "int" => matches!(v, Value::Int(_)),
        "uint" => matches!(v, Value::UInt(_)),
        "float" => matches!(v, Value::Float(_)),
        "bool" => matches!(v, Value::Bool(_)),
        "time" => matches!(v, Value::Time(_)),
        "duration" => matches!(v, Value::Duration(_)),
        "regexp" => matches!(v, Value::Regex(_)),
        // No value is of a type that does not exist.
        _ => false,
    }))
}
