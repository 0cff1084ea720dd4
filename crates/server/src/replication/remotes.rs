//! `/api/v2/remotes` (remote connections) and `/api/v2/replications`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::replications::{NewRemote, Remote, RemoteUpdate, Replication, ReplicationFilter, ReplicationUpdate};

/// InfluxDB's default and smallest queue size, and its age limit when none
/// is given: none (2.7's API defaults only the queue size; its CLI sends a week).
const DEFAULT_QUEUE_BYTES: i64 = 67_108_860;
const MIN_QUEUE_BYTES: i64 = 33_554_430;
const DEFAULT_MAX_AGE_SECS: i64 = 0;

fn key(state: &AppState) -> ApiResult<std::sync::Arc<meta::secrets::SecretKey>> {
    state.secret_key.clone().ok_or_else(|| ApiError::internal("no secret key on this server"))
}

fn org_param(q: &QueryMap) -> ApiResult<Id> {
    q.get("orgID").and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("invalid or missing org ID"))
}

fn parse_path_id(s: &str, what: &str) -> ApiResult<Id> {
    s.parse().map_err(|_| ApiError::invalid(what.to_owned()))
}

fn check_url(url: &str) -> ApiResult<()> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiError::invalid(format!("remoteURL must be an http or https URL, got {url:?}"))),
    }
}

fn remote_view(r: &Remote) -> Value {
    let mut v = json!({
        "id": r.id.to_string(),
        "name": r.name,
        "orgID": r.org_id.to_string(),
        "remoteURL": r.remote_url,
        "remoteOrgID": r.remote_org_id,
        "allowInsecureTLS": r.allow_insecure_tls,
    });
    if !r.description.is_empty() {
        v["description"] = json!(r.description);
    }
    v
}

fn remote_resource(r: &Remote) -> Resource {
    Resource::one_in_org(ResourceType::Remotes, r.id, r.org_id)
}

async fn remote_authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Remote> {
    let id = parse_path_id(id, "remote-connection ID is invalid")?;
    let r = state.meta(move |m| m.find_remote_by_id(id)).await?;
    p.require(action, remote_resource(&r))?;
    Ok(r)
}

pub(crate) async fn list_remotes(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let org = org_param(&q)?;
    let (name, url) = (q.get("name").map(str::to_owned), q.get("remoteURL").map(str::to_owned));
    let all = state.meta(move |m| m.list_remotes(org, name.as_deref(), url.as_deref())).await?;
    let visible: Vec<Value> =
        all.iter().filter(|r| p.can(Action::Read, &remote_resource(r))).map(remote_view).collect();
    Ok(Json(json!({ "remotes": visible })))
}

#[derive(Deserialize)]
pub(crate) struct PostRemote {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "orgID", default)]
    org_id: String,
    #[serde(rename = "remoteURL", default)]
    remote_url: String,
    #[serde(rename = "remoteAPIToken", default)]
    remote_api_token: String,
    #[serde(rename = "remoteOrgID", default)]
    remote_org_id: String,
    #[serde(rename = "allowInsecureTLS", default)]
    allow_insecure_tls: bool,
}

pub(crate) async fn create_remote(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostRemote>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org: Id = body.org_id.parse().map_err(|_| ApiError::invalid("invalid or missing org ID"))?;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name is required"));
    }
    check_url(&body.remote_url)?;
    if body.remote_api_token.is_empty() {
        return Err(ApiError::invalid("remoteAPIToken is required"));
    }
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Remotes, org))?;
    let key = key(&state)?;
    let new = NewRemote {
        org_id: org,
        name: body.name,
        description: body.description,
        remote_url: body.remote_url,
        remote_token: body.remote_api_token,
        remote_org_id: body.remote_org_id,
        allow_insecure_tls: body.allow_insecure_tls,
    };
    let remote = state.meta(move |m| m.create_remote(&new, &key)).await?;
    Ok((StatusCode::CREATED, Json(remote_view(&remote))))
}

