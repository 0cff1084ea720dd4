//! Where local writes meet replication: a write to a replicated bucket is
//! refused while one of its queues is full, and once it is durable locally
//! it is appended, as line protocol with nanosecond times, to each queue
//! before the client hears 204. And the senders' targets, read from the
//! metadata store (the remote's token opened only here).

use meta::replications::Replication;
use storage::Batch;

use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

/// The lines of `batch` as line protocol with every time in nanoseconds; a
/// line without a time gets `default_time`, the time the local write gave it.
pub(crate) fn ns_lines(batch: &Batch<'_>, default_time: i64) -> Vec<u8> {
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

/// What a write to a replicated bucket will append to its queues, with the
/// room held there for it.
pub(crate) struct Queued {
    lines: Vec<u8>,
    room: replication::Reservation,
}

/// A write about to go to `bucket`: what its replications will be sent (or
/// `None` when the bucket is not replicated), with room reserved in their
/// queues; refused while a queue is full, before anything is written.
pub(crate) fn prepare(
    reps: Option<&replication::Replications>,
    bucket: u64,
    batch: &Batch<'_>,
    now: i64,
) -> ApiResult<Option<Queued>> {
    let Some(reps) = reps else { return Ok(None) };
    if !reps.replicates(bucket) {
        return Ok(None);
    }
    let lines = ns_lines(batch, batch.precision().truncate(now));
    let room = reps.reserve(bucket, lines.len() as u64).map_err(full)?;
    Ok(Some(Queued { lines, room }))
}

/// After the local write is durable: the lines go to each replication's
/// queue, into the room reserved for them (dropping `queued` instead, when the
/// local write failed, gives the room back).
pub(crate) fn enqueue(reps: Option<&replication::Replications>, queued: Option<Queued>) -> ApiResult<()> {
    let (Some(reps), Some(Queued { lines, room })) = (reps, queued) else { return Ok(()) };
    reps.enqueue_reserved(room, &lines).map_err(full)
}

fn full(e: replication::EnqueueError) -> ApiError {
    ApiError::new(
        Code::Unavailable,
        format!("{e}: writes to this bucket are refused until the remote catches up (or the queue is made larger)"),
    )
}

/// What a replication's sender needs: the remote's address, org and token.
pub(crate) fn target(
    meta: &meta::Store,
    key: &meta::secrets::SecretKey,
    r: &Replication,
) -> meta::Result<replication::Target> {
    let remote = meta.find_remote_by_id(r.remote_id)?;
    let token = meta.remote_token(r.remote_id, key)?;
    Ok(replication::Target {
        name: r.name.clone(),
        remote_url: remote.remote_url,
        token,
        remote_org_id: remote.remote_org_id,
        remote_bucket: r.remote_bucket_id.clone().or_else(|| r.remote_bucket_name.clone()).unwrap_or_default(),
        allow_insecure_tls: remote.allow_insecure_tls,
        drop_non_retryable: r.drop_non_retryable_data,
        max_age_secs: r.max_age_seconds,
        max_queue_bytes: u64::try_from(r.max_queue_size_bytes).unwrap_or(0),
    })
}

impl AppState {
    /// Starts a sender for every replication in the store (at start-up, on the runtime).
    pub fn start_replications(&self) -> Result<(), String> {
        let Some(reps) = &self.replications else { return Ok(()) };
        let key = self.secret_key.clone().ok_or("no secret key to open remote tokens")?;
        let all = self
            .meta
            .list_replications(&meta::replications::ReplicationFilter::default())
            .map_err(|e| e.to_string())?;
        for r in all {
            let t = target(&self.meta, &key, &r).map_err(|e| format!("replication {}: {e}", r.id))?;
            reps.start(r.id.get(), r.local_bucket_id.get(), t).map_err(|e| format!("replication {}: {e}", r.id))?;
        }
        Ok(())
    }
}
