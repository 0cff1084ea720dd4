//! The natives of `experimental`: forwarded universe functions, objectKeys,
//! unpivot, preview, group's extend mode, set, diff.

use std::rc::Rc;

use arrow::datatypes::DataType;

use crate::args::builtin;
use crate::args::fail;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, array_of};
use flux_runtime::value::Value;

/// The `experimental` functions that are universe ones on `_value`: each calls
/// the universe function of its name with the arguments it was given.
pub(super) fn experimental_forwards() -> Vec<(&'static str, Value)> {
    macro_rules! forward {
        ($($name:literal [$($param:literal),*]),* $(,)?) => {
            vec![$(($name, builtin($name, &[$($param),*], Some("tables"), |i, a| forward(i, a, $name)))),*]
        };
    }
    forward![
        "count" [],
        "sum" [],
        "mean" [],
        "min" [],
        "max" [],
        "first" [],
        "last" [],
        "mode" [],
        "skew" [],
        "spread" [],
        "distinct" [],
        "unique" [],
        "stddev" ["mode"],
        "quantile" ["q", "method", "compression"],
        "fill" ["value", "usePrevious"],
        "histogram" ["bins", "normalize"],
        "histogramQuantile" ["quantile", "minValue"],
        "integral" ["unit", "interpolate"],
        "kaufmansAMA" ["n"],
        "window" ["every", "period", "offset", "location", "createEmpty"],
    ]
}

fn forward(i: &mut Interp, a: &Args, name: &str) -> EvalResult<Value> {
    let f = i.universe.get(name).ok_or_else(|| flux_runtime::error::EvalError::invalid(format!("no {name}")))?;
    let mut args = Args::default();
    for (k, v) in &a.named {
        args.named.insert(k.clone(), v.clone());
    }
    i.call(&f, args)
}

/// `experimental.objectKeys(o)`: a record's property names, in order.
pub(super) fn object_keys(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    match a.required("o")? {
        Value::Record(r) => Ok(Value::Array(Rc::new(r.keys().map(|k| Value::String(k.to_owned())).collect()))),
        v => fail(format!("o must be a record, got {}", v.type_name())),
    }
}

/// `experimental.unpivot`: each column that is neither in the group key nor
/// among `otherColumns` becomes a table of its own, its name the `_field`
/// (added to the group key, unless `_field` is one of `otherColumns`) and its
/// values the `_value`, on the rows where it has one.
pub(super) fn unpivot(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    use std::sync::Arc;

    use arrow::array::{Array, ArrayRef, BooleanArray, StringArray};

    use flux_runtime::stream::Stream;
    use flux_runtime::table::{GroupKey, Table};

    let others: Vec<String> = match a.get("otherColumns") {
        None => vec!["_time".into()],
        Some(Value::Array(v)) => v
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                v => fail(format!("otherColumns must be strings, got {}", v.type_name())),
            })
            .collect::<EvalResult<_>>()?,
        Some(v) => return fail(format!("otherColumns must be an array of strings, got {}", v.type_name())),
    };
    let input = match a.required("tables")? {
        Value::Stream(s) => Rc::clone(s),
        v => return fail(format!("tables must be a stream of tables, got {}", v.type_name())),
    };
    let field_is_other = others.iter().any(|o| o == "_field");
    Ok(Value::Stream(Stream::whole("unpivot", vec![input], move |_, mut inputs| {
        let mut out = Vec::new();
        for t in inputs.swap_remove(0) {
            if t.column("_field").is_some() || t.column("_value").is_some() {
                return fail("unpivot can't have \"_field\" or \"_value\" as an input column");
            }
            for o in others.iter().filter(|o| *o != "_field") {
                if t.column(o).is_none() {
                    return fail(format!("unpivot could not find column named {o:?}"));
                }
            }
            for (name, values) in t.columns() {
                if t.key.contains(&name) || others.contains(&name) {
                    continue;
                }
                let valid: BooleanArray = (0..values.len()).map(|i| Some(values.is_valid(i))).collect();
                let keep = |c: &ArrayRef| -> EvalResult<ArrayRef> {
                    arrow::compute::filter(c.as_ref(), &valid)
                        .map_err(|e| flux_runtime::error::EvalError::invalid(e.to_string()))
                };
                let rows = valid.true_count();
                let field: ArrayRef = Arc::new(StringArray::from(vec![name.as_str(); rows]));
                let mut key = t.key.clone();
                let mut cols: Vec<(String, ArrayRef)> = Vec::new();
                for (k, _) in &t.key.0 {
                    cols.push((k.clone(), keep(t.need(k)?)?));
                }
                if !field_is_other {
                    key = GroupKey(
                        key.0.into_iter().chain([("_field".to_owned(), Value::String(name.clone()))]).collect(),
                    );
                    cols.push(("_field".into(), Arc::clone(&field)));
                }
                for o in &others {
                    match o.as_str() {
                        "_field" => cols.push(("_field".into(), Arc::clone(&field))),
                        _ => cols.push((o.clone(), keep(t.need(o)?)?)),
                    }
                }
                cols.push(("_value".into(), keep(&values)?));
                out.push(Table::with_key(key, cols)?);
            }
        }
        flux_runtime::group::regroup(out)
    })))
}

