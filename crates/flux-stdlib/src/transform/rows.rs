//! Transformations row by row or over a table's order: `sort`, `limit`,
//! `tail`, `map`, `reduce`, and the `to*` conversions of `_value`.

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::DataType;

use super::aggregate::sort_indices;
use super::join::tables_from_records;
use crate::args::{Def, bool_arg, fail, input, int_arg, out, str_list};
use flux_runtime::error::EvalResult;
use flux_runtime::group::regroup;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, array_of, cell, infer_type, time_type};
use flux_runtime::value::{Record, Value};

pub(super) fn install(def: Def<'_>) {
    def("sort", &["columns", "desc"], Some("tables"), sort);
    def("limit", &["n", "offset"], Some("tables"), |i, a| limit(i, a, false));
    def("tail", &["n", "offset"], Some("tables"), |i, a| limit(i, a, true));
    def("map", &["fn", "mergeKey"], Some("tables"), map);
    def("reduce", &["fn", "identity"], Some("tables"), reduce);
    def("toString", &[], Some("tables"), |i, a| convert(i, a, "toString", crate::convert::to_string));
    def("toInt", &[], Some("tables"), |i, a| convert(i, a, "toInt", crate::convert::to_int));
    def("toUInt", &[], Some("tables"), |i, a| convert(i, a, "toUInt", crate::convert::to_uint));
    def("toFloat", &[], Some("tables"), |i, a| convert(i, a, "toFloat", crate::convert::to_float));
    def("toBool", &[], Some("tables"), |i, a| convert(i, a, "toBool", crate::convert::to_bool));
    def("toTime", &[], Some("tables"), |i, a| convert(i, a, "toTime", crate::convert::to_time));
}

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
