//! Templates apply and export through the server's own API, as the caller:
//! every resource is made, changed, read and deleted by the same handler a
//! client would call, with its checks and its permission rules (2.7's
//! pkger likewise works through the authorized services).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use serde_json::Value;
use tower::ServiceExt;

use crate::error::{ApiError, ApiResult, Code};
use crate::principal::{ActingAs, Principal};
use crate::state::AppState;

/// Largest answer read from one call (a dashboard with its views).
const MAX_ANSWER: usize = 64 << 20;

/// Calls into this server's API on behalf of one principal.
#[derive(Clone)]
pub(crate) struct Api {
    router: axum::Router,
    principal: Principal,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

impl Api {
    pub(crate) fn new(state: &AppState, principal: &Principal) -> ApiResult<Api> {
        let router =
            state.outbound.own_api.get().cloned().ok_or_else(|| ApiError::internal("the server's API is not ready"))?;
        Ok(Api { router, principal: principal.clone() })
    }

    /// One call; an answer that is not a success is its `{"code","message"}` as an error.
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> ApiResult<Value> {
        let mut builder = axum::http::Request::builder().method(method).uri(path).header("accept", "application/json");
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let mut request = builder
            .body(Body::from(payload))
            .map_err(|e| ApiError::internal(format!("invalid request {path}: {e}")))?;
        request.extensions_mut().insert(ActingAs(self.principal.clone()));
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
        let resp = self.router.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| ApiError::internal(format!("reading {path}: {e}")))?;
        let value: Value =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        if status.is_success() {
            return Ok(value);
        }
        let message = value["message"].as_str().unwrap_or("request failed").to_owned();
        let code = match status.as_u16() {
            400 => Code::Invalid,
            401 => Code::Unauthorized,
            403 => Code::Forbidden,
            404 => Code::NotFound,
            413 => Code::TooLarge,
            422 => Code::Unprocessable,
            _ => Code::Internal,
        };
        Err(ApiError::new(code, message))
    }

    pub(crate) async fn get(&self, path: &str) -> ApiResult<Value> {
        self.call("GET", path, None).await
    }

    /// A GET that may find nothing.
    pub(crate) async fn find(&self, path: &str) -> ApiResult<Option<Value>> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == Code::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> ApiResult<Value> {
        self.call("POST", path, Some(body)).await
    }

    /// A DELETE where a resource already gone is no failure.
    pub(crate) async fn delete(&self, path: &str) -> ApiResult<()> {
        match self.call("DELETE", path, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == Code::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}
