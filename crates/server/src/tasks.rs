//! `/api/v2/tasks`: tasks, their runs and logs, labels, members and owners;
//! and the executor that runs a task's script for the scheduler.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::now_ns;
use time::rfc3339::Fraction;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::tasks::{NewTask, Run, RunFilter, RunLog, Task, TaskChange, TaskFilter, TaskStatus};

/// Most tasks or runs in one page, and the default, as InfluxDB pages them.
const MAX_PAGE: usize = 500;
const DEFAULT_PAGE: usize = 100;

/// Times of tasks and runs as InfluxDB shows them: a task's in whole seconds,
/// a run's and a log's with the fraction they have.
fn rfc3339(ns: i64, fraction: bool) -> String {
    time::rfc3339::format(ns, if fraction { Fraction::Si } else { Fraction::None })
}

fn parse_time(s: &str, what: &str) -> ApiResult<i64> {
    time::rfc3339::parse(s)
        .ok_or_else(|| ApiError::invalid(format!("failed parsing {what}: {s:?} is not an RFC3339 time")))
}

pub(crate) fn resource(t: &Task) -> Resource {
    Resource::one_in_org(ResourceType::Tasks, t.id, t.org_id)
}

/// A task as InfluxDB shows it.
fn view(t: &Task, org_name: &str, labels: &[meta::labels::Label]) -> Value {
    let id = t.id;
    let mut v = json!({
        "id": id.to_string(),
        "orgID": t.org_id.to_string(),
        "org": org_name,
        "ownerID": t.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        "name": t.name,
        "status": t.status.as_str(),
        "flux": t.flux,
        "latestCompleted": rfc3339(t.latest_completed, false),
        "createdAt": rfc3339(t.created_at, false),
        "links": {
            "self": format!("/api/v2/tasks/{id}"),
            "members": format!("/api/v2/tasks/{id}/members"),
            "owners": format!("/api/v2/tasks/{id}/owners"),
            "labels": format!("/api/v2/tasks/{id}/labels"),
            "runs": format!("/api/v2/tasks/{id}/runs"),
            "logs": format!("/api/v2/tasks/{id}/logs"),
        },
        "labels": labels.iter().map(crate::views::label).collect::<Vec<_>>(),
    });
    let optional = [
        ("description", t.description.clone()),
        ("every", t.every.clone()),
        ("cron", t.cron.clone()),
        ("offset", tasks::options::format_offset(t.offset_ns)),
        ("lastRunStatus", t.last_run_status.clone()),
        ("lastRunError", t.last_run_error.clone()),
        ("updatedAt", t.updated_at.map(|u| rfc3339(u, false)).unwrap_or_default()),
    ];
    for (k, val) in optional {
        if !val.is_empty() {
            v[k] = json!(val);
        }
    }
    v
}

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

fn log_view(l: &RunLog) -> Value {
    json!({ "runID": l.run_id.to_string(), "time": rfc3339(l.time, true), "message": l.message })
}

/// Loads a task, then checks `action` on it: a missing task is 404 before any 401.
pub(crate) async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Task> {
    let id = parse_id(id)?;
    let task = state.meta(move |m| m.find_task_by_id(id)).await?;
    p.require(action, resource(&task))?;
    Ok(task)
}

async fn org_name(state: &AppState, org: Id) -> ApiResult<String> {
    Ok(state.meta(move |m| m.find_org_by_id(org)).await?.name)
}

