//! The storage engine's API: open, write, delete, drop a bucket, retention,
//! flush. What it holds is in `state`, the apply step (lines into the buffer)
//! in `apply`, the background snapshots and compactions in `worker`.

mod apply;
mod backup;
mod state;
mod worker;

use std::path::Path;
use std::sync::{Arc, RwLockReadGuard};

pub use apply::{BucketTarget, WriteOutcome};
use apply::{apply_lines, delete_in_buffer};
pub use backup::{Restored, ShardGroup};
pub use state::StorageConfig;
pub(crate) use state::{BucketData, BufferedPartition, PartitionKey};
use state::{Inner, State};

use crate::batch::Batch;
use crate::catalog::{BucketCatalog, Tombstone};
use crate::delete::DeletePredicate;
use crate::error::Result;
use crate::objects::Objects;
use crate::wal::Wal;
use crate::wire::{Entry, precision_code};

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
        self.inner.stop_workers();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Storage {
    /// Opens the engine in `dir` (creating it): loads the catalogs, finishes any
    /// delete a crash interrupted, replays the write-ahead log, and starts the
    /// background worker.
    pub fn open(dir: &Path, config: StorageConfig) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (wal, replay) = Wal::open(&dir.join("wal"))?;
        let objects = Objects::local(&dir.join("data"))?;
        let state = State::load(&objects)?;
        let inner = Arc::new(Inner::new(dir, wal, state, config, objects));
        inner.remove_orphans()?;
        inner.finish_tombstones()?;
        let n = replay.len();
        {
            let mut st = inner.write_state();
            for (_, payload) in replay {
                match Entry::decode(&payload) {
                    Ok(entry) => apply::apply_entry(&mut st, &inner.objects, &entry)?,
                    Err(e) => tracing::warn!(error = %e, "skipping an undecodable WAL entry"),
                }
            }
        }
        if n > 0 {
            tracing::info!(entries = n, "replayed the write-ahead log");
        }
        let workers = worker::spawn(&inner)?;
        Ok(Self { inner, workers })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.inner.read_state()
    }

    /// Writes a parsed body: each point is written or dropped (outside
    /// retention, field type conflict) and the outcome says which. Returns only
    /// once the write is durable (the log keeps the body as it came).
    pub fn write(&self, target: &BucketTarget, batch: &Batch<'_>, now: i64) -> Result<WriteOutcome> {
        let precision = batch.precision();
        let default_time = precision.truncate(now);
        let inner = &self.inner;
        inner.wait_for_room();
        let (seq, outcome, full) = {
            let mut st = inner.write_state();
            let outcome = apply_lines(&mut st, target, batch.lines(), default_time, now);
            st.last_write = time::now_ns();
            let seq = (outcome.written > 0).then(|| {
                let header = Entry::write_header(
                    target.bucket,
                    target.shard_group_ns,
                    target.retention_ns,
                    precision_code(precision),
                    now,
                );
                inner.wal.append_parts(&[&header, batch.body()])
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
