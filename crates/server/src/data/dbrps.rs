//! `/api/v2/dbrps`: v1 database/retention-policy mappings.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::dbrps::{Dbrp, DbrpFilter, NewDbrp};

fn view(m: &Dbrp) -> Value {
    json!({
        "id": m.id.to_string(),
        "database": m.database,
        "retention_policy": m.retention_policy,
        "default": m.default,
        "virtual": m.virtual_,
        "orgID": m.org_id.to_string(),
        "bucketID": m.bucket_id.to_string(),
    })
}

fn resource(org: Id, id: Option<Id>) -> Resource {
    match id {
        Some(id) => Resource::one_in_org(ResourceType::Dbrp, id, org),
        None => Resource::in_org(ResourceType::Dbrp, org),
    }
}

/// The org named by `orgID` or `org`; InfluxDB requires one of them here.
async fn org_of(state: &AppState, org_id: Option<&str>, org: Option<&str>) -> ApiResult<Id> {
    if let Some(id) = org_id.filter(|s| !s.is_empty()) {
        let id = id.parse::<Id>().map_err(|_| ApiError::invalid(format!("invalid org ID {id:?}")))?;
        state.meta(move |m| m.find_org_by_id(id)).await?;
        return Ok(id);
    }
    let name =
        org.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid("either 'org' or 'orgID' must be provided"))?;
    let n = name.to_owned();
    state
        .meta(move |m| m.find_org_by_name(&n))
        .await
        .map(|o| o.id)
        .map_err(|_| ApiError::not_found(format!("invalid org {name:?}")))
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let org = org_of(&state, q.get("orgID"), q.get("org")).await?;
    let default = match q.get("default") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::invalid("invalid default parameter")),
    };
    let id_param = |k: &str| -> ApiResult<Option<Id>> {
        q.get(k).map(|v| v.parse::<Id>().map_err(|_| ApiError::invalid(format!("invalid {k} {v:?}")))).transpose()
    };
    let filter = DbrpFilter {
        org_id: Some(org),
        id: id_param("id")?,
        bucket_id: id_param("bucketID")?,
        default,
        database: q.get("db").map(str::to_owned),
        retention_policy: q.get("rp").map(str::to_owned),
    };
    let all = state.meta(move |m| m.list_dbrps(&filter)).await?;
    let visible: Vec<Value> =
        all.iter().filter(|m| p.can(Action::Read, &resource(m.org_id, Some(m.id)))).map(view).collect();
    Ok(Json(json!({ "content": visible })))
}

#[derive(Deserialize)]
pub(crate) struct PostDbrp {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    org: Option<String>,
    #[serde(rename = "bucketID", default)]
    bucket_id: String,
    #[serde(default)]
    database: String,
    #[serde(default)]
    retention_policy: String,
    #[serde(default)]
    default: bool,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostDbrp>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org = org_of(&state, body.org_id.as_deref(), body.org.as_deref()).await?;
    let bucket = body
        .bucket_id
        .parse::<Id>()
        .map_err(|_| ApiError::invalid(format!("invalid bucket ID {:?}", body.bucket_id)))?;
    p.require(Action::Write, resource(org, None))?;
    let new = NewDbrp {
        org_id: org,
        bucket_id: bucket,
        database: body.database,
        retention_policy: body.retention_policy,
        default: body.default,
    };
    let m = state.meta(move |m| m.create_dbrp(&new)).await?;
    Ok((StatusCode::CREATED, Json(view(&m))))
}

async fn authorized(state: &AppState, p: &Principal, q: &QueryMap, id: &str, action: Action) -> ApiResult<Dbrp> {
    let org = org_of(state, q.get("orgID"), q.get("org")).await?;
    let id = parse_id(id).map_err(|_| ApiError::invalid(format!("invalid DBRP ID {id:?}")))?;
    let m = state.meta(move |m| m.find_dbrp(org, id)).await?;
    p.require(action, resource(org, Some(id)))?;
    Ok(m)
}

pub(crate) async fn get(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = authorized(&state, &p, &q, &id, Action::Read).await?;
    Ok(Json(json!({ "content": view(&m) })))
}

#[derive(Deserialize)]
pub(crate) struct PatchDbrp {
    retention_policy: Option<String>,
    default: Option<bool>,
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchDbrp>,
) -> ApiResult<Json<Value>> {
    let m = authorized(&state, &p, &q, &id, Action::Write).await?;
    if m.virtual_ {
        return Err(ApiError::invalid("cannot update a virtual DBRP mapping"));
    }
    let updated = state.meta(move |s| s.update_dbrp(m.org_id, m.id, body.retention_policy, body.default)).await?;
    Ok(Json(json!({ "content": view(&updated) })))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let m = authorized(&state, &p, &q, &id, Action::Write).await?;
    if m.virtual_ {
        return Err(ApiError::invalid("cannot delete a virtual DBRP mapping"));
    }
    state.meta(move |s| s.delete_dbrp(m.org_id, m.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
