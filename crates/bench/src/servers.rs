//! Starting and measuring the servers under test, each on loopback with its
//! data in a temporary directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::blocking::{Client, RequestBuilder};

/// Builds one write request for a client.
pub(crate) type WriteRequest = Box<dyn Fn(&Client) -> RequestBuilder + Send>;

pub(crate) trait Server {
    fn write_request(&self) -> WriteRequest;
    fn pid(&self) -> u32;
    /// Lets the server finish writing and compacting, then returns its bytes on disk.
    fn settle_and_measure_disk(&mut self) -> anyhow::Result<u64>;
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A `/proc/PID/status` memory figure (`VmHWM`, `VmRSS`) in bytes; `None` once the process is gone.
fn status_bytes(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 =
        status.lines().find_map(|l| l.strip_prefix(key))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Watches a process's resident memory every 20 ms until stopped or the process
/// exits; the peak covers everything the server did, shutdown included.
pub(crate) struct RssWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssWatch {
    pub(crate) fn start(pid: u32) -> Self {
        Self::watch(pid, true)
    }

    /// Only what is resident from now on (not the process's earlier high-water
    /// mark): what one phase of a long-running server costs.
    pub(crate) fn from_now(pid: u32) -> Self {
        Self::watch(pid, false)
    }

    fn watch(pid: u32, with_earlier_peak: bool) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match (status_bytes(pid, "VmHWM:"), status_bytes(pid, "VmRSS:")) {
                    (Some(hwm), Some(rss)) => peak = peak.max(if with_earlier_peak { hwm } else { 0 }).max(rss),
                    _ => break,
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        Self { stop, thread }
    }

    pub(crate) fn peak(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

pub(crate) fn dir_size(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn wait_for_ping(url: &str) -> anyhow::Result<()> {
    let client = Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client.get(format!("{url}/ping")).send().is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{url} never answered /ping")
}

fn terminate(child: &mut Child) -> anyhow::Result<()> {
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill()?;
    bail!("the server did not stop within 300 s")
}

/// oxiflux, set up through the official image's variables.
pub(crate) struct Oxiflux {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

pub(crate) const TOKEN: &str = "bench-token";

impl Oxiflux {
    pub(crate) fn start(bin: &str, extra: &[String]) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("oxiflux-bench").tempdir_in("/tmp")?;
        Self::start_in(bin, extra, dir)
    }

    /// Stops the server cleanly (its buffers go to Parquet) and starts it again on the same data.
    pub(crate) fn restart(mut self, bin: &str, extra: &[String]) -> anyhow::Result<Self> {
        terminate(&mut self.child)?;
        let dir = tempfile::Builder::new().prefix("oxiflux-bench").tempdir_in("/tmp")?;
        let old = std::mem::replace(&mut self.dir, dir);
        drop(self);
        Self::start_in(bin, extra, old)
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Starts a server on a data directory made elsewhere (by `oxiflux upgrade`, say).
    pub(crate) fn serve(bin: &str, dir: tempfile::TempDir) -> anyhow::Result<Self> {
        Self::start_in(bin, &[], dir)
    }

    /// Waits until the data directory stops changing (compaction done).
    pub(crate) fn settle(&self) -> anyhow::Result<()> {
        let data = self.dir.path().join("data");
        let mut last = (dir_size(&data), Instant::now());
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(1));
            let size = dir_size(&data);
            if size != last.0 {
                last = (size, Instant::now());
            } else if last.1.elapsed() >= Duration::from_secs(5) {
                return Ok(());
            }
        }
        bail!("oxiflux never settled")
    }

    fn start_in(bin: &str, extra: &[String], dir: tempfile::TempDir) -> anyhow::Result<Self> {
        let mut child = Command::new(bin)
            .args(["run", "--http-bind-address", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(extra)
            .envs([
                ("DOCKER_INFLUXDB_INIT_MODE", "setup"),
                ("DOCKER_INFLUXDB_INIT_USERNAME", "bench"),
                ("DOCKER_INFLUXDB_INIT_PASSWORD", "benchpassword"),
                ("DOCKER_INFLUXDB_INIT_ORG", "bench"),
                ("DOCKER_INFLUXDB_INIT_BUCKET", "bench"),
                ("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN", TOKEN),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {bin}"))?;
        let stderr = child.stderr.take().context("stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines.next().context("oxiflux exited before listening")??;
            if let Some(a) = line
                .contains("Listening")
                .then(|| line.split_whitespace().find_map(|w| w.strip_prefix("addr=")))
                .flatten()
            {
                break a.to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let url = format!("http://{addr}");
        wait_for_ping(&url)?;
        Ok(Self { child, url, dir })
    }
}

impl Server for Oxiflux {
    fn write_request(&self) -> WriteRequest {
        let url = format!("{}/api/v2/write?org=bench&bucket=bench&precision=ns", self.url);
        Box::new(move |c: &Client| c.post(&url).header("Authorization", format!("Token {TOKEN}")))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A clean stop writes the buffer to Parquet; then everything on disk counts.
    fn settle_and_measure_disk(&mut self) -> anyhow::Result<u64> {
        terminate(&mut self.child)?;
        Ok(dir_size(&self.dir.path().join("data")) + dir_size(&self.dir.path().join("wal")))
    }
}

impl Drop for Oxiflux {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// InfluxDB 1.x with its caches snapshotted and shards fully compacted after one
/// cold second, so the data ends in compacted TSM files.
pub(crate) struct Influx1 {
    child: Child,
    url: String,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Influx1 {
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Its config file, which says where its directories are.
    pub(crate) fn config_file(&self) -> PathBuf {
        self._dir.path().join("influxdb.conf")
    }

    /// Stops it at once (its files stay for an upgrade to read).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn start(bin: &str) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("influx1-bench").tempdir_in("/tmp")?;
        let (http, rpc) = (free_port()?, free_port()?);
        let d = dir.path().display();
        let config = format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n  \
             cache-snapshot-write-cold-duration = \"1s\"\n  compact-full-write-cold-duration = \"1s\"\n\
             [http]\n  bind-address = \"127.0.0.1:{http}\"\n  log-enabled = false\n\
             [monitor]\n  store-enabled = false\n\
             [continuous_queries]\n  enabled = false\n\
             [subscriber]\n  enabled = false\n"
        );
        let conf = dir.path().join("influxdb.conf");
        std::fs::write(&conf, config)?;
        let child = Command::new(bin)
            .arg("-config")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {bin}"))?;
        let url = format!("http://127.0.0.1:{http}");
        wait_for_ping(&url)?;
        let r = Client::new().post(format!("{url}/query")).form(&[("q", "CREATE DATABASE bench")]).send()?;
        if !r.status().is_success() {
            bail!("CREATE DATABASE failed: {}", r.status());
        }
        Ok(Self { child, url, data: dir.path().join("data"), _dir: dir })
    }
}

impl Server for Influx1 {
    fn write_request(&self) -> WriteRequest {
        let url = format!("{}/write?db=bench&precision=ns", self.url);
        Box::new(move |c: &Client| c.post(&url))
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the TSM files stop changing (snapshots and full compaction
    /// done), then counts the data directory (the WAL is empty by then).
    fn settle_and_measure_disk(&mut self) -> anyhow::Result<u64> {
        let mut last = (0, Instant::now());
        let deadline = Instant::now() + Duration::from_secs(600);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(2));
            let size = dir_size(&self.data);
            let busy = walk_has_tmp(&self.data);
            if size != last.0 || busy {
                last = (size, Instant::now());
            } else if last.1.elapsed() >= Duration::from_secs(20) {
                return Ok(size);
            }
        }
        bail!("influxd never settled")
    }
}

fn walk_has_tmp(p: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(p) else { return false };
    entries.filter_map(Result::ok).any(|e| {
        let path = e.path();
        if path.is_dir() { walk_has_tmp(&path) } else { path.extension().is_some_and(|x| x == "tmp") }
    })
}

impl Drop for Influx1 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
