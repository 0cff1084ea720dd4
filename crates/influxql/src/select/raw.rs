//! Raw queries: the points that have a value of a field the statement
//! reads, each output field's expression evaluated on each of them.

use serde_json::Value as Json;

use crate::value::V;

use super::eval::eval_with;
use super::output::json_row;
use super::plan::Plan;
use super::series::Scanned;
use super::window::WindowRow;

/// A group's points as rows, for the transformations to work on.
pub(super) fn rows(plan: &Plan, scanned: &Scanned, points: &[(i64, usize, usize)]) -> Vec<WindowRow> {
    kept(plan, scanned, points).map(|(time, i, r)| (time, values(plan, scanned, i, r).collect())).collect()
}

/// A group's points as the answer's rows.
pub(super) fn json_rows(plan: &Plan, scanned: &Scanned, points: &[(i64, usize, usize)]) -> Vec<Vec<Json>> {
    kept(plan, scanned, points).map(|(time, i, r)| json_row(time, values(plan, scanned, i, r))).collect()
}

/// The points with a value of a field that the output reads.
fn kept<'a>(
    plan: &'a Plan,
    scanned: &'a Scanned,
    points: &'a [(i64, usize, usize)],
) -> impl Iterator<Item = (i64, usize, usize)> + 'a {
    let read: Vec<usize> = plan.read.iter().filter_map(|f| plan.all_fields.iter().position(|a| a == f)).collect();
    points.iter().copied().filter(move |&(_, i, r)| read.iter().any(|&f| scanned.present(i, f, r)))
}

/// Each output field's value at row `r` of series `i`.
fn values<'a>(plan: &'a Plan, scanned: &'a Scanned, i: usize, r: usize) -> impl Iterator<Item = Option<V>> + 'a {
    plan.fields.iter().map(move |f| eval_with(&f.expr, &|name| scanned.lookup(name, i, r)))
}
