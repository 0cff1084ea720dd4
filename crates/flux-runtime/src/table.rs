//! Tables: an Arrow record batch plus its group key (the columns whose value is
//! the same on every row, and those values — kept even when the table is empty).

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Float64Array, Float64Builder, Int64Array, Int64Builder, StringArray,
    StringBuilder, TimestampNanosecondArray, TimestampNanosecondBuilder, UInt64Array, UInt64Builder, new_null_array,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{EvalError, EvalResult};
use crate::value::Value;

fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message.into()))
}

/// A table's group key: column names with their values, in column order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupKey(pub Vec<(String, Value)>);

impl GroupKey {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The key as a record, as `keys()`-style functions and `tableFind` see it.
    pub fn record(&self) -> Value {
        Value::record(self.0.iter().cloned())
    }

    /// Whether two keys name the same group: same columns and values, any order.
    pub fn same_group(&self, other: &GroupKey) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().all(|(k, v)| other.get(k).is_some_and(|w| cmp_values(v, w).is_eq()))
    }

    /// A total order on keys (by sorted column name, then value), for grouping and output order.
    pub fn cmp_key(&self, other: &GroupKey) -> Ordering {
        let mut a: Vec<&(String, Value)> = self.0.iter().collect();
        let mut b: Vec<&(String, Value)> = other.0.iter().collect();
        a.sort_by(|x, y| x.0.cmp(&y.0));
        b.sort_by(|x, y| x.0.cmp(&y.0));
        for (x, y) in a.iter().zip(&b) {
            let o = x.0.cmp(&y.0).then_with(|| cmp_values(&x.1, &y.1));
            if o.is_ne() {
                return o;
            }
        }
        a.len().cmp(&b.len())
    }
}

/// A group key ordered as [`GroupKey::cmp_key`] orders it, for maps of groups.
#[derive(Debug, Clone)]
pub struct KeyOrd(pub GroupKey);

impl PartialEq for KeyOrd {
    fn eq(&self, other: &Self) -> bool {
        self.0.cmp_key(&other.0).is_eq()
    }
}

impl Eq for KeyOrd {}

impl PartialOrd for KeyOrd {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyOrd {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp_key(&other.0)
    }
}

/// A total order on scalar values: null first, then by type, then by value.
pub fn cmp_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::UInt(_) => 3,
            Value::Float(_) => 4,
            Value::String(_) => 5,
            Value::Time(_) => 6,
            _ => 7,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::UInt(x), Value::UInt(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub key: GroupKey,
    pub batch: RecordBatch,
}

pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, None)
}

/// The Flux type name of a column type.
pub fn type_label(t: &DataType) -> &'static str {
    match t {
        DataType::Float64 => "float",
        DataType::Int64 => "int",
        DataType::UInt64 => "uint",
        DataType::Boolean => "bool",
        DataType::Timestamp(..) => "time",
        _ => "string",
    }
}

/// The column type that holds a value, if a column can hold it.
pub fn type_of_value(v: &Value) -> Option<DataType> {
    Some(match v {
        Value::Float(_) => DataType::Float64,
        Value::Int(_) => DataType::Int64,
        Value::UInt(_) => DataType::UInt64,
        Value::Bool(_) => DataType::Boolean,
        Value::Time(_) => time_type(),
        Value::String(_) => DataType::Utf8,
        _ => return None,
    })
}

/// The column type for values (the first non-null one decides; all-null is a string column).
pub fn infer_type(values: &[Value]) -> EvalResult<DataType> {
    let mut t: Option<DataType> = None;
    for v in values {
        if matches!(v, Value::Null) {
            continue;
        }
        let Some(this) = type_of_value(v) else {
            return fail(format!("a table column cannot hold a {}", v.type_name()));
        };
        match &t {
            None => t = Some(this),
            Some(have) if *have != this => {
                return fail(format!("column type conflict: expected {}, got {}", type_label(have), type_label(&this)));
            }
            _ => {}
        }
    }
    Ok(t.unwrap_or(DataType::Utf8))
}

