//! `bitwise` and `experimental/bitwise`: and, or, xor, not, clear, shifts
//! over ints and uints.

use crate::args::builtin;
use crate::args::{fail, package};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::Args;
use flux_runtime::value::Value;

fn uint(a: &Args, name: &str) -> EvalResult<u64> {
    match a.required(name)? {
        Value::UInt(v) => Ok(*v),
        v => fail(format!("{name} must be a uint, got {}", v.type_name())),
    }
}

fn int(a: &Args, name: &str) -> EvalResult<i64> {
    match a.required(name)? {
        Value::Int(v) => Ok(*v),
        v => fail(format!("{name} must be an int, got {}", v.type_name())),
    }
}

/// A shift's count, which may not be negative; past the width every bit is gone.
fn count(b: i64) -> EvalResult<Option<u32>> {
    if b < 0 {
        return fail(format!("negative shift amount {b}"));
    }
    Ok(u32::try_from(b).ok().filter(|b| *b < 64))
}

/// `bitwise`: and, or, not, xor, clear (and-not), shifts — on uints (`u…`) and ints (`s…`).
pub(super) fn bitwise() -> Value {
    package(vec![
        ("uand", builtin("uand", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? & uint(a, "b")?)))),
        ("uor", builtin("uor", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? | uint(a, "b")?)))),
        ("unot", builtin("unot", &["a"], None, |_, a| Ok(Value::UInt(!uint(a, "a")?)))),
        ("uxor", builtin("uxor", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? ^ uint(a, "b")?)))),
        ("uclear", builtin("uclear", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? & !uint(a, "b")?)))),
        (
            "ulshift",
            builtin("ulshift", &["a", "b"], None, |_, a| {
                let b = uint(a, "b")?;
                Ok(Value::UInt(if b < 64 { uint(a, "a")? << b } else { 0 }))
            }),
        ),
        (
            "urshift",
            builtin("urshift", &["a", "b"], None, |_, a| {
                let b = uint(a, "b")?;
                Ok(Value::UInt(if b < 64 { uint(a, "a")? >> b } else { 0 }))
            }),
        ),
        ("sand", builtin("sand", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? & int(a, "b")?)))),
        ("sor", builtin("sor", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? | int(a, "b")?)))),
        ("snot", builtin("snot", &["a"], None, |_, a| Ok(Value::Int(!int(a, "a")?)))),
        ("sxor", builtin("sxor", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? ^ int(a, "b")?)))),
        ("sclear", builtin("sclear", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? & !int(a, "b")?)))),
        (
            "slshift",
            builtin("slshift", &["a", "b"], None, |_, a| {
                Ok(Value::Int(count(int(a, "b")?)?.map_or(0, |b| int(a, "a").unwrap_or(0) << b)))
            }),
        ),
        (
            "srshift",
            builtin("srshift", &["a", "b"], None, |_, a| {
                let v = int(a, "a")?;
                // An arithmetic shift: past the width only the sign is left.
                Ok(Value::Int(v >> count(int(a, "b")?)?.unwrap_or(63)))
            }),
        ),
    ])
}
