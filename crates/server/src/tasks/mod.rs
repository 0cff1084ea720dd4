//! Tasks: Flux scripts run on a schedule (`option task`), their runs and
//! logs over HTTP, and the executor the scheduler runs them with.

pub(crate) mod executor;
pub(crate) mod runs;
pub(crate) mod task;

use std::sync::Arc;

use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;
use crate::tenancy::{labels, members};
use task::Tasks;

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    let base = "/api/v2/tasks/{id}";
    let mut out: Vec<(String, MethodRouter<AppState>)> = vec![
        ("/api/v2/tasks".into(), get(task::list).post(task::create)),
        (base.into(), get(task::get).patch(task::patch).delete(task::delete)),
    ];
    out.extend(labels::routes_on::<Tasks>(base));
    out.push((format!("{base}/logs"), get(runs::logs)));
    out.extend(members::routes_on::<Tasks>(base));
    out.extend([
        (format!("{base}/runs"), get(runs::runs).post(runs::force_run)),
        (format!("{base}/runs/{{run}}"), get(runs::get_run).delete(runs::cancel_run)),
        (format!("{base}/runs/{{run}}/logs"), get(runs::run_logs)),
        (format!("{base}/runs/{{run}}/retry"), post(runs::retry_run)),
    ]);
    out
}

impl AppState {
    /// Starts the task scheduler; it runs until `shutdown` resolves.
    pub fn start_tasks(
        &self,
        config: ::tasks::Config,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let executor = Arc::new(executor::Executor { state: self.clone() });
        let scheduler = ::tasks::Scheduler::new(Arc::clone(&self.meta), executor, config);
        let _ = self.scheduler.set(Arc::clone(&scheduler));
        tokio::spawn(scheduler.run(shutdown))
    }
}