pub(crate) async fn get_remote(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = remote_authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(remote_view(&r)))
}

#[derive(Deserialize)]
pub(crate) struct PatchRemote {
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "remoteURL")]
    remote_url: Option<String>,
    #[serde(rename = "remoteAPIToken")]
    remote_api_token: Option<String>,
    #[serde(rename = "remoteOrgID")]
    remote_org_id: Option<String>,
    #[serde(rename = "allowInsecureTLS")]
    allow_insecure_tls: Option<bool>,
}

pub(crate) async fn patch_remote(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchRemote>,
) -> ApiResult<Json<Value>> {
    let r = remote_authorized(&state, &p, &id, Action::Write).await?;
    if let Some(u) = &body.remote_url {
        check_url(u)?;
    }
    if body.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::invalid("name cannot be empty"));
    }
    let key = key(&state)?;
    let upd = RemoteUpdate {
        name: body.name,
        description: body.description,
        remote_url: body.remote_url,
        remote_token: body.remote_api_token.filter(|t| !t.is_empty()),
        remote_org_id: body.remote_org_id,
        allow_insecure_tls: body.allow_insecure_tls,
    };
    let rid = r.id;
    let updated = state.meta(move |m| m.update_remote(rid, &upd, &key)).await?;
    // Replications through this remote send with its new settings from now on.
    let filter = ReplicationFilter { remote_id: Some(rid), ..Default::default() };
    let using = state.meta(move |m| m.list_replications(&filter)).await?;
    for rep in using {
        restart_sender(&state, &rep).await?;
    }
    Ok(Json(remote_view(&updated)))
}

pub(crate) async fn delete_remote(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let r = remote_authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_remote(r.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- replications ----

fn replication_resource(r: &Replication) -> Resource {
    Resource::one_in_org(ResourceType::Replications, r.id, r.org_id)
}

fn replication_view(state: &AppState, r: &Replication) -> Value {
    let mut v = json!({
        "id": r.id.to_string(),
        "name": r.name,
        "orgID": r.org_id.to_string(),
        "remoteID": r.remote_id.to_string(),
        "localBucketID": r.local_bucket_id.to_string(),
        "maxQueueSizeBytes": r.max_queue_size_bytes,
        "maxAgeSeconds": r.max_age_seconds,
        "dropNonRetryableData": r.drop_non_retryable_data,
        "currentQueueSizeBytes": 0,
        "remainingBytesToBeSynced": 0,
    });
    if !r.description.is_empty() {
        v["description"] = json!(r.description);
    }
    if let Some(b) = &r.remote_bucket_id {
        v["remoteBucketID"] = json!(b);
    }
    if let Some(b) = &r.remote_bucket_name {
        v["remoteBucketName"] = json!(b);
    }
    if let Some((disk, pending, status)) = state.replications.as_ref().and_then(|reps| reps.status(r.id.get())) {
        v["currentQueueSizeBytes"] = json!(disk);
        v["remainingBytesToBeSynced"] = json!(pending);
        if status.latest_response_code != 0 {
            v["latestResponseCode"] = json!(status.latest_response_code);
        }
        if !status.latest_error.is_empty() {
            v["latestErrorMessage"] = json!(status.latest_error);
        }
    }
    v
}

async fn replication_authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Replication> {
    let id = parse_path_id(id, "replication ID is invalid")?;
    let r = state.meta(move |m| m.find_replication_by_id(id)).await?;
    p.require(action, replication_resource(&r))?;
    Ok(r)
}

/// (Re)starts a replication's sender with what the store now says.
async fn restart_sender(state: &AppState, r: &Replication) -> ApiResult<()> {
    let Some(reps) = state.replications.clone() else { return Ok(()) };
    let key = key(state)?;
    let rep = r.clone();
    let target = state.meta(move |m| crate::replication::target(m, &key, &rep)).await?;
    if reps.status(r.id.get()).is_some() {
        reps.update(r.id.get(), target);
    } else {
        reps.start(r.id.get(), r.local_bucket_id.get(), target)
            .map_err(|e| ApiError::internal(format!("starting replication {}: {e}", r.id)))?;
    }
    Ok(())
}

/// Checks a replication as it stands (or would stand): the remote must take an empty write.
async fn check(state: &AppState, r: &Replication) -> Result<(), String> {
    let key = key(state).map_err(|e| e.message)?;
    let rep = r.clone();
    let target = state.meta(move |m| crate::replication::target(m, &key, &rep)).await.map_err(|e| e.message)?;
    replication::validate(&target).await
}

pub(crate) async fn list_replications(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
) -> ApiResult<Json<Value>> {
    let org = org_param(&q)?;
    let filter = ReplicationFilter {
        org_id: Some(org),
        name: q.get("name").map(str::to_owned),
        remote_id: q.id("remoteID")?,
        local_bucket_id: q.id("localBucketID")?,
    };
    let all = state.meta(move |m| m.list_replications(&filter)).await?;
    let visible: Vec<Value> = all
        .iter()
        .filter(|r| p.can(Action::Read, &replication_resource(r)))
        .map(|r| replication_view(&state, r))
        .collect();
    Ok(Json(json!({ "replications": visible })))
}

#[derive(Deserialize)]
pub(crate) struct PostReplication {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "orgID", default)]
    org_id: String,
    #[serde(rename = "remoteID", default)]
    remote_id: String,
    #[serde(rename = "localBucketID", default)]
    local_bucket_id: String,
    #[serde(rename = "remoteBucketID")]
    remote_bucket_id: Option<String>,
    #[serde(rename = "remoteBucketName")]
    remote_bucket_name: Option<String>,
    #[serde(rename = "maxQueueSizeBytes")]
    max_queue_size_bytes: Option<i64>,
    #[serde(rename = "maxAgeSeconds")]
    max_age_seconds: Option<i64>,
    #[serde(rename = "dropNonRetryableData", default)]
    drop_non_retryable_data: bool,
}

