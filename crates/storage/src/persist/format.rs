//! The file format both sides share: the footer's series index, the column
//! names (`time`, `t:<tag>`, `f:<field>`), and one series' rows as written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array};
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

use crate::buffer::{SeriesData, Values};
use crate::series::{FieldType, SeriesKey};

pub(crate) const SERIES_META: &str = "oxiflux.series";
pub(crate) const TIME: &str = "time";
/// Column-name prefixes keep tag keys and field keys apart.
pub(crate) const TAG_PREFIX: &str = "t:";
pub(crate) const FIELD_PREFIX: &str = "f:";

/// One series' place in a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SeriesEntry {
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) rows: (usize, usize),
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
}

/// Rows of one series ready to write: sorted by time, one row per time.
#[derive(Debug, Clone)]
pub(crate) struct SeriesRows {
    pub(crate) key: Arc<SeriesKey>,
    pub(crate) times: Vec<i64>,
    /// Field name → (type, value per row or null).
    pub(crate) fields: BTreeMap<String, FieldColumn>,
}

#[derive(Debug, Clone)]
pub(crate) enum FieldColumn {
    Float(Vec<Option<f64>>),
    Integer(Vec<Option<i64>>),
    UInteger(Vec<Option<u64>>),
    String(Vec<Option<String>>),
    Boolean(Vec<Option<bool>>),
}

impl FieldColumn {
    pub(crate) fn empty(t: FieldType, n: usize) -> Self {
        match t {
            FieldType::Float => FieldColumn::Float(vec![None; n]),
            FieldType::Integer => FieldColumn::Integer(vec![None; n]),
            FieldType::UInteger => FieldColumn::UInteger(vec![None; n]),
            FieldType::String => FieldColumn::String(vec![None; n]),
            FieldType::Boolean => FieldColumn::Boolean(vec![None; n]),
        }
    }

    /// Appends `other`'s rows (a column of the same type; another type adds nulls).
    fn append(&mut self, other: FieldColumn) {
        let n = other.len();
        match (self, other) {
            (FieldColumn::Float(a), FieldColumn::Float(b)) => a.extend(b),
            (FieldColumn::Integer(a), FieldColumn::Integer(b)) => a.extend(b),
            (FieldColumn::UInteger(a), FieldColumn::UInteger(b)) => a.extend(b),
            (FieldColumn::String(a), FieldColumn::String(b)) => a.extend(b),
            (FieldColumn::Boolean(a), FieldColumn::Boolean(b)) => a.extend(b),
            (this, _) => this.extend_nulls(n),
        }
    }

    fn len(&self) -> usize {
        match self {
            FieldColumn::Float(v) => v.len(),
            FieldColumn::Integer(v) => v.len(),
            FieldColumn::UInteger(v) => v.len(),
            FieldColumn::String(v) => v.len(),
            FieldColumn::Boolean(v) => v.len(),
        }
    }

    fn extend_nulls(&mut self, n: usize) {
        match self {
            FieldColumn::Float(v) => v.resize(v.len() + n, None),
            FieldColumn::Integer(v) => v.resize(v.len() + n, None),
            FieldColumn::UInteger(v) => v.resize(v.len() + n, None),
            FieldColumn::String(v) => v.resize(v.len() + n, None),
            FieldColumn::Boolean(v) => v.resize(v.len() + n, None),
        }
    }

    pub(crate) fn field_type(&self) -> FieldType {
        match self {
            FieldColumn::Float(_) => FieldType::Float,
            FieldColumn::Integer(_) => FieldType::Integer,
            FieldColumn::UInteger(_) => FieldType::UInteger,
            FieldColumn::String(_) => FieldType::String,
            FieldColumn::Boolean(_) => FieldType::Boolean,
        }
    }

    /// Sets row `i` from row `j` of an Arrow array of the same type (nulls skipped).
    pub(crate) fn set_from(&mut self, i: usize, a: &dyn Array, j: usize) {
        if a.is_null(j) {
            return;
        }
        let any = a.as_any();
        match self {
            FieldColumn::Float(v) => v[i] = any.downcast_ref::<Float64Array>().map(|a| a.value(j)),
            FieldColumn::Integer(v) => v[i] = any.downcast_ref::<Int64Array>().map(|a| a.value(j)),
            FieldColumn::UInteger(v) => v[i] = any.downcast_ref::<UInt64Array>().map(|a| a.value(j)),
            FieldColumn::String(v) => v[i] = any.downcast_ref::<StringArray>().map(|a| a.value(j).to_owned()),
            FieldColumn::Boolean(v) => v[i] = any.downcast_ref::<BooleanArray>().map(|a| a.value(j)),
        }
    }
}

