//! The apply step: parsed lines into the buffer (each point written or
//! dropped, and why), deletes from the buffer, and the replay of logged entries.

use std::sync::Arc;

use lineproto::PointRef;

use super::state::{PartitionKey, PartitionSchema, State};
use crate::batch::Batch;
use crate::catalog::BucketCatalog;
use crate::delete::DeletePredicate;
use crate::error::{Error, Result};
use crate::objects::Objects;
use crate::series::FieldType;
use crate::wire::{Entry, precision_from_code};

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

/// Applies a logged entry to the state (at start-up, replaying the log).
pub(super) fn apply_entry(st: &mut State, objects: &Objects, entry: &Entry) -> Result<()> {
    match entry {
        Entry::Write { bucket, shard_group_ns, retention_ns, precision, now, body } => {
            let precision = precision_from_code(*precision)?;
            let batch = Batch::parse(body, precision)
                .map_err(|e| Error::Corrupt(format!("logged body no longer parses: {e}")))?;
            let target = BucketTarget { bucket: *bucket, retention_ns: *retention_ns, shard_group_ns: *shard_group_ns };
            apply_lines(st, &target, batch.lines(), precision.truncate(*now), *now);
        }
        Entry::Delete { bucket, start, stop, predicate } => {
            let p = DeletePredicate::parse(predicate)
                .map_err(|e| Error::Corrupt(format!("logged delete predicate: {}", e.message)))?;
            delete_in_buffer(st, *bucket, *start, *stop, &p);
        }
        Entry::DropBucket { bucket } => {
            st.buckets.remove(bucket);
            objects.delete_prefix(&BucketCatalog::prefix(*bucket))?;
        }
    }
    Ok(())
}

/// Heap cost of one buffered point, for the snapshot threshold: its time and
/// values, plus half again for the spare capacity of columns that grow by
/// doubling, so that `--storage-cache-snapshot-memory-size` means real bytes.
fn point_bytes(point: &PointRef<'_, '_>) -> usize {
    let exact = 8 + point
        .fields()
        .map(|(_, v)| match v {
            lineproto::FieldValue::String(s) => 25 + s.raw().len(),
            _ => 9,
        })
        .sum::<usize>();
    exact + exact / 2
}

/// Applies parsed lines to the buffer, dropping points outside retention or in
/// conflict with a field's type in their shard.
pub(super) fn apply_lines<'p, 'a: 'p>(
    st: &mut State,
    target: &BucketTarget,
    lines: impl IntoIterator<Item = PointRef<'p, 'a>>,
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
    for point in lines {
        let time = point.timestamp().unwrap_or(default_time);
        if time < cutoff {
            retention_dropped += 1;
            min_dropped = min_dropped.min(time);
            max_dropped = max_dropped.max(time);
            continue;
        }
        let measurement = point.measurement().unescaped();
        // A field named "time" is not stored; a point with nothing else is dropped.
        let fields = point.fields().filter(|(k, _)| k.raw() != "time");
        if fields.clone().next().is_none() {
            out.dropped += 1;
            other_reason.get_or_insert_with(|| {
                format!("invalid field name: input field \"time\" on measurement \"{measurement}\" is invalid")
            });
            continue;
        }
        let sid = bucket.series.id_for(&point);
        let key = PartitionKey { shard_start: time.div_euclid(sg) * sg, measurement: Arc::from(&*measurement) };
        let schema = bucket
            .schemas
            .entry(key.clone())
            .or_insert_with(|| PartitionSchema { shard_duration: sg, ..Default::default() });
        let conflict = fields.clone().find_map(|(k, v)| {
            let t = FieldType::of(&v);
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
        for (k, v) in fields.clone() {
            let k = k.unescaped();
            if !schema.fields.contains_key(&*k) {
                schema.fields.insert(Arc::from(&*k), FieldType::of(&v));
            }
        }
        bucket.buffer.entry(key).or_default().entry(sid).or_default().push(time, fields);
        added_bytes += point_bytes(&point);
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

pub(super) fn delete_in_buffer(st: &mut State, bucket: u64, start: i64, stop: i64, predicate: &DeletePredicate) {
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
