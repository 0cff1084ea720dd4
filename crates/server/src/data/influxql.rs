//! `/query`: InfluxQL for v1 clients. The query comes as `q` in the query
//! string or a form body (or a raw `application/vnd.influxql` body); `db` and
//! `rp` pick the bucket through DBRP mappings; the answer is v1 JSON.
//!
//! A statement's error fails only that statement: it is written inside its
//! result (`{"results":[{"statement_id":0,"error":"..."}]}`, with 200), as 1.x
//! answers. An error that fails the whole request (a query that does not
//! parse, bad `params`) is answered with the status of its kind, chosen in
//! `error.rs` with every other kind.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{ApiError, Code};
use crate::extract::QueryMap;
use crate::principal::Principal;
use crate::state::AppState;
use meta::auth::{Action, Resource, ResourceType};

/// What a v1 query reads: the caller's org's mappings and buckets, and storage.
struct Context {
    meta: Arc<meta::Store>,
    cache: Arc<crate::state::ReadCache>,
    storage: Arc<storage::Storage>,
    org: meta::Id,
    principal: Principal,
    now: i64,
}

impl Context {
    fn can_read(&self, bucket: meta::Id) -> bool {
        self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, bucket, self.org))
    }

    fn mappings(&self, database: Option<&str>) -> influxql::Result<Vec<meta::dbrps::Dbrp>> {
        let filter = meta::dbrps::DbrpFilter {
            org_id: Some(self.org),
            database: database.map(str::to_owned),
            ..Default::default()
        };
        let all = self.meta.list_dbrps(&filter).map_err(meta_failed)?;
        Ok(all.into_iter().filter(|m| self.can_read(m.bucket_id)).collect())
    }
}

/// The metadata store failed a DBRP lookup.
fn meta_failed(e: meta::Error) -> influxql::Error {
    influxql::Error::Internal(e.to_string())
}

/// A database that no mapping gives a default retention policy.
fn no_default_policy(database: &str) -> influxql::Error {
    influxql::Error::NotFound(format!("default retention policy not set for: {database}"))
}

impl influxql::Context for Context {
    fn databases(&self) -> influxql::Result<Vec<String>> {
        let mut seen = Vec::new();
        for m in self.mappings(None)? {
            if !seen.contains(&m.database) {
                seen.push(m.database);
            }
        }
        Ok(seen)
    }

    fn retention_policies(&self, database: &str) -> influxql::Result<Vec<influxql::RetentionPolicy>> {
        // As 2.x answers: every mapping of the database, with a fixed duration and shard duration.
        Ok(self
            .mappings(Some(database))?
            .into_iter()
            .map(|m| influxql::RetentionPolicy {
                name: m.retention_policy,
                duration_ns: 0,
                shard_group_duration_ns: 168 * 3_600_000_000_000,
                default: m.default,
            })
            .collect())
    }

    fn bucket(&self, database: &str, retention_policy: &str) -> influxql::Result<u64> {
        let rp = (!retention_policy.is_empty()).then_some(retention_policy);
        let key = (self.org, database.to_owned(), retention_policy.to_owned());
        let generation = self.meta.generation();
        let cached = generation.and_then(|g| self.cache.dbrp(g, &key));
        let mapping = match cached {
            Some(m) => m,
            None => {
                let m = self.meta.resolve_dbrp(self.org, database, rp).map_err(meta_failed)?;
                if let Some(g) = generation {
                    self.cache.keep_dbrp(g, key, m.clone());
                }
                m
            }
        };
        match mapping {
            Some(m) if self.can_read(m.bucket_id) => Ok(m.bucket_id.get()),
            Some(_) => {
                Err(influxql::Error::Unauthorized(format!("insufficient permissions to read database {database:?}")))
            }
            None if rp.is_none() => Err(no_default_policy(database)),
            None => Err(influxql::Error::NotFound(format!("retention policy not found: {retention_policy}"))),
        }
    }

    fn storage(&self) -> &dyn storage::ReadApi {
        self.storage.as_ref()
    }

    fn delete(
        &self,
        database: &str,
        start: i64,
        stop: i64,
        predicate: &storage::DeletePredicate,
    ) -> influxql::Result<()> {
        let mapping = self
            .meta
            .resolve_dbrp(self.org, database, None)
            .map_err(meta_failed)?
            .ok_or_else(|| no_default_policy(database))?;
        let writable = Resource::one_in_org(ResourceType::Buckets, mapping.bucket_id, self.org);
        if !self.principal.can(Action::Write, &writable) {
            return Err(influxql::Error::Unauthorized("insufficient permissions".into()));
        }
        self.storage
            .delete(mapping.bucket_id.get(), start, stop, predicate)
            .map_err(|e| influxql::Error::Internal(format!("unable to delete: {e}")))
    }

    fn now(&self) -> i64 {
        self.now
    }
}

/// The request's parameters: the query string, then a form body's.
fn parameters(q: QueryMap, headers: &HeaderMap, method: &Method, body: &Bytes) -> HashMap<String, String> {
    let mut params = q.0;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if *method == Method::POST {
        if content_type.starts_with("application/x-www-form-urlencoded") {
            if let Ok(form) = serde_urlencoded_form(body) {
                params.extend(form);
            }
        } else if content_type.starts_with("application/vnd.influxql") && !params.contains_key("q") {
            params.insert("q".into(), String::from_utf8_lossy(body).into_owned());
        }
    }
    params
}

