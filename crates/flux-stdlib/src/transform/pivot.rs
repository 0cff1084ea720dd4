//! `pivot`: rows keyed by `rowKey` with a column per distinct `columnKey`
//! value, as Flux names and orders them.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array, new_null_array};
use arrow::datatypes::DataType;

use crate::args::{Def, fail, input, out, str_arg, str_list};
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{GroupKey, Table, arrow_err, cell, repeat, type_label};
use flux_runtime::value::Value;

pub(super) fn install(def: Def<'_>) {
    def("pivot", &["rowKey", "columnKey", "valueColumn"], Some("tables"), pivot);
}

/// A column-key value as pivot names columns with it (Go's formatting of each type).
fn label(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Float(x) => go_exponent(*x),
        v => v.to_string(),
    }
}

/// Go's `strconv.FormatFloat(x, 'E', -1, 64)`: shortest digits, exponent with sign and two digits.
fn go_exponent(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = format!("{x:E}");
    let (mantissa, exp) = s.split_once('E').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mantissa}E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

#[derive(Hash, PartialEq, Eq)]
enum RowId {
    Time(Option<i64>),
    Many(Vec<String>),
}

fn pivot(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let row_key = str_list(a, "rowKey")?.ok_or_else(|| EvalError::invalid("pivot: rowKey is required"))?;
    let column_key = str_list(a, "columnKey")?.ok_or_else(|| EvalError::invalid("pivot: columnKey is required"))?;
    let value_column = str_arg(a, "valueColumn", "_value")?;
    out(Stream::whole("pivot", vec![input(a)?], move |_, mut inputs| {
        // Tables whose keys agree once the column key and value columns leave the key pivot together.
        let mut groups: Vec<(GroupKey, Vec<Table>)> = Vec::new();
        for t in inputs.swap_remove(0) {
            for c in row_key.iter().chain(&column_key).chain([&value_column]) {
                if !t.has(c) {
                    return fail(format!("specified column does not exist in table: {c}"));
                }
            }
            let key = GroupKey(
                t.key.0.iter().filter(|(k, _)| !column_key.contains(k) && *k != value_column).cloned().collect(),
            );
            match groups.iter_mut().find(|(k, _)| k.same_group(&key)) {
                Some((_, ts)) => ts.push(t),
                None => groups.push((key, vec![t])),
            }
        }
        groups
            .into_iter()
            .map(|(key, tables)| pivot_group(key, &tables, &row_key, &column_key, &value_column))
            .collect()
    }))
}

