//! `dict`: fromList, get, insert, remove over dictionary values.

use std::rc::Rc;

use crate::args::builtin;
use crate::args::{fail, package};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::value::Value;

/// `dict`: `fromList`, `get`, `insert`, `remove` — new dictionaries, the
/// given one unchanged.
pub(super) fn dict() -> Value {
    package(vec![
        ("fromList", builtin("fromList", &["pairs"], None, from_list)),
        (
            "get",
            builtin("get", &["dict", "key", "default"], None, |_, a| {
                let key = a.required("key")?;
                match entries(a)?.iter().find(|(k, _)| k == key) {
                    Some((_, v)) => Ok(v.clone()),
                    None => a.required("default").cloned(),
                }
            }),
        ),
        (
            "insert",
            builtin("insert", &["dict", "key", "value"], None, |_, a| {
                let (key, value) = (a.required("key")?.clone(), a.required("value")?.clone());
                let mut out = entries(a)?.to_vec();
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => out.push((key, value)),
                }
                Ok(Value::Dict(Rc::new(out)))
            }),
        ),
        (
            "remove",
            builtin("remove", &["dict", "key"], None, |_, a| {
                let key = a.required("key")?;
                Ok(Value::Dict(Rc::new(entries(a)?.iter().filter(|(k, _)| k != key).cloned().collect())))
            }),
        ),
    ])
}

fn entries(a: &Args) -> EvalResult<Rc<Vec<(Value, Value)>>> {
    match a.required("dict")? {
        Value::Dict(d) => Ok(Rc::clone(d)),
        v => fail(format!("dict must be a dictionary, got {}", v.type_name())),
    }
}

fn from_list(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let Value::Array(pairs) = a.required("pairs")? else { return fail("pairs must be an array of records") };
    let mut out: Vec<(Value, Value)> = Vec::with_capacity(pairs.len());
    for p in pairs.iter() {
        let Value::Record(r) = p else { return fail("pairs must be an array of {key, value} records") };
        let (Some(k), Some(v)) = (r.get("key"), r.get("value")) else {
            return fail("pairs must be an array of {key, value} records");
        };
        match out.iter_mut().find(|(have, _)| have == k) {
            Some(slot) => slot.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    Ok(Value::Dict(Rc::new(out)))
}
