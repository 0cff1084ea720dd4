//! `GET /api/v2/backup/*`: the metadata (a `multipart/mixed` of the `kv`
//! and `buckets` parts), one shard's archive, and the `kv` part alone.

use std::io::Write;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;

use super::pipe::stream;
use super::{kv, manifest, require_operator, shard_id, storage_error};
use crate::error::{ApiError, ApiResult};
use crate::extract::accepts_gzip;
use crate::principal::Principal;
use crate::state::AppState;

fn io(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("writing the backup: {e}"))
}

/// `GET /api/v2/backup/metadata`.
pub(crate) async fn metadata(State(state): State<AppState>, p: Principal, headers: HeaderMap) -> ApiResult<Response> {
    require_operator(&p)?;
    let boundary = format!("{:032x}", rand::random::<u128>());
    let content_type = format!("multipart/mixed; boundary={boundary}");
    stream(content_type, accepts_gzip(&headers), move |out: &mut dyn Write| {
        // The bucket manifest first, so the kv snapshot numbers its shards too.
        let buckets = manifest::buckets(&state)?;
        let part = |out: &mut dyn Write, name: &str, ty: &str| {
            write!(
                out,
                "--{boundary}\r\nContent-Disposition: attachment; name=\"{name}\"\r\nContent-Type: {ty}\r\n\r\n"
            )
        };
        part(out, "kv", "application/octet-stream").map_err(io)?;
        kv::write(&state.meta, state.storage.dir(), out)?;
        write!(out, "\r\n").map_err(io)?;
        part(out, "buckets", "application/json; charset=utf-8").map_err(io)?;
        serde_json::to_writer(&mut *out, &buckets).map_err(|e| ApiError::internal(e.to_string()))?;
        write!(out, "\n\r\n--{boundary}--\r\n").map_err(io)?;
        Ok(())
    })
    .await
}

/// `GET /api/v2/backup/kv` (deprecated in 2.x): the `kv` part alone.
pub(crate) async fn kv(State(state): State<AppState>, p: Principal) -> ApiResult<Response> {
    require_operator(&p)?;
    stream("application/octet-stream".into(), false, move |out: &mut dyn Write| {
        kv::write(&state.meta, state.storage.dir(), out)
    })
    .await
}

/// `GET /api/v2/backup/shards/{shardID}`: the archive of one bucket's shard group.
pub(crate) async fn shard(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_operator(&p)?;
    let id = shard_id(&id)?;
    let since = match q.get("since").filter(|s| !s.is_empty()) {
        Some(s) => Some(
            time::rfc3339::parse(s).ok_or_else(|| ApiError::invalid(format!("since {s:?} is not an RFC 3339 time")))?,
        ),
        None => None,
    };
    let not_found = || ApiError::not_found(format!("shard {id} not found"));
    let shard = state.meta.find_shard(id)?.ok_or_else(not_found)?;
    if !state.storage.shard_groups(shard.bucket_id.get()).iter().any(|g| g.start == shard.start) {
        return Err(not_found());
    }
    stream("application/octet-stream".into(), accepts_gzip(&headers), move |out: &mut dyn Write| {
        state.storage.backup_shard(shard.bucket_id.get(), shard.start, since, out).map(drop).map_err(storage_error)
    })
    .await
}
