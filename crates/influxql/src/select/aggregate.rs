//! Aggregates and selectors per window: `count`, `sum`, `mean`, `median`,
//! `mode`, `spread`, `stddev`, `integral`, `min`, `max`, `first`, `last`,
//! `percentile`, expressions of them, and the time and tags of the point a
//! lone selector picks.

use storage::SeriesKey;

use crate::ast::*;
use crate::condition::TimeRange;
use crate::error::{Error, Result};
use crate::function::math::{is_math, math};
use crate::value::V;

use super::eval::arith;
use super::multi_row::{multi_row, multi_rows};
use super::window::{Row, WindowRow, windows_for};

/// Aggregated rows: one per window (one window without GROUP BY time).
pub(super) fn aggregate_rows(
    fields: &[Field],
    all: &[String],
    rows: &[Row],
    series: &[SeriesKey],
    range: &TimeRange,
    interval: Option<(i64, i64)>,
    now: i64,
) -> Result<Vec<WindowRow>> {
    // A lone selector gives its point's time when windows do not.
    let calls: Vec<&Expr> = fields.iter().flat_map(|f| calls_in(&f.expr)).collect();
    let lone_selector = calls.len() == 1 && is_selector(calls[0]);
    let windows = windows_for(range, interval, rows.first().map(|r| r.time), now);
    if let Some(multi) = multi_row(fields) {
        return multi_rows(multi, fields, all, rows, series, &windows, interval.is_some(), range);
    }
    let mut out: Vec<(i64, Vec<Option<V>>)> = Vec::new();
    let mut at = 0;
    for (ws, we) in windows {
        let from = at;
        while at < rows.len() && rows[at].time < we {
            at += 1;
        }
        // Rows before the first window (an offset) are skipped by starting at the bound.
        let in_window: Vec<&Row> = rows[from..at].iter().filter(|r| r.time >= ws).collect();
        let mut time = if interval.is_some() { ws } else { range.min.unwrap_or(0) };
        let mut values = Vec::with_capacity(fields.len());
        let mut selected: Option<(i64, usize)> = None;
        for (k, f) in fields.iter().enumerate() {
            let (v, t) = eval_agg(&f.expr, &in_window, all)?;
            if let Some(t) = t {
                selected.get_or_insert((t, k));
                if lone_selector && interval.is_none() {
                    time = t;
                }
            }
            values.push(v);
        }
        // Tags beside a lone selector are those of the series of the point it picked.
        if lone_selector && let Some((t, k)) = selected {
            let field = calls_in(&fields[k].expr).first().and_then(|c| match c {
                Expr::Call { args, .. } => match args.first() {
                    Some(Expr::VarRef { name, .. }) => all.iter().position(|a| a == name),
                    _ => None,
                },
                _ => None,
            });
            let picked = in_window.iter().find(|r| r.time == t && field.is_some_and(|f| r.values[f] == values[k]));
            if let Some(row) = picked {
                for (j, f) in fields.iter().enumerate() {
                    if let Expr::VarRef { name, .. } = &f.expr
                        && !all.contains(name)
                    {
                        values[j] = series[row.series].tag(name).map(|v| V::S(v.to_owned()));
                    }
                }
            }
        }
        out.push((time, values));
    }
    Ok(out)
}

fn calls_in(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Call { .. } => vec![e],
        Expr::Binary { lhs, rhs, .. } => {
            let mut v = calls_in(lhs);
            v.extend(calls_in(rhs));
            v
        }
        Expr::Paren(e) => calls_in(e),
        _ => Vec::new(),
    }
}

fn is_selector(e: &Expr) -> bool {
    matches!(e, Expr::Call { name, .. } if matches!(name.as_str(), "first" | "last" | "min" | "max" | "percentile" | "sample" | "top" | "bottom"))
}

