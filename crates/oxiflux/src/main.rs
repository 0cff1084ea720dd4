//! `oxiflux`: the server binary. Reads flags, environment and config file as
//! `influxd` does, opens the data directory, and serves until SIGINT or SIGTERM.

mod autosetup;
mod backup;
mod config;
mod import;
mod load;
mod retention;
mod upgrade;

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use crate::config::{Cli, Command, Config};

/// mimalloc instead of the system allocator: glibc's per-thread arenas let
/// freed memory pile up across the runtime's threads (measured with
/// `oxiflux-bench compare`: see the notes on the write-path issue).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same index in both mimalloc versions
/// the crate builds), in milliseconds.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The built-in default, 1 s, kept freed pages resident long enough that a busy
/// server's RSS ran ~110 MiB above its live heap (heaptrack and `oxiflux-bench
/// compare`, 1,000 hosts × 6 h). Measured there: 0 ms gave the lowest RSS (196 MiB)
/// but ~10% less ingest than 10 ms (221–235 MiB). Queries, though, fault their
/// buffers back in when memory goes back that soon: `oxiflux-bench queries` ran
/// 10–40% slower at 10 ms than at 1 s (page faults were a third of a small
/// query under `perf`); 100 ms keeps most of both.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

fn purge_freed_memory_promptly() {
    // An operator's `MIMALLOC_PURGE_DELAY` wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one process-wide mimalloc option; no memory is touched.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
    }
}

fn main() -> anyhow::Result<()> {
    purge_freed_memory_promptly();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Version) => {
            println!("oxiflux {} (InfluxDB OSS API {})", env!("CARGO_PKG_VERSION"), server::INFLUXDB_VERSION);
            Ok(())
        }
        Some(Command::Run(args)) => run(merge(cli.run, *args)),
        Some(Command::Backup(args)) => backup::backup(args),
        Some(Command::Restore(args)) => backup::restore(args),
        Some(Command::Upgrade(args)) => upgrade::run(*args, Config::resolve(cli.run)?.data_dir),
        Some(Command::ImportBackup(args)) => import::run(*args, Config::resolve(cli.run)?.data_dir),
        None => run(cli.run),
    }
}

/// Flags given after `run` win over ones given before it.
fn merge(outer: config::RunArgs, inner: config::RunArgs) -> config::RunArgs {
    config::RunArgs {
        config: inner.config.or(outer.config),
        http_bind_address: inner.http_bind_address.or(outer.http_bind_address),
        data_dir: inner.data_dir.or(outer.data_dir),
        log_level: inner.log_level.or(outer.log_level),
        tls_cert: inner.tls_cert.or(outer.tls_cert),
        tls_key: inner.tls_key.or(outer.tls_key),
        session_length: inner.session_length.or(outer.session_length),
        http_max_request_size: inner.http_max_request_size.or(outer.http_max_request_size),
        storage_cache_snapshot_memory_size: inner
            .storage_cache_snapshot_memory_size
            .or(outer.storage_cache_snapshot_memory_size),
        storage_cache_snapshot_write_cold_duration: inner
            .storage_cache_snapshot_write_cold_duration
            .or(outer.storage_cache_snapshot_write_cold_duration),
        storage_retention_check_interval: inner
            .storage_retention_check_interval
            .or(outer.storage_retention_check_interval),
        query_concurrency: inner.query_concurrency.or(outer.query_concurrency),
        query_queue_size: inner.query_queue_size.or(outer.query_queue_size),
        query_memory_bytes: inner.query_memory_bytes.or(outer.query_memory_bytes),
        query_initial_memory_bytes: inner.query_initial_memory_bytes.or(outer.query_initial_memory_bytes),
        query_max_memory_bytes: inner.query_max_memory_bytes.or(outer.query_max_memory_bytes),
        query_timeout: inner.query_timeout.or(outer.query_timeout),
        no_tasks: inner.no_tasks.or(outer.no_tasks),
        task_workers: inner.task_workers.or(outer.task_workers),
        task_catch_up_limit: inner.task_catch_up_limit.or(outer.task_catch_up_limit),
        task_run_history: inner.task_run_history.or(outer.task_run_history),
        scraper_interval: inner.scraper_interval.or(outer.scraper_interval),
    }
}

fn run(args: config::RunArgs) -> anyhow::Result<()> {
    let config = Config::resolve(args)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "warn,oxiflux={0},server={0},meta={0}",
            config.log_level
        )))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();

    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let store = meta::Store::open(&config.data_dir.join("meta.sqlite")).context("opening metadata store")?;
    autosetup::run(&store, |k| std::env::var(k).ok())?;
    let storage_config = storage::StorageConfig {
        cache_snapshot_memory_size: config.storage_cache_snapshot_memory_size,
        cache_snapshot_write_cold_duration_ns: config.storage_cache_snapshot_write_cold_duration,
        ..storage::StorageConfig::default()
    };
    let engine =
        Arc::new(storage::Storage::open(&config.data_dir, storage_config).context("opening the storage engine")?);
    let store = Arc::new(store);
    let engine_for_retention = Arc::clone(&engine);

    let tls = config.tls_cert.clone().zip(config.tls_key.clone()).map(|(cert, key)| server::Tls { cert, key });
    let mut state = server::AppState::new(
        Arc::clone(&store),
        Arc::clone(&engine),
        serde_json::to_value(&config)?,
        config.session_length * 60,
        tls.is_some(),
    );
    state.max_request_size = config.http_max_request_size;
    state.secret_key = Some(Arc::new(
        meta::secrets::SecretKey::open_or_create(&config.data_dir.join("secrets.key"))
            .context("opening the secrets key")?,
    ));
    state.queries = Arc::new(server::Admission::new(&config.query_limits()));
    state.replications = Some(Arc::new(replication::Replications::new(&config.data_dir.join("replicationq"))));
    let retention_every = std::time::Duration::from_nanos(config.storage_retention_check_interval as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let tls = match tls {
            Some(t) => Some(t.load().await.with_context(|| {
                format!("loading TLS certificate {} and key {}", t.cert.display(), t.key.display())
            })?),
            None => None,
        };
        let listener = std::net::TcpListener::bind(config.bind_address())
            .with_context(|| format!("binding {}", config.http_bind_address))?;
        let addr = listener.local_addr()?;
        let transport = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%transport, %addr, port = addr.port(), "Listening");
        tokio::spawn(retention::run(store, Arc::clone(&engine_for_retention), retention_every));
        state.start_replications().map_err(anyhow::Error::msg).context("starting replications")?;
        // The scheduler and the scraper stop with the server.
        let (stop_scrapers, scrapers_stopped) = tokio::sync::oneshot::channel::<()>();
        let scrapers =
            state.start_scrapers(std::time::Duration::from_nanos(config.scraper_interval as u64), async move {
                let _ = scrapers_stopped.await;
            });
        let (stop_tasks, tasks_stopped) = tokio::sync::oneshot::channel::<()>();
        let scheduler = (!config.no_tasks).then(|| {
            state.start_tasks(config.task_config(), async move {
                let _ = tasks_stopped.await;
            })
        });
        let served = server::serve(state, listener, tls, shutdown_signal()).await.context("serving HTTP");
        let _ = stop_tasks.send(());
        let _ = stop_scrapers.send(());
        let _ = scrapers.await;
        if let Some(s) = scheduler {
            let _ = s.await;
        }
        served
    })?;
    // On a clean stop the buffer goes to Parquet, so the next start replays little.
    if let Err(e) = engine.flush() {
        tracing::warn!(error = %e, "flushing the buffer at shutdown failed; the WAL keeps it");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}
