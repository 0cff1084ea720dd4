//! Transformations of a table's columns: `keep`, `drop`, `rename`,
//! `duplicate`, `set`, `fill`.

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::DataType;

use crate::args::{Def, bool_arg, fail, input, out, str_arg, str_list};
use flux_runtime::error::EvalResult;
use flux_runtime::group::regroup;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, array_of, arrow_err, cell, repeat, type_label};
use flux_runtime::value::Value;

pub(super) fn install(def: Def<'_>) {
    def("keep", &["columns", "fn"], Some("tables"), |i, a| keep_drop(i, a, true));
    def("drop", &["columns", "fn"], Some("tables"), |i, a| keep_drop(i, a, false));
    def("rename", &["columns", "fn"], Some("tables"), rename);
    def("duplicate", &["column", "as"], Some("tables"), duplicate);
    def("set", &["key", "value"], Some("tables"), set);
    def("fill", &["column", "value", "usePrevious"], Some("tables"), fill);
}

/// Applies a change of columns that may change group keys: per table when no
/// key changes, else gathering and merging tables whose keys became equal.
fn reshape(
    name: &'static str,
    input: Rc<Stream>,
    changes_key: bool,
    f: impl Fn(&mut Interp, Table) -> EvalResult<Table> + 'static,
) -> EvalResult<Value> {
    if !changes_key {
        return out(Stream::per_table(name, input, move |i, t| Ok(vec![f(i, t)?])));
    }
    out(Stream::whole(name, vec![input], move |i, mut inputs| {
        let tables = inputs.swap_remove(0).into_iter().map(|t| f(i, t)).collect::<EvalResult<Vec<_>>>()?;
        regroup(tables)
    }))
}

fn column_predicate(i: &mut Interp, f: &Value, name: &str) -> EvalResult<bool> {
    let mut args = Args::default();
    args.named.insert(column_param(f), Value::String(name.to_owned()));
    match i.call(f, args)? {
        Value::Bool(b) => Ok(b),
        v => fail(format!("fn must return a bool, got {}", v.type_name())),
    }
}

fn column_param(f: &Value) -> String {
    if let Value::Function(func) = f
        && let flux_runtime::value::Function::Closure { params, .. } = func.as_ref()
        && let Some(p) = params.first()
    {
        return p.name.clone();
    }
    "column".to_owned()
}

fn project(t: &Table, keep: &[bool]) -> EvalResult<Table> {
    let names = t.names();
    let idx: Vec<usize> = (0..names.len()).filter(|&i| keep[i]).collect();
    let batch = t.batch.project(&idx).map_err(arrow_err)?;
    let key = GroupKey(
        t.key.0.iter().filter(|(k, _)| names.iter().position(|n| n == k).is_some_and(|i| keep[i])).cloned().collect(),
    );
    Ok(Table { key, batch })
}

fn keep_drop(_: &mut Interp, a: &Args, keeping: bool) -> EvalResult<Value> {
    let name = if keeping { "keep" } else { "drop" };
    let columns = str_list(a, "columns")?;
    let f = a.get("fn").cloned();
    if columns.is_none() && f.is_none() {
        return fail(format!("{name}: one of columns or fn is required"));
    }
    let columns = columns.unwrap_or_default();
    let selected = move |i: &mut Interp, t: &Table| -> EvalResult<Vec<bool>> {
        t.names()
            .iter()
            .map(|n| match &f {
                Some(f) => column_predicate(i, f, n).map(|b| b == keeping),
                None => Ok(columns.contains(n) == keeping),
            })
            .collect()
    };
    // Dropping a key column can make tables' keys equal, and they then merge.
    reshape(name, input(a)?, true, move |i, t| {
        let keep = selected(i, &t)?;
        project(&t, &keep)
    })
}

fn rename(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let mapping: Option<Vec<(String, String)>> = match a.get("columns") {
        None => None,
        Some(Value::Record(r)) => Some(
            r.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    v => fail(format!("rename: new names must be strings, got {}", v.type_name())),
                })
                .collect::<EvalResult<_>>()?,
        ),
        Some(v) => return fail(format!("rename: columns must be a record, got {}", v.type_name())),
    };
    let f = a.get("fn").cloned();
    if mapping.is_none() && f.is_none() {
        return fail("rename: one of columns or fn is required");
    }
    let listed: Vec<String> = mapping.iter().flatten().map(|(k, _)| k.clone()).collect();
    per_table_rename(input(a)?, listed, move |i, old| match (&mapping, &f) {
        (Some(m), _) => Ok(m.iter().find(|(k, _)| k == old).map(|(_, v)| v.clone()).unwrap_or_else(|| old.to_owned())),
        (None, Some(f)) => {
            let mut args = Args::default();
            args.named.insert(column_param(f), Value::String(old.to_owned()));
            match i.call(f, args)? {
                Value::String(s) => Ok(s),
                v => fail(format!("rename: fn must return a string, got {}", v.type_name())),
            }
        }
        (None, None) => Ok(old.to_owned()),
    })
}