fn serde_urlencoded_form(body: &[u8]) -> Result<Vec<(String, String)>, ()> {
    let text = std::str::from_utf8(body).map_err(|_| ())?;
    let uri: axum::http::Uri = format!("/?{text}").parse().map_err(|_| ())?;
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|q| q.0).map_err(|_| ())
}

/// An InfluxQL error that fails the whole request, as v1 clients read it.
fn rejected(e: &influxql::Error) -> Response {
    error(Code::from(e), &e.to_string())
}

/// An error answer as v1 clients read it (`error`), with 2.x's `code` and `message` beside it.
fn error(code: Code, message: &str) -> Response {
    let body = json!({ "code": code.as_str(), "message": message, "error": message });
    let mut resp = (code.status(), axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(message) {
        resp.headers_mut().insert("X-Influxdb-Error", v);
    }
    resp
}

fn api_error(e: ApiError) -> Response {
    crate::data::v1::error_response(e)
}

/// `GET|POST /query`.
pub(crate) async fn query(
    State(state): State<AppState>,
    method: Method,
    q: QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = parameters(q, &headers, &method, &body);
    let as_map = QueryMap(params.clone());
    let principal = match crate::data::v1::authenticate(&state, &headers, &as_map).await {
        Ok(p) => p,
        Err(e) => return api_error(e),
    };
    if !principal.active {
        return error(Code::Forbidden, "insufficient permissions");
    }
    let Some(org) = principal.org_id else {
        return error(Code::Unauthorized, "unauthorized access");
    };
    let text = params.get("q").map(|s| s.trim().to_owned()).unwrap_or_default();
    if text.is_empty() {
        return error(Code::Invalid, "missing required parameter \"q\"");
    }
    let bound = match bound_parameters(params.get("params")) {
        Ok(b) => b,
        Err(e) => return rejected(&e),
    };
    let parsed = match influxql::parse_query_with(&text, &bound) {
        Ok(q) => q,
        // JSON whatever the Accept header asked for, as 2.7 answers (and both
        // oss.yml and the v1 spec document): 1.x wrote a CSV `error` column.
        Err(e) => return rejected(&influxql::Error::Invalid(format!("error parsing query: {e}"))),
    };
    let opts = influxql::Options {
        database: params.get("db").cloned().unwrap_or_default(),
        retention_policy: params.get("rp").cloned().unwrap_or_default(),
    };
    let epoch = params.get("epoch").cloned().filter(|e| !e.is_empty());
    let pretty = params.get("pretty").is_some_and(|p| p == "true");
    let chunk_size = (params.get("chunked").is_some_and(|c| c == "true"))
        .then(|| params.get("chunk_size").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0).unwrap_or(10_000));
    let csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/csv") || a.contains("text/csv"));
    let ctx = Context {
        meta: Arc::clone(&state.meta),
        cache: Arc::clone(&state.cache),
        storage: Arc::clone(&state.storage),
        org,
        principal,
        now: time::now_ns(),
    };
    // Run here, the worker handing its other tasks on meanwhile: no hop to
    // another thread and back for a query that takes a fraction of a millisecond.
    let run = std::panic::AssertUnwindSafe(|| influxql::execute(&parsed, &ctx, &opts));
    let results = match tokio::task::block_in_place(|| std::panic::catch_unwind(run)) {
        Ok(r) => r,
        Err(_) => return api_error(ApiError::internal("the query failed unexpectedly")),
    };
    let mut results = results;
    if let Some(epoch) = epoch {
        influxql::convert_epoch(&mut results, &epoch);
    }
    let (text, content_type) = if csv {
        (influxql::response_csv(&results), "application/csv")
    } else if let Some(size) = chunk_size {
        (influxql::response_chunks(&results, size).join("\n") + "\n", "application/json")
    } else {
        (influxql::response_json(&results, pretty) + "\n", "application/json")
    };
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// `params={"name": value}`: numbers, strings and booleans, or `{"identifier": ...}` and the like.
fn bound_parameters(raw: Option<&String>) -> influxql::Result<HashMap<String, influxql::Param>> {
    let invalid = |why: String| influxql::Error::Invalid(format!("error parsing query parameters: {why}"));
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(HashMap::new()) };
    let v: Value = serde_json::from_str(raw).map_err(|e| invalid(e.to_string()))?;
    let Value::Object(m) = v else { return Err(invalid("expected an object".into())) };
    Ok(m.into_iter()
        .map(|(k, v)| {
            let p = match v {
                Value::Number(n) if n.is_i64() => influxql::Param::Integer(n.as_i64().unwrap_or(0)),
                Value::Number(n) => influxql::Param::Number(n.as_f64().unwrap_or(0.0)),
                Value::String(s) => influxql::Param::String(s),
                Value::Bool(b) => influxql::Param::Bool(b),
                Value::Object(o) if o.len() == 1 => {
                    let (kind, val) = o.into_iter().next().expect("one entry");
                    let s = val.as_str().map(str::to_owned).unwrap_or_else(|| val.to_string());
                    match kind.as_str() {
                        "identifier" => influxql::Param::Identifier(s),
                        "regex" => influxql::Param::Regex(s),
                        "duration" => influxql::Param::Duration(s),
                        "string" => influxql::Param::String(s),
                        other => influxql::Param::Error(format!("unknown bind object type: {other}")),
                    }
                }
                Value::Object(_) => {
                    influxql::Param::Error("bound object parameter value must have exactly one entry".into())
                }
                other => influxql::Param::Error(format!("unable to bind parameter with type {other}")),
            };
            (k, p)
        })
        .collect())
}