impl SeriesRows {
    /// The merged rows of a buffered series: sorted, duplicates merged field by
    /// field (later write wins), rows for which `dropped` holds left out.
    pub(crate) fn from_buffer(key: Arc<SeriesKey>, data: &SeriesData, dropped: &dyn Fn(i64) -> bool) -> Self {
        let mut order: Vec<usize> = (0..data.times.len()).filter(|&i| !dropped(data.times[i])).collect();
        order.sort_by_key(|&i| data.times[i]);
        let mut times: Vec<i64> = order.iter().map(|&i| data.times[i]).collect();
        times.dedup();
        let mut fields = BTreeMap::new();
        for c in &data.fields {
            let mut col = FieldColumn::empty(c.values.field_type(), times.len());
            let mut slot = 0;
            for &i in &order {
                while times[slot] != data.times[i] {
                    slot += 1;
                }
                if !c.valid[i] {
                    continue;
                }
                match (&mut col, &c.values) {
                    (FieldColumn::Float(v), Values::Float(s)) => v[slot] = Some(s[i]),
                    (FieldColumn::Integer(v), Values::Integer(s)) => v[slot] = Some(s[i]),
                    (FieldColumn::UInteger(v), Values::UInteger(s)) => v[slot] = Some(s[i]),
                    (FieldColumn::String(v), Values::String(s)) => v[slot] = Some(s[i].clone()),
                    (FieldColumn::Boolean(v), Values::Boolean(s)) => v[slot] = Some(s[i]),
                    _ => {}
                }
            }
            if !is_all_null(&col) {
                fields.insert(c.name.to_string(), col);
            }
        }
        Self { key, times, fields }
    }

    /// Merges `newer` over `self` (same series): a field's value at a time comes
    /// from the newer rows when they have one.
    pub(crate) fn merge(mut self, newer: SeriesRows) -> SeriesRows {
        // The usual case: the newer rows all come after the older ones.
        if self.times.last().is_none_or(|&last| newer.times.first().is_none_or(|&first| first > last)) {
            let (old_n, new_n) = (self.times.len(), newer.times.len());
            self.times.extend_from_slice(&newer.times);
            let mut newer_fields = newer.fields;
            for (name, col) in self.fields.iter_mut() {
                let other = newer_fields.remove(name).unwrap_or_else(|| FieldColumn::empty(col.field_type(), new_n));
                col.append(other);
            }
            for (name, col) in newer_fields {
                let mut c = FieldColumn::empty(col.field_type(), old_n);
                c.append(col);
                self.fields.insert(name, c);
            }
            self.key = newer.key;
            return self;
        }
        self.merge_overlapping(newer)
    }

    fn merge_overlapping(self, newer: SeriesRows) -> SeriesRows {
        let mut times: Vec<i64> =
            self.times.iter().chain(&newer.times).copied().collect::<BTreeSet<_>>().into_iter().collect();
        times.shrink_to_fit();
        let pos = |t: i64| times.binary_search(&t).unwrap_or(0);
        let mut fields: BTreeMap<String, FieldColumn> = BTreeMap::new();
        for src in [&self, &newer] {
            for (name, col) in &src.fields {
                let dst =
                    fields.entry(name.clone()).or_insert_with(|| FieldColumn::empty(col.field_type(), times.len()));
                let arr = to_array(col);
                for (j, &t) in src.times.iter().enumerate() {
                    dst.set_from(pos(t), arr.as_ref(), j);
                }
            }
        }
        SeriesRows { key: newer.key, times, fields }
    }

    /// Removes rows for which `dropped` holds.
    pub(crate) fn retain_times(&mut self, dropped: &dyn Fn(i64) -> bool) {
        let keep: Vec<bool> = self.times.iter().map(|&t| !dropped(t)).collect();
        if keep.iter().all(|k| *k) {
            return;
        }
        fn r<T>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        r(&mut self.times, &keep);
        for c in self.fields.values_mut() {
            match c {
                FieldColumn::Float(v) => r(v, &keep),
                FieldColumn::Integer(v) => r(v, &keep),
                FieldColumn::UInteger(v) => r(v, &keep),
                FieldColumn::String(v) => r(v, &keep),
                FieldColumn::Boolean(v) => r(v, &keep),
            }
        }
        self.fields.retain(|_, c| !is_all_null(c));
    }
}

pub(crate) fn is_all_null(c: &FieldColumn) -> bool {
    match c {
        FieldColumn::Float(v) => v.iter().all(Option::is_none),
        FieldColumn::Integer(v) => v.iter().all(Option::is_none),
        FieldColumn::UInteger(v) => v.iter().all(Option::is_none),
        FieldColumn::String(v) => v.iter().all(Option::is_none),
        FieldColumn::Boolean(v) => v.iter().all(Option::is_none),
    }
}

pub(crate) fn to_array(c: &FieldColumn) -> ArrayRef {
    match c {
        FieldColumn::Float(v) => Arc::new(Float64Array::from(v.clone())),
        FieldColumn::Integer(v) => Arc::new(Int64Array::from(v.clone())),
        FieldColumn::UInteger(v) => Arc::new(UInt64Array::from(v.clone())),
        FieldColumn::String(v) => Arc::new(StringArray::from(v.clone())),
        FieldColumn::Boolean(v) => Arc::new(BooleanArray::from(v.clone())),
    }
}

pub(crate) fn arrow_type(t: FieldType) -> DataType {
    match t {
        FieldType::Float => DataType::Float64,
        FieldType::Integer => DataType::Int64,
        FieldType::UInteger => DataType::UInt64,
        FieldType::String => DataType::Utf8,
        FieldType::Boolean => DataType::Boolean,
    }
}
