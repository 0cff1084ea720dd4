//! Alerting: checks, notification endpoints and notification rules. Checks
//! and rules are each backed by a task running the Flux generated from them
//! (`alerts` generates it); their answers carry the task's state.

pub(crate) mod checks;
pub(crate) mod endpoints;
pub(crate) mod rules;

use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use serde_json::{Value, json};
use time::now_ns;

use crate::error::{ApiError, ApiResult};
use crate::extract::QueryMap;
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::labels;
use meta::documents::{Document, Kind, NewDocument};
use meta::labels::Label;
use meta::orgs::Org;
use meta::tasks::{Task, TaskChange, TaskStatus};
use meta::{FindOptions, Id};

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    let mut out: Vec<(String, MethodRouter<AppState>)> = vec![
        ("/api/v2/checks".into(), get(checks::list).post(checks::create)),
        ("/api/v2/checks/{id}".into(), get(checks::get).put(checks::put).patch(checks::patch).delete(checks::delete)),
    ];
    out.extend(labels::routes_on::<checks::Checks>("/api/v2/checks/{id}"));
    out.push(("/api/v2/checks/{id}/query".into(), get(checks::query)));
    out.push(("/api/v2/notificationEndpoints".into(), get(endpoints::list).post(endpoints::create)));
    out.push((
        "/api/v2/notificationEndpoints/{id}".into(),
        get(endpoints::get).put(endpoints::put).patch(endpoints::patch).delete(endpoints::delete),
    ));
    out.extend(labels::routes_on::<endpoints::Endpoints>("/api/v2/notificationEndpoints/{id}"));
    out.push(("/api/v2/notificationRules".into(), get(rules::list).post(rules::create)));
    out.push((
        "/api/v2/notificationRules/{id}".into(),
        get(rules::get).put(rules::put).patch(rules::patch).delete(rules::delete),
    ));
    out.extend(labels::routes_on::<rules::Rules>("/api/v2/notificationRules/{id}"));
    out.push(("/api/v2/notificationRules/{id}/query".into(), get(rules::query)));
    out
}

/// `active` or `inactive`, as 2.7 requires of a check or rule.
pub(crate) fn status(v: &Value) -> ApiResult<TaskStatus> {
    match v.as_str() {
        Some("active") => Ok(TaskStatus::Active),
        Some("inactive") => Ok(TaskStatus::Inactive),
        _ => Err(ApiError::invalid("invalid status: must be active or inactive")),
    }
}

/// A `PUT` body's status, if it gives one.
pub(crate) fn given_status(body: &Value) -> ApiResult<Option<TaskStatus>> {
    match &body["status"] {
        Value::Null => Ok(None),
        s => status(s).map(Some),
    }
}

/// A stored body with its document's name in it, as bodies are read.
pub(crate) fn with_name(d: &Document) -> Value {
    let mut body = d.body.clone();
    body["name"] = json!(d.name);
    body
}

/// What `PATCH` may change of a check, an endpoint or a rule.
#[derive(Deserialize)]
pub(crate) struct Patch {
    name: Option<String>,
    description: Option<String>,
    status: Option<String>,
}

impl Patch {
    /// The stored body with the new name and description.
    pub(crate) fn applied(&self, d: &Document) -> Value {
        let mut body = with_name(d);
        if let Some(name) = &self.name {
            body["name"] = json!(name);
        }
        if let Some(desc) = &self.description {
            body["description"] = json!(desc);
        }
        body
    }

