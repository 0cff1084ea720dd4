//! The storage engine: write, replay, delete, and reads over what it holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use lineproto::{Line, Precision};

use crate::buffer::SeriesData;
use crate::catalog::{BucketCatalog, FileMeta, Tombstone};
use crate::delete::DeletePredicate;
use crate::error::{Error, Result};
use crate::objects::Objects;
use crate::persist::{self, SeriesEntry, SeriesRows};
use crate::series::{FieldType, SeriesKey};
use crate::wal::Wal;
use crate::wire::{Entry, precision_code, precision_from_code};

/// Where a write goes, and the bucket's rules for it.
#[derive(Debug, Clone, Copy)]
pub struct BucketTarget {
    pub bucket: u64,
    /// 0 keeps data forever.
    pub retention_ns: i64,
    pub shard_group_ns: i64,
}

/// What became of a write's points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    pub written: usize,
    pub dropped: usize,
    /// InfluxDB's reason for the first kind of drop, when any point was dropped.
    pub reason: Option<String>,
}

impl WriteOutcome {
    /// InfluxDB's `partial write: ... dropped=N` text, when points were dropped.
    pub fn partial_write_message(&self) -> Option<String> {
        let reason = self.reason.as_ref()?;
        Some(format!("partial write: {reason} dropped={}", self.dropped))
    }
}

/// Why a write was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The body is not valid line protocol (nothing was written).
    #[error("{0}")]
    Parse(String),
    #[error(transparent)]
    Storage(#[from] Error),
}

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
pub(crate) struct SeriesIndex {
    /// The series key as written in line protocol → id: a series seen before is
    /// recognised without looking at its tags again.
    by_raw: HashMap<Box<str>, u32>,
    by_key: HashMap<Arc<SeriesKey>, u32>,
    pub(crate) keys: Vec<Arc<SeriesKey>>,
}

impl SeriesIndex {
    fn id_for(&mut self, line: &Line<'_>) -> u32 {
        if let Some(&id) = self.by_raw.get(line.series_key) {
            return id;
        }
        let tags = line.tags.iter().map(|(k, v)| (k.unescaped().into_owned(), v.unescaped().into_owned())).collect();
        let key = SeriesKey::new(line.measurement.unescaped().into_owned(), tags);
        let id = match self.by_key.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.keys.len() as u32;
                let key = Arc::new(key);
                self.keys.push(Arc::clone(&key));
                self.by_key.insert(key, id);
                id
            }
        };
        self.by_raw.insert(line.series_key.into(), id);
        id
    }
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
struct Backpressure {
    snapshotting: Mutex<bool>,
    done: Condvar,
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

/// The files of one partition, copied out of the catalog for a rewrite.
#[derive(Debug, Clone)]
struct PartitionFiles {
    bucket: u64,
    key: PartitionKey,
    duration: i64,
    files: Vec<FileMeta>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) dir: PathBuf,
    wal: Wal,
    state: RwLock<State>,
    pub(crate) config: StorageConfig,
    /// Held by whatever rewrites files or takes snapshots: snapshots, deletes,
    /// compaction, retention. Writes and reads do not take it.
    persist: Mutex<()>,
    /// Held by what rewrites or removes existing files: compaction, the rewrites
    /// a delete needs, retention, bucket drops. Snapshots do not take it, so
    /// the buffer keeps draining while a large partition is compacted.
    rewrite: Mutex<()>,
    /// Wakes the compaction thread after a snapshot.
    compact_wake: (Mutex<bool>, Condvar),
    /// Series indexes of files, by (bucket, file ID), read once.
    pub(crate) file_index: Mutex<FileIndexCache>,
    /// Parquet metadata (with page indexes) of files, by (bucket, file ID), read once.
    reader_meta: Mutex<ReaderMetaCache>,
    pub(crate) objects: Objects,
    wake: (Mutex<bool>, Condvar),
    backpressure: Backpressure,
}

