//! Group keys: `group` (regrouping, kept inside a storage scan where it can
//! be), and the tables that list them: `columns`, `keys`, `keyValues`.

use std::rc::Rc;

use arrow::array::Array;
use arrow::datatypes::DataType;

use crate::args::{Def, fail, input, out, str_arg, str_list};
use flux_runtime::error::EvalResult;
use flux_runtime::group::regroup_by;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{array_of, cell};
use flux_runtime::value::Value;

pub(super) fn install(def: Def<'_>) {
    def("group", &["columns", "mode"], Some("tables"), group);
    def("columns", &["column"], Some("tables"), columns);
    def("keys", &["column"], Some("tables"), keys);
    def("keyValues", &["keyColumns", "fn"], Some("tables"), key_values);
}

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
