//! System endpoints: health, ping, ready, the route map, resources, flags, config.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use meta::auth::{ResourceType, is_operator};

/// The InfluxDB release whose API oxiflux speaks; clients read it from `/ping` and `/health`.
pub const INFLUXDB_VERSION: &str = "v2.7.12";

pub(crate) async fn health() -> Json<Value> {
    Json(json!({
        "name": "influxdb",
        "message": "ready for queries and writes",
        "status": "pass",
        "checks": [],
        "version": INFLUXDB_VERSION,
        "commit": concat!("oxiflux-", env!("CARGO_PKG_VERSION")),
    }))
}

pub(crate) async fn ping() -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(HeaderName::from_static("x-influxdb-version"), HeaderValue::from_static(INFLUXDB_VERSION));
    h.insert(HeaderName::from_static("x-influxdb-build"), HeaderValue::from_static("OSS"));
    resp
}

pub(crate) async fn ready(State(state): State<AppState>) -> Json<Value> {
    let up = chrono::Utc::now() - state.started;
    let secs = up.num_milliseconds() as f64 / 1000.0;
    Json(json!({
        "status": "ready",
        "started": state.started.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "up": format!("{secs}s"),
    }))
}

pub(crate) async fn routes() -> Json<Value> {
    Json(json!({
        "authorizations": "/api/v2/authorizations",
        "buckets": "/api/v2/buckets",
        "dashboards": "/api/v2/dashboards",
        "external": { "statusFeed": "https://www.influxdata.com/feed/json" },
        "flags": "/api/v2/flags",
        "me": "/api/v2/me",
        "orgs": "/api/v2/orgs",
        "query": {
            "self": "/api/v2/query",
            "ast": "/api/v2/query/ast",
            "analyze": "/api/v2/query/analyze",
            "suggestions": "/api/v2/query/suggestions",
        },
        "setup": "/api/v2/setup",
        "signin": "/api/v2/signin",
        "signout": "/api/v2/signout",
        "sources": "/api/v2/sources",
        "system": { "metrics": "/metrics", "debug": "/debug/pprof", "health": "/health" },
        "tasks": "/api/v2/tasks",
        "telegrafs": "/api/v2/telegrafs",
        "users": "/api/v2/users",
        "variables": "/api/v2/variables",
        "write": "/api/v2/write",
    }))
}

pub(crate) async fn resources(_: Principal) -> Json<Vec<&'static str>> {
    Json(ResourceType::ALL.iter().map(|t| t.as_str()).collect())
}

/// The feature flags InfluxDB 2.7 exposes to clients, at their defaults.
pub(crate) async fn flags(_: Principal) -> Json<Value> {
    Json(json!({
        "appMetrics": false,
        "timeFilterFlags": false,
        "cursorAtEOF": false,
        "refreshSingleCell": true,
        "newAutoRefresh": true,
    }))
}

/// The running configuration; operators only, as in InfluxDB.
pub(crate) async fn config(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    if !(p.active && is_operator(&p.permissions)) {
        return Err(ApiError::unauthorized("access to /api/v2/config requires operator permissions"));
    }
    Ok(Json(json!({ "config": *state.config })))
}
