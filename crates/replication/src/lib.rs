//! Durable replication of written points to another server's `/api/v2/write`.
//!
//! Each replication has an on-disk [`Queue`] (under
//! `<data-dir>/replicationq/<id>/`) that local writes append to before they
//! are acknowledged, and a sender task that forwards the queue in order, in
//! gzipped batches, retrying with backoff on network errors, 429 (honouring
//! `Retry-After`) and 5xx. A remote's refusal (another 4xx) is reported in the
//! replication's status; the batch is dropped only when the replication says
//! so (`dropNonRetryableData`), otherwise the sender waits for the
//! replication to be changed. Records older than the replication's maximum
//! age are dropped and counted.

pub mod queue;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

pub use queue::{Queue, QueueError};

/// About this much line protocol goes in one request.
const BATCH_BYTES: usize = 1024 * 1024;
/// Retries start this soon and back off up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A replication stopped by a refusal looks again this often (or when changed).
const STOPPED_RECHECK: Duration = Duration::from_secs(60);
/// One request may take this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how a replication sends.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub remote_url: String,
    pub token: String,
    pub remote_org_id: String,
    /// The remote bucket: its ID if given, else its name.
    pub remote_bucket: String,
    pub allow_insecure_tls: bool,
    pub drop_non_retryable: bool,
    /// Records older than this are dropped; 0 = kept however old.
    pub max_age_secs: i64,
    pub max_queue_bytes: u64,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is never printed.
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("remote_url", &self.remote_url)
            .field("remote_org_id", &self.remote_org_id)
            .field("remote_bucket", &self.remote_bucket)
            .finish_non_exhaustive()
    }
}

/// How a replication is doing.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The remote's last answer (0: none yet, or no answer at all).
    pub latest_response_code: u16,
    /// Why the last attempt failed; empty after a success.
    pub latest_error: String,
    /// Records dropped: too old, or refused by the remote with `dropNonRetryableData`.
    pub dropped_records: u64,
    /// Bytes of line protocol the remote has acknowledged.
    pub sent_bytes: u64,
    /// Bytes of line protocol dropped (too old, or refused with `dropNonRetryableData`).
    pub dropped_bytes: u64,
    /// Points and bytes queued since the server started.
    pub points_queued: u64,
    pub bytes_queued: u64,
    /// Points and bytes a full queue refused.
    pub points_failed_to_queue: u64,
    pub bytes_failed_to_queue: u64,
    /// Failed remote writes by status code (0: no answer).
    pub write_errors: std::collections::BTreeMap<u16, u64>,
}

#[derive(Debug)]
struct Item {
    bucket: u64,
    /// The queue's directory, where the remote's last answer is kept too.
    dir: PathBuf,
    queue: Queue,
    target: Mutex<Target>,
    status: Mutex<Status>,
    /// New data was queued.
    data: Notify,
    /// The replication was changed or removed.
    changed: Notify,
    stop: AtomicBool,
    enqueued_bytes: AtomicU64,
}

/// Every replication of the server.
#[derive(Debug)]
pub struct Replications {
    dir: PathBuf,
    items: Mutex<HashMap<u64, Arc<Item>>>,
}

/// Why a write cannot be replicated.
#[derive(Debug, thiserror::Error)]
#[error("replication {name:?} cannot take the write: {source}")]
pub struct EnqueueError {
    pub name: String,
    #[source]
    pub source: QueueError,
}

/// Room held in the queues of a bucket's replications for one write (see
/// [`Replications::reserve`]); given back when dropped unused.
#[derive(Debug)]
#[must_use = "a reservation holds queue room until it is used or dropped"]
pub struct Reservation {
    held: Vec<(u64, Arc<Item>)>,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        for (_, item) in self.held.drain(..) {
            item.queue.release(self.bytes);
        }
    }
}

fn now_ns() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

impl Replications {
    pub fn new(dir: &Path) -> Self {
        Replications { dir: dir.to_owned(), items: Mutex::default() }
    }

