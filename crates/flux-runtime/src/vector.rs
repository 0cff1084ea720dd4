//! Functions of a row (`fn: (r) => ...`) applied to whole tables.
//!
//! The common shapes — comparisons, arithmetic, `and`/`or`/`not`, `exists`,
//! `if`, regex matches and records of those over the row's columns and
//! constants — are compiled to Arrow kernels and run a column at a time, with
//! Flux's null rules (a comparison with null is null; `and`/`or` are
//! three-valued). Anything else runs the function row by row.

use std::rc::Rc;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use arrow::compute::kernels::cmp;
use arrow::compute::kernels::numeric;
use arrow::datatypes::DataType;

use crate::error::{EvalError, EvalResult};
use crate::interp::{Args, Interp, Scope};
use crate::table::{GroupKey, Table, repeat, type_of_value};
use crate::value::{Function, Value};
use flux_syntax::ast::{Expression, FunctionBody, PropertyKey};

/// The parameter name a row function takes its record by (`r` by convention).
fn row_param(f: &Value) -> String {
    if let Value::Function(func) = f
        && let Function::Closure { params, .. } = func.as_ref()
        && let Some(p) = params.iter().find(|p| p.default.is_none())
    {
        return p.name.clone();
    }
    "r".to_owned()
}

/// Calls `f` with row `row` of `t` as its record parameter, plus `extra` arguments.
pub fn call_row(
    i: &mut Interp,
    f: &Value,
    param: &str,
    t: &Table,
    row: usize,
    extra: &[(&str, Value)],
) -> EvalResult<Value> {
    let mut args = Args::default();
    args.named.insert(param.to_owned(), t.row(row));
    for (k, v) in extra {
        args.named.insert((*k).to_owned(), v.clone());
    }
    i.call(f, args)
}

/// A row function's body compiled to column operations.
#[derive(Debug)]
enum Vx {
    Column(String),
    Const(Value),
    Compare(String, Box<Vx>, Box<Vx>),
    Arith(String, Box<Vx>, Box<Vx>),
    And(Box<Vx>, Box<Vx>),
    Or(Box<Vx>, Box<Vx>),
    Not(Box<Vx>),
    Neg(Box<Vx>),
    Exists(String),
    Match(bool, Box<Vx>, Rc<regex::Regex>),
    If(Box<Vx>, Box<Vx>, Box<Vx>),
}

/// What a compiled expression gives: a column, or one value for every row.
enum Datum {
    Array(ArrayRef),
    Scalar(Value),
}

struct Compiler<'a> {
    param: &'a str,
    scope: &'a Scope,
}

