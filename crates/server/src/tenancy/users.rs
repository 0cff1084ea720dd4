//! `/api/v2/users`.

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
use meta::auth::{Action, Resource, ResourceType};
use meta::users::{User, UserFilter, UserStatus, UserUpdate};

fn resource(u: &User) -> Resource {
    Resource::one(ResourceType::Users, u.id)
}

fn status(s: Option<&str>) -> ApiResult<Option<UserStatus>> {
    s.map(|s| UserStatus::parse(s).ok_or_else(|| ApiError::invalid(format!("invalid user status {s:?}")))).transpose()
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = find_options(&q)?;
    let filter = UserFilter { id: q.id("id")?, name: q.get("name").map(str::to_owned) };
    let f = filter.clone();
    // Naming a user by ID or name that does not exist is a 404 "user not found", as in 2.7.
    let all = state
        .meta(move |m| match (f.id, &f.name) {
            (Some(id), _) => m.find_user_by_id(id).map(|u| vec![u]),
            (None, Some(name)) => m.find_user_by_name(name).map(|u| vec![u]),
            (None, None) => m.list_users(&f, &FindOptions::all()),
        })
        .await?;
    let visible: Vec<User> = all.into_iter().filter(|u| p.can(Action::Read, &resource(u))).collect();
    let page = opts.apply(visible, |u| u.id);
    let l =
        links("/api/v2/users", &opts, &[("name", filter.name), ("id", filter.id.map(|i| i.to_string()))], page.len());
    Ok(Json(json!({ "links": l, "users": page.iter().map(views::user).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
pub(crate) struct PostUser {
    #[serde(default)]
    name: String,
    status: Option<String>,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostUser>,
) -> ApiResult<(StatusCode, Json<views::UserView>)> {
    p.require(Action::Write, Resource::all(ResourceType::Users))?;
    let status = status(body.status.as_deref())?.unwrap_or(UserStatus::Active);
    let user = state.meta(move |m| m.create_user(&body.name, status)).await?;
    Ok((StatusCode::CREATED, Json(views::user(&user))))
}

/// Checks `action` on the user ID first, then loads it, in InfluxDB's order.
async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<User> {
    let id = parse_id(id)?;
    p.require(action, Resource::one(ResourceType::Users, id))?;
    state.meta(move |m| m.find_user_by_id(id)).await
}

pub(crate) async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<views::UserView>> {
    Ok(Json(views::user(&authorized(&state, &p, &id, Action::Read).await?)))
}

#[derive(Deserialize)]
pub(crate) struct PatchUser {
    name: Option<String>,
    status: Option<String>,
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchUser>,
) -> ApiResult<Json<views::UserView>> {
    let update = UserUpdate { name: body.name, status: status(body.status.as_deref())? };
    let user = authorized(&state, &p, &id, Action::Write).await?;
    let user = state.meta(move |m| m.update_user(user.id, &update)).await?;
    Ok(Json(views::user(&user)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let user = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_user(user.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
