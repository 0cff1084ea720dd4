//! What one query may use: memory for the tables it holds at once, and time.
//!
//! Memory is counted as InfluxDB's query controller counts it: each query may
//! hold up to `query-memory-bytes`; it starts with `query-initial-memory-bytes`
//! of its own, and grows beyond that only by borrowing from a pool shared by
//! every query (`query-max-memory-bytes` less what the running queries were
//! promised up front). What is counted is what the query holds: the results of
//! storage reads, and the tables an operation must gather before it can run
//! (group, sort, join, ...). A table passing through to the response is held
//! only while it passes.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{EvalError, EvalResult};

/// The limits one query runs under. The default is no limit at all.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Most bytes the query may hold at once; 0 = no limit.
    pub memory_bytes: u64,
    /// Bytes the query may hold without borrowing from `pool`; 0 = `memory_bytes`.
    pub initial_memory_bytes: u64,
    /// Where a query borrows beyond its initial bytes; `None` = no shared limit.
    pub pool: Option<Arc<MemoryPool>>,
    /// How long the query may run; `None` = as long as it takes.
    pub timeout: Option<Duration>,
    /// Set to stop the query (a task run canceled).
    pub cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Memory shared by all queries beyond what each was promised when it started.
#[derive(Debug)]
pub struct MemoryPool {
    limit: u64,
    used: AtomicU64,
}

impl MemoryPool {
    pub fn new(limit: u64) -> Self {
        Self { limit, used: AtomicU64::new(0) }
    }

    /// Bytes lent out now.
    pub fn in_use(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    fn take(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give_back(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// One running query's account.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    own: u64,
    pool: Option<Arc<MemoryPool>>,
    used: Cell<u64>,
    borrowed: Cell<u64>,
    deadline: Option<(Instant, Duration)>,
    cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    ticks: Cell<u32>,
    /// Whether reservations are counted without a limit (for the profiler).
    measuring: Cell<bool>,
    /// The most held at once, and the sum of everything reserved.
    peak: Cell<u64>,
    total: Cell<u64>,
}

impl Budget {
    pub fn new(limits: &Limits) -> Rc<Self> {
        let limit = if limits.memory_bytes == 0 { u64::MAX } else { limits.memory_bytes };
        let own = if limits.initial_memory_bytes == 0 { limit } else { limits.initial_memory_bytes.min(limit) };
        Rc::new(Self {
            limit,
            own,
            pool: limits.pool.clone(),
            used: Cell::new(0),
            borrowed: Cell::new(0),
            deadline: limits.timeout.map(|t| (Instant::now() + t, t)),
            cancel: limits.cancel.clone(),
            ticks: Cell::new(0),
            measuring: Cell::new(false),
            peak: Cell::new(0),
            total: Cell::new(0),
        })
    }

    /// Counts `bytes()` as held until the returned reservation is dropped
    /// (without limits nothing is counted, and `bytes` is not called).
    pub fn reserve(self: &Rc<Self>, bytes: impl FnOnce() -> u64) -> EvalResult<Reservation> {
        if self.limit == u64::MAX && self.pool.is_none() && !self.measuring.get() {
            return Ok(Reservation { budget: Rc::clone(self), bytes: 0 });
        }
        let bytes = bytes();
        let used = self.used.get();
        let wanted = used.saturating_add(bytes);
        let exhausted = |limit: u64| {
            EvalError::resources_exhausted(format!(
                "memory allocation limit reached: limit {limit} bytes, allocated: {used}, wanted: {bytes}"
            ))
        };
        if wanted > self.limit {
            return Err(exhausted(self.limit));
        }
        if let Some(pool) = &self.pool {
            let have = self.own.saturating_add(self.borrowed.get());
            if wanted > have {
                let more = wanted - have;
                if !pool.take(more) {
                    return Err(exhausted(have));
                }
                self.borrowed.set(self.borrowed.get() + more);
            }
        }
        self.used.set(wanted);
        self.peak.set(self.peak.get().max(wanted));
        self.total.set(self.total.get().saturating_add(bytes));
        Ok(Reservation { budget: Rc::clone(self), bytes })
    }

    /// Counts every reservation from now on, limited or not, so that
    /// [`Budget::peak`] and [`Budget::total`] say what the query held.
    pub fn measure(&self) {
        self.measuring.set(true);
    }

    /// The most bytes held at once.
    pub fn peak(&self) -> u64 {
        self.peak.get()
    }

    /// The bytes reserved over the whole query.
    pub fn total(&self) -> u64 {
        self.total.get()
    }

    fn release(&self, bytes: u64) {
        let used = self.used.get().saturating_sub(bytes);
        self.used.set(used);
        // What is no longer needed goes back to the pool at once, so that a
        // query between two large steps does not sit on other queries' memory.
        if let Some(pool) = &self.pool {
            let keep = used.saturating_sub(self.own);
            let surplus = self.borrowed.get().saturating_sub(keep);
            if surplus > 0 {
                pool.give_back(surplus);
                self.borrowed.set(self.borrowed.get() - surplus);
            }
        }
    }

    /// One step of row-by-row work; every few thousand, the clock is checked.
    pub fn tick(&self) -> EvalResult<()> {
        if self.deadline.is_none() {
            return Ok(());
        }
        let n = self.ticks.get().wrapping_add(1);
        self.ticks.set(n);
        if n.is_multiple_of(4096) { self.check_time() } else { Ok(()) }
    }

    /// An error once the query has run out of time.
    /// How long the query may still run; `None` = no limit.
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline.map(|(at, _)| at.saturating_duration_since(Instant::now()))
    }

    pub fn check_time(&self) -> EvalResult<()> {
        if self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(EvalError::invalid("canceled"));
        }
        match self.deadline {
            Some((at, limit)) if Instant::now() >= at => Err(EvalError::resources_exhausted(format!(
                "query timeout reached: the query ran longer than {limit:?} (--query-timeout)"
            ))),
            _ => Ok(()),
        }
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.give_back(self.borrowed.get());
        }
    }
}