impl Compiler<'_> {
    fn compile(&self, i: &mut Interp, e: &Expression) -> Option<Vx> {
        Some(match e {
            Expression::ParenExpression { expression, .. } => return self.compile(i, expression),
            Expression::MemberExpression(m) => match m.object.as_ref() {
                Expression::Identifier(id) if id.name == self.param => Vx::Column(match &m.property {
                    PropertyKey::Identifier(p) => p.name.clone(),
                    PropertyKey::StringLiteral(s) => s.value.clone(),
                }),
                _ => self.constant(i, e)?,
            },
            Expression::Identifier(id) if id.name == self.param => return None,
            Expression::BinaryExpression { operator, left, right, .. } => {
                let (l, r) = (self.compile(i, left)?, self.compile(i, right)?);
                match operator.as_str() {
                    "==" | "!=" | "<" | "<=" | ">" | ">=" => Vx::Compare(operator.clone(), Box::new(l), Box::new(r)),
                    "+" | "-" | "*" | "/" | "%" => Vx::Arith(operator.clone(), Box::new(l), Box::new(r)),
                    "=~" | "!~" => match r {
                        Vx::Const(Value::Regex(re)) => Vx::Match(operator == "=~", Box::new(l), re),
                        _ => return None,
                    },
                    _ => return None,
                }
            }
            Expression::LogicalExpression { operator, left, right, .. } => {
                let (l, r) = (Box::new(self.compile(i, left)?), Box::new(self.compile(i, right)?));
                if operator == "and" { Vx::And(l, r) } else { Vx::Or(l, r) }
            }
            Expression::UnaryExpression { operator, argument, .. } => match operator.as_str() {
                "not" => Vx::Not(Box::new(self.compile(i, argument)?)),
                "-" => Vx::Neg(Box::new(self.compile(i, argument)?)),
                "exists" => match self.compile(i, argument)? {
                    Vx::Column(c) => Vx::Exists(c),
                    Vx::Const(v) => Vx::Const(Value::Bool(!matches!(v, Value::Null))),
                    _ => return None,
                },
                _ => return None,
            },
            Expression::ConditionalExpression { test, consequent, alternate, .. } => Vx::If(
                Box::new(self.compile(i, test)?),
                Box::new(self.compile(i, consequent)?),
                Box::new(self.compile(i, alternate)?),
            ),
            Expression::FunctionExpression { .. }
            | Expression::CallExpression(_)
            | Expression::PipeExpression { .. }
            | Expression::ObjectExpression { .. }
            | Expression::ArrayExpression { .. }
            | Expression::DictExpression { .. }
            | Expression::IndexExpression { .. }
            | Expression::StringExpression { .. } => return None,
            _ => self.constant(i, e)?,
        })
    }

    /// An expression that does not read the row: its value, when it is one a column can hold.
    fn constant(&self, i: &mut Interp, e: &Expression) -> Option<Vx> {
        let v = i.eval(self.scope, e).ok()?;
        match v {
            Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::UInt(_)
            | Value::Float(_)
            | Value::String(_)
            | Value::Time(_)
            | Value::Regex(_) => Some(Vx::Const(v)),
            _ => None,
        }
    }
}

/// A mask with null as false.
/// An Arrow kernel's refusal while evaluating the program's own expression
/// over columns (types that do not go together): the program's error.
fn expression_err(e: arrow::error::ArrowError) -> EvalError {
    EvalError::invalid(e.to_string())
}

fn nulls_false(b: &BooleanArray) -> BooleanArray {
    if b.null_count() == 0 { b.clone() } else { arrow::compute::prep_null_mask_filter(b) }
}

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message.into()))
}

/// Both sides as arrays of one type for a comparison (ints widen to floats against floats).
fn comparable(l: ArrayRef, r: ArrayRef) -> EvalResult<(ArrayRef, ArrayRef)> {
    let (lt, rt) = (l.data_type().clone(), r.data_type().clone());
    if lt == rt {
        return Ok((l, r));
    }
    let numeric = |t: &DataType| matches!(t, DataType::Int64 | DataType::UInt64 | DataType::Float64);
    if numeric(&lt) && numeric(&rt) {
        let f = |a: ArrayRef| arrow::compute::cast(&a, &DataType::Float64).map_err(expression_err);
        return Ok((f(l)?, f(r)?));
    }
    fail(format!("cannot compare {} with {}", crate::table::type_label(&lt), crate::table::type_label(&rt)))
}

fn as_bool(d: &Datum, n: usize) -> EvalResult<BooleanArray> {
    match d {
        Datum::Array(a) => a.as_any().downcast_ref::<BooleanArray>().cloned().ok_or_else(|| {
            EvalError::invalid(format!("expected a bool, got {}", crate::table::type_label(a.data_type())))
        }),
        Datum::Scalar(Value::Bool(b)) => Ok(BooleanArray::from(vec![*b; n])),
        Datum::Scalar(Value::Null) => Ok(BooleanArray::new_null(n)),
        Datum::Scalar(v) => fail(format!("expected a bool, got {}", v.type_name())),
    }
}

fn to_array(d: Datum, n: usize) -> Option<ArrayRef> {
    match d {
        Datum::Array(a) => Some(a),
        Datum::Scalar(v) => type_of_value(&v).map(|t| repeat(&v, &t, n)),
    }
}

