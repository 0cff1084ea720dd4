//! What the v1-compatible endpoints share: credentials and errors.

use axum::Json;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::auth::{Principal, principal_for_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryMap;
use crate::state::AppState;
use meta::buckets::Bucket;

/// The token a v1 request carries: `u`/`p` parameters, `Authorization: Token
/// [user:]token`, or Basic auth, the password being the token.
fn credentials(headers: &HeaderMap, q: &QueryMap) -> Option<String> {
    if let (Some(_), Some(p)) = (q.get("u"), q.get("p")) {
        return Some(p.to_owned());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    match scheme {
        "Token" => Some(rest.split_once(':').map_or(rest, |(_, t)| t).to_owned()),
        "Basic" => {
            let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
            let text = String::from_utf8(raw).ok()?;
            text.split_once(':').map(|(_, p)| p.to_owned())
        }
        _ => None,
    }
}

pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap, q: &QueryMap) -> ApiResult<Principal> {
    let token = credentials(headers, q).ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
    principal_for_token(state, token).await
}

/// The bucket a v1 `db`/`rp` pair maps to in the principal's org.
pub(crate) async fn bucket_for(state: &AppState, p: &Principal, db: &str, rp: Option<&str>) -> ApiResult<Bucket> {
    let org = p.org_id.ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
    let (db, rp) = (db.to_owned(), rp.map(str::to_owned));
    state
        .meta(move |m| -> ApiResult<Bucket> {
            let mapping =
                m.resolve_dbrp(org, &db, rp.as_deref())?.ok_or_else(|| ApiError::not_found("no dbrp mapping found"))?;
            Ok(m.find_bucket_by_id(mapping.bucket_id)?)
        })
        .await
}

/// An error as both generations of clients read it: InfluxDB 2's `code` and
/// `message`, and InfluxDB 1's `error`.
pub(crate) fn error_response(e: ApiError) -> Response {
    let status = e.code.status();
    let mut resp =
        (status, Json(json!({ "code": e.code.as_str(), "message": e.message, "error": e.message }))).into_response();
    if let Ok(v) = e.code.as_str().parse() {
        resp.headers_mut().insert("X-Platform-Error-Code", v);
    }
    if let Ok(v) = e.message.parse() {
        resp.headers_mut().insert("X-Influxdb-Error", v);
    }
    resp
}