fn options_error(e: String) -> ApiError {
    // InfluxDB wraps the option's own error, "invalid options: ..." included.
    ApiError::invalid(format!("invalid options: {e}"))
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let limit = match q.get("limit") {
        None => DEFAULT_PAGE,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            Ok(_) => return Err(ApiError::new(Code::Unprocessable, format!("limit must be between 1 and {MAX_PAGE}"))),
            Err(_) => return Err(ApiError::invalid(format!("failed to decode request: invalid limit {l:?}"))),
        },
    };
    let kind = match q.get("type").unwrap_or("") {
        "" | "system" => "system",
        "basic" => "basic",
        other => return Err(ApiError::invalid(format!("{other:?} is not a valid task type"))),
    };
    let org = match crate::orgs::from_query(&state, &q).await {
        Ok(o) => o,
        Err(e) if e.code == Code::NotFound => {
            let name = q.get("org").or(q.get("orgID")).unwrap_or_default();
            return Err(ApiError::invalid(format!("org {name} not found or unauthorized")));
        }
        Err(e) => return Err(e),
    };
    let filter = TaskFilter {
        org_id: org.as_ref().map(|o| o.id),
        owner_id: q.id("user")?,
        name: q.get("name").map(str::to_owned),
        status: q.get("status").and_then(TaskStatus::parse),
        kind: Some(kind.to_owned()),
        after: q.id("after")?,
        limit: usize::MAX,
    };
    let all = state.meta(move |m| m.list_tasks(&filter)).await?;
    let page: Vec<Task> = all.into_iter().filter(|t| p.can(Action::Read, &resource(t))).take(limit).collect();
    let ids: Vec<(Id, Id)> = page.iter().map(|t| (t.id, t.org_id)).collect();
    let extra = state
        .meta(move |m| -> meta::Result<Vec<(String, Vec<meta::labels::Label>)>> {
            ids.iter().map(|(id, org)| Ok((m.find_org_by_id(*org)?.name, m.labels_of("tasks", *id)?))).collect()
        })
        .await?;
    let mut params: Vec<(String, String)> = ["org", "orgID", "user", "name", "status", "type"]
        .iter()
        .filter_map(|k| q.get(k).map(|v| ((*k).to_owned(), v.to_owned())))
        .collect();
    params.push(("limit".into(), limit.to_string()));
    params.sort();
    let encode = |ps: &[(String, String)]| {
        ps.iter().map(|(k, v)| format!("{k}={}", crate::views::urlencode(v))).collect::<Vec<_>>().join("&")
    };
    let mut links = json!({ "self": format!("/api/v2/tasks?{}", encode(&params)) });
    if page.len() >= limit
        && let Some(last) = page.last()
    {
        let mut next = params.clone();
        next.push(("after".into(), last.id.to_string()));
        next.sort();
        links["next"] = json!(format!("/api/v2/tasks?{}", encode(&next)));
    }
    let tasks: Vec<Value> = page.iter().zip(&extra).map(|(t, (org, labels))| view(t, org, labels)).collect();
    Ok(Json(json!({ "links": links, "tasks": tasks })))
}

#[derive(Deserialize)]
pub(crate) struct PostTask {
    #[serde(default)]
    flux: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    org: String,
    #[serde(rename = "orgID", default)]
    org_id: String,
    #[serde(default)]
    status: String,
}

