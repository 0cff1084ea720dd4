use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::principal::Principal;

use crate::error::{ApiError, ApiResult};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub meta: Arc<meta::Store>,
    pub storage: Arc<storage::Storage>,
    /// Largest accepted write body after decompression; 0 = no limit (`--http-max-request-size`).
    pub max_request_size: usize,
    /// When the server started, in nanoseconds since the epoch.
    pub started: i64,
    /// The effective configuration, shown by `GET /api/v2/config`.
    pub config: Arc<serde_json::Value>,
    pub session_ttl_secs: i64,
    /// Whether the listener is HTTPS (the session cookie is then `Secure`).
    pub tls: bool,
    /// Admission and limits of Flux queries.
    pub queries: Arc<crate::admission::Admission>,
    /// Hot metadata reads (a token's principal, an org), kept while the store is unchanged.
    pub(crate) cache: Arc<ReadCache>,
    /// The key orgs' secrets are sealed with (kept in the data directory).
    pub secret_key: Option<Arc<meta::secrets::SecretKey>>,
    /// Requests queries send (out of the server, or back into its API).
    pub(crate) outbound: Arc<crate::outbound::Outbound>,
    /// Replication queues and their senders (with a data directory to keep them in).
    pub replications: Option<Arc<replication::Replications>>,
    /// The task scheduler, once started (`--no-tasks` leaves it unset).
    pub(crate) scheduler: Arc<std::sync::OnceLock<Arc<tasks::Scheduler>>>,
}

/// How a request names an org.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum OrgKey {
    Id(meta::Id),
    Name(String),
}

/// Answers of the metadata reads every request makes, each kept with the
/// store's generation at the time of the read and used only while the store
/// is still at that generation: any write (a token deactivated, a user or org
/// changed) makes every entry stale. Saves a blocking-pool round trip and a
/// SQLite read per request.
#[derive(Debug, Default)]
pub(crate) struct ReadCache {
    principals: Mutex<HashMap<[u8; 32], (u64, Principal)>>,
    orgs: Mutex<HashMap<OrgKey, (u64, meta::orgs::Org)>>,
    dbrps: Mutex<HashMap<DbrpKey, Resolved>>,
}

/// A DBRP resolution (`None`: no mapping) and the generation it was read at.
type Resolved = (u64, Option<meta::dbrps::Dbrp>);

/// A v1 request's org, `db` and `rp`.
pub(crate) type DbrpKey = (meta::Id, String, String);

/// Entries kept per map; past it, the map starts over.
const CACHE_ENTRIES: usize = 1024;

impl ReadCache {
    /// The principal of the token with this digest, read at `generation`.
    pub(crate) fn principal(&self, generation: u64, digest: &[u8; 32]) -> Option<Principal> {
        let map = self.principals.lock().unwrap_or_else(|e| e.into_inner());
        map.get(digest).filter(|(g, _)| *g == generation).map(|(_, p)| p.clone())
    }

    pub(crate) fn keep_principal(&self, generation: u64, digest: [u8; 32], p: Principal) {
        let mut map = self.principals.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        map.insert(digest, (generation, p));
    }

    /// The DBRP mapping a v1 `db`/`rp` resolved to (`None`: none), read at `generation`.
    pub(crate) fn dbrp(&self, generation: u64, key: &DbrpKey) -> Option<Option<meta::dbrps::Dbrp>> {
        let map = self.dbrps.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).filter(|(g, _)| *g == generation).map(|(_, d)| d.clone())
    }

    pub(crate) fn keep_dbrp(&self, generation: u64, key: DbrpKey, d: Option<meta::dbrps::Dbrp>) {
        let mut map = self.dbrps.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, (generation, d));
    }

    pub(crate) fn org(&self, generation: u64, key: &OrgKey) -> Option<meta::orgs::Org> {
        let map = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).filter(|(g, _)| *g == generation).map(|(_, o)| o.clone())
    }

    pub(crate) fn keep_org(&self, generation: u64, key: OrgKey, org: meta::orgs::Org) {
        let mut map = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, (generation, org));
    }
}

impl AppState {
    /// The scheduler, if tasks run here.
    pub(crate) fn scheduler(&self) -> Option<&Arc<tasks::Scheduler>> {
        self.scheduler.get()
    }

    /// Tells the scheduler to look again (a task changed or a run was asked for).
    pub(crate) fn wake_scheduler(&self) {
        if let Some(s) = self.scheduler.get() {
            s.wake();
        }
    }

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
            started: time::now_ns(),
            config: Arc::new(config),
            session_ttl_secs,
            tls,
            queries: Arc::new(crate::admission::Admission::new(&crate::admission::QueryLimits::default())),
            cache: Arc::default(),
            secret_key: None,
            outbound: Arc::default(),
            scheduler: Arc::default(),
            replications: None,
        }
    }

    /// Where writes go: the one write path, over this server's storage and
    /// replication queues.
    pub(crate) fn ingest(&self) -> crate::ingest::Ingest {
        crate::ingest::Ingest::new(Arc::clone(&self.storage), self.replications.clone())
    }

    /// Runs CPU- or disk-bound storage work on the blocking pool.
    pub async fn storage<T: Send + 'static>(
        &self,
        f: impl FnOnce(&storage::Storage) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let s = Arc::clone(&self.storage);
        blocking(move || f(&s)).await
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

/// Runs blocking work (disk, fsync, CPU) on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(format!("storage task failed: {e}")))?
}
