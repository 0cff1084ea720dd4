//! Onboarding: `GET|POST /api/v2/setup`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, Code};
use crate::extract::JsonBody;
use crate::state::AppState;
use crate::tenancy::views;
use meta::onboarding::Setup;

pub(crate) async fn allowed(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let allowed = state.meta(|m| m.onboarding_allowed()).await?;
    Ok(Json(json!({ "allowed": allowed })))
}

#[derive(Deserialize)]
pub(crate) struct SetupRequest {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    bucket: String,
    #[serde(rename = "retentionPeriodSeconds", default)]
    retention_period_seconds: i64,
    /// Despite its name, nanoseconds (InfluxDB's own note on the field).
    #[serde(rename = "retentionPeriodHrs", default)]
    retention_period_hrs: i64,
    #[serde(default)]
    token: String,
}

/// Runs setup once; the answer is the only place the operator token is ever shown.
pub(crate) async fn setup(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<SetupRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let missing: Vec<&str> = [("username", &req.username), ("org", &req.org), ("bucket", &req.bucket)]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::new(
            Code::Unprocessable,
            format!("onboarding failed: missing required fields [{}]", missing.join(",")),
        ));
    }
    let retention = if req.retention_period_seconds > 0 {
        req.retention_period_seconds
    } else {
        req.retention_period_hrs.max(0) / 1_000_000_000
    };
    let setup = Setup {
        username: req.username,
        password: Some(req.password).filter(|p| !p.is_empty()),
        org: req.org,
        bucket: req.bucket,
        retention_seconds: retention,
        token: Some(req.token).filter(|t| !t.is_empty()),
    };
    let body = state
        .meta(move |m| -> ApiResult<Value> {
            let r = m.setup(&setup)?;
            Ok(json!({
                "user": views::user(&r.user),
                "org": views::org(&r.org),
                "bucket": views::bucket(&r.bucket, &[]),
                "auth": views::authorization(&r.auth, m),
            }))
        })
        .await?;
    tracing::info!("onboarding completed");
    Ok((StatusCode::CREATED, Json(body)))
}
