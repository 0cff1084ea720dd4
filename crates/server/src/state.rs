use std::sync::Arc;

use crate::error::{ApiError, ApiResult};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub meta: Arc<meta::Store>,
    pub started: chrono::DateTime<chrono::Utc>,
    /// The effective configuration, shown by `GET /api/v2/config`.
    pub config: Arc<serde_json::Value>,
    pub session_ttl_secs: i64,
    /// Whether the listener is HTTPS (the session cookie is then `Secure`).
    pub tls: bool,
}

impl AppState {
    pub fn new(
        meta: Arc<meta::Store>,
        config: serde_json::Value,
        session_ttl_secs: i64,
        tls: bool,
    ) -> Self {
        Self {
            meta,
            started: chrono::Utc::now(),
            config: Arc::new(config),
            session_ttl_secs,
            tls,
        }
    }

    /// Runs a metadata call on the blocking pool: SQLite and bcrypt must not
    /// stall the async workers.
    pub async fn meta<T, E>(
        &self,
        f: impl FnOnce(&meta::Store) -> Result<T, E> + Send + 'static,
    ) -> ApiResult<T>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.meta);
        tokio::task::spawn_blocking(move || f(&store).map_err(Into::into))
            .await
            .map_err(|e| ApiError::internal(format!("metadata task failed: {e}")))?
    }
}
