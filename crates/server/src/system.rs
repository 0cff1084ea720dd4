//! System endpoints: health, ping, ready, the route map, resources, flags, config.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::principal::Principal;
use crate::state::AppState;
use meta::auth::{ResourceType, is_operator};

/// The InfluxDB release whose API oxiflux speaks; clients read it from `/ping` and `/health`.
pub const INFLUXDB_VERSION: &str = "v2.7.12";

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        ("/api/v2".into(), get(routes_index)),
        ("/api/v2/config".into(), get(config)),
        ("/api/v2/flags".into(), get(flags)),
        ("/health".into(), get(health)),
        ("/metrics".into(), get(metrics)),
        ("/ping".into(), get(ping).head(ping)),
        ("/ready".into(), get(ready)),
        ("/api/v2/resources".into(), get(resources)),
        // Clients ask for the index with a trailing slash too.
        ("/api/v2/".into(), get(routes_index)),
    ]
}

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

/// `X-Influxdb-Build` and `X-Influxdb-Version` on every answer (2.7's `buildHeader`).
pub(crate) async fn build_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(HeaderName::from_static("x-influxdb-version"), HeaderValue::from_static(INFLUXDB_VERSION));
    h.insert(HeaderName::from_static("x-influxdb-build"), HeaderValue::from_static("OSS"));
    resp
}

/// `/ping`: 204, with the build headers every answer carries.
pub(crate) async fn ping() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Seconds since the server started, to the millisecond.
fn uptime_secs(state: &AppState) -> f64 {
    ((time::now_ns() - state.started) / time::MILLISECOND) as f64 / 1000.0
}

pub(crate) async fn ready(State(state): State<AppState>) -> Json<Value> {
    let secs = uptime_secs(&state);
    Json(json!({
        "status": "ready",
        "started": time::rfc3339::format(state.started, time::rfc3339::Fraction::Si),
        "up": format!("{secs}s"),
    }))
}

pub(crate) async fn routes_index() -> Json<Value> {
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

/// `GET /metrics`: Prometheus text format, public as in InfluxDB: the
/// server's uptime and each replication's queue (InfluxDB's metric names).
pub(crate) async fn metrics(axum::extract::State(state): axum::extract::State<crate::state::AppState>) -> Response {
    use std::fmt::Write;
    let mut out = String::new();
    let uptime = uptime_secs(&state);
    let _ = writeln!(
        out,
        "# HELP influxdb_uptime_seconds influxdb process uptime in seconds\n# TYPE influxdb_uptime_seconds gauge\ninfluxdb_uptime_seconds {uptime}"
    );
    let reps = state.replications.as_ref().map(|r| r.all_status()).unwrap_or_default();
    type Getter = fn(u64, &replication::Status) -> u64;
    let families: [(&str, &str, &str, Getter); 7] = [
        (
            "total_points_queued",
            "counter",
            "Sum of all points that have been successfully added to the replication stream queue",
            |_, s| s.points_queued,
        ),
        (
            "total_bytes_queued",
            "counter",
            "Sum of all bytes that have been successfully added to the replication stream queue",
            |_, s| s.bytes_queued,
        ),
        (
            "current_bytes_queued",
            "gauge",
            "Current number of bytes in the replication stream queue remaining to be processed",
            |pending, _| pending,
        ),
        (
            "remote_write_bytes_sent",
            "counter",
            "Bytes of data successfully sent to the remote by the replication stream",
            |_, s| s.sent_bytes,
        ),
        ("remote_write_bytes_dropped", "counter", "Bytes of data dropped due to remote write failures", |_, s| {
            s.dropped_bytes
        }),
        (
            "points_failed_to_queue",
            "counter",
            "Sum of all points that could not be added to the local replication queue",
            |_, s| s.points_failed_to_queue,
        ),
        (
            "bytes_failed_to_queue",
            "counter",
            "Sum of all bytes that could not be added to the local replication queue",
            |_, s| s.bytes_failed_to_queue,
        ),
    ];
    for (name, kind, help, get) in families {
        let _ = writeln!(out, "# HELP replications_queue_{name} {help}\n# TYPE replications_queue_{name} {kind}");
        for (id, pending, st) in &reps {
            let _ = writeln!(out, "replications_queue_{name}{{replicationID=\"{id:016x}\"}} {}", get(*pending, st));
        }
    }
    let _ = writeln!(
        out,
        "# HELP replications_queue_remote_write_errors Error codes returned from attempted remote writes\n# TYPE replications_queue_remote_write_errors counter"
    );
    for (id, _, st) in &reps {
        for (code, n) in &st.write_errors {
            let _ = writeln!(
                out,
                "replications_queue_remote_write_errors{{code=\"{code}\",replicationID=\"{id:016x}\"}} {n}"
            );
        }
    }
    let mut resp = out.into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
