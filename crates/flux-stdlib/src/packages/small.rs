//! Small packages of plain functions: `bitwise` (and `experimental/bitwise`),
//! `types` and `dict`.

use std::rc::Rc;

use arrow::datatypes::DataType;

use crate::args::builtin;
use crate::args::{fail, package};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, array_of, infer_type, time_type};
use flux_runtime::value::Value;

fn uint(a: &Args, name: &str) -> EvalResult<u64> {
    match a.required(name)? {
        Value::UInt(v) => Ok(*v),
        v => fail(format!("{name} must be a uint, got {}", v.type_name())),
    }
}

fn int(a: &Args, name: &str) -> EvalResult<i64> {
    match a.required(name)? {
        Value::Int(v) => Ok(*v),
        v => fail(format!("{name} must be an int, got {}", v.type_name())),
    }
}

/// A shift's count, which may not be negative; past the width every bit is gone.
fn count(b: i64) -> EvalResult<Option<u32>> {
    if b < 0 {
        return fail(format!("negative shift amount {b}"));
    }
    Ok(u32::try_from(b).ok().filter(|b| *b < 64))
}

/// `bitwise`: and, or, not, xor, clear (and-not), shifts — on uints (`u…`) and ints (`s…`).
pub(super) fn bitwise() -> Value {
    package(vec![
        ("uand", builtin("uand", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? & uint(a, "b")?)))),
        ("uor", builtin("uor", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? | uint(a, "b")?)))),
        ("unot", builtin("unot", &["a"], None, |_, a| Ok(Value::UInt(!uint(a, "a")?)))),
        ("uxor", builtin("uxor", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? ^ uint(a, "b")?)))),
        ("uclear", builtin("uclear", &["a", "b"], None, |_, a| Ok(Value::UInt(uint(a, "a")? & !uint(a, "b")?)))),
        (
            "ulshift",
            builtin("ulshift", &["a", "b"], None, |_, a| {
                let b = uint(a, "b")?;
                Ok(Value::UInt(if b < 64 { uint(a, "a")? << b } else { 0 }))
            }),
        ),
        (
            "urshift",
            builtin("urshift", &["a", "b"], None, |_, a| {
                let b = uint(a, "b")?;
                Ok(Value::UInt(if b < 64 { uint(a, "a")? >> b } else { 0 }))
            }),
        ),
        ("sand", builtin("sand", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? & int(a, "b")?)))),
        ("sor", builtin("sor", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? | int(a, "b")?)))),
        ("snot", builtin("snot", &["a"], None, |_, a| Ok(Value::Int(!int(a, "a")?)))),
        ("sxor", builtin("sxor", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? ^ int(a, "b")?)))),
        ("sclear", builtin("sclear", &["a", "b"], None, |_, a| Ok(Value::Int(int(a, "a")? & !int(a, "b")?)))),
        (
            "slshift",
            builtin("slshift", &["a", "b"], None, |_, a| {
                Ok(Value::Int(count(int(a, "b")?)?.map_or(0, |b| int(a, "a").unwrap_or(0) << b)))
            }),
        ),
        (
            "srshift",
            builtin("srshift", &["a", "b"], None, |_, a| {
                let v = int(a, "a")?;
                // An arithmetic shift: past the width only the sign is left.
                Ok(Value::Int(v >> count(int(a, "b")?)?.unwrap_or(63)))
            }),
        ),
    ])
}

/// `types`: `isType(v, type)` and `isNumeric(v)`.
pub(super) fn types() -> Value {
    package(vec![
        ("isType", builtin("isType", &["v", "type"], None, is_type)),
        (
            "isNumeric",
            builtin("isNumeric", &["v"], None, |_, a| {
                Ok(Value::Bool(matches!(a.required("v")?, Value::Int(_) | Value::UInt(_) | Value::Float(_))))
            }),
        ),
    ])
}

