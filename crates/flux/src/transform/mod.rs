//! The table transformations of `universe`, each over a stream plan: most work
//! a table at a time on Arrow columns; a few (group, union, join, pivot across
//! tables) gather their input first.

mod aggregate;
mod find;
mod holt_winters;
mod more;
mod series;
mod shape;
mod tdigest;
mod technical;
mod window;

pub(crate) use window::{location_arg, truncate};

pub(crate) use aggregate::with_key_columns;
pub(crate) use shape::{regroup_by, tables_from_records};

use std::rc::Rc;

use arrow::array::{ArrayRef, new_null_array};
use arrow::datatypes::DataType;

use crate::interp::{Args, BuiltinFn, EvalError, EvalResult};
use crate::stream::Stream;
use crate::table::{GroupKey, KeyOrd, Table, arrow_err};
use crate::value::{Duration, Value};

pub(crate) fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError { message: message.into() })
}

pub(crate) fn input(a: &Args) -> EvalResult<Rc<Stream>> {
    crate::universe::stream_arg(a)
}

pub(crate) fn out(s: Rc<Stream>) -> EvalResult<Value> {
    Ok(Value::Stream(s))
}

pub(crate) fn str_arg(a: &Args, name: &str, default: &str) -> EvalResult<String> {
    match a.get(name) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => fail(format!("{name} must be a string, got {}", v.type_name())),
    }
}

pub(crate) fn str_list(a: &Args, name: &str) -> EvalResult<Option<Vec<String>>> {
    match a.get(name) {
        None => Ok(None),
        Some(Value::Array(v)) => v
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                v => fail(format!("{name} must be an array of strings, got an element of type {}", v.type_name())),
            })
            .collect::<EvalResult<Vec<_>>>()
            .map(Some),
        Some(v) => fail(format!("{name} must be an array of strings, got {}", v.type_name())),
    }
}

pub(crate) fn int_arg(a: &Args, name: &str, default: Option<i64>) -> EvalResult<i64> {
    match a.get(name) {
        None => default.ok_or_else(|| EvalError { message: format!("missing required argument {name}") }),
        Some(Value::Int(n)) => Ok(*n),
        Some(v) => fail(format!("{name} must be an int, got {}", v.type_name())),
    }
}

pub(crate) fn float_arg(a: &Args, name: &str, default: Option<f64>) -> EvalResult<f64> {
    match a.get(name) {
        None => default.ok_or_else(|| EvalError { message: format!("missing required argument {name}") }),
        Some(Value::Float(x)) => Ok(*x),
        Some(Value::Int(n)) => Ok(*n as f64),
        Some(v) => fail(format!("{name} must be a float, got {}", v.type_name())),
    }
}

pub(crate) fn bool_arg(a: &Args, name: &str, default: bool) -> EvalResult<bool> {
    match a.get(name) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => fail(format!("{name} must be a bool, got {}", v.type_name())),
    }
}

pub(crate) fn duration_arg(a: &Args, name: &str) -> EvalResult<Option<Duration>> {
    match a.get(name) {
        None => Ok(None),
        Some(Value::Duration(d)) => Ok(Some(*d)),
        Some(v) => fail(format!("{name} must be a duration, got {}", v.type_name())),
    }
}

/// Tables with one key merged into one, columns in order of first appearance
/// (a column a table lacks is null there).
pub(crate) fn concat(key: GroupKey, tables: &[Table]) -> EvalResult<Table> {
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
pub(crate) fn regroup(tables: Vec<Table>) -> EvalResult<Vec<Table>> {
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
pub(crate) fn sort_by_key(tables: &mut [Table]) {
    tables.sort_by(|a, b| a.key.cmp_key(&b.key));
}

pub(crate) type Def<'a> = &'a mut dyn FnMut(&'static str, &'static [&'static str], Option<&'static str>, BuiltinFn);

pub(crate) fn install(def: Def<'_>) {
    aggregate::install(def);
    shape::install(def);
    series::install(def);
    window::install(def);
    find::install(def);
    more::install(def);
    technical::install(def);
    holt_winters::install(def);
}
