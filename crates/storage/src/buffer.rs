//! The in-memory buffer: recent points, per partition and series, column by column.
//!
//! A series holds one time column and one column per field, all the same
//! length; a field a point does not carry is a null. Rows stay in arrival
//! order: a read sorts them by time, and rows with the same time merge field by
//! field, the later write winning (InfluxDB's duplicate-point rule).

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array};

use crate::series::FieldType;

#[derive(Debug, Clone)]
pub(crate) enum Values {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    UInteger(Vec<u64>),
    String(Vec<String>),
    Boolean(Vec<bool>),
}

impl Values {
    fn new(t: FieldType) -> Self {
        match t {
            FieldType::Float => Values::Float(Vec::new()),
            FieldType::Integer => Values::Integer(Vec::new()),
            FieldType::UInteger => Values::UInteger(Vec::new()),
            FieldType::String => Values::String(Vec::new()),
            FieldType::Boolean => Values::Boolean(Vec::new()),
        }
    }

    pub(crate) fn field_type(&self) -> FieldType {
        match self {
            Values::Float(_) => FieldType::Float,
            Values::Integer(_) => FieldType::Integer,
            Values::UInteger(_) => FieldType::UInteger,
            Values::String(_) => FieldType::String,
            Values::Boolean(_) => FieldType::Boolean,
        }
    }

    fn push_null(&mut self) {
        match self {
            Values::Float(v) => v.push(0.0),
            Values::Integer(v) => v.push(0),
            Values::UInteger(v) => v.push(0),
            Values::String(v) => v.push(String::new()),
            Values::Boolean(v) => v.push(false),
        }
    }

    /// Pushes a value of this column's type; false if the type differs.
    fn push(&mut self, v: &lineproto::FieldValue<'_>) -> bool {
        use lineproto::FieldValue as F;
        match (self, v) {
            (Values::Float(c), F::Float(x)) => c.push(*x),
            (Values::Integer(c), F::Integer(x)) => c.push(*x),
            (Values::UInteger(c), F::UInteger(x)) => c.push(*x),
            (Values::String(c), F::String(x)) => c.push(x.unescaped().into_owned()),
            (Values::Boolean(c), F::Boolean(x)) => c.push(*x),
            _ => return false,
        }
        true
    }

    fn len(&self) -> usize {
        match self {
            Values::Float(v) => v.len(),
            Values::Integer(v) => v.len(),
            Values::UInteger(v) => v.len(),
            Values::String(v) => v.len(),
            Values::Boolean(v) => v.len(),
        }
    }

    /// An Arrow array of the rows at `idx`.
    pub(crate) fn take(&self, idx: &[usize]) -> ArrayRef {
        match self {
            Values::Float(v) => Arc::new(Float64Array::from_iter_values(idx.iter().map(|&i| v[i]))),
            Values::Integer(v) => Arc::new(Int64Array::from_iter_values(idx.iter().map(|&i| v[i]))),
            Values::UInteger(v) => Arc::new(UInt64Array::from_iter_values(idx.iter().map(|&i| v[i]))),
            Values::String(v) => Arc::new(StringArray::from_iter_values(idx.iter().map(|&i| v[i].as_str()))),
            Values::Boolean(v) => Arc::new(BooleanArray::from_iter(idx.iter().map(|&i| Some(v[i])))),
        }
    }

