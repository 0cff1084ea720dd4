//! Parquet files: one partition's buffered series, sorted by series key and time.
//!
//! Columns: one dictionary-encoded string column per tag key (null where a
//! series lacks the tag), `time` (delta-encoded i64 nanoseconds), and one
//! nullable column per field (floats byte-stream-split), all zstd. The footer's
//! key-value metadata `oxiflux.series` lists each series with its row range and
//! time range, so a one-series read touches only that series' rows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Float64Array, Float64Builder, Int64Array, Int64Builder, StringArray,
    StringBuilder, StringDictionaryBuilder, UInt64Array, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use arrow::record_batch::RecordBatch;
use futures::TryStreamExt;
use object_store::buffered::BufWriter;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection, RowSelector};
use parquet::arrow::{AsyncArrowWriter, ParquetRecordBatchStreamBuilder};
use parquet::basic::{Compression, Encoding};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use crate::buffer::{SeriesData, Values};
use crate::error::{Error, Result};
use crate::objects::Objects;
use crate::series::{FieldType, SeriesKey};

const SERIES_META: &str = "oxiflux.series";
const TIME: &str = "time";
/// Column-name prefixes keep tag keys and field keys apart.
const TAG_PREFIX: &str = "t:";
const FIELD_PREFIX: &str = "f:";

/// One series' place in a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SeriesEntry {
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) rows: (usize, usize),
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
}

/// What a written file holds, for the catalog.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub(crate) rows: usize,
    pub(crate) bytes: u64,
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
    fn empty(t: FieldType, n: usize) -> Self {
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
    fn set_from(&mut self, i: usize, a: &dyn Array, j: usize) {
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

fn is_all_null(c: &FieldColumn) -> bool {
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

fn arrow_type(t: FieldType) -> DataType {
    match t {
        FieldType::Float => DataType::Float64,
        FieldType::Integer => DataType::Int64,
        FieldType::UInteger => DataType::UInt64,
        FieldType::String => DataType::Utf8,
        FieldType::Boolean => DataType::Boolean,
    }
}

/// Writes a file a group of series at a time, so a partition of any size is
/// written in bounded memory (each row group is uploaded as it fills). Series
/// must come in key order.
pub(crate) struct FileWriter<'a> {
    objects: &'a Objects,
    path: String,
    writer: Option<AsyncArrowWriter<BufWriter>>,
    props: WriterProperties,
    schema: Arc<Schema>,
    tag_keys: Vec<String>,
    fields: BTreeMap<String, FieldType>,
    index: Vec<SeriesEntry>,
    rows: usize,
    min_time: i64,
    max_time: i64,
}

impl std::fmt::Debug for FileWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWriter").field("path", &self.path).field("rows", &self.rows).finish_non_exhaustive()
    }
}

/// Rows per row group: bounds what the writer holds in memory.
const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Rows per data page at most: with the page index, a read of a few series
/// decodes the pages that hold them, not whole row groups.
const PAGE_ROWS: usize = 1024;

impl<'a> FileWriter<'a> {
    pub(crate) fn create(
        objects: &'a Objects,
        path: &str,
        tag_keys: BTreeSet<String>,
        fields: BTreeMap<String, FieldType>,
    ) -> Result<Self> {
        let mut schema_fields = Vec::new();
        for k in &tag_keys {
            schema_fields.push(Field::new(
                format!("{TAG_PREFIX}{k}"),
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ));
        }
        schema_fields.push(Field::new(TIME, DataType::Int64, false));
        for (name, t) in &fields {
            schema_fields.push(Field::new(format!("{FIELD_PREFIX}{name}"), arrow_type(*t), true));
        }
        let schema = Arc::new(Schema::new(schema_fields));
        let mut props = WriterProperties::builder()
            .set_compression(Compression::LZ4_RAW)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_data_page_row_count_limit(PAGE_ROWS)
            .set_write_batch_size(PAGE_ROWS)
            .set_column_encoding(ColumnPath::from(TIME), Encoding::DELTA_BINARY_PACKED)
            .set_column_dictionary_enabled(ColumnPath::from(TIME), false);
        for (name, ft) in &fields {
            let col = ColumnPath::from(format!("{FIELD_PREFIX}{name}"));
            match ft {
                // Plain floats: BYTE_STREAM_SPLIT made files 16% smaller on the
                // TSBS data, but decoding it was half of a scan's time
                // (`oxiflux-bench queries`: double-groupby-1 52 ms → 21 ms plain).
                FieldType::Float => {
                    props = props
                        .set_column_dictionary_enabled(col.clone(), false)
                        .set_column_encoding(col, Encoding::PLAIN);
                }
                FieldType::Integer | FieldType::UInteger => {
                    props = props
                        .set_column_dictionary_enabled(col.clone(), false)
                        .set_column_encoding(col, Encoding::DELTA_BINARY_PACKED);
                }
                _ => {}
            }
        }
        Ok(Self {
            objects,
            path: path.to_owned(),
            writer: None,
            props: props.build(),
            schema,
            tag_keys: tag_keys.into_iter().collect(),
            fields,
            index: Vec::new(),
            rows: 0,
            min_time: i64::MAX,
            max_time: i64::MIN,
        })
    }

