//! The `join` package: `join.tables` and its shorthands (`inner`, `left`,
//! `right`, `full`, `time`). Tables of the two streams pair up by group key;
//! within a pair, rows match where every `l.a == r.b` of the `on` predicate
//! holds, and `as` makes each output row from the matched records (a record
//! missing on one side of an outer join is a default record: group key values,
//! every other column null). Rows come out in order of the join columns.

use std::cmp::Ordering;
use std::rc::Rc;

use arrow::datatypes::DataType;

use crate::args::builtin;
use crate::args::{fail, package, stream};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, cmp_values, infer_type};
use flux_runtime::value::{Function, Record, Value};
use flux_syntax::ast::{Expression, FunctionBody, PropertyKey};

pub(super) fn package_value() -> Value {
    package(vec![
        ("tables", builtin("tables", &["right", "on", "as", "method"], Some("left"), tables)),
        ("inner", builtin("inner", &["right", "on", "as"], Some("left"), |i, a| shorthand(i, a, "inner"))),
        ("left", builtin("left", &["right", "on", "as"], Some("left"), |i, a| shorthand(i, a, "left"))),
        ("right", builtin("right", &["right", "on", "as"], Some("left"), |i, a| shorthand(i, a, "right"))),
        ("full", builtin("full", &["right", "on", "as"], Some("left"), |i, a| shorthand(i, a, "full"))),
        ("time", builtin("time", &["right", "as", "method"], Some("left"), time)),
    ])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Inner,
    Left,
    Right,
    Full,
}

impl Method {
    fn parse(s: &str) -> EvalResult<Method> {
        Ok(match s {
            "inner" => Method::Inner,
            "left" => Method::Left,
            "right" => Method::Right,
            "full" => Method::Full,
            m => return fail(format!("invalid join method {m:?}: use inner, left, right or full")),
        })
    }

    fn keeps_left(self) -> bool {
        matches!(self, Method::Left | Method::Full)
    }

    fn keeps_right(self) -> bool {
        matches!(self, Method::Right | Method::Full)
    }
}

fn shorthand(i: &mut Interp, a: &Args, method: &str) -> EvalResult<Value> {
    let mut args = a.clone();
    args.named.insert("method".into(), Value::String(method.to_owned()));
    tables(i, &args)
}

/// `join.time`: joined on `_time`.
fn time(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let method = match a.get("method") {
        Some(Value::String(m)) => Method::parse(m)?,
        None => Method::Inner,
        Some(v) => return fail(format!("join.time: method must be a string, got {}", v.type_name())),
    };
    join(a, vec![("_time".to_owned(), "_time".to_owned())], method)
}

fn tables(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let method = match a.required("method")? {
        Value::String(m) => Method::parse(m)?,
        v => return fail(format!("join.tables: method must be a string, got {}", v.type_name())),
    };
    let on = columns_of(a.required("on")?)?;
    join(a, on, method)
}

/// The column pairs of an `on` predicate `(l, r) => l.a == r.b and ...`.
fn columns_of(on: &Value) -> EvalResult<Vec<(String, String)>> {
    let wrong = || fail("join: on must be a function whose body compares properties of l and r with == joined by and");
    let Value::Function(f) = on else { return wrong() };
    let Function::Closure { params, body, .. } = f.as_ref() else { return wrong() };
    let [l, r] = params.as_slice() else { return wrong() };
    let FunctionBody::Expression(e) = body.as_ref() else { return wrong() };
    let mut pairs = Vec::new();
    if !collect_pairs(e, &l.name, &r.name, &mut pairs) {
        return wrong();
    }
    Ok(pairs)
}

fn collect_pairs(e: &Expression, l: &str, r: &str, out: &mut Vec<(String, String)>) -> bool {
    let member = |e: &Expression| -> Option<(String, String)> {
        let Expression::MemberExpression(m) = e else { return None };
        let Expression::Identifier(obj) = m.object.as_ref() else { return None };
        let prop = match &m.property {
            PropertyKey::Identifier(id) => id.name.clone(),
            PropertyKey::StringLiteral(s) => s.value.clone(),
        };
        Some((obj.name.clone(), prop))
    };
    match e {
        Expression::ParenExpression { expression, .. } => collect_pairs(expression, l, r, out),
        Expression::LogicalExpression { operator, left, right, .. } if operator == "and" => {
            collect_pairs(left, l, r, out) && collect_pairs(right, l, r, out)
        }
        Expression::BinaryExpression { operator, left, right, .. } if operator == "==" => {
            match (member(left), member(right)) {
                (Some((a, x)), Some((b, y))) if a == l && b == r => out.push((x, y)),
                (Some((a, x)), Some((b, y))) if a == r && b == l => out.push((y, x)),
                _ => return false,
            }
            true
        }
        _ => false,
    }
}

