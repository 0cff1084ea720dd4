//! `/api/v2/query/ast` and `/api/v2/query/analyze`: Flux syntax over HTTP.

use axum::Json;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;

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
