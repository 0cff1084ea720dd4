//! Configuration as `influxd` takes it: a flag, else its `INFLUXD_*` variable,
//! else the config file (`--config` or `INFLUXD_CONFIG_PATH`; TOML, YAML or
//! JSON, keys named like the flags), else the default.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

#[derive(Debug, Parser)]
#[command(name = "oxiflux", about = "A time-series database server that speaks the InfluxDB OSS v2 API")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start the server (the default).
    Run(Box<RunArgs>),
    /// Print the version.
    Version,
    /// Back a server up into a directory, as `influx backup` does.
    Backup(crate::backup::BackupArgs),
    /// Restore a backup directory into a server, as `influx restore` does.
    Restore(crate::backup::RestoreArgs),
    /// Move an InfluxDB 1.x installation into a new data directory (--data-dir),
    /// as `influxd upgrade` does; run it with the server stopped.
    Upgrade(Box<crate::upgrade::UpgradeArgs>),
    /// Read the data of a 2.x `influx backup` directory into a data directory
    /// (--data-dir); run it with the server stopped.
    ImportBackup(Box<crate::import::ImportArgs>),
}

/// The flags of `oxiflux run`. Each is optional here so that the layers below
/// (config file, defaults) can fill what the command line and environment leave out.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RunArgs {
    /// Path to a config file, or a directory holding config.{toml,yaml,yml,json}.
    #[arg(long = "config", env = "INFLUXD_CONFIG_PATH", global = true)]
    #[serde(skip)]
    pub(crate) config: Option<PathBuf>,

    /// Address to listen on for HTTP [default: :8086].
    #[arg(long, env = "INFLUXD_HTTP_BIND_ADDRESS", global = true)]
    pub(crate) http_bind_address: Option<String>,

    /// Where oxiflux keeps its data [default: ~/.oxiflux].
    #[arg(long, env = "INFLUXD_DATA_DIR", global = true)]
    pub(crate) data_dir: Option<PathBuf>,

    /// Log level: debug, info, warn or error [default: info].
    #[arg(long, env = "INFLUXD_LOG_LEVEL", global = true)]
    pub(crate) log_level: Option<String>,

    /// TLS certificate (PEM) for HTTPS.
    #[arg(long, env = "INFLUXD_TLS_CERT", global = true)]
    pub(crate) tls_cert: Option<PathBuf>,

    /// TLS private key (PEM) for HTTPS.
    #[arg(long, env = "INFLUXD_TLS_KEY", global = true)]
    pub(crate) tls_key: Option<PathBuf>,

    /// Minutes a sign-in session lasts [default: 60].
    #[arg(long, env = "INFLUXD_SESSION_LENGTH", global = true)]
    pub(crate) session_length: Option<i64>,

    /// Largest write body in bytes, after decompression; 0 = no limit [default: 0].
    #[arg(long, env = "INFLUXD_HTTP_MAX_REQUEST_SIZE", global = true)]
    pub(crate) http_max_request_size: Option<usize>,

    /// Buffer size in bytes at which it is written to Parquet [default: 26214400].
    #[arg(long, env = "INFLUXD_STORAGE_CACHE_SNAPSHOT_MEMORY_SIZE", global = true)]
    pub(crate) storage_cache_snapshot_memory_size: Option<usize>,

    /// Write the buffer to Parquet after no writes for this long [default: 10m0s].
    #[arg(long, env = "INFLUXD_STORAGE_CACHE_SNAPSHOT_WRITE_COLD_DURATION", global = true)]
    pub(crate) storage_cache_snapshot_write_cold_duration: Option<String>,

    /// How often expired data is dropped [default: 30m0s].
    #[arg(long, env = "INFLUXD_STORAGE_RETENTION_CHECK_INTERVAL", global = true)]
    pub(crate) storage_retention_check_interval: Option<String>,

    /// Queries allowed to run at once; 0 = unlimited [default: 1024].
    #[arg(long, env = "INFLUXD_QUERY_CONCURRENCY", global = true)]
    pub(crate) query_concurrency: Option<usize>,

    /// Queries allowed to wait for a free slot before new ones are refused;
    /// must be > 0 when query-concurrency is limited [default: 1024].
    #[arg(long, env = "INFLUXD_QUERY_QUEUE_SIZE", global = true)]
    pub(crate) query_queue_size: Option<usize>,

    /// Most bytes one query may hold at once; 0 = unlimited [default: 0].
    #[arg(long, env = "INFLUXD_QUERY_MEMORY_BYTES", global = true)]
    pub(crate) query_memory_bytes: Option<u64>,

    /// Bytes promised to a query when it starts; 0 = query-memory-bytes [default: 0].
    #[arg(long, env = "INFLUXD_QUERY_INITIAL_MEMORY_BYTES", global = true)]
    pub(crate) query_initial_memory_bytes: Option<u64>,

    /// Most bytes all queries together may hold; only with limited
    /// query-concurrency; 0 = query-concurrency × query-memory-bytes [default: 0].
    #[arg(long, env = "INFLUXD_QUERY_MAX_MEMORY_BYTES", global = true)]
    pub(crate) query_max_memory_bytes: Option<u64>,

    /// Longest a query may run, e.g. `30s`; 0 = no limit [default: 0].
    #[arg(long, env = "INFLUXD_QUERY_TIMEOUT", global = true)]
    pub(crate) query_timeout: Option<String>,

    /// Do not run tasks (they can still be made and changed) [default: false].
    #[arg(long, env = "INFLUXD_NO_TASKS", global = true, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) no_tasks: Option<bool>,

    /// Task runs executing at once, across all tasks [default: 8].
    #[arg(long, env = "INFLUXD_TASK_WORKERS", global = true)]
    pub(crate) task_workers: Option<usize>,

    /// Most missed runs one task is given per scheduling pass while catching
    /// up after downtime (the rest follow in later passes) [default: 100].
    #[arg(long, env = "INFLUXD_TASK_CATCH_UP_LIMIT", global = true)]
    pub(crate) task_catch_up_limit: Option<usize>,

    /// How long finished runs and their logs are kept in the run history [default: 72h0m0s].
    #[arg(long, env = "INFLUXD_TASK_RUN_HISTORY", global = true)]
    pub(crate) task_run_history: Option<String>,

    /// How often scraper targets are scraped [default: 10s].
    #[arg(long, env = "INFLUXD_SCRAPER_INTERVAL", global = true)]
    pub(crate) scraper_interval: Option<String>,
}