/// Whether `v` is of the basic type named (`"string"`, `"int"`, …).
fn is_type(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let Value::String(t) = a.required("type")? else { return fail("type must be a string") };
    let v = a.required("v")?;
    Ok(Value::Bool(match t.as_str() {
        "string" => matches!(v, Value::String(_)),
        "bytes" => matches!(v, Value::Bytes(_)),
        "int" => matches!(v, Value::Int(_)),
        "uint" => matches!(v, Value::UInt(_)),
        "float" => matches!(v, Value::Float(_)),
        "bool" => matches!(v, Value::Bool(_)),
        "time" => matches!(v, Value::Time(_)),
        "duration" => matches!(v, Value::Duration(_)),
        "regexp" => matches!(v, Value::Regex(_)),
        // No value is of a type that does not exist.
        _ => false,
    }))
}

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

/// `array.concat`, `array.map`, `array.filter` (also in `experimental/array`).
pub(super) fn array_functions() -> Vec<(&'static str, Value)> {
    vec![
        (
            "concat",
            builtin("concat", &["arr", "v"], Some("arr"), |_, a| {
                let (head, tail) = (array(a, "arr")?, array(a, "v")?);
                Ok(Value::Array(Rc::new(head.iter().chain(tail.iter()).cloned().collect())))
            }),
        ),
        (
            "map",
            builtin("map", &["arr", "fn"], Some("arr"), |i, a| {
                let f = function(a)?;
                let out = array(a, "arr")?.iter().map(|x| i.call(&f, one_arg(x))).collect::<EvalResult<Vec<_>>>()?;
                Ok(Value::Array(Rc::new(out)))
            }),
        ),
        (
            "filter",
            builtin("filter", &["arr", "fn"], Some("arr"), |i, a| {
                let f = function(a)?;
                let mut out = Vec::new();
                for x in array(a, "arr")?.iter() {
                    match i.call(&f, one_arg(x))? {
                        Value::Bool(true) => out.push(x.clone()),
                        Value::Bool(false) | Value::Null => {}
                        v => return fail(format!("filter: fn must return a bool, got {}", v.type_name())),
                    }
                }
                Ok(Value::Array(Rc::new(out)))
            }),
        ),
    ]
}

fn array(a: &Args, name: &str) -> EvalResult<Rc<Vec<Value>>> {
    match a.required(name)? {
        Value::Array(v) => Ok(Rc::clone(v)),
        v => fail(format!("{name} must be an array, got {}", v.type_name())),
    }
}

fn function(a: &Args) -> EvalResult<Value> {
    match a.required("fn")? {
        f @ Value::Function(_) => Ok(f.clone()),
        v => fail(format!("fn must be a function, got {}", v.type_name())),
    }
}

/// The arguments `(x: v)`.
fn one_arg(v: &Value) -> Args {
    let mut args = Args::default();
    args.named.insert("x".into(), v.clone());
    args
}

/// `experimental/array`'s `toBool`, `toInt`, …: `array.map` with the
/// universe conversion of that name.
pub(super) fn array_conversions() -> Vec<(&'static str, Value)> {
    macro_rules! conversions {
        ($($name:literal => $universe:literal),*) => {
            vec![$(($name, builtin($name, &["arr"], Some("arr"), |i, a| convert(i, a, $universe)))),*]
        };
    }
    conversions![
        "toBool" => "bool",
        "toDuration" => "duration",
        "toFloat" => "float",
        "toInt" => "int",
        "toString" => "string",
        "toTime" => "time",
        "toUInt" => "uint"
    ]
}

fn convert(i: &mut Interp, a: &Args, name: &str) -> EvalResult<Value> {
    let f = i.universe.get(name).ok_or_else(|| flux_runtime::error::EvalError::invalid(format!("no {name}")))?;
    let mut out = Vec::new();
    for x in array(a, "arr")?.iter() {
        let mut args = Args::default();
        args.named.insert("v".into(), x.clone());
        out.push(i.call(&f, args)?);
    }
    Ok(Value::Array(Rc::new(out)))
}

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

