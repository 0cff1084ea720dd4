//! InfluxQL's transformations (a series of values in, a series out) and its
//! math functions (a value in, a value out).

use crate::ast::Expr;
use crate::select::V;

type Run<T> = Result<T, String>;

const SECOND: i64 = 1_000_000_000;

/// Whether a function transforms a series of values.
pub(crate) fn is_transformation(name: &str) -> bool {
    matches!(
        name,
        "derivative"
            | "non_negative_derivative"
            | "difference"
            | "non_negative_difference"
            | "moving_average"
            | "cumulative_sum"
            | "elapsed"
    )
}

/// Whether a function maps one value (or two) to one.
pub(crate) fn is_math(name: &str) -> bool {
    matches!(
        name,
        "abs"
            | "ceil"
            | "floor"
            | "round"
            | "sqrt"
            | "pow"
            | "exp"
            | "ln"
            | "log"
            | "log2"
            | "log10"
            | "sin"
            | "cos"
            | "tan"
            | "asin"
            | "acos"
            | "atan"
            | "atan2"
    )
}

fn duration_arg(args: &[Expr], at: usize, default: i64, name: &str) -> Run<i64> {
    match args.get(at) {
        None => Ok(default),
        Some(Expr::Duration(d)) if *d > 0 => Ok(*d),
        Some(_) => Err(format!("second argument to {name} must be a duration, got a different type")),
    }
}

/// Applies a transformation to (time, value) points in time order.
pub(crate) fn transform(name: &str, args: &[Expr], seq: &[(i64, V)]) -> Run<Vec<(i64, V)>> {
    let mut out = Vec::new();
    match name {
        "derivative" | "non_negative_derivative" => {
            let unit = duration_arg(args, 1, SECOND, name)? as f64;
            for w in seq.windows(2) {
                let ((t1, v1), (t2, v2)) = (&w[0], &w[1]);
                let (Some(a), Some(b)) = (v1.num(), v2.num()) else { continue };
                if t2 == t1 {
                    continue;
                }
                let d = (b - a) / ((t2 - t1) as f64 / unit);
                if name == "derivative" || d >= 0.0 {
                    out.push((*t2, V::F(d)));
                }
            }
        }
        "difference" | "non_negative_difference" => {
            for w in seq.windows(2) {
                let ((_, v1), (t2, v2)) = (&w[0], &w[1]);
                let d = match (v1, v2) {
                    (V::I(a), V::I(b)) => V::I(b.wrapping_sub(*a)),
                    (V::U(a), V::U(b)) => {
                        if b < a && name == "non_negative_difference" {
                            continue;
                        }
                        V::U(b.wrapping_sub(*a))
                    }
                    _ => match (v1.num(), v2.num()) {
                        (Some(a), Some(b)) => V::F(b - a),
                        _ => continue,
                    },
                };
                if name == "difference" || d.num().is_some_and(|x| x >= 0.0) {
                    out.push((*t2, d));
                }
            }
        }
        "moving_average" => {
            let n = match args.get(1) {
                Some(Expr::Integer(n)) if *n > 0 => *n as usize,
                _ => return Err("moving_average window must be greater than 1".into()),
            };
            let nums: Vec<(i64, f64)> = seq.iter().filter_map(|(t, v)| v.num().map(|x| (*t, x))).collect();
            for i in n.saturating_sub(1)..nums.len() {
                let window = &nums[i + 1 - n..=i];
                out.push((nums[i].0, V::F(window.iter().map(|(_, x)| x).sum::<f64>() / n as f64)));
            }
        }
        "cumulative_sum" => {
            let mut acc: Option<V> = None;
            for (t, v) in seq {
                acc = Some(match (&acc, v) {
                    (None, v) => v.clone(),
                    (Some(V::I(a)), V::I(b)) => V::I(a.wrapping_add(*b)),
                    (Some(V::U(a)), V::U(b)) => V::U(a.wrapping_add(*b)),
                    (Some(a), b) => V::F(a.num().unwrap_or(0.0) + b.num().unwrap_or(0.0)),
                });
                if let Some(a) = &acc {
                    out.push((*t, a.clone()));
                }
            }
        }
        "elapsed" => {
            let unit = duration_arg(args, 1, 1, name)?;
            for w in seq.windows(2) {
                out.push((w[1].0, V::I((w[1].0 - w[0].0) / unit)));
            }
        }
        other => return Err(format!("undefined function {other}()")),
    }
    Ok(out)
}

