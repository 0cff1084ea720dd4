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
pub(crate) struct Source {
    meta: Arc<meta::Store>,
    storage: Arc<storage::Storage>,
    org: meta::Id,
    principal: Principal,
    secret_key: Option<Arc<meta::secrets::SecretKey>>,
    outbound: Arc<crate::outbound::Outbound>,
    runtime: tokio::runtime::Handle,
    /// When the task running the query last succeeded (task runs only).
    pub(crate) task_last_success: Option<i64>,
    replications: Option<Arc<replication::Replications>>,
}

impl Source {
    /// What a query of `principal` in `org` reads and writes. Call on the runtime.
    pub(crate) fn new(state: &AppState, org: meta::Id, principal: Principal) -> Self {
        Source {
            meta: Arc::clone(&state.meta),
            storage: Arc::clone(&state.storage),
            org,
            principal,
            secret_key: state.secret_key.clone(),
            outbound: Arc::clone(&state.outbound),
            runtime: tokio::runtime::Handle::current(),
            task_last_success: None,
            replications: state.replications.clone(),
        }
    }
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

    fn bucket_id(&self, id: &str) -> Result<u64, flux::EvalError> {
        let not_found = || flux::EvalError { message: format!("could not find bucket with ID {id:?}") };
        let id: meta::Id = id.parse().map_err(|_| not_found())?;
        let b = self.meta.find_bucket_by_id(id).map_err(|_| not_found())?;
        if b.org_id != self.org
            || !self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, b.id, b.org_id))
        {
            return Err(not_found());
        }
        Ok(b.id.get())
    }

    fn storage(&self) -> &dyn storage::ReadApi {
        self.storage.as_ref()
    }

    /// The org's secret, if the query's token may read the org's secrets.
    fn secret(&self, key: &str) -> Result<String, flux::EvalError> {
        let fail = |message: String| flux::EvalError { message };
        if !self.principal.can(Action::Read, &Resource::in_org(ResourceType::Secrets, self.org)) {
            return Err(fail(format!("read:orgs/{}/secrets is unauthorized", self.org)));
        }
        let sealer = self.secret_key.as_ref().ok_or_else(|| fail("secrets are not available on this server".into()))?;
        match self.meta.secret(self.org, sealer, key) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(fail(format!("secret key {key:?} not found"))),
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// The org's mappings whose buckets the query may read, each with its bucket's retention.
    fn databases(&self) -> Result<Vec<flux::DatabaseInfo>, flux::EvalError> {
        let err = |e: meta::Error| flux::EvalError { message: e.to_string() };
        let filter = meta::dbrps::DbrpFilter { org_id: Some(self.org), ..Default::default() };
        let mut out = Vec::new();
        for d in self.meta.list_dbrps(&filter).map_err(err)? {
            if !self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, d.bucket_id, d.org_id)) {
                continue;
            }
            let retention = self.meta.find_bucket_by_id(d.bucket_id).map(|b| b.retention_seconds).unwrap_or(0);
            out.push(flux::DatabaseInfo {
                org_id: d.org_id.to_string(),
                database: d.database,
                retention_policy: d.retention_policy,
                retention_ns: retention.saturating_mul(1_000_000_000),
                default: d.default,
                bucket_id: d.bucket_id.to_string(),
            });
        }
        Ok(out)
    }

    fn task_last_success(&self) -> Option<i64> {
        self.task_last_success
    }

    fn http(&self, req: &flux::outbound::HttpRequest) -> Result<flux::outbound::HttpResponse, flux::EvalError> {
        self.outbound.send(&self.runtime, req)
    }

    fn api(&self, req: &flux::outbound::HttpRequest) -> Result<flux::outbound::HttpResponse, flux::EvalError> {
        self.outbound.api(&self.runtime, &self.principal, req)
    }

    fn buckets(&self) -> Result<Vec<flux::BucketInfo>, flux::EvalError> {
        let filter = meta::buckets::BucketFilter { org_id: Some(self.org), ..Default::default() };
        let opts = meta::FindOptions { limit: usize::MAX, ..Default::default() };
        let all = self.meta.list_buckets(&filter, &opts).map_err(|e| flux::EvalError { message: e.to_string() })?;
        Ok(all
            .into_iter()
            .filter(|b| self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, b.id, b.org_id)))
            .map(|b| flux::BucketInfo {
                name: b.name,
                id: b.id.to_string(),
                org_id: b.org_id.to_string(),
                retention_ns: b.retention_seconds.saturating_mul(1_000_000_000),
            })
            .collect())
    }

    fn write(&self, target: &flux::WriteTarget, lines: &[u8]) -> Result<(), flux::EvalError> {
        let err = |m: String| flux::EvalError { message: m };
        let org = match (&target.org_id, &target.org) {
            (Some(id), _) => {
                let id: meta::Id = id.parse().map_err(|_| err(format!("to: invalid orgID {id:?}")))?;
                self.meta.find_org_by_id(id).map_err(|_| err(format!("to: organization {id} not found")))?.id
            }
            (None, Some(name)) => {
                self.meta.find_org_by_name(name).map_err(|_| err(format!("to: organization {name:?} not found")))?.id
            }
            (None, None) => self.org,
        };
        let bucket = match (&target.bucket_id, &target.bucket) {
            (Some(id), _) => {
                let parsed: meta::Id = id.parse().map_err(|_| err(format!("to: invalid bucketID {id:?}")))?;
                self.meta
                    .find_bucket_by_id(parsed)
                    .ok()
                    .filter(|b| b.org_id == org)
                    .ok_or_else(|| err(format!("to: bucket {id} not found")))?
            }
            (None, Some(name)) => {
                self.meta.find_bucket_by_name(org, name).map_err(|_| err(format!("to: bucket {name:?} not found")))?
            }
            (None, None) => return Err(err("to: no bucket given".into())),
        };
        if !self.principal.can(Action::Write, &Resource::one_in_org(ResourceType::Buckets, bucket.id, bucket.org_id)) {
            return Err(err(format!("to: insufficient permissions to write to bucket {:?}", bucket.name)));
        }
        let target = storage::BucketTarget {
            bucket: bucket.id.get(),
            retention_ns: bucket.retention_seconds.saturating_mul(1_000_000_000),
            shard_group_ns: bucket.shard_group_seconds.saturating_mul(1_000_000_000),
        };
        let now = time::now_ns();
        let precision = lineproto::Precision::Nanosecond;
        let batch = storage::Batch::parse(lines, precision).map_err(|e| err(format!("to: {e}")))?;
        let queued = crate::replicate::prepare(self.replications.as_deref(), target.bucket, &batch, now)
            .map_err(|e| err(format!("to: {}", e.message)))?;
        let outcome = self.storage.write(&target, &batch, now).map_err(|e| err(format!("to: {e}")))?;
        if outcome.written > 0 {
            crate::replicate::enqueue(self.replications.as_deref(), queued)
                .map_err(|e| err(format!("to: {}", e.message)))?;
        }
        match outcome.partial_write_message() {
            Some(m) => Err(err(format!("to: {m}"))),
            None => Ok(()),
        }
    }
}