    /// Appends a group of series (in key order, after any written before).
    pub(crate) fn write(&mut self, series: &[SeriesRows]) -> Result<()> {
        let n: usize = series.iter().map(|s| s.times.len()).sum();
        if n == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = Vec::new();
        for k in &self.tag_keys {
            let mut b = StringDictionaryBuilder::<Int32Type>::new();
            for s in series {
                match s.key.tag(k) {
                    Some(v) => {
                        for _ in 0..s.times.len() {
                            b.append_value(v);
                        }
                    }
                    None => b.append_nulls(s.times.len()),
                }
            }
            columns.push(Arc::new(b.finish()));
        }
        let mut t = Int64Builder::with_capacity(n);
        for s in series {
            t.append_slice(&s.times);
        }
        columns.push(Arc::new(t.finish()));
        for (name, ft) in &self.fields {
            columns.push(field_column(name, *ft, series, n));
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        if self.writer.is_none() {
            let w = AsyncArrowWriter::try_new(
                self.objects.writer(&self.path),
                Arc::clone(&self.schema),
                Some(self.props.clone()),
            )?;
            self.writer = Some(w);
        }
        if let Some(w) = self.writer.as_mut() {
            self.objects.block_on(w.write(&batch))?;
        }
        for s in series {
            if s.times.is_empty() {
                continue;
            }
            let (lo, hi) = (s.times[0], s.times[s.times.len() - 1]);
            self.index.push(SeriesEntry {
                tags: s.key.tags.clone(),
                rows: (self.rows, self.rows + s.times.len()),
                min_time: lo,
                max_time: hi,
            });
            self.rows += s.times.len();
            self.min_time = self.min_time.min(lo);
            self.max_time = self.max_time.max(hi);
        }
        Ok(())
    }

    /// Writes the series index into the footer and completes the upload (the file
    /// appears whole or not at all). `None` if nothing was written.
    pub(crate) fn finish(self) -> Result<Option<Written>> {
        let Some(mut writer) = self.writer else { return Ok(None) };
        writer.append_key_value_metadata(KeyValue::new(
            SERIES_META.to_owned(),
            serde_json::to_string(&self.index).map_err(|e| Error::Corrupt(e.to_string()))?,
        ));
        self.objects.block_on(writer.close())?;
        Ok(Some(Written {
            rows: self.rows,
            bytes: self.objects.size(&self.path)?,
            min_time: self.min_time,
            max_time: self.max_time,
        }))
    }
}

/// Writes `series` (sorted by key) to a new Parquet file at `path`, durably.
#[cfg(test)]
pub(crate) fn write_file(
    objects: &Objects,
    path: &str,
    fields: &BTreeMap<String, FieldType>,
    series: &[SeriesRows],
) -> Result<Written> {
    let tag_keys = series.iter().flat_map(|s| s.key.tags.iter().map(|(k, _)| k.clone())).collect();
    let mut w = FileWriter::create(objects, path, tag_keys, fields.clone())?;
    w.write(series)?;
    w.finish()?.ok_or_else(|| Error::Invalid("no rows".into()))
}

fn field_column(name: &str, ft: FieldType, series: &[SeriesRows], rows: usize) -> ArrayRef {
    macro_rules! build {
        ($builder:expr, $variant:ident, $conv:expr) => {{
            let mut b = $builder;
            for s in series {
                match s.fields.get(name) {
                    Some(FieldColumn::$variant(v)) => {
                        for x in v {
                            b.append_option(x.as_ref().map($conv));
                        }
                    }
                    _ => {
                        for _ in 0..s.times.len() {
                            b.append_null();
                        }
                    }
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    match ft {
        FieldType::Float => build!(Float64Builder::with_capacity(rows), Float, |x: &f64| *x),
        FieldType::Integer => build!(Int64Builder::with_capacity(rows), Integer, |x: &i64| *x),
        FieldType::UInteger => build!(UInt64Builder::with_capacity(rows), UInteger, |x: &u64| *x),
        FieldType::String => build!(StringBuilder::new(), String, |x: &String| x.clone()),
        FieldType::Boolean => build!(BooleanBuilder::with_capacity(rows), Boolean, |x: &bool| *x),
    }
}

/// The series index of a file, from its footer.
pub(crate) fn read_index(objects: &Objects, path: &str) -> Result<Vec<SeriesEntry>> {
    let builder = objects.block_on_read(ParquetRecordBatchStreamBuilder::new(objects.reader(path)))?;
    let kv = builder.metadata().file_metadata().key_value_metadata();
    let json = kv
        .and_then(|kv| kv.iter().find(|e| e.key == SERIES_META))
        .and_then(|e| e.value.clone())
        .ok_or_else(|| Error::Corrupt(format!("{path} has no series index")))?;
    serde_json::from_str(&json).map_err(|e| Error::Corrupt(format!("{path}: series index: {e}")))
}

/// A file's Parquet metadata with its page index, read once per file and kept.
pub(crate) fn load_reader_meta(objects: &Objects, path: &str) -> Result<ArrowReaderMetadata> {
    let mut reader = objects.reader(path);
    let options = ArrowReaderOptions::new().with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Optional);
    Ok(objects.block_on_read(ArrowReaderMetadata::load_async(&mut reader, options))?)
}

/// One series' rows of a file as Arrow arrays: times, and each field present.
#[derive(Debug)]
pub(crate) struct SeriesArrays {
    pub(crate) key: Arc<SeriesKey>,
    pub(crate) times: Vec<i64>,
    pub(crate) fields: Vec<(String, ArrayRef)>,
}

/// The part of a series' rows `[r0, r1)` whose time pages (by the page index's
/// min and max) can hold times in `[start, stop)`; all of it without a page index.
pub(crate) fn prune_by_time(
    meta: &ArrowReaderMetadata,
    (r0, r1): (usize, usize),
    start: i64,
    stop: i64,
) -> (usize, usize) {
    let md = meta.metadata();
    let Some(time_col) = md.file_metadata().schema_descr().columns().iter().position(|c| c.name() == TIME) else {
        return (r0, r1);
    };
    // A series' times ascend: a page wholly its own that ends before `start`
    // rules out every row before it, and one that begins at or after `stop`
    // every row after it. (Pages shared with other series say nothing.)
    let (mut lo, mut hi) = (r0, r1);
    let mut rg_start = 0usize;
    for (rg, rgm) in md.row_groups().iter().enumerate() {
        let rg_end = rg_start + rgm.num_rows() as usize;
        if rg_end <= r0 || rg_start >= r1 {
            rg_start = rg_end;
            continue;
        }
        let index = md.page_index_for_row_group(rg);
        let (Some(parquet::file::page_index::column_index::ColumnIndexMetaData::INT64(ci)), Some(oi)) =
            (index.column_index(time_col), index.offset_index(time_col))
        else {
            return (r0, r1);
        };
        let pages = oi.page_locations();
        for (p, loc) in pages.iter().enumerate() {
            let p0 = rg_start + loc.first_row_index as usize;
            let p1 = pages.get(p + 1).map_or(rg_end, |n| rg_start + n.first_row_index as usize);
            if p1 <= r0 || p0 >= r1 {
                continue;
            }
            let (Some(min), Some(max)) = (ci.min_value(p), ci.max_value(p)) else { return (r0, r1) };
            if p0 < r0 || p1 > r1 {
                continue;
            }
            if *max < start {
                lo = lo.max(p1);
            }
            if *min >= stop {
                hi = hi.min(p0);
            }
        }
        rg_start = rg_end;
    }
    if lo >= hi { (r0, r0) } else { (lo, hi) }
}

/// Reads the given series' rows of a file (only the pages that hold them,
/// within `time` when given), as Arrow arrays.
pub(crate) fn read_arrays(
    objects: &Objects,
    path: &str,
    meta: &ArrowReaderMetadata,
    measurement: &str,
    entries: &[&SeriesEntry],
    fields: Option<&BTreeSet<String>>,
    time: Option<(i64, i64)>,
) -> Result<Vec<SeriesArrays>> {
    let picks: Vec<(&SeriesEntry, (usize, usize))> = entries
        .iter()
        .map(|e| (*e, time.map_or(e.rows, |(start, stop)| prune_by_time(meta, e.rows, start, stop))))
        .collect();
    read_rows(objects, path, meta, measurement, picks, fields)
}

/// Reads row ranges of series (each within its entry's rows) as Arrow arrays.
pub(crate) fn read_rows(
    objects: &Objects,
    path: &str,
    meta: &ArrowReaderMetadata,
    measurement: &str,
    mut sorted: Vec<(&SeriesEntry, (usize, usize))>,
    fields: Option<&BTreeSet<String>>,
) -> Result<Vec<SeriesArrays>> {
    if sorted.is_empty() {
        return Ok(Vec::new());
    }
    let builder = ParquetRecordBatchStreamBuilder::new_with_metadata(objects.reader(path), meta.clone());
    let schema = Arc::clone(builder.schema());
    let wanted: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.name() == TIME
                || f.name().strip_prefix(FIELD_PREFIX).is_some_and(|n| fields.is_none_or(|set| set.contains(n)))
        })
        .map(|(i, _)| i)
        .collect();
    let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), wanted.iter().copied());
    sorted.sort_by_key(|(_, r)| r.0);
    let mut selectors = Vec::new();
    let mut at = 0;
    for (_, (r0, r1)) in &sorted {
        if *r0 > at {
            selectors.push(RowSelector::skip(r0 - at));
        }
        if r1 > r0 {
            selectors.push(RowSelector::select(r1 - r0));
        }
        at = at.max(*r1);
    }
    // Batches no bigger than what is selected: the reader sizes its buffers by them.
    let selected: usize = sorted.iter().map(|(_, (r0, r1))| r1 - r0).sum();
    if selected == 0 {
        return Ok(Vec::new());
    }
    let reader = builder
        .with_projection(mask)
        .with_row_selection(RowSelection::from(selectors))
        .with_batch_size(selected.clamp(1, 1 << 16))
        .build()?;
    let batches: Vec<RecordBatch> = objects.block_on_read(reader.try_collect())?;
    let Some(out_schema) = batches.first().map(|b| b.schema()) else {
        return Ok(Vec::new());
    };
    let time_idx = out_schema.index_of(TIME)?;
    // Each series' rows, from the batches the reader made (one per row group):
    // a slice of one batch, or pieces of two joined.
    let starts: Vec<usize> = batches
        .iter()
        .scan(0, |acc, b| {
            let s = *acc;
            *acc += b.num_rows();
            Some(s)
        })
        .collect();
    let column = |col: usize, offset: usize, n: usize| -> Result<ArrayRef> {
        let first = starts.partition_point(|&s| s <= offset) - 1;
        let local = offset - starts[first];
        if local + n <= batches[first].num_rows() {
            return Ok(batches[first].column(col).slice(local, n));
        }
        let mut pieces = Vec::new();
        let (mut at, mut left) = (offset, n);
        for (b, s) in batches.iter().zip(&starts).skip(first) {
            if left == 0 {
                break;
            }
            let from = at - s;
            let take = left.min(b.num_rows() - from);
            pieces.push(b.column(col).slice(from, take));
            at += take;
            left -= take;
        }
        let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
        Ok(arrow::compute::concat(&refs)?)
    };
    let mut out = Vec::with_capacity(sorted.len());
    let mut offset = 0;
    for (e, (r0, r1)) in sorted {
        let n = r1 - r0;
        if n == 0 {
            continue;
        }
        let mut fields_out = Vec::new();
        for (i, f) in out_schema.fields().iter().enumerate() {
            let Some(name) = f.name().strip_prefix(FIELD_PREFIX) else { continue };
            let slice = column(i, offset, n)?;
            if slice.null_count() < n {
                fields_out.push((name.to_owned(), slice));
            }
        }
        let times = column(time_idx, offset, n)?;
        let times = times
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| Error::Corrupt("time column is not i64".into()))?;
        out.push(SeriesArrays {
            key: Arc::new(SeriesKey::new(measurement, e.tags.clone())),
            times: times.values().to_vec(),
            fields: fields_out,
        });
        offset += n;
    }
    Ok(out)
}

