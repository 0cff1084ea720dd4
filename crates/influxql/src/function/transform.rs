//! InfluxQL's transformations: a series of (time, value) points in, a
//! series out (`derivative`, `difference`, `moving_average`,
//! `cumulative_sum`, `elapsed`, `holt_winters` and the technical analyses).

use time::SECOND;

use crate::ast::Expr;
use crate::error::{Error, Result};
use crate::value::V;

use super::holt_winters;
use super::technical::{is_technical, technical};

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
            | "holt_winters"
            | "holt_winters_with_fit"
    ) || is_technical(name)
}

/// Whether a transformation of window aggregates also reads the window
/// before a `GROUP BY time` range (all but `cumulative_sum`).
pub(crate) fn looks_back(name: &str) -> bool {
    !matches!(name, "cumulative_sum" | "holt_winters" | "holt_winters_with_fit")
}

/// Checks a `holt_winters[_with_fit](aggregate, N, S)` call as InfluxQL's compiler does.
pub(crate) fn check_holt_winters(name: &str, args: &[Expr], grouped_by_time: bool) -> Result<()> {
    if args.len() != 3 {
        return Err(Error::invalid(format!("invalid number of arguments for {name}, expected 3, got {}", args.len())));
    }
    match args[1] {
        Expr::Integer(n) if n > 0 => {}
        Expr::Integer(n) => {
            return Err(Error::invalid(format!("second arg to {name} must be greater than 0, got {n}")));
        }
        _ => return Err(Error::invalid(format!("expected integer argument as second arg in {name}"))),
    }
    match args[2] {
        Expr::Integer(s) if s >= 0 => {}
        Expr::Integer(s) => return Err(Error::invalid(format!("third arg to {name} cannot be negative, got {s}"))),
        _ => return Err(Error::invalid(format!("expected integer argument as third arg in {name}"))),
    }
    match &args[0] {
        Expr::Call { .. } if grouped_by_time => Ok(()),
        Expr::Call { .. } => Err(Error::invalid(format!("{name} aggregate requires a GROUP BY interval"))),
        _ => Err(Error::invalid(format!("must use aggregate function with {name}"))),
    }
}

fn duration_arg(args: &[Expr], at: usize, default: i64, name: &str) -> Result<i64> {
    match args.get(at) {
        None => Ok(default),
        Some(Expr::Duration(d)) if *d > 0 => Ok(*d),
        Some(_) => Err(Error::invalid(format!("second argument to {name} must be a duration, got a different type"))),
    }
}

/// Applies a transformation to (time, value) points in time order.
/// `every` is the `GROUP BY time` interval over window aggregates: the
/// default unit of the derivatives there.
pub(crate) fn transform(name: &str, args: &[Expr], seq: &[(i64, V)], every: Option<i64>) -> Result<Vec<(i64, V)>> {
    let mut out = Vec::new();
    match name {
        "derivative" | "non_negative_derivative" => {
            let unit = duration_arg(args, 1, every.unwrap_or(SECOND), name)? as f64;
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
                _ => return Err(Error::invalid("moving_average window must be greater than 1")),
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
        "holt_winters" | "holt_winters_with_fit" => {
            let (Some(Expr::Integer(h)), Some(Expr::Integer(m)), Some(every)) = (args.get(1), args.get(2), every)
            else {
                return Err(Error::invalid(format!("{name} aggregate requires a GROUP BY interval")));
            };
            let points: Vec<(i64, f64)> = seq.iter().filter_map(|(t, v)| v.num().map(|x| (*t, x))).collect();
            let season = usize::try_from(*m).unwrap_or(0);
            let forecast = holt_winters::forecast(&points, *h as usize, season, name.ends_with("fit"), every);
            return Ok(forecast.into_iter().map(|(t, x)| (t, V::F(x))).collect());
        }
        other if is_technical(other) => return technical(other, args, seq),
        other => return Err(Error::invalid(format!("undefined function {other}()"))),
    }
    Ok(out)
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
        assert_eq!(transform("derivative", &[], &s, None).unwrap(), f(&[(10 * SECOND, 0.2), (20 * SECOND, -0.1)]));
        assert_eq!(transform("non_negative_derivative", &[], &s, None).unwrap(), f(&[(10 * SECOND, 0.2)]));
        assert_eq!(transform("difference", &[], &s, None).unwrap(), f(&[(10 * SECOND, 2.0), (20 * SECOND, -1.0)]));
        let avg = transform("moving_average", &[x(), Expr::Integer(2)], &s, None).unwrap();
        assert_eq!(avg, f(&[(10 * SECOND, 2.0), (20 * SECOND, 2.5)]));
        assert_eq!(
            transform("cumulative_sum", &[], &s, None).unwrap(),
            f(&[(0, 1.0), (10 * SECOND, 4.0), (20 * SECOND, 6.0)])
        );
        let el = transform("elapsed", &[x(), Expr::Duration(SECOND)], &s, None).unwrap();
        assert_eq!(el, vec![(10 * SECOND, V::I(10)), (20 * SECOND, V::I(10))]);
        let ints = vec![(0, V::I(5)), (1, V::I(3))];
        assert_eq!(transform("difference", &[], &ints, None).unwrap(), vec![(1, V::I(-2))]);
    }
}