/// `POST /api/v2/query`: a Flux query (JSON or `application/vnd.flux`), its
/// results as annotated CSV.
pub(crate) async fn query(
    State(state): State<AppState>,
    p: Principal,
    within: Option<axum::Extension<crate::outbound::WithinQuery>>,
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
        Some(t) => {
            time::rfc3339::parse(t).ok_or_else(|| ApiError::invalid(format!("invalid now {t:?}: use RFC3339")))?
        }
        None => time::now_ns(),
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
    let source = Source::new(&state, org, p);
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let slot = match within {
        Some(_) => state.queries.within_caller(),
        None => state.queries.admit().await?,
    };
    let limits = state.queries.limits().clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, ApiError>>(4);
    let text = req.query;
    tokio::task::spawn_blocking(move || {
        run_streaming(&text, now, source, &limits, dialect, gzip, &tx);
        drop(slot);
    });
    // The status is decided by what comes first: an error before any output, or output.
    let first = match rx.recv().await {
        Some(Err(e)) => return Err(e),
        Some(Ok(bytes)) => Some(bytes),
        None => None,
    };
    let body = futures::stream::unfold((first, rx), |(pending, mut rx)| async move {
        if let Some(b) = pending {
            return Some((Ok::<Bytes, std::io::Error>(b), (None, rx)));
        }
        match rx.recv().await {
            Some(Ok(b)) => Some((Ok(b), (None, rx))),
            Some(Err(e)) => Some((Err(std::io::Error::other(e.message)), (None, rx))),
            None => None,
        }
    });
    let mut resp = (StatusCode::OK, axum::body::Body::from_stream(body)).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if gzip {
        resp.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(resp)
}

/// Output is sent in pieces of about this many bytes.
const CHUNK: usize = flux::csv::FLUSH_BYTES;

/// Where query output goes: CSV text, gzipped or not, sent in chunks; a closed
/// channel (the client went away) stops the query.
struct Output<'a> {
    tx: &'a tokio::sync::mpsc::Sender<Result<Bytes, ApiError>>,
    gzip: Option<flate2::write::GzEncoder<Vec<u8>>>,
    sent: bool,
}

