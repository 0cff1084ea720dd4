//! The one way points go into a bucket, whoever sends them: `/api/v2/write`
//! and v1 `/write`, Flux `to()`, the scrapers and the task scheduler's run
//! records, and `oxiflux upgrade` / `import-backup` (with the server stopped). [`Ingest::write`]
//! owns the order that makes a write durable and its replication lossless:
//! the bucket becomes a storage target, the body is parsed once into a
//! [`Batch`], room is reserved in each of the bucket's replication queues
//! (or the write is refused before anything is stored), storage writes it
//! durably, and the same parsed lines go into the reserved room.
//!
//! Every write replicates, as InfluxDB 2.7's do (its points writer is the
//! replication service for HTTP writes, Flux, scrapers and task records
//! alike). Nothing here knows HTTP: callers check the caller's permission
//! and turn the outcome or the [`IngestError`] into their own answer.

use std::sync::Arc;

use lineproto::Precision;
use meta::buckets::Bucket;
use storage::{Batch, BucketTarget, WriteOutcome};

/// Why a write was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A line does not parse or carries a reserved tag key: nothing was written.
    #[error(transparent)]
    Invalid(#[from] storage::WriteError),
    /// A replication queue of the bucket is full: nothing was written.
    #[error("{0}: writes to this bucket are refused until the remote catches up (or the queue is made larger)")]
    QueueFull(#[from] replication::EnqueueError),
    /// The storage engine failed.
    #[error("{0}")]
    Storage(#[from] storage::Error),
}

/// Where writes go: storage and the replication queues.
#[derive(Debug, Clone)]
pub struct Ingest {
    storage: Arc<storage::Storage>,
    replications: Option<Arc<replication::Replications>>,
}

/// What a write to a replicated bucket will append to its queues, with the
/// room held there for it (dropped unused, the room is given back).
struct Queued {
    lines: Vec<u8>,
    room: replication::Reservation,
}

impl Ingest {
    /// Writes into `storage`, and into the queues of `replications` for the
    /// buckets that are replicated.
    pub fn new(storage: Arc<storage::Storage>, replications: Option<Arc<replication::Replications>>) -> Self {
        Self { storage, replications }
    }

    /// Writes `body` (line protocol, times in `precision`; a line without a
    /// time gets `now`) into `bucket`. Returns once the write is durable and
    /// queued for every replication of the bucket; the outcome says which
    /// points were dropped (outside retention, a field type conflict).
    pub fn write(
        &self,
        bucket: &Bucket,
        body: &[u8],
        precision: Precision,
        now: i64,
    ) -> Result<WriteOutcome, IngestError> {
        let target = BucketTarget {
            bucket: bucket.id.get(),
            retention_ns: bucket.retention_seconds.saturating_mul(time::SECOND),
            shard_group_ns: bucket.shard_group_seconds.saturating_mul(time::SECOND),
        };
        let batch = Batch::parse(body, precision)?;
        let queued = self.reserve(target.bucket, &batch, now)?;
        let outcome = self.storage.write(&target, &batch, now)?;
        if outcome.written > 0
            && let (Some(reps), Some(Queued { lines, room })) = (&self.replications, queued)
        {
            reps.enqueue_reserved(room, &lines)?;
        }
        Ok(outcome)
    }

    /// What the bucket's replications will be sent, with room reserved for
    /// it in their queues (`None` when the bucket is not replicated).
    fn reserve(&self, bucket: u64, batch: &Batch<'_>, now: i64) -> Result<Option<Queued>, IngestError> {
        let Some(reps) = &self.replications else { return Ok(None) };
        if !reps.replicates(bucket) {
            return Ok(None);
        }
        let lines = ns_lines(batch, batch.precision().truncate(now));
        let room = reps.reserve(bucket, lines.len() as u64)?;
        Ok(Some(Queued { lines, room }))
    }
}

/// The lines of `batch` as line protocol with every time in nanoseconds; a
/// line without a time gets `default_time`, the time the local write gave it.
fn ns_lines(batch: &Batch<'_>, default_time: i64) -> Vec<u8> {
    use std::fmt::Write;
    let body = batch.body();
    let mut out = String::with_capacity(body.len() + body.len() / 4);
    for line in batch.lines() {
        out.push_str(line.series_key());
        for (i, (k, v)) in line.fields().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            out.push_str(k.raw());
            out.push('=');
            match v {
                lineproto::FieldValue::Float(f) => {
                    let _ = write!(out, "{f:?}");
                }
                lineproto::FieldValue::Integer(n) => {
                    let _ = write!(out, "{n}i");
                }
                lineproto::FieldValue::UInteger(n) => {
                    let _ = write!(out, "{n}u");
                }
                lineproto::FieldValue::Boolean(b) => out.push_str(if b { "true" } else { "false" }),
                lineproto::FieldValue::String(s) => {
                    out.push('"');
                    out.push_str(s.raw());
                    out.push('"');
                }
            }
        }
        let _ = writeln!(out, " {}", line.timestamp().unwrap_or(default_time));
    }
    out.into_bytes()
}
