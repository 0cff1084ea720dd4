//! `/api/v2/tasks`: tasks made from Flux with its `option task`, listed,
//! read, updated (the option rewritten) and deleted, as InfluxDB 2.7 shows them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::now_ns;
use time::rfc3339::Fraction;

use crate::error::{ApiError, ApiResult, Code, Context};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::tasks::{NewTask, Task, TaskChange, TaskFilter, TaskStatus};

/// Most tasks or runs in one page, and the default, as InfluxDB pages them.
pub(crate) const MAX_PAGE: usize = 500;

pub(crate) const DEFAULT_PAGE: usize = 100;

/// Times of tasks and runs as InfluxDB shows them: a task's in whole seconds,
/// a run's and a log's with the fraction they have.
pub(crate) fn rfc3339(ns: i64, fraction: bool) -> String {
    time::rfc3339::format(ns, if fraction { Fraction::Si } else { Fraction::None })
}

pub(crate) fn parse_time(s: &str, what: &str) -> ApiResult<i64> {
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
        "labels": labels.iter().map(crate::tenancy::views::label).collect::<Vec<_>>(),
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
    let org = match crate::tenancy::orgs::from_query(&state, &q).await {
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
        ps.iter().map(|(k, v)| format!("{k}={}", crate::paging::urlencode(v))).collect::<Vec<_>>().join("&")
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

/// A script with the schedule read from its `option task`, as a task keeps
/// it: the script, name, every, cron, offset.
pub(crate) fn schedule(flux: String) -> ApiResult<(String, String, String, String, i64)> {
    let opts = tasks::options::from_script(&flux).map_err(options_error)?;
    let every = opts.every.map(|(text, _)| text).unwrap_or_default();
    Ok((flux, opts.name, every, opts.cron.unwrap_or_default(), opts.offset))
}

/// A new task of `kind` running `flux`, its schedule read from the script.
pub(crate) fn new_task(
    org: Id,
    owner: Option<Id>,
    kind: &str,
    description: String,
    status: TaskStatus,
    flux: String,
) -> ApiResult<NewTask> {
    let (flux, name, every, cron, offset_ns) = schedule(flux)?;
    Ok(NewTask {
        org_id: org,
        owner_id: owner,
        kind: kind.to_owned(),
        name,
        description,
        status,
        flux,
        every,
        cron,
        offset_ns,
        now: now_ns(),
    })
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
    let new = new_task(org.id, Some(owner), "system", body.description, status, body.flux)?;
    let task = state.meta(move |m| m.create_task(&new)).await?;
    state.wake_scheduler();
    Ok((StatusCode::CREATED, Json(view(&task, &org.name, &[]))))
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let t = authorized(&state, &p, &id, Action::Read).await.context("failed to find task")?;
    let tid = t.id;
    let labels = state.meta(move |m| m.labels_of("tasks", tid)).await.context("failed to find resource labels")?;
    let labels = crate::tenancy::labels::visible_on::<Tasks>(&p, labels);
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
    let t = authorized(&state, &p, &id, Action::Write).await.context("failed to update task")?;
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
        Some(schedule(flux)?)
    } else {
        None
    };
    let change = TaskChange { script, description: body.description, status, now: now_ns() };
    let tid = t.id;
    let (task, labels) = state
        .meta(move |m| -> meta::Result<_> { Ok((m.update_task(tid, &change)?, m.labels_of("tasks", tid)?)) })
        .await
        .context("failed to update task")?;
    state.wake_scheduler();
    Ok(Json(view(&task, &org_name(&state, task.org_id).await?, &labels)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let t = authorized(&state, &p, &id, Action::Write).await.context("failed to delete task")?;
    let tid = t.id;
    if let Some(s) = state.scheduler() {
        s.cancel_task(tid);
    }
    state.meta(move |m| m.delete_task(tid)).await.context("failed to delete task")?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tasks have members and owners.
#[derive(Debug)]
pub(crate) struct Tasks;

impl crate::tenancy::resource::Resource for Tasks {
    const PATH: &'static str = "/api/v2/tasks";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Tasks {
    const TYPE: &'static str = "tasks";
    const ONLY_READABLE_LABELS: bool = false;
}

impl crate::tenancy::members::HasMembers for Tasks {
    const KIND: meta::members::ResourceKind = meta::members::ResourceKind::Task;
}
