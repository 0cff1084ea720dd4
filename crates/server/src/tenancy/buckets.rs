//! `/api/v2/buckets`: buckets with their retention rules, labels, members and owners.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::paging::{find_options, links};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::views;
use meta::auth::{Action, Resource, ResourceType};
use meta::buckets::{Bucket, BucketFilter, BucketUpdate, NewBucket};
use meta::{FindOptions, Id};

pub(crate) fn resource(b: &Bucket) -> Resource {
    Resource::one_in_org(ResourceType::Buckets, b.id, b.org_id)
}

/// The bucket a `bucket=` parameter names in an org: its ID or its name, as
/// 2.7's `queryBucket` reads it (an ID that is no bucket of the org is
/// tried as a name).
pub(crate) fn by_id_or_name(m: &meta::Store, org_id: Id, bucket: &str) -> meta::Result<Bucket> {
    if let Ok(id) = bucket.parse::<Id>()
        && let Ok(b) = m.find_bucket_by_id(id)
        && b.org_id == org_id
    {
        return Ok(b);
    }
    m.find_bucket_by_name(org_id, bucket)
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = find_options(&q)?;
    let org = crate::tenancy::orgs::from_query(&state, &q).await?;
    let filter =
        BucketFilter { id: q.id("id")?, org_id: org.as_ref().map(|o| o.id), name: q.get("name").map(str::to_owned) };
    let f = filter.clone();
    let all = state.meta(move |m| m.list_buckets(&f, &FindOptions::all())).await?;
    let visible: Vec<Bucket> = all.into_iter().filter(|b| p.can(Action::Read, &resource(b))).collect();
    let page = opts.apply(visible, |b| b.id);
    let ids: Vec<Id> = page.iter().map(|b| b.id).collect();
    let labels =
        state.meta(move |m| ids.iter().map(|id| m.labels_of("buckets", *id)).collect::<meta::Result<Vec<_>>>()).await?;
    let l = links(
        "/api/v2/buckets",
        &opts,
        &[
            ("org", q.get("org").map(str::to_owned)),
            ("orgID", q.get("orgID").map(str::to_owned)),
            ("name", filter.name),
            ("id", filter.id.map(|i| i.to_string())),
        ],
        page.len(),
    );
    let buckets: Vec<_> = page.iter().zip(&labels).map(|(b, l)| views::bucket(b, l)).collect();
    Ok(Json(json!({ "links": l, "buckets": buckets })))
}

#[derive(Deserialize)]
pub(crate) struct RetentionRule {
    #[serde(rename = "type", default)]
    _kind: Option<String>,
    #[serde(rename = "everySeconds")]
    every_seconds: Option<i64>,
    #[serde(rename = "shardGroupDurationSeconds")]
    shard_group_duration_seconds: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct PostBucket {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "retentionRules", default)]
    retention_rules: Vec<RetentionRule>,
    #[serde(default)]
    rp: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
}

fn one_rule(rules: &[RetentionRule]) -> ApiResult<Option<&RetentionRule>> {
    if rules.len() > 1 {
        return Err(ApiError::new(
            Code::Unprocessable,
            "buckets cannot have more than one retention rule at this time",
        ));
    }
    Ok(rules.first())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostBucket>,
) -> ApiResult<(StatusCode, Json<views::BucketView>)> {
    let org_id = match body.org_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_id(s)?,
        None => return Err(ApiError::invalid("organization id must be provided")),
    };
    let rule = one_rule(&body.retention_rules)?;
    match body.schema_type.as_deref() {
        None | Some("implicit") => {}
        Some("explicit") => {
            return Err(ApiError::invalid("explicit bucket schemas are not supported by InfluxDB OSS"));
        }
        Some(other) => return Err(ApiError::invalid(format!("invalid schema type {other:?}"))),
    }
    state.meta(move |m| m.find_org_by_id(org_id)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Buckets, org_id))?;
    let new = NewBucket {
        description: body.description,
        rp: body.rp,
        shard_group_seconds: rule.and_then(|r| r.shard_group_duration_seconds),
        ..NewBucket::user(org_id, &body.name, rule.and_then(|r| r.every_seconds).unwrap_or(0))
    };
    let owner = p.user_id;
    let bucket = state
        .meta(move |m| -> meta::Result<Bucket> {
            let b = m.create_bucket(&new)?;
            if let Some(uid) = owner {
                m.add_member(meta::members::ResourceKind::Bucket, b.id, uid, meta::members::Role::Owner)?;
            }
            Ok(b)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(views::bucket(&bucket, &[]))))
}

/// Loads a bucket, then checks `action` on it: a missing bucket is 404 before any 401.
pub(crate) async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Bucket> {
    let id = parse_id(id)?;
    let bucket = state.meta(move |m| m.find_bucket_by_id(id)).await?;
    p.require(action, resource(&bucket))?;
    Ok(bucket)
}

pub(crate) async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<views::BucketView>> {
    let b = authorized(&state, &p, &id, Action::Read).await?;
    let bid = b.id;
    let labels = state.meta(move |m| m.labels_of("buckets", bid)).await?;
    Ok(Json(views::bucket(&b, &labels)))
}

#[derive(Deserialize)]
pub(crate) struct PatchBucket {
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "retentionRules", default)]
    retention_rules: Vec<RetentionRule>,
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchBucket>,
) -> ApiResult<Json<views::BucketView>> {
    let rule = one_rule(&body.retention_rules)?;
    let update = BucketUpdate {
        name: body.name,
        description: body.description,
        retention_seconds: rule.map(|r| r.every_seconds.unwrap_or(0)),
        shard_group_seconds: rule.and_then(|r| r.shard_group_duration_seconds),
    };
    let b = authorized(&state, &p, &id, Action::Write).await?;
    let bid = b.id;
    let (b, labels) = state
        .meta(move |m| -> meta::Result<_> { Ok((m.update_bucket(bid, &update)?, m.labels_of("buckets", bid)?)) })
        .await?;
    Ok(Json(views::bucket(&b, &labels)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let b = authorized(&state, &p, &id, Action::Write).await?;
    crate::replication::remotes::forget_bucket(&state, b.id).await?;
    state.meta(move |m| m.delete_bucket(b.id)).await?;
    // Deleting a bucket deletes its data.
    let bid = b.id.get();
    state.storage(move |s| s.drop_bucket(bid).map_err(|e| ApiError::internal(e.to_string()))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Buckets have members and owners.
#[derive(Debug)]
pub(crate) struct Buckets;

impl crate::tenancy::resource::Resource for Buckets {
    const PATH: &'static str = "/api/v2/buckets";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Buckets {
    const TYPE: &'static str = "buckets";
}

impl crate::tenancy::members::HasMembers for Buckets {
    const KIND: meta::members::ResourceKind = meta::members::ResourceKind::Bucket;
}
