//! The storage engine: write, replay, delete, and reads over what it holds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use lineproto::{Line, Precision};

use crate::buffer::SeriesData;
use crate::delete::DeletePredicate;
use crate::error::{Error, Result};
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

#[derive(Debug, Default)]
pub(crate) struct Partition {
    pub(crate) shard_duration: i64,
    pub(crate) fields: HashMap<Arc<str>, FieldType>,
    pub(crate) series: HashMap<u32, SeriesData>,
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
        let tags = line
            .tags
            .iter()
            .map(|(k, v)| (k.unescaped().into_owned(), v.unescaped().into_owned()))
            .collect();
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
    pub(crate) partitions: BTreeMap<PartitionKey, Partition>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) buckets: HashMap<u64, BucketData>,
}

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Snapshot the buffer to Parquet when it holds this many bytes.
    pub cache_snapshot_memory_size: usize,
    /// ... or when it has not been written for this long (nanoseconds).
    pub cache_snapshot_write_cold_duration_ns: i64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            cache_snapshot_memory_size: 25 * 1024 * 1024,
            cache_snapshot_write_cold_duration_ns: 600_000_000_000,
        }
    }
}

/// The engine. Cheap to share behind an `Arc`; every method may block on I/O,
/// so async callers should call from a blocking task.
#[derive(Debug)]
pub struct Storage {
    dir: PathBuf,
    wal: Wal,
    state: RwLock<State>,
    #[allow(dead_code)]
    config: StorageConfig,
}

/// Tag keys a point may not carry (InfluxDB refuses the whole request).
const RESERVED_TAG_KEYS: &[&str] = &["_field", "_measurement", "time"];

fn go_duration(ns: i64) -> String {
    let secs = ns / 1_000_000_000;
    format!("{}h{}m{}s", secs / 3600, secs % 3600 / 60, secs % 60)
}

fn go_time(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let frac = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_owned()
    };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}{frac} +0000 UTC",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

