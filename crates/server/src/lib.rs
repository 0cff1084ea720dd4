//! The oxiflux HTTP server: InfluxDB OSS v2's API over the metadata store,
//! storage and the query engines.
//!
//! Handlers live by area, each folder with its `routes()`: `system`
//! (health, ping, metrics, config), `access` (authentication, onboarding,
//! sessions, tokens), `tenancy` (orgs, users, buckets, labels, members,
//! secrets), `data` (write, delete, Flux, InfluxQL, DBRPs, sources),
//! `dashboards` (and variables), `telegraf` (configs, plugins, scrapers),
//! `tasks`, `replication` and `alerts` (checks, notification endpoints and
//! rules). [`router`] (in `routes`) is the one table of
//! every path, in the order of `reference/openapi/oss.yml`; every protected
//! route passes the authentication middleware and then checks its own
//! permission. Below the areas: the shared state, the principal a request
//! acts as, the one write path (`ingest`), query admission, calls out, and
//! the wire error ([`error::ApiError`], made here and nowhere else).
//!
//! Not here: flags, config files and process lifetime (the `oxiflux` binary).

mod access;
mod admission;
mod alerts;
mod backup;
mod dashboards;
mod data;
pub mod error;
mod extract;
mod ingest;
mod outbound;
mod paging;
mod principal;
mod replication;
mod routes;
mod state;
mod system;
mod tasks;
mod telegraf;
mod templates;
mod tenancy;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::admission::{Admission, QueryLimits};
pub use crate::ingest::{Ingest, IngestError};
pub use crate::routes::{operations, router};
pub use crate::state::AppState;
pub use crate::system::INFLUXDB_VERSION;

/// HTTPS material: PEM certificate chain and private key.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Certificate and key, loaded and checked, ready to serve with.
#[derive(Clone)]
pub struct TlsConfig(axum_server::tls_rustls::RustlsConfig);

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig")
    }
}

impl Tls {
    /// Reads and parses the PEM files, so a bad certificate stops start-up with a message.
    pub async fn load(&self) -> std::io::Result<TlsConfig> {
        // Two rustls back-ends can be linked in; pick one explicitly. An error
        // only means a provider is already installed.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&self.cert, &self.key).await?;
        Ok(TlsConfig(config))
    }
}

/// Serves `router(state)` on an already-bound listener until `shutdown` resolves,
/// then lets requests in flight finish.
pub async fn serve(
    state: AppState,
    listener: std::net::TcpListener,
    tls: Option<TlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    listener.set_nonblocking(true)?;
    match tls {
        None => {
            use axum::serve::ListenerExt;
            // Without TCP_NODELAY a response's last small write waits for the
            // client's delayed ACK: 40 ms on every small query.
            let listener = tokio::net::TcpListener::from_std(listener)?.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "could not set TCP_NODELAY");
                }
            });
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
        Some(TlsConfig(config)) => {
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener, config).handle(handle).serve(app).await
        }
    }
}
