//! Transformations that reshape tables: grouping, column selection and
//! renaming, sorting and limiting, pivoting, unions and joins, row functions.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array, new_null_array};
use arrow::datatypes::DataType;

use super::aggregate::sort_indices;
use crate::args::{Def, bool_arg, fail, input, int_arg, out, str_arg, str_list};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::group::{regroup, regroup_by, sort_by_key};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, array_of, arrow_err, cell, infer_type, repeat, time_type, type_label};
use flux_runtime::value::{Record, Value};

pub(super) fn install(def: Def<'_>) {
    def("group", &["columns", "mode"], Some("tables"), group);
    def("keep", &["columns", "fn"], Some("tables"), |i, a| keep_drop(i, a, true));
    def("drop", &["columns", "fn"], Some("tables"), |i, a| keep_drop(i, a, false));
    def("rename", &["columns", "fn"], Some("tables"), rename);
    def("duplicate", &["column", "as"], Some("tables"), duplicate);
    def("set", &["key", "value"], Some("tables"), set);
    def("fill", &["column", "value", "usePrevious"], Some("tables"), fill);
    def("sort", &["columns", "desc"], Some("tables"), sort);
    def("limit", &["n", "offset"], Some("tables"), |i, a| limit(i, a, false));
    def("tail", &["n", "offset"], Some("tables"), |i, a| limit(i, a, true));
    def("pivot", &["rowKey", "columnKey", "valueColumn"], Some("tables"), pivot);
    def("union", &["tables"], None, union);
    def("join", &["tables", "on", "method"], None, join);
    def("columns", &["column"], Some("tables"), columns);
    def("keys", &["column"], Some("tables"), keys);
    def("keyValues", &["keyColumns", "fn"], Some("tables"), key_values);
    def("map", &["fn", "mergeKey"], Some("tables"), map);
    def("reduce", &["fn", "identity"], Some("tables"), reduce);
    def("toString", &[], Some("tables"), |i, a| convert(i, a, "toString", crate::convert::to_string));
    def("toInt", &[], Some("tables"), |i, a| convert(i, a, "toInt", crate::convert::to_int));
    def("toUInt", &[], Some("tables"), |i, a| convert(i, a, "toUInt", crate::convert::to_uint));
    def("toFloat", &[], Some("tables"), |i, a| convert(i, a, "toFloat", crate::convert::to_float));
    def("toBool", &[], Some("tables"), |i, a| convert(i, a, "toBool", crate::convert::to_bool));
    def("toTime", &[], Some("tables"), |i, a| convert(i, a, "toTime", crate::convert::to_time));
}

// ---- group ----

fn group(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let columns = str_list(a, "columns")?.unwrap_or_default();
    let except = match str_arg(a, "mode", "by")?.as_str() {
        "by" => false,
        "except" => true,
        m => return fail(format!("group: mode must be \"by\" or \"except\", got {m:?}")),
    };
    let input = input(a)?;
    // Over a storage scan, grouping stays part of the scan, so that window
    // aggregates after it still run in storage (and merge across series).
    if let Stream::Scan(spec) = input.as_ref()
        && spec.window.is_none()
    {
        let mut spec = spec.clone();
        spec.group = Some(flux_runtime::scan::GroupSpec { columns, except });
        return out(Rc::new(Stream::Scan(spec)));
    }
    out(Stream::whole("group", vec![input], move |_, mut inputs| {
        let tables = inputs.swap_remove(0);
        regroup_by(tables, |t| {
            if except { t.names().into_iter().filter(|c| !columns.contains(c)).collect() } else { columns.clone() }
        })
    }))
}

// ---- columns: keep, drop, rename, duplicate, set, fill ----

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

// ---- sort, limit, tail ----

fn sort(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let columns = str_list(a, "columns")?.unwrap_or_else(|| vec!["_value".into()]);
    let desc = bool_arg(a, "desc", false)?;
    out(Stream::per_table("sort", input(a)?, move |_, t| {
        let cols: Vec<&ArrayRef> = columns.iter().filter_map(|c| t.column(c)).collect();
        if cols.is_empty() || t.num_rows() < 2 {
            return Ok(vec![t]);
        }
        let idx = sort_indices(&cols, desc)?;
        Ok(vec![t.take(&idx)?])
    }))
}

