//! The read API the query engines use: scans, window aggregates, schema reads.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, TimestampNanosecondArray, UInt64Array};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;

use crate::engine::{BucketData, BufferedPartition, PartitionKey, Storage};
use crate::error::{Error, Result};
use crate::predicate::Predicate;
use crate::series::{FieldType, SeriesKey};
use crate::window::{Aggregate, aggregate_windows, edge_row, window_start};

/// A scan: one bucket, `[start, stop)` in nanoseconds, and a predicate.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub bucket: u64,
    pub start: i64,
    pub stop: i64,
    pub predicate: Predicate,
    /// Only these fields (`None`: all). Files read only these columns.
    pub fields: Option<BTreeSet<String>>,
}

impl ScanRequest {
    /// Everything in `[start, stop)` of `bucket` that matches `predicate`.
    pub fn new(bucket: u64, start: i64, stop: i64, predicate: Predicate) -> Self {
        Self { bucket, start, stop, predicate, fields: None }
    }

    fn wants(&self, series: &SeriesKey, field: &str) -> bool {
        self.fields.as_ref().is_none_or(|f| f.contains(field)) && self.predicate.matches(series, field)
    }
}

/// One series' values of one field, sorted by time: columns `_time` and `_value`
/// (window aggregates add `_start` and `_stop`).
#[derive(Debug, Clone)]
pub struct FieldSeries {
    pub series: Arc<SeriesKey>,
    pub field: String,
    pub field_type: FieldType,
    pub batch: RecordBatch,
}

/// Fixed windows of `every` nanoseconds, shifted by `offset`, aggregated per series and field.
#[derive(Debug, Clone)]
pub struct WindowRequest {
    pub scan: ScanRequest,
    pub every: i64,
    pub offset: i64,
    pub aggregate: Aggregate,
    /// Also emit windows without points (count 0, other aggregates null).
    pub create_empty: bool,
}

/// What the query engines need from storage; implemented by [`Storage`], and by
/// anything else (in-memory tables in tests) that can answer the same questions.
pub trait ReadApi: Send + Sync {
    fn scan(&self, req: &ScanRequest) -> Result<Vec<FieldSeries>>;
    /// What [`ReadApi::scan`] gives, in the same order, handed to `f` a series
    /// at a time and read a group of series at a time, so that a read of any
    /// size holds about `StorageConfig::scan_group_rows` rows at once (a single
    /// series with more is read whole). `f` stops the read by returning `Break`.
    fn scan_each(&self, req: &ScanRequest, f: &mut dyn FnMut(FieldSeries) -> ControlFlow<()>) -> Result<()>;
    fn window_aggregate(&self, req: &WindowRequest) -> Result<Vec<FieldSeries>>;
    fn measurements(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>>;
    fn tag_keys(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>>;
    fn tag_values(&self, bucket: u64, tag: &str, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>>;
    fn field_keys(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate)
    -> Result<Vec<(String, FieldType)>>;
    fn series_cardinality(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<usize>;
    /// The series with data in the range that the predicate matches, sorted.
    fn series_keys(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<Arc<SeriesKey>>>;
}

pub(crate) fn batch(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns.into_iter().map(|(_, a)| a).collect())?)
}

pub(crate) fn times(v: Vec<i64>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(v).with_timezone("UTC"))
}

/// A piece of one series' field: times, values, and how recent its source is
/// (files oldest first, then buffers being persisted, then the active buffer).
struct Chunk {
    times: Vec<i64>,
    values: ArrayRef,
    rank: u32,
}

const RANK_PERSISTING: u32 = 1 << 20;
const RANK_ACTIVE: u32 = 1 << 21;

type Gathered = BTreeMap<(Arc<SeriesKey>, String), (FieldType, Vec<Chunk>)>;

fn overlaps(start: i64, duration: i64, lo: i64, hi: i64) -> bool {
    start < hi && start.saturating_add(duration) > lo
}

/// Buffered partitions (active or being persisted) with their shard durations.
fn buffered<'a>(b: &'a BucketData) -> impl Iterator<Item = (u32, &'a PartitionKey, i64, &'a BufferedPartition)> + 'a {
    let frozen = b.persisting.iter().enumerate().flat_map(move |(i, f)| {
        f.partitions
            .iter()
            .map(move |(k, p)| (RANK_PERSISTING + i as u32, k, f.shard_durations.get(k).copied().unwrap_or(1), p))
    });
    let active =
        b.buffer.iter().map(move |(k, p)| (RANK_ACTIVE, k, b.schemas.get(k).map_or(1, |s| s.shard_duration), p));
    frozen.chain(active)
}

