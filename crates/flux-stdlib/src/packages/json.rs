//! `experimental/json.parse`: JSON text to Flux values.

use std::rc::Rc;

use crate::args::fail;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::value::Value;

/// `experimental/json.parse(data)`: JSON text as Flux values — objects as
/// records, arrays, numbers as floats, strings, booleans, null.
pub(super) fn json_parse(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    parse_json(a, "json.parse")
}

/// The `data` argument (bytes, or a string) read as JSON; `who` names the
/// function in its errors.
pub(super) fn parse_json(a: &Args, who: &str) -> EvalResult<Value> {
    let data = match a.required("data")? {
        Value::Bytes(b) => b.clone(),
        Value::String(s) => s.clone().into_bytes(),
        v => return fail(format!("data must be bytes, got {}", v.type_name())),
    };
    let parsed: serde_json::Value =
        serde_json::from_slice(&data).map_err(|e| flux_runtime::error::EvalError::invalid(format!("{who}: {e}")))?;
    fn convert(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => Value::Array(Rc::new(items.into_iter().map(convert).collect())),
            serde_json::Value::Object(fields) => Value::record(fields.into_iter().map(|(k, v)| (k, convert(v)))),
        }
    }
    Ok(convert(parsed))
}