    fn retain(&mut self, keep: &[bool]) {
        fn r<T>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        match self {
            Values::Float(v) => r(v, keep),
            Values::Integer(v) => r(v, keep),
            Values::UInteger(v) => r(v, keep),
            Values::String(v) => r(v, keep),
            Values::Boolean(v) => r(v, keep),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FieldColumn {
    pub(crate) name: Arc<str>,
    pub(crate) values: Values,
    pub(crate) valid: Vec<bool>,
}

/// The buffered rows of one series in one partition.
#[derive(Debug, Clone)]
pub(crate) struct SeriesData {
    pub(crate) times: Vec<i64>,
    pub(crate) fields: Vec<FieldColumn>,
    /// Times strictly increase in arrival order (no sort or merge needed to read).
    pub(crate) ordered: bool,
}

impl Default for SeriesData {
    fn default() -> Self {
        Self { times: Vec::new(), fields: Vec::new(), ordered: true }
    }
}

impl SeriesData {
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends one point. The caller has checked the field types against the schema.
    pub(crate) fn push<'a>(
        &mut self,
        time: i64,
        fields: impl IntoIterator<Item = (lineproto::Token<'a>, lineproto::FieldValue<'a>)>,
    ) {
        if self.times.last().is_some_and(|&last| time <= last) {
            self.ordered = false;
        }
        let row = self.times.len();
        self.times.push(time);
        for (i, (key, value)) in fields.into_iter().enumerate() {
            let key = key.unescaped();
            // Points of a series usually carry the same fields in the same order.
            let col = match self.fields.get(i) {
                Some(c) if *c.name == *key => i,
                _ => match self.fields.iter().position(|c| *c.name == *key) {
                    Some(p) => p,
                    None => {
                        let mut values = Values::new(FieldType::of(&value));
                        for _ in 0..row {
                            values.push_null();
                        }
                        let valid = vec![false; row];
                        self.fields.push(FieldColumn { name: Arc::from(&*key), values, valid });
                        self.fields.len() - 1
                    }
                },
            };
            let c = &mut self.fields[col];
            if c.values.len() > row {
                // The same key twice in one line: the later value counts.
                c.values.retain(&(0..c.values.len()).map(|j| j != row).collect::<Vec<_>>());
                c.valid.pop();
            }
            if c.values.push(&value) {
                c.valid.push(true);
            } else {
                c.values.push_null();
                c.valid.push(false);
            }
        }
        for c in &mut self.fields {
            if c.valid.len() <= row {
                c.values.push_null();
                c.valid.push(false);
            }
        }
    }

    /// Row indexes of `field` within `[start, stop)`, sorted by time, one per time
    /// (the latest write of that field at that time).
    pub(crate) fn rows(&self, field: usize, start: i64, stop: i64) -> Vec<usize> {
        let c = &self.fields[field];
        let mut idx: Vec<usize> =
            (0..self.times.len()).filter(|&i| c.valid[i] && self.times[i] >= start && self.times[i] < stop).collect();
        if !self.ordered {
            // Stable: among equal times, arrival order is kept, so the last one wins.
            idx.sort_by_key(|&i| self.times[i]);
            let mut out: Vec<usize> = Vec::with_capacity(idx.len());
            for i in idx {
                match out.last_mut() {
                    Some(last) if self.times[*last] == self.times[i] => *last = i,
                    _ => out.push(i),
                }
            }
            idx = out;
        }
        idx
    }

    /// Removes rows for which `drop` holds; returns how many went.
    pub(crate) fn remove_rows(&mut self, drop: impl Fn(i64) -> bool) -> usize {
        let keep: Vec<bool> = self.times.iter().map(|&t| !drop(t)).collect();
        let removed = keep.iter().filter(|k| !**k).count();
        if removed == 0 {
            return 0;
        }
        let mut i = 0;
        self.times.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        for c in &mut self.fields {
            c.values.retain(&keep);
            let mut j = 0;
            c.valid.retain(|_| {
                j += 1;
                keep[j - 1]
            });
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lineproto::{Precision, parse};

    fn push_all(s: &mut SeriesData, body: &str) {
        for l in parse(body.as_bytes(), Precision::Nanosecond) {
            let l = l.unwrap();
            s.push(l.timestamp.unwrap(), l.fields.iter().copied());
        }
    }

    #[test]
    fn duplicate_points_merge_field_by_field_latest_wins() {
        let mut s = SeriesData::new();
        push_all(&mut s, "m a=1,b=1 10\nm a=2 20\nm b=3 10\nm a=4 5\n");
        let a = s.fields.iter().position(|c| &*c.name == "a").unwrap();
        let b = s.fields.iter().position(|c| &*c.name == "b").unwrap();
        let times = |rows: Vec<usize>| rows.iter().map(|&i| s.times[i]).collect::<Vec<_>>();
        assert_eq!(times(s.rows(a, 0, 100)), vec![5, 10, 20]);
        let brows = s.rows(b, 0, 100);
        assert_eq!(times(brows.clone()), vec![10]);
        match &s.fields[b].values {
            Values::Float(v) => assert_eq!(v[brows[0]], 3.0),
            other => panic!("{other:?}"),
        }
        assert_eq!(times(s.rows(a, 6, 20)), vec![10]);
    }
}
