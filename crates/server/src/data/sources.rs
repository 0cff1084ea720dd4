//! `/api/v2/sources`: this server (`self`) and other InfluxDB servers (`v1`,
//! `v2`); their buckets, and whether they are healthy, asked for real.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::sources::{Source, SourceSecrets};

/// A source that does not answer within this is unhealthy.
const TIMEOUT: Duration = Duration::from_secs(10);

fn resource(s: &Source) -> Resource {
    Resource::one_in_org(ResourceType::Sources, s.id, s.org_id)
}

fn key(state: &AppState) -> ApiResult<std::sync::Arc<meta::secrets::SecretKey>> {
    state.secret_key.clone().ok_or_else(|| ApiError::internal("no secret key on this server"))
}

/// A source as InfluxDB shows it: secrets left out.
fn view(s: &Source) -> Value {
    let id = s.id;
    let mut v = json!({
        "id": id.to_string(),
        "orgID": s.org_id.to_string(),
        "default": s.default,
        "name": s.name,
        "type": s.kind,
        "telegraf": s.telegraf,
        "defaultRP": s.default_rp,
        "languages": if s.kind == "v1" { json!(["influxql"]) } else { json!(["flux", "influxql"]) },
        "links": {
            "self": format!("/api/v2/sources/{id}"),
            "query": format!("/api/v2/sources/{id}/query"),
            "buckets": format!("/api/v2/sources/{id}/buckets"),
            "health": format!("/api/v2/sources/{id}/health"),
        },
    });
    // The server's own source has no address (oss.yml's `url` is a URI when given).
    if !s.url.is_empty() {
        v["url"] = json!(s.url);
    }
    if s.insecure_skip_verify {
        v["insecureSkipVerify"] = json!(true);
    }
    if !s.username.is_empty() {
        v["username"] = json!(s.username);
    }
    if !s.meta_url.is_empty() {
        v["metaUrl"] = json!(s.meta_url);
    }
    v
}

async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Source> {
    let id = parse_id(id)?;
    let s = state.meta(move |m| m.find_source_by_id(id)).await?;
    p.require(action, resource(&s))?;
    Ok(s)
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    let all = state.meta(|m| m.list_sources()).await?;
    let visible: Vec<Value> = all.iter().filter(|s| p.can(Action::Read, &resource(s))).map(view).collect();
    Ok(Json(json!({ "links": { "self": "/api/v2/sources" }, "sources": visible })))
}

#[derive(Deserialize, Default)]
pub(crate) struct SourceBody {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    default: Option<bool>,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    #[serde(rename = "insecureSkipVerify")]
    insecure_skip_verify: Option<bool>,
    telegraf: Option<String>,
    token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(rename = "sharedSecret")]
    shared_secret: Option<String>,
    #[serde(rename = "metaUrl")]
    meta_url: Option<String>,
    #[serde(rename = "defaultRP")]
    default_rp: Option<String>,
}