/// Every series of the bucket that may match, in partitions overlapping the range,
/// from memory and from the catalog (never from data files).
fn series_in_range(
    b: &BucketData,
    start: i64,
    stop: i64,
    predicate: &Predicate,
) -> BTreeMap<Arc<SeriesKey>, BTreeSet<(String, FieldType)>> {
    let mut out: BTreeMap<Arc<SeriesKey>, BTreeSet<(String, FieldType)>> = BTreeMap::new();
    for (_, k, duration, p) in buffered(b) {
        if !overlaps(k.shard_start, duration, start, stop) || !predicate.may_match_measurement(&k.measurement) {
            continue;
        }
        for (sid, data) in p {
            let key = &b.series.keys[*sid as usize];
            if predicate.matches_series(key) == Some(false) {
                continue;
            }
            let fields = out.entry(Arc::clone(key)).or_default();
            fields.extend(data.fields.iter().map(|c| (c.name.to_string(), c.values.field_type())));
        }
    }
    for p in &b.catalog.partitions {
        if !overlaps(p.shard_start, p.shard_duration, start, stop) || !predicate.may_match_measurement(&p.measurement) {
            continue;
        }
        for tags in &p.series {
            let key = Arc::new(SeriesKey::new(p.measurement.clone(), tags.clone()));
            if predicate.matches_series(&key) == Some(false) {
                continue;
            }
            out.entry(key).or_default().extend(p.fields.iter().map(|(f, t)| (f.clone(), *t)));
        }
    }
    out
}

/// Rows read from the end (for `last`) or start (for `first`) of a series in
/// a file before falling back to reading all of it.
const EDGE_ROWS: usize = 64;

/// A candidate for a series' first or last value: its time, how recent its source is, the value.
type Edge = (FieldType, i64, u32, ArrayRef);

/// A series of a file and the rows of it to read.
type Pick<'a> = (&'a crate::persist::SeriesEntry, (usize, usize));

