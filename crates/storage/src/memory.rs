//! Tables held in memory that answer the read API like the store does: what
//! a query engine reads when its source is another query's result (an
//! InfluxQL subquery), rather than a bucket.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt64Array};

use crate::read::{FieldSeries, ReadApi, ScanRequest, WindowRequest, batch, times, window_one};
use crate::{Error, FieldType, Predicate, Result, SeriesKey};

/// One field of one series: times (sorted) and their values. A time may
/// repeat (a query's result can hold several points at one time).
#[derive(Debug, Clone)]
struct Column {
    field_type: FieldType,
    times: Vec<i64>,
    values: ArrayRef,
}

/// Series of fields in memory, as one bucket: every bucket id reads them.
#[derive(Debug, Default, Clone)]
pub struct MemoryTables {
    series: BTreeMap<Arc<SeriesKey>, BTreeMap<String, Column>>,
}

impl MemoryTables {
    /// Adds a series' field: `times` sorted ascending, one per value; `values`
    /// an array of a field type (Float64, Int64, UInt64, Utf8, Boolean). Null
    /// values are left out of what the field answers.
    pub fn insert(&mut self, series: SeriesKey, field: &str, times: Vec<i64>, values: ArrayRef) -> Result<()> {
        let field_type = FieldType::of_arrow(values.data_type())
            .ok_or_else(|| Error::Invalid(format!("no field type holds {}", values.data_type())))?;
        if times.len() != values.len() || times.windows(2).any(|w| w[0] > w[1]) {
            return Err(Error::Invalid("times must be sorted and one per value".into()));
        }
        let valid: Vec<u64> = (0..values.len()).filter(|&i| values.is_valid(i)).map(|i| i as u64).collect();
        let (times, values) = if valid.len() == values.len() {
            (times, values)
        } else {
            let rows = UInt64Array::from(valid);
            let kept = rows.values().iter().map(|&i| times[i as usize]).collect();
            (kept, arrow::compute::take(values.as_ref(), &rows, None)?)
        };
        let column = Column { field_type, times, values };
        self.series.entry(Arc::new(series)).or_default().insert(field.to_owned(), column);
        Ok(())
    }

    /// The series the predicate may match that have a point in `[start, stop)`,
    /// with the fields that do.
    fn in_range<'a>(
        &'a self,
        start: i64,
        stop: i64,
        predicate: &'a Predicate,
    ) -> impl Iterator<Item = (&'a Arc<SeriesKey>, Vec<(&'a String, &'a Column)>)> + 'a {
        self.series.iter().filter_map(move |(key, fields)| {
            if predicate.matches_series(key) == Some(false) {
                return None;
            }
            let present: Vec<(&String, &Column)> = fields
                .iter()
                .filter(|(name, c)| predicate.matches(key, name) && c.times.iter().any(|&t| t >= start && t < stop))
                .collect();
            (!present.is_empty()).then_some((key, present))
        })
    }
}

impl ReadApi for MemoryTables {
    fn scan(&self, req: &ScanRequest) -> Result<Vec<FieldSeries>> {
        let mut out = Vec::new();
        for (key, fields) in &self.series {
            for (name, c) in fields {
                if !req.fields.as_ref().is_none_or(|f| f.contains(name)) || !req.predicate.matches(key, name) {
                    continue;
                }
                let lo = c.times.partition_point(|&t| t < req.start);
                let hi = c.times.partition_point(|&t| t < req.stop);
                if lo == hi {
                    continue;
                }
                let rows = UInt64Array::from_iter_values((lo as u64)..(hi as u64));
                let values = arrow::compute::take(c.values.as_ref(), &rows, None)?;
                out.push(FieldSeries {
                    series: Arc::clone(key),
                    field: name.clone(),
                    field_type: c.field_type,
                    batch: batch(vec![("_time", times(c.times[lo..hi].to_vec())), ("_value", values)])?,
                });
            }
        }
        Ok(out)
    }

