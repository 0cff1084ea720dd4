//! Combining streams: `union`, and universe `join` (inner, on columns).

use std::collections::HashMap;
use std::rc::Rc;

use arrow::datatypes::DataType;

use crate::args::{Def, fail, out, str_arg, str_list};
use flux_runtime::error::EvalResult;
use flux_runtime::group::{regroup, sort_by_key};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, array_of, cell};
use flux_runtime::value::{Record, Value};

pub(super) fn install(def: Def<'_>) {
    def("union", &["tables"], None, union);
    def("join", &["tables", "on", "method"], None, join);
}

fn streams_of(v: &Value, what: &str) -> EvalResult<Vec<Rc<Stream>>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|s| match s {
                Value::Stream(s) => Ok(Rc::clone(s)),
                v => fail(format!("{what}: expected streams of tables, got {}", v.type_name())),
            })
            .collect(),
        v => fail(format!("{what}: tables must be an array of streams, got {}", v.type_name())),
    }
}

fn union(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let streams = streams_of(a.required("tables")?, "union")?;
    if streams.len() < 2 {
        return fail("union: tables must hold at least two streams");
    }
    out(Stream::whole("union", streams, |_, inputs| regroup(inputs.into_iter().flatten().collect())))
}

fn join(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let Value::Record(sides) = a.required("tables")? else {
        return fail("join: tables must be a record of two streams");
    };
    if sides.len() != 2 {
        return fail(format!("join: tables must hold exactly two streams, got {}", sides.len()));
    }
    let mut names = Vec::new();
    let mut streams = Vec::new();
    for (k, v) in sides.iter() {
        let Value::Stream(s) = v else { return fail(format!("join: {k} is not a stream of tables")) };
        names.push(k.clone());
        streams.push(Rc::clone(s));
    }
    let on = str_list(a, "on")?.unwrap_or_default();
    if !matches!(str_arg(a, "method", "inner")?.as_str(), "inner") {
        return fail("join: the only method is \"inner\"");
    }
    out(Stream::whole("join", streams, move |_, inputs| join_tables(&inputs[0], &inputs[1], &on, &names)))
}

/// Joins every pair of tables (left × right) whose keys agree on the join
/// columns both keys hold; a pair's columns present on both sides (and not
/// joined on) take the side's name as a suffix. Pairs' outputs with equal keys merge.
fn join_tables(left: &[Table], right: &[Table], on: &[String], names: &[String]) -> EvalResult<Vec<Table>> {
    let mut sorted_on: Vec<String> = on.to_vec();
    sorted_on.sort();
    let mut outputs = Vec::new();
    for l in left {
        for r in right {
            let compatible = on.iter().all(|c| match (l.key.get(c), r.key.get(c)) {
                (Some(a), Some(b)) => flux_runtime::table::cmp_values(a, b).is_eq(),
                _ => true,
            });
            if compatible && let Some(t) = join_pair(l, r, on, &sorted_on, names)? {
                outputs.push(t);
            }
        }
    }
    let mut merged = regroup(outputs)?;
    sort_by_key(&mut merged);
    Ok(merged)
}

fn join_pair(l: &Table, r: &Table, on: &[String], sorted_on: &[String], names: &[String]) -> EvalResult<Option<Table>> {
    let (lf, rf) = (l.fields(), r.fields());
    let out_name = |col: &str, side: usize| -> String {
        let other = if side == 0 { &rf } else { &lf };
        if !on.iter().any(|o| o == col) && other.iter().any(|(n, _)| n == col) {
            format!("{col}_{}", names[side])
        } else {
            col.to_owned()
        }
    };
    let join_id = |t: &Table, row: usize| -> Option<Vec<String>> {
        on.iter()
            .map(|c| {
                let v = cell(t.column(c)?.as_ref(), row);
                (!matches!(v, Value::Null)).then(|| format!("{}:{v}", v.type_name()))
            })
            .collect()
    };
    let mut index: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    for row in 0..r.num_rows() {
        if let Some(id) = join_id(r, row) {
            index.entry(id).or_default().push(row);
        }
    }
    let mut rows: Vec<Record> = Vec::new();
    for lrow in 0..l.num_rows() {
        let Some(id) = join_id(l, lrow) else { continue };
        let Some(matches) = index.get(&id) else { continue };
        for &rrow in matches {
            let mut rec = Record::default();
            for (n, c) in l.columns() {
                rec.insert(out_name(&n, 0), cell(c.as_ref(), lrow));
            }
            for (n, c) in r.columns() {
                let name = out_name(&n, 1);
                if rec.get(&name).is_none() {
                    rec.insert(name, cell(c.as_ref(), rrow));
                }
            }
            rows.push(rec);
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    rows.sort_by(|a, b| {
        sorted_on
            .iter()
            .map(|c| {
                flux_runtime::table::cmp_values(a.get(c).unwrap_or(&Value::Null), b.get(c).unwrap_or(&Value::Null))
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // Output columns are ordered by name.
    let mut types: Vec<(String, DataType)> = lf
        .iter()
        .map(|(n, t)| (out_name(n, 0), t.clone()))
        .chain(rf.iter().map(|(n, t)| (out_name(n, 1), t.clone())))
        .collect();
    types.sort_by(|a, b| a.0.cmp(&b.0));
    types.dedup_by(|a, b| a.0 == b.0);
    let mut key_cols: Vec<String> = l.key.names().map(|k| out_name(k, 0)).collect();
    for k in r.key.names().map(|k| out_name(k, 1)) {
        if !key_cols.contains(&k) {
            key_cols.push(k);
        }
    }
    let key = GroupKey(key_cols.iter().map(|k| (k.clone(), rows[0].get(k).cloned().unwrap_or(Value::Null))).collect());
    let columns = types
        .iter()
        .map(|(n, dt)| (n.clone(), array_of(dt, rows.iter().map(|r| r.get(n).cloned().unwrap_or(Value::Null)))))
        .collect();
    Ok(Some(Table::with_key(key, columns)?))
}

/// Tables from records: rows grouped by the values of `key_cols`, columns as `types` says.
pub(crate) fn tables_from_records(
    rows: &[Record],
    types: &[(String, DataType)],
    key_cols: &[String],
) -> EvalResult<Vec<Table>> {
    let mut groups: Vec<(GroupKey, Vec<usize>)> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let values: Vec<(String, Value)> = key_cols
            .iter()
            .filter(|k| types.iter().any(|(n, _)| n == *k))
            .map(|k| (k.clone(), r.get(k).cloned().unwrap_or(Value::Null)))
            .collect();
        let id: Vec<String> = values.iter().map(|(_, v)| format!("{}:{v}", v.type_name())).collect();
        let slot = *index.entry(id).or_insert_with(|| {
            groups.push((GroupKey(values), Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(i);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, members) in groups {
        let columns = types
            .iter()
            .map(|(n, dt)| {
                (n.clone(), array_of(dt, members.iter().map(|&i| rows[i].get(n).cloned().unwrap_or(Value::Null))))
            })
            .collect();
        out.push(Table::with_key(key, columns)?);
    }
    sort_by_key(&mut out);
    Ok(out)
}