/// The settled configuration.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Config {
    pub(crate) http_bind_address: String,
    pub(crate) data_dir: PathBuf,
    pub(crate) log_level: String,
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
    pub(crate) session_length: i64,
    pub(crate) http_max_request_size: usize,
    pub(crate) storage_cache_snapshot_memory_size: usize,
    /// Nanoseconds.
    pub(crate) storage_cache_snapshot_write_cold_duration: i64,
    /// Nanoseconds.
    pub(crate) storage_retention_check_interval: i64,
    pub(crate) query_concurrency: usize,
    pub(crate) query_queue_size: usize,
    pub(crate) query_memory_bytes: u64,
    pub(crate) query_initial_memory_bytes: u64,
    pub(crate) query_max_memory_bytes: u64,
    /// Nanoseconds; 0 = no limit.
    pub(crate) query_timeout: i64,
    pub(crate) no_tasks: bool,
    pub(crate) task_workers: usize,
    pub(crate) task_catch_up_limit: usize,
    /// Nanoseconds.
    pub(crate) task_run_history: i64,
    /// Nanoseconds.
    pub(crate) scraper_interval: i64,
}

impl Config {
    pub(crate) fn resolve(args: RunArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => RunArgs::default(),
        };
        let tls_cert = args.tls_cert.or(file.tls_cert);
        let tls_key = args.tls_key.or(file.tls_key);
        if tls_cert.is_some() != tls_key.is_some() {
            bail!("--tls-cert and --tls-key must be given together");
        }
        let log_level = args.log_level.or(file.log_level).unwrap_or_else(|| "info".into());
        if !["debug", "info", "warn", "error"].contains(&log_level.as_str()) {
            bail!("invalid log level {log_level:?}: use debug, info, warn or error");
        }
        let session_length = args.session_length.or(file.session_length).unwrap_or(60);
        if session_length <= 0 {
            bail!("session length must be positive, got {session_length}");
        }
        let duration = |name: &str, v: Option<String>, default: &str| -> anyhow::Result<i64> {
            let text = v.unwrap_or_else(|| default.to_owned());
            let ns = parse_duration_ns(&text).with_context(|| format!("--{name} {text:?}"))?;
            if ns <= 0 {
                bail!("--{name} must be positive, got {text:?}");
            }
            Ok(ns)
        };
        let positive = |name: &str, n: usize| -> anyhow::Result<usize> {
            if n == 0 {
                bail!("--{name} must be positive");
            }
            Ok(n)
        };
        let query_timeout = args.query_timeout.or(file.query_timeout).unwrap_or_else(|| "0".into());
        let query_timeout =
            parse_duration_ns(&query_timeout).with_context(|| format!("--query-timeout {query_timeout:?}"))?;
        let defaults = server::QueryLimits::default();
        let config = Self {
            query_concurrency: args.query_concurrency.or(file.query_concurrency).unwrap_or(defaults.concurrency),
            query_queue_size: args.query_queue_size.or(file.query_queue_size).unwrap_or(defaults.queue_size),
            query_memory_bytes: args.query_memory_bytes.or(file.query_memory_bytes).unwrap_or(0),
            query_initial_memory_bytes: args
                .query_initial_memory_bytes
                .or(file.query_initial_memory_bytes)
                .unwrap_or(0),
            query_max_memory_bytes: args.query_max_memory_bytes.or(file.query_max_memory_bytes).unwrap_or(0),
            query_timeout,
            http_max_request_size: args.http_max_request_size.or(file.http_max_request_size).unwrap_or(0),
            storage_cache_snapshot_memory_size: args
                .storage_cache_snapshot_memory_size
                .or(file.storage_cache_snapshot_memory_size)
                .unwrap_or(25 * 1024 * 1024),
            storage_cache_snapshot_write_cold_duration: duration(
                "storage-cache-snapshot-write-cold-duration",
                args.storage_cache_snapshot_write_cold_duration.or(file.storage_cache_snapshot_write_cold_duration),
                "10m0s",
            )?,
            storage_retention_check_interval: duration(
                "storage-retention-check-interval",
                args.storage_retention_check_interval.or(file.storage_retention_check_interval),
                "30m0s",
            )?,
            http_bind_address: args.http_bind_address.or(file.http_bind_address).unwrap_or_else(|| ":8086".into()),
            data_dir: args.data_dir.or(file.data_dir).unwrap_or_else(default_data_dir),
            log_level,
            tls_cert,
            tls_key,
            session_length,
            no_tasks: args.no_tasks.or(file.no_tasks).unwrap_or(false),
            task_workers: positive("task-workers", args.task_workers.or(file.task_workers).unwrap_or(8))?,
            task_catch_up_limit: positive(
                "task-catch-up-limit",
                args.task_catch_up_limit.or(file.task_catch_up_limit).unwrap_or(100),
            )?,
            task_run_history: duration("task-run-history", args.task_run_history.or(file.task_run_history), "72h0m0s")?,
            scraper_interval: duration("scraper-interval", args.scraper_interval.or(file.scraper_interval), "10s")?,
        };
        config.query_limits().validate().map_err(anyhow::Error::msg).context("invalid query settings")?;
        Ok(config)
    }

    pub(crate) fn task_config(&self) -> tasks::Config {
        tasks::Config {
            workers: self.task_workers,
            catch_up_batch: self.task_catch_up_limit,
            history: std::time::Duration::from_nanos(self.task_run_history as u64),
        }
    }

    pub(crate) fn query_limits(&self) -> server::QueryLimits {
        server::QueryLimits {
            concurrency: self.query_concurrency,
            // As influxd: a queue means nothing without a concurrency limit.
            queue_size: if self.query_concurrency == 0 { 0 } else { self.query_queue_size },
            memory_bytes: self.query_memory_bytes,
            initial_memory_bytes: self.query_initial_memory_bytes,
            max_memory_bytes: self.query_max_memory_bytes,
            timeout: (self.query_timeout > 0).then(|| std::time::Duration::from_nanos(self.query_timeout as u64)),
        }
    }

    /// The bind address with an empty host meaning every interface, as Go writes `:8086`.
    pub(crate) fn bind_address(&self) -> String {
        match self.http_bind_address.strip_prefix(':') {
            Some(port) => format!("0.0.0.0:{port}"),
            None => self.http_bind_address.clone(),
        }
    }
}

