//! The scheduler: hands out each active task's due runs (catching up, in
//! order, on those missed while the server was down) and runs them on a
//! bounded pool of workers shared by all tasks, never more at once for one
//! task than its `concurrency` allows.
//!
//! Every step is recorded in the metadata store before it is acted on: a run
//! is created in the same transaction that moves its task's schedule, marked
//! started before its script runs, and finished with its outcome. So a
//! restart — even after `kill -9` — resumes the schedule where it stood; runs
//! that were waiting still run, and a run that was in flight is marked
//! failed with a log line saying so, never left `started`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meta::Id;
use meta::tasks::{Run, RunLog, RunStatus, Task, TaskStatus};
use tokio::sync::{Notify, Semaphore};

use crate::options;

/// What runs a task's script: the server, with its storage and query engine.
pub trait Executor: Send + Sync + 'static {
    /// Runs `task`'s script for `run`: `now()` at the run's scheduled time,
    /// with the permissions of the task's owner; stops when `cancel` is set.
    /// `Err` is the message for the run's log.
    fn execute(
        &self,
        task: Task,
        run: Run,
        cancel: Arc<AtomicBool>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

    /// Keeps a finished run where InfluxDB keeps them (the org's `_tasks` bucket).
    fn record(&self, task: &Task, run: &Run, logs: &[RunLog]) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The scheduler's limits (`--task-*` flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// Runs executing at once, across all tasks.
    pub workers: usize,
    /// Most due runs one task gets per pass (a long outage is caught up over several).
    pub catch_up_batch: usize,
    /// How long finished runs are kept in the run history.
    pub history: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config { workers: 8, catch_up_batch: 100, history: Duration::from_secs(3 * 86_400) }
    }
}

/// Runs in flight: run ID → (task ID, cancel flag).
type InFlight = HashMap<Id, (Id, Arc<AtomicBool>)>;

pub struct Scheduler {
    meta: Arc<meta::Store>,
    executor: Arc<dyn Executor>,
    config: Config,
    workers: Arc<Semaphore>,
    wake: Notify,
    in_flight: Mutex<InFlight>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").field("config", &self.config).finish_non_exhaustive()
    }
}

fn now_ns() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

/// Runs a metadata call off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

impl Scheduler {
    pub fn new(meta: Arc<meta::Store>, executor: Arc<dyn Executor>, config: Config) -> Arc<Self> {
        let workers = Arc::new(Semaphore::new(config.workers.max(1)));
        Arc::new(Scheduler { meta, executor, config, workers, wake: Notify::new(), in_flight: Mutex::default() })
    }