/// `experimental/json.parse(data)`: JSON text as Flux values — objects as
/// records, arrays, numbers as floats, strings, booleans, null.
pub(super) fn json_parse(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    parse_json(a, "json.parse")
}

/// The `data` argument (bytes, or a string) read as JSON; `who` names the
/// function in its errors.
pub(super) fn parse_json(a: &Args, who: &str) -> EvalResult<Value> {
    let data = match a.required("data")? {
        Value::Bytes(b) => b.clone(),
        Value::String(s) => s.clone().into_bytes(),
        v => return fail(format!("data must be bytes, got {}", v.type_name())),
    };
    let parsed: serde_json::Value =
        serde_json::from_slice(&data).map_err(|e| flux_runtime::error::EvalError::invalid(format!("{who}: {e}")))?;
    fn convert(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => Value::Array(Rc::new(items.into_iter().map(convert).collect())),
            serde_json::Value::Object(fields) => Value::record(fields.into_iter().map(|(k, v)| (k, convert(v)))),
        }
    }
    Ok(convert(parsed))
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

/// `v1.json(json:)`: an InfluxDB 1.x `/query` answer as tables, one per
/// series and column: `_measurement`, the series' tags and `_field` in the
/// key, `_time` and `_value` in the rows.
pub(super) fn v1_json(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let text = match (a.get("json"), a.get("file")) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(v), _) => return fail(format!("json must be a string, got {}", v.type_name())),
        (None, Some(_)) => return fail("v1.json: reading files is not allowed on this server; pass the data as json"),
        (None, None) => return fail("v1.json: give json"),
    };
    let bad = |e: String| flux_runtime::error::EvalError::invalid(format!("v1.json: {e}"));
    let parsed: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut tables = Vec::new();
    for result in parsed["results"].as_array().into_iter().flatten() {
        if let Some(e) = result["error"].as_str() {
            return Err(bad(e.to_owned()));
        }
        for series in result["series"].as_array().into_iter().flatten() {
            let name = series["name"].as_str().unwrap_or_default();
            let columns: Vec<&str> =
                series["columns"].as_array().into_iter().flatten().filter_map(|c| c.as_str()).collect();
            let time_at =
                columns.iter().position(|c| *c == "time").ok_or_else(|| bad("a series has no time column".into()))?;
            let rows: Vec<&Vec<serde_json::Value>> =
                series["values"].as_array().into_iter().flatten().filter_map(|r| r.as_array()).collect();
            let mut times = Vec::with_capacity(rows.len());
            for r in &rows {
                times.push(Value::Time(match &r[time_at] {
                    serde_json::Value::String(s) => {
                        time::rfc3339::parse(s).ok_or_else(|| bad(format!("bad time {s:?}")))?
                    }
                    serde_json::Value::Number(n) => n.as_i64().ok_or_else(|| bad(format!("bad time {n}")))?,
                    v => return Err(bad(format!("bad time {v}"))),
                }));
            }
            let mut tags: Vec<(String, String)> = series["tags"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            tags.sort();
            for (c, field) in columns.iter().enumerate().filter(|(c, _)| *c != time_at) {
                let values: Vec<Value> = rows
                    .iter()
                    .map(|r| match r.get(c) {
                        Some(serde_json::Value::Number(n)) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                        Some(serde_json::Value::String(s)) => Value::String(s.clone()),
                        Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
                        _ => Value::Null,
                    })
                    .collect();
                let n = values.len();
                let mut cols = vec![("_time".to_owned(), array_of(&time_type(), times.clone()))];
                let mut key = vec!["_measurement".to_owned()];
                cols.push((
                    "_measurement".to_owned(),
                    flux_runtime::table::repeat(&Value::String(name.into()), &DataType::Utf8, n),
                ));
                for (k, v) in &tags {
                    key.push(k.clone());
                    cols.push((k.clone(), flux_runtime::table::repeat(&Value::String(v.clone()), &DataType::Utf8, n)));
                }
                key.push("_field".to_owned());
                cols.push((
                    "_field".to_owned(),
                    flux_runtime::table::repeat(&Value::String((*field).into()), &DataType::Utf8, n),
                ));
                let vt = infer_type(&values)?;
                cols.push(("_value".to_owned(), array_of(&vt, values)));
                tables.push(Table::new(&key, cols)?);
            }
        }
    }
    Ok(Value::Stream(Stream::tables(tables)))
}