fn limit(_: &mut Interp, a: &Args, from_end: bool) -> EvalResult<Value> {
    let name = if from_end { "tail" } else { "limit" };
    let n = int_arg(a, "n", None)?;
    let offset = int_arg(a, "offset", Some(0))?;
    if n < 0 || offset < 0 {
        return fail(format!("{name}: n and offset must not be negative"));
    }
    let (n, offset) = (n as usize, offset as usize);
    out(Stream::per_table(name, input(a)?, move |_, t| {
        let rows = t.num_rows();
        let avail = rows.saturating_sub(offset);
        let len = avail.min(n);
        let start = if from_end { avail - len } else { offset.min(rows) };
        Ok(vec![t.slice(start, len)])
    }))
}

// ---- pivot ----

/// A column-key value as pivot names columns with it (Go's formatting of each type).
fn label(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Float(x) => go_exponent(*x),
        v => v.to_string(),
    }
}

/// Go's `strconv.FormatFloat(x, 'E', -1, 64)`: shortest digits, exponent with sign and two digits.
fn go_exponent(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = format!("{x:E}");
    let (mantissa, exp) = s.split_once('E').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mantissa}E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

#[derive(Hash, PartialEq, Eq)]
enum RowId {
    Time(Option<i64>),
    Many(Vec<String>),
}

fn pivot(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let row_key = str_list(a, "rowKey")?.ok_or_else(|| EvalError::invalid("pivot: rowKey is required"))?;
    let column_key = str_list(a, "columnKey")?.ok_or_else(|| EvalError::invalid("pivot: columnKey is required"))?;
    let value_column = str_arg(a, "valueColumn", "_value")?;
    out(Stream::whole("pivot", vec![input(a)?], move |_, mut inputs| {
        // Tables whose keys agree once the column key and value columns leave the key pivot together.
        let mut groups: Vec<(GroupKey, Vec<Table>)> = Vec::new();
        for t in inputs.swap_remove(0) {
            for c in row_key.iter().chain(&column_key).chain([&value_column]) {
                if !t.has(c) {
                    return fail(format!("specified column does not exist in table: {c}"));
                }
            }
            let key = GroupKey(
                t.key.0.iter().filter(|(k, _)| !column_key.contains(k) && *k != value_column).cloned().collect(),
            );
            match groups.iter_mut().find(|(k, _)| k.same_group(&key)) {
                Some((_, ts)) => ts.push(t),
                None => groups.push((key, vec![t])),
            }
        }
        groups
            .into_iter()
            .map(|(key, tables)| pivot_group(key, &tables, &row_key, &column_key, &value_column))
            .collect()
    }))
}

