//! Selectors beyond the core: `sample` (every nth row) and the
//! `highest*`/`lowest*` functions (group, reduce each group, then `top` or
//! `bottom` over all of them).

use std::rc::Rc;

use crate::args::{Def, fail, input, int_arg, out, str_arg};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::value::Value;

pub(super) fn install(def: Def<'_>) {
    def("sample", &["n", "pos", "column"], Some("tables"), sample);
    def("highestMax", &["n", "column", "groupColumns"], Some("tables"), |i, a| ranked(i, a, "max", "top"));
    def("highestAverage", &["n", "column", "groupColumns"], Some("tables"), |i, a| ranked(i, a, "mean", "top"));
    def("highestCurrent", &["n", "column", "groupColumns"], Some("tables"), |i, a| ranked(i, a, "last", "top"));
    def("lowestMin", &["n", "column", "groupColumns"], Some("tables"), |i, a| ranked(i, a, "min", "bottom"));
    def("lowestAverage", &["n", "column", "groupColumns"], Some("tables"), |i, a| ranked(i, a, "mean", "bottom"));
    def("lowestCurrent", &["n", "column", "groupColumns"], Some("tables"), |i, a| ranked(i, a, "last", "bottom"));
}

/// Every `n`th row of each table, starting at row `pos` (a random one below `n` when negative).
fn sample(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let n = int_arg(a, "n", None)?;
    if n <= 0 {
        return fail(format!("sample: n must be positive, got {n}"));
    }
    let pos = int_arg(a, "pos", Some(-1))?;
    if pos >= n {
        return fail(format!("sample: pos must be less than n, got pos {pos} and n {n}"));
    }
    let column = str_arg(a, "column", "_value")?;
    out(Stream::per_table("sample", input(a)?, move |_, t| {
        t.need(&column)?;
        let start = if pos < 0 { random_below(n) } else { pos };
        let rows: Vec<u32> = (start as usize..t.num_rows()).step_by(n as usize).map(|r| r as u32).collect();
        Ok(vec![t.take(&rows)?])
    }))
}

/// A number in `0..n` that changes from call to call.
fn random_below(n: i64) -> i64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    i64::from(nanos) % n
}

/// `group(columns: groupColumns) |> reducer(column) |> group() |> top/bottom(n, columns: [column])`.
fn ranked(i: &mut Interp, a: &Args, reducer: &str, pick: &str) -> EvalResult<Value> {
    let n = a.required("n")?.clone();
    let column = a.get("column").cloned().unwrap_or_else(|| Value::String("_value".into()));
    let group_columns = a.get("groupColumns").cloned().unwrap_or_else(|| Value::Array(Rc::new(Vec::new())));
    let mut value = a.required("tables")?.clone();
    let steps: [(&str, Vec<(&str, Value)>); 4] = [
        ("group", vec![("columns", group_columns)]),
        (reducer, vec![("column", column.clone())]),
        ("group", vec![("columns", Value::Array(Rc::new(Vec::new())))]),
        (pick, vec![("n", n), ("columns", Value::Array(Rc::new(vec![column])))]),
    ];
    for (name, args) in steps {
        let f = i.universe.get(name).ok_or_else(|| flux_runtime::error::EvalError::invalid(format!("no {name}")))?;
        let mut call = Args::default();
        call.named.insert("tables".into(), value);
        for (k, v) in args {
            call.named.insert(k.into(), v);
        }
        value = i.call(&f, call)?;
    }
    Ok(value)
}
