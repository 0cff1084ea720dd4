//! What the v1-compatible endpoints share: credentials and errors.

use axum::Json;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::access::auth::principal_for_token;
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryMap;
use crate::principal::Principal;
use crate::state::AppState;
use meta::buckets::Bucket;

/// What a v1 request signs in with: `u`/`p` parameters or Basic auth (a v1
/// username and password, or any name and a token as password), or
/// `Authorization: Token [user:]token`.
fn credentials(headers: &HeaderMap, q: &QueryMap) -> Option<(Option<String>, String)> {
    if let (Some(u), Some(p)) = (q.get("u"), q.get("p")) {
        return Some((Some(u.to_owned()), p.to_owned()));
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    match scheme {
        "Token" => Some((None, rest.split_once(':').map_or(rest, |(_, t)| t).to_owned())),
        "Basic" => {
            let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
            let text = String::from_utf8(raw).ok()?;
            text.split_once(':').map(|(u, p)| (Some(u.to_owned()), p.to_owned()))
        }
        _ => None,
    }
}

pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap, q: &QueryMap) -> ApiResult<Principal> {
    let (user, secret) = credentials(headers, q).ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
    if let Some(user) = user {
        // A v1 username with its password; a name that is not one falls back to the password as a token.
        let password = secret.clone();
        let found = state
            .meta(move |m| match m.verify_legacy_password(&user, &password) {
                Ok(a) => Ok(a),
                Err(meta::Error::Unauthorized) => Err(ApiError::unauthorized("authorization failed")),
                Err(e) => Err(ApiError::from(e)),
            })
            .await?;
        if let Some(auth) = found {
            return Ok(Principal {
                user_id: auth.user_id,
                org_id: Some(auth.org_id),
                active: auth.status == meta::authorizations::AuthStatus::Active,
                permissions: auth.permissions,
            });
        }
    }
    principal_for_token(state, secret).await
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