fn parse_status(s: &str) -> ApiResult<Option<TaskStatus>> {
    match s {
        "" => Ok(None),
        s => TaskStatus::parse(s).map(Some).ok_or_else(|| ApiError::invalid(format!("invalid task status: {s:?}"))),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostTask>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if body.flux.is_empty() {
        return Err(ApiError::invalid("failed to decode request: missing flux"));
    }
    let status = parse_status(&body.status)?.unwrap_or(TaskStatus::Active);
    let org = match (body.org_id.as_str(), body.org.as_str()) {
        ("", "") => return Err(ApiError::invalid("could not identify organization: missing orgID and org")),
        ("", name) => {
            let name = name.to_owned();
            state.meta(move |m| m.find_org_by_name(&name)).await?
        }
        (id, _) => {
            let id = parse_id(id)?;
            state.meta(move |m| m.find_org_by_id(id)).await?
        }
    };
    let owner = p.user_id.ok_or_else(|| ApiError::invalid("cannot create task with invalid ownerID"))?;
    p.require(Action::Write, Resource::in_org(ResourceType::Tasks, org.id))?;
    let opts = tasks::options::from_script(&body.flux).map_err(options_error)?;
    let new = NewTask {
        org_id: org.id,
        owner_id: Some(owner),
        kind: "system".into(),
        name: opts.name.clone(),
        description: body.description,
        status,
        flux: body.flux,
        every: opts.every.map(|(text, _)| text).unwrap_or_default(),
        cron: opts.cron.unwrap_or_default(),
        offset_ns: opts.offset,
        now: now_ns(),
    };
    let task = state.meta(move |m| m.create_task(&new)).await?;
    state.wake_scheduler();
    Ok((StatusCode::CREATED, Json(view(&task, &org.name, &[]))))
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let t = authorized(&state, &p, &id, Action::Read).await?;
    let tid = t.id;
    let labels = state.meta(move |m| m.labels_of("tasks", tid)).await?;
    let labels: Vec<_> = labels.into_iter().filter(|l| p.can(Action::Read, &crate::labels::resource(l))).collect();
    Ok(Json(view(&t, &org_name(&state, t.org_id).await?, &labels)))
}

#[derive(Deserialize)]
pub(crate) struct PatchTask {
    flux: Option<String>,
    status: Option<String>,
    description: Option<String>,
    name: Option<String>,
    every: Option<String>,
    cron: Option<String>,
    offset: Option<String>,
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchTask>,
) -> ApiResult<Json<Value>> {
    let t = authorized(&state, &p, &id, Action::Write).await?;
    let status = parse_status(body.status.as_deref().unwrap_or(""))?;
    let update = tasks::OptionsUpdate {
        name: body.name.filter(|s| !s.is_empty()),
        every: body.every.filter(|s| !s.is_empty()),
        cron: body.cron.filter(|s| !s.is_empty()),
        offset: body.offset,
    };
    let new_flux = body.flux.filter(|f| !f.is_empty());
    let script = if new_flux.is_some() || !update.is_empty() {
        let base = new_flux.unwrap_or_else(|| t.flux.clone());
        let flux = if update.is_empty() {
            base
        } else {
            tasks::options::rewrite(&base, &update).map_err(ApiError::invalid)?
        };
        let opts = tasks::options::from_script(&flux).map_err(options_error)?;
        Some((
            flux,
            opts.name,
            opts.every.map(|(text, _)| text).unwrap_or_default(),
            opts.cron.unwrap_or_default(),
            opts.offset,
        ))
    } else {
        None
    };
    let change = TaskChange { script, description: body.description, status, now: now_ns() };
    let tid = t.id;
    let (task, labels) = state
        .meta(move |m| -> meta::Result<_> { Ok((m.update_task(tid, &change)?, m.labels_of("tasks", tid)?)) })
        .await?;
    state.wake_scheduler();
    Ok(Json(view(&task, &org_name(&state, task.org_id).await?, &labels)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let t = authorized(&state, &p, &id, Action::Write).await?;
    let tid = t.id;
    if let Some(s) = state.scheduler() {
        s.cancel_task(tid);
    }
    state.meta(move |m| m.delete_task(tid)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn logs(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = authorized(&state, &p, &id, Action::Read).await?;
    let tid = t.id;
    let logs = state.meta(move |m| m.run_logs(tid, None)).await?;
    Ok(Json(json!({ "events": logs.iter().map(log_view).collect::<Vec<_>>() })))
}

pub(crate) async fn runs(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    q: QueryMap,
) -> ApiResult<Json<Value>> {
    let t = authorized(&state, &p, &id, Action::Read).await?;
    let limit = match q.get("limit") {
        None => DEFAULT_PAGE,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
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
    let runs = state.meta(move |m| m.list_runs(tid, &filter)).await?;
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
    let t = authorized(&state, &p, &id, Action::Write).await?;
    if t.status == TaskStatus::Inactive {
        return Err(ApiError::invalid("inactive task"));
    }
    let now = now_ns();
    let scheduled_for = match body.scheduled_for.filter(|s| !s.is_empty()) {
        Some(s) => parse_time(&s, "scheduledFor")?,
        None => now - now.rem_euclid(1_000_000_000),
    };
    let tid = t.id;
    let run = state.meta(move |m| m.request_run(tid, scheduled_for, now)).await?;
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
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Read).await?;
    let tid = t.id;
    let (run, logs) =
        state.meta(move |m| -> meta::Result<_> { Ok((m.find_run(tid, rid)?, m.run_logs(tid, Some(rid))?)) }).await?;
    Ok(Json(run_view(&run, Some(&logs))))
}

pub(crate) async fn run_logs(
    State(state): State<AppState>,
    p: Principal,
    Path((id, run)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Read).await?;
    let tid = t.id;
    let logs = state.meta(move |m| m.run_logs(tid, Some(rid))).await?;
    Ok(Json(json!({ "events": logs.iter().map(log_view).collect::<Vec<_>>() })))
}

pub(crate) async fn cancel_run(
    State(state): State<AppState>,
    p: Principal,
    Path((id, run)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Write).await?;
    let tid = t.id;
    let run = state.meta(move |m| m.cancel_run(tid, rid, now_ns())).await?;
    if run.status == meta::tasks::RunStatus::Started {
        let stopped = state.scheduler().is_some_and(|s| s.cancel(rid));
        if !stopped {
            return Err(ApiError::new(Code::Conflict, "run is not running on this server"));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn retry_run(
    State(state): State<AppState>,
    p: Principal,
    Path((id, run)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (t, rid) = task_and_run(&state, &p, &id, &run, Action::Write).await?;
    if t.status == TaskStatus::Inactive {
        return Err(ApiError::invalid("inactive task"));
    }
    let tid = t.id;
    let run = state
        .meta(move |m| -> meta::Result<Run> {
            let old = m.find_run(tid, rid)?;
            m.request_run(tid, old.scheduled_for, now_ns())
        })
        .await?;
    state.wake_scheduler();
    Ok(Json(run_view(&run, None)))
}

/// Tasks have members and owners.
#[derive(Debug)]
pub(crate) struct Tasks;

impl crate::resource::Resource for Tasks {
    const PATH: &'static str = "/api/v2/tasks";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::labels::HasLabels for Tasks {
    const TYPE: &'static str = "tasks";
}

impl crate::members::HasMembers for Tasks {
    const KIND: meta::members::ResourceKind = meta::members::ResourceKind::Task;
}

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
                    Ok(_) => crate::auth::session_permissions(m, owner),
                    Err(e) => Err(e.into()),
                }
            })
            .await
            .map_err(|e| e.message)?;
        let principal = Principal {
            user_id: Some(owner),
            authorization_id: None,
            org_id: Some(task.org_id),
            permissions,
            active: true,
        };
        let mut source = crate::query::Source::new(&state, task.org_id, principal);
        source.task_last_success = task.latest_success;
        let mut limits = state.queries.limits().clone();
        limits.cancel = Some(cancel);
        let slot = state.queries.admit().await.map_err(|e| e.message)?;
        let outcome = tokio::task::spawn_blocking(move || {
            let source: Rc<dyn flux::Source> = Rc::new(source);
            flux::run(&task.flux, run.scheduled_for, Some(source), &limits, &mut |_, _| Ok(()))
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
            let target = storage::BucketTarget {
                bucket: bucket.id.get(),
                retention_ns: bucket.retention_seconds.saturating_mul(1_000_000_000),
                shard_group_ns: bucket.shard_group_seconds.saturating_mul(1_000_000_000),
            };
            let written = state
                .storage(move |s| {
                    let batch = storage::Batch::parse(point.as_bytes(), lineproto::Precision::Nanosecond)
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                    s.write(&target, &batch, now_ns()).map_err(|e| ApiError::internal(e.to_string()))
                })
                .await;
            if let Err(e) = written {
                tracing::warn!(error = %e.message, "cannot record a task run in _tasks");
            }
        })
    }
}
