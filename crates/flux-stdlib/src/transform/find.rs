//! Reading values out of streams: `tableFind`, `getColumn`, `getRecord`,
//! `findColumn`, `findRecord`. These run their input right away.

use std::rc::Rc;

use crate::args::{Def, fail, int_arg, str_arg};
use flux_runtime::error::EvalResult;
use flux_runtime::exec::collect;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, cell};
use flux_runtime::value::{Record, Value};

pub(super) fn install(def: Def<'_>) {
    def("tableFind", &["fn"], Some("tables"), table_find);
    def("getColumn", &["column"], Some("table"), get_column);
    def("getRecord", &["idx"], Some("table"), get_record);
    def("findColumn", &["fn", "column"], Some("tables"), find_column);
    def("findRecord", &["fn", "idx"], Some("tables"), find_record);
}

/// The first table whose group key satisfies `fn: (key) => bool`.
fn first_matching(i: &mut Interp, a: &Args) -> EvalResult<Option<Table>> {
    let f = a.required("fn")?.clone();
    let Value::Stream(s) = a.required("tables")? else { return fail("tables must be a stream") };
    let s = Rc::clone(s);
    for t in collect(i, &s)? {
        let mut args = Args::default();
        args.named.insert("key".into(), t.key.record());
        if matches!(i.call(&f, args)?, Value::Bool(true)) {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

fn table_find(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    match first_matching(i, a)? {
        Some(t) => Ok(Value::Stream(Stream::tables(vec![t]))),
        None => fail("no table found"),
    }
}

fn one_table(i: &mut Interp, a: &Args) -> EvalResult<Table> {
    let Value::Stream(s) = a.required("table")? else { return fail("table must be a table") };
    let s = Rc::clone(s);
    let mut tables = collect(i, &s)?;
    match tables.len() {
        1 => Ok(tables.remove(0)),
        0 => fail("no table found"),
        n => fail(format!("expected one table, got {n}")),
    }
}

fn column_values(t: &Table, column: &str) -> EvalResult<Value> {
    let c = t.need(column)?;
    Ok(Value::Array(Rc::new((0..c.len()).map(|r| cell(c.as_ref(), r)).collect())))
}

fn record_at(t: &Table, idx: i64) -> EvalResult<Value> {
    if idx < 0 || idx as usize >= t.num_rows() {
        return fail(format!("index out of bounds: {idx}"));
    }
    Ok(t.row(idx as usize))
}

fn get_column(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "")?;
    let t = one_table(i, a)?;
    column_values(&t, &column)
}

fn get_record(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let idx = int_arg(a, "idx", None)?;
    let t = one_table(i, a)?;
    record_at(&t, idx)
}

fn find_column(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let column = str_arg(a, "column", "")?;
    match first_matching(i, a)? {
        Some(t) if t.has(&column) => column_values(&t, &column),
        _ => Ok(Value::Array(Rc::new(Vec::new()))),
    }
}

fn find_record(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let idx = int_arg(a, "idx", None)?;
    match first_matching(i, a)? {
        Some(t) if idx >= 0 && (idx as usize) < t.num_rows() => record_at(&t, idx),
        _ => Ok(Value::Record(Rc::new(Record::default()))),
    }
}