/// An aggregate expression over a window's rows: its value, and the time of a selected point.
fn eval_agg(e: &Expr, rows: &[&Row], all: &[String]) -> Result<(Option<V>, Option<i64>)> {
    match e {
        Expr::Call { name, args } if is_math(name) => {
            let mut values = Vec::with_capacity(args.len());
            let mut time = None;
            for a in args {
                let (v, t) = eval_agg(a, rows, all)?;
                time = time.or(t);
                values.push(v);
            }
            Ok((math(name, &values), time))
        }
        Expr::Call { name, args } => {
            let field = match args.first() {
                Some(Expr::VarRef { name, .. }) => name,
                // count(distinct(field)), count(DISTINCT field)
                Some(Expr::Call { name: inner, args: inner_args }) if name == "count" && inner == "distinct" => {
                    match inner_args.first() {
                        Some(Expr::VarRef { name, .. }) => name,
                        _ => return Err(Error::invalid("expected field argument in distinct()")),
                    }
                }
                Some(Expr::Distinct(f)) if name == "count" => f,
                _ => return Err(Error::invalid(format!("expected field argument in {name}()"))),
            };
            let Some(fi) = all.iter().position(|f| f == field) else { return Ok((None, None)) };
            let vals: Vec<(i64, &V)> = rows.iter().filter_map(|r| r.values[fi].as_ref().map(|v| (r.time, v))).collect();
            aggregate(name, args, &vals)
        }
        Expr::Paren(e) => eval_agg(e, rows, all),
        Expr::Binary { op, lhs, rhs } => {
            let (l, lt) = eval_agg(lhs, rows, all)?;
            let (r, rt) = eval_agg(rhs, rows, all)?;
            Ok((l.and_then(|l| r.and_then(|r| arith(*op, l, r))), lt.or(rt)))
        }
        Expr::Number(x) => Ok((Some(V::F(*x)), None)),
        Expr::Integer(x) => Ok((Some(V::I(*x)), None)),
        _ => Ok((None, None)),
    }
}

/// A value as `count(distinct())` tells values apart (floats by their bits).
#[derive(PartialEq, Eq, Hash)]
enum Distinct<'a> {
    F(u64),
    I(i64),
    U(u64),
    S(&'a str),
    B(bool),
}

impl<'a> Distinct<'a> {
    fn of(v: &'a V) -> Self {
        match v {
            V::F(x) => Distinct::F(if *x == 0.0 { 0 } else { x.to_bits() }),
            V::I(x) => Distinct::I(*x),
            V::U(x) => Distinct::U(*x),
            V::S(s) => Distinct::S(s),
            V::B(b) => Distinct::B(*b),
        }
    }
}