    fn scan_each(&self, req: &ScanRequest, f: &mut dyn FnMut(FieldSeries) -> ControlFlow<()>) -> Result<()> {
        for fs in self.scan(req)? {
            if f(fs).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn window_aggregate(&self, req: &WindowRequest) -> Result<Vec<FieldSeries>> {
        if req.every <= 0 {
            return Err(Error::Invalid("window duration must be positive".into()));
        }
        self.scan(&req.scan)?.into_iter().map(|fs| window_one(req, fs)).collect()
    }

    fn measurements(&self, _bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>> {
        let names: BTreeSet<String> =
            self.in_range(start, stop, predicate).map(|(k, _)| k.measurement.clone()).collect();
        Ok(names.into_iter().collect())
    }

    fn tag_keys(&self, _bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>> {
        let keys: BTreeSet<String> =
            self.in_range(start, stop, predicate).flat_map(|(k, _)| k.tags.iter().map(|(t, _)| t.clone())).collect();
        Ok(keys.into_iter().collect())
    }

    fn tag_values(&self, _bucket: u64, tag: &str, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>> {
        let values: BTreeSet<String> = self
            .in_range(start, stop, predicate)
            .filter_map(|(k, _)| match tag {
                "_measurement" => Some(k.measurement.clone()),
                _ => k.tag(tag).map(str::to_owned),
            })
            .collect();
        Ok(values.into_iter().collect())
    }

    fn field_keys(
        &self,
        _bucket: u64,
        start: i64,
        stop: i64,
        predicate: &Predicate,
    ) -> Result<Vec<(String, FieldType)>> {
        let fields: BTreeMap<String, FieldType> = self
            .in_range(start, stop, predicate)
            .flat_map(|(_, fields)| fields.into_iter().map(|(name, c)| (name.clone(), c.field_type)))
            .collect();
        Ok(fields.into_iter().collect())
    }

    fn series_cardinality(&self, _bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<usize> {
        Ok(self.in_range(start, stop, predicate).count())
    }

    fn series_keys(&self, _bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<Arc<SeriesKey>>> {
        Ok(self.in_range(start, stop, predicate).map(|(k, _)| Arc::clone(k)).collect())
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Float64Array, Int64Array};

    use super::*;
    use crate::{Aggregate, Predicate};

    fn tables() -> MemoryTables {
        let mut m = MemoryTables::default();
        let a = SeriesKey::new("cpu", vec![("host".into(), "a".into())]);
        let b = SeriesKey::new("cpu", vec![("host".into(), "b".into())]);
        m.insert(a.clone(), "usage", vec![0, 10, 20], Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]))).unwrap();
        m.insert(a, "n", vec![10], Arc::new(Int64Array::from(vec![7]))).unwrap();
        m.insert(b, "usage", vec![5, 15], Arc::new(Float64Array::from(vec![4.0, 5.0]))).unwrap();
        m
    }

    #[test]
    fn scans_and_schema_reads_follow_range_and_predicate() {
        let m = tables();
        let host_a = Predicate::measurement_eq("cpu").and(Predicate::tag_eq("host", "a"));
        let got = m.scan(&ScanRequest::new(0, 10, 21, host_a.clone())).unwrap();
        assert_eq!(
            got.iter().map(|f| (f.field.as_str(), f.batch.num_rows())).collect::<Vec<_>>(),
            [("n", 1), ("usage", 2)]
        );
        assert_eq!(m.field_keys(0, 0, 100, &Predicate::True).unwrap().len(), 2);
        assert_eq!(m.tag_values(0, "host", 12, 100, &Predicate::True).unwrap(), ["a", "b"]);
        assert_eq!(m.tag_values(0, "host", 21, 100, &Predicate::True).unwrap(), Vec::<String>::new());
        assert_eq!(m.series_cardinality(0, 0, 100, &host_a).unwrap(), 1);
        assert_eq!(m.measurements(0, 0, 100, &Predicate::True).unwrap(), ["cpu"]);
    }

    #[test]
    fn window_aggregates_are_the_stores() {
        let mut m = tables();
        let req = WindowRequest {
            scan: ScanRequest::new(0, 0, 20, Predicate::field_eq("usage")),
            every: 10,
            offset: 0,
            aggregate: Aggregate::Sum,
            create_empty: false,
        };
        let got = m.window_aggregate(&req).unwrap();
        let sums: Vec<f64> = got
            .iter()
            .flat_map(|f| {
                let v = f.batch.column(3).as_any().downcast_ref::<Float64Array>().unwrap();
                (0..v.len()).map(|i| v.value(i)).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(sums, [1.0, 2.0, 4.0, 5.0]);
        assert!(
            m.insert(SeriesKey::new("x", vec![]), "f", vec![2, 1], Arc::new(Int64Array::from(vec![1, 2]))).is_err()
        );
    }
}
