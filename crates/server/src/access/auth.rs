//! Authentication (who is asking: a token or a session cookie) and the
//! permission checks every handler makes before it acts.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult};
use crate::principal::{ActingAs, Principal};
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Permission, Resource, me_permissions, org_member_permissions, org_owner_permissions};
use meta::members::Role;
use meta::users::UserStatus;

/// The session cookie InfluxDB 2.x sets on sign-in.
pub(crate) const SESSION_COOKIE: &str = "influxdb-oss-session";

/// Routes anyone may call, as InfluxDB registers them.
fn is_public(method: &Method, path: &str) -> bool {
    let get = method == Method::GET || method == Method::HEAD;
    match path {
        "/health" | "/ready" | "/ping" | "/metrics" | "/api/v2" | "/api/v2/" => get,
        // v1 endpoints read their own credentials (`u`/`p`, Basic, Token).
        "/write" => method == Method::POST,
        "/query" => get || method == Method::POST,
        "/api/v2/setup" => get || method == Method::POST,
        "/api/v2/signin" | "/api/v2/signout" => method == Method::POST,
        _ => false,
    }
}

/// The bearer of `Authorization: Token <t>` or `Bearer <t>`.
pub(crate) fn header_token(parts: &axum::http::HeaderMap) -> Option<String> {
    let value = parts.get(header::AUTHORIZATION)?.to_str().ok()?;
    let mut fields = value.split_whitespace();
    let (scheme, token) = (fields.next()?, fields.next()?);
    if fields.next().is_some() || !(scheme == "Token" || scheme == "Bearer") {
        return None;
    }
    Some(token.to_owned())
}

pub(crate) fn session_key(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// Middleware: resolves the principal, or answers 401 for protected routes.
pub(crate) async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if is_public(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(ActingAs(p)) = req.extensions_mut().remove::<ActingAs>() {
        req.extensions_mut().insert(p);
        return next.run(req).await;
    }
    let token = header_token(req.headers());
    let session = session_key(req.headers());
    let principal = match (token, session) {
        (Some(token), _) => principal_for_token(&state, token).await,
        (None, Some(key)) => principal_for_session(&state, key).await,
        (None, None) => Err(ApiError::unauthorized("unauthorized access")),
    };
    match principal {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn principal_for_token(state: &AppState, token: String) -> ApiResult<Principal> {
    // The store's generation before the read: a write after it makes the entry stale.
    let generation = state.meta.generation();
    let digest = meta::authorizations::token_digest(&token);
    if let Some(g) = generation
        && let Some(p) = state.cache.principal(g, &digest)
    {
        return Ok(p);
    }
    let found = state
        .meta(move |m| -> ApiResult<Principal> {
            let auth = match m.find_authorization_by_token(&token) {
                Ok(a) => a,
                Err(meta::Error::NotFound(_)) => {
                    return Err(ApiError::unauthorized("unauthorized access"));
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(uid) = auth.user_id {
                ensure_user_active(m, uid)?;
            }
            Ok(Principal {
                user_id: auth.user_id,
                org_id: Some(auth.org_id),
                active: auth.status == meta::authorizations::AuthStatus::Active,
                permissions: auth.permissions,
            })
        })
        .await?;
    if let Some(g) = generation {
        state.cache.keep_principal(g, digest, found.clone());
    }
    Ok(found)
}

fn ensure_user_active(m: &meta::Store, uid: Id) -> ApiResult<()> {
    match m.find_user_by_id(uid) {
        Ok(u) if u.status == UserStatus::Inactive => Err(ApiError::forbidden("User is inactive")),
        Ok(_) => Ok(()),
        Err(meta::Error::NotFound(_)) => Err(ApiError::unauthorized("unauthorized access")),
        Err(e) => Err(e.into()),
    }
}

async fn principal_for_session(state: &AppState, key: String) -> ApiResult<Principal> {
    let ttl = state.session_ttl_secs;
    state
        .meta(move |m| -> ApiResult<Principal> {
            let uid = m.find_session(&key, ttl)?.ok_or_else(|| ApiError::unauthorized("unauthorized access"))?;
            ensure_user_active(m, uid)?;
            Ok(Principal { user_id: Some(uid), org_id: None, active: true, permissions: session_permissions(m, uid)? })
        })
        .await
}

/// A signed-in user may do what their org and bucket roles allow, what their
/// own active tokens allow, and read and write themselves (InfluxDB's rule).
pub(crate) fn session_permissions(m: &meta::Store, uid: Id) -> ApiResult<Vec<Permission>> {
    let mut perms = Vec::new();
    for ms in m.org_memberships(uid)? {
        perms.extend(match ms.role {
            Role::Owner => org_owner_permissions(ms.org_id),
            Role::Member => org_member_permissions(ms.org_id),
        });
    }
    // As 2.7 turns user-resource mappings into permissions: a member may read
    // the resource, an owner also write it (buckets, dashboards, tasks, ...).
    for (kind, id, role) in m.resource_memberships(uid)? {
        let Some(kind) = meta::auth::ResourceType::parse(&kind) else { continue };
        let r = Resource::one(kind, id);
        perms.push(Permission::new(Action::Read, r.clone()));
        if role == Role::Owner {
            perms.push(Permission::new(Action::Write, r));
        }
    }
    let filter = meta::authorizations::AuthorizationFilter { user_id: Some(uid), ..Default::default() };
    for a in m.list_authorizations(&filter, &meta::FindOptions::all())? {
        if a.status == meta::authorizations::AuthStatus::Active {
            perms.extend(a.permissions);
        }
    }
    perms.extend(me_permissions(uid));
    Ok(perms)
}