fn aggregate(name: &str, args: &[Expr], vals: &[(i64, &V)]) -> Result<(Option<V>, Option<i64>)> {
    let nums = || vals.iter().filter_map(|(_, v)| v.num()).collect::<Vec<f64>>();
    if vals.is_empty() {
        return Ok((None, None));
    }
    Ok(match name {
        "count" if matches!(args.first(), Some(Expr::Call { .. } | Expr::Distinct(_))) => {
            let distinct: std::collections::HashSet<Distinct<'_>> = vals.iter().map(|(_, v)| Distinct::of(v)).collect();
            (Some(V::I(distinct.len() as i64)), None)
        }
        "count" => (Some(V::I(vals.len() as i64)), None),
        "sum" => {
            if vals.iter().all(|(_, v)| matches!(v, V::I(_))) {
                (Some(V::I(vals.iter().map(|(_, v)| if let V::I(x) = v { *x } else { 0 }).sum())), None)
            } else {
                (Some(V::F(nums().iter().sum())), None)
            }
        }
        "mean" => {
            let n = nums();
            if n.is_empty() {
                return Err(Error::invalid("unsupported mean iterator type"));
            }
            // InfluxDB averages incrementally; a plain sum agrees within a float's last digits.
            (Some(V::F(n.iter().sum::<f64>() / n.len() as f64)), None)
        }
        "min" | "max" => {
            let mut best: Option<(i64, &V)> = None;
            for &(t, v) in vals {
                let better = match best {
                    None => true,
                    Some((_, b)) => match v.cmp(b) {
                        Some(o) if name == "max" => o.is_gt(),
                        Some(o) => o.is_lt(),
                        None => false,
                    },
                };
                if better {
                    best = Some((t, v));
                }
            }
            best.map_or((None, None), |(t, v)| (Some(v.clone()), Some(t)))
        }
        "first" | "last" => {
            let (t, _) = if name == "first" { vals[0] } else { vals[vals.len() - 1] };
            let mut tied = vals.iter().filter(|(at, _)| *at == t).map(|(_, v)| *v);
            let mut pick = tied.next().unwrap_or(vals[0].1);
            for v in tied {
                if tie_wins(v, pick, name == "first") {
                    pick = v;
                }
            }
            (Some(pick.clone()), Some(t))
        }
        "spread" => {
            let n = nums();
            let (lo, hi) = n.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            if vals.iter().all(|(_, v)| matches!(v, V::I(_))) {
                (Some(V::I((hi - lo) as i64)), None)
            } else {
                (Some(V::F(hi - lo)), None)
            }
        }
        "stddev" => {
            let n = nums();
            if n.len() < 2 {
                return Ok((None, None));
            }
            let mean = n.iter().sum::<f64>() / n.len() as f64;
            let var = n.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n.len() - 1) as f64;
            (Some(V::F(var.sqrt())), None)
        }
        "median" => {
            let mut n = nums();
            n.sort_by(f64::total_cmp);
            let len = n.len();
            let m = if len % 2 == 1 { n[len / 2] } else { (n[len / 2 - 1] + n[len / 2]) / 2.0 };
            (Some(V::F(m)), None)
        }
        "mode" => {
            let mut counts: Vec<(&V, usize)> = Vec::new();
            for (_, v) in vals {
                match counts.iter_mut().find(|(x, _)| *x == *v) {
                    Some(c) => c.1 += 1,
                    None => counts.push((v, 1)),
                }
            }
            let max = counts.iter().map(|c| c.1).max().unwrap_or(0);
            let mut best: Vec<&V> = counts.iter().filter(|c| c.1 == max).map(|c| c.0).collect();
            best.sort_by(|a, b| a.cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            (best.first().map(|v| (*v).clone()), None)
        }
        "integral" => {
            let unit = match args.get(1) {
                Some(Expr::Duration(d)) if *d > 0 => *d as f64,
                None => 1e9,
                _ => return Err(Error::invalid("second argument must be a duration")),
            };
            let pts: Vec<(i64, f64)> = vals.iter().filter_map(|(t, v)| v.num().map(|x| (*t, x))).collect();
            let area: f64 = pts.windows(2).map(|w| (w[0].1 + w[1].1) / 2.0 * (w[1].0 - w[0].0) as f64 / unit).sum();
            (Some(V::F(area)), None)
        }
        "percentile" => {
            let p = match args.get(1) {
                Some(Expr::Integer(n)) => *n as f64,
                Some(Expr::Number(n)) => *n,
                _ => return Err(Error::invalid("expected float argument in percentile()")),
            };
            let mut sorted: Vec<(i64, &V)> = vals.to_vec();
            sorted.sort_by(|a, b| a.1.cmp(b.1).unwrap_or(std::cmp::Ordering::Equal));
            // Past either end (p of 0, or above 100), there is no such point.
            let i = (sorted.len() as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
            if i < 0 || i >= sorted.len() as i64 {
                return Ok((None, None));
            }
            let (t, v) = sorted[i as usize];
            (Some(v.clone()), Some(t))
        }
        other => return Err(Error::invalid(format!("undefined function {other}()"))),
    })
}

/// Between points of equal time, which `first` and `last` select: the
/// greater value, except that `first` prefers false to true.
pub(super) fn tie_wins(v: &V, over: &V, first: bool) -> bool {
    match (v, over) {
        (V::B(a), V::B(b)) => {
            if first {
                !a && *b
            } else {
                *a && !b
            }
        }
        _ => v.cmp(over).is_some_and(std::cmp::Ordering::is_gt),
    }
}