fn per_table_rename(
    input: Rc<Stream>,
    listed: Vec<String>,
    new_name: impl Fn(&mut Interp, &str) -> EvalResult<String> + 'static,
) -> EvalResult<Value> {
    out(Stream::per_table("rename", input, move |i, t| {
        if let Some(missing) = listed.iter().find(|c| !t.has(c)) {
            return fail(format!("rename error: column \"{missing}\" doesn't exist"));
        }
        let mut cols = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        for (n, c) in t.columns() {
            let to = new_name(i, &n)?;
            names.push((n, to.clone()));
            cols.push((to, c));
        }
        let key = GroupKey(
            t.key
                .0
                .iter()
                .map(|(k, v)| (names.iter().find(|(o, _)| o == k).map_or(k.clone(), |(_, n)| n.clone()), v.clone()))
                .collect(),
        );
        Ok(vec![Table::with_key(key, cols)?])
    }))
}

fn duplicate(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "")?;
    let to = str_arg(a, "as", "")?;
    if column.is_empty() || to.is_empty() {
        return fail("duplicate: column and as are required");
    }
    out(Stream::per_table("duplicate", input(a)?, move |_, t| {
        let c = Arc::clone(t.need(&column)?);
        let mut cols = t.columns();
        match cols.iter_mut().find(|(n, _)| *n == to) {
            Some(slot) => slot.1 = c,
            None => cols.push((to.clone(), c)),
        }
        let mut key = t.key.clone();
        if let Some(slot) = key.0.iter_mut().find(|(k, _)| *k == to) {
            slot.1 = t.key.get(&column).cloned().unwrap_or(Value::Null);
        }
        Ok(vec![Table::with_key(key, cols)?])
    }))
}

fn set(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let key_name = str_arg(a, "key", "")?;
    let value = a.required("value")?.clone();
    if key_name.is_empty() {
        return fail("set: key is required");
    }
    let Some(dt) = flux_runtime::table::type_of_value(&value) else {
        return fail(format!("set: value must be a basic type, got {}", value.type_name()));
    };
    // Setting a key column can make tables' keys equal, and they then merge.
    reshape("set", input(a)?, true, move |_, t| {
        let c = repeat(&value, &dt, t.num_rows());
        let mut cols = t.columns();
        match cols.iter_mut().find(|(n, _)| *n == key_name) {
            Some(slot) => slot.1 = c,
            None => cols.push((key_name.clone(), c)),
        }
        let mut key = t.key.clone();
        if let Some(slot) = key.0.iter_mut().find(|(k, _)| *k == key_name) {
            slot.1 = value.clone();
        }
        Table::with_key(key, cols)
    })
}

fn fill(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    let use_previous = bool_arg(a, "usePrevious", false)?;
    let value = a.get("value").cloned();
    if use_previous == value.is_some() {
        return fail("fill: give exactly one of value or usePrevious: true");
    }
    out(Stream::per_table("fill", input(a)?, move |_, t| {
        // A column the table lacks: nothing to carry forward, or a new column of the value.
        let Some(c) = t.column(&column) else {
            return Ok(vec![match &value {
                None => t,
                Some(v) => {
                    let dt = flux_runtime::table::type_of_value(v).unwrap_or(DataType::Utf8);
                    let mut cols = t.columns();
                    cols.push((column.clone(), flux_runtime::table::repeat(v, &dt, t.num_rows())));
                    Table::with_key(t.key.clone(), cols)?
                }
            }]);
        };
        // A key column is filled only where its key value is null.
        if t.key.get(&column).is_some_and(|k| !matches!(k, Value::Null)) {
            return Ok(vec![t]);
        }
        let mut values: Vec<Value> = (0..c.len()).map(|i| cell(c.as_ref(), i)).collect();
        match &value {
            Some(v) => {
                if let Some(want) = flux_runtime::table::type_of_value(v)
                    && want != *c.data_type()
                    && c.null_count() < c.len()
                {
                    return fail(format!(
                        "fill: value type {} does not match column type {}",
                        type_label(&want),
                        type_label(c.data_type())
                    ));
                }
                for x in values.iter_mut().filter(|x| matches!(x, Value::Null)) {
                    *x = v.clone();
                }
            }
            None => {
                let mut prev = Value::Null;
                for x in values.iter_mut() {
                    if matches!(x, Value::Null) {
                        *x = prev.clone();
                    } else {
                        prev = x.clone();
                    }
                }
            }
        }
        let dt = match &value {
            Some(v) if c.null_count() == c.len() => {
                flux_runtime::table::type_of_value(v).unwrap_or(c.data_type().clone())
            }
            _ => c.data_type().clone(),
        };
        let filled = array_of(&dt, values);
        let cols =
            t.columns().into_iter().map(|(n, x)| if n == column { (n, Arc::clone(&filled)) } else { (n, x) }).collect();
        let mut key = t.key.clone();
        if let (Some(v), Some(slot)) = (&value, key.0.iter_mut().find(|(k, _)| *k == column)) {
            slot.1 = v.clone();
        }
        Ok(vec![Table::with_key(key, cols)?])
    }))
}
