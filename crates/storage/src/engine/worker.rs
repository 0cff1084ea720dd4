//! The background work on files: the worker thread that writes the buffer to
//! Parquet when it is full or cold (and holds writers back while it is over its
//! hard limit), the compaction thread that merges a partition's files, and the
//! rewrites that fold tombstones in.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};

use super::state::{Frozen, Inner, PartitionKey};
use crate::buffer::SeriesData;
use crate::catalog::{BucketCatalog, FileMeta, Tombstone};
use crate::delete::DeletePredicate;
use crate::error::Result;
use crate::persist::{self, SeriesEntry, SeriesRows};
use crate::series::{FieldType, SeriesKey};

/// The files of one partition, copied out of the catalog for a rewrite.
#[derive(Debug, Clone)]
struct PartitionFiles {
    bucket: u64,
    key: PartitionKey,
    duration: i64,
    files: Vec<FileMeta>,
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

/// Starts the worker and the compaction thread; they stop when the engine is
/// dropped (see [`Inner::stop_workers`]).
pub(super) fn spawn(inner: &Arc<Inner>) -> Result<Vec<std::thread::JoinHandle<()>>> {
    let weak = Arc::downgrade(inner);
    let worker = std::thread::Builder::new().name("storage-worker".into()).spawn(move || worker(weak))?;
    let weak = Arc::downgrade(inner);
    let compactor = std::thread::Builder::new().name("storage-compactor".into()).spawn(move || compactor(weak))?;
    Ok(vec![worker, compactor])
}

/// The background worker: snapshots a full or cold buffer, then compacts.
fn worker(inner: Weak<Inner>) {
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
fn compactor(inner: Weak<Inner>) {
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
    /// Tells both threads to stop and wakes them.
    pub(super) fn stop_workers(&self) {
        {
            let mut stop = self.wake.0.lock().unwrap_or_else(|e| e.into_inner());
            *stop = true;
        }
        self.wake.1.notify_all();
        *self.compact_wake.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.compact_wake.1.notify_all();
    }

    pub(super) fn wake_worker(&self) {
        self.wake.1.notify_all();
    }

    /// Deletes objects no catalog names: files a crash left between their upload
    /// and the catalog update, and unfinished uploads.
    pub(super) fn remove_orphans(&self) -> Result<()> {
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

    pub(super) fn next_file_id(&self, bucket: u64) -> u64 {
        let mut st = self.write_state();
        let b = st.buckets.entry(bucket).or_default();
        b.catalog.next_file += 1;
        b.catalog.next_file
    }

    /// Writes the whole active buffer to Parquet, then releases the WAL it came from.
    pub(super) fn snapshot(&self) -> Result<()> {
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
    pub(super) fn wait_for_room(&self) {
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
    pub(super) fn compact(&self) -> Result<()> {
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
    pub(super) fn finish_tombstones(&self) -> Result<()> {
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
