use std::sync::Arc;

use crate::error::{ApiError, ApiResult};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub meta: Arc<meta::Store>,
    pub storage: Arc<storage::Storage>,
    /// Largest accepted write body after decompression; 0 = no limit (`--http-max-request-size`).
    pub max_request_size: usize,
    pub started: chrono::DateTime<chrono::Utc>,
    /// The effective configuration, shown by `GET /api/v2/config`.
    pub config: Arc<serde_json::Value>,
    pub session_ttl_secs: i64,
    /// Whether the listener is HTTPS (the session cookie is then `Secure`).
    pub tls: bool,
    /// Admission and limits of Flux queries.
    pub queries: Arc<crate::admission::Admission>,
}

impl AppState {
    pub fn new(
        meta: Arc<meta::Store>,
        storage: Arc<storage::Storage>,
        config: serde_json::Value,
        session_ttl_secs: i64,
        tls: bool,
    ) -> Self {
        Self {
            meta,
            storage,
            max_request_size: 0,
            started: chrono::Utc::now(),
            config: Arc::new(config),
            session_ttl_secs,
            tls,
            queries: Arc::new(crate::admission::Admission::new(&crate::admission::QueryLimits::default())),
        }
    }

    /// Runs CPU- or disk-bound storage work on the blocking pool.
    pub async fn storage<T: Send + 'static>(
        &self,
        f: impl FnOnce(&storage::Storage) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let s = Arc::clone(&self.storage);
        tokio::task::spawn_blocking(move || f(&s))
            .await
            .map_err(|e| ApiError::internal(format!("storage task failed: {e}")))?
    }

    /// Runs a metadata call on the blocking pool: SQLite and bcrypt must not
    /// stall the async workers.
    pub async fn meta<T, E>(&self, f: impl FnOnce(&meta::Store) -> Result<T, E> + Send + 'static) -> ApiResult<T>
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