impl Storage {
    /// `first` or `last` over one window spanning the whole range, reading only
    /// the edge of each series: `None` when that does not apply (other
    /// aggregates, several windows, or deletes to honour).
    fn edge_aggregate(&self, req: &WindowRequest) -> Result<Option<Vec<FieldSeries>>> {
        let last = match req.aggregate {
            crate::read::Aggregate::Last => true,
            crate::read::Aggregate::First => false,
            _ => return Ok(None),
        };
        let (start, stop) = (req.scan.start, req.scan.stop);
        let ws = window_start(start, req.every, req.offset);
        if ws.saturating_add(req.every) < stop || req.create_empty {
            return Ok(None);
        }
        let st = self.read_state();
        let Some(b) = st.buckets.get(&req.scan.bucket) else {
            return Ok(Some(Vec::new()));
        };
        if !b.catalog.tombstones.is_empty() {
            return Ok(None);
        }
        let mut best: BTreeMap<(Arc<SeriesKey>, String), Edge> = BTreeMap::new();
        let better = |have: Option<&Edge>, t: i64, rank: u32| match have {
            None => true,
            Some((_, ht, hr, _)) if last => t > *ht || t == *ht && rank > *hr,
            Some((_, ht, hr, _)) => t < *ht || t == *ht && rank > *hr,
        };
        let mut offer = |key: &Arc<SeriesKey>, field: &str, ft: FieldType, t: i64, rank: u32, v: ArrayRef| {
            let k = (Arc::clone(key), field.to_owned());
            if better(best.get(&k), t, rank) {
                best.insert(k, (ft, t, rank, v));
            }
        };
        for p in &b.catalog.partitions {
            if !overlaps(p.shard_start, p.shard_duration, start, stop)
                || !req.scan.predicate.may_match_measurement(&p.measurement)
            {
                continue;
            }
            for (rank, f) in p.files.iter().enumerate() {
                if f.max_time < start || f.min_time >= stop {
                    continue;
                }
                let index = self.inner.index_of(req.scan.bucket, f.id)?;
                let meta = self.inner.reader_meta_of(req.scan.bucket, f.id)?;
                let path = crate::catalog::BucketCatalog::file_path(req.scan.bucket, f.id);
                let mut ranges: Vec<Pick<'_>> = Vec::new();
                for e in index.iter().filter(|e| e.max_time >= start && e.min_time < stop) {
                    if req.scan.predicate.matches_series_parts(&p.measurement, &e.tags) == Some(false) {
                        continue;
                    }
                    let r = crate::persist::prune_by_time(&meta, e.rows, start, stop);
                    if r.1 > r.0 {
                        ranges.push((e, r));
                    }
                }
                // The edge rows first; a series whose edge holds nothing in range for a field is read whole.
                let edge = |(r0, r1): (usize, usize)| {
                    if last { (r0.max(r1.saturating_sub(EDGE_ROWS)), r1) } else { (r0, r1.min(r0 + EDGE_ROWS)) }
                };
                let picks: Vec<_> = ranges.iter().map(|(e, r)| (*e, edge(*r))).collect();
                let mut again: Vec<Pick<'_>> = Vec::new();
                let read = crate::persist::read_rows(
                    &self.inner.objects,
                    &path,
                    &meta,
                    &p.measurement,
                    picks,
                    req.scan.fields.as_ref(),
                )?;
                let by_tags: std::collections::HashMap<&Vec<(String, String)>, &Pick<'_>> =
                    ranges.iter().map(|x| (&x.0.tags, x)).collect();
                for rows in &read {
                    let Some((e, r)) = by_tags.get(&rows.key.tags).copied() else { continue };
                    let mut missing = false;
                    for (name, arr) in &rows.fields {
                        if !req.scan.wants(&rows.key, name) {
                            continue;
                        }
                        let Some(ft) = FieldType::of_arrow(arr.data_type()) else { continue };
                        match edge_row(&rows.times, arr.as_ref(), start, stop, last) {
                            Some(i) => offer(&rows.key, name, ft, rows.times[i], rank as u32, arr.slice(i, 1)),
                            None => missing = true,
                        }
                    }
                    if missing && edge(*r) != *r {
                        again.push((*e, *r));
                    }
                }
                if !again.is_empty() {
                    for rows in crate::persist::read_rows(
                        &self.inner.objects,
                        &path,
                        &meta,
                        &p.measurement,
                        again,
                        req.scan.fields.as_ref(),
                    )? {
                        for (name, arr) in &rows.fields {
                            if !req.scan.wants(&rows.key, name) {
                                continue;
                            }
                            let Some(ft) = FieldType::of_arrow(arr.data_type()) else { continue };
                            if let Some(i) = edge_row(&rows.times, arr.as_ref(), start, stop, last) {
                                offer(&rows.key, name, ft, rows.times[i], rank as u32, arr.slice(i, 1));
                            }
                        }
                    }
                }
            }
        }
        for (rank, k, duration, p) in buffered(b) {
            if !overlaps(k.shard_start, duration, start, stop)
                || !req.scan.predicate.may_match_measurement(&k.measurement)
            {
                continue;
            }
            for (sid, data) in p {
                let key = &b.series.keys[*sid as usize];
                if req.scan.predicate.matches_series(key) == Some(false) {
                    continue;
                }
                for (fi, col) in data.fields.iter().enumerate() {
                    if !req.scan.wants(key, &col.name) {
                        continue;
                    }
                    let rows = data.rows(fi, start, stop);
                    let pick = if last { rows.last() } else { rows.first() };
                    if let Some(&i) = pick {
                        offer(key, &col.name, col.values.field_type(), data.times[i], rank, col.values.take(&[i]));
                    }
                }
            }
        }
        drop(st);
        let (lo, hi) = (ws.max(start), ws.saturating_add(req.every).min(stop));
        best.into_iter()
            .map(|((series, field), (field_type, t, _, v))| {
                Ok(FieldSeries {
                    series,
                    field,
                    field_type,
                    batch: batch(vec![
                        ("_start", times(vec![lo])),
                        ("_stop", times(vec![hi])),
                        ("_time", times(vec![t])),
                        ("_value", v),
                    ])?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// The series a scan will read, in order, with the rows each may have
    /// (file rows in range plus buffered rows: an overestimate where tiers overlap).
    fn plan(&self, req: &ScanRequest) -> Result<Vec<(SeriesKey, usize)>> {
        let st = self.read_state();
        let mut rows: BTreeMap<SeriesKey, usize> = BTreeMap::new();
        let Some(b) = st.buckets.get(&req.bucket) else {
            return Ok(Vec::new());
        };
        let (start, stop) = (req.start, req.stop);
        for p in &b.catalog.partitions {
            if !overlaps(p.shard_start, p.shard_duration, start, stop)
                || !req.predicate.may_match_measurement(&p.measurement)
            {
                continue;
            }
            for f in &p.files {
                if f.max_time < start || f.min_time >= stop {
                    continue;
                }
                for e in self.inner.index_of(req.bucket, f.id)?.iter() {
                    if e.max_time < start || e.min_time >= stop {
                        continue;
                    }
                    if req.predicate.matches_series_parts(&p.measurement, &e.tags) != Some(false) {
                        let key = SeriesKey { measurement: p.measurement.clone(), tags: e.tags.clone() };
                        *rows.entry(key).or_default() += e.rows.1 - e.rows.0;
                    }
                }
            }
        }
        for (_, k, duration, p) in buffered(b) {
            if !overlaps(k.shard_start, duration, start, stop) || !req.predicate.may_match_measurement(&k.measurement) {
                continue;
            }
            for (sid, data) in p {
                let key = &b.series.keys[*sid as usize];
                if req.predicate.matches_series(key) != Some(false) {
                    *rows.entry((**key).clone()).or_default() += data.times.len();
                }
            }
        }
        Ok(rows.into_iter().collect())
    }

    fn gather(&self, req: &ScanRequest) -> Result<Gathered> {
        self.gather_within(req, None)
    }

    /// What a scan reads of the series from `lo` through `hi` (all, with `None`).
    fn gather_within(&self, req: &ScanRequest, within: Option<(&SeriesKey, &SeriesKey)>) -> Result<Gathered> {
        let inside = |measurement: &str, tags: &[(String, String)]| {
            within.is_none_or(|(lo, hi)| {
                let key = (measurement, tags);
                (lo.measurement.as_str(), lo.tags.as_slice()) <= key
                    && key <= (hi.measurement.as_str(), hi.tags.as_slice())
            })
        };
        let st = self.read_state();
        let mut out: Gathered = BTreeMap::new();
        let Some(b) = st.buckets.get(&req.bucket) else {
            return Ok(out);
        };
        let (start, stop) = (req.start, req.stop);
        // Files.
        let tombs: Vec<(i64, i64, crate::delete::DeletePredicate)> = b
            .catalog
            .tombstones
            .iter()
            .filter_map(|t| crate::delete::DeletePredicate::parse(&t.predicate).ok().map(|p| (t.start, t.stop, p)))
            .collect();
        for p in &b.catalog.partitions {
            if !overlaps(p.shard_start, p.shard_duration, start, stop)
                || !req.predicate.may_match_measurement(&p.measurement)
            {
                continue;
            }
            for (rank, f) in p.files.iter().enumerate() {
                if f.max_time < start || f.min_time >= stop {
                    continue;
                }
                let index = self.inner.index_of(req.bucket, f.id)?;
                let entries: Vec<&crate::persist::SeriesEntry> = index
                    .iter()
                    .filter(|e| e.max_time >= start && e.min_time < stop)
                    .filter(|e| {
                        req.predicate.matches_series_parts(&p.measurement, &e.tags) != Some(false)
                            && inside(&p.measurement, &e.tags)
                    })
                    .collect();
                if entries.is_empty() {
                    continue;
                }
                let path = crate::catalog::BucketCatalog::file_path(req.bucket, f.id);
                let meta = self.inner.reader_meta_of(req.bucket, f.id)?;
                for rows in crate::persist::read_arrays(
                    &self.inner.objects,
                    &path,
                    &meta,
                    &p.measurement,
                    &entries,
                    req.fields.as_ref(),
                    Some((start, stop)),
                )? {
                    // Rows a tombstone covers are not there.
                    let deleted: Vec<&(i64, i64, crate::delete::DeletePredicate)> =
                        tombs.iter().filter(|(_, _, tp)| tp.matches(&rows.key)).collect();
                    let lo = rows.times.partition_point(|&t| t < start);
                    let hi = rows.times.partition_point(|&t| t < stop);
                    for (name, arr) in &rows.fields {
                        if !req.wants(&rows.key, name) {
                            continue;
                        }
                        let Some(ft) = FieldType::of_arrow(arr.data_type()) else { continue };
                        let slice = arr.slice(lo, hi - lo);
                        let times = &rows.times[lo..hi];
                        let (times, values) = if slice.null_count() == 0 && deleted.is_empty() {
                            (times.to_vec(), slice)
                        } else {
                            let keep: Vec<usize> = (0..slice.len())
                                .filter(|&i| {
                                    slice.is_valid(i)
                                        && !deleted.iter().any(|(ts, te, _)| times[i] >= *ts && times[i] <= *te)
                                })
                                .collect();
                            let indices = UInt64Array::from_iter_values(keep.iter().map(|&i| i as u64));
                            (
                                keep.iter().map(|&i| times[i]).collect(),
                                arrow::compute::take(slice.as_ref(), &indices, None)?,
                            )
                        };
                        if times.is_empty() {
                            continue;
                        }
                        let entry =
                            out.entry((Arc::clone(&rows.key), name.clone())).or_insert_with(|| (ft, Vec::new()));
                        entry.1.push(Chunk { times, values, rank: rank as u32 });
                    }
                }
            }
        }
        // Buffers.
        for (rank, k, duration, p) in buffered(b) {
            if !overlaps(k.shard_start, duration, start, stop) || !req.predicate.may_match_measurement(&k.measurement) {
                continue;
            }
            for (sid, data) in p {
                let key = &b.series.keys[*sid as usize];
                if req.predicate.matches_series(key) == Some(false) || !inside(&key.measurement, &key.tags) {
                    continue;
                }
                for (fi, col) in data.fields.iter().enumerate() {
                    if !req.wants(key, &col.name) {
                        continue;
                    }
                    let rows = data.rows(fi, start, stop);
                    if rows.is_empty() {
                        continue;
                    }
                    let entry = out
                        .entry((Arc::clone(key), col.name.to_string()))
                        .or_insert_with(|| (col.values.field_type(), Vec::new()));
                    entry.1.push(Chunk {
                        times: rows.iter().map(|&i| data.times[i]).collect(),
                        values: col.values.take(&rows),
                        rank,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Merges the chunks of one series' field: sorted by time, one value per time,
/// the most recent source winning.
fn merge_chunks(mut chunks: Vec<Chunk>) -> Result<(Vec<i64>, ArrayRef)> {
    if chunks.len() == 1 {
        let c = chunks.pop().ok_or_else(|| Error::Invalid("no chunk".into()))?;
        return Ok((c.times, c.values));
    }
    let times: Vec<i64> = chunks.iter().flat_map(|c| c.times.iter().copied()).collect();
    let ranks: Vec<u32> = chunks.iter().flat_map(|c| std::iter::repeat_n(c.rank, c.times.len())).collect();
    let refs: Vec<&dyn Array> = chunks.iter().map(|c| c.values.as_ref()).collect();
    let values = arrow::compute::concat(&refs)?;
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by_key(|&i| (times[i], ranks[i]));
    let mut keep: Vec<usize> = Vec::with_capacity(order.len());
    for i in order {
        match keep.last_mut() {
            Some(last) if times[*last] == times[i] => *last = i,
            _ => keep.push(i),
        }
    }
    let indices = UInt64Array::from_iter_values(keep.iter().map(|&i| i as u64));
    Ok((keep.iter().map(|&i| times[i]).collect(), arrow::compute::take(values.as_ref(), &indices, None)?))
}

impl ReadApi for Storage {
    fn scan(&self, req: &ScanRequest) -> Result<Vec<FieldSeries>> {
        let gathered = self.gather(req)?;
        let mut out = Vec::with_capacity(gathered.len());
        for ((series, field), (field_type, chunks)) in gathered {
            let (t, values) = merge_chunks(chunks)?;
            out.push(FieldSeries {
                series,
                field,
                field_type,
                batch: batch(vec![("_time", times(t)), ("_value", values)])?,
            });
        }
        Ok(out)
    }

    fn scan_each(&self, req: &ScanRequest, f: &mut dyn FnMut(FieldSeries) -> ControlFlow<()>) -> Result<()> {
        let plan = self.plan(req)?;
        let budget = self.inner.config.scan_group_rows;
        let mut at = 0;
        while at < plan.len() {
            // The next group: series while their rows fit the budget (at least one).
            let mut end = at;
            let mut rows = 0;
            while end < plan.len() && (end == at || rows + plan[end].1 <= budget) {
                rows += plan[end].1;
                end += 1;
            }
            let within = (end - at < plan.len()).then(|| (&plan[at].0, &plan[end - 1].0));
            for ((series, field), (field_type, chunks)) in self.gather_within(req, within)? {
                let (t, values) = merge_chunks(chunks)?;
                let fs = FieldSeries {
                    series,
                    field,
                    field_type,
                    batch: batch(vec![("_time", times(t)), ("_value", values)])?,
                };
                if f(fs).is_break() {
                    return Ok(());
                }
            }
            at = end;
        }
        Ok(())
    }

    fn window_aggregate(&self, req: &WindowRequest) -> Result<Vec<FieldSeries>> {
        if req.every <= 0 {
            return Err(Error::Invalid("window duration must be positive".into()));
        }
        if let Some(out) = self.edge_aggregate(req)? {
            return Ok(out);
        }
        // Series by series: only the windows are kept.
        let mut out = Vec::new();
        let mut failed = None;
        self.scan_each(&req.scan, &mut |fs| match window_one(req, fs) {
            Ok(w) => {
                out.push(w);
                ControlFlow::Continue(())
            }
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        })?;
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn measurements(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>> {
        let st = self.read_state();
        let Some(b) = st.buckets.get(&bucket) else {
            return Ok(Vec::new());
        };
        let set: BTreeSet<String> =
            series_in_range(b, start, stop, predicate).keys().map(|k| k.measurement.clone()).collect();
        Ok(set.into_iter().collect())
    }

    fn tag_keys(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>> {
        let st = self.read_state();
        let Some(b) = st.buckets.get(&bucket) else {
            return Ok(Vec::new());
        };
        if let Some(m) = only_measurement(predicate) {
            // One measurement: its series' tag keys, without building series keys.
            let mut set: BTreeSet<&str> = BTreeSet::new();
            for p in b.catalog.partitions.iter().filter(|p| p.measurement == m) {
                if overlaps(p.shard_start, p.shard_duration, start, stop) {
                    set.extend(p.series.iter().flat_map(|tags| tags.iter().map(|(k, _)| k.as_str())));
                }
            }
            for (_, k, duration, part) in buffered(b) {
                if &*k.measurement == m && overlaps(k.shard_start, duration, start, stop) {
                    for sid in part.keys() {
                        set.extend(b.series.keys[*sid as usize].tags.iter().map(|(k, _)| k.as_str()));
                    }
                }
            }
            return Ok(set.into_iter().map(str::to_owned).collect());
        }
        let set: BTreeSet<String> = series_in_range(b, start, stop, predicate)
            .keys()
            .flat_map(|k| k.tags.iter().map(|(t, _)| t.clone()))
            .collect();
        Ok(set.into_iter().collect())
    }

    fn tag_values(&self, bucket: u64, tag: &str, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<String>> {
        let st = self.read_state();
        let Some(b) = st.buckets.get(&bucket) else {
            return Ok(Vec::new());
        };
        let set: BTreeSet<String> = series_in_range(b, start, stop, predicate)
            .keys()
            .filter_map(|k| match tag {
                "_measurement" => Some(k.measurement.clone()),
                _ => k.tag(tag).map(str::to_owned),
            })
            .collect();
        Ok(set.into_iter().collect())
    }

    fn field_keys(
        &self,
        bucket: u64,
        start: i64,
        stop: i64,
        predicate: &Predicate,
    ) -> Result<Vec<(String, FieldType)>> {
        let st = self.read_state();
        let Some(b) = st.buckets.get(&bucket) else {
            return Ok(Vec::new());
        };
        let mut set = BTreeMap::new();
        if let Some(m) = only_measurement(predicate) {
            // One measurement: the fields its partitions and buffers record.
            for p in b.catalog.partitions.iter().filter(|p| p.measurement == m) {
                if overlaps(p.shard_start, p.shard_duration, start, stop) {
                    set.extend(p.fields.iter().map(|(f, t)| (f.clone(), *t)));
                }
            }
            for (_, k, duration, part) in buffered(b) {
                if &*k.measurement == m && overlaps(k.shard_start, duration, start, stop) {
                    for data in part.values() {
                        set.extend(data.fields.iter().map(|c| (c.name.to_string(), c.values.field_type())));
                    }
                }
            }
            return Ok(set.into_iter().collect());
        }
        for (key, fields) in series_in_range(b, start, stop, predicate) {
            for (name, t) in fields {
                if predicate.matches(&key, &name) {
                    set.insert(name, t);
                }
            }
        }
        Ok(set.into_iter().collect())
    }

    fn series_keys(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<Vec<Arc<SeriesKey>>> {
        let st = self.read_state();
        let Some(b) = st.buckets.get(&bucket) else {
            return Ok(Vec::new());
        };
        Ok(series_in_range(b, start, stop, predicate).into_keys().collect())
    }

    fn series_cardinality(&self, bucket: u64, start: i64, stop: i64, predicate: &Predicate) -> Result<usize> {
        let st = self.read_state();
        let Some(b) = st.buckets.get(&bucket) else {
            return Ok(0);
        };
        Ok(series_in_range(b, start, stop, predicate).len())
    }
}

/// The measurement a predicate that only names one measurement names.
fn only_measurement(p: &Predicate) -> Option<&str> {
    match p {
        Predicate::Compare(crate::predicate::Subject::Measurement, crate::predicate::Matcher::Eq(m)) => Some(m),
        _ => None,
    }
}

pub(crate) fn window_one(req: &WindowRequest, fs: FieldSeries) -> Result<FieldSeries> {
    let (every, offset) = (req.every, req.offset);
    let t = fs
        .batch
        .column(0)
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .ok_or_else(|| Error::Invalid("scan produced no time column".into()))?
        .values()
        .to_vec();
    let values = Arc::clone(fs.batch.column(1));
    // Group row ranges by window (rows are sorted by time).
    let mut windows: Vec<(i64, std::ops::Range<usize>)> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let ws = window_start(t[i], every, offset);
        let mut j = i;
        while j < t.len() && t[j] < ws + every {
            j += 1;
        }
        windows.push((ws, i..j));
        i = j;
    }
    if req.create_empty {
        let mut all = Vec::new();
        let mut ws = window_start(req.scan.start, every, offset);
        let mut next = windows.into_iter().peekable();
        while ws < req.scan.stop {
            match next.peek() {
                Some((s, _)) if *s == ws => all.push(next.next().unwrap_or((ws, 0..0))),
                _ => all.push((ws, 0..0)),
            }
            ws += every;
        }
        windows = all;
    }
    let clamp = |ws: i64| (ws.max(req.scan.start), (ws + every).min(req.scan.stop));
    let starts: Vec<i64> = windows.iter().map(|(ws, _)| clamp(*ws).0).collect();
    let stops: Vec<i64> = windows.iter().map(|(ws, _)| clamp(*ws).1).collect();
    let (value_col, time_col, out_type) =
        aggregate_windows(req.aggregate, fs.field_type, &values, &t, &windows, &stops)?;
    Ok(FieldSeries {
        series: fs.series,
        field: fs.field,
        field_type: out_type,
        batch: batch(vec![
            ("_start", times(starts)),
            ("_stop", times(stops)),
            ("_time", times(time_col)),
            ("_value", value_col),
        ])?,
    })
}
