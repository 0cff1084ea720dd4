//! How the scheduler runs a task: its Flux as its owner, with `now()` at the
//! scheduled time, through the query admission; the run recorded in the org's
//! `_tasks` bucket.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::json;
use time::now_ns;

use crate::error::{ApiError, ApiResult};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tasks::runs::log_view;
use crate::tasks::task::rfc3339;
use meta::tasks::{Run, RunLog, Task};

/// Runs task scripts for the scheduler: as the task's owner, in its org, with
/// `now()` at the run's scheduled time, under the server's query limits.
#[derive(Debug, Clone)]
pub(crate) struct Executor {
    pub(crate) state: AppState,
}

impl Executor {
    async fn run_script(state: AppState, task: Task, run: Run, cancel: Arc<AtomicBool>) -> Result<(), String> {
        let owner = task.owner_id.ok_or("the task has no owner to run as")?;
        let permissions = state
            .meta(move |m| -> ApiResult<_> {
                match m.find_user_by_id(owner) {
                    Ok(u) if u.status == meta::users::UserStatus::Inactive => {
                        Err(ApiError::forbidden("the task's owner is inactive"))
                    }
                    Ok(_) => crate::access::auth::session_permissions(m, owner),
                    Err(e) => Err(e.into()),
                }
            })
            .await
            .map_err(|e| e.message)?;
        let principal = Principal { user_id: Some(owner), org_id: Some(task.org_id), permissions, active: true };
        let mut source = crate::data::flux_source::Source::new(&state, task.org_id, principal);
        source.task_last_success = task.latest_success;
        let mut limits = state.queries.limits().clone();
        limits.cancel = Some(cancel);
        let slot = state.queries.admit().await.map_err(|e| e.message)?;
        let outcome = tokio::task::spawn_blocking(move || {
            let source: Rc<dyn flux::Source> = Rc::new(source);
            flux::run(&flux::Request::new(&task.flux, run.scheduled_for), Some(source), &limits, &mut |_, _| Ok(()))
        })
        .await;
        drop(slot);
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the run stopped: {e}")),
        }
    }

    /// A finished run as a point of the org's `_tasks` bucket (measurement
    /// `runs`, tags `status` and `taskID`), as InfluxDB records runs.
    fn run_point(task: &Task, run: &Run, logs: &[RunLog]) -> String {
        fn tag(s: &str) -> String {
            s.replace(['\\'], "\\\\").replace(',', "\\,").replace('=', "\\=").replace(' ', "\\ ")
        }
        fn field(s: &str) -> String {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        }
        let logs = json!(logs.iter().map(log_view).collect::<Vec<_>>()).to_string();
        let started = run.started_at.unwrap_or(run.run_at);
        let time = |t: Option<i64>| t.map(|t| rfc3339(t, true)).unwrap_or_default();
        format!(
            "runs,status={},taskID={} runID={},name={},scheduledFor={},startedAt={},finishedAt={},requestedAt={},flux={},logs={} {started}\n",
            tag(run.status.as_str()),
            tag(&task.id.to_string()),
            field(&run.id.to_string()),
            field(&task.name),
            field(&rfc3339(run.scheduled_for, false)),
            field(&time(run.started_at)),
            field(&time(run.finished_at)),
            field(&time(run.requested_at)),
            field(&task.flux),
            field(&logs),
        )
    }
}

impl tasks::Executor for Executor {
    fn execute(
        &self,
        task: Task,
        run: Run,
        cancel: Arc<AtomicBool>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
        Box::pin(Self::run_script(self.state.clone(), task, run, cancel))
    }

    fn record(&self, task: &Task, run: &Run, logs: &[RunLog]) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let point = Self::run_point(task, run, logs);
        let (state, org) = (self.state.clone(), task.org_id);
        Box::pin(async move {
            let bucket = match state.meta(move |m| m.find_bucket_by_name(org, "_tasks")).await {
                Ok(b) => b,
                Err(_) => return,
            };
            let ingest = state.ingest();
            let written = crate::state::blocking(move || {
                Ok(ingest.write(&bucket, point.as_bytes(), lineproto::Precision::Nanosecond, now_ns())?)
            })
            .await;
            if let Err(e) = written {
                tracing::warn!(error = %e.message, "cannot record a task run in _tasks");
            }
        })
    }
}
