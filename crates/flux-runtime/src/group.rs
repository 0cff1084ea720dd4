//! Tables regrouped by their group keys: split by key columns, merged when
//! they share a key, ordered as Flux orders regrouped output. What storage
//! scans under a `group()` and the transformations that regroup both use.

use std::collections::HashMap;

use arrow::array::{ArrayRef, new_null_array};
use arrow::datatypes::DataType;

use crate::error::{EvalError, EvalResult};
use crate::table::{GroupKey, KeyOrd, Table, arrow_err, cell};
use crate::value::Value;

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message.into()))
}

/// Tables with one key merged into one, columns in order of first appearance
/// (a column a table lacks is null there).
pub fn concat(key: GroupKey, tables: &[Table]) -> EvalResult<Table> {
    let mut fields: Vec<(String, DataType)> = Vec::new();
    for t in tables {
        for (n, dt) in t.fields() {
            match fields.iter().find(|(m, _)| *m == n) {
                Some((_, have)) if *have != dt => {
                    return fail(format!(
                        "schema collision: column \"{n}\" is both of type {} and {}",
                        crate::table::type_label(have),
                        crate::table::type_label(&dt)
                    ));
                }
                Some(_) => {}
                None => fields.push((n, dt)),
            }
        }
    }
    if tables.len() == 1 && tables[0].fields() == fields {
        return Ok(Table { key, batch: tables[0].batch.clone() });
    }
    let mut columns = Vec::with_capacity(fields.len());
    for (n, dt) in &fields {
        let parts: Vec<ArrayRef> =
            tables.iter().map(|t| t.column(n).cloned().unwrap_or_else(|| new_null_array(dt, t.num_rows()))).collect();
        let refs: Vec<&dyn arrow::array::Array> = parts.iter().map(|p| p.as_ref()).collect();
        let c =
            if refs.is_empty() { new_null_array(dt, 0) } else { arrow::compute::concat(&refs).map_err(arrow_err)? };
        columns.push((n.clone(), c));
    }
    Table::with_key(key, columns)
}

/// Merges tables that share a group key, in order of first appearance.
// Group keys hold only scalar values; nothing in them can change while mapped.
#[allow(clippy::mutable_key_type)]
pub fn regroup(tables: Vec<Table>) -> EvalResult<Vec<Table>> {
    let mut index: std::collections::BTreeMap<KeyOrd, usize> = std::collections::BTreeMap::new();
    let mut groups: Vec<(GroupKey, Vec<Table>)> = Vec::new();
    for t in tables {
        match index.entry(KeyOrd(t.key.clone())) {
            std::collections::btree_map::Entry::Occupied(e) => groups[*e.get()].1.push(t),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(groups.len());
                groups.push((t.key.clone(), vec![t]));
            }
        }
    }
    groups.into_iter().map(|(k, ts)| concat(k, &ts)).collect()
}

/// Sorts tables by group key, as Flux orders the output of regrouping.
pub fn sort_by_key(tables: &mut [Table]) {
    tables.sort_by(|a, b| a.key.cmp_key(&b.key));
}

/// Splits a table's rows by the values of `key` columns: (key, row indices) in order of first appearance.
pub fn partition(t: &Table, key: &[String]) -> Vec<(GroupKey, Vec<u32>)> {
    let present: Vec<&String> = key.iter().filter(|k| t.has(k)).collect();
    // When every new key column is already constant (in the old key), the table moves whole.
    if present.iter().all(|k| t.key.contains(k)) {
        let gk =
            GroupKey(present.iter().map(|k| ((*k).clone(), t.key.get(k).cloned().unwrap_or(Value::Null))).collect());
        return vec![(gk, (0..t.num_rows() as u32).collect())];
    }
    let cols: Vec<&ArrayRef> = present.iter().filter_map(|k| t.column(k)).collect();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut out: Vec<(GroupKey, Vec<u32>)> = Vec::new();
    for row in 0..t.num_rows() {
        let values: Vec<Value> = cols.iter().map(|c| cell(c.as_ref(), row)).collect();
        let id: Vec<String> = values.iter().map(|v| format!("{}:{v}", v.type_name())).collect();
        let slot = *index.entry(id).or_insert_with(|| {
            out.push((
                GroupKey(present.iter().map(|k| (*k).clone()).zip(values.iter().cloned()).collect()),
                Vec::new(),
            ));
            out.len() - 1
        });
        out[slot].1.push(row as u32);
    }
    out
}

/// Regroups tables by the given key columns (per table, `key_of` decides them).
pub fn regroup_by(tables: Vec<Table>, key_of: impl Fn(&Table) -> Vec<String>) -> EvalResult<Vec<Table>> {
    let mut parts = Vec::new();
    for t in tables {
        let key = key_of(&t);
        for (gk, rows) in partition(&t, &key) {
            let mut part = if rows.len() == t.num_rows() { t.clone() } else { t.take(&rows)? };
            part.key = gk;
            parts.push(part);
        }
    }
    let mut merged = regroup(parts)?;
    sort_by_key(&mut merged);
    Ok(merged)
}
