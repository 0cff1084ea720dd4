//! `/api/v2/notificationEndpoints`: where rules send (Slack, PagerDuty,
//! HTTP, Telegram). Secrets given in clear go to the org's sealed secret
//! store; answers name them by key only.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use time::now_ns;

use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use alerts::endpoint::Endpoint;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::documents::{Document, Kind};

fn resource(d: &Document) -> Resource {
    Resource::one_in_org(ResourceType::NotificationEndpoints, d.id, d.org_id)
}

async fn view(state: &AppState, p: &Principal, d: &Document) -> ApiResult<Value> {
    let id = d.id;
    let labels = state.meta(move |m| m.labels_of("notificationEndpoints", id)).await?;
    let labels = crate::tenancy::labels::visible_on::<Endpoints>(p, labels);
    let mut v = super::identified(d, &labels);
    if let Some(owner) = d.owner_id {
        v["userID"] = json!(owner.to_string());
    }
    v["links"] = json!({
        "self": format!("/api/v2/notificationEndpoints/{id}"),
        "labels": format!("/api/v2/notificationEndpoints/{id}/labels"),
        "members": format!("/api/v2/notificationEndpoints/{id}/members"),
        "owners": format!("/api/v2/notificationEndpoints/{id}/owners"),
    });
    Ok(v)
}

pub(crate) async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Document> {
    let id = parse_id(id)?;
    let d = state.meta(move |m| m.find_document(Kind::NotificationEndpoint, id)).await?;
    p.require(action, resource(&d))?;
    Ok(d)
}

/// Reads the body for endpoint `id` (an endpoint keeps its own status).
fn read(id: Id, body: &Value) -> ApiResult<Endpoint> {
    let mut kept = super::stored(body)?;
    kept["status"] = body["status"].clone();
    Endpoint::read(&id.to_string(), &kept).map_err(|e| ApiError::invalid(e.0))
}

/// Reads the body for endpoint `id` and puts its clear secrets in the store.
async fn checked(state: &AppState, org: Id, id: Id, body: &Value) -> ApiResult<Value> {
    let e = read(id, body)?;
    if !e.secrets.is_empty() {
        let key = crate::tenancy::secrets::sealing_key(state)?;
        let values: BTreeMap<String, String> = e.secrets.into_iter().collect();
        state.meta(move |m| m.put_secrets(org, &key, &values)).await?;
    }
    Ok(e.body)
}

/// Stores `body` as endpoint `d`, its clear secrets moved to the store.
async fn save(state: &AppState, d: &Document, body: &Value) -> ApiResult<Document> {
    let stored = checked(state, d.org_id, d.id, body).await?;
    let name = stored["name"].as_str().unwrap_or_default().to_owned();
    let id = d.id;
    state.meta(move |m| m.update_document(Kind::NotificationEndpoint, id, &name, &stored, true, now_ns())).await
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = crate::paging::find_options(&q)?;
    let org = super::listed_org(&state, &q).await?;
    let org_id = org.as_ref().map(|o| o.id);
    let all = state.meta(move |m| m.list_documents(Kind::NotificationEndpoint, org_id, None)).await?;
    let mut out = Vec::new();
    for d in super::page(all.iter().filter(|d| p.can(Action::Read, &resource(d))), &opts) {
        out.push(view(&state, &p, d).await?);
    }
    let filters = [("orgID", org.map(|o| o.id.to_string()))];
    let links = crate::paging::links("/api/v2/notificationEndpoints", &opts, &filters, out.len());
    Ok(Json(json!({ "notificationEndpoints": out, "links": links })))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // Checked whole first, so nothing is made of a body 2.7 refuses.
    read(Id::generate(), &body)?;
    let org = super::org_in(&body, "Notification Endpoint OrgID is invalid")?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::NotificationEndpoints, org))?;
    let d = super::new_document(&state, &p, Kind::NotificationEndpoint, org, &body).await?;
    match save(&state, &d, &body).await {
        Ok(d) => Ok((StatusCode::CREATED, Json(view(&state, &p, &d).await?))),
        Err(e) => {
            let id = d.id;
            state.meta(move |m| m.delete_document(Kind::NotificationEndpoint, id)).await?;
            Err(e)
        }
    }
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(view(&state, &p, &d).await?))
}

pub(crate) async fn put(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let updated = save(&state, &d, &body).await?;
    Ok(Json(view(&state, &p, &updated).await?))
}

/// `PATCH`: name, description and status.
pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<super::Patch>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let mut body = change.applied(&d);
    if let Some(s) = change.status_text() {
        body["status"] = json!(s);
    }
    let updated = save(&state, &d, &body).await?;
    Ok(Json(view(&state, &p, &updated).await?))
}

/// `DELETE`: the endpoint and its secrets, unless a rule sends to it.
pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    // Unlike 2.7, an endpoint a rule still sends to is kept: the rule's
    // task would fail on every run without it.
    let users = super::rules_sending_to(&state, d.org_id, d.id).await?;
    if !users.is_empty() {
        let names = users.join(", ");
        return Err(ApiError::new(
            Code::Conflict,
            format!("notification endpoint is used by notification rules: {names}"),
        ));
    }
    let (did, org, keys) = (d.id, d.org_id, Endpoint::secret_keys(&d.body));
    state
        .meta(move |m| -> meta::Result<()> {
            m.delete_secrets(org, &keys)?;
            m.delete_document(Kind::NotificationEndpoint, did)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Notification endpoints have labels.
#[derive(Debug)]
pub(crate) struct Endpoints;

impl crate::tenancy::resource::Resource for Endpoints {
    const PATH: &'static str = "/api/v2/notificationEndpoints";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Endpoints {
    const TYPE: &'static str = "notificationEndpoints";
}