    /// Looks again now: a task was made, changed, or a run asked for.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops a run in flight; `false` if it is not running here.
    pub fn cancel(&self, run_id: Id) -> bool {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        match in_flight.get(&run_id) {
            Some((_, flag)) => {
                flag.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Stops every run of a task in flight (the task was deleted).
    pub fn cancel_task(&self, task_id: Id) {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for (task, flag) in in_flight.values() {
            if *task == task_id {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }

    fn running_for(&self, task_id: Id) -> usize {
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        in_flight.values().filter(|(t, _)| *t == task_id).count()
    }

    /// Schedules and runs until `shutdown` resolves.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let me = Arc::clone(&self);
        let _ = blocking(move || me.recover()).await;
        tokio::pin!(shutdown);
        let mut last_prune = 0;
        loop {
            let now = now_ns();
            let me = Arc::clone(&self);
            let next_due = blocking(move || me.plan(now)).await.flatten();
            Arc::clone(&self).dispatch(now).await;
            if now - last_prune > 3_600_000_000_000 {
                last_prune = now;
                let (meta, keep) = (Arc::clone(&self.meta), self.config.history);
                let _ =
                    blocking(move || meta.prune_runs(now - i64::try_from(keep.as_nanos()).unwrap_or(i64::MAX))).await;
            }
            // Sleep until the next run falls due (at most a second), or until woken.
            let wait = next_due.map_or(Duration::from_secs(1), |t| {
                Duration::from_nanos(u64::try_from((t - now_ns()).max(1_000_000)).unwrap_or(0))
                    .min(Duration::from_secs(1))
            });
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        // Runs still going are stopped; the next start marks them failed.
        let in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for (_, flag) in in_flight.values() {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// At start: runs left `started` by the last process did not finish.
    fn recover(&self) {
        let Ok(runs) = self.meta.unfinished_runs() else { return };
        let now = now_ns();
        for run in runs.into_iter().filter(|r| r.status == RunStatus::Started) {
            let why = "Run failed: the server stopped while it was running, so it did not finish".to_owned();
            let logs = [why.clone(), "Completed(failed)".to_owned()];
            if let Ok(Some(done)) = self.meta.finish_run(run.task_id, run.id, RunStatus::Failed, now, &logs, Some(&why))
            {
                tracing::warn!(task = %run.task_id, run = %done.id, "run was in flight when the server stopped: marked failed");
            }
        }
    }

    /// Hands out every due run of every active task; returns when the next
    /// one falls due.
    fn plan(&self, now: i64) -> Option<i64> {
        let tasks = match self.meta.active_tasks() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "scheduler: cannot list tasks");
                return None;
            }
        };
        let mut earliest: Option<i64> = None;
        for task in tasks {
            let Ok(opts) = options::from_script(&task.flux) else { continue };
            let Ok(schedule) = opts.schedule() else { continue };
            let mut cursor = schedule.align(task.latest_scheduled);
            for _ in 0..self.config.catch_up_batch {
                let Some(next) = schedule.next(cursor) else { break };
                let due = next.saturating_add(task.offset_ns);
                if due > now {
                    earliest = Some(earliest.map_or(due, |e| e.min(due)));
                    break;
                }
                if let Err(e) = self.meta.schedule_run(task.id, next, due) {
                    tracing::error!(task = %task.id, error = %e, "scheduler: cannot schedule a run");
                    break;
                }
                cursor = next;
            }
        }
        earliest
    }

    /// Starts waiting runs that are due, oldest first, within each task's
    /// concurrency and the shared pool.
    async fn dispatch(self: Arc<Self>, now: i64) {
        let meta = Arc::clone(&self.meta);
        let Some(Ok(waiting)) = blocking(move || meta.unfinished_runs()).await else { return };
        let mut tasks: HashMap<Id, Option<(Task, i64)>> = HashMap::new();
        for run in waiting.into_iter().filter(|r| r.status == RunStatus::Scheduled && r.run_at <= now) {
            if self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&run.id) {
                continue;
            }
            let entry = match tasks.get(&run.task_id) {
                Some(e) => e.clone(),
                None => {
                    let meta = Arc::clone(&self.meta);
                    let id = run.task_id;
                    let found = blocking(move || meta.find_task_by_id(id)).await.and_then(Result::ok);
                    let entry = found.map(|t| {
                        let limit = options::from_script(&t.flux).map_or(1, |o| o.concurrency);
                        (t, limit)
                    });
                    tasks.insert(run.task_id, entry.clone());
                    entry
                }
            };
            let Some((task, limit)) = entry else { continue };
            if task.status == TaskStatus::Inactive {
                let meta = Arc::clone(&self.meta);
                let logs = ["Run canceled: the task is inactive".to_owned()];
                let _ =
                    blocking(move || meta.finish_run(run.task_id, run.id, RunStatus::Canceled, now, &logs, None)).await;
                continue;
            }
            if self.running_for(task.id) >= usize::try_from(limit).unwrap_or(1) {
                continue;
            }
            let Ok(permit) = Arc::clone(&self.workers).try_acquire_owned() else { return };
            let cancel = Arc::new(AtomicBool::new(false));
            self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(run.id, (task.id, Arc::clone(&cancel)));
            let me = Arc::clone(&self);
            tokio::spawn(async move {
                me.execute(task, run, cancel).await;
                drop(permit);
                me.wake();
            });
        }
    }

    async fn execute(self: &Arc<Self>, task: Task, run: Run, cancel: Arc<AtomicBool>) {
        let (meta, task_id, run_id) = (Arc::clone(&self.meta), task.id, run.id);
        let started = format!("Started task from script: {:?}", task.flux);
        let run = match blocking(move || meta.start_run(task_id, run_id, now_ns(), &started)).await {
            Some(Ok(r)) => r,
            _ => {
                self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&run_id);
                return;
            }
        };
        let outcome = self.executor.execute(task.clone(), run.clone(), Arc::clone(&cancel)).await;
        let canceled = cancel.load(Ordering::Relaxed);
        let (status, logs, error) = match outcome {
            _ if canceled => (RunStatus::Canceled, vec!["Run canceled".to_owned()], None),
            Ok(()) => (RunStatus::Success, vec!["Completed(success)".to_owned()], None),
            Err(e) => (RunStatus::Failed, vec!["Completed(failed)".to_owned(), e.clone()], Some(e)),
        };
        let meta = Arc::clone(&self.meta);
        let finished = blocking(move || {
            let done = meta.finish_run(task_id, run_id, status, now_ns(), &logs, error.as_deref())?;
            let logs = meta.run_logs(task_id, Some(run_id))?;
            Ok::<_, meta::Error>((done, logs))
        })
        .await;
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&run_id);
        if let Some(Ok((Some(done), logs))) = finished {
            self.executor.record(&task, &done, &logs).await;
        }
    }
}