fn eval(x: &Vx, t: &Table) -> EvalResult<Datum> {
    let n = t.num_rows();
    Ok(match x {
        Vx::Column(c) => match t.column(c) {
            Some(a) => Datum::Array(Arc::clone(a)),
            // A column the table lacks reads as null.
            None => Datum::Scalar(Value::Null),
        },
        Vx::Const(v) => Datum::Scalar(v.clone()),
        Vx::Exists(c) => match t.column(c) {
            Some(a) => Datum::Array(Arc::new(arrow::compute::is_not_null(a.as_ref()).map_err(expression_err)?)),
            None => Datum::Scalar(Value::Bool(false)),
        },
        Vx::Compare(op, l, r) => {
            let (l, r) = (eval(l, t)?, eval(r, t)?);
            if let (Datum::Scalar(a), Datum::Scalar(b)) = (&l, &r) {
                return Ok(Datum::Scalar(crate::ops::binary(op, a.clone(), b.clone())?));
            }
            let (Some(la), Some(ra)) = (to_array(l, n), to_array(r, n)) else {
                // A comparison with null is null.
                return Ok(Datum::Scalar(Value::Null));
            };
            let (la, ra) = comparable(la, ra)?;
            let out = match op.as_str() {
                "==" => cmp::eq(&la, &ra),
                "!=" => cmp::neq(&la, &ra),
                "<" => cmp::lt(&la, &ra),
                "<=" => cmp::lt_eq(&la, &ra),
                ">" => cmp::gt(&la, &ra),
                _ => cmp::gt_eq(&la, &ra),
            }
            .map_err(expression_err)?;
            Datum::Array(Arc::new(out))
        }
        Vx::Arith(op, l, r) => {
            let (l, r) = (eval(l, t)?, eval(r, t)?);
            if let (Datum::Scalar(a), Datum::Scalar(b)) = (&l, &r) {
                return Ok(Datum::Scalar(crate::ops::binary(op, a.clone(), b.clone())?));
            }
            let (Some(la), Some(ra)) = (to_array(l, n), to_array(r, n)) else {
                return Ok(Datum::Scalar(Value::Null));
            };
            if la.data_type() != ra.data_type() {
                return fail(format!(
                    "invalid binary operator {op} for types {} and {}",
                    crate::table::type_label(la.data_type()),
                    crate::table::type_label(ra.data_type())
                ));
            }
            if !matches!(la.data_type(), DataType::Int64 | DataType::UInt64 | DataType::Float64) {
                // Strings concatenate, times add durations: the row path knows those.
                return fail("unsupported");
            }
            let out = match op.as_str() {
                "+" => numeric::add_wrapping(&la, &ra),
                "-" => numeric::sub_wrapping(&la, &ra),
                "*" => numeric::mul_wrapping(&la, &ra),
                "/" => numeric::div(&la, &ra),
                _ => numeric::rem(&la, &ra),
            }
            .map_err(|e| match e {
                arrow::error::ArrowError::DivideByZero => EvalError::invalid("cannot divide by zero"),
                e => expression_err(e),
            })?;
            Datum::Array(out)
        }
        Vx::And(l, r) => {
            let (l, r) = (as_bool(&eval(l, t)?, n)?, as_bool(&eval(r, t)?, n)?);
            Datum::Array(Arc::new(arrow::compute::and_kleene(&l, &r).map_err(expression_err)?))
        }
        Vx::Or(l, r) => {
            let (l, r) = (as_bool(&eval(l, t)?, n)?, as_bool(&eval(r, t)?, n)?);
            Datum::Array(Arc::new(arrow::compute::or_kleene(&l, &r).map_err(expression_err)?))
        }
        Vx::Not(x) => {
            let b = as_bool(&eval(x, t)?, n)?;
            Datum::Array(Arc::new(arrow::compute::not(&b).map_err(expression_err)?))
        }
        Vx::Neg(x) => match eval(x, t)? {
            Datum::Scalar(v) => {
                Datum::Scalar(crate::ops::binary("-", Value::Int(0), v).or_else(|_| fail("unsupported"))?)
            }
            Datum::Array(a) => Datum::Array(numeric::neg_wrapping(a.as_ref()).map_err(expression_err)?),
        },
        Vx::Match(positive, x, re) => match eval(x, t)? {
            Datum::Scalar(v) => {
                Datum::Scalar(crate::ops::binary(if *positive { "=~" } else { "!~" }, v, Value::Regex(Rc::clone(re)))?)
            }
            Datum::Array(a) => {
                let Some(s) = a.as_any().downcast_ref::<StringArray>() else {
                    return fail("a regular expression matches strings");
                };
                let out: BooleanArray = s.iter().map(|v| v.map(|v| re.is_match(v) == *positive)).collect();
                Datum::Array(Arc::new(out))
            }
        },
        Vx::If(c, a, b) => {
            // A null test takes the else branch.
            let mask = as_bool(&eval(c, t)?, n)?;
            let mask = nulls_false(&mask);
            let (Some(a), Some(b)) = (to_array(eval(a, t)?, n), to_array(eval(b, t)?, n)) else {
                return fail("unsupported");
            };
            if a.data_type() != b.data_type() {
                return fail("unsupported");
            }
            Datum::Array(arrow::compute::kernels::zip::zip(&mask, &a, &b).map_err(expression_err)?)
        }
    })
}

