//! `/private/legacy/authorizations`: v1 usernames and passwords, scoped to an
//! org's buckets by v2 permissions (what `influx v1 auth` manages). The
//! authorization's `token` is the v1 username.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::views;
use meta::auth::{Action, Permission, Resource, ResourceType};
use meta::authorizations::{AuthStatus, Authorization};
use meta::legacy::{LegacyFilter, NewLegacyAuthorization};

fn require(p: &Principal, action: Action, a: &Authorization) -> ApiResult<()> {
    p.require(action, Resource::one_in_org(ResourceType::Authorizations, a.id, a.org_id))?;
    if let Some(uid) = a.user_id {
        p.require(action, Resource::one(ResourceType::Users, uid))?;
    }
    Ok(())
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let org = crate::tenancy::orgs::from_query(&state, &q).await?;
    let mut filter = LegacyFilter {
        id: q.id("authID")?,
        user_id: q.id("userID")?,
        org_id: org.map(|o| o.id),
        token: q.get("token").map(str::to_owned),
    };
    if let Some(name) = q.get("user").map(str::to_owned) {
        filter.user_id = Some(state.meta(move |m| m.find_user_by_name(&name)).await?.id);
    }
    let all = state.meta(move |m| m.list_legacy_authorizations(&filter)).await?;
    let visible: Vec<Authorization> = all.into_iter().filter(|a| require(&p, Action::Read, a).is_ok()).collect();
    let body = state
        .meta(move |m| -> meta::Result<Value> {
            let auths: Vec<Value> = visible.iter().map(|a| legacy_view(a, m)).collect();
            Ok(json!({ "links": { "self": "/private/legacy/authorizations" }, "authorizations": auths }))
        })
        .await?;
    Ok(Json(body))
}

/// An authorization as the legacy endpoints show it: its username as `token`, links under `/private`.
fn legacy_view(a: &Authorization, m: &meta::Store) -> Value {
    let mut v = views::authorization(a, m);
    v["links"]["self"] = json!(format!("/private/legacy/authorizations/{}", a.id));
    v
}

#[derive(Deserialize)]
pub(crate) struct PostLegacy {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    #[serde(rename = "userID")]
    user_id: Option<String>,
    token: Option<String>,
    #[serde(default)]
    description: String,
    status: Option<String>,
    #[serde(default)]
    permissions: Vec<Permission>,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostLegacy>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if body.permissions.is_empty() {
        return Err(ApiError::invalid("authorization must include permissions"));
    }
    let org_id = match body.org_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_id(s)?,
        None => return Err(ApiError::invalid("org id required")),
    };
    let token = body
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid("token required for v1 user authorization type"))?;
    let user_id = match body.user_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_id(s)?),
        None => p.user_id,
    };
    let status = crate::access::authorizations::status(body.status.as_deref())?.unwrap_or(AuthStatus::Active);
    state.meta(move |m| m.find_org_by_id(org_id)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Authorizations, org_id))?;
    if let Some(uid) = user_id {
        p.require(Action::Write, Resource::one(ResourceType::Users, uid))?;
    }
    p.require_all_held(&body.permissions)?;
    let new = NewLegacyAuthorization {
        org_id,
        user_id,
        token,
        description: body.description,
        status,
        permissions: body.permissions,
    };
    let body = state
        .meta(move |m| -> meta::Result<Value> {
            let a = m.create_legacy_authorization(&new)?;
            Ok(legacy_view(&a, m))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(body)))
}

async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Authorization> {
    let id = parse_id(id)?;
    let a = state.meta(move |m| m.find_legacy_authorization(id)).await?;
    require(p, action, &a)?;
    Ok(a)
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(state.meta(move |m| Ok::<_, ApiError>(legacy_view(&a, m))).await?))
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<crate::access::authorizations::PatchAuthorization>,
) -> ApiResult<Json<Value>> {
    let update = body.update()?;
    let a = authorized(&state, &p, &id, Action::Write).await?;
    let body = state
        .meta(move |m| -> meta::Result<Value> {
            let a = m.update_legacy_authorization(a.id, &update)?;
            Ok(legacy_view(&a, m))
        })
        .await?;
    Ok(Json(body))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let a = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_legacy_authorization(a.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct Password {
    password: String,
}

pub(crate) async fn password(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Password>,
) -> ApiResult<StatusCode> {
    let a = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.set_legacy_password(a.id, &body.password)).await?;
    Ok(StatusCode::NO_CONTENT)
}
