//! Sign-in, sign-out, the signed-in user, and passwords.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;

use crate::access::auth::{SESSION_COOKIE, session_key};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::views::{self, UserView};
use meta::auth::{Action, Resource, ResourceType};

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// `POST /api/v2/signin`: Basic credentials in, a session cookie out.
pub(crate) async fn signin(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let unauthorized = || ApiError::unauthorized("unauthorized access");
    let (name, password) = basic_credentials(&headers).ok_or_else(unauthorized)?;
    let ttl = state.session_ttl_secs;
    let key = state
        .meta(move |m| -> ApiResult<String> {
            let user = m.verify_password(&name, &password).map_err(|_| unauthorized())?;
            if user.status == meta::users::UserStatus::Inactive {
                return Err(ApiError::forbidden("User is inactive"));
            }
            Ok(m.create_session(user.id, ttl)?)
        })
        .await?;
    let expires = chrono::Utc::now() + chrono::Duration::seconds(ttl);
    let mut cookie = format!(
        "{SESSION_COOKIE}={key}; Path=/api/; Expires={}; HttpOnly; SameSite=Strict",
        expires.format("%a, %d %b %Y %H:%M:%S GMT")
    );
    if state.tls {
        cookie.push_str("; Secure");
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(e.to_string()))?);
    Ok(resp)
}

/// `POST /api/v2/signout`: ends the session named by the cookie.
pub(crate) async fn signout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let key = session_key(&headers).ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
    let existed = state.meta(move |m| m.expire_session(&key)).await?;
    if !existed {
        return Err(ApiError::unauthorized("unauthorized access"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v2/me`: the user behind the token or session.
pub(crate) async fn me(State(state): State<AppState>, p: Principal) -> ApiResult<Json<UserView>> {
    let uid = p.user_id.ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
    let user = state.meta(move |m| m.find_user_by_id(uid)).await?;
    Ok(Json(views::user(&user)))
}

#[derive(Deserialize)]
pub(crate) struct PasswordBody {
    #[serde(default)]
    password: String,
}

/// `PUT /api/v2/me/password`: needs Basic credentials with the current password, as InfluxDB does.
pub(crate) async fn put_me_password(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PasswordBody>,
) -> ApiResult<StatusCode> {
    let uid = p.user_id.ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
    let (_, old) = basic_credentials(&headers).ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
    state
        .meta(move |m| -> ApiResult<()> {
            m.verify_password_by_id(uid, &old).map_err(|_| ApiError::unauthorized("unauthorized access"))?;
            Ok(m.set_password(uid, &body.password)?)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST|PUT /api/v2/users/{id}/password`: needs write on that user.
pub(crate) async fn set_user_password(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    state.meta(move |m| m.find_user_by_id(id)).await?;
    p.require(Action::Write, Resource::one(ResourceType::Users, id))?;
    state.meta(move |m| m.set_password(id, &body.password)).await?;
    Ok(StatusCode::NO_CONTENT)
}