    fn items(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Item>>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a replication's queue and starts its sender (on the current runtime).
    pub fn start(&self, id: u64, bucket: u64, target: Target) -> Result<(), QueueError> {
        let dir = self.dir.join(format!("{id:016x}"));
        let queue = Queue::open(&dir, target.max_queue_bytes)?;
        let status = recalled_answer(&dir);
        let item = Arc::new(Item {
            bucket,
            dir,
            queue,
            target: Mutex::new(target),
            status: Mutex::new(status),
            data: Notify::new(),
            changed: Notify::new(),
            stop: AtomicBool::new(false),
            enqueued_bytes: AtomicU64::new(0),
        });
        if let Some(old) = self.items().insert(id, Arc::clone(&item)) {
            old.stop.store(true, Ordering::Relaxed);
            old.changed.notify_one();
        }
        tokio::spawn(send_loop(item));
        Ok(())
    }

    /// Changes where and how a replication sends; the sender picks it up at once.
    pub fn update(&self, id: u64, target: Target) {
        if let Some(item) = self.items().get(&id) {
            item.queue.set_max_bytes(target.max_queue_bytes);
            *item.target.lock().unwrap_or_else(|e| e.into_inner()) = target;
            item.changed.notify_one();
        }
    }

    /// Stops a replication and deletes its queue.
    pub fn remove(&self, id: u64) {
        let Some(item) = self.items().remove(&id) else { return };
        item.stop.store(true, Ordering::Relaxed);
        item.changed.notify_one();
        let _ = std::fs::remove_dir_all(self.dir.join(format!("{id:016x}")));
    }

    /// Whether a bucket is replicated at all.
    pub fn replicates(&self, bucket: u64) -> bool {
        self.items().values().any(|i| i.bucket == bucket)
    }

    /// Holds room for `bytes` in every queue of `bucket`'s replications, or
    /// says which is full. A write reserves before it is made locally and
    /// appends with [`Replications::enqueue_reserved`] after, so a write that
    /// passed never finds the room taken by another; dropping the
    /// reservation (the local write failed) gives the room back.
    pub fn reserve(&self, bucket: u64, bytes: u64) -> Result<Reservation, EnqueueError> {
        let items: Vec<(u64, Arc<Item>)> =
            self.items().iter().filter(|(_, i)| i.bucket == bucket).map(|(id, i)| (*id, Arc::clone(i))).collect();
        let mut reservation = Reservation { held: Vec::with_capacity(items.len()), bytes };
        for (id, item) in items {
            item.queue.reserve(bytes).map_err(|source| EnqueueError { name: name_of(&item), source })?;
            reservation.held.push((id, item));
        }
        Ok(reservation)
    }

    /// Appends `data` (the `bytes` reserved) to the queues `reservation`
    /// holds room in, durably; a replication removed meanwhile is skipped.
    pub fn enqueue_reserved(&self, mut reservation: Reservation, data: &[u8]) -> Result<(), EnqueueError> {
        let held = std::mem::take(&mut reservation.held);
        let mut result = Ok(());
        for (id, item) in held {
            let current = self.items().get(&id).is_some_and(|i| Arc::ptr_eq(i, &item));
            if !current || result.is_err() {
                item.queue.release(reservation.bytes);
                continue;
            }
            result = Self::append_to(&item, data, true);
        }
        result
    }

    /// Appends line protocol (nanosecond times) written to `bucket` to each of
    /// its replications' queues, durably.
    pub fn enqueue(&self, bucket: u64, data: &[u8]) -> Result<(), EnqueueError> {
        let items: Vec<Arc<Item>> = self.items().values().filter(|i| i.bucket == bucket).cloned().collect();
        for item in items {
            Self::append_to(&item, data, false)?;
        }
        Ok(())
    }

    fn append_to(item: &Item, data: &[u8], reserved: bool) -> Result<(), EnqueueError> {
        let now = now_ns();
        let points = data.iter().filter(|b| **b == b'\n').count() as u64;
        let appended = if reserved { item.queue.append_reserved(now, data) } else { item.queue.append(now, data) };
        {
            let mut st = item.status.lock().unwrap_or_else(|e| e.into_inner());
            if appended.is_ok() {
                st.points_queued += points;
                st.bytes_queued += data.len() as u64;
            } else {
                st.points_failed_to_queue += points;
                st.bytes_failed_to_queue += data.len() as u64;
            }
        }
        appended.map_err(|source| EnqueueError { name: name_of(item), source })?;
        item.enqueued_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
        item.data.notify_one();
        Ok(())
    }

    /// Every replication's ID, bytes still to send and status (for `/metrics`).
    pub fn all_status(&self) -> Vec<(u64, u64, Status)> {
        let items: Vec<(u64, Arc<Item>)> = self.items().iter().map(|(id, i)| (*id, Arc::clone(i))).collect();
        let mut out: Vec<(u64, u64, Status)> = items
            .into_iter()
            .map(|(id, item)| {
                let st = item.status.lock().unwrap_or_else(|e| e.into_inner());
                (id, item.queue.pending_bytes(), st.clone())
            })
            .collect();
        out.sort_by_key(|(id, ..)| *id);
        out
    }

    /// The queue's size on disk, what is still to be sent, and the status,
    /// read together (the sender changes the queue and the status under one lock).
    pub fn status(&self, id: u64) -> Option<(u64, u64, Status)> {
        let item = self.items().get(&id).cloned()?;
        let st = item.status.lock().unwrap_or_else(|e| e.into_inner());
        Some((item.queue.disk_bytes(), item.queue.pending_bytes(), st.clone()))
    }
}

fn name_of(item: &Item) -> String {
    item.target.lock().unwrap_or_else(|e| e.into_inner()).name.clone()
}

fn client(insecure: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .danger_accept_invalid_certs(insecure)
        .user_agent(concat!("oxiflux/", env!("CARGO_PKG_VERSION"), " replication"))
        .build()
        .unwrap_or_default()
}

/// The write URL of a target (query string escaped).
fn write_url(t: &Target) -> String {
    let escape = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "{}/api/v2/write?orgID={}&bucket={}&precision=ns",
        t.remote_url.trim_end_matches('/'),
        escape(&t.remote_org_id),
        escape(&t.remote_bucket)
    )
}

