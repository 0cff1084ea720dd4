//! `/api/v2/authorizations`: API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::paging::{find_options, links};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::views;
use meta::FindOptions;
use meta::auth::{Action, Permission, Resource, ResourceType};
use meta::authorizations::{AuthStatus, Authorization, AuthorizationFilter, AuthorizationUpdate, NewAuthorization};

fn resource(a: &Authorization) -> Resource {
    Resource::one_in_org(ResourceType::Authorizations, a.id, a.org_id)
}

/// Reading a token needs read on it and on its user, as in InfluxDB.
fn require(p: &Principal, action: Action, a: &Authorization) -> ApiResult<()> {
    p.require(action, resource(a))?;
    if let Some(uid) = a.user_id {
        p.require(action, Resource::one(ResourceType::Users, uid))?;
    }
    Ok(())
}

/// A status named in a request body; an unknown one is a 400.
pub(crate) fn status(s: Option<&str>) -> ApiResult<Option<AuthStatus>> {
    s.map(|s| AuthStatus::parse(s).ok_or_else(|| ApiError::invalid(format!("invalid authorization status {s:?}"))))
        .transpose()
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = find_options(&q)?;
    // An `orgID` only filters, as in 2.7 (an ID no org has lists nothing);
    // an `org` name must name an org.
    let org_id = match q.id("orgID")? {
        Some(id) => Some(id),
        None => crate::tenancy::orgs::from_query(&state, &q).await?.map(|o| o.id),
    };
    let mut filter =
        AuthorizationFilter { id: None, user_id: q.id("userID")?, org_id, token: q.get("token").map(str::to_owned) };
    if let Some(name) = q.get("user").map(str::to_owned) {
        filter.user_id = Some(state.meta(move |m| m.find_user_by_name(&name)).await?.id);
    }
    let f = filter.clone();
    let all = state.meta(move |m| m.list_authorizations(&f, &FindOptions::all())).await?;
    let visible: Vec<Authorization> = all.into_iter().filter(|a| require(&p, Action::Read, a).is_ok()).collect();
    let page = opts.apply(visible, |a| a.id);
    let l = links(
        "/api/v2/authorizations",
        &opts,
        &[
            ("user", q.get("user").map(str::to_owned)),
            ("userID", q.get("userID").map(str::to_owned)),
            ("org", q.get("org").map(str::to_owned)),
            ("orgID", q.get("orgID").map(str::to_owned)),
        ],
        page.len(),
    );
    let body = state
        .meta(move |m| -> meta::Result<Value> {
            let auths: Vec<Value> = page.iter().map(|a| views::authorization(a, m)).collect();
            Ok(json!({ "links": l, "authorizations": auths }))
        })
        .await?;
    Ok(Json(body))
}

#[derive(Deserialize)]
pub(crate) struct PostAuthorization {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    #[serde(rename = "userID")]
    user_id: Option<String>,
    #[serde(default)]
    description: String,
    status: Option<String>,
    #[serde(default)]
    permissions: Vec<Permission>,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostAuthorization>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org_id = match body.org_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_id(s)?,
        None => return Err(ApiError::invalid("org id is required")),
    };
    if body.permissions.is_empty() {
        return Err(ApiError::invalid("authorization must have at least one permission"));
    }
    // A token created without a user belongs to whoever creates it, as in InfluxDB.
    let user_id = match body.user_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_id(s)?),
        None => p.user_id,
    };
    let status = status(body.status.as_deref())?.unwrap_or(AuthStatus::Active);
    state.meta(move |m| m.find_org_by_id(org_id)).await?;
    if let Some(uid) = user_id {
        state.meta(move |m| m.find_user_by_id(uid)).await?;
    }
    p.require(Action::Write, Resource::in_org(ResourceType::Authorizations, org_id))?;
    if let Some(uid) = user_id {
        p.require(Action::Write, Resource::one(ResourceType::Users, uid))?;
    }
    p.require_all_held(&body.permissions)?;
    let new = NewAuthorization {
        org_id,
        user_id,
        description: body.description,
        status,
        permissions: body.permissions,
        token: None,
    };
    let body = state
        .meta(move |m| -> meta::Result<Value> {
            let a = m.create_authorization(&new)?;
            Ok(views::authorization(&a, m))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(body)))
}

async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Authorization> {
    let id = parse_id(id)?;
    let a = state.meta(move |m| m.find_authorization_by_id(id)).await?;
    require(p, action, &a)?;
    Ok(a)
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(state.meta(move |m| Ok::<_, ApiError>(views::authorization(&a, m))).await?))
}

#[derive(Deserialize)]
pub(crate) struct PatchAuthorization {
    status: Option<String>,
    description: Option<String>,
}

impl PatchAuthorization {
    /// The update it asks for; an unknown status is a 400.
    pub(crate) fn update(self) -> ApiResult<AuthorizationUpdate> {
        Ok(AuthorizationUpdate { status: status(self.status.as_deref())?, description: self.description })
    }
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchAuthorization>,
) -> ApiResult<Json<Value>> {
    let update = body.update()?;
    let a = authorized(&state, &p, &id, Action::Write).await?;
    let body = state
        .meta(move |m| -> meta::Result<Value> {
            let a = m.update_authorization(a.id, &update)?;
            Ok(views::authorization(&a, m))
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
    state.meta(move |m| m.delete_authorization(a.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