/// Bytes counted as held; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Rc<Budget>,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_may_not_hold_more_than_its_limit() {
        let b = Budget::new(&Limits { memory_bytes: 100, ..Limits::default() });
        let first = b.reserve(|| 60).unwrap();
        let err = b.reserve(|| 50).unwrap_err();
        assert_eq!(err.message(), "memory allocation limit reached: limit 100 bytes, allocated: 60, wanted: 50");
        drop(first);
        b.reserve(|| 100).unwrap();
    }

    #[test]
    fn beyond_its_own_bytes_a_query_borrows_from_the_pool_and_gives_back() {
        let pool = Arc::new(MemoryPool::new(50));
        let limits = Limits {
            memory_bytes: 1000,
            initial_memory_bytes: 100,
            pool: Some(Arc::clone(&pool)),
            timeout: None,
            cancel: None,
        };
        let a = Budget::new(&limits);
        let b = Budget::new(&limits);
        let held = a.reserve(|| 140).unwrap();
        assert_eq!(pool.in_use(), 40);
        let err = b.reserve(|| 111).unwrap_err();
        assert!(err.message().starts_with("memory allocation limit reached: limit 100 bytes"), "{}", err.message());
        b.reserve(|| 110).unwrap();
        assert_eq!(pool.in_use(), 40, "b's reservation was dropped: its loan goes back");
        drop(held);
        assert_eq!(pool.in_use(), 0);
        let _kept = a.reserve(|| 150).unwrap();
        drop(a);
        assert_eq!(pool.in_use(), 50, "a reservation keeps its budget alive");
    }

    #[test]
    fn time_runs_out() {
        let b = Budget::new(&Limits { timeout: Some(Duration::ZERO), ..Limits::default() });
        assert!(b.check_time().unwrap_err().message().starts_with("query timeout reached"));
        Budget::new(&Limits::default()).check_time().unwrap();
    }
}
