//! Request decoding with InfluxDB's error shape: JSON bodies, IDs, query strings,
//! and the encodings a request says its body has or its answer may have.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult, Code};
use meta::Id;

/// A JSON body; a malformed one is a 400 that names the problem.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(Code::TooLarge, "request body too large")
            } else {
                ApiError::invalid(format!("failed to read request body: {e}"))
            }
        })?;
        // serde would take `[...]` for a struct too; InfluxDB's bodies are objects.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::invalid("failed to decode request body: expected a JSON object, got an array"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::invalid(format!("failed to decode request body: {e}")))
    }
}

/// The query string as a map; repeated keys keep their last value.
#[derive(Debug, Default)]
pub(crate) struct QueryMap(pub(crate) HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let q = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = query_pairs(q)?;
        Ok(QueryMap(pairs.into_iter().collect()))
    }
}

/// A query string's pairs in order, repeated keys kept.
pub(crate) fn query_pairs(q: &str) -> ApiResult<Vec<(String, String)>> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{q}").parse().map_err(|_| ApiError::invalid("invalid query string"))?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| ApiError::invalid(format!("invalid query string: {e}")))
}

impl QueryMap {
    /// A non-empty parameter.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A parameter that must be an ID if present.
    pub(crate) fn id(&self, key: &str) -> ApiResult<Option<Id>> {
        self.get(key).map(parse_id).transpose()
    }
}

/// Parses an ID from a path or parameter, as InfluxDB words its refusal.
pub(crate) fn parse_id(s: &str) -> ApiResult<Id> {
    s.parse::<Id>().map_err(ApiError::from)
}

/// Whether the request accepts a gzipped answer (`Accept-Encoding: gzip`).
pub(crate) fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

/// Whether the request body is gzipped (`Content-Encoding: gzip` or `x-gzip`).
pub(crate) fn sends_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip"))
}
