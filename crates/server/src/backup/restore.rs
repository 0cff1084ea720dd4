//! `POST /api/v2/restore/*`: the whole metadata store from a `kv` part
//! (then every bucket's data is gone until its shards are restored, as in
//! 2.x), a new bucket from a bucket manifest with new shard numbers, and a
//! shard's archive into its bucket. Each body is read and checked whole
//! before anything is replaced.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use meta::FindOptions;
use meta::authorizations::{AuthStatus, AuthorizationFilter, NewAuthorization};
use meta::buckets::{BucketKind, NewBucket};
use serde_json::{Value, json};

use super::pipe::reader;
use super::{blocking, kv, manifest, require_operator, shard_id, storage_error};
use crate::error::{ApiError, ApiResult};
use crate::principal::Principal;
use crate::state::AppState;

/// `POST /api/v2/restore/kv`: replaces every resource with the backup's.
/// Answers an operator token of the restored store (made now: tokens are
/// kept only as digests, so the backup's own cannot be given back), with
/// which the CLI goes on to restore the shards.
pub(crate) async fn kv(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    require_operator(&p)?;
    let mut input = reader(body, &headers);
    let token = blocking(move || {
        let data_dir = state.storage.dir().to_path_buf();
        let staged = kv::read(&mut input, &data_dir)?;
        let ours = meta::secrets::SecretKey::open_or_create(&kv::key_path(&data_dir))?;
        // Checked and resealed on the staged copy, so a refusal changes nothing here.
        let (org_id, user_id) = {
            let restored = meta::Store::open(&staged.meta)?;
            if let Some(bytes) = &staged.key {
                let theirs = meta::secrets::SecretKey::from_bytes(bytes)?;
                restored.reseal(&theirs, &ours)?;
            }
            operator_of(&restored)?
        };
        let before = state.meta.list_buckets(&Default::default(), &FindOptions::all())?;
        state.meta.replace_with(&staged.meta)?;
        for b in before {
            state.storage.drop_bucket(b.id.get()).map_err(storage_error)?;
        }
        let made = state.meta.create_authorization(&NewAuthorization {
            org_id,
            user_id,
            description: "operator token made by a restore".into(),
            status: AuthStatus::Active,
            permissions: meta::auth::operator_permissions(),
            token: None,
        })?;
        Ok(made.token.unwrap_or_default())
    })
    .await?;
    if let Some(s) = state.scheduler.get() {
        s.wake();
    }
    Ok((StatusCode::OK, Json(json!({ "token": token }))).into_response())
}

/// The org and user of an operator token in `store`: a restored store must
/// have one, as 2.7 requires.
fn operator_of(store: &meta::Store) -> ApiResult<(meta::Id, Option<meta::Id>)> {
    store
        .list_authorizations(&AuthorizationFilter::default(), &FindOptions::all())?
        .into_iter()
        .find(|a| a.status == AuthStatus::Active && meta::auth::is_operator(&a.permissions))
        .map(|a| (a.org_id, a.user_id))
        .ok_or_else(|| ApiError::invalid("invalid backup without an operator token"))
}

/// `POST /api/v2/restore/sql`: oxiflux keeps every resource in the `kv`
/// part and its backups have no `sql` part; an empty one is accepted.
pub(crate) async fn sql(p: Principal, headers: HeaderMap, body: Body) -> ApiResult<StatusCode> {
    require_operator(&p)?;
    let mut input = reader(body, &headers);
    let mut first = [0u8; 1];
    let n = blocking(move || std::io::Read::read(&mut input, &mut first).map_err(|e| ApiError::invalid(e.to_string())))
        .await?;
    if n > 0 {
        return Err(ApiError::invalid(
            "oxiflux keeps no separate SQL store: its backups carry all metadata in the kv part, so there is no sql part to restore",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v2/restore/bucketMetadata`: a new bucket from a backup's
/// manifest, its shards numbered anew; answers the old → new numbers.
pub(crate) async fn bucket_metadata(State(state): State<AppState>, p: Principal, body: Body) -> ApiResult<Response> {
    require_operator(&p)?;
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .map_err(|e| ApiError::invalid(format!("failed to read the bucket manifest: {e}")))?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid(format!("failed to unmarshal json: {e}")))?;
    let posted = manifest::parse(&v)?;
    let bucket = state.meta.create_bucket(&NewBucket {
        org_id: posted.org_id,
        name: posted.name.clone(),
        description: posted.description.clone(),
        rp: String::new(),
        retention_seconds: posted.retention_ns / time::SECOND,
        shard_group_seconds: (posted.shard_group_ns > 0).then_some(posted.shard_group_ns / time::SECOND),
        schema_type: "implicit".into(),
        kind: BucketKind::User,
    })?;
    let mut mappings = Vec::new();
    for (old, start, duration) in &posted.shards {
        match state.meta.shard(bucket.id, *start, *duration) {
            Ok(s) => mappings.push(json!({ "oldId": old, "newId": s.id })),
            Err(e) => {
                let _ = state.meta.delete_bucket(bucket.id);
                return Err(e.into());
            }
        }
    }
    let answer = json!({ "id": bucket.id.to_string(), "name": bucket.name, "shardMappings": mappings });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /api/v2/restore/shards/{shardID}`: a shard's archive into its bucket.
pub(crate) async fn shard(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    require_operator(&p)?;
    let id = shard_id(&id)?;
    let shard = state.meta.find_shard(id)?.ok_or_else(|| ApiError::not_found(format!("shard {id} not found")))?;
    let mut input = reader(body, &headers);
    blocking(move || {
        state
            .storage
            .restore_shard(shard.bucket_id.get(), Some(shard.start), &mut input)
            .map(drop)
            .map_err(storage_error)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v2/restore/bucket/{bucketID}`: 2.0's protobuf form, which only
/// the 2.0.x CLI sends (and only to a server that says it is 2.0.x).
pub(crate) async fn bucket(p: Principal, Path(_): Path<String>) -> ApiResult<StatusCode> {
    require_operator(&p)?;
    Err(ApiError::invalid(
        "a bucket's storage metadata in 2.0's protobuf form is not accepted: restore with an influx CLI of 2.1 or later, which uses POST /api/v2/restore/bucketMetadata",
    ))
}
