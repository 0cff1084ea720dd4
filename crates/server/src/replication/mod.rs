//! Replication: remote connections and the replications that send a
//! bucket's writes on to them, and the senders started for each at start-up.
//! (A write is queued for its replications by the one write path, `ingest`.)

pub(crate) mod remotes;

use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;
use meta::replications::Replication;

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        ("/api/v2/remotes".into(), get(remotes::list_remotes).post(remotes::create_remote)),
        (
            "/api/v2/remotes/{id}".into(),
            get(remotes::get_remote).patch(remotes::patch_remote).delete(remotes::delete_remote),
        ),
        ("/api/v2/replications".into(), get(remotes::list_replications).post(remotes::create_replication)),
        (
            "/api/v2/replications/{id}".into(),
            get(remotes::get_replication).patch(remotes::patch_replication).delete(remotes::delete_replication),
        ),
        ("/api/v2/replications/{id}/validate".into(), post(remotes::validate_replication)),
    ]
}

/// What a replication's sender needs: the remote's address, org and token.
pub(crate) fn target(
    meta: &meta::Store,
    key: &meta::secrets::SecretKey,
    r: &Replication,
) -> meta::Result<::replication::Target> {
    let remote = meta.find_remote_by_id(r.remote_id)?;
    let token = meta.remote_token(r.remote_id, key)?;
    Ok(::replication::Target {
        name: r.name.clone(),
        remote_url: remote.remote_url,
        token,
        remote_org_id: remote.remote_org_id,
        remote_bucket: r.remote_bucket_id.clone().or_else(|| r.remote_bucket_name.clone()).unwrap_or_default(),
        allow_insecure_tls: remote.allow_insecure_tls,
        drop_non_retryable: r.drop_non_retryable_data,
        max_age_secs: r.max_age_seconds,
        max_queue_bytes: u64::try_from(r.max_queue_size_bytes).unwrap_or(0),
    })
}

impl AppState {
    /// Starts a sender for every replication in the store (at start-up, on the runtime).
    pub fn start_replications(&self) -> Result<(), String> {
        let Some(reps) = &self.replications else { return Ok(()) };
        let key = self.secret_key.clone().ok_or("no secret key to open remote tokens")?;
        let all = self
            .meta
            .list_replications(&meta::replications::ReplicationFilter::default())
            .map_err(|e| e.to_string())?;
        for r in all {
            let t = target(&self.meta, &key, &r).map_err(|e| format!("replication {}: {e}", r.id))?;
            reps.start(r.id.get(), r.local_bucket_id.get(), t).map_err(|e| format!("replication {}: {e}", r.id))?;
        }
        Ok(())
    }
}