/// Reads the rows of the given series (by their index entries) from a file:
/// for each, its times and the requested fields' arrays (`None` if the file lacks the field).
pub(crate) fn read_series(
    objects: &Objects,
    path: &str,
    measurement: &str,
    entries: &[&SeriesEntry],
    fields: Option<&BTreeSet<String>>,
) -> Result<Vec<SeriesRows>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let builder = objects.block_on_read(ParquetRecordBatchStreamBuilder::new(objects.reader(path)))?;
    let schema = Arc::clone(builder.schema());
    let parquet_schema = builder.parquet_schema();
    let wanted: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.name() == TIME
                || f.name().strip_prefix(FIELD_PREFIX).is_some_and(|n| fields.is_none_or(|set| set.contains(n)))
        })
        .map(|(i, _)| i)
        .collect();
    let mask = parquet::arrow::ProjectionMask::roots(parquet_schema, wanted.iter().copied());
    // Row selection: the series' row ranges, in file order.
    let mut sorted: Vec<&SeriesEntry> = entries.to_vec();
    sorted.sort_by_key(|e| e.rows.0);
    let mut selectors = Vec::new();
    let mut at = 0;
    for e in &sorted {
        if e.rows.0 > at {
            selectors.push(RowSelector::skip(e.rows.0 - at));
        }
        selectors.push(RowSelector::select(e.rows.1 - e.rows.0));
        at = e.rows.1;
    }
    let reader = builder
        .with_projection(mask)
        .with_row_selection(RowSelection::from(selectors))
        .with_batch_size(1 << 16)
        .build()?;
    let batches: Vec<RecordBatch> = objects.block_on_read(reader.try_collect())?;
    let out_schema = batches.first().map(|b| b.schema());
    let Some(out_schema) = out_schema else {
        return Ok(Vec::new());
    };
    let all = arrow::compute::concat_batches(&out_schema, &batches)?;
    let time_idx = out_schema.index_of(TIME)?;
    let times = all
        .column(time_idx)
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| Error::Corrupt("time column is not i64".into()))?;
    let mut out = Vec::with_capacity(sorted.len());
    let mut offset = 0;
    for e in sorted {
        let n = e.rows.1 - e.rows.0;
        let key = Arc::new(SeriesKey::new(measurement, e.tags.clone()));
        let t = times.values()[offset..offset + n].to_vec();
        let mut fields_out = BTreeMap::new();
        for (i, f) in out_schema.fields().iter().enumerate() {
            let Some(name) = f.name().strip_prefix(FIELD_PREFIX) else {
                continue;
            };
            let slice = all.column(i).slice(offset, n);
            if slice.null_count() == n {
                continue;
            }
            let ft = match f.data_type() {
                DataType::Float64 => FieldType::Float,
                DataType::Int64 => FieldType::Integer,
                DataType::UInt64 => FieldType::UInteger,
                DataType::Utf8 => FieldType::String,
                DataType::Boolean => FieldType::Boolean,
                other => {
                    return Err(Error::Corrupt(format!("unexpected field column type {other}")));
                }
            };
            let mut col = FieldColumn::empty(ft, n);
            for j in 0..n {
                col.set_from(j, slice.as_ref(), j);
            }
            fields_out.insert(name.to_owned(), col);
        }
        out.push(SeriesRows { key, times: t, fields: fields_out });
        offset += n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_round_trips_series_by_series() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Objects::local(dir.path()).unwrap();
        let path = "b/p.parquet";
        let key = |h: &str| Arc::new(SeriesKey::new("cpu", vec![("host".into(), h.into())]));
        let mut fields = BTreeMap::new();
        fields.insert("v".to_string(), FieldType::Float);
        fields.insert("s".to_string(), FieldType::String);
        let series = vec![
            SeriesRows {
                key: key("a"),
                times: vec![1, 2],
                fields: [("v".to_string(), FieldColumn::Float(vec![Some(1.0), None]))].into(),
            },
            SeriesRows {
                key: key("b"),
                times: vec![1, 5, 9],
                fields: [
                    ("v".to_string(), FieldColumn::Float(vec![Some(3.0), Some(4.0), Some(5.0)])),
                    ("s".to_string(), FieldColumn::String(vec![None, Some("x".into()), None])),
                ]
                .into(),
            },
        ];
        let w = write_file(&objects, path, &fields, &series).unwrap();
        assert_eq!((w.rows, w.min_time, w.max_time), (5, 1, 9));
        let index = read_index(&objects, path).unwrap();
        assert_eq!(index.len(), 2);
        assert_eq!(index[1].rows, (2, 5));
        let got = read_series(&objects, path, "cpu", &[&index[1]], None).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].times, vec![1, 5, 9]);
        assert!(matches!(&got[0].fields["s"], FieldColumn::String(v) if v[1].as_deref() == Some("x")));
        let only_v: BTreeSet<String> = ["v".to_string()].into();
        let got = read_series(&objects, path, "cpu", &[&index[0]], Some(&only_v)).unwrap();
        assert!(matches!(&got[0].fields["v"], FieldColumn::Float(v) if v == &vec![Some(1.0), None]));
        assert!(!got[0].fields.contains_key("s"));
    }
}
