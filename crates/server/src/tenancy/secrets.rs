//! `/api/v2/orgs/{orgID}/secrets`: an org's secrets, for Flux's
//! `secrets.get()`. The API names them and takes values; it never gives a
//! value back.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::secrets::SecretKey;

/// The org (which must exist), once the caller may act on its secrets.
async fn org(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
    let id = parse_id(id)?;
    state.meta(move |m| m.find_org_by_id(id)).await?;
    p.require(action, Resource::in_org(ResourceType::Secrets, id))?;
    Ok(id)
}

/// The key that seals an org's secrets.
pub(crate) fn sealing_key(state: &AppState) -> ApiResult<Arc<SecretKey>> {
    state.secret_key.clone().ok_or_else(|| ApiError::internal("secrets are not available on this server"))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let org = org(&state, &p, &id, Action::Read).await?;
    let keys = state.meta(move |m| m.secret_keys(org)).await?;
    Ok(Json(json!({
        "links": { "org": format!("/api/v2/orgs/{org}"), "self": format!("/api/v2/orgs/{org}/secrets") },
        "secrets": keys,
    })))
}

/// PATCH: adds or replaces the secrets of the body's `{"name": "value"}`.
pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(values): JsonBody<BTreeMap<String, String>>,
) -> ApiResult<StatusCode> {
    let org = org(&state, &p, &id, Action::Write).await?;
    let key = sealing_key(&state)?;
    state.meta(move |m| m.put_secrets(org, &key, &values)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct DeleteBody {
    #[serde(default)]
    secrets: Vec<String>,
}

/// POST `…/secrets/delete`: deletes the secrets the body names.
pub(crate) async fn delete_many(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DeleteBody>,
) -> ApiResult<StatusCode> {
    let org = org(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_secrets(org, &body.secrets)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn delete_one(
    State(state): State<AppState>,
    p: Principal,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = org(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_secrets(org, &[name])).await?;
    Ok(StatusCode::NO_CONTENT)
}