fn check_limits(queue: i64, age: i64) -> ApiResult<()> {
    if queue < MIN_QUEUE_BYTES {
        return Err(ApiError::invalid(format!("maxQueueSize too small, must be at least {MIN_QUEUE_BYTES}")));
    }
    if age < 0 {
        return Err(ApiError::invalid("maxAgeSeconds must be 0 or more"));
    }
    Ok(())
}

pub(crate) async fn create_replication(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
    JsonBody(body): JsonBody<PostReplication>,
) -> ApiResult<Response> {
    let org: Id = body.org_id.parse().map_err(|_| ApiError::invalid("invalid or missing org ID"))?;
    let remote_id: Id = body.remote_id.parse().map_err(|_| ApiError::invalid("invalid remote ID"))?;
    let bucket_id: Id = body.local_bucket_id.parse().map_err(|_| ApiError::invalid("invalid local bucket ID"))?;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name is required"));
    }
    let (remote_bucket_id, remote_bucket_name) =
        (body.remote_bucket_id.filter(|s| !s.is_empty()), body.remote_bucket_name.filter(|s| !s.is_empty()));
    if remote_bucket_id.is_none() && remote_bucket_name.is_none() {
        return Err(ApiError::invalid("please supply one of: remoteBucketID, remoteBucketName"));
    }
    let queue = body.max_queue_size_bytes.unwrap_or(DEFAULT_QUEUE_BYTES);
    let age = body.max_age_seconds.unwrap_or(DEFAULT_MAX_AGE_SECS);
    check_limits(queue, age)?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Replications, org))?;
    let new = Replication {
        id: Id::generate(),
        org_id: org,
        name: body.name,
        description: body.description,
        remote_id,
        local_bucket_id: bucket_id,
        remote_bucket_id,
        remote_bucket_name,
        max_queue_size_bytes: queue,
        max_age_seconds: age,
        drop_non_retryable_data: body.drop_non_retryable_data,
    };
    if q.get("validate") == Some("true") {
        // Checked, not saved.
        let remote = state.meta(move |m| m.find_remote_by_id(remote_id)).await?;
        if remote.org_id != org {
            return Err(ApiError::invalid("the remote connection belongs to another organization"));
        }
        check(&state, &new)
            .await
            .map_err(|why| ApiError::invalid(format!("replication parameters fail validation: {why}")))?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let created = state.meta(move |m| m.create_replication(&new)).await?;
    restart_sender(&state, &created).await?;
    Ok((StatusCode::CREATED, Json(replication_view(&state, &created))).into_response())
}

