//! A real InfluxDB 1.x (Debian's `influxd`, 1.6.7) on loopback with its
//! directories in a temporary one, for the upgrade tests. Caches go cold
//! after a second, so what is written and then left alone ends in TSM files.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub(crate) struct Influx1 {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    client: reqwest::blocking::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Influx1 {
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (http, rpc) = (free_port(), free_port());
        let d = dir.path().display();
        let config = format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n  \
             cache-snapshot-write-cold-duration = \"1s\"\n\
             [http]\n  bind-address = \"127.0.0.1:{http}\"\n  log-enabled = false\n\
             [monitor]\n  store-enabled = false\n[continuous_queries]\n  enabled = false\n\
             [subscriber]\n  enabled = false\n"
        );
        std::fs::write(dir.path().join("influxdb.conf"), config).unwrap();
        let child = Command::new("influxd")
            .arg("-config")
            .arg(dir.path().join("influxdb.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Debian's influxd (package influxdb, which .ci/run installs) must be on PATH");
        let s = Self { child, url: format!("http://127.0.0.1:{http}"), dir, client: reqwest::blocking::Client::new() };
        for _ in 0..200 {
            if s.client.get(format!("{}/ping", s.url)).send().is_ok_and(|r| r.status() == 204) {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("influxd 1.x never answered /ping");
    }

    /// The installation's root (meta/, data/, wal/ and its config file).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn config_file(&self) -> PathBuf {
        self.dir.path().join("influxdb.conf")
    }

    pub(crate) fn query(&self, q: &str, db: Option<&str>) -> Value {
        let mut form = vec![("q", q), ("epoch", "ns")];
        if let Some(db) = db {
            form.push(("db", db));
        }
        let r = self.client.post(format!("{}/query", self.url)).form(&form).send().unwrap();
        let v: Value = r.json().unwrap();
        assert!(v["results"][0].get("error").is_none(), "{q}: {v}");
        v
    }

    pub(crate) fn write(&self, db: &str, rp: &str, body: &str) {
        let r = self
            .client
            .post(format!("{}/write?db={db}&rp={rp}&precision=ns", self.url))
            .body(body.to_owned())
            .send()
            .unwrap();
        assert_eq!(r.status(), 204, "{}", r.text().unwrap_or_default());
    }

    /// Stops it as a crash would: what is only in the WAL stays there.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Influx1 {
    fn drop(&mut self) {
        self.kill();
    }
}
