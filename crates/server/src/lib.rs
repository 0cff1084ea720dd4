//! The oxiflux HTTP server: InfluxDB OSS v2's API over the metadata store.
//!
//! [`router`] is the one route table, to be held against
//! `reference/openapi/oss.yml`; one module per API resource holds its handlers
//! and their request and response types. Every protected route passes the
//! [`auth::authenticate`] middleware and then checks its own permission.
//! Errors reach the wire only through [`error::ApiError`].
//!
//! Not here: flags, config files and process lifetime (the `oxiflux` binary).

mod admission;
pub mod auth;
mod authorizations;
mod buckets;
mod dashboards;
mod dbrps;
mod delete;
pub mod error;
mod extract;
mod influxql;
mod labels;
mod legacy;
mod members;
mod orgs;
mod outbound;
mod paging;
mod query;
mod remotes;
mod replicate;
mod resource;
mod scraping;
mod secrets;
mod session;
mod setup;
mod sources;
mod state;
mod system;
mod tasks;
mod telegraf_plugins;
mod telegrafs;
mod users;
mod v1;
mod variables;
mod views;
mod write;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

pub use crate::admission::{Admission, QueryLimits};
use crate::error::{ApiError, Code};
use crate::members::{add_member, add_owner, list_members, list_owners, remove_member, remove_owner};
pub use crate::state::AppState;
pub use crate::system::INFLUXDB_VERSION;