/// Applies a math function to its evaluated arguments.
pub(crate) fn math(name: &str, args: &[Option<V>]) -> Option<V> {
    let x = args.first()?.as_ref()?;
    let f = x.num()?;
    let integral = matches!(x, V::I(_) | V::U(_));
    let second = || args.get(1).and_then(|a| a.as_ref()).and_then(V::num);
    Some(match name {
        "abs" => match x {
            V::I(i) => V::I(i.wrapping_abs()),
            V::U(u) => V::U(*u),
            _ => V::F(f.abs()),
        },
        "ceil" | "floor" | "round" if integral => x.clone(),
        "ceil" => V::F(f.ceil()),
        "floor" => V::F(f.floor()),
        // Go rounds half away from zero, as Rust's `round` does.
        "round" => V::F(f.round()),
        "sqrt" => V::F(f.sqrt()),
        "pow" => V::F(f.powf(second()?)),
        "exp" => V::F(f.exp()),
        "ln" => V::F(f.ln()),
        "log" => V::F(f.ln() / second()?.ln()),
        "log2" => V::F(f.log2()),
        "log10" => V::F(f.log10()),
        "sin" => V::F(f.sin()),
        "cos" => V::F(f.cos()),
        "tan" => V::F(f.tan()),
        "asin" => V::F(f.asin()),
        "acos" => V::F(f.acos()),
        "atan" => V::F(f.atan()),
        "atan2" => V::F(f.atan2(second()?)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x() -> Expr {
        Expr::VarRef { name: "x".into(), ty: None }
    }

    fn f(seq: &[(i64, f64)]) -> Vec<(i64, V)> {
        seq.iter().map(|(t, x)| (*t, V::F(*x))).collect()
    }

    #[test]
    fn transformations_follow_influxql() {
        let s = f(&[(0, 1.0), (10 * SECOND, 3.0), (20 * SECOND, 2.0)]);
        assert_eq!(transform("derivative", &[], &s).unwrap(), f(&[(10 * SECOND, 0.2), (20 * SECOND, -0.1)]));
        assert_eq!(transform("non_negative_derivative", &[], &s).unwrap(), f(&[(10 * SECOND, 0.2)]));
        assert_eq!(transform("difference", &[], &s).unwrap(), f(&[(10 * SECOND, 2.0), (20 * SECOND, -1.0)]));
        let avg = transform("moving_average", &[x(), Expr::Integer(2)], &s).unwrap();
        assert_eq!(avg, f(&[(10 * SECOND, 2.0), (20 * SECOND, 2.5)]));
        assert_eq!(
            transform("cumulative_sum", &[], &s).unwrap(),
            f(&[(0, 1.0), (10 * SECOND, 4.0), (20 * SECOND, 6.0)])
        );
        let el = transform("elapsed", &[x(), Expr::Duration(SECOND)], &s).unwrap();
        assert_eq!(el, vec![(10 * SECOND, V::I(10)), (20 * SECOND, V::I(10))]);
        let ints = vec![(0, V::I(5)), (1, V::I(3))];
        assert_eq!(transform("difference", &[], &ints).unwrap(), vec![(1, V::I(-2))]);
    }

    #[test]
    fn math_keeps_integers_integral_where_influxql_does() {
        assert_eq!(math("abs", &[Some(V::I(-3))]), Some(V::I(3)));
        assert_eq!(math("round", &[Some(V::F(2.5))]), Some(V::F(3.0)));
        assert_eq!(math("log", &[Some(V::F(100.0)), Some(V::I(10))]), Some(V::F(2.0)));
        assert_eq!(math("sqrt", &[None]), None);
    }
}
