//! The `math` package.

use super::args::{float, int};
use super::package;
use crate::builtins::builtin;
use crate::interp::{Args, EvalResult, Interp};
use crate::value::Value;

fn f(x: f64) -> EvalResult<Value> {
    Ok(Value::Float(x))
}

/// Rounds half away from zero, as Go's `math.Round`.
fn round(x: f64) -> f64 {
    x.round()
}

pub(super) fn package_value() -> Value {
    type F = fn(&mut Interp, &Args) -> EvalResult<Value>;
    let unary: Vec<(&'static str, F)> = vec![
        ("abs", |_, a| f(float(a, "x")?.abs())),
        ("ceil", |_, a| f(float(a, "x")?.ceil())),
        ("floor", |_, a| f(float(a, "x")?.floor())),
        ("round", |_, a| f(round(float(a, "x")?))),
        ("roundtoeven", |_, a| f(float(a, "x")?.round_ties_even())),
        ("trunc", |_, a| f(float(a, "x")?.trunc())),
        ("sqrt", |_, a| f(float(a, "x")?.sqrt())),
        ("cbrt", |_, a| f(float(a, "x")?.cbrt())),
        ("exp", |_, a| f(float(a, "x")?.exp())),
        ("exp2", |_, a| f(float(a, "x")?.exp2())),
        ("expm1", |_, a| f(float(a, "x")?.exp_m1())),
        ("log", |_, a| f(float(a, "x")?.ln())),
        ("log10", |_, a| f(float(a, "x")?.log10())),
        ("log2", |_, a| f(float(a, "x")?.log2())),
        ("log1p", |_, a| f(float(a, "x")?.ln_1p())),
        ("logb", |_, a| f(float(a, "x")?.abs().log2().floor())),
        ("sin", |_, a| f(float(a, "x")?.sin())),
        ("cos", |_, a| f(float(a, "x")?.cos())),
        ("tan", |_, a| f(float(a, "x")?.tan())),
        ("asin", |_, a| f(float(a, "x")?.asin())),
        ("acos", |_, a| f(float(a, "x")?.acos())),
        ("atan", |_, a| f(float(a, "x")?.atan())),
        ("sinh", |_, a| f(float(a, "x")?.sinh())),
        ("cosh", |_, a| f(float(a, "x")?.cosh())),
        ("tanh", |_, a| f(float(a, "x")?.tanh())),
        ("asinh", |_, a| f(float(a, "x")?.asinh())),
        ("acosh", |_, a| f(float(a, "x")?.acosh())),
        ("atanh", |_, a| f(float(a, "x")?.atanh())),
        ("signbit", |_, a| Ok(Value::Bool(float(a, "x")?.is_sign_negative()))),
        ("isNaN", |_, a| Ok(Value::Bool(float(a, "f")?.is_nan()))),
    ];
    let binary: Vec<(&'static str, F)> = vec![
        ("pow", |_, a| f(float(a, "x")?.powf(float(a, "y")?))),
        ("mMax", |_, a| f(float(a, "x")?.max(float(a, "y")?))),
        ("mMin", |_, a| f(float(a, "x")?.min(float(a, "y")?))),
        ("mod", |_, a| f(float(a, "x")? % float(a, "y")?)),
        ("remainder", |_, a| {
            let (x, y) = (float(a, "x")?, float(a, "y")?);
            f(x - (x / y).round_ties_even() * y)
        }),
        ("hypot", |_, a| f(float(a, "p")?.hypot(float(a, "q")?))),
        ("dim", |_, a| f((float(a, "x")? - float(a, "y")?).max(0.0))),
        ("copysign", |_, a| f(float(a, "x")?.copysign(float(a, "y")?))),
    ];
    let mut members: Vec<(&'static str, Value)> = Vec::new();
    for (name, call) in unary {
        let params: &'static [&'static str] = if name == "isNaN" { &["f"] } else { &["x"] };
        members.push((name, builtin(name, params, None, call)));
    }
    for (name, call) in binary {
        let params: &'static [&'static str] = if name == "hypot" { &["p", "q"] } else { &["x", "y"] };
        members.push((name, builtin(name, params, None, call)));
    }
    members.push(("atan2", builtin("atan2", &["y", "x"], None, |_, a| f(float(a, "y")?.atan2(float(a, "x")?)))));
    members.push((
        "isInf",
        builtin("isInf", &["f", "sign"], None, |_, a| {
            let (x, sign) = (float(a, "f")?, int(a, "sign")?);
            Ok(Value::Bool(x.is_infinite() && (sign == 0 || (sign > 0) == (x > 0.0))))
        }),
    ));
    members.push(("NaN", builtin("NaN", &[], None, |_, _| f(f64::NAN))));
    members.push((
        "Inf",
        builtin("Inf", &["sign"], None, |_, a| f(if int(a, "sign")? >= 0 { f64::INFINITY } else { f64::NEG_INFINITY })),
    ));
    for (name, v) in [
        ("pi", std::f64::consts::PI),
        ("e", std::f64::consts::E),
        ("phi", 1.618_033_988_749_895),
        ("sqrt2", std::f64::consts::SQRT_2),
        ("sqrte", 1.648_721_270_700_128_2),
        ("sqrtpi", 1.772_453_850_905_516),
        ("sqrtphi", 1.272_019_649_514_069),
        ("ln2", std::f64::consts::LN_2),
        ("log2e", std::f64::consts::LOG2_E),
        ("ln10", std::f64::consts::LN_10),
        ("log10e", std::f64::consts::LOG10_E),
        ("maxfloat", f64::MAX),
        ("smallestNonzeroFloat", f64::from_bits(1)),
    ] {
        members.push((name, Value::Float(v)));
    }
    members.push(("maxint", Value::Int(i64::MAX)));
    members.push(("minint", Value::Int(i64::MIN)));
    members.push(("maxuint", Value::UInt(u64::MAX)));
    package(members)
}