/// The engine. Cheap to share behind an `Arc`; every method may block on I/O,
/// so async callers should call from a blocking task. A background thread
/// writes the buffer to Parquet and compacts files; dropping the engine stops it
/// (the write-ahead log keeps whatever was not yet written).
#[derive(Debug)]
pub struct Storage {
    pub(crate) inner: Arc<Inner>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Storage {
    fn drop(&mut self) {
        {
            let mut stop = self.inner.wake.0.lock().unwrap_or_else(|e| e.into_inner());
            *stop = true;
        }
        self.inner.wake.1.notify_all();
        *self.inner.compact_wake.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.inner.compact_wake.1.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Rows written to or read from a file at a time: bounds the memory of
/// snapshots and compactions whatever the partition's size.
const ROWS_PER_GROUP: usize = 8 * 1024;

/// Splits `items` into consecutive groups of about `ROWS_PER_GROUP` rows (a
/// series larger than that is a group of its own).
fn by_row_budget<T>(items: &[T], rows: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut acc) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        acc += rows(item);
        if acc >= ROWS_PER_GROUP {
            out.push(&items[start..=i]);
            (start, acc) = (i + 1, 0);
        }
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// Tag keys a point may not carry (InfluxDB refuses the whole request).
const RESERVED_TAG_KEYS: &[&str] = &["_field", "_measurement", "time"];

impl Storage {
    /// Opens the engine in `dir` (creating it): loads the catalogs, finishes any
    /// delete a crash interrupted, replays the write-ahead log, and starts the
    /// background worker.
    pub fn open(dir: &Path, config: StorageConfig) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (wal, replay) = Wal::open(&dir.join("wal"))?;
        let objects = Objects::local(&dir.join("data"))?;
        let mut state = State::default();
        for bucket in BucketCatalog::buckets(&objects)? {
            let catalog = BucketCatalog::load(&objects, bucket)?;
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
        let inner = Arc::new(Inner {
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
        });
        inner.remove_orphans()?;
        inner.finish_tombstones()?;
        let n = replay.len();
        {
            let mut st = inner.write_state();
            for (_, payload) in replay {
                match Entry::decode(&payload) {
                    Ok(entry) => inner.apply_entry(&mut st, &entry)?,
                    Err(e) => tracing::warn!(error = %e, "skipping an undecodable WAL entry"),
                }
            }
        }
        if n > 0 {
            tracing::info!(entries = n, "replayed the write-ahead log");
        }
        let weak = Arc::downgrade(&inner);
        let worker = std::thread::Builder::new().name("storage-worker".into()).spawn(move || worker(weak))?;
        let weak = Arc::downgrade(&inner);
        let compactor = std::thread::Builder::new().name("storage-compactor".into()).spawn(move || compactor(weak))?;
        Ok(Self { inner, workers: vec![worker, compactor] })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.inner.read_state()
    }

    /// Writes a line-protocol body. Either the whole body is refused (a line does
    /// not parse: nothing is written), or each point is written or dropped
    /// (outside retention, field type conflict) and the outcome says which.
    /// Returns only once the write is durable.
    pub fn write(
        &self,
        target: &BucketTarget,
        body: &[u8],
        precision: Precision,
        now: i64,
    ) -> Result<WriteOutcome, WriteError> {
        // Validate the whole body first (nothing is written if a line is bad),
        // without keeping the parsed lines: the apply pass below parses again.
        // Holding every line of several large requests at once cost more memory
        // than the buffer itself.
        for line in lineproto::parse(body, precision) {
            let line = line.map_err(|e| WriteError::Parse(e.to_string()))?;
            for (k, _) in &line.tags {
                let k = k.unescaped();
                if RESERVED_TAG_KEYS.contains(&&*k) {
                    let text: String = line.series_key.chars().take(256).collect();
                    return Err(WriteError::Parse(format!(
                        "unable to parse '{text}': cannot use reserved tag key \"{k}\""
                    )));
                }
            }
        }
        let default_time = precision.truncate(now);
        let inner = &self.inner;
        inner.wait_for_room();
        let (seq, outcome, full) = {
            let mut st = inner.write_state();
            let lines = lineproto::parse(body, precision).filter_map(std::result::Result::ok);
            let outcome = apply_lines(&mut st, target, lines, default_time, now);
            st.last_write = time::now_ns();
            let seq = (outcome.written > 0).then(|| {
                let header = Entry::write_header(
                    target.bucket,
                    target.shard_group_ns,
                    target.retention_ns,
                    precision_code(precision),
                    now,
                );
                inner.wal.append_parts(&[&header, body])
            });
            (seq, outcome, st.buffer_bytes >= inner.config.cache_snapshot_memory_size)
        };
        if let Some(seq) = seq {
            inner.wal.wait_durable(seq)?;
        }
        if full {
            inner.wake_worker();
        }
        Ok(outcome)
    }

    /// Deletes the points of `bucket` in `[start, stop]` (inclusive, as InfluxDB's
    /// delete is) whose series match `predicate`. Durable on return: a tombstone in
    /// the catalog covers the files until they are rewritten without the points.
    pub fn delete(&self, bucket: u64, start: i64, stop: i64, predicate: &DeletePredicate) -> Result<()> {
        let inner = &self.inner;
        let _persist = inner.persist.lock().unwrap_or_else(|e| e.into_inner());
        let seq = {
            let mut st = inner.write_state();
            delete_in_buffer(&mut st, bucket, start, stop, predicate);
            if let Some(b) = st.buckets.get_mut(&bucket)
                && !b.catalog.partitions.is_empty()
            {
                b.catalog.tombstones.push(Tombstone { start, stop, predicate: predicate.to_text() });
                b.catalog.save(&inner.objects, bucket)?;
            }
            inner.wal.append(&Entry::Delete { bucket, start, stop, predicate: predicate.to_text() }.encode())
        };
        inner.wal.wait_durable(seq)?;
        let _rewrite = inner.rewrite.lock().unwrap_or_else(|e| e.into_inner());
        inner.finish_tombstones()
    }

    /// Forgets a bucket and all its data.
    pub fn drop_bucket(&self, bucket: u64) -> Result<()> {
        let inner = &self.inner;
        let _persist = inner.persist.lock().unwrap_or_else(|e| e.into_inner());
        let _rewrite = inner.rewrite.lock().unwrap_or_else(|e| e.into_inner());
        let seq = {
            let mut st = inner.write_state();
            st.buckets.remove(&bucket);
            inner.wal.append(&Entry::DropBucket { bucket }.encode())
        };
        inner.wal.wait_durable(seq)?;
        inner.objects.delete_prefix(&BucketCatalog::prefix(bucket))
    }

    /// Drops whole partitions of `bucket` that ended before `now - retention_ns`,
    /// in memory and on disk; returns how many went.
    pub fn enforce_retention(&self, bucket: u64, retention_ns: i64, now: i64) -> usize {
        if retention_ns <= 0 {
            return 0;
        }
        let cutoff = now.saturating_sub(retention_ns);
        let inner = &self.inner;
        let _persist = inner.persist.lock().unwrap_or_else(|e| e.into_inner());
        let _rewrite = inner.rewrite.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = inner.write_state();
        let Some(b) = st.buckets.get_mut(&bucket) else {
            return 0;
        };
        let expired = |start: i64, duration: i64| start.saturating_add(duration) <= cutoff;
        let schemas = &b.schemas;
        let before = b.buffer.len();
        b.buffer.retain(|k, _| !schemas.get(k).is_some_and(|s| expired(k.shard_start, s.shard_duration)));
        let mut dropped = before - b.buffer.len();
        let mut gone_files = Vec::new();
        b.catalog.partitions.retain(|p| {
            let e = expired(p.shard_start, p.shard_duration);
            if e {
                gone_files.extend(p.files.iter().map(|f| f.id));
                dropped += 1;
            }
            !e
        });
        b.schemas.retain(|k, s| !expired(k.shard_start, s.shard_duration));
        if !gone_files.is_empty() {
            if let Err(e) = b.catalog.save(&inner.objects, bucket) {
                tracing::warn!(error = %e, "saving the catalog after retention");
                return dropped;
            }
            for f in gone_files {
                let _ = inner.objects.delete(&BucketCatalog::file_path(bucket, f));
            }
        }
        dropped
    }

    /// Writes everything buffered to Parquet now (also done in the background).
    pub fn flush(&self) -> Result<()> {
        self.inner.snapshot()?;
        self.inner.compact()
    }

    /// Bytes of Parquet files and their count, over all buckets.
    pub fn disk_usage(&self) -> (u64, usize) {
        let st = self.read_state();
        let files = st.buckets.values().flat_map(|b| b.catalog.partitions.iter().flat_map(|p| p.files.iter()));
        files.fold((0, 0), |(bytes, n), f| (bytes + f.bytes, n + 1))
    }
}

/// The background worker: snapshots a full or cold buffer, then compacts.
fn worker(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        {
            let stop = strong.wake.0.lock().unwrap_or_else(|e| e.into_inner());
            if *stop {
                return;
            }
            let (stop, _) =
                strong.wake.1.wait_timeout(stop, std::time::Duration::from_secs(1)).unwrap_or_else(|e| e.into_inner());
            if *stop {
                return;
            }
        }
        let (bytes, last_write) = {
            let st = strong.read_state();
            (st.buffer_bytes, st.last_write)
        };
        let cold = bytes > 0
            && time::now_ns().saturating_sub(last_write) >= strong.config.cache_snapshot_write_cold_duration_ns;
        if bytes >= strong.config.cache_snapshot_memory_size || cold {
            if let Err(e) = strong.snapshot() {
                tracing::error!(error = %e, "writing the buffer to Parquet failed; the WAL keeps the data");
            }
            strong.compact_wake.1.notify_all();
        }
    }
}

/// The compaction thread: after each snapshot (or every ten seconds), merges
/// partitions that have gathered enough files. Runs beside snapshots.
fn compactor(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        {
            let stop = strong.compact_wake.0.lock().unwrap_or_else(|e| e.into_inner());
            if *stop {
                return;
            }
            let (stop, _) = strong
                .compact_wake
                .1
                .wait_timeout(stop, std::time::Duration::from_secs(10))
                .unwrap_or_else(|e| e.into_inner());
            if *stop {
                return;
            }
        }
        if let Err(e) = strong.compact() {
            tracing::error!(error = %e, "compaction failed");
        }
    }
}

impl Inner {
    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn wake_worker(&self) {
        self.wake.1.notify_all();
    }