impl Output<'_> {
    /// Sends `text` once it holds a chunk's worth, or now with `force`.
    fn send(&mut self, text: &mut String, force: bool) -> Result<(), flux::EvalError> {
        if text.len() < CHUNK && !force {
            return Ok(());
        }
        let bytes = match &mut self.gzip {
            Some(enc) => {
                enc.write_all(text.as_bytes()).map_err(|e| flux::EvalError { message: e.to_string() })?;
                text.clear();
                std::mem::take(enc.get_mut())
            }
            None => std::mem::take(text).into_bytes(),
        };
        if bytes.is_empty() {
            return Ok(());
        }
        self.sent = true;
        self.tx
            .blocking_send(Ok(Bytes::from(bytes)))
            .map_err(|_| flux::EvalError { message: "the client closed the connection".into() })
    }

    fn finish(mut self, text: &mut String) {
        let _ = self.send(text, true);
        if let Some(enc) = self.gzip.take()
            && let Ok(rest) = enc.finish()
            && !rest.is_empty()
        {
            let _ = self.tx.blocking_send(Ok(Bytes::from(rest)));
        }
    }
}

fn query_error(e: flux::Error) -> ApiError {
    match e {
        flux::Error::Parse(e) => ApiError::invalid(format!("compilation failed: {e}")),
        flux::Error::Check(e) => ApiError::invalid(e.to_string()),
        flux::Error::Eval(e) if e.message.starts_with("could not find bucket") => {
            ApiError::not_found(format!("failed to initialize execute state: {}", e.message))
        }
        flux::Error::Eval(e) => ApiError::invalid(e.message),
    }
}

/// Runs a query on a blocking thread, streaming annotated CSV into `tx`.
fn run_streaming(
    text: &str,
    now: i64,
    source: Source,
    limits: &flux::Limits,
    dialect: flux::csv::Dialect,
    gzip: bool,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, ApiError>>,
) {
    let mut encoder = flux::csv::Encoder::new(dialect);
    let mut output = Output {
        tx,
        gzip: gzip.then(|| flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast())),
        sent: false,
    };
    let mut csv = String::new();
    let result = flux::run(text, now, Some(std::rc::Rc::new(source)), limits, &mut |name, table| {
        encoder.table(name, &table, &mut csv, &mut |text| output.send(text, false))?;
        output.send(&mut csv, false)
    });
    match result {
        Ok(()) => encoder.finish(&mut csv),
        // Before any output the error is the response; after, it ends the CSV as an error table.
        Err(e) if !output.sent => {
            let _ = tx.blocking_send(Err(query_error(e)));
            return;
        }
        Err(e) => {
            encoder.finish(&mut csv);
            csv.push_str(&flux::csv::error_table(&query_error(e).message));
        }
    }
    output.finish(&mut csv);
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

/// The universe's functions with their parameters (`{"funcs": [{name, params}]}`),
/// for the query builder's completion; as InfluxDB, without a `table` parameter.
pub(crate) async fn suggestions(_: Principal) -> ApiResult<Json<Value>> {
    let funcs: Vec<Value> = flux::check::suggestions()
        .into_iter()
        .map(|(name, params)| {
            let params: serde_json::Map<String, Value> =
                params.into_iter().filter(|(p, _)| p != "table").map(|(p, k)| (p, Value::from(k))).collect();
            json!({ "name": name, "params": params })
        })
        .collect();
    Ok(Json(json!({ "funcs": funcs })))
}

/// One function's parameters. An unknown name is 404 (InfluxDB answers 500).
pub(crate) async fn suggestion(
    _: Principal,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    let (name, params) = flux::check::suggestions()
        .into_iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| ApiError::not_found(format!("could not find a Flux function named {name:?}")))?;
    let params: serde_json::Map<String, Value> = params.into_iter().map(|(p, k)| (p, Value::from(k))).collect();
    Ok(Json(json!({ "name": name, "params": params })))
}

/// The query's errors with their positions (`{"errors": []}` when there are none).
pub(crate) async fn analyze(_: Principal, JsonBody(req): JsonBody<LanguageRequest>) -> ApiResult<Json<Value>> {
    match req.kind.as_deref() {
        None | Some("") | Some("flux") => {}
        Some(other) => return Err(ApiError::invalid(format!("unknown query request type {other}"))),
    }
    let query = req.query;
    let found = tokio::task::spawn_blocking(move || flux::analyze(&query))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let errors: Vec<Value> = match found {
        Ok(()) => Vec::new(),
        Err(flux::Error::Parse(e)) => {
            vec![json!({ "line": e.line, "column": e.column, "character": 0, "message": e.message })]
        }
        Err(flux::Error::Check(errors)) => errors
            .0
            .iter()
            .map(|e| {
                let start = e.location.start;
                json!({ "line": start.line, "column": start.column, "character": 0, "message": e.message })
            })
            .collect(),
        Err(flux::Error::Eval(e)) => vec![json!({ "line": 0, "column": 0, "character": 0, "message": e.message })],
    };
    Ok(Json(json!({ "errors": errors })))
}
