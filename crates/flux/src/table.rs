//! Streams of tables: each table is an Arrow record batch plus its group key
//! (the names of the columns whose value is the same on every row).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampNanosecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::interp::{EvalError, EvalResult};
use crate::value::Value;

#[derive(Debug, Clone)]
pub struct Table {
    /// Group-key column names, in column order.
    pub key: Vec<String>,
    pub batch: RecordBatch,
}

/// What a stream is: tables already made, or a storage scan not yet run (so
/// that `range` and `filter` can narrow it before any data is read).
#[derive(Debug, Clone)]
pub enum Stream {
    Tables(Vec<Table>),
    Scan(ScanSpec),
}

#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub bucket_name: String,
    pub bucket: u64,
    pub range: Option<(i64, i64)>,
    pub predicate: storage::Predicate,
}

pub(crate) fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, None)
}

/// A column of `n` copies of `v` (a string or a time).
pub(crate) fn repeat(v: &Value, n: usize) -> ArrayRef {
    match v {
        Value::Time(t) => Arc::new(TimestampNanosecondArray::from(vec![*t; n])),
        Value::Int(x) => Arc::new(Int64Array::from(vec![*x; n])),
        Value::Float(x) => Arc::new(Float64Array::from(vec![*x; n])),
        Value::Bool(x) => Arc::new(BooleanArray::from(vec![*x; n])),
        Value::String(s) => Arc::new(StringArray::from(vec![s.as_str(); n])),
        _ => Arc::new(StringArray::from(vec![None::<&str>; n])),
    }
}

/// The value in row `i` of an Arrow column.
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

impl Table {
    /// A table of one series and field from a storage scan, as `from |> range`
    /// gives it: `_start, _stop, _time, _value, _field, _measurement`, the tags.
    pub(crate) fn from_series(fs: &storage::FieldSeries, start: i64, stop: i64) -> EvalResult<Table> {
        let n = fs.batch.num_rows();
        let times = fs
            .batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .ok_or_else(|| EvalError { message: "storage returned no time column".into() })?;
        let times: ArrayRef = Arc::new(TimestampNanosecondArray::from(times.values().to_vec()));
        let mut fields = vec![
            Field::new("_start", time_type(), false),
            Field::new("_stop", time_type(), false),
            Field::new("_time", time_type(), false),
            Field::new("_value", fs.batch.column(1).data_type().clone(), true),
            Field::new("_field", DataType::Utf8, false),
            Field::new("_measurement", DataType::Utf8, false),
        ];
        let mut columns: Vec<ArrayRef> = vec![
            repeat(&Value::Time(start), n),
            repeat(&Value::Time(stop), n),
            times,
            Arc::clone(fs.batch.column(1)),
            repeat(&Value::String(fs.field.clone()), n),
            repeat(&Value::String(fs.series.measurement.clone()), n),
        ];
        let mut key: Vec<String> = ["_start", "_stop", "_field", "_measurement"].map(String::from).to_vec();
        for (k, v) in &fs.series.tags {
            fields.push(Field::new(k, DataType::Utf8, false));
            columns.push(repeat(&Value::String(v.clone()), n));
            key.push(k.clone());
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| EvalError { message: format!("building a table: {e}") })?;
        Ok(Table { key, batch })
    }

    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
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
    pub fn filter(&self, keep: &[bool]) -> EvalResult<Table> {
        let mask = BooleanArray::from(keep.to_vec());
        let batch = arrow::compute::filter_record_batch(&self.batch, &mask)
            .map_err(|e| EvalError { message: format!("filter: {e}") })?;
        Ok(Table { key: self.key.clone(), batch })
    }
}