/// A Go-style duration (`30m0s`, `1h30m`, `500ms`, `10s`), also taking `d` and
/// `w`; `0` alone is zero. In nanoseconds, never negative.
pub(crate) fn parse_duration_ns(s: &str) -> anyhow::Result<i64> {
    let ns = time::duration::parse_go(s)?;
    if ns < 0 {
        bail!("a negative duration means nothing here");
    }
    Ok(ns)
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".oxiflux")
}

/// Reads a config file, or the first `config.*` in a directory, by its extension.
fn read_file(path: &Path) -> anyhow::Result<RunArgs> {
    let path = if path.is_dir() {
        ["config.toml", "config.yaml", "config.yml", "config.json"]
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.exists())
            .with_context(|| format!("no config.toml, config.yaml or config.json in {}", path.display()))?
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading config file {}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let parsed = match ext {
        "toml" => toml::from_str(&text).map_err(anyhow::Error::from),
        "yaml" | "yml" => serde_yaml::from_str(&text).map_err(anyhow::Error::from),
        "json" => serde_json::from_str(&text).map_err(anyhow::Error::from),
        other => bail!("config file {} has extension {other:?}: use .toml, .yaml or .json", path.display()),
    };
    parsed.with_context(|| format!("parsing config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, "http-bind-address: \"127.0.0.1:9999\"\nlog-level: debug\n").unwrap();
        let args = RunArgs { config: Some(file), log_level: Some("error".into()), ..Default::default() };
        let c = Config::resolve(args).unwrap();
        assert_eq!(c.http_bind_address, "127.0.0.1:9999");
        assert_eq!(c.log_level, "error");
        assert_eq!(c.session_length, 60);
    }

    #[test]
    fn every_format_is_read_from_a_directory_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "session-length = 5\n").unwrap();
        let c = Config::resolve(RunArgs { config: Some(dir.path().into()), ..Default::default() }).unwrap();
        assert_eq!(c.session_length, 5);
        let json = dir.path().join("c.json");
        std::fs::write(&json, r#"{"data-dir": "/tmp/x"}"#).unwrap();
        let c = Config::resolve(RunArgs { config: Some(json), ..Default::default() }).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "no-such-flag = 1\n").unwrap();
        assert!(Config::resolve(RunArgs { config: Some(file), ..Default::default() }).is_err());
        assert!(Config::resolve(RunArgs { log_level: Some("loud".into()), ..Default::default() }).is_err());
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_duration_ns("30m0s").unwrap(), 1_800_000_000_000);
        assert_eq!(parse_duration_ns("1h30m").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_duration_ns("500ms").unwrap(), 500_000_000);
        assert_eq!(parse_duration_ns("1.5s").unwrap(), 1_500_000_000);
        assert_eq!(parse_duration_ns("1w").unwrap(), 604_800_000_000_000);
        assert!(parse_duration_ns("10x").is_err());
        assert!(parse_duration_ns("m").is_err());
        assert!(parse_duration_ns("").is_err());
    }

    #[test]
    fn query_limits_are_checked_as_influxd_checks_them() {
        let c = Config::resolve(RunArgs::default()).unwrap();
        assert_eq!((c.query_concurrency, c.query_queue_size, c.query_timeout), (1024, 1024, 0));
        let refused = Config::resolve(RunArgs { query_queue_size: Some(0), ..Default::default() }).unwrap_err();
        assert!(format!("{refused:#}").contains("query-queue-size must be positive"), "{refused:#}");
        let unlimited = RunArgs { query_concurrency: Some(0), query_queue_size: Some(0), ..Default::default() };
        assert_eq!(Config::resolve(unlimited).unwrap().query_limits().queue_size, 0);
        let c = Config::resolve(RunArgs { query_timeout: Some("1m30s".into()), ..Default::default() }).unwrap();
        assert_eq!(c.query_limits().timeout, Some(std::time::Duration::from_secs(90)));
    }

    #[test]
    fn go_style_bind_address_means_every_interface() {
        let c = Config::resolve(RunArgs::default()).unwrap();
        assert_eq!(c.bind_address(), "0.0.0.0:8086");
    }
}