/// A column of type `t` from values (anything not of that type is null).
pub fn array_of(t: &DataType, values: impl IntoIterator<Item = Value>) -> ArrayRef {
    macro_rules! col {
        ($b:expr, $variant:ident) => {{
            let mut b = $b;
            for v in values {
                match v {
                    Value::$variant(x) => b.append_value(x),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    match t {
        DataType::Float64 => col!(Float64Builder::new(), Float),
        DataType::Int64 => col!(Int64Builder::new(), Int),
        DataType::UInt64 => col!(UInt64Builder::new(), UInt),
        DataType::Boolean => col!(BooleanBuilder::new(), Bool),
        DataType::Timestamp(..) => col!(TimestampNanosecondBuilder::new(), Time),
        _ => col!(StringBuilder::new(), String),
    }
}

/// A column of `n` copies of `v`; a null of type `t` when `v` is null.
pub fn repeat(v: &Value, t: &DataType, n: usize) -> ArrayRef {
    match v {
        Value::Time(x) => Arc::new(TimestampNanosecondArray::from_value(*x, n)),
        Value::Int(x) => Arc::new(Int64Array::from_value(*x, n)),
        Value::UInt(x) => Arc::new(UInt64Array::from_value(*x, n)),
        Value::Float(x) => Arc::new(Float64Array::from_value(*x, n)),
        Value::Bool(x) => Arc::new(BooleanArray::from(vec![*x; n])),
        Value::String(s) => repeat_string(s, n),
        _ => new_null_array(t, n),
    }
}

/// `n` copies of a string, its buffers built at their final size.
fn repeat_string(s: &str, n: usize) -> ArrayRef {
    let len = s.len();
    let total = len.checked_mul(n).filter(|t| *t <= i32::MAX as usize);
    let Some(total) = total else {
        return Arc::new(StringArray::from_iter_values(std::iter::repeat_n(s, n)));
    };
    let offsets = arrow::buffer::OffsetBuffer::new(arrow::buffer::ScalarBuffer::from(
        (0..=n).map(|i| (i * len) as i32).collect::<Vec<i32>>(),
    ));
    let values = arrow::buffer::Buffer::from_vec(s.as_bytes().repeat(n));
    debug_assert_eq!(values.len(), total);
    Arc::new(StringArray::new(offsets, values, None))
}

/// The value in row `i` of a column.
pub fn cell(a: &dyn Array, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    let any = a.as_any();
    if let Some(x) = any.downcast_ref::<Float64Array>() {
        Value::Float(x.value(i))
    } else if let Some(x) = any.downcast_ref::<Int64Array>() {
        Value::Int(x.value(i))
    } else if let Some(x) = any.downcast_ref::<UInt64Array>() {
        Value::UInt(x.value(i))
    } else if let Some(x) = any.downcast_ref::<StringArray>() {
        Value::String(x.value(i).to_owned())
    } else if let Some(x) = any.downcast_ref::<BooleanArray>() {
        Value::Bool(x.value(i))
    } else if let Some(x) = any.downcast_ref::<TimestampNanosecondArray>() {
        Value::Time(x.value(i))
    } else {
        Value::Null
    }
}

/// A column's times (nulls read as `i64::MIN`), or an error naming the column.
pub fn times_of(a: &ArrayRef, name: &str) -> EvalResult<Vec<Option<i64>>> {
    match a.as_any().downcast_ref::<TimestampNanosecondArray>() {
        Some(t) => Ok(t.iter().collect()),
        None => fail(format!("column {name} is of type {}, not time", type_label(a.data_type()))),
    }
}

/// The bytes a batch's rows take (a slice counts only its own rows, not the
/// buffers it shares with the array it was cut from).
pub fn batch_memory_size(batch: &RecordBatch) -> u64 {
    batch.columns().iter().map(|c| c.to_data().get_slice_memory_size().unwrap_or(0) as u64).sum()
}

impl Table {
    /// The bytes this table's rows take.
    pub fn memory_size(&self) -> u64 {
        batch_memory_size(&self.batch)
    }

    /// A table from columns; the key names the group columns, whose values come
    /// from the first row (an empty table's key values are null: use [`Table::with_key`]).
    pub fn new(key: &[String], columns: Vec<(String, ArrayRef)>) -> EvalResult<Table> {
        let batch = batch_of(columns)?;
        let key = GroupKey(
            key.iter()
                .filter_map(|k| {
                    let c = batch.column_by_name(k)?;
                    Some((k.clone(), if c.is_empty() { Value::Null } else { cell(c.as_ref(), 0) }))
                })
                .collect(),
        );
        Ok(Table { key: order_key(key, &batch), batch })
    }

    /// A table with a known key (its key columns are taken as they are).
    pub fn with_key(key: GroupKey, columns: Vec<(String, ArrayRef)>) -> EvalResult<Table> {
        let batch = batch_of(columns)?;
        let key = GroupKey(key.0.into_iter().filter(|(k, _)| batch.column_by_name(k).is_some()).collect());
        Ok(Table { key: order_key(key, &batch), batch })
    }

    /// An empty table with these columns and key.
    pub fn empty(key: GroupKey, fields: &[(String, DataType)]) -> EvalResult<Table> {
        let cols = fields.iter().map(|(n, t)| (n.clone(), new_null_array(t, 0))).collect();
        Table::with_key(key, cols)
    }

    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    pub fn names(&self) -> Vec<String> {
        self.batch.schema().fields().iter().map(|f| f.name().clone()).collect()
    }

    /// Column names and types.
    pub fn fields(&self) -> Vec<(String, DataType)> {
        self.batch.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.batch.schema().index_of(name).is_ok()
    }

    pub fn column(&self, name: &str) -> Option<&ArrayRef> {
        self.batch.column_by_name(name)
    }

    /// The column, or Flux's error for a missing one.
    pub fn need(&self, name: &str) -> EvalResult<&ArrayRef> {
        self.column(name).ok_or_else(|| EvalError::invalid(format!("column \"{name}\" does not exist")))
    }

    /// Columns as (name, array) pairs, in order.
    pub fn columns(&self) -> Vec<(String, ArrayRef)> {
        self.batch
            .schema()
            .fields()
            .iter()
            .zip(self.batch.columns())
            .map(|(f, c)| (f.name().clone(), Arc::clone(c)))
            .collect()
    }

    /// Row `i` as a record, as functions like `filter` see it.
    pub fn row(&self, i: usize) -> Value {
        Value::record(
            self.batch
                .schema()
                .fields()
                .iter()
                .zip(self.batch.columns())
                .map(|(f, c)| (f.name().clone(), cell(c.as_ref(), i))),
        )
    }

    /// The rows for which `keep` holds.
    pub fn filter(&self, keep: &BooleanArray) -> EvalResult<Table> {
        let batch = arrow::compute::filter_record_batch(&self.batch, keep).map_err(arrow_err)?;
        Ok(Table { key: self.key.clone(), batch })
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[u32]) -> EvalResult<Table> {
        let idx = arrow::array::UInt32Array::from(indices.to_vec());
        let columns = self
            .batch
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c.as_ref(), &idx, None))
            .collect::<Result<Vec<_>, _>>()
            .map_err(arrow_err)?;
        let batch = RecordBatch::try_new_with_options(
            self.batch.schema(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(indices.len())),
        )
        .map_err(arrow_err)?;
        Ok(Table { key: self.key.clone(), batch })
    }

    pub fn slice(&self, offset: usize, len: usize) -> Table {
        Table { key: self.key.clone(), batch: self.batch.slice(offset, len) }
    }
}

/// Group-key entries in the order of the table's columns.
fn order_key(key: GroupKey, batch: &RecordBatch) -> GroupKey {
    let schema = batch.schema();
    let mut entries = key.0;
    entries.sort_by_key(|(k, _)| schema.index_of(k).unwrap_or(usize::MAX));
    GroupKey(entries)
}

pub fn arrow_err(e: arrow::error::ArrowError) -> EvalError {
    EvalError::internal(e.to_string())
}

/// A record batch from named columns (all of one length; times without a zone).
pub fn batch_of(columns: Vec<(String, ArrayRef)>) -> EvalResult<RecordBatch> {
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (name, c) in columns {
        if fields.iter().any(|f: &Field| f.name() == &name) {
            return fail(format!("duplicate column {name:?}"));
        }
        let c = match c.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, Some(_)) => {
                arrow::compute::cast(&c, &time_type()).map_err(arrow_err)?
            }
            _ => c,
        };
        fields.push(Field::new(name, c.data_type().clone(), true));
        arrays.push(c);
    }
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(arrow_err)
}

/// Tables of one series and field from storage, as `from |> range` gives them:
/// `_start, _stop, _time, _value, _field, _measurement`, then the tags.
pub fn from_series(fs: &storage::FieldSeries, start: i64, stop: i64) -> EvalResult<Table> {
    let n = fs.batch.num_rows();
    let mut columns: Vec<(String, ArrayRef)> = Vec::with_capacity(6 + fs.series.tags.len());
    let mut key = Vec::with_capacity(4 + fs.series.tags.len());
    let field = Value::String(fs.field.clone());
    let measurement = Value::String(fs.series.measurement.clone());
    for (name, v) in [("_start", Value::Time(start)), ("_stop", Value::Time(stop))] {
        columns.push((name.into(), repeat(&v, &time_type(), n)));
        key.push((name.to_owned(), v));
    }
    columns.push(("_time".into(), Arc::clone(fs.batch.column(0))));
    columns.push(("_value".into(), Arc::clone(fs.batch.column(1))));
    columns.push(("_field".into(), repeat(&field, &DataType::Utf8, n)));
    columns.push(("_measurement".into(), repeat(&measurement, &DataType::Utf8, n)));
    key.push(("_field".to_owned(), field));
    key.push(("_measurement".to_owned(), measurement));
    for (k, v) in &fs.series.tags {
        let v = Value::String(v.clone());
        columns.push((k.clone(), repeat(&v, &DataType::Utf8, n)));
        key.push((k.clone(), v));
    }
    Table::with_key(GroupKey(key), columns)
}