    /// The status as given, unchecked (an endpoint keeps it in its body).
    pub(crate) fn status_text(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// The new status of a check's or rule's task, if one is given.
    pub(crate) fn task_status(&self) -> ApiResult<Option<TaskStatus>> {
        self.status.as_ref().map(|s| status(&json!(s))).transpose()
    }
}

/// The fields a stored body never keeps: its identity, its times and what
/// its task and labels say.
const COMPUTED: &[&str] = &[
    "id",
    "orgID",
    "ownerID",
    "createdAt",
    "updatedAt",
    "status",
    "labels",
    "links",
    "taskID",
    "latestCompleted",
    "latestScheduled",
    "lastRunStatus",
    "lastRunError",
];

/// A request body as stored: an object without the computed fields.
pub(crate) fn stored(body: &Value) -> ApiResult<Value> {
    let Value::Object(map) = body else { return Err(ApiError::invalid("the body must be a JSON object")) };
    let mut kept = map.clone();
    for k in COMPUTED {
        kept.remove(*k);
    }
    Ok(Value::Object(kept))
}

/// The task that runs `flux` for a check or rule of `kind`, in `status`.
pub(crate) async fn create_task(
    state: &AppState,
    org: Id,
    owner: Option<Id>,
    kind: &str,
    flux: String,
    status: TaskStatus,
    description: String,
) -> ApiResult<Task> {
    let new = crate::tasks::task::new_task(org, owner, kind, description, status, flux)?;
    let task = state.meta(move |m| m.create_task(&new)).await?;
    state.wake_scheduler();
    Ok(task)
}

/// Gives a check's or rule's task new Flux (and status, if given).
pub(crate) async fn update_task(
    state: &AppState,
    task: Id,
    flux: Option<String>,
    status: Option<TaskStatus>,
    description: Option<String>,
) -> ApiResult<Task> {
    let script = flux.map(crate::tasks::task::schedule).transpose()?;
    let change = TaskChange { script, description, status, now: now_ns() };
    let task = state.meta(move |m| m.update_task(task, &change)).await?;
    state.wake_scheduler();
    Ok(task)
}

/// Gives a check's or rule's task its Flux (and `status`, if given); one
/// without a task (a new one) gets one, active unless `status` says not.
pub(crate) async fn give_task(
    state: &AppState,
    p: &Principal,
    d: &Document,
    kind: &str,
    flux: String,
    status: Option<TaskStatus>,
    description: String,
) -> ApiResult<Task> {
    let existing = match task_id(&d.body) {
        None => None,
        Some(t) => match state.meta(move |m| m.find_task_by_id(t)).await {
            Ok(task) => Some(task),
            Err(e) if e.code == crate::error::Code::NotFound => None,
            Err(e) => return Err(e),
        },
    };
    match existing {
        Some(t) => update_task(state, t.id, Some(flux), status, Some(description)).await,
        None => {
            let status = status.unwrap_or(TaskStatus::Active);
            create_task(state, d.org_id, p.user_id, kind, flux, status, description).await
        }
    }
}

/// Deletes a check's or rule's task (if it still has one), then the document.
pub(crate) async fn delete_with_task(state: &AppState, kind: Kind, d: &Document) -> ApiResult<()> {
    let (id, task) = (d.id, task_id(&d.body));
    state
        .meta(move |m| -> meta::Result<()> {
            if let Some(t) = task {
                match m.delete_task(t) {
                    Ok(()) | Err(meta::Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            m.delete_document(kind, id)
        })
        .await?;
    state.wake_scheduler();
    Ok(())
}

/// A check or rule as 2.7 answers it: its body, identity, times, owner,
/// labels, its task's state and links (`query` among them).
pub(crate) async fn task_backed_view<T: labels::HasLabels>(
    state: &AppState,
    p: &Principal,
    d: &Document,
) -> ApiResult<Value> {
    let (id, task_id) = (d.id, task_id(&d.body));
    let (task, found) = state
        .meta(move |m| -> meta::Result<_> {
            let task = task_id.and_then(|t| m.find_task_by_id(t).ok());
            Ok((task, m.labels_of(T::TYPE, id)?))
        })
        .await?;
    let mut v = identified(d, &labels::visible_on::<T>(p, found));
    if let Some(owner) = d.owner_id {
        v["ownerID"] = json!(owner.to_string());
    }
    task_fields(&mut v, task.as_ref());
    let base = format!("{}/{id}", T::PATH);
    v["links"] = json!({
        "self": base,
        "labels": format!("{base}/labels"),
        "members": format!("{base}/members"),
        "owners": format!("{base}/owners"),
        "query": format!("{base}/query"),
    });
    Ok(v)
}

/// What a check's or rule's answer shows of its task.
pub(crate) fn task_fields(v: &mut Value, task: Option<&Task>) {
    let Some(t) = task else {
        v["status"] = json!("inactive");
        return;
    };
    let time = |ns: i64| crate::tasks::task::rfc3339(ns, false);
    v["taskID"] = json!(t.id.to_string());
    v["status"] = json!(t.status.as_str());
    if t.latest_completed > 0 {
        v["latestCompleted"] = json!(time(t.latest_completed));
    }
    if t.latest_scheduled > 0 {
        v["latestScheduled"] = json!(time(t.latest_scheduled));
    }
    if !t.last_run_status.is_empty() {
        v["lastRunStatus"] = json!(t.last_run_status);
    }
    if !t.last_run_error.is_empty() {
        v["lastRunError"] = json!(t.last_run_error);
    }
}

/// The org a list names with `orgID` or `org`; a malformed `orgID` gets
/// 2.7's message for these lists.
pub(crate) async fn listed_org(state: &AppState, q: &QueryMap) -> ApiResult<Option<Org>> {
    if q.get("orgID").is_some_and(|id| id.parse::<Id>().is_err()) {
        return Err(ApiError::invalid("orgID is invalid"));
    }
    crate::tenancy::orgs::from_query(state, q).await
}

/// One page of a list, in ID order: `after`, `descending`, `offset`, `limit`.
pub(crate) fn page<'a>(docs: impl Iterator<Item = &'a Document>, opts: &FindOptions) -> Vec<&'a Document> {
    let mut kept: Vec<&Document> = docs.filter(|d| opts.after.is_none_or(|a| d.id > a)).collect();
    if opts.descending {
        kept.reverse();
    }
    kept.into_iter().skip(opts.offset).take(opts.limit).collect()
}

/// The `orgID` a create body names, or 2.7's message for the kind.
pub(crate) fn org_in(body: &Value, invalid: &str) -> ApiResult<Id> {
    body["orgID"].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid(invalid))
}

/// A new document of `kind` named as the body names it, its body filled in
/// once its ID is known (secrets and generated Flux carry the ID).
pub(crate) async fn new_document(
    state: &AppState,
    p: &Principal,
    kind: Kind,
    org: Id,
    body: &Value,
) -> ApiResult<Document> {
    let new = NewDocument {
        kind,
        org_id: org,
        parent_id: None,
        name: body["name"].as_str().unwrap_or_default().to_owned(),
        body: json!({}),
        owner_id: p.user_id,
        unique_name: true,
        now: now_ns(),
    };
    state.meta(move |m| m.create_document(&new)).await
}

/// A stored body as answered: with its ID, org, name, times and labels.
pub(crate) fn identified(d: &Document, labels: &[Label]) -> Value {
    let mut v = d.body.clone();
    v["id"] = json!(d.id.to_string());
    v["orgID"] = json!(d.org_id.to_string());
    v["name"] = json!(d.name);
    v["createdAt"] = json!(crate::dashboards::variables::rfc3339(d.created_at));
    v["updatedAt"] = json!(crate::dashboards::variables::rfc3339(d.updated_at));
    v["labels"] = json!(labels.iter().map(crate::tenancy::views::label).collect::<Vec<_>>());
    v
}

/// The names of the rules that send to endpoint `id`.
pub(crate) async fn rules_sending_to(state: &AppState, org: Id, endpoint: Id) -> ApiResult<Vec<String>> {
    let all = state.meta(move |m| m.list_documents(Kind::NotificationRule, Some(org), None)).await?;
    let id = endpoint.to_string();
    Ok(all.into_iter().filter(|d| d.body["endpointID"].as_str() == Some(id.as_str())).map(|d| d.name).collect())
}

/// The task a stored body names.
pub(crate) fn task_id(body: &Value) -> Option<Id> {
    body["taskID"].as_str().and_then(|s| s.parse().ok())
}
