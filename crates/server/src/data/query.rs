//! `POST /api/v2/query` (Flux, its results streamed as annotated CSV),
//! `/api/v2/query/ast`, `/analyze` and `/suggestions`.

use std::io::Write;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::data::flux_source::Source;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap};
use crate::principal::Principal;
use crate::state::AppState;

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

/// A query request (`Query` in oss.yml), as `/api/v2/query` and `/analyze` take it.
#[derive(Deserialize)]
pub(crate) struct QueryJson {
    #[serde(default)]
    query: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    dialect: DialectJson,
    now: Option<String>,
    /// Flux's JSON syntax tree of a file evaluated before the query.
    #[serde(rename = "extern")]
    extern_file: Option<Value>,
    /// Values the query reads as `params.<name>`.
    params: Option<Value>,
}

impl QueryJson {
    fn flux(query: String) -> Self {
        Self { query, kind: None, dialect: DialectJson::default(), now: None, extern_file: None, params: None }
    }

    /// The Flux evaluated before the query: its `extern`, or its `params` as
    /// `option params = {...}` (oss.yml: the two are not given together).
    fn prelude(&self) -> ApiResult<Option<String>> {
        let params = match &self.params {
            None | Some(Value::Null) => None,
            Some(Value::Object(p)) => Some(p),
            Some(_) => return Err(ApiError::invalid("params must be an object of names to values")),
        };
        match (&self.extern_file, params) {
            (None | Some(Value::Null), None) => Ok(None),
            (None | Some(Value::Null), Some(p)) => {
                flux::json::params_source(p).map(Some).map_err(|e| ApiError::invalid(format!("invalid params: {e}")))
            }
            (Some(file), None) => {
                flux::json::file_source(file).map(Some).map_err(|e| ApiError::invalid(format!("invalid extern: {e}")))
            }
            (Some(_), Some(_)) => Err(ApiError::invalid("a query takes params or extern, not both")),
        }
    }

    fn check_kind(&self) -> ApiResult<()> {
        match self.kind.as_deref() {
            None | Some("") | Some("flux") => Ok(()),
            Some(other) => Err(ApiError::invalid(format!("unsupported query type {other:?}: use flux"))),
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
        QueryJson::flux(String::from_utf8(body.to_vec()).map_err(|_| ApiError::invalid("query is not UTF-8"))?)
    } else {
        serde_json::from_slice::<QueryJson>(&body)
            .map_err(|e| ApiError::invalid(format!("failed to decode request body: {e}")))?
    };
    req.check_kind()?;
    if req.query.trim().is_empty() {
        return Err(ApiError::invalid("query is empty"));
    }
    let prelude = req.prelude()?;
    let org = match crate::tenancy::orgs::from_query(&state, &q).await? {
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
    let gzip = crate::extract::accepts_gzip(&headers);
    let waiting = std::time::Instant::now();
    let slot = match within {
        Some(_) => state.queries.within_caller(),
        None => state.queries.admit().await?,
    };
    let queued = waiting.elapsed();
    let limits = state.queries.limits().clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, ApiError>>(4);
    let text = req.query;
    tokio::task::spawn_blocking(move || {
        let req = flux::Request { query: &text, prelude: prelude.as_deref(), now, queued };
        run_streaming(&req, source, &limits, dialect, gzip, &tx);
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
                enc.write_all(text.as_bytes()).map_err(|e| flux::EvalError::invalid(e.to_string()))?;
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
            .map_err(|_| flux::EvalError::invalid("the client closed the connection"))
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
        flux::Error::Eval(e) => e.into(),
    }
}

/// Runs a query on a blocking thread, streaming annotated CSV into `tx`.
fn run_streaming(
    req: &flux::Request<'_>,
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
    let result = flux::run(req, Some(std::rc::Rc::new(source)), limits, &mut |name, table| {
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
    let funcs: Vec<Value> = flux::suggestions()
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
    let (name, params) = flux::suggestions()
        .into_iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| ApiError::not_found(format!("could not find a Flux function named {name:?}")))?;
    let params: serde_json::Map<String, Value> = params.into_iter().map(|(p, k)| (p, Value::from(k))).collect();
    Ok(Json(json!({ "name": name, "params": params })))
}

/// The query's errors with their positions (`{"errors": []}` when there are none).
pub(crate) async fn analyze(_: Principal, JsonBody(req): JsonBody<QueryJson>) -> ApiResult<Json<Value>> {
    if let Some(other) = req.kind.as_deref().filter(|k| !k.is_empty() && *k != "flux") {
        return Err(ApiError::invalid(format!("unknown query request type {other}")));
    }
    let prelude = req.prelude()?;
    let query = req.query;
    let found = tokio::task::spawn_blocking(move || {
        flux::analyze(&flux::Request { prelude: prelude.as_deref(), ..flux::Request::new(&query, 0) })
    })
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
        Err(flux::Error::Eval(e)) => vec![json!({ "line": 0, "column": 0, "character": 0, "message": e.message() })],
    };
    Ok(Json(json!({ "errors": errors })))
}