fn pivot_group(
    key: GroupKey,
    tables: &[Table],
    row_key: &[String],
    column_key: &[String],
    value_column: &str,
) -> EvalResult<Table> {
    let first = &tables[0];
    let kept: Vec<(String, DataType)> = first
        .fields()
        .into_iter()
        .filter(|(n, _)| !column_key.contains(n) && n != value_column && (key.contains(n) || row_key.contains(n)))
        .collect();
    if let Some(t) = pivot_aligned(&key, tables, &kept, row_key, column_key, value_column)? {
        return Ok(t);
    }
    // Each new column takes the type of the values that fill it.
    let mut new_types: Vec<DataType> = Vec::new();
    // Every input row is (table, row); the output rows and cells point at them.
    let mut rows: Vec<(u32, u32)> = Vec::new();
    let mut row_index: HashMap<RowId, usize> = HashMap::new();
    let mut new_columns: Vec<String> = Vec::new();
    let mut cells: Vec<Vec<Option<(u32, u32)>>> = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        let value_type = t.need(value_column)?.data_type().clone();
        let row_cols: Vec<&ArrayRef> = row_key.iter().map(|c| t.need(c)).collect::<EvalResult<_>>()?;
        let single_time = match row_cols.as_slice() {
            [c] => c.as_any().downcast_ref::<arrow::array::TimestampNanosecondArray>(),
            _ => None,
        };
        let col_cols: Vec<&ArrayRef> = column_key.iter().map(|c| t.need(c)).collect::<EvalResult<_>>()?;
        let constant_label = column_key
            .iter()
            .map(|c| t.key.get(c).map(label))
            .collect::<Option<Vec<String>>>()
            .map(|parts| parts.join("_"));
        for r in 0..t.num_rows() {
            let id = match single_time {
                Some(times) => RowId::Time(times.is_valid(r).then(|| times.value(r))),
                None => RowId::Many(row_cols.iter().map(|c| label(&cell(c.as_ref(), r))).collect()),
            };
            let out_row = *row_index.entry(id).or_insert_with(|| {
                rows.push((ti as u32, r as u32));
                for c in cells.iter_mut() {
                    c.push(None);
                }
                rows.len() - 1
            });
            let name = match &constant_label {
                Some(l) => l.clone(),
                None => col_cols.iter().map(|c| label(&cell(c.as_ref(), r))).collect::<Vec<_>>().join("_"),
            };
            let col = match new_columns.iter().position(|c| *c == name) {
                Some(c) => c,
                None => {
                    if kept.iter().any(|(k, _)| *k == name) {
                        return fail(format!(
                            "value {name:?} appears in a column key column, but a column named {name:?} already exists; consider renaming {name:?} to something else before pivoting"
                        ));
                    }
                    new_columns.push(name);
                    new_types.push(value_type.clone());
                    cells.push(vec![None; rows.len()]);
                    new_columns.len() - 1
                }
            };
            if new_types[col] != value_type {
                return fail(format!(
                    "pivot: column {:?} would hold both {} and {} values",
                    new_columns[col],
                    type_label(&new_types[col]),
                    type_label(&value_type)
                ));
            }
            cells[col][out_row] = Some((ti as u32, r as u32));
        }
    }
    // Concatenate each source column once, then take rows from it.
    let offsets: Vec<u32> = tables
        .iter()
        .scan(0u32, |acc, t| {
            let o = *acc;
            *acc += t.num_rows() as u32;
            Some(o)
        })
        .collect();
    let gather =
        |name: &str, dt: &DataType, picks: &mut dyn Iterator<Item = Option<(u32, u32)>>| -> EvalResult<ArrayRef> {
            let parts: Vec<ArrayRef> = tables
                .iter()
                .map(|t| {
                    t.column(name)
                        .filter(|c| c.data_type() == dt)
                        .cloned()
                        .unwrap_or_else(|| new_null_array(dt, t.num_rows()))
                })
                .collect();
            let refs: Vec<&dyn Array> = parts.iter().map(|p| p.as_ref()).collect();
            let all = arrow::compute::concat(&refs).map_err(arrow_err)?;
            let idx: UInt32Array = picks.map(|p| p.map(|(t, r)| offsets[t as usize] + r)).collect();
            arrow::compute::take(all.as_ref(), &idx, None).map_err(arrow_err)
        };
    let mut columns = Vec::with_capacity(kept.len() + new_columns.len());
    for (n, dt) in &kept {
        columns.push((n.clone(), gather(n, dt, &mut rows.iter().map(|r| Some(*r)))?));
    }
    for ((n, picks), dt) in new_columns.iter().zip(cells).zip(&new_types) {
        // Tables whose values are of another type give nulls in this column.
        let typed: Vec<Option<(u32, u32)>> = picks
            .into_iter()
            .map(|p| p.filter(|(t, _)| tables[*t as usize].column(value_column).is_some_and(|c| c.data_type() == dt)))
            .collect();
        columns.push((n.clone(), gather(value_column, dt, &mut typed.into_iter())?));
    }
    Table::with_key(key, columns)
}

/// Pivot's common case, column by column: one time row key with the same
/// times, distinct and ascending, in every table (as the fields of one
/// series read from storage have), and a column key constant in each table.
fn pivot_aligned(
    key: &GroupKey,
    tables: &[Table],
    kept: &[(String, DataType)],
    row_key: &[String],
    column_key: &[String],
    value_column: &str,
) -> EvalResult<Option<Table>> {
    let [time_col] = row_key else { return Ok(None) };
    let times_of = |t: &Table| {
        t.column(time_col).and_then(|c| c.as_any().downcast_ref::<arrow::array::TimestampNanosecondArray>().cloned())
    };
    let Some(times) = times_of(&tables[0]) else { return Ok(None) };
    if times.null_count() > 0 || times.values().windows(2).any(|w| w[0] >= w[1]) {
        return Ok(None);
    }
    let mut labels: Vec<String> = Vec::with_capacity(tables.len());
    for t in tables {
        let same = times_of(t).is_some_and(|x| x.null_count() == 0 && x.values() == times.values());
        let label = column_key.iter().map(|c| t.key.get(c).map(label)).collect::<Option<Vec<String>>>();
        match (same, label) {
            (true, Some(parts)) => {
                let l = parts.join("_");
                if labels.contains(&l) || kept.iter().any(|(k, _)| *k == l) {
                    return Ok(None);
                }
                labels.push(l);
            }
            _ => return Ok(None),
        }
    }
    let n = times.len();
    let mut columns: Vec<(String, ArrayRef)> = Vec::with_capacity(kept.len() + tables.len());
    for (name, dt) in kept {
        let c = match key.get(name) {
            Some(v) => repeat(v, dt, n),
            None => Arc::clone(tables[0].need(name)?),
        };
        columns.push((name.clone(), c));
    }
    for (t, l) in tables.iter().zip(labels) {
        columns.push((l, Arc::clone(t.need(value_column)?)));
    }
    Ok(Some(Table::with_key(key.clone(), columns)?))
}
