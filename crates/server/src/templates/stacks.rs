//! `/api/v2/stacks`: what each apply installed, kept as a stack with its
//! history of events (create, update, uninstall), as 2.7 keeps it. A stack
//! is a stored document of its org; the latest event is its current state.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use templates::{API_VERSION, Group};
use time::now_ns;

use crate::dashboards::variables::rfc3339;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::QueryMap;
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::documents::{Document, Kind, NewDocument};

/// A resource a stack installed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Installed {
    pub(crate) group: Group,
    pub(crate) id: String,
    pub(crate) meta_name: String,
    /// `(kind, metaName)`: its labels, and a rule's endpoint.
    pub(crate) associations: Vec<(String, String)>,
}

/// One event of a stack's history.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) sources: Vec<String>,
    pub(crate) urls: Vec<String>,
    pub(crate) resources: Vec<Installed>,
    pub(crate) at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Stack {
    pub(crate) id: Id,
    pub(crate) org_id: Id,
    pub(crate) created_at: i64,
    pub(crate) events: Vec<Event>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

impl Stack {
    fn from_document(d: &Document) -> Stack {
        let events = d.body["events"]
            .as_array()
            .map(|es| {
                es.iter()
                    .map(|e| Event {
                        kind: e["eventType"].as_str().unwrap_or("create").to_owned(),
                        name: e["name"].as_str().unwrap_or_default().to_owned(),
                        description: e["description"].as_str().unwrap_or_default().to_owned(),
                        sources: strings(&e["sources"]),
                        urls: strings(&e["urls"]),
                        resources: e["resources"]
                            .as_array()
                            .map(|rs| {
                                rs.iter()
                                    .filter_map(|r| {
                                        Some(Installed {
                                            group: Group::parse(r["kind"].as_str()?)?,
                                            id: r["resourceID"].as_str()?.to_owned(),
                                            meta_name: r["templateMetaName"].as_str().unwrap_or_default().to_owned(),
                                            associations: r["associations"]
                                                .as_array()
                                                .map(|a| {
                                                    a.iter()
                                                        .map(|x| {
                                                            (
                                                                x["kind"].as_str().unwrap_or_default().to_owned(),
                                                                x["metaName"].as_str().unwrap_or_default().to_owned(),
                                                            )
                                                        })
                                                        .collect()
                                                })
                                                .unwrap_or_default(),
                                        })
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        at: e["updatedAt"].as_i64().unwrap_or(d.updated_at),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Stack { id: d.id, org_id: d.org_id, created_at: d.created_at, events }
    }

    /// The current state: the latest event.
    pub(crate) fn latest(&self) -> Event {
        self.events.last().cloned().unwrap_or(Event {
            kind: "create".into(),
            name: String::new(),
            description: String::new(),
            sources: Vec::new(),
            urls: Vec::new(),
            resources: Vec::new(),
            at: self.created_at,
        })
    }

    fn stored_body(&self) -> Value {
        let events: Vec<Value> = self.events.iter().map(|e| event_json(e, false)).collect();
        json!({ "events": events })
    }

    /// The stack as the API shows it: its events, then the latest one's fields.
    pub(crate) fn view(&self) -> Value {
        let latest = self.latest();
        let mut v = json!({
            "id": self.id.to_string(),
            "orgID": self.org_id.to_string(),
            "createdAt": rfc3339(self.created_at),
            "events": self.events.iter().map(|e| event_json(e, true)).collect::<Vec<_>>(),
        });
        if let (Some(m), Value::Object(l)) = (v.as_object_mut(), event_json(&latest, true)) {
            m.extend(l);
        }
        v
    }
}

fn event_json(e: &Event, shown: bool) -> Value {
    let resources: Vec<Value> = e
        .resources
        .iter()
        .map(|r| {
            let mut v = json!({
                "apiVersion": API_VERSION,
                "resourceID": r.id,
                "kind": r.group.as_str(),
                "templateMetaName": r.meta_name,
                "associations": r.associations.iter().map(|(k, m)| json!({ "kind": k, "metaName": m })).collect::<Vec<_>>(),
            });
            if shown {
                v["links"] = json!({ "self": super::resources::path(r.group, &r.id) });
            }
            v
        })
        .collect();
    json!({
        "eventType": e.kind,
        "name": e.name,
        "description": e.description,
        "resources": resources,
        "sources": e.sources,
        "urls": e.urls,
        "updatedAt": if shown { json!(rfc3339(e.at)) } else { json!(e.at) },
    })
}

/// Reads a stack.
pub(crate) async fn load(state: &AppState, id: Id) -> ApiResult<Stack> {
    let d = state.meta(move |m| m.find_document(Kind::Stack, id)).await.map_err(|e| {
        if e.code == Code::NotFound {
            ApiError::not_found(format!("stack not found for key {:?}", id.to_string()))
        } else {
            e
        }
    })?;
    Ok(Stack::from_document(&d))
}

/// Every stack of an org.
pub(crate) async fn of_org(state: &AppState, org: Id) -> ApiResult<Vec<Stack>> {
    let docs = state.meta(move |m| m.list_documents(Kind::Stack, Some(org), None)).await?;
    Ok(docs.iter().map(Stack::from_document).collect())
}

/// Makes a stack with its `create` event.
pub(crate) async fn create_stack(
    state: &AppState,
    org: Id,
    name: &str,
    description: &str,
    urls: Vec<String>,
) -> ApiResult<Stack> {
    let now = now_ns();
    let event = Event {
        kind: "create".into(),
        name: name.into(),
        description: description.into(),
        sources: Vec::new(),
        urls,
        resources: Vec::new(),
        at: now,
    };
    let stack = Stack { id: Id::generate(), org_id: org, created_at: now, events: vec![event] };
    let new = NewDocument {
        kind: Kind::Stack,
        org_id: org,
        parent_id: None,
        name: name.into(),
        body: stack.stored_body(),
        owner_id: None,
        unique_name: false,
        now,
    };
    let d = state.meta(move |m| m.create_document(&new)).await.map_err(|e| {
        if e.code == Code::NotFound {
            ApiError::new(
                Code::Conflict,
                format!("organization dependency does not exist for id[{:?}]", org.to_string()),
            )
        } else {
            e
        }
    })?;
    Ok(Stack::from_document(&d))
}

/// Appends an event to a stack.
pub(crate) async fn append(state: &AppState, stack: &mut Stack, mut event: Event) -> ApiResult<()> {
    event.at = now_ns().max(stack.latest().at + 1);
    stack.events.push(event);
    let (id, name, body) = (stack.id, stack.latest().name, stack.stored_body());
    state.meta(move |m| m.update_document(Kind::Stack, id, &name, &body, false, now_ns())).await?;
    Ok(())
}

pub(crate) async fn delete_stack(state: &AppState, id: Id) -> ApiResult<()> {
    match state.meta(move |m| m.delete_document(Kind::Stack, id)).await {
        Err(e) if e.code != Code::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn org_resource(org: Id) -> Resource {
    Resource::one(ResourceType::Orgs, org)
}

/// 2.7 lets who may write the org change its stacks.
pub(crate) fn require_write(p: &Principal, org: Id) -> ApiResult<()> {
    if p.can(Action::Write, &org_resource(org)) {
        return Ok(());
    }
    Err(ApiError::unauthorized("not authorized to create stack"))
}

fn require_read(p: &Principal, org: Id) -> ApiResult<()> {
    p.require(Action::Read, org_resource(org))
}

fn parse_stack_id(raw: &str) -> ApiResult<Id> {
    raw.parse().map_err(|_| ApiError::invalid(format!("the stack id provided in the path was invalid: {raw:?}")))
}

/// A stack another org's token cannot see.
async fn readable(state: &AppState, p: &Principal, raw: &str) -> ApiResult<Stack> {
    let stack = load(state, parse_stack_id(raw)?).await?;
    require_read(p, stack.org_id)?;
    Ok(stack)
}

fn check_urls(urls: &[String]) -> ApiResult<()> {
    for u in urls {
        let parsed =
            reqwest::Url::parse(u).map_err(|_| ApiError::invalid(format!("provided url[{u:?}] is invalid")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ApiError::invalid(format!(
                "provided url[{u:?}] is invalid: only http and https are supported"
            )));
        }
    }
    Ok(())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    use super::Ty::{Str, Strings};
    let b = super::object_body(&body, &[("orgID", Str), ("name", Str), ("description", Str), ("urls", Strings)])?;
    let raw = b["orgID"].as_str().unwrap_or_default();
    let org: Id = raw.parse().map_err(|_| ApiError::invalid(format!("provided org id[{raw:?}] is invalid")))?;
    let urls = strings(&b["urls"]);
    check_urls(&urls)?;
    require_write(&p, org)?;
    let stack = create_stack(
        &state,
        org,
        b["name"].as_str().unwrap_or_default(),
        b["description"].as_str().unwrap_or_default(),
        urls,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(stack.view())))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    p: Principal,
    q: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let pairs = crate::extract::query_pairs(q.0.as_deref().unwrap_or_default())?;
    let raw = pairs.iter().find(|(k, _)| k == "orgID").map(|(_, v)| v.as_str()).unwrap_or_default();
    let org: Id = raw.parse().map_err(|_| {
        ApiError::invalid(format!("organization id[{raw:?}] is invalid: id must have a length of 16 bytes"))
    })?;
    let names: Vec<&str> = pairs.iter().filter(|(k, _)| k == "name").map(|(_, v)| v.as_str()).collect();
    let mut ids = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "stackID") {
        ids.push(v.parse::<Id>().map_err(|_| ApiError::invalid(format!("stack ID[{v:?}] provided is invalid")))?);
    }
    require_read(&p, org)?;
    let stacks = of_org(&state, org).await?;
    let shown: Vec<Value> = stacks
        .iter()
        .filter(|s| {
            let by_id = ids.contains(&s.id);
            let by_name = names.contains(&s.latest().name.as_str());
            match (ids.is_empty(), names.is_empty()) {
                (true, true) => true,
                (false, true) => by_id,
                (true, false) => by_name,
                (false, false) => by_id || by_name,
            }
        })
        .map(Stack::view)
        .collect();
    Ok(Json(json!({ "stacks": shown })))
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(readable(&state, &p, &id).await?.view()))
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let sid = parse_stack_id(&id)?;
    use super::Ty::{Objects, Str, Strings};
    let b = super::object_body(
        &body,
        &[
            ("name", Str),
            ("description", Str),
            ("templateURLs", Strings),
            ("urls", Strings),
            ("additionalResources", Objects),
        ],
    )?;
    let mut additions = Vec::new();
    for r in b["additionalResources"].as_array().cloned().unwrap_or_default() {
        let raw = r["resourceID"].as_str().unwrap_or_default();
        let rid: Id = raw.parse().map_err(|_| ApiError::invalid(format!("stack resource id {raw:?}: invalid ID")))?;
        let kind = r["kind"].as_str().unwrap_or_default();
        let group = Group::parse(kind)
            .ok_or_else(|| ApiError::invalid(format!("stack resource kind {kind:?} is not a template kind")))?;
        additions.push((group, rid.to_string(), r["templateMetaName"].as_str().unwrap_or_default().to_owned()));
    }
    let mut stack = load(&state, sid).await?;
    require_write(&p, stack.org_id)?;
    let mut event = stack.latest();
    event.kind = "update".into();
    if let Some(n) = b["name"].as_str() {
        event.name = n.into();
    }
    if let Some(d) = b["description"].as_str() {
        event.description = d.into();
    }
    if b["templateURLs"].is_array() || b["urls"].is_array() {
        let mut urls = strings(&b["templateURLs"]);
        urls.extend(strings(&b["urls"]));
        check_urls(&urls)?;
        event.urls = urls;
    }
    for (group, rid, name) in additions {
        if event.resources.iter().any(|r| r.group == group && r.id == rid) {
            continue;
        }
        let taken = |n: &str| event.resources.iter().any(|r| r.meta_name == n);
        let meta_name = if name.is_empty() || taken(&name) { templates::generated_name() } else { name };
        event.resources.push(Installed { group, id: rid, meta_name, associations: Vec::new() });
    }
    append(&state, &mut stack, event).await?;
    Ok(Json(stack.view()))
}

/// The stack a delete or uninstall names, which must be of the `orgID` given.
async fn owned(state: &AppState, p: &Principal, id: &str, q: &QueryMap) -> ApiResult<Option<Stack>> {
    // 2.7 asks for the org; oss.yml's uninstall (and so the Python client)
    // does not send it: then the stack's own org is the one written.
    let org: Option<Id> = match q.get("orgID") {
        Some(raw) => {
            Some(raw.parse().map_err(|_| ApiError::invalid(format!("the orgID query param was invalid: {raw:?}")))?)
        }
        None => None,
    };
    let sid = parse_stack_id(id)?;
    if let Some(org) = org {
        require_write(p, org)?;
    }
    let stack = match load(state, sid).await {
        Ok(s) => s,
        Err(e) if e.code == Code::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match org {
        Some(org) if stack.org_id != org => {
            return Err(ApiError::new(Code::Conflict, "you do not have access to given stack ID"));
        }
        Some(_) => {}
        None => require_write(p, stack.org_id)?,
    }
    Ok(Some(stack))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    q: QueryMap,
) -> ApiResult<StatusCode> {
    if let Some(mut stack) = owned(&state, &p, &id, &q).await? {
        remove_all(&state, &p, &mut stack).await?;
        delete_stack(&state, stack.id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn uninstall(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    q: QueryMap,
) -> ApiResult<Json<Value>> {
    let Some(mut stack) = owned(&state, &p, &id, &q).await? else {
        return Err(ApiError::not_found(format!("stack not found for key {id:?}")));
    };
    remove_all(&state, &p, &mut stack).await?;
    Ok(Json(stack.view()))
}

/// Removes everything a stack installed, and records that it did.
async fn remove_all(state: &AppState, p: &Principal, stack: &mut Stack) -> ApiResult<()> {
    let api = super::client::Api::new(state, p)?;
    let latest = stack.latest();
    // Rules before their endpoints, resources before their labels.
    let mut order = latest.resources.clone();
    order.sort_by_key(|r| match r.group {
        Group::NotificationRule => 0,
        Group::Label => 2,
        _ => 1,
    });
    for r in &order {
        super::resources::delete(&api, r.group, &r.id)
            .await
            .map_err(|e| e.context(&format!("failed to remove {} {:?}", r.group.as_str(), r.meta_name)))?;
    }
    let event = Event { kind: "uninstall".into(), resources: Vec::new(), ..latest };
    append(state, stack, event).await
}