/// The closure's compiled body, if every part of it compiles.
fn compiled(i: &mut Interp, f: &Value) -> Option<(Vx, String)> {
    let Value::Function(func) = f else { return None };
    let Function::Closure { body, scope, .. } = func.as_ref() else { return None };
    let FunctionBody::Expression(e) = body.as_ref() else { return None };
    let param = row_param(f);
    let c = Compiler { param: &param, scope };
    let x = c.compile(i, e)?;
    Some((x, param))
}

/// `fn: (r) => bool` over every row: which rows it keeps (null is false).
pub fn predicate(i: &mut Interp, f: &Value, t: &Table) -> EvalResult<BooleanArray> {
    if let Some((x, _)) = compiled(i, f)
        && let Ok(d) = eval(&x, t)
        && let Ok(b) = as_bool(&d, t.num_rows())
    {
        return Ok(nulls_false(&b));
    }
    let param = row_param(f);
    let mut keep = Vec::with_capacity(t.num_rows());
    for row in 0..t.num_rows() {
        match call_row(i, f, &param, t, row, &[])? {
            Value::Bool(b) => keep.push(b),
            Value::Null => keep.push(false),
            v => {
                return fail(format!("expected the function to return a bool, got {}", v.type_name()));
            }
        }
    }
    Ok(BooleanArray::from(keep))
}

/// `fn: (r) => ({...})` compiled for a table: its output table, or `None`
/// when the function needs the row-by-row path (it changes key columns,
/// yields a null of unknown type, or is not compilable).
/// Whether the nulls a row function gives for property `name` are untyped: the
/// property reads a column `t` lacks (or the function is not a record literal,
/// whose properties cannot be told apart).
pub fn untyped_property(f: &Value, name: &str, t: &Table) -> bool {
    let Value::Function(func) = f else { return true };
    let Function::Closure { body, .. } = func.as_ref() else { return true };
    let FunctionBody::Expression(e) = body.as_ref() else { return true };
    let mut e: &Expression = e.as_ref();
    while let Expression::ParenExpression { expression, .. } = e {
        e = expression;
    }
    let Expression::ObjectExpression { properties, .. } = e else { return true };
    let param = row_param(f);
    properties
        .iter()
        .filter(|p| match &p.key {
            PropertyKey::Identifier(id) => id.name == name,
            PropertyKey::StringLiteral(s) => s.value == name,
        })
        .any(|p| p.value.as_ref().is_none_or(|v| reads_missing_column(v, &param, t) || is_null_literal(v)))
}

fn is_null_literal(e: &Expression) -> bool {
    matches!(e, Expression::Identifier(id) if id.name == "null")
}

