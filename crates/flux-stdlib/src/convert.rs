//! Conversions between Flux's value types (`string()`, `int()`, `float()`,
//! `time()`, ... and the `to*` transformations), and how values print
//! (`display()`, Go's float formatting), with Flux's words when a value does
//! not convert.

use crate::args::fail;
use flux_runtime::duration::Duration;
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::value::Value;

/// Go's `%v` for a float: shortest digits, exponent form below 1e-4 or from 1e6 on.
pub(crate) fn go_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let e = format!("{x:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        format!("{x}")
    }
}

/// `display()`: records with sorted keys, bytes in hex; more than three
/// elements go one per line, indented four spaces a level.
pub(crate) fn display(v: &Value, indent: usize, out: &mut String) {
    fn newline(out: &mut String, indent: usize) {
        out.push('\n');
        out.push_str(&"    ".repeat(indent));
    }
    fn items(
        out: &mut String,
        indent: usize,
        open: char,
        close: char,
        n: usize,
        mut item: impl FnMut(usize, &mut String),
    ) {
        let multiline = n > 3;
        out.push(open);
        if multiline {
            newline(out, indent + 1);
        }
        for i in 0..n {
            if i > 0 {
                out.push_str(if multiline { "," } else { ", " });
                if multiline {
                    newline(out, indent + 1);
                }
            }
            item(i, out);
        }
        if multiline {
            newline(out, indent);
        }
        out.push(close);
    }
    match v {
        Value::Float(x) => out.push_str(&go_float(*x)),
        Value::Bytes(b) => {
            out.push_str("0x");
            for byte in b {
                out.push_str(&format!("{byte:02x}"));
            }
        }
        Value::Regex(r) => out.push_str(r.as_str()),
        Value::Time(t) => out.push_str(&time::rfc3339::format(*t, time::rfc3339::Fraction::Fixed)),
        Value::Array(a) => items(out, indent, '[', ']', a.len(), |i, out| display(&a[i], indent + 1, out)),
        Value::Record(r) => {
            let mut keys: Vec<&str> = r.keys().collect();
            keys.sort_unstable();
            items(out, indent, '{', '}', keys.len(), |i, out| {
                out.push_str(keys[i]);
                out.push_str(": ");
                display(r.get(keys[i]).unwrap_or(&Value::Null), indent + 1, out);
            });
        }
        Value::Dynamic(inner) => {
            out.push_str("dynamic(");
            display(inner, indent, out);
            out.push(')');
        }
        Value::Function(_) => out.push_str(&v.type_string()),
        Value::Dict(d) if d.is_empty() => out.push_str("[:]"),
        Value::Dict(d) => items(out, indent, '[', ']', d.len(), |i, out| {
            display(&d[i].0, indent + 1, out);
            out.push_str(": ");
            display(&d[i].1, indent + 1, out);
        }),
        v => out.push_str(&v.to_string()),
    }
}

/// Flux's "cannot convert" error of a conversion function.
fn cannot_convert<T>(v: &Value, to: &str) -> EvalResult<T> {
    fail(format!("cannot convert {} to {to}", v.type_string()))
}

/// Flux's error for a string a conversion cannot read.
fn invalid_syntax(s: &str, to: &str) -> EvalError {
    EvalError::invalid(format!("cannot convert string {s:?} to {to} due to invalid syntax"))
}

// The conversion functions read the value a dynamic holds; null (a dynamic
// null too) converts to null.

pub(crate) fn to_string(v: &Value) -> EvalResult<Value> {
    Ok(match v.undynamic() {
        Value::Null => Value::Null,
        v @ Value::String(_) => v.clone(),
        Value::Time(t) => Value::String(time::rfc3339::format(*t, time::rfc3339::Fraction::Fixed)),
        v @ (Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Duration(_)) => {
            Value::String(v.to_string())
        }
        Value::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        v => return cannot_convert(v, "string"),
    })
}

pub(crate) fn to_int(v: &Value) -> EvalResult<Value> {
    Ok(match v.undynamic() {
        Value::Null => Value::Null,
        v @ Value::Int(_) => v.clone(),
        Value::UInt(n) => Value::Int(*n as i64),
        Value::Float(x) => Value::Int(*x as i64),
        Value::Bool(b) => Value::Int(i64::from(*b)),
        Value::Time(t) => Value::Int(*t),
        Value::Duration(d) if d.months == 0 => Value::Int(d.signed().1),
        Value::String(s) => Value::Int(s.trim().parse().map_err(|_| invalid_syntax(s, "int"))?),
        v => return cannot_convert(v, "int"),
    })
}