/// `v1.databases()`: the org's v1 mappings, one row each.
pub(super) fn v1_databases(i: &mut Interp, _: &Args) -> EvalResult<Value> {
    let source =
        i.source.clone().ok_or_else(|| flux_runtime::error::EvalError::invalid("v1.databases: no databases here"))?;
    let list = source.databases()?;
    let text = |f: &dyn Fn(&flux_runtime::DatabaseInfo) -> String| -> Vec<Value> {
        list.iter().map(|d| Value::String(f(d))).collect()
    };
    let columns = vec![
        ("organizationID".to_owned(), array_of(&DataType::Utf8, text(&|d| d.org_id.clone()))),
        ("databaseName".to_owned(), array_of(&DataType::Utf8, text(&|d| d.database.clone()))),
        ("retentionPolicy".to_owned(), array_of(&DataType::Utf8, text(&|d| d.retention_policy.clone()))),
        ("retentionPeriod".to_owned(), array_of(&DataType::Int64, list.iter().map(|d| Value::Int(d.retention_ns)))),
        ("default".to_owned(), array_of(&DataType::Boolean, list.iter().map(|d| Value::Bool(d.default)))),
        ("bucketID".to_owned(), array_of(&DataType::Utf8, text(&|d| d.bucket_id.clone()))),
    ];
    Ok(Value::Stream(Stream::tables(vec![Table::new(&[], columns)?])))
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

/// `events.duration`: how long each row's event lasts — until the next row's
/// time, or for the last row until `stop` (else its `stopColumn`) — in `unit`s.
pub(super) fn events_duration(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let text = |n: &str, default: &str| match a.get(n) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => fail(format!("{n} must be a string, got {}", v.type_name())),
    };
    // One second unless asked (as Flux runs it; its page says 1ns).
    let unit = match a.get("unit") {
        None => 1_000_000_000,
        Some(Value::Duration(d)) if d.months == 0 && d.signed().1 > 0 => d.signed().1,
        Some(v) => return fail(format!("unit must be a positive duration, got {v}")),
    };
    let (column, time_col, stop_col) =
        (text("columnName", "duration")?, text("timeColumn", "_time")?, text("stopColumn", "_stop")?);
    let stop = match a.get("stop") {
        None => None,
        Some(v) => Some(crate::universe::bound(i, v, "stop")?),
    };
    let input = crate::args::stream(a, "tables")?;
    Ok(Value::Stream(Stream::per_table("events.duration", input, move |_, t| {
        let times = flux_runtime::table::times_of(t.need(&time_col)?, &time_col)?;
        let stops = match (stop, t.column(&stop_col)) {
            (Some(_), _) | (None, None) => None,
            (None, Some(c)) => Some(flux_runtime::table::times_of(c, &stop_col)?),
        };
        let mut out = Vec::with_capacity(times.len());
        for (r, at) in times.iter().enumerate() {
            let Some(at) = at else {
                out.push(Value::Null);
                continue;
            };
            let until = match times.get(r + 1) {
                Some(next) => *next,
                None => stop.or_else(|| stops.as_ref().and_then(|s| s[r])),
            };
            let Some(until) = until else {
                return fail(format!("events.duration: the last event has no end: give stop or a {stop_col} column"));
            };
            out.push(Value::Int((until - at) / unit));
        }
        let mut cols = t.columns();
        cols.retain(|(n, _)| *n != column);
        cols.push((column.clone(), array_of(&DataType::Int64, out)));
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    })))
}
