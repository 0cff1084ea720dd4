//! `experimental/dynamic`, and JSON written as Flux's Go runtime writes it
//! (shared with `json.encode`).

use std::rc::Rc;

use crate::args::builtin;
use crate::args::{self, fail, package};
use crate::convert::display;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::value::Value;

pub(super) fn package_value() -> Value {
    package(vec![
        ("dynamic", builtin("dynamic", &["v"], None, |_, a| Ok(Value::dynamic(a.required("v")?.clone())))),
        ("asArray", builtin("asArray", &[], Some("v"), as_array)),
        ("isType", builtin("isType", &["v", "type"], None, is_type)),
        ("jsonParse", builtin("jsonParse", &["data"], None, json_parse)),
        ("jsonEncode", builtin("jsonEncode", &["v"], None, |_, a| Ok(Value::Bytes(encode(a.required("v")?)?)))),
        (
            "_isNotDistinct",
            builtin("_isNotDistinct", &["a", "b"], None, |_, a| {
                let shown = |name: &str| -> EvalResult<String> {
                    let mut out = String::new();
                    display(a.required(name)?, 0, &mut out);
                    Ok(out)
                };
                Ok(Value::Bool(shown("a")? == shown("b")?))
            }),
        ),
    ])
}

/// `asArray(<-v)`: the array a dynamic holds, its elements dynamic.
fn as_array(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let v = a.required("v")?;
    if v.is_null() {
        return fail("unable to convert <null> to array");
    }
    match v.undynamic() {
        Value::Array(items) if items.iter().all(|x| matches!(x, Value::Dynamic(_))) => {
            Ok(Value::Array(Rc::clone(items)))
        }
        // Only a dynamic made outside `dynamic()` could hold plain elements.
        Value::Array(items) => Ok(Value::Array(Rc::new(items.iter().cloned().map(Value::dynamic).collect()))),
        inner => fail(format!("unable to convert {} to array", inner.type_string())),
    }
}

/// `isType(v, type)`: whether a dynamic holds a value of the type named
/// (`object` for records, `dictionary` for dicts); false for null.
fn is_type(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let v = a.required("v")?;
    if v.is_null() {
        return Ok(Value::Bool(false));
    }
    let name = args::string(a, "type")?;
    let holds = match v.undynamic() {
        Value::Record(_) => "object",
        Value::Dict(_) => "dictionary",
        inner => inner.type_name(),
    };
    Ok(Value::Bool(holds == name))
}

/// `jsonParse(data)`: JSON as a dynamic; numbers become floats.
fn json_parse(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    Ok(Value::dynamic(super::json::parse_json(a, "jsonParse")?))
}

/// A value as JSON, written as Go's `encoding/json` writes what Flux hands
/// it: records and dicts as objects with sorted keys, floats in Go's form,
/// `<`, `>` and `&` escaped, times as RFC 3339, bytes in base64; what a
/// dynamic holds in its place.
pub(super) fn encode(v: &Value) -> EvalResult<Vec<u8>> {
    let mut out = String::new();
    write(v, &mut out)?;
    Ok(out.into_bytes())
}

fn write(v: &Value, out: &mut String) -> EvalResult<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Dynamic(inner) => write(inner, out)?,
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::UInt(n) => out.push_str(&n.to_string()),
        Value::Float(x) => out.push_str(&go_json_float(*x)?),
        Value::String(s) => string(s, out),
        Value::Time(t) => string(&time::rfc3339::format(*t, time::rfc3339::Fraction::Trimmed), out),
        Value::Duration(d) => string(&flux_runtime::duration::format_duration(d), out),
        Value::Regex(r) => string(r.as_str(), out),
        Value::Bytes(b) => {
            use base64::Engine;
            string(&base64::engine::general_purpose::STANDARD.encode(b), out);
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Record(r) => {
            let mut fields: Vec<(&String, &Value)> = r.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            object(fields.into_iter().map(|(k, v)| (k.clone(), v)), out)?;
        }
        Value::Dict(d) => {
            let mut fields: Vec<(String, &Value)> = d
                .iter()
                .map(|(k, v)| {
                    let mut key = String::new();
                    display(k, 0, &mut key);
                    (key, v)
                })
                .collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            object(fields.into_iter(), out)?;
        }
        Value::Stream(_) => {
            return fail(
                "got table stream instead of array. Try using tableFind() or findRecord() to extract data from stream",
            );
        }
        Value::Function(_) => return fail("cannot encode a function value"),
    }
    Ok(())
}

fn object<'a>(fields: impl Iterator<Item = (String, &'a Value)>, out: &mut String) -> EvalResult<()> {
    out.push('{');
    for (i, (k, v)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&k, out);
        out.push(':');
        write(v, out)?;
    }
    out.push('}');
    Ok(())
}

/// A JSON string as Go escapes it (HTML-safe).
pub(super) fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Go's `encoding/json` writes it: plain digits, or an exponent
/// below 1e-6 and from 1e21 on (`1e-7`, `1e+21`); NaN and infinities refused.
fn go_json_float(x: f64) -> EvalResult<String> {
    if !x.is_finite() {
        return fail(format!("json: unsupported value: {}", crate::convert::go_float(x)));
    }
    let abs = x.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format!("{x:e}");
        let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        return Ok(if exp < 0 { format!("{mantissa}e-{}", -exp) } else { format!("{mantissa}e+{exp:02}") });
    }
    Ok(format!("{x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_writes_them_in_json() {
        let f = |x: f64| go_json_float(x).unwrap();
        assert_eq!(f(0.0), "0");
        assert_eq!(f(100.0), "100");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(-0.000001), "-0.000001");
        assert_eq!(f(0.0000001), "1e-7");
        assert_eq!(f(1.5e-10), "1.5e-10");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(123456789012345680000.0), "123456789012345680000");
        assert!(go_json_float(f64::NAN).is_err());
    }

    #[test]
    fn strings_escaped_as_go_escapes_them() {
        let mut out = String::new();
        string("a\"b\\c\n<&>\u{1}é", &mut out);
        assert_eq!(out, r#""a\"b\\c\n\u003c\u0026\u003e\u0001é""#);
    }
}
