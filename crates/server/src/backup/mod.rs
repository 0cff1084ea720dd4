//! Backup and restore over InfluxDB 2.x's wire protocol, so the 2.x `influx
//! backup` / `influx restore` CLI drives them, carrying oxiflux's own
//! content: the `kv` part is a tar of the metadata store (a consistent
//! SQLite snapshot) and the key its secrets are sealed with; a "shard" is one
//! bucket's shard group, its archive the storage engine's (Parquet files and
//! a checksummed manifest). There is no separate SQL store, so a backup has
//! no `sql` part. Every operation needs an operator token, as in 2.x.

mod kv;
mod manifest;
mod pipe;
mod restore;
mod take;

use axum::routing::{MethodRouter, get, post};
use meta::auth::operator_permissions;

use crate::error::{ApiError, ApiResult};
use crate::principal::Principal;
use crate::state::AppState;

pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        ("/api/v2/backup/kv".into(), get(take::kv)),
        ("/api/v2/backup/metadata".into(), get(take::metadata)),
        ("/api/v2/backup/shards/{shardID}".into(), get(take::shard)),
        ("/api/v2/restore/kv".into(), post(restore::kv)),
        ("/api/v2/restore/sql".into(), post(restore::sql)),
        ("/api/v2/restore/bucketMetadata".into(), post(restore::bucket_metadata)),
        ("/api/v2/restore/shards/{shardID}".into(), post(restore::shard)),
        ("/api/v2/restore/bucket/{bucketID}".into(), post(restore::bucket)),
    ]
}

/// Fails with 2.7's 401 naming the first operator permission the caller lacks.
fn require_operator(p: &Principal) -> ApiResult<()> {
    for perm in operator_permissions() {
        p.require(perm.action, perm.resource)?;
    }
    Ok(())
}

/// A shard ID as the path gives it: a decimal number.
fn shard_id(text: &str) -> ApiResult<u64> {
    text.parse().map_err(|_| ApiError::invalid(format!("shard ID {text:?} is not a number")))
}

fn storage_error(e: storage::Error) -> ApiError {
    match e {
        storage::Error::Invalid(m) => ApiError::invalid(m),
        other => ApiError::internal(other.to_string()),
    }
}

/// Runs blocking work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(e.to_string()))?
}
