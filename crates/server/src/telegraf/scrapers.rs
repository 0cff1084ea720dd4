//! `/api/v2/scrapers`: Prometheus scraper targets, with labels, members and
//! owners (the scraping itself is in `scraping`).

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
use meta::documents::{Document, Kind, NewDocument};
use time::now_ns;

// ---- scrapers ----

fn scraper_resource(d: &Document) -> Resource {
    Resource::one_in_org(ResourceType::Scrapers, d.id, d.org_id)
}

async fn scraper_view(state: &AppState, d: &Document) -> ApiResult<Value> {
    let id = d.id;
    let org = d.org_id;
    let bucket_id: Option<Id> = d.body["bucketID"].as_str().and_then(|b| b.parse().ok());
    let (org_name, bucket_name, labels) = state
        .meta(move |m| -> meta::Result<_> {
            let org = m.find_org_by_id(org).map(|o| o.name).unwrap_or_default();
            let bucket = bucket_id.and_then(|b| m.find_bucket_by_id(b).ok()).map(|b| b.name).unwrap_or_default();
            Ok((org, bucket, m.labels_of("scrapers", id)?))
        })
        .await?;
    Ok(json!({
        "id": id.to_string(),
        "name": d.name,
        "type": d.body["type"].as_str().unwrap_or("prometheus"),
        "url": d.body["url"].as_str().unwrap_or(""),
        "orgID": org.to_string(),
        "bucketID": d.body["bucketID"].as_str().unwrap_or(""),
        "allowInsecure": d.body["allowInsecure"].as_bool().unwrap_or(false),
        "org": org_name,
        "bucket": bucket_name,
        "labels": labels.iter().map(crate::tenancy::views::label).collect::<Vec<_>>(),
        "links": {
            "self": format!("/api/v2/scrapers/{id}"),
            "labels": format!("/api/v2/scrapers/{id}/labels"),
            "members": format!("/api/v2/scrapers/{id}/members"),
            "owners": format!("/api/v2/scrapers/{id}/owners"),
            "organization": format!("/api/v2/orgs/{org}"),
            "bucket": d.body["bucketID"].as_str().map(|b| format!("/api/v2/buckets/{b}")).unwrap_or_default(),
        },
    }))
}

async fn scraper_authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Document> {
    let id = parse_id(id)?;
    let d = state.meta(move |m| m.find_document(Kind::Scraper, id)).await?;
    p.require(action, scraper_resource(&d))?;
    Ok(d)
}

pub(crate) async fn list_scrapers(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let org = crate::tenancy::orgs::from_query(&state, &q).await?.map(|o| o.id);
    let all = state.meta(move |m| m.list_documents(Kind::Scraper, org, None)).await?;
    let name = q.get("name").map(str::to_owned);
    let id = q.id("id")?;
    let mut out = Vec::new();
    for d in all
        .iter()
        .filter(|d| p.can(Action::Read, &scraper_resource(d)))
        .filter(|d| name.as_ref().is_none_or(|n| *n == d.name) && id.is_none_or(|i| i == d.id))
    {
        out.push(scraper_view(&state, d).await?);
    }
    Ok(Json(json!({ "configurations": out })))
}

#[derive(Deserialize)]
pub(crate) struct ScraperBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    #[serde(rename = "bucketID")]
    bucket_id: Option<String>,
    #[serde(rename = "allowInsecure")]
    allow_insecure: Option<bool>,
}

/// A scraper target as stored, checked: a prometheus target, an http(s) URL,
/// a bucket of its org.
async fn scraper_body(state: &AppState, org: Id, b: &ScraperBody, old: Option<&Value>) -> ApiResult<Value> {
    let pick = |v: &Option<String>, k: &str| v.clone().or_else(|| old.and_then(|o| o[k].as_str().map(str::to_owned)));
    let kind = pick(&b.kind, "type").unwrap_or_else(|| "prometheus".into());
    if kind != "prometheus" {
        return Err(ApiError::invalid(format!("unsupported scraper type {kind:?}: only prometheus")));
    }
    let url = pick(&b.url, "url").unwrap_or_default();
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => return Err(ApiError::invalid(format!("invalid url {url:?}"))),
    }
    let bucket: Id = pick(&b.bucket_id, "bucketID")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::invalid("invalid bucket ID"))?;
    let found = state.meta(move |m| m.find_bucket_by_id(bucket)).await?;
    if found.org_id != org {
        return Err(ApiError::invalid("the bucket belongs to another organization"));
    }
    let insecure = b.allow_insecure.or_else(|| old.and_then(|o| o["allowInsecure"].as_bool())).unwrap_or(false);
    Ok(json!({ "type": kind, "url": url, "bucketID": bucket.to_string(), "allowInsecure": insecure }))
}

pub(crate) async fn create_scraper(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(b): JsonBody<ScraperBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org: Id =
        b.org_id.as_deref().and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("invalid organization ID"))?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Scrapers, org))?;
    let body = scraper_body(&state, org, &b, None).await?;
    let bucket: Id =
        body["bucketID"].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("invalid bucket ID"))?;
    p.require(Action::Write, Resource::one_in_org(ResourceType::Buckets, bucket, org))?;
    let new = NewDocument {
        kind: Kind::Scraper,
        org_id: org,
        parent_id: None,
        name: b.name.unwrap_or_default(),
        body,
        owner_id: p.user_id,
        unique_name: false,
        now: now_ns(),
    };
    let d = state.meta(move |m| m.create_document(&new)).await?;
    Ok((StatusCode::CREATED, Json(scraper_view(&state, &d).await?)))
}

pub(crate) async fn get_scraper(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = scraper_authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(scraper_view(&state, &d).await?))
}

pub(crate) async fn patch_scraper(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ScraperBody>,
) -> ApiResult<Json<Value>> {
    let d = scraper_authorized(&state, &p, &id, Action::Write).await?;
    let body = scraper_body(&state, d.org_id, &b, Some(&d.body)).await?;
    let name = b.name.unwrap_or_else(|| d.name.clone());
    let did = d.id;
    let updated = state.meta(move |m| m.update_document(Kind::Scraper, did, &name, &body, false, now_ns())).await?;
    Ok(Json(scraper_view(&state, &updated).await?))
}

pub(crate) async fn delete_scraper(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = scraper_authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_document(Kind::Scraper, d.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Scraper targets have labels, members and owners.
#[derive(Debug)]
pub(crate) struct Scrapers;

impl crate::tenancy::resource::Resource for Scrapers {
    const PATH: &'static str = "/api/v2/scrapers";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(scraper_authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Scrapers {
    const TYPE: &'static str = "scrapers";
}

impl crate::tenancy::members::HasMembers for Scrapers {
    const KIND: meta::members::ResourceKind = meta::members::ResourceKind::Scraper;
}
