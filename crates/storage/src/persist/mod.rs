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
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, StringDictionaryBuilder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use arrow::record_batch::RecordBatch;
use object_store::buffered::BufWriter;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::objects::Objects;
use crate::series::FieldType;

mod format;
mod read;

use format::{FIELD_PREFIX, SERIES_META, TAG_PREFIX, TIME, arrow_type};
pub(crate) use format::{FieldColumn, SeriesEntry, SeriesRows};
pub(crate) use read::{load_reader_meta, prune_by_time, read_arrays, read_index, read_rows, read_series};

/// What a written file holds, for the catalog.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub(crate) rows: usize,
    pub(crate) bytes: u64,
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::SeriesKey;

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
