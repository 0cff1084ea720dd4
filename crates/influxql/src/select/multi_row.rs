//! The calls that answer several rows per window: `top` and `bottom` (with
//! their tag arguments), `distinct` and `sample`.

use storage::SeriesKey;

use crate::ast::*;
use crate::condition::TimeRange;
use crate::error::{Error, Result};
use crate::value::V;

use super::window::{Row, WindowRow};

/// A call that answers with several rows per window (top, bottom, distinct), when a query's first field is one.
pub(super) fn multi_row(fields: &[Field]) -> Option<&Expr> {
    match &fields.first()?.expr {
        e @ Expr::Call { name, .. } if matches!(name.as_str(), "top" | "bottom" | "distinct" | "sample") => Some(e),
        e @ Expr::Distinct(_) => Some(e),
        _ => None,
    }
}

/// top(field, [tag, ...,] n), bottom(...), distinct(field), sample(field, n):
/// per window, the points (or values) they pick, in time order; tag arguments
/// and tag fields beside them come from each picked point's series.
#[allow(clippy::too_many_arguments)]
pub(super) fn multi_rows(
    call: &Expr,
    fields: &[Field],
    all: &[String],
    rows: &[Row],
    series: &[SeriesKey],
    windows: &[(i64, i64)],
    windowed: bool,
    range: &TimeRange,
) -> Result<Vec<WindowRow>> {
    let (name, args): (&str, Vec<Expr>) = match call {
        Expr::Call { name, args } => (name.as_str(), args.clone()),
        Expr::Distinct(f) => ("distinct", vec![Expr::VarRef { name: f.clone(), ty: None }]),
        _ => return Ok(Vec::new()),
    };
    let field = match args.first() {
        Some(Expr::VarRef { name, .. }) => name.clone(),
        _ => {
            return Err(Error::invalid(format!(
                "expected first argument to be a field in {name}(), found {}",
                args.first().map_or(String::new(), |a| format!("{a:?}"))
            )));
        }
    };
    let sample_size = if name == "sample" {
        if args.len() != 2 {
            return Err(Error::invalid(format!(
                "invalid number of arguments for sample, expected 2, got {}",
                args.len()
            )));
        }
        match args[1] {
            Expr::Integer(n) if n > 0 => n as usize,
            Expr::Integer(n) => return Err(Error::invalid(format!("sample window must be greater than 1, got {n}"))),
            _ => return Err(Error::invalid("expected integer argument in sample()")),
        }
    } else {
        0
    };
    let Some(fi) = all.iter().position(|f| *f == field) else { return Ok(Vec::new()) };
    let mut rng = rand::rng();
    let mut out = Vec::new();
    for &(ws, we) in windows {
        let points: Vec<&Row> = rows.iter().filter(|r| r.time >= ws && r.time < we && r.values[fi].is_some()).collect();
        let mut picked: Vec<(&Row, i64)> = Vec::new();
        match name {
            "distinct" => {
                let mut seen: Vec<&V> = Vec::new();
                for r in &points {
                    let v = r.values[fi].as_ref().expect("filtered");
                    if !seen.contains(&v) {
                        seen.push(v);
                        picked.push((r, if windowed { ws } else { range.min.unwrap_or(0) }));
                    }
                }
            }
            "sample" => {
                // A reservoir: the first n points, then each later point
                // replaces a random one with probability n / (points so far).
                let mut reservoir: Vec<&Row> = Vec::with_capacity(sample_size);
                for (seen, r) in points.iter().enumerate() {
                    if reservoir.len() < sample_size {
                        reservoir.push(r);
                    } else {
                        let slot = rand::Rng::random_range(&mut rng, 0..=seen);
                        if slot < sample_size {
                            reservoir[slot] = r;
                        }
                    }
                }
                reservoir.sort_by_key(|r| (r.time, r.series));
                picked = reservoir.into_iter().map(|r| (r, r.time)).collect();
            }
            _ => {
                let n = match args.last() {
                    Some(Expr::Integer(n)) if *n > 0 => *n as usize,
                    _ => return Err(Error::invalid(format!("expected integer as last argument in {name}()"))),
                };
                let tags: Vec<String> = args[1..args.len() - 1]
                    .iter()
                    .filter_map(|a| match a {
                        Expr::VarRef { name, .. } => Some(name.clone()),
                        _ => None,
                    })
                    .collect();
                let better = |a: &V, b: &V| match a.cmp(b) {
                    Some(o) if name == "top" => o.is_gt(),
                    Some(o) => o.is_lt(),
                    None => false,
                };
                // With tag arguments, the best point of each tag combination competes.
                let mut candidates: Vec<&Row> = Vec::new();
                if tags.is_empty() {
                    candidates = points.clone();
                } else {
                    let mut best: Vec<(Vec<String>, &Row)> = Vec::new();
                    for r in &points {
                        let key: Vec<String> =
                            tags.iter().map(|t| series[r.series].tag(t).unwrap_or("").to_owned()).collect();
                        match best.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => {
                                if better(
                                    r.values[fi].as_ref().expect("filtered"),
                                    slot.1.values[fi].as_ref().expect("kept"),
                                ) {
                                    slot.1 = r;
                                }
                            }
                            None => best.push((key, r)),
                        }
                    }
                    candidates.extend(best.into_iter().map(|(_, r)| r));
                }
                candidates.sort_by(|a, b| {
                    let (va, vb) = (a.values[fi].as_ref().expect("filtered"), b.values[fi].as_ref().expect("filtered"));
                    let o = if name == "top" { vb.cmp(va) } else { va.cmp(vb) };
                    o.unwrap_or(std::cmp::Ordering::Equal).then(a.time.cmp(&b.time))
                });
                candidates.truncate(n);
                candidates.sort_by_key(|r| (r.time, r.series));
                picked = candidates.into_iter().map(|r| (r, r.time)).collect();
            }
        }
        for (r, time) in picked {
            let mut values = Vec::with_capacity(fields.len());
            values.push(r.values[fi].clone());
            for a in args.iter().skip(1) {
                if let Expr::VarRef { name, .. } = a {
                    values.push(series[r.series].tag(name).map(|v| V::S(v.to_owned())));
                }
            }
            for f in &fields[1..] {
                values.push(match &f.expr {
                    Expr::VarRef { name, .. } => match all.iter().position(|a| a == name) {
                        Some(j) => r.values[j].clone(),
                        None => series[r.series].tag(name).map(|v| V::S(v.to_owned())),
                    },
                    _ => None,
                });
            }
            out.push((time, values));
        }
    }
    Ok(out)
}
