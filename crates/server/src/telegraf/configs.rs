//! `/api/v2/telegrafs`: Telegraf configurations, served as TOML to agents
//! (JSON or a download by `Accept`), with labels, members and owners.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::documents::{Document, Kind, NewDocument};
use time::now_ns;

fn telegraf_resource(d: &Document) -> Resource {
    Resource::one_in_org(ResourceType::Telegrafs, d.id, d.org_id)
}

fn telegraf_view(d: &Document, labels: &[meta::labels::Label]) -> Value {
    let id = d.id;
    json!({
        "id": id.to_string(),
        "orgID": d.org_id.to_string(),
        "name": d.name,
        "description": d.body["description"].as_str().unwrap_or(""),
        "metadata": d.body["metadata"],
        "config": d.body["config"].as_str().unwrap_or(""),
        "labels": labels.iter().map(crate::tenancy::views::label).collect::<Vec<_>>(),
        "links": {
            "self": format!("/api/v2/telegrafs/{id}"),
            "labels": format!("/api/v2/telegrafs/{id}/labels"),
            "members": format!("/api/v2/telegrafs/{id}/members"),
            "owners": format!("/api/v2/telegrafs/{id}/owners"),
        },
    })
}

async fn telegraf_authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Document> {
    let id = parse_id(id)?;
    let d = state.meta(move |m| m.find_document(Kind::Telegraf, id)).await?;
    p.require(action, telegraf_resource(&d))?;
    Ok(d)
}

async fn labels_of(state: &AppState, kind: &'static str, id: Id) -> ApiResult<Vec<meta::labels::Label>> {
    state.meta(move |m| m.labels_of(kind, id)).await
}

pub(crate) async fn list_telegrafs(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let org = crate::tenancy::orgs::from_query(&state, &q).await?.map(|o| o.id);
    let all = state.meta(move |m| m.list_documents(Kind::Telegraf, org, None)).await?;
    let mut out = Vec::new();
    for d in all.iter().filter(|d| p.can(Action::Read, &telegraf_resource(d))) {
        out.push(telegraf_view(d, &labels_of(&state, "telegrafs", d.id).await?));
    }
    Ok(Json(json!({ "configurations": out })))
}

#[derive(Deserialize)]
pub(crate) struct TelegrafBody {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    metadata: Option<Value>,
    #[serde(default)]
    config: String,
}

fn telegraf_body(b: &TelegrafBody) -> ApiResult<Value> {
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid("name is required"));
    }
    let metadata = b.metadata.clone().unwrap_or_else(|| json!({ "buckets": [] }));
    if !metadata["buckets"].is_null() && !metadata["buckets"].is_array() {
        return Err(ApiError::invalid("metadata.buckets must be an array of bucket names"));
    }
    Ok(json!({ "description": b.description, "metadata": metadata, "config": b.config }))
}

pub(crate) async fn create_telegraf(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(b): JsonBody<TelegrafBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org: Id =
        b.org_id.as_deref().and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("orgID is invalid"))?;
    let body = telegraf_body(&b)?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Telegrafs, org))?;
    let new = NewDocument {
        kind: Kind::Telegraf,
        org_id: org,
        parent_id: None,
        name: b.name,
        body,
        owner_id: p.user_id,
        unique_name: false,
        now: now_ns(),
    };
    let d = state.meta(move |m| m.create_document(&new)).await?;
    Ok((StatusCode::CREATED, Json(telegraf_view(&d, &[]))))
}

/// The config as TOML (what agents ask for, and the default), as a download,
/// or as JSON, by the request's `Accept`.
pub(crate) async fn get_telegraf(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let d = telegraf_authorized(&state, &p, &id, Action::Read).await?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let wants = |t: &str| accept.split(',').any(|a| a.split(';').next().unwrap_or("").trim() == t);
    let config = d.body["config"].as_str().unwrap_or("").to_owned();
    if wants("application/toml") || !(wants("application/json") || wants("application/octet-stream")) {
        let mut resp = config.into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/toml; charset=utf-8"));
        return Ok(resp);
    }
    if wants("application/json") {
        return Ok(Json(telegraf_view(&d, &labels_of(&state, "telegrafs", d.id).await?)).into_response());
    }
    let file = d.name.trim().replace(' ', "_").replace('"', "");
    let mut resp = config.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.toml\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub(crate) async fn put_telegraf(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TelegrafBody>,
) -> ApiResult<Json<Value>> {
    let d = telegraf_authorized(&state, &p, &id, Action::Write).await?;
    let body = telegraf_body(&b)?;
    let did = d.id;
    let updated = state.meta(move |m| m.update_document(Kind::Telegraf, did, &b.name, &body, false, now_ns())).await?;
    Ok(Json(telegraf_view(&updated, &labels_of(&state, "telegrafs", did).await?)))
}

pub(crate) async fn delete_telegraf(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = telegraf_authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_document(Kind::Telegraf, d.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v2/telegraf/plugins?type=input|output|processor|aggregator|bundle`.
pub(crate) async fn plugins(q: QueryMap) -> ApiResult<Json<Value>> {
    let kind = q.get("type");
    if let Some(k) = kind
        && !matches!(k, "input" | "output" | "processor" | "aggregator" | "bundle")
    {
        return Err(ApiError::invalid(format!("unknown plugin type '{k}'")));
    }
    // Without a type: every plugin but the bundles, as InfluxDB lists them.
    let mut list: Vec<Value> = crate::telegraf::plugins::PLUGINS
        .iter()
        .filter(|(t, ..)| kind.map_or(*t != "bundle", |k| *t == k))
        .map(|(t, name, description, config)| json!({ "type": t, "name": name, "description": description, "config": config }))
        .collect();
    list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(Json(json!({ "version": crate::telegraf::plugins::VERSION, "os": "linux", "plugins": list })))
}

/// Telegraf configurations have labels, members and owners.
#[derive(Debug)]
pub(crate) struct Telegrafs;

impl crate::tenancy::resource::Resource for Telegrafs {
    const PATH: &'static str = "/api/v2/telegrafs";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(telegraf_authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Telegrafs {
    const TYPE: &'static str = "telegrafs";
}

impl crate::tenancy::members::HasMembers for Telegrafs {
    const KIND: meta::members::ResourceKind = meta::members::ResourceKind::Telegraf;
}