/// The HTTP surface, in the order of the spec's tags.
pub fn router(state: AppState) -> Router {
    use buckets::Buckets;
    use orgs::Orgs;
    use tasks::Tasks;
    let api = Router::new()
        // System
        .route("/health", get(system::health))
        .route("/ping", get(system::ping).head(system::ping))
        .route("/metrics", get(system::metrics))
        .route("/ready", get(system::ready))
        .route("/api/v2", get(system::routes))
        .route("/api/v2/", get(system::routes))
        .route("/api/v2/resources", get(system::resources))
        .route("/api/v2/flags", get(system::flags))
        .route("/api/v2/config", get(system::config))
        // Setup, sign-in, me
        .route("/api/v2/setup", get(setup::allowed).post(setup::setup))
        .route("/api/v2/signin", post(session::signin))
        .route("/api/v2/signout", post(session::signout))
        .route("/api/v2/me", get(session::me))
        .route("/api/v2/me/password", axum::routing::put(session::put_me_password))
        // Organizations
        .route("/api/v2/orgs", get(orgs::list).post(orgs::create))
        .route("/api/v2/orgs/{id}", get(orgs::get).patch(orgs::patch).delete(orgs::delete))
        .route("/api/v2/orgs/{id}/members", get(list_members::<Orgs>).post(add_member::<Orgs>))
        .route("/api/v2/orgs/{id}/secrets", get(secrets::list).patch(secrets::patch))
        .route("/api/v2/orgs/{id}/secrets/delete", axum::routing::post(secrets::delete_many))
        .route("/api/v2/orgs/{id}/secrets/{name}", axum::routing::delete(secrets::delete_one))
        .route("/api/v2/orgs/{id}/members/{user}", axum::routing::delete(remove_member::<Orgs>))
        .route("/api/v2/orgs/{id}/owners", get(list_owners::<Orgs>).post(add_owner::<Orgs>))
        .route("/api/v2/orgs/{id}/owners/{user}", axum::routing::delete(remove_owner::<Orgs>))
        // Users
        .route("/api/v2/users", get(users::list).post(users::create))
        .route("/api/v2/users/{id}", get(users::get).patch(users::patch).delete(users::delete))
        .route("/api/v2/users/{id}/password", post(session::set_user_password).put(session::set_user_password))
        // Buckets
        .route("/api/v2/buckets", get(buckets::list).post(buckets::create))
        .route("/api/v2/buckets/{id}", get(buckets::get).patch(buckets::patch).delete(buckets::delete))
        .route("/api/v2/buckets/{id}/labels", get(labels::list_on::<Buckets>).post(labels::add_on::<Buckets>))
        .route("/api/v2/buckets/{id}/labels/{label}", axum::routing::delete(labels::remove_on::<Buckets>))
        .route("/api/v2/buckets/{id}/members", get(list_members::<Buckets>).post(add_member::<Buckets>))
        .route("/api/v2/buckets/{id}/members/{user}", axum::routing::delete(remove_member::<Buckets>))
        .route("/api/v2/buckets/{id}/owners", get(list_owners::<Buckets>).post(add_owner::<Buckets>))
        .route("/api/v2/buckets/{id}/owners/{user}", axum::routing::delete(remove_owner::<Buckets>))
        // Remote connections and replications
        .route("/api/v2/remotes", get(remotes::list_remotes).post(remotes::create_remote))
        .route(
            "/api/v2/remotes/{id}",
            get(remotes::get_remote).patch(remotes::patch_remote).delete(remotes::delete_remote),
        )
        .route("/api/v2/replications", get(remotes::list_replications).post(remotes::create_replication))
        .route(
            "/api/v2/replications/{id}",
            get(remotes::get_replication).patch(remotes::patch_replication).delete(remotes::delete_replication),
        )
        .route("/api/v2/replications/{id}/validate", post(remotes::validate_replication))
        // Dashboards
        .route("/api/v2/dashboards", get(dashboards::list).post(dashboards::create))
        .route("/api/v2/dashboards/{id}", get(dashboards::get).patch(dashboards::patch).delete(dashboards::delete))
        .route("/api/v2/dashboards/{id}/cells", post(dashboards::add_cell).put(dashboards::replace_all_cells))
        .route(
            "/api/v2/dashboards/{id}/cells/{cell}",
            axum::routing::patch(dashboards::patch_cell).delete(dashboards::delete_cell),
        )
        .route("/api/v2/dashboards/{id}/cells/{cell}/view", get(dashboards::get_view).patch(dashboards::patch_view))
        .route(
            "/api/v2/dashboards/{id}/labels",
            get(labels::list_on::<dashboards::Dashboards>).post(labels::add_on::<dashboards::Dashboards>),
        )
        .route(
            "/api/v2/dashboards/{id}/labels/{label}",
            axum::routing::delete(labels::remove_on::<dashboards::Dashboards>),
        )
        .route(
            "/api/v2/dashboards/{id}/members",
            get(list_members::<dashboards::Dashboards>).post(add_member::<dashboards::Dashboards>),
        )
        .route("/api/v2/dashboards/{id}/members/{user}", axum::routing::delete(remove_member::<dashboards::Dashboards>))
        .route(
            "/api/v2/dashboards/{id}/owners",
            get(list_owners::<dashboards::Dashboards>).post(add_owner::<dashboards::Dashboards>),
        )
        .route("/api/v2/dashboards/{id}/owners/{user}", axum::routing::delete(remove_owner::<dashboards::Dashboards>))
        // Telegraf configurations and plugins, scraper targets
        .route("/api/v2/telegraf/plugins", get(telegrafs::plugins))
        .route("/api/v2/telegrafs", get(telegrafs::list_telegrafs).post(telegrafs::create_telegraf))
        .route(
            "/api/v2/telegrafs/{id}",
            get(telegrafs::get_telegraf).put(telegrafs::put_telegraf).delete(telegrafs::delete_telegraf),
        )
        .route(
            "/api/v2/telegrafs/{id}/labels",
            get(labels::list_on::<telegrafs::Telegrafs>).post(labels::add_on::<telegrafs::Telegrafs>),
        )
        .route(
            "/api/v2/telegrafs/{id}/labels/{label}",
            axum::routing::delete(labels::remove_on::<telegrafs::Telegrafs>),
        )
        .route(
            "/api/v2/telegrafs/{id}/members",
            get(list_members::<telegrafs::Telegrafs>).post(add_member::<telegrafs::Telegrafs>),
        )
        .route("/api/v2/telegrafs/{id}/members/{user}", axum::routing::delete(remove_member::<telegrafs::Telegrafs>))
        .route(
            "/api/v2/telegrafs/{id}/owners",
            get(list_owners::<telegrafs::Telegrafs>).post(add_owner::<telegrafs::Telegrafs>),
        )
        .route("/api/v2/telegrafs/{id}/owners/{user}", axum::routing::delete(remove_owner::<telegrafs::Telegrafs>))
        .route("/api/v2/scrapers", get(telegrafs::list_scrapers).post(telegrafs::create_scraper))
        .route(
            "/api/v2/scrapers/{id}",
            get(telegrafs::get_scraper).patch(telegrafs::patch_scraper).delete(telegrafs::delete_scraper),
        )
        .route(
            "/api/v2/scrapers/{id}/labels",
            get(labels::list_on::<telegrafs::Scrapers>).post(labels::add_on::<telegrafs::Scrapers>),
        )
        .route("/api/v2/scrapers/{id}/labels/{label}", axum::routing::delete(labels::remove_on::<telegrafs::Scrapers>))
        .route(
            "/api/v2/scrapers/{id}/members",
            get(list_members::<telegrafs::Scrapers>).post(add_member::<telegrafs::Scrapers>),
        )
        .route("/api/v2/scrapers/{id}/members/{user}", axum::routing::delete(remove_member::<telegrafs::Scrapers>))
        .route(
            "/api/v2/scrapers/{id}/owners",
            get(list_owners::<telegrafs::Scrapers>).post(add_owner::<telegrafs::Scrapers>),
        )
        .route("/api/v2/scrapers/{id}/owners/{user}", axum::routing::delete(remove_owner::<telegrafs::Scrapers>))
        // Variables
        .route("/api/v2/variables", get(variables::list).post(variables::create))
        .route(
            "/api/v2/variables/{id}",
            get(variables::get).patch(variables::patch).put(variables::put).delete(variables::delete),
        )
        .route(
            "/api/v2/variables/{id}/labels",
            get(labels::list_on::<variables::Variables>).post(labels::add_on::<variables::Variables>),
        )
        .route(
            "/api/v2/variables/{id}/labels/{label}",
            axum::routing::delete(labels::remove_on::<variables::Variables>),
        )
        // Data sources
        .route("/api/v2/sources", get(sources::list).post(sources::create))
        .route("/api/v2/sources/{id}", get(sources::get).patch(sources::patch).delete(sources::delete))
        .route("/api/v2/sources/{id}/buckets", get(sources::buckets))
        .route("/api/v2/sources/{id}/health", get(sources::health))
        // Tasks
        .route("/api/v2/tasks", get(tasks::list).post(tasks::create))
        .route("/api/v2/tasks/{id}", get(tasks::get).patch(tasks::patch).delete(tasks::delete))
        .route("/api/v2/tasks/{id}/labels", get(labels::list_on::<Tasks>).post(labels::add_on::<Tasks>))
        .route("/api/v2/tasks/{id}/labels/{label}", axum::routing::delete(labels::remove_on::<Tasks>))
        .route("/api/v2/tasks/{id}/members", get(list_members::<Tasks>).post(add_member::<Tasks>))
        .route("/api/v2/tasks/{id}/members/{user}", axum::routing::delete(remove_member::<Tasks>))
        .route("/api/v2/tasks/{id}/owners", get(list_owners::<Tasks>).post(add_owner::<Tasks>))
        .route("/api/v2/tasks/{id}/owners/{user}", axum::routing::delete(remove_owner::<Tasks>))
        .route("/api/v2/tasks/{id}/logs", get(tasks::logs))
        .route("/api/v2/tasks/{id}/runs", get(tasks::runs).post(tasks::force_run))
        .route("/api/v2/tasks/{id}/runs/{run}", get(tasks::get_run).delete(tasks::cancel_run))
        .route("/api/v2/tasks/{id}/runs/{run}/logs", get(tasks::run_logs))
        .route("/api/v2/tasks/{id}/runs/{run}/retry", post(tasks::retry_run))
        // Authorizations
        .route("/api/v2/authorizations", get(authorizations::list).post(authorizations::create))
        .route("/private/legacy/authorizations", get(legacy::list).post(legacy::create))
        .route("/private/legacy/authorizations/{id}", get(legacy::get).patch(legacy::patch).delete(legacy::delete))
        .route("/private/legacy/authorizations/{id}/password", post(legacy::password))
        .route(
            "/api/v2/authorizations/{id}",
            get(authorizations::get).patch(authorizations::patch).delete(authorizations::delete),
        )
        // Query (Flux syntax so far)
        .route("/api/v2/query", post(query::query))
        .route("/api/v2/query/ast", post(query::ast))
        .route("/api/v2/query/analyze", post(query::analyze))
        .route("/api/v2/query/suggestions", get(query::suggestions))
        .route("/api/v2/query/suggestions/{name}", get(query::suggestion))
        // Write, delete, DBRP mappings
        .route("/api/v2/write", post(write::write_v2).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/write", post(write::write_v1).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/query", get(influxql::query).post(influxql::query))
        .route("/api/v2/delete", post(delete::delete))
        .route("/api/v2/dbrps", get(dbrps::list).post(dbrps::create))
        .route("/api/v2/dbrps/{id}", get(dbrps::get).patch(dbrps::patch).delete(dbrps::delete))
        // Labels
        .route("/api/v2/labels", get(labels::list).post(labels::create))
        .route("/api/v2/labels/{id}", get(labels::get).patch(labels::patch).delete(labels::delete))
        .fallback(|| async { ApiError::not_found("path not found") })
        .method_not_allowed_fallback(|| async { ApiError::new(Code::MethodNotAllowed, "method not allowed") });

    let outbound = Arc::clone(&state.outbound);
    let app = api
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(
            // Spans carry the path only: query strings can hold credentials (`token=`, `p=`).
            TraceLayer::new_for_http().make_span_with(
                |req: &Request<_>| tracing::debug_span!("request", method = %req.method(), path = %req.uri().path()),
            ),
        )
        .with_state(state);
    // `influxdb.api()` calls back into these routes. (The router holds the
    // state that holds it: both live as long as the server.)
    let _ = outbound.own_api.set(app.clone());
    app
}

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
