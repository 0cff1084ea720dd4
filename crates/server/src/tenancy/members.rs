//! Members and owners, shared by every resource that has them: one set of
//! handlers, generic over the kind of resource.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{MethodRouter, delete, get};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::extract::{JsonBody, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::views;
use meta::auth::Action;
use meta::members::{ResourceKind, Role};

/// A resource kind with members and owners.
/// `<base>/members`, `<base>/owners` and one of each of a resource that has them.
pub(crate) fn routes_on<T: HasMembers>(base: &str) -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        (format!("{base}/members"), get(list_members::<T>).post(add_member::<T>)),
        (format!("{base}/members/{{user}}"), delete(remove_member::<T>)),
        (format!("{base}/owners"), get(list_owners::<T>).post(add_owner::<T>)),
        (format!("{base}/owners/{{user}}"), delete(remove_owner::<T>)),
    ]
}

pub(crate) trait HasMembers: crate::tenancy::resource::Resource {
    /// The kind user-resource mappings record.
    const KIND: ResourceKind;
}

#[derive(Debug, Deserialize)]
pub(crate) struct AddMember {
    #[serde(default)]
    id: String,
}

fn suffix(role: Role) -> &'static str {
    match role {
        Role::Owner => "owners",
        Role::Member => "members",
    }
}

async fn list<T: HasMembers>(state: AppState, p: Principal, id: String, role: Role) -> ApiResult<Json<Value>> {
    let rid = T::target(&state, &p, &id, Action::Read).await?;
    let self_link = format!("{}/{rid}/{}", T::PATH, suffix(role));
    let users = state.meta(move |m| m.list_members(T::KIND, rid, role)).await?;
    Ok(Json(json!({
        "links": { "self": self_link },
        "users": users.iter().map(|u| views::member(u, role.as_str())).collect::<Vec<_>>(),
    })))
}

async fn add<T: HasMembers>(
    state: AppState,
    p: Principal,
    id: String,
    role: Role,
    body: AddMember,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let rid = T::target(&state, &p, &id, Action::Write).await?;
    let uid = parse_id(&body.id)?;
    let user = state
        .meta(move |m| -> meta::Result<_> {
            let user = m.find_user_by_id(uid)?;
            m.add_member(T::KIND, rid, uid, role)?;
            Ok(user)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(views::member(&user, role.as_str()))))
}

async fn remove<T: HasMembers>(
    state: AppState,
    p: Principal,
    id: String,
    role: Role,
    user: String,
) -> ApiResult<StatusCode> {
    let rid = T::target(&state, &p, &id, Action::Write).await?;
    let uid = parse_id(&user)?;
    state.meta(move |m| m.remove_member(T::KIND, rid, uid, role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_members<T: HasMembers>(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    list::<T>(s, p, id, Role::Member).await
}

pub(crate) async fn list_owners<T: HasMembers>(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    list::<T>(s, p, id, Role::Owner).await
}

pub(crate) async fn add_member<T: HasMembers>(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AddMember>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    add::<T>(s, p, id, Role::Member, body).await
}

pub(crate) async fn add_owner<T: HasMembers>(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AddMember>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    add::<T>(s, p, id, Role::Owner, body).await
}

pub(crate) async fn remove_member<T: HasMembers>(
    State(s): State<AppState>,
    p: Principal,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    remove::<T>(s, p, id, Role::Member, user).await
}

pub(crate) async fn remove_owner<T: HasMembers>(
    State(s): State<AppState>,
    p: Principal,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    remove::<T>(s, p, id, Role::Owner, user).await
}
