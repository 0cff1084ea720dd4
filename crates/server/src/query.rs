//! `/api/v2/query` (Flux, answered as annotated CSV), `/api/v2/query/ast` and
//! `/api/v2/query/analyze`.

use std::io::Write;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap};
use crate::state::AppState;
use meta::auth::{Action, Resource, ResourceType};

#[derive(Deserialize, Default)]
struct DialectJson {
    header: Option<bool>,
    delimiter: Option<String>,
    #[serde(default)]
    annotations: Vec<String>,
    #[serde(rename = "commentPrefix")]
    comment_prefix: Option<String>,
    #[serde(rename = "dateTimeFormat")]
    date_time_format: Option<String>,
}

#[derive(Deserialize)]
struct QueryJson {
    #[serde(default)]
    query: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    dialect: DialectJson,
    now: Option<String>,
}

/// Buckets by name in the query's org, each checked for read permission; and storage.
struct Source {
    meta: Arc<meta::Store>,
    storage: Arc<storage::Storage>,
    org: meta::Id,
    principal: Principal,
}

impl flux::Source for Source {
    fn bucket(&self, name: &str) -> Result<u64, flux::EvalError> {
        let not_found = || flux::EvalError { message: format!("could not find bucket {name:?}") };
        let b = self.meta.find_bucket_by_name(self.org, name).map_err(|_| not_found())?;
        // A bucket the caller may not read is one it cannot see, as in InfluxDB.
        if !self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, b.id, b.org_id)) {
            return Err(not_found());
        }
        Ok(b.id.get())
    }

    fn storage(&self) -> &dyn storage::ReadApi {
        self.storage.as_ref()
    }
}

/// `POST /api/v2/query`: a Flux query (JSON or `application/vnd.flux`), its
/// results as annotated CSV.
pub(crate) async fn query(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let req = if content_type.starts_with("application/vnd.flux") {
        QueryJson {
            query: String::from_utf8(body.to_vec()).map_err(|_| ApiError::invalid("query is not UTF-8"))?,
            kind: None,
            dialect: DialectJson::default(),
            now: None,
        }
    } else {
        serde_json::from_slice::<QueryJson>(&body)
            .map_err(|e| ApiError::invalid(format!("failed to decode request body: {e}")))?
    };
    match req.kind.as_deref() {
        None | Some("") | Some("flux") => {}
        Some(other) => return Err(ApiError::invalid(format!("unsupported query type {other:?}: use flux"))),
    }
    if req.query.trim().is_empty() {
        return Err(ApiError::invalid("query is empty"));
    }
    let org = match crate::orgs::from_query(&state, &q).await? {
        Some(o) => o.id,
        None => p.org_id.ok_or_else(|| ApiError::invalid("Please provide either orgID or org"))?,
    };
    let now = match &req.now {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
            .ok_or_else(|| ApiError::invalid(format!("invalid now {t:?}: use RFC3339")))?,
        None => chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
    };
    let d = &req.dialect;
    let dialect = flux::csv::Dialect {
        header: d.header.unwrap_or(true),
        delimiter: d.delimiter.as_deref().and_then(|s| s.chars().next()).unwrap_or(','),
        annotations: d.annotations.clone(),
        comment_prefix: d.comment_prefix.clone().unwrap_or_else(|| "#".into()),
        date_time_format: d.date_time_format.clone().unwrap_or_else(|| "RFC3339".into()),
    };
    for a in &dialect.annotations {
        if !matches!(a.as_str(), "datatype" | "group" | "default") {
            return Err(ApiError::invalid(format!("unknown annotation {a:?}")));
        }
    }
    let source = Source { meta: Arc::clone(&state.meta), storage: Arc::clone(&state.storage), org, principal: p };
    let text = req.query;
    let csv = tokio::task::spawn_blocking(move || -> ApiResult<String> {
        let results = flux::query(&text, now, std::rc::Rc::new(source)).map_err(|e| match e {
            flux::Error::Parse(e) => ApiError::invalid(format!("compilation failed: {e}")),
            flux::Error::Eval(e) if e.message.starts_with("could not find bucket") => {
                ApiError::not_found(format!("failed to initialize execute state: {}", e.message))
            }
            flux::Error::Eval(e) => ApiError::invalid(e.message),
        })?;
        Ok(flux::csv::encode(&results, &dialect))
    })
    .await
    .map_err(|e| ApiError::internal(format!("query task failed: {e}")))??;
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut resp = if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(csv.as_bytes()).map_err(|e| ApiError::internal(e.to_string()))?;
        let bytes = enc.finish().map_err(|e| ApiError::internal(e.to_string()))?;
        let mut r = (StatusCode::OK, bytes).into_response();
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        (StatusCode::OK, csv).into_response()
    };
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(resp)
}

#[derive(Deserialize)]
pub(crate) struct LanguageRequest {
    #[serde(default)]
    query: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The query's AST in Flux's JSON shape, or 400 `invalid AST: <error>`.
pub(crate) async fn ast(_: Principal, JsonBody(req): JsonBody<LanguageRequest>) -> ApiResult<Json<Value>> {
    let query = req.query;
    let parsed = tokio::task::spawn_blocking(move || flux::parse(&query))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let pkg = parsed.map_err(|e| ApiError::invalid(format!("invalid AST: {e}")))?;
    Ok(Json(json!({ "ast": pkg })))
}

/// The query's errors with their positions (`{"errors": []}` when there are none).
pub(crate) async fn analyze(_: Principal, JsonBody(req): JsonBody<LanguageRequest>) -> ApiResult<Json<Value>> {
    match req.kind.as_deref() {
        None | Some("") | Some("flux") => {}
        Some(other) => return Err(ApiError::invalid(format!("unknown query request type {other}"))),
    }
    let query = req.query;
    let parsed = tokio::task::spawn_blocking(move || flux::parse(&query))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let errors: Vec<Value> = match parsed {
        Ok(_) => Vec::new(),
        Err(e) => vec![json!({ "line": e.line, "column": e.column, "character": 0, "message": e.message })],
    };
    Ok(Json(json!({ "errors": errors })))
}