fn check(s: &Source) -> ApiResult<()> {
    if !matches!(s.kind.as_str(), "v1" | "v2" | "self") {
        return Err(ApiError::invalid(format!("invalid source type {:?}: use v1, v2 or self", s.kind)));
    }
    if s.kind != "self" {
        match reqwest::Url::parse(&s.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => return Err(ApiError::invalid(format!("source url must be an http or https URL, got {:?}", s.url))),
        }
    }
    Ok(())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<SourceBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org: Id = body
        .org_id
        .as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::invalid("invalid or missing orgID"))?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Sources, org))?;
    let source = Source {
        id: Id::generate(),
        org_id: org,
        default: body.default.unwrap_or(false),
        name: body.name.unwrap_or_default(),
        kind: body.kind.unwrap_or_else(|| "v2".into()),
        url: body.url.unwrap_or_default(),
        insecure_skip_verify: body.insecure_skip_verify.unwrap_or(false),
        telegraf: body.telegraf.unwrap_or_default(),
        username: body.username.unwrap_or_default(),
        meta_url: body.meta_url.unwrap_or_default(),
        default_rp: body.default_rp.unwrap_or_default(),
    };
    check(&source)?;
    let secrets = SourceSecrets {
        token: body.token.unwrap_or_default(),
        password: body.password.unwrap_or_default(),
        shared_secret: body.shared_secret.unwrap_or_default(),
    };
    let key = key(&state)?;
    let made = state.meta(move |m| m.create_source(&source, &secrets, &key)).await?;
    Ok((StatusCode::CREATED, Json(view(&made))))
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&authorized(&state, &p, &id, Action::Read).await?)))
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SourceBody>,
) -> ApiResult<Json<Value>> {
    let mut s = authorized(&state, &p, &id, Action::Write).await?;
    let key = key(&state)?;
    let sid = s.id;
    let k = std::sync::Arc::clone(&key);
    let mut secrets = state.meta(move |m| m.source_secrets(sid, &k)).await?;
    let mut secrets_changed = false;
    for (new, old) in [
        (body.token, &mut secrets.token),
        (body.password, &mut secrets.password),
        (body.shared_secret, &mut secrets.shared_secret),
    ] {
        if let Some(v) = new {
            *old = v;
            secrets_changed = true;
        }
    }
    if let Some(v) = body.name {
        s.name = v;
    }
    if let Some(v) = body.kind {
        s.kind = v;
    }
    if let Some(v) = body.url {
        s.url = v;
    }
    if let Some(v) = body.insecure_skip_verify {
        s.insecure_skip_verify = v;
    }
    if let Some(v) = body.telegraf {
        s.telegraf = v;
    }
    if let Some(v) = body.username {
        s.username = v;
    }
    if let Some(v) = body.meta_url {
        s.meta_url = v;
    }
    if let Some(v) = body.default_rp {
        s.default_rp = v;
    }
    if let Some(v) = body.default {
        s.default = v;
    }
    check(&s)?;
    let updated = state.meta(move |m| m.update_source(&s, secrets_changed.then_some(&secrets), &key)).await?;
    Ok(Json(view(&updated)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let s = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_source(s.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn client(s: &Source) -> ApiResult<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .danger_accept_invalid_certs(s.insecure_skip_verify)
        .build()
        .map_err(|e| ApiError::internal(format!("cannot make an HTTP client: {e}")))
}

fn base(s: &Source) -> String {
    s.url.trim_end_matches('/').to_owned()
}

/// What went wrong reaching a source, with its causes.
fn describe(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// `GET /sources/{id}/health`: `pass`, or `fail` with the reason, both 200:
/// the check itself worked (2.7 answers 200 and does not look; a 5xx would
/// say this server is failing, not the source).
pub(crate) async fn health(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Response> {
    let s = authorized(&state, &p, &id, Action::Read).await?;
    let key = key(&state)?;
    let sid = s.id;
    let secrets = state.meta(move |m| m.source_secrets(sid, &key)).await?;
    let outcome: Result<String, String> = match s.kind.as_str() {
        "self" => Ok("ready for queries and writes".into()),
        kind => {
            let http = client(&s)?;
            let (url, expect) =
                if kind == "v1" { (format!("{}/ping", base(&s)), 204) } else { (format!("{}/health", base(&s)), 200) };
            let mut req = http.get(&url);
            if kind == "v2" && !secrets.token.is_empty() {
                req = req.header("Authorization", format!("Token {}", secrets.token));
            }
            match req.send().await {
                Ok(r) if r.status().as_u16() == expect => Ok(format!("{url} answered {expect}")),
                Ok(r) => Err(format!("{url} answered {}", r.status().as_u16())),
                Err(e) => Err(format!("cannot reach {url}: {}", describe(&e))),
            }
        }
    };
    let (code, status, message) = match outcome {
        Ok(m) => (StatusCode::OK, "pass", m),
        Err(m) => (StatusCode::OK, "fail", m),
    };
    Ok((code, Json(json!({ "name": s.name, "status": status, "message": message }))).into_response())
}

/// A bucket in the shape `GET /api/v2/buckets` lists them.
fn bucket_view(id: &str, org: &str, name: &str, rp: Option<&str>, every_seconds: i64) -> Value {
    let mut v = json!({
        "id": id,
        "orgID": org,
        "type": "user",
        "name": name,
        "retentionRules": if every_seconds > 0 { json!([{"type": "expire", "everySeconds": every_seconds, "shardGroupDurationSeconds": 0}]) } else { json!([]) },
        "links": { "self": format!("/api/v2/buckets/{id}") },
        "labels": [],
    });
    if let Some(rp) = rp {
        v["rp"] = json!(rp);
    }
    v
}

/// A 1.x duration (`168h0m0s`, `0s` = forever) in seconds.
fn v1_duration(s: &str) -> i64 {
    time::duration::parse_go(s).map_or(0, |ns| ns / time::SECOND)
}

/// `GET /sources/{id}/buckets`: this server's buckets for `self`, the
/// remote's over its API for `v2`, databases and retention policies over
/// `/query` for `v1`.
pub(crate) async fn buckets(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    q: QueryMap,
) -> ApiResult<Json<Value>> {
    let s = authorized(&state, &p, &id, Action::Read).await?;
    // The source as configured cannot be read: 422, as a request this server
    // cannot carry out (a 5xx would say this server is failing).
    let unreachable = |e: String| ApiError::new(crate::error::Code::Unprocessable, e);
    let list: Vec<Value> = match s.kind.as_str() {
        "self" => {
            let org = crate::tenancy::orgs::from_query(&state, &q).await?;
            let filter = meta::buckets::BucketFilter { org_id: org.map(|o| o.id), ..Default::default() };
            let all = state.meta(move |m| m.list_buckets(&filter, &meta::FindOptions::all())).await?;
            all.iter()
                .filter(|b| p.can(Action::Read, &crate::tenancy::buckets::resource(b)))
                .map(|b| bucket_view(&b.id.to_string(), &b.org_id.to_string(), &b.name, None, b.retention_seconds))
                .collect()
        }
        kind => {
            let key = key(&state)?;
            let sid = s.id;
            let secrets = state.meta(move |m| m.source_secrets(sid, &key)).await?;
            let http = client(&s)?;
            if kind == "v2" {
                let mut req = http.get(format!("{}/api/v2/buckets", base(&s))).query(&[("limit", "100")]);
                if let Some(org) = q.get("org") {
                    req = req.query(&[("org", org)]);
                }
                let resp = req
                    .header("Authorization", format!("Token {}", secrets.token))
                    .send()
                    .await
                    .map_err(|e| unreachable(format!("cannot reach {}: {}", s.url, describe(&e))))?;
                let code = resp.status().as_u16();
                let body: Value =
                    resp.json().await.map_err(|e| unreachable(format!("{} answered with bad JSON: {e}", s.url)))?;
                if code != 200 {
                    return Err(unreachable(format!(
                        "{} answered {code}: {}",
                        s.url,
                        body["message"].as_str().unwrap_or("")
                    )));
                }
                body["buckets"].as_array().cloned().unwrap_or_default()
            } else {
                let v1 = |query: String| {
                    let mut req = http.get(format!("{}/query", base(&s))).query(&[("q", query.as_str())]);
                    if !s.username.is_empty() {
                        req = req.query(&[("u", s.username.as_str()), ("p", secrets.password.as_str())]);
                    }
                    req.send()
                };
                let rows = |body: &Value| -> Vec<Vec<Value>> {
                    body["results"][0]["series"][0]["values"]
                        .as_array()
                        .map_or_else(Vec::new, |vs| vs.iter().filter_map(|r| r.as_array().cloned()).collect())
                };
                let dbs: Value = v1("SHOW DATABASES".into())
                    .await
                    .map_err(|e| unreachable(format!("cannot reach {}: {}", s.url, describe(&e))))?
                    .json()
                    .await
                    .map_err(|e| unreachable(format!("{} answered with bad JSON: {e}", s.url)))?;
                let mut out = Vec::new();
                for db in rows(&dbs).iter().filter_map(|r| r.first().and_then(Value::as_str).map(str::to_owned)) {
                    let rps: Value = v1(format!("SHOW RETENTION POLICIES ON \"{}\"", db.replace('"', "\\\"")))
                        .await
                        .map_err(|e| unreachable(format!("cannot reach {}: {}", s.url, describe(&e))))?
                        .json()
                        .await
                        .map_err(|e| unreachable(format!("{} answered with bad JSON: {e}", s.url)))?;
                    for rp in rows(&rps) {
                        let name = rp.first().and_then(Value::as_str).unwrap_or_default();
                        let duration = rp.get(1).and_then(Value::as_str).map_or(0, v1_duration);
                        out.push(bucket_view("", &s.org_id.to_string(), &db, Some(name), duration));
                    }
                }
                out
            }
        }
    };
    Ok(Json(json!({ "links": { "self": format!("/api/v2/sources/{}/buckets", s.id) }, "buckets": list })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn v1_durations_read_as_seconds() {
        assert_eq!(super::v1_duration("168h0m0s"), 604_800);
        assert_eq!(super::v1_duration("0s"), 0);
        assert_eq!(super::v1_duration("1h30m"), 5400);
    }
}
