//! How many Flux queries run at once, how many wait, and what each may use:
//! `--query-concurrency`, `--query-queue-size`, the `--query-*-memory-bytes`
//! flags and `--query-timeout`, with InfluxDB's defaults and errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ApiResult};

/// The query limits as configured; 0 means no limit, as with `influxd`.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    pub concurrency: usize,
    pub queue_size: usize,
    pub memory_bytes: u64,
    pub initial_memory_bytes: u64,
    pub max_memory_bytes: u64,
    pub timeout: Option<Duration>,
}

impl Default for QueryLimits {
    /// InfluxDB 2.7's defaults: 1024 running, 1024 waiting, memory unlimited.
    fn default() -> Self {
        Self {
            concurrency: 1024,
            queue_size: 1024,
            memory_bytes: 0,
            initial_memory_bytes: 0,
            max_memory_bytes: 0,
            timeout: None,
        }
    }
}

impl QueryLimits {
    /// Refuses the settings `influxd` refuses, with its reasons.
    pub fn validate(&self) -> Result<(), String> {
        if self.concurrency == 0 {
            if self.max_memory_bytes != 0 {
                return Err("cannot limit max memory when query-concurrency is unlimited".into());
            }
        } else if self.queue_size == 0 {
            return Err("query-queue-size must be positive when query-concurrency is limited".into());
        }
        if self.memory_bytes != 0 && self.initial_memory_bytes > self.memory_bytes {
            return Err(format!(
                "query-memory-bytes ({}) must be greater than or equal to query-initial-memory-bytes ({})",
                self.memory_bytes, self.initial_memory_bytes
            ));
        }
        if self.max_memory_bytes != 0 {
            let min = (self.concurrency as u64).saturating_mul(self.initial());
            if self.max_memory_bytes < min {
                return Err(format!(
                    "query-max-memory-bytes must be greater than or equal to query-concurrency * query-initial-memory-bytes: {} < {min} ({} * {})",
                    self.max_memory_bytes,
                    self.concurrency,
                    self.initial()
                ));
            }
        }
        Ok(())
    }

    /// The bytes each query is promised when it starts.
    fn initial(&self) -> u64 {
        if self.initial_memory_bytes == 0 { self.memory_bytes } else { self.initial_memory_bytes }
    }
}

/// Admits queries: a free slot, else a place in the queue, else
/// `queue length exceeded`.
#[derive(Debug)]
pub struct Admission {
    slots: Option<Arc<Semaphore>>,
    queue_size: usize,
    waiting: AtomicUsize,
    limits: flux::Limits,
}

/// A running query's slot; freed when dropped.
pub(crate) struct Slot(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl Admission {
    pub fn new(config: &QueryLimits) -> Self {
        // The shared pool is what is left of the total once every running query
        // has its initial bytes (InfluxDB's controller splits it the same way).
        let pool = (config.max_memory_bytes != 0).then(|| {
            let promised = (config.concurrency as u64).saturating_mul(config.initial());
            Arc::new(flux::MemoryPool::new(config.max_memory_bytes.saturating_sub(promised)))
        });
        Self {
            slots: (config.concurrency != 0).then(|| Arc::new(Semaphore::new(config.concurrency))),
            queue_size: config.queue_size,
            waiting: AtomicUsize::new(0),
            limits: flux::Limits {
                memory_bytes: config.memory_bytes,
                initial_memory_bytes: config.initial_memory_bytes,
                pool,
                timeout: config.timeout,
                cancel: None,
            },
        }
    }

    /// The limits each query runs under.
    pub(crate) fn limits(&self) -> &flux::Limits {
        &self.limits
    }

    /// The slot of a query started by a running query (`influxdb.api()` into
    /// `/api/v2/query`): it runs within its caller's slot, taking none.
    pub(crate) fn within_caller(&self) -> Slot {
        Slot(None)
    }

    /// Waits for a slot; a full queue is an error at once. A request dropped
    /// while waiting (its client went away) leaves the queue.
    pub(crate) async fn admit(&self) -> ApiResult<Slot> {
        let Some(slots) = &self.slots else { return Ok(Slot(None)) };
        if let Ok(permit) = Arc::clone(slots).try_acquire_owned() {
            return Ok(Slot(Some(permit)));
        }
        let queue_size = self.queue_size;
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| (w < queue_size).then_some(w + 1))
            .map_err(|_| ApiError::invalid("queue length exceeded"))?;
        struct Leave<'a>(&'a AtomicUsize);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _leave = Leave(&self.waiting);
        let permit =
            Arc::clone(slots).acquire_owned().await.map_err(|_| ApiError::internal("the query slots were closed"))?;
        Ok(Slot(Some(permit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn influxd_refuses_the_same_settings() {
        let ok = QueryLimits::default();
        ok.validate().unwrap();
        let bad = |l: QueryLimits| l.validate().unwrap_err();
        assert!(bad(QueryLimits { queue_size: 0, ..ok.clone() }).contains("query-queue-size must be positive"));
        assert!(bad(QueryLimits { concurrency: 0, max_memory_bytes: 10, ..ok.clone() }).contains("unlimited"));
        assert!(
            bad(QueryLimits { concurrency: 4, memory_bytes: 100, max_memory_bytes: 399, ..ok.clone() })
                .contains("399 < 400 (4 * 100)")
        );
        assert!(bad(QueryLimits { memory_bytes: 10, initial_memory_bytes: 11, ..ok.clone() }).contains("initial"));
        QueryLimits { concurrency: 0, queue_size: 0, ..ok }.validate().unwrap();
    }

    #[tokio::test]
    async fn a_full_queue_turns_queries_away_and_a_freed_slot_admits_the_next() {
        let a = Arc::new(Admission::new(&QueryLimits { concurrency: 1, queue_size: 1, ..QueryLimits::default() }));
        let running = a.admit().await.unwrap();
        let queued = tokio::spawn({
            let a = Arc::clone(&a);
            async move { a.admit().await.map(|_| ()) }
        });
        while a.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        let err = a.admit().await.err().unwrap();
        assert_eq!(err.message, "queue length exceeded");
        drop(running);
        queued.await.unwrap().unwrap();
        a.admit().await.unwrap();
    }
}