fn pivot_group(
    key: GroupKey,
    tables: &[Table],
    row_key: &[String],
    column_key: &[String],
    value_column: &str,
) -> EvalResult<Table> {
    let first = &tables[0];
    let kept: Vec<(String, DataType)> = first
        .fields()
        .into_iter()
        .filter(|(n, _)| !column_key.contains(n) && n != value_column && (key.contains(n) || row_key.contains(n)))
        .collect();
    if let Some(t) = pivot_aligned(&key, tables, &kept, row_key, column_key, value_column)? {
        return Ok(t);
    }
    // Each new column takes the type of the values that fill it.
    let mut new_types: Vec<DataType> = Vec::new();
    // Every input row is (table, row); the output rows and cells point at them.
    let mut rows: Vec<(u32, u32)> = Vec::new();
    let mut row_index: HashMap<RowId, usize> = HashMap::new();
    let mut new_columns: Vec<String> = Vec::new();
    let mut cells: Vec<Vec<Option<(u32, u32)>>> = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        let value_type = t.need(value_column)?.data_type().clone();
        let row_cols: Vec<&ArrayRef> = row_key.iter().map(|c| t.need(c)).collect::<EvalResult<_>>()?;
        let single_time = match row_cols.as_slice() {
            [c] => c.as_any().downcast_ref::<arrow::array::TimestampNanosecondArray>(),
            _ => None,
        };
        let col_cols: Vec<&ArrayRef> = column_key.iter().map(|c| t.need(c)).collect::<EvalResult<_>>()?;
        let constant_label = column_key
            .iter()
            .map(|c| t.key.get(c).map(label))
            .collect::<Option<Vec<String>>>()
            .map(|parts| parts.join("_"));
        for r in 0..t.num_rows() {
            let id = match single_time {
                Some(times) => RowId::Time(times.is_valid(r).then(|| times.value(r))),
                None => RowId::Many(row_cols.iter().map(|c| label(&cell(c.as_ref(), r))).collect()),
            };
            let out_row = *row_index.entry(id).or_insert_with(|| {
                rows.push((ti as u32, r as u32));
                for c in cells.iter_mut() {
                    c.push(None);
                }
                rows.len() - 1
            });
            let name = match &constant_label {
                Some(l) => l.clone(),
                None => col_cols.iter().map(|c| label(&cell(c.as_ref(), r))).collect::<Vec<_>>().join("_"),
            };
            let col = match new_columns.iter().position(|c| *c == name) {
                Some(c) => c,
                None => {
                    if kept.iter().any(|(k, _)| *k == name) {
                        return fail(format!(
                            "value {name:?} appears in a column key column, but a column named {name:?} already exists; consider renaming {name:?} to something else before pivoting"
                        ));
                    }
                    new_columns.push(name);
                    new_types.push(value_type.clone());
                    cells.push(vec![None; rows.len()]);
                    new_columns.len() - 1
                }
            };
            if new_types[col] != value_type {
                return fail(format!(
                    "pivot: column {:?} would hold both {} and {} values",
                    new_columns[col],
                    type_label(&new_types[col]),
                    type_label(&value_type)
                ));
            }
            cells[col][out_row] = Some((ti as u32, r as u32));
        }
    }
    // Concatenate each source column once, then take rows from it.
    let offsets: Vec<u32> = tables
        .iter()
        .scan(0u32, |acc, t| {
            let o = *acc;
            *acc += t.num_rows() as u32;
            Some(o)
        })
        .collect();
    let gather =
        |name: &str, dt: &DataType, picks: &mut dyn Iterator<Item = Option<(u32, u32)>>| -> EvalResult<ArrayRef> {
            let parts: Vec<ArrayRef> = tables
                .iter()
                .map(|t| {
                    t.column(name)
                        .filter(|c| c.data_type() == dt)
                        .cloned()
                        .unwrap_or_else(|| new_null_array(dt, t.num_rows()))
                })
                .collect();
            let refs: Vec<&dyn Array> = parts.iter().map(|p| p.as_ref()).collect();
            let all = arrow::compute::concat(&refs).map_err(arrow_err)?;
            let idx: UInt32Array = picks.map(|p| p.map(|(t, r)| offsets[t as usize] + r)).collect();
            arrow::compute::take(all.as_ref(), &idx, None).map_err(arrow_err)
        };
    let mut columns = Vec::with_capacity(kept.len() + new_columns.len());
    for (n, dt) in &kept {
        columns.push((n.clone(), gather(n, dt, &mut rows.iter().map(|r| Some(*r)))?));
    }
    for ((n, picks), dt) in new_columns.iter().zip(cells).zip(&new_types) {
        // Tables whose values are of another type give nulls in this column.
        let typed: Vec<Option<(u32, u32)>> = picks
            .into_iter()
            .map(|p| p.filter(|(t, _)| tables[*t as usize].column(value_column).is_some_and(|c| c.data_type() == dt)))
            .collect();
        columns.push((n.clone(), gather(value_column, dt, &mut typed.into_iter())?));
    }
    Table::with_key(key, columns)
}

/// Pivot's common case, column by column: one time row key with the same
/// times, distinct and ascending, in every table (as the fields of one
/// series read from storage have), and a column key constant in each table.
fn pivot_aligned(
    key: &GroupKey,
    tables: &[Table],
    kept: &[(String, DataType)],
    row_key: &[String],
    column_key: &[String],
    value_column: &str,
) -> EvalResult<Option<Table>> {
    let [time_col] = row_key else { return Ok(None) };
    let times_of = |t: &Table| {
        t.column(time_col).and_then(|c| c.as_any().downcast_ref::<arrow::array::TimestampNanosecondArray>().cloned())
    };
    let Some(times) = times_of(&tables[0]) else { return Ok(None) };
    if times.null_count() > 0 || times.values().windows(2).any(|w| w[0] >= w[1]) {
        return Ok(None);
    }
    let mut labels: Vec<String> = Vec::with_capacity(tables.len());
    for t in tables {
        let same = times_of(t).is_some_and(|x| x.null_count() == 0 && x.values() == times.values());
        let label = column_key.iter().map(|c| t.key.get(c).map(label)).collect::<Option<Vec<String>>>();
        match (same, label) {
            (true, Some(parts)) => {
                let l = parts.join("_");
                if labels.contains(&l) || kept.iter().any(|(k, _)| *k == l) {
                    return Ok(None);
                }
                labels.push(l);
            }
            _ => return Ok(None),
        }
    }
    let n = times.len();
    let mut columns: Vec<(String, ArrayRef)> = Vec::with_capacity(kept.len() + tables.len());
    for (name, dt) in kept {
        let c = match key.get(name) {
            Some(v) => repeat(v, dt, n),
            None => Arc::clone(tables[0].need(name)?),
        };
        columns.push((name.clone(), c));
    }
    for (t, l) in tables.iter().zip(labels) {
        columns.push((l, Arc::clone(t.need(value_column)?)));
    }
    Ok(Some(Table::with_key(key.clone(), columns)?))
}