    fn apply_entry(&self, st: &mut State, entry: &Entry) -> Result<()> {
        match entry {
            Entry::Write { bucket, shard_group_ns, retention_ns, precision, now, body } => {
                let precision = precision_from_code(*precision)?;
                let lines: Vec<Line<'_>> = lineproto::parse(body, precision)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| Error::Corrupt(format!("logged body no longer parses: {e}")))?;
                let target =
                    BucketTarget { bucket: *bucket, retention_ns: *retention_ns, shard_group_ns: *shard_group_ns };
                apply_lines(st, &target, lines, precision.truncate(*now), *now);
            }
            Entry::Delete { bucket, start, stop, predicate } => {
                let p = DeletePredicate::parse(predicate)
                    .map_err(|e| Error::Corrupt(format!("logged delete predicate: {}", e.message)))?;
                delete_in_buffer(st, *bucket, *start, *stop, &p);
            }
            Entry::DropBucket { bucket } => {
                st.buckets.remove(bucket);
                self.objects.delete_prefix(&BucketCatalog::prefix(*bucket))?;
            }
        }
        Ok(())
    }

    /// Deletes objects no catalog names: files a crash left between their upload
    /// and the catalog update, and unfinished uploads.
    fn remove_orphans(&self) -> Result<()> {
        let st = self.read_state();
        for (bucket, b) in &st.buckets {
            let named: std::collections::HashSet<String> = b
                .catalog
                .partitions
                .iter()
                .flat_map(|p| p.files.iter().map(|f| BucketCatalog::file_path(*bucket, f.id)))
                .collect();
            for object in self.objects.list(&BucketCatalog::prefix(*bucket))? {
                if !object.ends_with("/catalog.json") && !named.contains(&object) {
                    tracing::info!(%object, "removing a file no catalog names (left by a crash)");
                    self.objects.delete(&object)?;
                }
            }
        }
        Ok(())
    }