pub(crate) fn to_uint(v: &Value) -> EvalResult<Value> {
    Ok(match v.undynamic() {
        Value::Null => Value::Null,
        v @ Value::UInt(_) => v.clone(),
        Value::Int(n) => Value::UInt(*n as u64),
        // As Go converts on amd64 (what InfluxDB gives): through a signed integer.
        Value::Float(x) => Value::UInt(*x as i64 as u64),
        Value::Bool(b) => Value::UInt(u64::from(*b)),
        Value::Time(t) => Value::UInt(*t as u64),
        Value::Duration(d) if d.months == 0 => Value::UInt(d.signed().1 as u64),
        Value::String(s) => Value::UInt(s.trim().parse().map_err(|_| invalid_syntax(s, "uint"))?),
        v => return cannot_convert(v, "uint"),
    })
}

pub(crate) fn to_float(v: &Value) -> EvalResult<Value> {
    Ok(match v.undynamic() {
        Value::Null => Value::Null,
        v @ Value::Float(_) => v.clone(),
        Value::Int(n) => Value::Float(*n as f64),
        Value::UInt(n) => Value::Float(*n as f64),
        Value::Bool(b) => Value::Float(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => Value::Float(s.trim().parse().map_err(|_| invalid_syntax(s, "float"))?),
        v => return cannot_convert(v, "float"),
    })
}

pub(crate) fn to_bool(v: &Value) -> EvalResult<Value> {
    Ok(match v.undynamic() {
        Value::Null => Value::Null,
        v @ Value::Bool(_) => v.clone(),
        Value::String(s) if s == "true" => Value::Bool(true),
        Value::String(s) if s == "false" => Value::Bool(false),
        Value::String(s) => return fail(format!("cannot convert string {s:?} to bool")),
        Value::Int(n) if *n == 0 || *n == 1 => Value::Bool(*n == 1),
        Value::UInt(n) if *n == 0 || *n == 1 => Value::Bool(*n == 1),
        Value::Float(x) if *x == 0.0 || *x == 1.0 => Value::Bool(*x == 1.0),
        Value::Float(x) => return fail(format!("cannot convert float {x:.6} to bool, must be 0 or 1")),
        v @ (Value::Int(_) | Value::UInt(_)) => {
            return fail(format!("cannot convert {} {v} to bool, must be 0 or 1", v.type_name()));
        }
        v => return cannot_convert(v, "bool"),
    })
}

pub(crate) fn to_time(v: &Value) -> EvalResult<Value> {
    Ok(match v.undynamic() {
        Value::Null => Value::Null,
        v @ Value::Time(_) => v.clone(),
        Value::Int(n) => Value::Time(*n),
        Value::UInt(n) => Value::Time(*n as i64),
        // RFC 3339, or a date alone (its midnight, UTC) as time literals allow.
        Value::String(s) => Value::Time(
            time::rfc3339::parse(s)
                .or_else(|| time::rfc3339::parse_date(s))
                .ok_or_else(|| invalid_syntax(s, "time"))?,
        ),
        v => return cannot_convert(v, "time"),
    })
}

/// `bytes()`: only strings convert (null does not).
pub(crate) fn to_bytes(v: &Value) -> EvalResult<Value> {
    match v.undynamic() {
        Value::String(x) => Ok(Value::Bytes(x.clone().into_bytes())),
        v => cannot_convert(v, "bytes"),
    }
}

pub(crate) fn to_duration(v: &Value) -> EvalResult<Value> {
    Ok(match v.undynamic() {
        Value::Null => Value::Null,
        v @ Value::Duration(_) => v.clone(),
        Value::Int(n) => Value::Duration(Duration::from_nanos(*n)),
        Value::UInt(n) => Value::Duration(Duration::from_nanos(*n as i64)),
        Value::String(s) => Value::Duration(
            flux_runtime::duration::parse_duration(s.trim()).ok_or_else(|| invalid_syntax(s, "duration"))?,
        ),
        v => return cannot_convert(v, "duration"),
    })
}
