//! `POST /api/v2/delete`: delete points by time range and predicate.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{JsonBody, QueryMap};
use crate::principal::Principal;
use crate::state::AppState;
use meta::auth::{Action, Resource, ResourceType};
use storage::DeletePredicate;

#[derive(Deserialize)]
pub(crate) struct DeleteRequest {
    #[serde(default)]
    start: String,
    #[serde(default)]
    stop: String,
    #[serde(default)]
    predicate: String,
}

fn parse_time(s: &str, field: &str, example: &str) -> ApiResult<i64> {
    time::rfc3339::parse(s).ok_or_else(|| {
        ApiError::invalid(format!(
            "invalid RFC3339Nano for field {field}, please format your time with RFC3339Nano format, example: {example}"
        ))
    })
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
    JsonBody(req): JsonBody<DeleteRequest>,
) -> ApiResult<StatusCode> {
    let start = parse_time(&req.start, "start", "2009-01-02T23:00:00Z")?;
    let stop = parse_time(&req.stop, "stop", "2009-01-01T23:00:00Z")?;
    if stop < start {
        return Err(ApiError::invalid("invalid request; stop time must not be before start time"));
    }
    let predicate = DeletePredicate::parse(&req.predicate).map_err(|e| {
        if e.not_implemented {
            ApiError::new(Code::NotImplemented, e.message)
        } else {
            ApiError::invalid(format!("invalid request; error parsing predicate: {}", e.message))
        }
    })?;
    let org = crate::tenancy::orgs::from_query(&state, &q)
        .await?
        .ok_or_else(|| ApiError::invalid("Please provide either orgID or org"))?;
    let org_id = org.id;
    let bucket_id = q.id("bucketID")?;
    let bucket_name = q.get("bucket").map(str::to_owned);
    let bucket = state
        .meta(move |m| -> ApiResult<meta::buckets::Bucket> {
            match (bucket_id, bucket_name) {
                (Some(id), _) => {
                    let b = m.find_bucket_by_id(id)?;
                    if b.org_id != org_id {
                        return Err(ApiError::not_found("bucket not found"));
                    }
                    Ok(b)
                }
                (None, Some(name)) => Ok(crate::tenancy::buckets::by_id_or_name(m, org_id, &name)?),
                (None, None) => Err(ApiError::invalid("Please provide either bucketID or bucket")),
            }
        })
        .await?;
    if !p.can(Action::Write, &Resource::one_in_org(ResourceType::Buckets, bucket.id, bucket.org_id)) {
        return Err(ApiError::forbidden("insufficient permissions to delete"));
    }
    let bid = bucket.id.get();
    state
        .storage(move |s| {
            s.delete(bid, start, stop, &predicate).map_err(|e| ApiError::internal(format!("unable to delete: {e}")))
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
