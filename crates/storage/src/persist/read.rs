//! Reading Parquet files back: a file's series index from its footer, its
//! reader metadata (with the page index), and one series' rows, pruned to the
//! pages whose times can fall in the range asked for.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use futures::TryStreamExt;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection, RowSelector};

use crate::error::{Error, Result};
use crate::objects::Objects;
use crate::series::{FieldType, SeriesKey};

use super::format::{FIELD_PREFIX, FieldColumn, SERIES_META, SeriesEntry, SeriesRows, TIME};

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
    let wanted = wanted_columns(&schema, fields);
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
    let wanted = wanted_columns(&schema, fields);
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

/// The columns a read needs: `time`, and the fields asked for (all without a set).
fn wanted_columns(schema: &arrow::datatypes::Schema, fields: Option<&BTreeSet<String>>) -> Vec<usize> {
    schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.name() == TIME
                || f.name().strip_prefix(FIELD_PREFIX).is_some_and(|n| fields.is_none_or(|set| set.contains(n)))
        })
        .map(|(i, _)| i)
        .collect()
}