/// `experimental.preview(nrows, ntables)`: the first `ntables` tables, each
/// cut to its first `nrows` rows (5 and 5 by default).
pub(super) fn preview(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    use flux_runtime::stream::Stream;
    let limit = |name: &str| -> EvalResult<usize> {
        match a.get(name) {
            None => Ok(5),
            Some(Value::Int(n)) if *n >= 0 => Ok(*n as usize),
            Some(v) => fail(format!("{name} must be a non-negative int, got {v}")),
        }
    };
    let (rows, tables) = (limit("nrows")?, limit("ntables")?);
    let input = match a.required("tables")? {
        Value::Stream(s) => Rc::clone(s),
        v => return fail(format!("tables must be a stream of tables, got {}", v.type_name())),
    };
    Ok(Value::Stream(Stream::whole("preview", vec![input], move |_, mut inputs| {
        Ok(inputs.swap_remove(0).into_iter().take(tables).map(|t| t.slice(0, rows.min(t.num_rows()))).collect())
    })))
}

/// `experimental.group(mode: "extend", columns)`: each table's group key
/// and the columns named, together, as the new group key.
pub(super) fn group_extend(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    use flux_runtime::stream::Stream;
    match a.get("mode") {
        Some(Value::String(m)) if m == "extend" => {}
        _ => return fail("experimental.group: mode must be \"extend\""),
    }
    let columns: Vec<String> = match a.required("columns")? {
        Value::Array(v) => {
            v.iter().filter_map(|x| if let Value::String(s) = x { Some(s.clone()) } else { None }).collect()
        }
        v => return fail(format!("columns must be an array of strings, got {}", v.type_name())),
    };
    let input = match a.required("tables")? {
        Value::Stream(s) => Rc::clone(s),
        v => return fail(format!("tables must be a stream of tables, got {}", v.type_name())),
    };
    Ok(Value::Stream(Stream::whole("group", vec![input], move |_, mut inputs| {
        flux_runtime::group::regroup_by(inputs.swap_remove(0), |t| {
            let mut key: Vec<String> = t.key.names().map(str::to_owned).collect();
            for c in &columns {
                if !key.contains(c) {
                    key.push(c.clone());
                }
            }
            key
        })
    })))
}

/// `experimental.set(o)`: each property of `o` as a column of that one
/// value (replacing a column of that name; a key column's new value is its
/// table's key).
pub(super) fn set(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    use flux_runtime::stream::Stream;
    use flux_runtime::table::{Table, infer_type, repeat};
    let Value::Record(o) = a.required("o")? else { return fail("o must be a record") };
    let o = Rc::clone(o);
    let input = match a.required("tables")? {
        Value::Stream(s) => Rc::clone(s),
        v => return fail(format!("tables must be a stream of tables, got {}", v.type_name())),
    };
    Ok(Value::Stream(Stream::whole("set", vec![input], move |_, mut inputs| {
        let mut out = Vec::new();
        for t in inputs.swap_remove(0) {
            let mut cols = t.columns();
            let mut key = t.key.clone();
            for (name, v) in o.iter() {
                let Ok(dt) = infer_type(std::slice::from_ref(v)) else { continue };
                let col = repeat(v, &dt, t.num_rows());
                match cols.iter_mut().find(|(c, _)| c == name) {
                    Some(slot) => slot.1 = col,
                    None => cols.push((name.clone(), col)),
                }
                if let Some(slot) = key.0.iter_mut().find(|(k, _)| k == name) {
                    slot.1 = v.clone();
                }
            }
            out.push(Table::with_key(key, cols)?);
        }
        flux_runtime::group::regroup(out)
    })))
}

/// `experimental.diff(got, want)`: for each group whose tables differ, every
/// row of `want` (`_diff` "" when `got` has it too, "-" when not), then the
/// rows only `got` has ("+"), all in their own types. Equal groups give nothing.
pub(super) fn experimental_diff(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let got = crate::args::stream(a, "got")?;
    let want = crate::args::stream(a, "want")?;
    Ok(Value::Stream(Stream::whole("diff", vec![got, want], |_, mut inputs| {
        let want = inputs.pop().unwrap_or_default();
        let got = inputs.pop().unwrap_or_default();
        let mut keys: Vec<flux_runtime::table::GroupKey> = Vec::new();
        for t in want.iter().chain(&got) {
            if !keys.iter().any(|k| k.same_group(&t.key)) {
                keys.push(t.key.clone());
            }
        }
        let mut out = Vec::new();
        for key in keys {
            let w = want.iter().find(|t| t.key.same_group(&key));
            let g = got.iter().find(|t| t.key.same_group(&key));
            let rows = |t: Option<&Table>| -> Vec<Value> {
                t.map_or_else(Vec::new, |t| (0..t.num_rows()).map(|r| t.row(r)).collect())
            };
            let (w_rows, g_rows) = (rows(w), rows(g));
            let mut unmatched: Vec<Option<&Value>> = g_rows.iter().map(Some).collect();
            let mut marked: Vec<(&str, &Value)> = Vec::new();
            for r in &w_rows {
                match unmatched.iter_mut().find(|u| u.is_some_and(|u| u == r)) {
                    Some(slot) => {
                        *slot = None;
                        marked.push(("", r));
                    }
                    None => marked.push(("-", r)),
                }
            }
            marked.extend(unmatched.into_iter().flatten().map(|r| ("+", r)));
            if marked.iter().all(|(m, _)| m.is_empty()) {
                continue;
            }
            let Some(shape) = w.or(g) else { continue };
            let mut columns = vec![(
                "_diff".to_owned(),
                array_of(&DataType::Utf8, marked.iter().map(|(m, _)| Value::String((*m).to_owned()))),
            )];
            for (name, dt) in shape.fields() {
                let values: Vec<Value> = marked
                    .iter()
                    .map(|(_, r)| match r {
                        Value::Record(rec) => rec.get(&name).cloned().unwrap_or(Value::Null),
                        _ => Value::Null,
                    })
                    .collect();
                columns.push((name, array_of(&dt, values)));
            }
            out.push(Table::with_key(key, columns)?);
        }
        Ok(out)
    })))
}
