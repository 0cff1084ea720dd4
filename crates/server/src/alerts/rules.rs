//! `/api/v2/notificationRules`: which statuses to send where. Each rule is
//! backed by a task running the Flux 2.7 would generate for it and its
//! endpoint.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use time::now_ns;

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use alerts::rule::{Rule, Target};
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::documents::{Document, Kind};
use meta::tasks::TaskStatus;

fn resource(d: &Document) -> Resource {
    Resource::one_in_org(ResourceType::NotificationRules, d.id, d.org_id)
}

/// A rule as 2.7 answers it: its body, identity, times, task and labels.
async fn view(state: &AppState, p: &Principal, d: &Document) -> ApiResult<Value> {
    super::task_backed_view::<Rules>(state, p, d).await
}

async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Document> {
    let id = parse_id(id)?;
    let d = state.meta(move |m| m.find_document(Kind::NotificationRule, id)).await?;
    p.require(action, resource(&d))?;
    Ok(d)
}

fn read(id: Id, body: &Value) -> ApiResult<Rule> {
    Rule::read(&id.to_string(), body).map_err(|e| ApiError::invalid(e.0))
}

/// The rule's endpoint: of the rule's org, readable by the caller.
async fn target(state: &AppState, p: &Principal, org: Id, rule: &Rule) -> ApiResult<Target> {
    let e = super::endpoints::authorized(state, p, &rule.endpoint_id, Action::Read).await?;
    if e.org_id != org {
        return Err(ApiError::invalid("the notification endpoint belongs to another organization"));
    }
    Ok(Target { id: e.id.to_string(), name: e.name.clone(), body: e.body.clone() })
}

/// The rule's Flux against its endpoint.
async fn generate(state: &AppState, p: &Principal, org: Id, rule: &Rule) -> ApiResult<String> {
    let endpoint = target(state, p, org, rule).await?;
    rule.flux(&endpoint).map_err(|e| ApiError::invalid(e.0))
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = crate::paging::find_options(&q)?;
    let org = super::listed_org(&state, &q).await?;
    let org_id = org.as_ref().map(|o| o.id);
    let all = state.meta(move |m| m.list_documents(Kind::NotificationRule, org_id, None)).await?;
    // `checkID` and `tag=key:value`: only the rules whose tag rules those
    // tags meet (2.7 puts the check's tags and the given one together).
    let mut tags: Vec<Value> = match q.id("checkID")? {
        None => Vec::new(),
        Some(c) => {
            let check = state.meta(move |m| m.find_document(Kind::Check, c)).await?;
            check.body["tags"].as_array().cloned().unwrap_or_default()
        }
    };
    if let Some(tag) = q.get("tag") {
        let (key, value) = tag
            .split_once(':')
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .ok_or_else(|| ApiError::invalid("tag must be in form key:value"))?;
        tags.push(json!({"key": key, "value": value}));
    }
    let tags = Value::Array(tags);
    let readable = all.iter().filter(|d| p.can(Action::Read, &resource(d))).filter(|d| tags_met(&tags, &d.body));
    let mut out = Vec::new();
    for d in super::page(readable, &opts) {
        out.push(view(&state, &p, d).await?);
    }
    let filters = [("orgID", org.map(|o| o.id.to_string()))];
    let links = crate::paging::links("/api/v2/notificationRules", &opts, &filters, out.len());
    Ok(Json(json!({ "notificationRules": out, "links": links })))
}

/// Whether tags (a check's, or asked for) meet every tag rule of a rule, as
/// 2.7's `MatchesTags` decides: no tags meet any rule; an `equal`
/// rule needs the tag with its value, a `notequal` rule the tag with another
/// value; regular expressions are never met.
fn tags_met(tags: &Value, rule: &Value) -> bool {
    let tags: Vec<(&str, &str)> = tags
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| (t["key"].as_str().unwrap_or_default(), t["value"].as_str().unwrap_or_default()))
        .collect();
    let rules = rule["tagRules"].as_array().map(Vec::as_slice).unwrap_or_default();
    tags.is_empty()
        || rules.iter().all(|r| {
            let (key, value) = (r["key"].as_str().unwrap_or_default(), r["value"].as_str().unwrap_or_default());
            tags.iter().any(|(k, v)| {
                *k == key
                    && match r["operator"].as_str().unwrap_or("equal") {
                        "equal" => *v == value,
                        "notequal" => *v != value,
                        _ => false,
                    }
            })
        })
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let status = super::status(&body["status"])?;
    let org = super::org_in(&body, "Notification Rule OrgID is invalid")?;
    // Checked whole first (with a placeholder ID), so nothing is made of a
    // rule 2.7 refuses.
    let rule = read(Id::generate(), &body)?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::NotificationRules, org))?;
    generate(&state, &p, org, &rule).await?;
    let d = super::new_document(&state, &p, Kind::NotificationRule, org, &body).await?;
    match save(&state, &p, &d, &body, Some(status)).await {
        Ok(d) => Ok((StatusCode::CREATED, Json(view(&state, &p, &d).await?))),
        Err(e) => {
            let id = d.id;
            state.meta(move |m| m.delete_document(Kind::NotificationRule, id)).await?;
            Err(e)
        }
    }
}

/// Stores `body` as rule `d`: its Flux generated (with its own ID) and
/// given to its task, with `status` if one is given.
async fn save(
    state: &AppState,
    p: &Principal,
    d: &Document,
    body: &Value,
    status: Option<TaskStatus>,
) -> ApiResult<Document> {
    let rule = read(d.id, body)?;
    let flux = generate(state, p, d.org_id, &rule).await?;
    let description = body["description"].as_str().unwrap_or_default().to_owned();
    let mut kept = super::stored(body)?;
    let task = super::give_task(state, p, d, &rule.kind, flux, status, description).await?;
    kept["taskID"] = json!(task.id.to_string());
    let (id, name) = (d.id, rule.name);
    state.meta(move |m| m.update_document(Kind::NotificationRule, id, &name, &kept, true, now_ns())).await
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(view(&state, &p, &d).await?))
}

/// `GET /api/v2/notificationRules/{id}/query`: the Flux the rule runs.
pub(crate) async fn query(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    let rule = read(d.id, &super::with_name(&d))?;
    Ok(Json(json!({ "flux": generate(&state, &p, d.org_id, &rule).await? })))
}

pub(crate) async fn put(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let updated = save(&state, &p, &d, &body, super::given_status(&body)?).await?;
    Ok(Json(view(&state, &p, &updated).await?))
}

/// `PATCH`: name, description and status, into the task's Flux and status.
pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<super::Patch>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let (body, status) = (change.applied(&d), change.task_status()?);
    let updated = save(&state, &p, &d, &body, status).await?;
    Ok(Json(view(&state, &p, &updated).await?))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    super::delete_with_task(&state, Kind::NotificationRule, &d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Notification rules have labels.
#[derive(Debug)]
pub(crate) struct Rules;

impl crate::tenancy::resource::Resource for Rules {
    const PATH: &'static str = "/api/v2/notificationRules";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Rules {
    const TYPE: &'static str = "notificationRules";
}