/// What a remote made of one request.
enum Answer {
    Accepted,
    /// Worth trying again later (network, 429, 5xx), with the wait the remote asked for.
    Retry(u16, String, Option<Duration>),
    /// Refused for good (another 4xx).
    Refused(u16, String),
}

async fn post(client: &reqwest::Client, target: &Target, gzipped: Vec<u8>) -> Answer {
    let sent = client
        .post(write_url(target))
        .header("Authorization", format!("Token {}", target.token))
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Content-Encoding", "gzip")
        .body(gzipped)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => return Answer::Retry(0, describe(&e), None),
    };
    let code = resp.status().as_u16();
    if resp.status().is_success() {
        return Answer::Accepted;
    }
    let retry_after = resp
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(512).collect());
    if code == 429 || code >= 500 { Answer::Retry(code, message, retry_after) } else { Answer::Refused(code, message) }
}

fn describe(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Checks that a target takes writes: an empty write must be accepted.
pub async fn validate(target: &Target) -> Result<(), String> {
    let client = client(target.allow_insecure_tls);
    match post(&client, target, gzip(b"")).await {
        Answer::Accepted => Ok(()),
        Answer::Retry(0, message, _) => Err(format!("cannot reach {}: {message}", target.remote_url)),
        Answer::Retry(code, message, _) | Answer::Refused(code, message) => {
            Err(format!("remote {} answered {code}: {message}", target.remote_url))
        }
    }
}

async fn send_loop(item: Arc<Item>) {
    let mut backoff = FIRST_BACKOFF;
    let mut insecure = item.target.lock().unwrap_or_else(|e| e.into_inner()).allow_insecure_tls;
    let mut http = client(insecure);
    while !item.stop.load(Ordering::Relaxed) {
        let target = item.target.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if target.allow_insecure_tls != insecure {
            insecure = target.allow_insecure_tls;
            http = client(insecure);
        }
        let batch = match item.queue.peek(BATCH_BYTES) {
            Ok(b) => b,
            Err(e) => {
                set_status(&item, 0, format!("reading the queue: {e}"));
                wait(&item, MAX_BACKOFF, false).await;
                continue;
            }
        };
        if batch.is_empty() {
            wait(&item, Duration::from_secs(1), true).await;
            continue;
        }
        // Too old to send: dropped and counted.
        if target.max_age_secs > 0 {
            let oldest = now_ns() - target.max_age_secs.saturating_mul(1_000_000_000);
            let stale = batch.iter().take_while(|r| r.enqueued_at < oldest).count();
            if stale > 0 {
                // The count changes with the queue, never seen one without the other.
                let mut st = item.status.lock().unwrap_or_else(|e| e.into_inner());
                if item.queue.advance(batch[stale - 1].next).is_ok() {
                    st.dropped_records += stale as u64;
                    st.dropped_bytes += batch[..stale].iter().map(|r| r.data.len() as u64).sum::<u64>();
                }
                continue;
            }
        }
        let body: Vec<u8> = batch.iter().flat_map(|r| r.data.iter().copied()).collect();
        let last = batch.last().map(|r| r.next).unwrap_or_default();
        match post(&http, &target, gzip(&body)).await {
            Answer::Accepted => {
                let mut st = item.status.lock().unwrap_or_else(|e| e.into_inner());
                if item.queue.advance(last).is_ok() {
                    answered(&item, &mut st, 204, String::new());
                    st.sent_bytes += body.len() as u64;
                }
                backoff = FIRST_BACKOFF;
            }
            Answer::Retry(code, message, after) => {
                tracing::debug!(replication = %target.name, code, %message, "replication will retry");
                failed_write(&item, code, message);
                wait(&item, after.unwrap_or(backoff), false).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Answer::Refused(code, message) => {
                tracing::warn!(replication = %target.name, code, %message, "the remote refused a replication batch");
                failed_write(&item, code, message);
                if target.drop_non_retryable {
                    let mut st = item.status.lock().unwrap_or_else(|e| e.into_inner());
                    if item.queue.advance(last).is_ok() {
                        st.dropped_records += batch.len() as u64;
                        st.dropped_bytes += body.len() as u64;
                    }
                } else {
                    // Stopped until the replication or its remote is changed.
                    wait(&item, STOPPED_RECHECK, false).await;
                }
            }
        }
    }
}

fn set_status(item: &Item, code: u16, message: String) {
    let mut st = item.status.lock().unwrap_or_else(|e| e.into_inner());
    answered(item, &mut st, code, message);
}

/// A remote write failed with `code`: the status says so, and it is counted.
fn failed_write(item: &Item, code: u16, message: String) {
    let mut st = item.status.lock().unwrap_or_else(|e| e.into_inner());
    answered(item, &mut st, code, message);
    *st.write_errors.entry(code).or_default() += 1;
}

/// The file beside a queue that keeps the remote's last answer.
const ANSWER_FILE: &str = "latest-answer";

/// Records the remote's latest answer; when it changes it is also kept on
/// disk, so the replication shows it after a restart until the next attempt
/// (as InfluxDB keeps it in its metadata).
fn answered(item: &Item, st: &mut Status, code: u16, message: String) {
    if st.latest_response_code == code && st.latest_error == message {
        return;
    }
    st.latest_response_code = code;
    st.latest_error = message;
    let tmp = item.dir.join(format!("{ANSWER_FILE}.tmp"));
    let kept = std::fs::write(&tmp, format!("{code}\n{}", st.latest_error))
        .and_then(|()| std::fs::rename(&tmp, item.dir.join(ANSWER_FILE)));
    if let Err(e) = kept {
        tracing::warn!(dir = %item.dir.display(), error = %e, "cannot keep the replication's latest answer");
    }
}

/// A status holding the last answer kept in `dir`, if any.
fn recalled_answer(dir: &Path) -> Status {
    let mut st = Status::default();
    if let Ok(text) = std::fs::read_to_string(dir.join(ANSWER_FILE)) {
        let (code, message) = text.split_once('\n').unwrap_or((&text, ""));
        st.latest_response_code = code.trim().parse().unwrap_or(0);
        st.latest_error = message.to_owned();
    }
    st
}

/// Waits `at_most`, or less if the replication changes (or, with `on_data`, data arrives).
async fn wait(item: &Item, at_most: Duration, on_data: bool) {
    let data = async {
        if on_data {
            item.data.notified().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = data => {}
        () = item.changed.notified() => {}
        () = tokio::time::sleep(at_most) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remotes_last_answer_outlives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target {
            name: "r".into(),
            remote_url: "http://127.0.0.1:9".into(),
            token: String::new(),
            remote_org_id: String::new(),
            remote_bucket: String::new(),
            allow_insecure_tls: false,
            drop_non_retryable: false,
            max_age_secs: 0,
            max_queue_bytes: 1 << 20,
        };
        let item = Item {
            bucket: 1,
            dir: dir.path().to_owned(),
            queue: Queue::open(dir.path(), 1 << 20).unwrap(),
            target: Mutex::new(target),
            status: Mutex::new(recalled_answer(dir.path())),
            data: Notify::new(),
            changed: Notify::new(),
            stop: AtomicBool::new(false),
            enqueued_bytes: AtomicU64::new(0),
        };
        assert_eq!(item.status.lock().unwrap().latest_response_code, 0);
        failed_write(&item, 401, "unauthorized: bad token\nsecond line".into());
        let recalled = recalled_answer(dir.path());
        assert_eq!(recalled.latest_response_code, 401);
        assert_eq!(recalled.latest_error, "unauthorized: bad token\nsecond line");
        set_status(&item, 204, String::new());
        let recalled = recalled_answer(dir.path());
        assert_eq!((recalled.latest_response_code, recalled.latest_error.as_str()), (204, ""));
    }
}