// ---- union, join ----

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

// ---- columns, keys, keyValues ----

fn columns(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("columns", input(a)?, move |_, t| {
        let names: Vec<Value> = t.names().into_iter().map(Value::String).collect();
        let n = names.len();
        let values = array_of(&DataType::Utf8, names);
        Ok(vec![super::aggregate::with_key_columns(&t, n, vec![(column.clone(), values)])?])
    }))
}

fn keys(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("keys", input(a)?, move |_, t| {
        let names: Vec<Value> = t.key.names().map(|k| Value::String(k.to_owned())).collect();
        let n = names.len();
        let values = array_of(&DataType::Utf8, names);
        Ok(vec![super::aggregate::with_key_columns(&t, n, vec![(column.clone(), values)])?])
    }))
}

fn key_values(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let listed = str_list(a, "keyColumns")?;
    let f = a.get("fn").cloned();
    if listed.is_none() && f.is_none() {
        return fail("keyValues: one of keyColumns or fn is required");
    }
    let _ = i;
    out(Stream::per_table("keyValues", input(a)?, move |i, t| {
        let wanted: Vec<String> = match (&listed, &f) {
            (Some(l), _) => l.clone(),
            (None, Some(f)) => {
                let mut args = Args::default();
                args.named
                    .insert("schema".into(), Value::Array(Rc::new(t.names().into_iter().map(Value::String).collect())));
                match i.call(f, args)? {
                    Value::Array(v) => {
                        v.iter().filter_map(|x| if let Value::String(s) = x { Some(s.clone()) } else { None }).collect()
                    }
                    v => return fail(format!("keyValues: fn must return an array of strings, got {}", v.type_name())),
                }
            }
            (None, None) => Vec::new(),
        };
        let present: Vec<&String> = wanted.iter().filter(|c| t.has(c)).collect();
        if present.is_empty() {
            return Ok(vec![]);
        }
        let dt = t.need(present[0])?.data_type().clone();
        let cols = present.iter().map(|c| t.need(c)).collect::<EvalResult<Vec<_>>>()?;
        if cols.iter().any(|c| *c.data_type() != dt) {
            return fail("keyValues: the key columns must all have the same type");
        }
        // Row by row, each column's values the first time they appear.
        let mut seen: Vec<Vec<Value>> = vec![Vec::new(); cols.len()];
        let mut keys_out = Vec::new();
        let mut values = Vec::new();
        for r in 0..t.num_rows() {
            for (j, col) in cols.iter().enumerate() {
                let v = cell(col.as_ref(), r);
                if !seen[j].contains(&v) {
                    seen[j].push(v.clone());
                    keys_out.push(Value::String(present[j].clone()));
                    values.push(v);
                }
            }
        }
        let n = values.len();
        Ok(vec![super::aggregate::with_key_columns(
            &t,
            n,
            vec![
                ("_key".to_owned(), array_of(&DataType::Utf8, keys_out)),
                ("_value".to_owned(), array_of(&dt, values)),
            ],
        )?])
    }))
}

// ---- map, reduce, conversions ----