fn join(a: &Args, on: Vec<(String, String)>, method: Method) -> EvalResult<Value> {
    let left = stream(a, "left")?;
    let right = stream(a, "right")?;
    let make = a.required("as")?.clone();
    let on = Rc::new(on);
    Ok(Value::Stream(Stream::whole("join", vec![left, right], move |i, mut inputs| {
        let right = inputs.pop().unwrap_or_default();
        let left = inputs.pop().unwrap_or_default();
        let mut used = vec![false; right.len()];
        let mut out: Vec<(Table, Vec<String>)> = Vec::new();
        for l in &left {
            let partner = right.iter().enumerate().position(|(j, r)| !used[j] && r.key.same_group(&l.key));
            if let Some(j) = partner {
                used[j] = true;
            }
            if partner.is_some() || method.keeps_left() {
                out.extend(join_pair(i, Some(l), partner.map(|j| &right[j]), &on, &make, method)?);
            }
        }
        if method.keeps_right() {
            for (j, r) in right.iter().enumerate() {
                if !used[j] {
                    out.extend(join_pair(i, None, Some(r), &on, &make, method)?);
                }
            }
        }
        type_untyped_columns(out)
    })))
}

/// A table's rows with their join-column values (`None` where one is null: it matches nothing).
fn keyed(t: &Table, cols: impl Iterator<Item = String> + Clone) -> Vec<(Option<Vec<Value>>, usize)> {
    let columns: Vec<Option<arrow::array::ArrayRef>> = cols.map(|c| t.column(&c).cloned()).collect();
    let mut rows: Vec<(Option<Vec<Value>>, usize)> = (0..t.num_rows())
        .map(|i| {
            let values: Option<Vec<Value>> = columns
                .iter()
                .map(|c| {
                    c.as_ref().map(|c| flux_runtime::table::cell(c.as_ref(), i)).filter(|v| !matches!(v, Value::Null))
                })
                .collect();
            (values, i)
        })
        .collect();
    rows.sort_by(|a, b| cmp_keys(a.0.as_deref(), b.0.as_deref()));
    rows
}

fn cmp_keys(a: Option<&[Value]>, b: Option<&[Value]>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.iter().zip(b).map(|(x, y)| cmp_values(x, y)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
        }
        (None, None) => Ordering::Equal,
        // Rows with a null join value come last.
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    }
}

/// The record standing in for a missing row: `t`'s group key values, every other column null.
fn default_record(t: Option<&Table>, other: Option<&Table>) -> Value {
    let Some(t) = t.or(other) else { return Value::record(std::iter::empty()) };
    let mut r = Record::default();
    for (name, _) in t.fields() {
        let v = t.key.get(&name).cloned().unwrap_or(Value::Null);
        r.insert(name, v);
    }
    Value::Record(Rc::new(r))
}