pub(crate) async fn get_replication(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = replication_authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(replication_view(&state, &r)))
}

#[derive(Deserialize)]
pub(crate) struct PatchReplication {
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "remoteID")]
    remote_id: Option<String>,
    #[serde(rename = "remoteBucketID")]
    remote_bucket_id: Option<String>,
    #[serde(rename = "remoteBucketName")]
    remote_bucket_name: Option<String>,
    #[serde(rename = "maxQueueSizeBytes")]
    max_queue_size_bytes: Option<i64>,
    #[serde(rename = "maxAgeSeconds")]
    max_age_seconds: Option<i64>,
    #[serde(rename = "dropNonRetryableData")]
    drop_non_retryable_data: Option<bool>,
}

pub(crate) async fn patch_replication(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    q: QueryMap,
    JsonBody(body): JsonBody<PatchReplication>,
) -> ApiResult<Response> {
    let r = replication_authorized(&state, &p, &id, Action::Write).await?;
    let remote_id = body.remote_id.filter(|s| !s.is_empty()).map(|s| s.parse::<Id>()).transpose();
    let upd = ReplicationUpdate {
        name: body.name,
        description: body.description,
        remote_id: remote_id.map_err(|_| ApiError::invalid("invalid remote ID"))?,
        remote_bucket_id: body.remote_bucket_id.filter(|s| !s.is_empty()),
        remote_bucket_name: body.remote_bucket_name.filter(|s| !s.is_empty()),
        max_queue_size_bytes: body.max_queue_size_bytes,
        max_age_seconds: body.max_age_seconds,
        drop_non_retryable_data: body.drop_non_retryable_data,
    };
    let rid = r.id;
    let u = upd.clone();
    let would = state.meta(move |m| m.updated_replication(rid, &u)).await?;
    check_limits(would.max_queue_size_bytes, would.max_age_seconds)?;
    if q.get("validate") == Some("true") {
        check(&state, &would)
            .await
            .map_err(|why| ApiError::invalid(format!("validation fails after applying update: {why}")))?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let updated = state.meta(move |m| m.update_replication(rid, &upd)).await?;
    restart_sender(&state, &updated).await?;
    Ok(Json(replication_view(&state, &updated)).into_response())
}

pub(crate) async fn delete_replication(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let r = replication_authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_replication(r.id)).await?;
    if let Some(reps) = &state.replications {
        reps.remove(r.id.get());
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn validate_replication(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let r = replication_authorized(&state, &p, &id, Action::Write).await?;
    check(&state, &r).await.map_err(|why| ApiError::invalid(format!("replication failed validation: {why}")))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A bucket is being deleted: its replications' queues go with it.
pub(crate) async fn forget_bucket(state: &AppState, bucket: Id) -> ApiResult<()> {
    let filter = ReplicationFilter { local_bucket_id: Some(bucket), ..Default::default() };
    let reps = state.meta(move |m| m.list_replications(&filter)).await?;
    if let Some(manager) = &state.replications {
        for r in reps {
            manager.remove(r.id.get());
        }
    }
    Ok(())
}
