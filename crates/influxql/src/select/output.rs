//! What a group's rows become in the answer: the fields' transformations
//! applied, empty windows filled as `fill()` says, `ORDER BY time DESC`,
//! `LIMIT` and `OFFSET`, and JSON rows.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

use crate::ast::*;
use crate::error::Result;
use crate::value::V;

use super::window::{Interval, WindowRow};

/// Applies the fields' transformations to rows in time order: each
/// transformed column becomes its transformation's output, and rows are the
/// times any transformation gave a value at.
pub(super) fn apply_transforms(
    rows: Vec<WindowRow>,
    transforms: &[Option<(String, Vec<Expr>)>],
    every: Option<i64>,
) -> Result<Vec<WindowRow>> {
    let mut outputs: Vec<Option<BTreeMap<i64, V>>> = Vec::with_capacity(transforms.len());
    for (i, t) in transforms.iter().enumerate() {
        outputs.push(match t {
            None => None,
            Some((name, args)) => {
                let seq: Vec<(i64, V)> = rows.iter().filter_map(|(t, v)| v[i].clone().map(|v| (*t, v))).collect();
                Some(crate::function::transform::transform(name, args, &seq, every)?.into_iter().collect())
            }
        });
    }
    let mut times: BTreeSet<i64> = BTreeSet::new();
    for o in outputs.iter().flatten() {
        times.extend(o.keys().copied());
    }
    let by_time: BTreeMap<i64, &Vec<Option<V>>> = rows.iter().map(|(t, v)| (*t, v)).collect();
    Ok(times
        .into_iter()
        .map(|t| {
            let values = outputs
                .iter()
                .enumerate()
                .map(|(i, o)| match o {
                    Some(map) => map.get(&t).cloned(),
                    None => by_time.get(&t).and_then(|v| v[i].clone()),
                })
                .collect();
            (t, values)
        })
        .collect())
}

/// Fills empty windows as the query says and writes the rows as JSON.
pub(super) fn finish(
    stmt: &SelectStatement,
    interval: Interval,
    mut out: Vec<(i64, Vec<Option<V>>)>,
    n: usize,
) -> Vec<Vec<Json>> {
    let n = out.first().map_or(n, |r| r.1.len());
    match &stmt.fill {
        Fill::None => out.retain(|(_, v)| v.iter().any(Option::is_some)),
        Fill::Null => {
            if interval.is_none() {
                out.retain(|(_, v)| v.iter().any(Option::is_some));
            }
        }
        Fill::Number(x) => fill_with(&mut out, &V::F(*x)),
        Fill::Integer(x) => fill_with(&mut out, &V::I(*x)),
        Fill::Previous => {
            let mut last: Vec<Option<V>> = vec![None; n];
            for (_, v) in &mut out {
                for (i, cell) in v.iter_mut().enumerate() {
                    match cell {
                        Some(x) => last[i] = Some(x.clone()),
                        None => *cell = last[i].clone(),
                    }
                }
            }
        }
        Fill::Linear => {
            for i in 0..n {
                let known: Vec<(usize, f64)> = out
                    .iter()
                    .enumerate()
                    .filter_map(|(j, (_, v))| v[i].as_ref().and_then(V::num).map(|x| (j, x)))
                    .collect();
                for w in known.windows(2) {
                    let ((a, x), (b, y)) = (w[0], w[1]);
                    for (j, row) in out.iter_mut().enumerate().take(b).skip(a + 1) {
                        let v = x + (y - x) * (j - a) as f64 / (b - a) as f64;
                        row.1[i] = Some(V::F(v));
                    }
                }
            }
        }
    }
    if interval.is_none() && out.iter().all(|(_, v)| v.iter().all(Option::is_none)) {
        return Vec::new();
    }
    out.into_iter().map(|(t, v)| json_row(t, v)).collect()
}

fn fill_with(out: &mut [(i64, Vec<Option<V>>)], v: &V) {
    for (_, row) in out {
        for cell in row.iter_mut() {
            if cell.is_none() {
                *cell = Some(v.clone());
            }
        }
    }
}

/// ORDER BY time DESC, OFFSET and LIMIT over a series' rows.
pub(super) fn page_rows(stmt: &SelectStatement, mut values: Vec<Vec<Json>>) -> Vec<Vec<Json>> {
    if stmt.descending {
        values.reverse();
    }
    let values: Vec<Vec<Json>> = values.into_iter().skip(stmt.offset as usize).collect();
    if stmt.limit > 0 { values.into_iter().take(stmt.limit as usize).collect() } else { values }
}

/// A row of the answer: its time as InfluxDB writes it, then its values (`None`: null).
pub(super) fn json_row(time: i64, values: impl IntoIterator<Item = Option<V>>) -> Vec<Json> {
    std::iter::once(Json::from(format_time(time)))
        .chain(values.into_iter().map(|x| x.map_or(Json::Null, |x| x.json())))
        .collect()
}

/// A time as InfluxDB writes it in JSON: RFC3339 with the fraction's zeros trimmed.
fn format_time(t: i64) -> String {
    time::rfc3339::format(t, time::rfc3339::Fraction::Trimmed)
}