/// Tables from the records a row function returned for table `t`: columns in
/// the records' order, key columns kept where present (rows whose key values
/// changed move to their own tables).
/// Tables of the records a row function made from `t`'s rows. A column of
/// nothing but nulls takes `t`'s column of that name's type; failing that, it
/// is left out when `untyped(name)` says its nulls have no type.
pub(crate) fn from_records(
    t: &Table,
    records: &[Rc<Record>],
    untyped: &dyn Fn(&str) -> bool,
) -> EvalResult<Vec<Table>> {
    let mut names: Vec<String> = Vec::new();
    for r in records {
        for k in r.keys() {
            if !names.iter().any(|n| n == k) {
                names.push(k.to_owned());
            }
        }
    }
    if records.is_empty() {
        // An empty table keeps its columns.
        return Ok(vec![t.clone()]);
    }
    let mut types = Vec::with_capacity(names.len());
    for n in &names {
        let values: Vec<Value> = records.iter().map(|r| r.get(n).cloned().unwrap_or(Value::Null)).collect();
        let mut dt = infer_type(&values).map_err(|e| e.context(format!("column {n}")))?;
        if values.iter().all(|v| matches!(v, Value::Null)) {
            match t.column(n) {
                Some(c) => dt = c.data_type().clone(),
                // Untyped nulls (a read of a column no row has): Flux makes no column of them.
                None if untyped(n) => continue,
                None => {}
            }
        }
        types.push((n.clone(), dt));
    }
    names.retain(|n| types.iter().any(|(t, _)| t == n));
    let key_cols: Vec<String> = t.key.names().filter(|k| names.iter().any(|n| n == k)).map(str::to_owned).collect();
    let unchanged = key_cols.iter().all(|k| records.iter().all(|r| r.get(k) == t.key.get(k)));
    if unchanged {
        let key = GroupKey(t.key.0.iter().filter(|(k, _)| key_cols.contains(k)).cloned().collect());
        let columns = types
            .iter()
            .map(|(n, dt)| (n.clone(), array_of(dt, records.iter().map(|r| r.get(n).cloned().unwrap_or(Value::Null)))))
            .collect();
        return Ok(vec![Table::with_key(key, columns)?]);
    }
    let rows: Vec<Record> = records.iter().map(|r| (**r).clone()).collect();
    tables_from_records(&rows, &types, &key_cols)
}

fn map(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    out(Stream::whole("map", vec![input(a)?], move |i, mut inputs| {
        let mut produced = Vec::new();
        for t in inputs.swap_remove(0) {
            if let Some(out) = flux_runtime::vector::map_table(i, &f, &t) {
                produced.push(out);
                continue;
            }
            let records = flux_runtime::vector::records(i, &f, &t)?;
            produced.extend(from_records(&t, &records, &|name| flux_runtime::vector::untyped_property(&f, name, &t))?);
        }
        regroup(produced)
    }))
}

fn reduce(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let f = a.required("fn")?.clone();
    let Value::Record(identity) = a.required("identity")?.clone() else {
        return fail("reduce: identity must be a record");
    };
    out(Stream::per_table("reduce", input(a)?, move |i, t| {
        let mut acc = Value::Record(Rc::clone(&identity));
        for r in 0..t.num_rows() {
            let mut args = Args::default();
            args.named.insert("r".into(), t.row(r));
            args.named.insert("accumulator".into(), acc);
            acc = i.call(&f, args)?;
            if !matches!(acc, Value::Record(_)) {
                return fail(format!("reduce: fn must return a record, got {}", acc.type_name()));
            }
        }
        let Value::Record(acc) = acc else { unreachable!("checked above") };
        let mut columns = Vec::new();
        for (k, v) in acc.iter() {
            let dt = flux_runtime::table::type_of_value(v)
                .or_else(|| identity.get(k).and_then(flux_runtime::table::type_of_value))
                .unwrap_or(DataType::Utf8);
            columns.push((k.clone(), array_of(&dt, [v.clone()])));
        }
        let mut t = t;
        t.key.0.retain(|(k, _)| acc.get(k).is_none());
        Ok(vec![super::aggregate::with_key_columns(&t, 1, columns)?])
    }))
}

fn convert(_: &mut Interp, a: &Args, name: &'static str, f: fn(&Value) -> EvalResult<Value>) -> EvalResult<Value> {
    let target = match name {
        "toString" => DataType::Utf8,
        "toInt" => DataType::Int64,
        "toUInt" => DataType::UInt64,
        "toFloat" => DataType::Float64,
        "toBool" => DataType::Boolean,
        _ => time_type(),
    };
    out(Stream::per_table(name, input(a)?, move |_, t| {
        let c = t.need("_value")?;
        let converted = if *c.data_type() == target {
            Arc::clone(c)
        } else {
            let values = (0..c.len()).map(|i| f(&cell(c.as_ref(), i))).collect::<EvalResult<Vec<_>>>()?;
            array_of(&target, values)
        };
        let cols = t
            .columns()
            .into_iter()
            .map(|(n, x)| if n == "_value" { (n, Arc::clone(&converted)) } else { (n, x) })
            .collect();
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    }))
}
