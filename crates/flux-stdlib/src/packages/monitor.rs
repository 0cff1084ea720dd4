//! The native part of `influxdata/influxdb/monitor` (the rest is Flux:
//! `flux/monitor.flux`): finding the rows where a check's level changes.

use std::rc::Rc;

use crate::args::{self, builtin, fail, stream};
use flux_runtime::error::EvalResult;
use flux_runtime::group::regroup_by;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, cell, cmp_values};
use flux_runtime::value::Value;

pub(super) fn natives() -> Vec<(&'static str, Value)> {
    vec![("_stateChanges", builtin("_stateChanges", &["fromLevel", "toLevel"], Some("tables"), state_changes))]
}

/// How rows are told to be a change.
enum Changes {
    /// `any` to `any`: the level's rank (crit > warn > info > ok > anything
    /// else) differs from the row before.
    AnyRank,
    /// A row whose level is `to` (any level but `from` for `any`) after a row
    /// whose level is `from` (any level but `to` for `any`).
    Between { from: String, to: String },
}

impl Changes {
    fn rank(level: Option<&str>) -> i64 {
        match level {
            Some("crit") => 4,
            Some("warn") => 3,
            Some("info") => 2,
            Some("ok") => 1,
            _ => 0,
        }
    }

    fn matches(level: Option<&str>, want: &str, other: &str) -> bool {
        match level {
            None => false,
            Some(l) if want == "any" => l != other,
            Some(l) => l == want,
        }
    }

    fn is_change(&self, before: Option<&str>, now: Option<&str>) -> bool {
        match self {
            Changes::AnyRank => Self::rank(before) != Self::rank(now),
            Changes::Between { from, to } => {
                let was_from = Self::matches(before, from, to) && !Self::matches(before, to, from);
                was_from && Self::matches(now, to, from)
            }
        }
    }
}

/// `_stateChanges(fromLevel, toLevel)`: the rows where the level changes, in
/// each series of statuses. Tables that differ only by `_level` are one
/// series, read in order of `_source_timestamp` then `_time`; the first row of
/// a series is never a change. The rows found are grouped by `_level` too.
fn state_changes(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let level = |name: &str| -> EvalResult<String> {
        Ok(match a.get(name) {
            None => "any".to_owned(),
            Some(_) => args::string(a, name)?.to_owned(),
        })
    };
    let (from, to) = (level("fromLevel")?, level("toLevel")?);
    let changes = Rc::new(if from == "any" && to == "any" { Changes::AnyRank } else { Changes::Between { from, to } });
    let input = stream(a, "tables")?;
    Ok(Value::Stream(Stream::whole("stateChanges", vec![input], move |_, mut inputs| {
        let series = regroup_by(inputs.swap_remove(0), |t| {
            t.key.names().filter(|n| *n != "_level").map(str::to_owned).collect()
        })?;
        let mut found = Vec::new();
        for t in series {
            found.push(changed_rows(&t, &changes)?);
        }
        regroup_by(found, |t| {
            let mut key: Vec<String> = t.key.names().map(str::to_owned).collect();
            key.push("_level".to_owned());
            key
        })
    })))
}

fn changed_rows(t: &Table, changes: &Changes) -> EvalResult<Table> {
    let Some(levels) = t.column("_level") else { return fail("stateChanges: no _level column") };
    let sort_cell = |name: &str, i: usize| t.column(name).map_or(Value::Null, |c| cell(c.as_ref(), i));
    let mut order: Vec<usize> = (0..t.num_rows()).collect();
    order.sort_by(|&i, &j| {
        cmp_values(&sort_cell("_source_timestamp", i), &sort_cell("_source_timestamp", j))
            .then_with(|| cmp_values(&sort_cell("_time", i), &sort_cell("_time", j)))
    });
    let level = |i: usize| match cell(levels.as_ref(), i) {
        Value::String(s) => Some(s),
        _ => None,
    };
    let mut keep = Vec::new();
    for pair in order.windows(2) {
        if changes.is_change(level(pair[0]).as_deref(), level(pair[1]).as_deref()) {
            keep.push(pair[1] as u32);
        }
    }
    t.take(&keep)
}