impl Storage {
    /// Opens the engine in `dir` (creating it), replaying the write-ahead log.
    pub fn open(dir: &Path, config: StorageConfig) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (wal, replay) = Wal::open(&dir.join("wal"))?;
        let storage = Self {
            dir: dir.to_path_buf(),
            wal,
            state: RwLock::new(State::default()),
            config,
        };
        let n = replay.len();
        {
            let mut st = storage.write_state();
            for (_, payload) in replay {
                match Entry::decode(&payload) {
                    Ok(entry) => Self::apply_entry(&mut st, &entry)?,
                    Err(e) => tracing::warn!(error = %e, "skipping an undecodable WAL entry"),
                }
            }
        }
        if n > 0 {
            tracing::info!(entries = n, "replayed the write-ahead log");
        }
        Ok(storage)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn apply_entry(st: &mut State, entry: &Entry) -> Result<()> {
        match entry {
            Entry::Write {
                bucket,
                shard_group_ns,
                retention_ns,
                precision,
                now,
                body,
            } => {
                let precision = precision_from_code(*precision)?;
                let lines: Vec<Line<'_>> = lineproto::parse(body, precision)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| Error::Corrupt(format!("logged body no longer parses: {e}")))?;
                let target = BucketTarget {
                    bucket: *bucket,
                    retention_ns: *retention_ns,
                    shard_group_ns: *shard_group_ns,
                };
                apply_lines(st, &target, &lines, precision.truncate(*now), *now);
            }
            Entry::Delete {
                bucket,
                start,
                stop,
                predicate,
            } => {
                let p = DeletePredicate::parse(predicate).map_err(|e| {
                    Error::Corrupt(format!("logged delete predicate: {}", e.message))
                })?;
                delete_in(st, *bucket, *start, *stop, &p);
            }
            Entry::DropBucket { bucket } => {
                st.buckets.remove(bucket);
            }
        }
        Ok(())
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
        let lines: Vec<Line<'_>> = lineproto::parse(body, precision)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| WriteError::Parse(e.to_string()))?;
        for line in &lines {
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
        let seq = {
            let mut st = self.write_state();
            let outcome = apply_lines(&mut st, target, &lines, default_time, now);
            let seq = (outcome.written > 0).then(|| {
                self.wal.append(
                    &Entry::Write {
                        bucket: target.bucket,
                        shard_group_ns: target.shard_group_ns,
                        retention_ns: target.retention_ns,
                        precision: precision_code(precision),
                        now,
                        body: body.to_vec(),
                    }
                    .encode(),
                )
            });
            (seq, outcome)
        };
        if let Some(seq) = seq.0 {
            self.wal.wait_durable(seq)?;
        }
        Ok(seq.1)
    }

    /// Deletes the points of `bucket` in `[start, stop]` (inclusive, as InfluxDB's
    /// delete is) whose series match `predicate`. Durable on return.
    pub fn delete(
        &self,
        bucket: u64,
        start: i64,
        stop: i64,
        predicate: &DeletePredicate,
    ) -> Result<usize> {
        let (seq, removed) = {
            let mut st = self.write_state();
            let removed = delete_in(&mut st, bucket, start, stop, predicate);
            let seq = self.wal.append(
                &Entry::Delete {
                    bucket,
                    start,
                    stop,
                    predicate: predicate.to_text(),
                }
                .encode(),
            );
            (seq, removed)
        };
        self.wal.wait_durable(seq)?;
        Ok(removed)
    }

    /// Forgets a bucket and all its data.
    pub fn drop_bucket(&self, bucket: u64) -> Result<()> {
        let seq = {
            let mut st = self.write_state();
            st.buckets.remove(&bucket);
            self.wal.append(&Entry::DropBucket { bucket }.encode())
        };
        self.wal.wait_durable(seq)
    }

    /// Drops whole partitions of `bucket` that ended before `now - retention_ns`.
    pub fn enforce_retention(&self, bucket: u64, retention_ns: i64, now: i64) -> usize {
        if retention_ns <= 0 {
            return 0;
        }
        let cutoff = now.saturating_sub(retention_ns);
        let mut st = self.write_state();
        let Some(b) = st.buckets.get_mut(&bucket) else {
            return 0;
        };
        let before = b.partitions.len();
        b.partitions
            .retain(|k, p| k.shard_start.saturating_add(p.shard_duration) > cutoff);
        before - b.partitions.len()
    }
}

/// Applies parsed lines to the buffer, dropping points outside retention or in
/// conflict with a field's type in their shard.
fn apply_lines(
    st: &mut State,
    target: &BucketTarget,
    lines: &[Line<'_>],
    default_time: i64,
    now: i64,
) -> WriteOutcome {
    let mut out = WriteOutcome::default();
    let (mut retention_dropped, mut min_dropped, mut max_dropped) = (0usize, i64::MAX, i64::MIN);
    let mut other_reason: Option<String> = None;
    let bucket = st.buckets.entry(target.bucket).or_default();
    let cutoff = if target.retention_ns > 0 {
        now.saturating_sub(target.retention_ns)
    } else {
        i64::MIN
    };
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
        let fields: Vec<_> = line
            .fields
            .iter()
            .filter(|(k, _)| k.raw() != "time")
            .cloned()
            .collect();
        if fields.is_empty() {
            out.dropped += 1;
            other_reason.get_or_insert_with(|| {
                format!("invalid field name: input field \"time\" on measurement \"{measurement}\" is invalid")
            });
            continue;
        }
        let sid = bucket.series.id_for(line);
        let key = PartitionKey {
            shard_start: time.div_euclid(sg) * sg,
            measurement: Arc::from(&*measurement),
        };
        let partition = bucket.partitions.entry(key).or_insert_with(|| Partition {
            shard_duration: sg,
            ..Default::default()
        });
        let conflict = fields.iter().find_map(|(k, v)| {
            let t = FieldType::of(v);
            match partition.fields.get(&*k.unescaped()) {
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
            if !partition.fields.contains_key(&*k) {
                partition.fields.insert(Arc::from(&*k), FieldType::of(v));
            }
        }
        partition
            .series
            .entry(sid)
            .or_insert_with(SeriesData::new)
            .push(time, &fields);
        out.written += 1;
    }
    out.dropped += retention_dropped;
    if retention_dropped > 0 {
        out.reason = Some(format!(
            "dropped {retention_dropped} points outside retention policy of duration {} - oldest {}, newest {}",
            go_duration(target.retention_ns),
            go_time(min_dropped),
            go_time(max_dropped)
        ));
    } else {
        out.reason = other_reason;
    }
    out
}

fn delete_in(
    st: &mut State,
    bucket: u64,
    start: i64,
    stop: i64,
    predicate: &DeletePredicate,
) -> usize {
    let Some(b) = st.buckets.get_mut(&bucket) else {
        return 0;
    };
    let keys = &b.series.keys;
    let mut removed = 0;
    for (pk, partition) in b.partitions.iter_mut() {
        if pk.shard_start > stop || pk.shard_start.saturating_add(partition.shard_duration) <= start
        {
            continue;
        }
        for (sid, data) in partition.series.iter_mut() {
            if predicate.matches(&keys[*sid as usize]) {
                removed += data.remove_rows(|t| t >= start && t <= stop);
            }
        }
        partition.series.retain(|_, d| !d.times.is_empty());
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formats_match_influxdb_messages() {
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(30 * 86_400_000_000_000), "720h0m0s");
        assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            go_time(1_577_836_800_500_000_000),
            "2020-01-01 00:00:00.5 +0000 UTC"
        );
    }
}
