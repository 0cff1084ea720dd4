//! What the engine holds: per bucket, its series, partition schemas, buffer
//! and catalog, all under one lock; beside them the write-ahead log, the locks
//! that order file rewrites, the wake-ups of the background threads, and the
//! caches of what files say about themselves.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::buffer::SeriesData;
use crate::catalog::BucketCatalog;
use crate::error::Result;
use crate::objects::Objects;
use crate::persist::{self, SeriesEntry};
use crate::series::{FieldType, SeriesIndex};
use crate::wal::Wal;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PartitionKey {
    pub(crate) shard_start: i64,
    pub(crate) measurement: Arc<str>,
}

/// A partition's shard duration and field types, over buffer and files alike.
#[derive(Debug, Default, Clone)]
pub(crate) struct PartitionSchema {
    pub(crate) shard_duration: i64,
    pub(crate) fields: HashMap<Arc<str>, FieldType>,
}

/// Buffered series of one partition, by series ID.
pub(crate) type BufferedPartition = HashMap<u32, SeriesData>;

/// Buffered partitions taken out of the active buffer to be written to Parquet;
/// read from memory until their files are in the catalog.
#[derive(Debug, Default)]
pub(crate) struct Frozen {
    pub(crate) partitions: BTreeMap<PartitionKey, BufferedPartition>,
    pub(crate) shard_durations: HashMap<PartitionKey, i64>,
}

#[derive(Debug, Default)]
pub(crate) struct BucketData {
    pub(crate) series: SeriesIndex,
    pub(crate) schemas: BTreeMap<PartitionKey, PartitionSchema>,
    pub(crate) buffer: BTreeMap<PartitionKey, BufferedPartition>,
    pub(crate) persisting: Vec<Arc<Frozen>>,
    pub(crate) catalog: BucketCatalog,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) buckets: HashMap<u64, BucketData>,
    /// Approximate bytes in the active buffers.
    pub(crate) buffer_bytes: usize,
    /// When the last write landed (nanoseconds), for the cold-snapshot rule.
    pub(crate) last_write: i64,
}

/// Writers wait here while the buffer is over its hard limit (twice the
/// snapshot size) and a snapshot is being written: memory stays bounded when
/// ingest outruns Parquet encoding.
#[derive(Debug, Default)]
pub(super) struct Backpressure {
    pub(super) snapshotting: Mutex<bool>,
    pub(super) done: Condvar,
}

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Snapshot the buffer to Parquet when it holds this many bytes.
    pub cache_snapshot_memory_size: usize,
    /// ... or when it has not been written for this long (nanoseconds).
    pub cache_snapshot_write_cold_duration_ns: i64,
    /// Merge a partition's files once it has this many.
    pub compact_at_files: usize,
    /// Rows a scan reads at once (see [`crate::ReadApi::scan_each`]).
    pub scan_group_rows: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            cache_snapshot_memory_size: 25 * 1024 * 1024,
            cache_snapshot_write_cold_duration_ns: 600_000_000_000,
            compact_at_files: 4,
            scan_group_rows: 1 << 20,
        }
    }
}

/// Series indexes of files by (bucket, file ID).
type FileIndexCache = HashMap<(u64, u64), Arc<Vec<SeriesEntry>>>;
type ReaderMetaCache = HashMap<(u64, u64), parquet::arrow::arrow_reader::ArrowReaderMetadata>;

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) dir: PathBuf,
    pub(super) wal: Wal,
    pub(super) state: RwLock<State>,
    pub(crate) config: StorageConfig,
    /// Held by whatever rewrites files or takes snapshots: snapshots, deletes,
    /// compaction, retention. Writes and reads do not take it.
    pub(super) persist: Mutex<()>,
    /// Held by what rewrites or removes existing files: compaction, the rewrites
    /// a delete needs, retention, bucket drops. Snapshots do not take it, so
    /// the buffer keeps draining while a large partition is compacted.
    pub(super) rewrite: Mutex<()>,
    /// Wakes the compaction thread after a snapshot.
    pub(super) compact_wake: (Mutex<bool>, Condvar),
    /// Series indexes of files, by (bucket, file ID), read once.
    pub(crate) file_index: Mutex<FileIndexCache>,
    /// Parquet metadata (with page indexes) of files, by (bucket, file ID), read once.
    pub(super) reader_meta: Mutex<ReaderMetaCache>,
    pub(crate) objects: Objects,
    pub(super) wake: (Mutex<bool>, Condvar),
    pub(super) backpressure: Backpressure,
}

impl State {
    /// The state that the catalogs of `objects` describe (nothing buffered yet).
    pub(super) fn load(objects: &Objects) -> Result<Self> {
        let mut state = State::default();
        for bucket in BucketCatalog::buckets(objects)? {
            let catalog = BucketCatalog::load(objects, bucket)?;
            let mut b = BucketData::default();
            for p in &catalog.partitions {
                let key = PartitionKey { shard_start: p.shard_start, measurement: Arc::from(p.measurement.as_str()) };
                let schema = b
                    .schemas
                    .entry(key)
                    .or_insert_with(|| PartitionSchema { shard_duration: p.shard_duration, ..Default::default() });
                for (f, t) in &p.fields {
                    schema.fields.insert(Arc::from(f.as_str()), *t);
                }
            }
            b.catalog = catalog;
            state.buckets.insert(bucket, b);
        }
        Ok(state)
    }
}

impl Inner {
    pub(super) fn new(dir: &Path, wal: Wal, state: State, config: StorageConfig, objects: Objects) -> Self {
        Self {
            dir: dir.to_path_buf(),
            wal,
            state: RwLock::new(state),
            config,
            persist: Mutex::new(()),
            rewrite: Mutex::new(()),
            compact_wake: (Mutex::new(false), Condvar::new()),
            file_index: Mutex::new(HashMap::new()),
            reader_meta: Mutex::new(HashMap::new()),
            objects,
            wake: (Mutex::new(false), Condvar::new()),
            backpressure: Backpressure::default(),
        }
    }

    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn index_of(&self, bucket: u64, file: u64) -> Result<Arc<Vec<SeriesEntry>>> {
        if let Some(i) = self.file_index.lock().unwrap_or_else(|e| e.into_inner()).get(&(bucket, file)) {
            return Ok(Arc::clone(i));
        }
        let index = Arc::new(persist::read_index(&self.objects, &BucketCatalog::file_path(bucket, file))?);
        self.file_index.lock().unwrap_or_else(|e| e.into_inner()).insert((bucket, file), Arc::clone(&index));
        Ok(index)
    }

    pub(crate) fn reader_meta_of(
        &self,
        bucket: u64,
        file: u64,
    ) -> Result<parquet::arrow::arrow_reader::ArrowReaderMetadata> {
        if let Some(m) = self.reader_meta.lock().unwrap_or_else(|e| e.into_inner()).get(&(bucket, file)) {
            return Ok(m.clone());
        }
        let meta = persist::load_reader_meta(&self.objects, &BucketCatalog::file_path(bucket, file))?;
        self.reader_meta.lock().unwrap_or_else(|e| e.into_inner()).insert((bucket, file), meta.clone());
        Ok(meta)
    }
}
