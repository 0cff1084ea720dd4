//! A task's runs and logs: listed, asked for now, read, retried, canceled.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::now_ns;

use crate::error::{ApiError, ApiResult, Code, Context};
use crate::extract::{QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tasks::task::{DEFAULT_PAGE, MAX_PAGE, authorized, parse_time, rfc3339};
use meta::Id;
use meta::auth::Action;
use meta::tasks::{Run, RunFilter, RunLog, Task, TaskStatus};

fn run_view(r: &Run, logs: Option<&[RunLog]>) -> Value {
    let (task, id) = (r.task_id, r.id);
    let mut v = json!({
        "id": id.to_string(),
        "taskID": task.to_string(),
        "status": r.status.as_str(),
        "scheduledFor": rfc3339(r.scheduled_for, true),
        "links": {
            "self": format!("/api/v2/tasks/{task}/runs/{id}"),
            "task": format!("/api/v2/tasks/{task}"),
            "logs": format!("/api/v2/tasks/{task}/runs/{id}/logs"),
            "retry": format!("/api/v2/tasks/{task}/runs/{id}/retry"),
        },
    });
    for (k, t) in [("startedAt", r.started_at), ("finishedAt", r.finished_at), ("requestedAt", r.requested_at)] {
        if let Some(t) = t {
            v[k] = json!(rfc3339(t, true));
        }
    }
    if let Some(logs) = logs.filter(|l| !l.is_empty()) {
        v["log"] = json!(logs.iter().map(log_view).collect::<Vec<_>>());
    }
    v
}

pub(crate) fn log_view(l: &RunLog) -> Value {
    json!({ "runID": l.run_id.to_string(), "time": rfc3339(l.time, true), "message": l.message })
}

pub(crate) async fn logs(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = authorized(&state, &p, &id, Action::Read).await.context("failed to find task logs")?;
    let tid = t.id;
    let logs = state.meta(move |m| m.run_logs(tid, None)).await.context("failed to find task logs")?;
    Ok(Json(json!({ "events": logs.iter().map(log_view).collect::<Vec<_>>() })))
}

pub(crate) async fn runs(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    q: QueryMap,
) -> ApiResult<Json<Value>> {
    let t = authorized(&state, &p, &id, Action::Read).await.context("failed to find runs")?;
    let limit = match q.get("limit") {
        None => DEFAULT_PAGE,
        Some(l) => match l.parse::<i64>() {
            Err(_) => return Err(ApiError::invalid(format!("limit is invalid: {l:?} is not an integer"))),
            Ok(n) if (1..=MAX_PAGE as i64).contains(&n) => n as usize,
            Ok(_) => {
                return Err(ApiError::new(
                    Code::Unprocessable,
                    format!("run limit is out of bounds, must be between 1 and {MAX_PAGE}"),
                ));
            }
        },
    };
    let after_time = q.get("afterTime").map(|s| parse_time(s, "after time")).transpose()?;
    let before_time = q.get("beforeTime").map(|s| parse_time(s, "before time")).transpose()?;
    if let (Some(a), Some(b)) = (after_time, before_time)
        && b <= a
    {
        return Err(ApiError::invalid("given after time must be prior to before time"));
    }
    let filter = RunFilter { after: q.id("after")?, after_time, before_time, limit };
    let tid = t.id;
    let runs = state.meta(move |m| m.list_runs(tid, &filter)).await.context("failed to find runs")?;
    Ok(Json(json!({
        "links": { "self": format!("/api/v2/tasks/{tid}/runs"), "task": format!("/api/v2/tasks/{tid}") },
        "runs": runs.iter().map(|r| run_view(r, None)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, Default)]
pub(crate) struct PostRun {
    #[serde(rename = "scheduledFor")]
    scheduled_for: Option<String>,
}

pub(crate) async fn force_run(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // The body is optional: none, or `{"scheduledFor": ...}`.
    let body: PostRun = if body.iter().all(u8::is_ascii_whitespace) {
        PostRun::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("failed to decode request body: {e}")))?
    };
    let t = authorized(&state, &p, &id, Action::Write).await.context("failed to force run")?;
    if t.status == TaskStatus::Inactive {
        return Err(ApiError::invalid("inactive task").context("failed to force run"));
    }
    let now = now_ns();
    let scheduled_for = match body.scheduled_for.filter(|s| !s.is_empty()) {
        Some(s) => parse_time(&s, "scheduledFor")?,
        None => now - now.rem_euclid(1_000_000_000),
    };
    let tid = t.id;
    let run = state.meta(move |m| m.request_run(tid, scheduled_for, now)).await.context("failed to force run")?;
    state.wake_scheduler();
    Ok((StatusCode::CREATED, Json(run_view(&run, None))))
}

async fn task_and_run(state: &AppState, p: &Principal, id: &str, run: &str, action: Action) -> ApiResult<(Task, Id)> {
    let t = authorized(state, p, id, action).await?;
    Ok((t, parse_id(run)?))
}

pub(crate) async fn get_run(
    State(state): State<AppState>,
    p: Principal,
    Path((id, run)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Read).await.context("failed to find run")?;
    let tid = t.id;
    let (run, logs) = state
        .meta(move |m| -> meta::Result<_> { Ok((m.find_run(tid, rid)?, m.run_logs(tid, Some(rid))?)) })
        .await
        .context("failed to find run")?;
    Ok(Json(run_view(&run, Some(&logs))))
}

pub(crate) async fn run_logs(
    State(state): State<AppState>,
    p: Principal,
    Path((id, run)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Read).await.context("failed to find task logs")?;
    let tid = t.id;
    let logs = state
        .meta(move |m| -> meta::Result<_> {
            m.find_run(tid, rid)?;
            m.run_logs(tid, Some(rid))
        })
        .await
        .context("failed to find task logs")?;
    Ok(Json(json!({ "events": logs.iter().map(log_view).collect::<Vec<_>>() })))
}

pub(crate) async fn cancel_run(
    State(state): State<AppState>,
    p: Principal,
    Path((id, run)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Write).await.context("failed to cancel run")?;
    let tid = t.id;
    let run = state.meta(move |m| m.cancel_run(tid, rid, now_ns())).await.context("failed to cancel run")?;
    if run.status == meta::tasks::RunStatus::Started {
        let stopped = state.scheduler().is_some_and(|s| s.cancel(rid));
        if !stopped {
            return Err(
                ApiError::new(Code::Conflict, "run is not running on this server").context("failed to cancel run")
            );
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn retry_run(
    State(state): State<AppState>,
    p: Principal,
    Path((id, run)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Write).await.context("failed to retry run")?;
    if t.status == TaskStatus::Inactive {
        return Err(ApiError::invalid("inactive task").context("failed to retry run"));
    }
    let tid = t.id;
    let run = state
        .meta(move |m| -> meta::Result<Run> {
            let old = m.find_run(tid, rid)?;
            m.request_run(tid, old.scheduled_for, now_ns())
        })
        .await
        .context("failed to retry run")?;
    state.wake_scheduler();
    Ok(Json(run_view(&run, None)))
}