/// Whether an expression reads `param.<column>` for a column `t` lacks.
fn reads_missing_column(e: &Expression, param: &str, t: &Table) -> bool {
    let go = |e: &Expression| reads_missing_column(e, param, t);
    match e {
        Expression::MemberExpression(m) => match (m.object.as_ref(), &m.property) {
            (Expression::Identifier(id), PropertyKey::Identifier(col)) if id.name == param => !t.has(&col.name),
            (Expression::Identifier(id), PropertyKey::StringLiteral(col)) if id.name == param => !t.has(&col.value),
            (object, _) => go(object),
        },
        Expression::IndexExpression { array, index, .. } => go(array) || go(index),
        Expression::BinaryExpression { left, right, .. } | Expression::LogicalExpression { left, right, .. } => {
            go(left) || go(right)
        }
        Expression::UnaryExpression { argument, .. } => go(argument),
        Expression::ParenExpression { expression, .. } => go(expression),
        Expression::ConditionalExpression { test, consequent, alternate, .. } => {
            go(test) || go(consequent) || go(alternate)
        }
        Expression::CallExpression(c) => c.arguments.iter().any(go),
        Expression::ObjectExpression { properties, .. } => properties.iter().filter_map(|p| p.value.as_ref()).any(go),
        _ => false,
    }
}

pub fn map_table(i: &mut Interp, f: &Value, t: &Table) -> Option<Table> {
    let Value::Function(func) = f else { return None };
    let Function::Closure { body, scope, .. } = func.as_ref() else { return None };
    let FunctionBody::Expression(e) = body.as_ref() else { return None };
    let e: &Expression = match e.as_ref() {
        Expression::ParenExpression { expression, .. } => expression.as_ref(),
        e => e,
    };
    let Expression::ObjectExpression { with, properties, .. } = e else { return None };
    let param = row_param(f);
    let c = Compiler { param: &param, scope };
    let extends = match with {
        Some(w) if w.source.name == param => true,
        Some(_) => return None,
        None => false,
    };
    let n = t.num_rows();
    let mut columns: Vec<(String, ArrayRef)> = if extends { t.columns() } else { Vec::new() };
    let mut key = t.key.clone();
    let mut kept_keys: Vec<String> = if extends { t.key.names().map(str::to_owned).collect() } else { Vec::new() };
    for p in properties {
        let name = match &p.key {
            PropertyKey::Identifier(id) => id.name.clone(),
            PropertyKey::StringLiteral(s) => s.value.clone(),
        };
        let x = match &p.value {
            Some(v) => c.compile(i, v)?,
            None => return None,
        };
        // A key column may only come through unchanged.
        if t.key.contains(&name) {
            match &x {
                Vx::Column(src) if *src == name => {
                    if !kept_keys.contains(&name) {
                        kept_keys.push(name.clone());
                    }
                }
                _ => return None,
            }
        }
        let arr = match eval(&x, t).ok()? {
            Datum::Array(a) => a,
            Datum::Scalar(Value::Null) => return None,
            Datum::Scalar(v) => repeat(&v, &type_of_value(&v)?, n),
        };
        if arr.data_type() == &DataType::Null {
            return None;
        }
        // Nothing but nulls that come from reading a column the table does not
        // have are untyped: Flux makes no column of them.
        if arr.null_count() == arr.len()
            && let Some(v) = &p.value
            && reads_missing_column(v, &param, t)
        {
            continue;
        }
        match columns.iter_mut().find(|(c, _)| *c == name) {
            Some(slot) => slot.1 = arr,
            None => columns.push((name, arr)),
        }
    }
    if extends {
        // A record made with `with` lists its properties by name.
        columns.sort_by(|a, b| a.0.cmp(&b.0));
    }
    key.0.retain(|(k, _)| kept_keys.contains(k));
    Table::with_key(GroupKey(key.0), columns).ok()
}

/// `fn: (r) => record` over every row: the records it returns.
pub fn records(i: &mut Interp, f: &Value, t: &Table) -> EvalResult<Vec<Rc<crate::value::Record>>> {
    let param = row_param(f);
    let mut out = Vec::with_capacity(t.num_rows());
    for row in 0..t.num_rows() {
        match call_row(i, f, &param, t, row, &[])? {
            Value::Record(r) => out.push(r),
            v => return fail(format!("expected the function to return a record, got {}", v.type_name())),
        }
    }
    Ok(out)
}
