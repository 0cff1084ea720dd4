//! The operators of the language over values: arithmetic, comparison,
//! logic, and member access, with Flux's null rules (SPEC: operators).

use crate::duration::{Duration, add_duration};
use crate::error::{EvalError, EvalResult, err};
use crate::value::Value;

/// `r.k`: a missing property of a record is null (SPEC: member expressions).
pub fn member(obj: &Value, key: &str) -> EvalResult<Value> {
    match obj {
        Value::Record(r) => Ok(r.get(key).cloned().unwrap_or(Value::Null)),
        // A dynamic record's missing property is a dynamic null; anything but
        // a record (a null too) has no properties.
        Value::Dynamic(inner) => match &**inner {
            Value::Record(r) => Ok(Value::dynamic(r.get(key).cloned().unwrap_or(Value::Null))),
            v => err(format!("cannot access property {key:?} on value of type {}", v.type_string())),
        },
        v => err(format!("cannot access property {key:?} on value of type {}", v.type_string())),
    }
}

pub(crate) fn logical(op: &str, l: &Value, r: &Value) -> EvalResult<Value> {
    use Value::{Bool, Null};
    Ok(match (op, l, r) {
        ("and", Bool(a), Bool(b)) => Bool(*a && *b),
        ("and", Bool(false), Null) | ("and", Null, Bool(false)) => Bool(false),
        ("and", Null | Bool(true), Null | Bool(true)) => Null,
        ("or", Bool(a), Bool(b)) => Bool(*a || *b),
        ("or", Bool(true), Null) | ("or", Null, Bool(true)) => Bool(true),
        ("or", Null | Bool(false), Null | Bool(false)) => Null,
        _ => return err(format!("{op} needs bools, got {} and {}", l.type_name(), r.type_name())),
    })
}

pub(crate) fn unary(op: &str, v: Value) -> EvalResult<Value> {
    Ok(match (op, v) {
        ("exists", v) => Value::Bool(!v.is_null()),
        ("not", Value::Bool(b)) => Value::Bool(!b),
        ("not", Value::Null) => Value::Null,
        ("-", Value::Int(n)) => Value::Int(n.checked_neg().ok_or_else(|| EvalError::invalid("integer overflow"))?),
        ("-", Value::Float(x)) => Value::Float(-x),
        ("-", Value::Duration(d)) => Value::Duration(Duration { negative: !d.negative, ..d }),
        ("-" | "+", Value::Null) => Value::Null,
        ("+", v @ (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Duration(_))) => v,
        (op, v) => return err(format!("invalid unary operator {op} for a {}", v.type_name())),
    })
}

fn compare<T: PartialOrd>(op: &str, a: T, b: T) -> Value {
    Value::Bool(match op {
        "==" => a == b,
        "!=" => a != b,
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        _ => a >= b,
    })
}

pub fn binary(op: &str, l: Value, r: Value) -> EvalResult<Value> {
    use Value::*;
    if matches!(l, Null) || matches!(r, Null) {
        // Non-boolean operators with a null operand give null (SPEC: missing values).
        return Ok(Null);
    }
    let cmp = matches!(op, "==" | "!=" | "<" | "<=" | ">" | ">=");
    Ok(match (op, l, r) {
        ("=~", String(s), Regex(re)) => Bool(re.is_match(&s)),
        ("!~", String(s), Regex(re)) => Bool(!re.is_match(&s)),
        (op, Int(a), Int(b)) if cmp => compare(op, a, b),
        (op, UInt(a), UInt(b)) if cmp => compare(op, a, b),
        (op, Float(a), Float(b)) if cmp => compare(op, a, b),
        // Comparisons across numeric kinds compare values (Flux allows these).
        (op, Int(a), Float(b)) if cmp => compare(op, a as f64, b),
        (op, Float(a), Int(b)) if cmp => compare(op, a, b as f64),
        (op, UInt(a), Float(b)) if cmp => compare(op, a as f64, b),
        (op, Float(a), UInt(b)) if cmp => compare(op, a, b as f64),
        (op, Int(a), UInt(b)) if cmp => compare(op, i128::from(a), i128::from(b)),
        (op, UInt(a), Int(b)) if cmp => compare(op, i128::from(a), i128::from(b)),
        (op, String(a), String(b)) if cmp => compare(op, a, b),
        (op, Time(a), Time(b)) if cmp => compare(op, a, b),
        (op @ ("==" | "!="), Bool(a), Bool(b)) => compare(op, a, b),
        (op @ ("==" | "!="), Duration(a), Duration(b)) => compare(op, a.signed(), b.signed()),
        (op @ ("==" | "!="), a @ (Array(_) | Record(_) | Dict(_) | Bytes(_)), b) => Bool((a == b) == (op == "==")),
        ("+", Int(a), Int(b)) => Int(a.wrapping_add(b)),
        ("-", Int(a), Int(b)) => Int(a.wrapping_sub(b)),
        ("*", Int(a), Int(b)) => Int(a.wrapping_mul(b)),
        ("/", Int(_), Int(0)) | ("%", Int(_), Int(0)) => return err("cannot divide by zero"),
        ("/", Int(a), Int(b)) => Int(a.wrapping_div(b)),
        ("%", Int(a), Int(b)) => Int(a.wrapping_rem(b)),
        ("^", Int(a), Int(b)) => Float((a as f64).powf(b as f64)),
        ("+", UInt(a), UInt(b)) => UInt(a.wrapping_add(b)),
        ("-", UInt(a), UInt(b)) => UInt(a.wrapping_sub(b)),
        ("*", UInt(a), UInt(b)) => UInt(a.wrapping_mul(b)),
        ("/", UInt(_), UInt(0)) | ("%", UInt(_), UInt(0)) => return err("cannot divide by zero"),
        ("/", UInt(a), UInt(b)) => UInt(a / b),
        ("%", UInt(a), UInt(b)) => UInt(a % b),
        ("^", UInt(a), UInt(b)) => Float((a as f64).powf(b as f64)),
        ("+", Float(a), Float(b)) => Float(a + b),
        ("-", Float(a), Float(b)) => Float(a - b),
        ("*", Float(a), Float(b)) => Float(a * b),
        ("/", Float(a), Float(b)) => Float(a / b),
        ("%", Float(a), Float(b)) => Float(a % b),
        ("^", Float(a), Float(b)) => Float(a.powf(b)),
        ("^", Float(a), Int(b)) => Float(a.powf(b as f64)),
        ("+", String(a), String(b)) => String(a + &b),
        ("+", Time(t), Duration(d)) | ("+", Duration(d), Time(t)) => Time(add_duration(t, &d, 1)?),
        ("-", Time(t), Duration(d)) => Time(add_duration(t, &d, -1)?),
        ("-", Time(a), Time(b)) => Duration(crate::duration::Duration::from_nanos(a.wrapping_sub(b))),
        ("*", Duration(d), Int(n)) | ("*", Int(n), Duration(d)) => {
            let neg = (n < 0) != d.negative;
            Duration(crate::duration::Duration {
                months: d.months.saturating_mul(n.abs()),
                nanos: d.nanos.saturating_mul(n.abs()),
                negative: neg,
            })
        }
        (op, l, r) => {
            return err(format!("invalid binary operator {op} for types {} and {}", l.type_name(), r.type_name()));
        }
    })
}
