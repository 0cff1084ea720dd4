//! The `math` package.

use crate::args::builtin;
use crate::args::package;
use crate::args::{float, int};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::value::Value;

fn f(x: f64) -> EvalResult<Value> {
    Ok(Value::Float(x))
}

/// Rounds half away from zero, as Go's `math.Round`.
fn round(x: f64) -> f64 {
    x.round()
}

/// The order of a Bessel function, as an `i32`.
fn bessel_order(a: &Args) -> EvalResult<i32> {
    let n = int(a, "n")?;
    i32::try_from(n).or_else(|_| crate::args::fail(format!("n is out of range: {n}")))
}

/// The inverse error function: Winitzki's closed form as a first guess
/// (good to about 2e-3), refined with Newton steps on `erf`.
fn erfinv(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y == 1.0 || y == -1.0 {
        return y * f64::INFINITY;
    }
    if y == 0.0 {
        return y;
    }
    const A: f64 = 0.147;
    let l = (1.0 - y * y).ln();
    let b = 2.0 / (std::f64::consts::PI * A) + l / 2.0;
    let mut x = y.signum() * ((b * b - l / A).sqrt() - b).sqrt();
    // Near ±1, Newton on erfc against 1 - |y| (exact there) keeps the digits
    // that erf(x) - y would lose.
    let tail = y.abs() > 0.5;
    let (target, sign) = (1.0 - y.abs(), y.signum());
    if tail {
        x = x.abs();
    }
    for _ in 0..8 {
        let slope = 2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp();
        if slope == 0.0 {
            break;
        }
        let step = if tail { (target - libm::erfc(x)) / slope } else { (libm::erf(x) - y) / slope };
        x -= step;
        if step.abs() <= f64::EPSILON * x.abs() {
            break;
        }
    }
    if tail { sign * x } else { x }
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
        ("erf", |_, a| f(libm::erf(float(a, "x")?))),
        ("erfc", |_, a| f(libm::erfc(float(a, "x")?))),
        ("erfinv", |_, a| f(erfinv(float(a, "x")?))),
        ("erfcinv", |_, a| f(erfinv(1.0 - float(a, "x")?))),
        ("gamma", |_, a| f(libm::tgamma(float(a, "x")?))),
        ("j0", |_, a| f(libm::j0(float(a, "x")?))),
        ("j1", |_, a| f(libm::j1(float(a, "x")?))),
        ("y0", |_, a| f(libm::y0(float(a, "x")?))),
        ("y1", |_, a| f(libm::y1(float(a, "x")?))),
        ("ilogb", |_, a| {
            let x = float(a, "x")?;
            // Go's answers where C's differ: MinInt32 for 0 and NaN, MaxInt32 for ±Inf.
            Ok(Value::Int(if x == 0.0 || x.is_nan() {
                i64::from(i32::MIN)
            } else if x.is_infinite() {
                i64::from(i32::MAX)
            } else {
                i64::from(libm::ilogb(x))
            }))
        }),
        ("sincos", |_, a| {
            let (s, c) = float(a, "x")?.sin_cos();
            Ok(Value::record([("sin".to_owned(), Value::Float(s)), ("cos".to_owned(), Value::Float(c))]))
        }),
        ("lgamma", |_, a| {
            let (v, sign) = libm::lgamma_r(float(a, "x")?);
            Ok(Value::record([("lgamma".to_owned(), Value::Float(v)), ("sign".to_owned(), Value::Int(sign.into()))]))
        }),
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
    members.push(("jn", builtin("jn", &["n", "x"], None, |_, a| f(libm::jn(bessel_order(a)?, float(a, "x")?)))));
    members.push(("yn", builtin("yn", &["n", "x"], None, |_, a| f(libm::yn(bessel_order(a)?, float(a, "x")?)))));
    members.push((
        "nextafter",
        builtin("nextafter", &["x", "y"], None, |_, a| f(libm::nextafter(float(a, "x")?, float(a, "y")?))),
    ));
    members.push((
        "pow10",
        builtin("pow10", &["n"], None, |_, a| {
            let n = int(a, "n")?;
            f(if n > 308 {
                f64::INFINITY
            } else if n < -323 {
                0.0
            } else {
                10f64.powi(n as i32)
            })
        }),
    ));
    members.push((
        "frexp",
        builtin("frexp", &["f"], None, |_, a| {
            let x = float(a, "f")?;
            let (frac, exp) = if x == 0.0 || !x.is_finite() { (x, 0) } else { libm::frexp(x) };
            Ok(Value::record([("frac".to_owned(), Value::Float(frac)), ("exp".to_owned(), Value::Int(exp.into()))]))
        }),
    ));
    members.push((
        "ldexp",
        builtin("ldexp", &["frac", "exp"], None, |_, a| {
            let exp = int(a, "exp")?.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
            f(libm::ldexp(float(a, "frac")?, exp))
        }),
    ));
    members.push((
        "modf",
        builtin("modf", &["f"], None, |_, a| {
            let (frac, whole) = libm::modf(float(a, "f")?);
            Ok(Value::record([("int".to_owned(), Value::Float(whole)), ("frac".to_owned(), Value::Float(frac))]))
        }),
    ));
    members
        .push(("float64bits", builtin("float64bits", &["f"], None, |_, a| Ok(Value::UInt(float(a, "f")?.to_bits())))));
    members.push((
        "float64frombits",
        builtin("float64frombits", &["b"], None, |_, a| match a.required("b")? {
            Value::UInt(b) => f(f64::from_bits(*b)),
            v => crate::args::fail(format!("b must be a uint, got {}", v.type_name())),
        }),
    ));
    members.push((
        "mInf",
        builtin("mInf", &["sign"], None, |_, a| {
            f(if int(a, "sign")? >= 0 { f64::INFINITY } else { f64::NEG_INFINITY })
        }),
    ));
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
