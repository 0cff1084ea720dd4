//! Functions of a row (`fn: (r) => ...`) applied to whole tables.

use arrow::array::BooleanArray;

use crate::interp::{Args, EvalError, EvalResult, Interp};
use crate::table::Table;
use crate::value::Value;

/// The parameter name a row function takes its record by (`r` by convention).
fn row_param(f: &Value) -> String {
    if let Value::Function(func) = f
        && let crate::value::Function::Closure { params, .. } = func.as_ref()
        && let Some(p) = params.iter().find(|p| p.default.is_none())
    {
        return p.name.clone();
    }
    "r".to_owned()
}

/// Calls `f` with row `row` of `t` as its record parameter, plus `extra` arguments.
pub(crate) fn call_row(
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

/// `fn: (r) => bool` over every row: which rows it keeps (null is false).
pub(crate) fn predicate(i: &mut Interp, f: &Value, t: &Table) -> EvalResult<BooleanArray> {
    let param = row_param(f);
    let mut keep = Vec::with_capacity(t.num_rows());
    for row in 0..t.num_rows() {
        match call_row(i, f, &param, t, row, &[])? {
            Value::Bool(b) => keep.push(b),
            Value::Null => keep.push(false),
            v => {
                return Err(EvalError {
                    message: format!("expected the function to return a bool, got {}", v.type_name()),
                });
            }
        }
    }
    Ok(BooleanArray::from(keep))
}

/// `fn: (r) => record` over every row: the records it returns.
pub(crate) fn records(i: &mut Interp, f: &Value, t: &Table) -> EvalResult<Vec<std::rc::Rc<crate::value::Record>>> {
    let param = row_param(f);
    let mut out = Vec::with_capacity(t.num_rows());
    for row in 0..t.num_rows() {
        match call_row(i, f, &param, t, row, &[])? {
            Value::Record(r) => out.push(r),
            v => {
                return Err(EvalError {
                    message: format!("expected the function to return a record, got {}", v.type_name()),
                });
            }
        }
    }
    Ok(out)
}