fn join_pair(
    i: &mut Interp,
    left: Option<&Table>,
    right: Option<&Table>,
    on: &[(String, String)],
    make: &Value,
    method: Method,
) -> EvalResult<Vec<(Table, Vec<String>)>> {
    let lrows = left.map(|t| keyed(t, on.iter().map(|(l, _)| l.clone()))).unwrap_or_default();
    let rrows = right.map(|t| keyed(t, on.iter().map(|(_, r)| r.clone()))).unwrap_or_default();
    let (l_default, r_default) = (default_record(left, right), default_record(right, left));
    let call = |i: &mut Interp, l: Value, r: Value| -> EvalResult<Record> {
        let mut args = Args::default();
        args.named.insert("l".into(), l);
        args.named.insert("r".into(), r);
        match i.call(make, args)? {
            Value::Record(rec) => Ok((*rec).clone()),
            v => fail(format!("join: as must return a record, got {}", v.type_name())),
        }
    };
    let row = |t: Option<&Table>, i: usize| t.map(|t| t.row(i)).unwrap_or(Value::Null);
    let mut out: Vec<Record> = Vec::new();
    let (mut a, mut b) = (0, 0);
    while a < lrows.len() || b < rrows.len() {
        let order = match (lrows.get(a), rrows.get(b)) {
            (Some(x), Some(y)) if x.0.is_some() && y.0.is_some() => cmp_keys(x.0.as_deref(), y.0.as_deref()),
            (Some(x), _) if x.0.is_some() || b >= rrows.len() => Ordering::Less,
            (Some(_), Some(_)) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                if method.keeps_left() {
                    out.push(call(i, row(left, lrows[a].1), r_default.clone())?);
                }
                a += 1;
            }
            Ordering::Greater => {
                if method.keeps_right() {
                    out.push(call(i, l_default.clone(), row(right, rrows[b].1))?);
                }
                b += 1;
            }
            Ordering::Equal => {
                let a_end = a + lrows[a..]
                    .iter()
                    .take_while(|x| cmp_keys(x.0.as_deref(), lrows[a].0.as_deref()).is_eq())
                    .count();
                let b_end = b + rrows[b..]
                    .iter()
                    .take_while(|y| cmp_keys(y.0.as_deref(), rrows[b].0.as_deref()).is_eq())
                    .count();
                for x in &lrows[a..a_end] {
                    for y in &rrows[b..b_end] {
                        out.push(call(i, row(left, x.1), row(right, y.1))?);
                    }
                }
                a = a_end;
                b = b_end;
            }
        }
    }
    // A pair always has one table at least; with none there is nothing to make.
    let Some(template) = left.or(right) else { return Ok(Vec::new()) };
    tables_of(&out, template, left, right)
}

/// Columns that came out all null from a table pair where no input column
/// gave their type (a full join's missing side) take the type the same
/// column has in the other output tables, as Flux types them from the join's
/// schema.
fn type_untyped_columns(out: Vec<(Table, Vec<String>)>) -> EvalResult<Vec<Table>> {
    let mut types: Vec<(String, DataType)> = Vec::new();
    for (t, untyped) in &out {
        for (name, dt) in t.fields() {
            if !untyped.contains(&name) && !types.iter().any(|(n, _)| *n == name) {
                types.push((name, dt));
            }
        }
    }
    out.into_iter()
        .map(|(t, untyped)| {
            if untyped.is_empty() {
                return Ok(t);
            }
            let n = t.num_rows();
            let columns = t
                .columns()
                .into_iter()
                .map(|(name, c)| match types.iter().find(|(k, _)| untyped.contains(k) && *k == name) {
                    Some((_, dt)) => (name, arrow::array::new_null_array(dt, n)),
                    None => (name, c),
                })
                .collect();
            Table::with_key(t.key.clone(), columns)
        })
        .collect()
}

/// The output records as tables, grouped by the input's key columns they
/// carry, with the names of the columns whose type nothing gave.
fn tables_of(
    rows: &[Record],
    template: &Table,
    left: Option<&Table>,
    right: Option<&Table>,
) -> EvalResult<Vec<(Table, Vec<String>)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !names.iter().any(|n| n == k) {
                names.push(k.to_owned());
            }
        }
    }
    let mut types: Vec<(String, DataType)> = Vec::new();
    let mut untyped = Vec::new();
    for n in &names {
        let values: Vec<Value> = rows.iter().map(|r| r.get(n).cloned().unwrap_or(Value::Null)).collect();
        let dt = if values.iter().all(|v| matches!(v, Value::Null)) {
            match left.and_then(|t| t.column(n)).or_else(|| right.and_then(|t| t.column(n))) {
                Some(c) => c.data_type().clone(),
                None => {
                    untyped.push(n.clone());
                    infer_type(&values)?
                }
            }
        } else {
            infer_type(&values)?
        };
        types.push((n.clone(), dt));
    }
    let key_cols: Vec<String> =
        template.key.names().filter(|k| names.iter().any(|n| n == k)).map(str::to_owned).collect();
    let tables = crate::transform::tables_from_records(rows, &types, &key_cols)?;
    Ok(tables.into_iter().map(|t| (t, untyped.clone())).collect())
}
