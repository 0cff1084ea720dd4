//! The `buckets` part: every bucket with its one retention policy
//! (`autogen`, as 2.x writes it) and the shard groups that hold data, each
//! with its one shard, in 2.7's `BucketMetadataManifest` shape.

use std::collections::HashMap;

use meta::{FindOptions, Id};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn rfc3339(ns: i64) -> String {
    time::rfc3339::format(ns, time::rfc3339::Fraction::Si)
}

/// The manifest of every bucket; numbers each shard group that has none yet.
pub(super) fn buckets(state: &AppState) -> ApiResult<Value> {
    let orgs: HashMap<Id, String> =
        state.meta.list_orgs(&Default::default(), &FindOptions::all())?.into_iter().map(|o| (o.id, o.name)).collect();
    let mut out = Vec::new();
    for b in state.meta.list_buckets(&Default::default(), &FindOptions::all())? {
        let mut groups = Vec::new();
        for g in state.storage.shard_groups(b.id.get()) {
            let shard = state.meta.shard(b.id, g.start, g.duration)?;
            groups.push(json!({
                "id": shard.id,
                "startTime": rfc3339(g.start),
                "endTime": rfc3339(g.start.saturating_add(g.duration)),
                "shards": [{ "id": shard.id, "shardOwners": [] }],
            }));
        }
        let mut entry = json!({
            "organizationID": b.org_id.to_string(),
            "organizationName": orgs.get(&b.org_id).cloned().unwrap_or_default(),
            "bucketID": b.id.to_string(),
            "bucketName": b.name,
            "defaultRetentionPolicy": "autogen",
            "retentionPolicies": [{
                "name": "autogen",
                "replicaN": 1,
                "duration": b.retention_seconds.saturating_mul(time::SECOND),
                "shardGroupDuration": b.shard_group_seconds.saturating_mul(time::SECOND),
                "shardGroups": groups,
                "subscriptions": [],
            }],
        });
        if !b.description.is_empty() {
            entry["description"] = json!(b.description);
        }
        out.push(entry);
    }
    Ok(Value::Array(out))
}

/// A posted bucket manifest, as `POST /restore/bucketMetadata` takes it.
#[derive(Debug)]
pub(super) struct Posted {
    pub(super) org_id: Id,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) retention_ns: i64,
    pub(super) shard_group_ns: i64,
    /// Each shard's old ID with its group's window (start, duration).
    pub(super) shards: Vec<(u64, i64, i64)>,
}

pub(super) fn parse(v: &Value) -> ApiResult<Posted> {
    let bad = |why: &str| ApiError::invalid(format!("failed to unmarshal json: {why}"));
    let text = |k: &str| v.get(k).and_then(Value::as_str).ok_or_else(|| bad(&format!("{k} must be a string")));
    let org_id: Id = text("organizationID")?.parse().map_err(|_| bad("organizationID is not a valid ID"))?;
    let name = text("bucketName")?.to_owned();
    let description = v.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
    let rps =
        v.get("retentionPolicies").and_then(Value::as_array).ok_or_else(|| bad("retentionPolicies must be a list"))?;
    let [rp] = rps.as_slice() else {
        return Err(ApiError::invalid(format!(
            "bucket must have 1 retention policy; attempting to restore {} retention policies",
            rps.len()
        )));
    };
    let int = |k: &str| rp.get(k).and_then(Value::as_i64).ok_or_else(|| bad(&format!("{k} must be an integer")));
    let (retention_ns, shard_group_ns) = (int("duration")?, int("shardGroupDuration")?);
    if retention_ns < 0 || shard_group_ns < 0 {
        return Err(bad("durations must not be negative"));
    }
    let mut shards = Vec::new();
    for g in rp.get("shardGroups").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let time = |k: &str| {
            let s = g.get(k).and_then(Value::as_str).ok_or_else(|| bad(&format!("shard group {k} must be a time")))?;
            time::rfc3339::parse(s).ok_or_else(|| bad(&format!("shard group {k} {s:?} is not an RFC 3339 time")))
        };
        let (start, end) = (time("startTime")?, time("endTime")?);
        if g.get("deletedAt").is_some_and(|d| !d.is_null()) {
            continue;
        }
        for s in g.get("shards").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            let id = s.get("id").and_then(Value::as_u64).ok_or_else(|| bad("a shard id must be a number"))?;
            shards.push((id, start, end.saturating_sub(start)));
        }
    }
    Ok(Posted { org_id, name, description, retention_ns, shard_group_ns, shards })
}