    fn next_file_id(&self, bucket: u64) -> u64 {
        let mut st = self.write_state();
        let b = st.buckets.entry(bucket).or_default();
        b.catalog.next_file += 1;
        b.catalog.next_file
    }

    /// Writes the whole active buffer to Parquet, then releases the WAL it came from.
    fn snapshot(&self) -> Result<()> {
        let _persist = self.persist.lock().unwrap_or_else(|e| e.into_inner());
        *self.backpressure.snapshotting.lock().unwrap_or_else(|e| e.into_inner()) = true;
        let started = std::time::Instant::now();
        let result = self.snapshot_locked();
        *self.backpressure.snapshotting.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.backpressure.done.notify_all();
        if result.is_ok() {
            tracing::debug!(took_ms = started.elapsed().as_millis() as u64, "buffer written to Parquet");
        }
        result
    }

    /// Blocks a writer while the buffer is over twice the snapshot size and a
    /// snapshot is under way (it will free the frozen half when done).
    fn wait_for_room(&self) {
        let hard = self.config.cache_snapshot_memory_size.saturating_mul(2);
        let over = || self.read_state().buffer_bytes >= hard;
        if !over() {
            return;
        }
        self.wake_worker();
        let mut busy = self.backpressure.snapshotting.lock().unwrap_or_else(|e| e.into_inner());
        while *busy && over() {
            busy = self
                .backpressure
                .done
                .wait_timeout(busy, std::time::Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn snapshot_locked(&self) -> Result<()> {
        let (frozen, closed) = {
            let mut st = self.write_state();
            if st.buffer_bytes == 0 && st.buckets.values().all(|b| b.buffer.is_empty()) {
                return Ok(());
            }
            let closed = self.wal.rotate()?;
            let mut frozen = Vec::new();
            for (id, b) in st.buckets.iter_mut() {
                if b.buffer.is_empty() {
                    continue;
                }
                let partitions = std::mem::take(&mut b.buffer);
                let shard_durations =
                    partitions.keys().map(|k| (k.clone(), b.schemas.get(k).map_or(1, |s| s.shard_duration))).collect();
                let f = Arc::new(Frozen { partitions, shard_durations });
                b.persisting.push(Arc::clone(&f));
                frozen.push((*id, f, b.series.keys.clone()));
            }
            st.buffer_bytes = 0;
            (frozen, closed)
        };
        for (bucket, f, keys) in frozen {
            for (pk, series) in &f.partitions {
                let mut order: Vec<(&Arc<SeriesKey>, &SeriesData)> =
                    series.iter().map(|(sid, data)| (&keys[*sid as usize], data)).collect();
                order.sort_by(|a, b| a.0.cmp(b.0));
                let tag_keys = order.iter().flat_map(|(k, _)| k.tags.iter().map(|(t, _)| t.clone())).collect();
                let mut fields = BTreeMap::new();
                for (_, d) in &order {
                    for c in &d.fields {
                        fields.entry(c.name.to_string()).or_insert_with(|| c.values.field_type());
                    }
                }
                let chunks = by_row_budget(&order, |(_, d)| d.times.len());
                let groups = chunks.into_iter().map(|chunk| {
                    Ok(chunk.iter().map(|(k, d)| SeriesRows::from_buffer(Arc::clone(k), d, &|_| false)).collect())
                });
                let shard_duration = f.shard_durations.get(pk).copied().unwrap_or(1);
                self.write_partition_file(bucket, pk, shard_duration, tag_keys, fields, groups, &[])?;
            }
            let mut st = self.write_state();
            if let Some(b) = st.buckets.get_mut(&bucket) {
                b.persisting.retain(|p| !Arc::ptr_eq(p, &f));
            }
        }
        self.wal.release(closed)?;
        Ok(())
    }

    /// Writes a new file of the partition from `groups` (series in key order, a
    /// group at a time), records it in the catalog, and retires the files in
    /// `replaces` (deleting them once the catalog no longer names them).
    #[allow(clippy::too_many_arguments)]
    fn write_partition_file(
        &self,
        bucket: u64,
        pk: &PartitionKey,
        shard_duration: i64,
        tag_keys: BTreeSet<String>,
        fields: BTreeMap<String, FieldType>,
        groups: impl Iterator<Item = Result<Vec<SeriesRows>>>,
        replaces: &[u64],
    ) -> Result<()> {
        let id = self.next_file_id(bucket);
        let path = BucketCatalog::file_path(bucket, id);
        let mut writer = persist::FileWriter::create(&self.objects, &path, tag_keys, fields.clone())?;
        let mut series = BTreeSet::new();
        for group in groups {
            let group = group?;
            series.extend(group.iter().filter(|r| !r.times.is_empty()).map(|r| r.key.tags.clone()));
            writer.write(&group)?;
        }
        let written = writer.finish()?;
        let mut st = self.write_state();
        let b = st.buckets.entry(bucket).or_default();
        let p = b.catalog.partition_mut(pk.shard_start, shard_duration, &pk.measurement);
        if !replaces.is_empty() {
            // Rewritten files may have lost series (deletes): recount from what stays.
            let kept: Vec<u64> = p.files.iter().map(|f| f.id).filter(|f| !replaces.contains(f)).collect();
            p.series = series.clone();
            for f in kept {
                if let Some(index) = self.file_index.lock().unwrap_or_else(|e| e.into_inner()).get(&(bucket, f)) {
                    p.series.extend(index.iter().map(|e| e.tags.clone()));
                }
            }
        }
        // A file that replaces others takes the place of the first of them: files
        // snapshotted meanwhile hold newer data and must stay after it.
        let at = p.files.iter().position(|f| replaces.contains(&f.id)).unwrap_or(p.files.len());
        let kept_before = p.files[..at].iter().filter(|f| !replaces.contains(&f.id)).count();
        p.files.retain(|f| !replaces.contains(&f.id));
        for (name, t) in &fields {
            p.fields.entry(name.clone()).or_insert(*t);
        }
        p.series.extend(series);
        if let Some(w) = written {
            let meta = FileMeta { id, rows: w.rows, bytes: w.bytes, min_time: w.min_time, max_time: w.max_time };
            p.files.insert(kept_before, meta);
        }
        if p.files.is_empty() {
            let (start, m) = (pk.shard_start, pk.measurement.to_string());
            b.catalog.partitions.retain(|q| !(q.shard_start == start && q.measurement == m));
        }
        b.catalog.save(&self.objects, bucket)?;
        drop(st);
        let mut cache = self.file_index.lock().unwrap_or_else(|e| e.into_inner());
        let mut metas = self.reader_meta.lock().unwrap_or_else(|e| e.into_inner());
        for f in replaces {
            cache.remove(&(bucket, *f));
            metas.remove(&(bucket, *f));
            let _ = self.objects.delete(&BucketCatalog::file_path(bucket, *f));
        }
        Ok(())
    }

    /// Rewrites a partition's `files` into one, a group of series at a time:
    /// later files win for the same series, field and time; tombstones apply.
    fn rewrite_files(
        &self,
        pf: &PartitionFiles,
        fields: BTreeMap<String, FieldType>,
        tombstones: &[Tombstone],
    ) -> Result<()> {
        let tombs: Vec<(i64, i64, DeletePredicate)> = tombstones
            .iter()
            .filter_map(|t| DeletePredicate::parse(&t.predicate).ok().map(|p| (t.start, t.stop, p)))
            .collect();
        let indexes: Vec<Arc<Vec<SeriesEntry>>> =
            pf.files.iter().map(|f| self.index_of(pf.bucket, f.id)).collect::<Result<_>>()?;
        let mut rows_of: BTreeMap<Vec<(String, String)>, usize> = BTreeMap::new();
        for e in indexes.iter().flat_map(|i| i.iter()) {
            *rows_of.entry(e.tags.clone()).or_default() += e.rows.1 - e.rows.0;
        }
        let all: Vec<(Vec<(String, String)>, usize)> = rows_of.into_iter().collect();
        let tag_keys = all.iter().flat_map(|(t, _)| t.iter().map(|(k, _)| k.clone())).collect();
        let measurement = pf.key.measurement.to_string();
        let chunks: Vec<Vec<Vec<(String, String)>>> =
            by_row_budget(&all, |(_, n)| *n).into_iter().map(|c| c.iter().map(|(t, _)| t.clone()).collect()).collect();
        let groups = chunks.iter().map(|chunk| -> Result<Vec<SeriesRows>> {
            let wanted: BTreeSet<&Vec<(String, String)>> = chunk.iter().collect();
            let mut merged: BTreeMap<Vec<(String, String)>, SeriesRows> = BTreeMap::new();
            for (f, index) in pf.files.iter().zip(&indexes) {
                let entries: Vec<&SeriesEntry> = index.iter().filter(|e| wanted.contains(&e.tags)).collect();
                let path = BucketCatalog::file_path(pf.bucket, f.id);
                for rows in persist::read_series(&self.objects, &path, &measurement, &entries, None)? {
                    let tags = rows.key.tags.clone();
                    let next = match merged.remove(&tags) {
                        Some(older) => older.merge(rows),
                        None => rows,
                    };
                    merged.insert(tags, next);
                }
            }
            let mut out: Vec<SeriesRows> = merged.into_values().collect();
            for rows in &mut out {
                for (start, stop, p) in &tombs {
                    if p.matches(&rows.key) {
                        rows.retain_times(&|t| t >= *start && t <= *stop);
                    }
                }
            }
            out.retain(|r| !r.times.is_empty());
            Ok(out)
        });
        let ids: Vec<u64> = pf.files.iter().map(|f| f.id).collect();
        self.write_partition_file(pf.bucket, &pf.key, pf.duration, tag_keys, fields, groups, &ids)
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

    fn partition_fields(&self, pf: &PartitionFiles) -> BTreeMap<String, FieldType> {
        let st = self.read_state();
        st.buckets
            .get(&pf.bucket)
            .and_then(|b| {
                b.catalog
                    .partitions
                    .iter()
                    .find(|p| p.shard_start == pf.key.shard_start && *p.measurement == *pf.key.measurement)
            })
            .map(|p| p.fields.clone())
            .unwrap_or_default()
    }

    /// Merges the files of every partition that has `compact_at_files` or more.
    fn compact(&self) -> Result<()> {
        let _rewrite = self.rewrite.lock().unwrap_or_else(|e| e.into_inner());
        let todo: Vec<(PartitionFiles, Vec<Tombstone>)> = {
            let st = self.read_state();
            st.buckets
                .iter()
                .flat_map(|(id, b)| {
                    b.catalog.partitions.iter().filter(|p| p.files.len() >= self.config.compact_at_files.max(2)).map(
                        |p| {
                            let key = PartitionKey {
                                shard_start: p.shard_start,
                                measurement: Arc::from(p.measurement.as_str()),
                            };
                            let pf =
                                PartitionFiles { bucket: *id, key, duration: p.shard_duration, files: p.files.clone() };
                            (pf, b.catalog.tombstones.clone())
                        },
                    )
                })
                .collect()
        };
        for (pf, tombs) in todo {
            let fields = self.partition_fields(&pf);
            self.rewrite_files(&pf, fields, &tombs)?;
        }
        Ok(())
    }

    /// Rewrites the files that tombstones touch without the deleted points, then
    /// forgets the tombstones. Runs at open (a crash may have left some) and after
    /// each delete.
    fn finish_tombstones(&self) -> Result<()> {
        let work: Vec<(u64, Vec<Tombstone>, Vec<PartitionFiles>)> = {
            let st = self.read_state();
            st.buckets
                .iter()
                .filter(|(_, b)| !b.catalog.tombstones.is_empty())
                .map(|(id, b)| {
                    let parts = b
                        .catalog
                        .partitions
                        .iter()
                        .map(|p| PartitionFiles {
                            bucket: *id,
                            key: PartitionKey {
                                shard_start: p.shard_start,
                                measurement: Arc::from(p.measurement.as_str()),
                            },
                            duration: p.shard_duration,
                            files: p.files.clone(),
                        })
                        .collect();
                    (*id, b.catalog.tombstones.clone(), parts)
                })
                .collect()
        };
        for (bucket, tombs, parts) in work {
            for pf in parts {
                let touched = tombs.iter().any(|t| {
                    pf.files.iter().any(|f| f.min_time <= t.stop && f.max_time >= t.start)
                        && DeletePredicate::parse(&t.predicate)
                            .map(|p| {
                                p.conditions
                                    .iter()
                                    .all(|c| c.key != "_measurement" || (c.value == *pf.key.measurement) == c.equal)
                            })
                            .unwrap_or(true)
                });
                if !touched {
                    continue;
                }
                let fields = self.partition_fields(&pf);
                self.rewrite_files(&pf, fields, &tombs)?;
            }
            let mut st = self.write_state();
            if let Some(b) = st.buckets.get_mut(&bucket) {
                b.catalog.tombstones.retain(|t| !tombs.contains(t));
                b.catalog.save(&self.objects, bucket)?;
            }
        }
        Ok(())
    }
}

/// Heap cost of one buffered point, for the snapshot threshold: its time and
/// values, plus half again for the spare capacity of columns that grow by
/// doubling, so that `--storage-cache-snapshot-memory-size` means real bytes.
fn point_bytes(line: &Line<'_>) -> usize {
    let exact = 8 + line
        .fields
        .iter()
        .map(|(_, v)| match v {
            lineproto::FieldValue::String(s) => 25 + s.raw().len(),
            _ => 9,
        })
        .sum::<usize>();
    exact + exact / 2
}

/// Applies parsed lines to the buffer, dropping points outside retention or in
/// conflict with a field's type in their shard.
fn apply_lines<'a>(
    st: &mut State,
    target: &BucketTarget,
    lines: impl IntoIterator<Item = Line<'a>>,
    default_time: i64,
    now: i64,
) -> WriteOutcome {
    let mut out = WriteOutcome::default();
    let (mut retention_dropped, mut min_dropped, mut max_dropped) = (0usize, i64::MAX, i64::MIN);
    let mut other_reason: Option<String> = None;
    let mut added_bytes = 0;
    let bucket = st.buckets.entry(target.bucket).or_default();
    let cutoff = if target.retention_ns > 0 { now.saturating_sub(target.retention_ns) } else { i64::MIN };
    let sg = target.shard_group_ns.max(1);
    for line in lines {
        let time = line.timestamp.unwrap_or(default_time);
        if time < cutoff {
            retention_dropped += 1;
            min_dropped = min_dropped.min(time);
            max_dropped = max_dropped.max(time);
            continue;
        }
        let measurement = line.measurement.unescaped();
        // A field named "time" is not stored; a point with nothing else is dropped.
        let fields: Vec<_> = line.fields.iter().filter(|(k, _)| k.raw() != "time").cloned().collect();
        if fields.is_empty() {
            out.dropped += 1;
            other_reason.get_or_insert_with(|| {
                format!("invalid field name: input field \"time\" on measurement \"{measurement}\" is invalid")
            });
            continue;
        }
        let sid = bucket.series.id_for(&line);
        let key = PartitionKey { shard_start: time.div_euclid(sg) * sg, measurement: Arc::from(&*measurement) };
        let schema = bucket
            .schemas
            .entry(key.clone())
            .or_insert_with(|| PartitionSchema { shard_duration: sg, ..Default::default() });
        let conflict = fields.iter().find_map(|(k, v)| {
            let t = FieldType::of(v);
            match schema.fields.get(&*k.unescaped()) {
                Some(&have) if have != t => Some(format!(
                    "field type conflict: input field \"{}\" on measurement \"{measurement}\" is type {t}, already exists as type {have}",
                    k.unescaped()
                )),
                _ => None,
            }
        });
        if let Some(reason) = conflict {
            out.dropped += 1;
            other_reason.get_or_insert(reason);
            continue;
        }
        for (k, v) in &fields {
            let k = k.unescaped();
            if !schema.fields.contains_key(&*k) {
                schema.fields.insert(Arc::from(&*k), FieldType::of(v));
            }
        }
        bucket.buffer.entry(key).or_default().entry(sid).or_default().push(time, &fields);
        added_bytes += point_bytes(&line);
        out.written += 1;
    }
    st.buffer_bytes += added_bytes;
    out.dropped += retention_dropped;
    if retention_dropped > 0 {
        out.reason = Some(format!(
            "dropped {retention_dropped} points outside retention policy of duration {} - oldest {}, newest {}",
            time::duration::go_string(target.retention_ns),
            time::civil::go_string(min_dropped),
            time::civil::go_string(max_dropped)
        ));
    } else {
        out.reason = other_reason;
    }
    out
}

fn delete_in_buffer(st: &mut State, bucket: u64, start: i64, stop: i64, predicate: &DeletePredicate) {
    let Some(b) = st.buckets.get_mut(&bucket) else {
        return;
    };
    let keys = &b.series.keys;
    for partition in b.buffer.values_mut() {
        for (sid, data) in partition.iter_mut() {
            if predicate.matches(&keys[*sid as usize]) {
                data.remove_rows(|t| t >= start && t <= stop);
            }
        }
        partition.retain(|_, d| !d.times.is_empty());
    }
}
