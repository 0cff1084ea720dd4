//! The one helper that owns a real oxiflux process for end-to-end tests: it
//! starts the built binary on 127.0.0.1:0 with a temporary data directory,
//! reads the bound address from the log, and talks HTTP to it.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub const TOKEN: &str = "test-operator-token";
pub const PASSWORD: &str = "password123";

pub struct TestServer {
    child: Option<Child>,
    pub addr: String,
    pub scheme: &'static str,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    extra_args: Vec<String>,
    envs: Vec<(String, String)>,
    pub client: Client,
    log: mpsc::Receiver<String>,
}

impl TestServer {
    /// A fresh server with an empty data directory.
    pub fn start() -> Self {
        Self::start_with(&[], &[])
    }

    pub fn start_with(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut s = Self::launch(
            dir,
            Some(tmp),
            args.iter().map(|a| a.to_string()).collect(),
            envs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        );
        s.wait_ready();
        s
    }

    fn launch(
        dir: PathBuf,
        tmp: Option<tempfile::TempDir>,
        extra_args: Vec<String>,
        envs: Vec<(String, String)>,
    ) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oxiflux"));
        cmd.arg("run");
        // A fixed address among the extra flags keeps its port across restarts.
        if !extra_args.iter().any(|a| a == "--http-bind-address") {
            cmd.arg("--http-bind-address").arg("127.0.0.1:0");
        }
        cmd.arg("--data-dir")
            .arg(&dir)
            .args(&extra_args)
            .env_remove("INFLUXD_CONFIG_PATH")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn oxiflux");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut addr = None;
        let mut seen = Vec::new();
        while addr.is_none() {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    if line.contains("Listening") {
                        addr = line.split_whitespace().find_map(|w| w.strip_prefix("addr=")).map(str::to_owned);
                    }
                    seen.push(line);
                }
                Err(_) => panic!("oxiflux did not start; log:\n{}", seen.join("\n")),
            }
        }
        let https = extra_args.iter().any(|a| a == "--tls-cert");
        let client = Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            child: Some(child),
            addr: addr.expect("addr"),
            scheme: if https { "https" } else { "http" },
            dir,
            _tmp: tmp,
            extra_args,
            envs,
            client,
            log: rx,
        }
    }

    fn wait_ready(&mut self) {
        for _ in 0..100 {
            if let Ok(r) = self.client.get(self.url("/ping")).send()
                && r.status() == 204
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("oxiflux never answered /ping");
    }

    /// A server on a data directory made elsewhere (an upgrade's, say); the
    /// caller keeps the directory.
    pub fn serve(dir: &Path) -> Self {
        let mut s = Self::launch(dir.to_path_buf(), None, Vec::new(), Vec::new());
        s.wait_ready();
        s
    }

    /// A fresh server that has been set up with [`TOKEN`] as the operator token.
    pub fn onboarded() -> (Self, Value) {
        Self::onboarded_with(&[])
    }

    /// The same, started with extra flags.
    pub fn onboarded_with(args: &[&str]) -> (Self, Value) {
        let s = Self::start_with(args, &[]);
        let setup = s.setup();
        (s, setup)
    }

    pub fn setup(&self) -> Value {
        let (status, body) = self.call(
            Method::POST,
            "/api/v2/setup",
            None,
            Some(
                json!({"username": "admin", "password": PASSWORD, "org": "acme", "bucket": "metrics", "token": TOKEN}),
            ),
        );
        assert_eq!(status, 201, "{body}");
        body
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.header("Authorization", format!("Token {t}"));
        }
        rb
    }

    /// Sends a request and returns its status and JSON body (`null` when empty).
    pub fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.request(method, path, token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        decode(rb.send().expect("request"))
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(token), None)
    }
    pub fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(token), Some(body))
    }
    pub fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body))
    }
    pub fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, Some(token), None)
    }

    /// A Flux query in org `acme` as the operator, answered 200: its CSV.
    pub fn flux_csv(&self, q: &str) -> String {
        let r = self
            .request(Method::POST, "/api/v2/query?org=acme", Some(TOKEN))
            .header("Content-Type", "application/vnd.flux")
            .body(q.to_owned())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    }

    /// Creates a token in `org_id` with `permissions`, returning (token, id).
    pub fn make_token(&self, org_id: &str, permissions: Value) -> (String, String) {
        let (s, b) = self.post(
            "/api/v2/authorizations",
            TOKEN,
            json!({"orgID": org_id, "permissions": permissions, "description": "test"}),
        );
        assert_eq!(s, 201, "{b}");
        (b["token"].as_str().expect("token").to_owned(), b["id"].as_str().expect("id").to_owned())
    }

    /// Stops the process with SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits; returns the exit status success and the remaining log.
    pub fn terminate(&mut self) -> (bool, Vec<String>) {
        let mut c = self.child.take().expect("running");
        let ok = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status().expect("kill").success();
        assert!(ok);
        let status = c.wait().expect("wait");
        let log: Vec<String> = std::iter::from_fn(|| self.log.recv_timeout(Duration::from_secs(5)).ok()).collect();
        (status.success(), log)
    }

    /// Stops the server (SIGTERM) and reads every point of `bucket` straight from its
    /// data directory with the storage engine: (series, field, time, value as text).
    pub fn stop_and_read(&mut self, bucket: &str) -> Vec<(String, String, i64, String)> {
        if self.child.is_some() {
            let (ok, log) = self.terminate();
            assert!(ok, "{log:?}");
        }
        read_points(&self.dir, bucket)
    }

    /// Starts the server again on the same data directory (after a stop or a kill).
    pub fn restart(mut self) -> Self {
        self.kill9();
        let tmp = self._tmp.take();
        let mut s = Self::launch(self.dir.clone(), tmp, self.extra_args.clone(), self.envs.clone());
        s.wait_ready();
        s
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn decode(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

/// The id of the org made by [`TestServer::setup`].
pub fn org_id(setup: &Value) -> String {
    setup["org"]["id"].as_str().expect("org id").to_owned()
}

/// Every point of a bucket in a (stopped) server's data directory.
pub fn read_points(dir: &Path, bucket: &str) -> Vec<(String, String, i64, String)> {
    use arrow::array::{Array, TimestampNanosecondArray};
    use storage::ReadApi;
    let engine = storage::Storage::open(dir, storage::StorageConfig::default()).expect("open storage");
    let bucket = u64::from_str_radix(bucket, 16).expect("bucket id");
    let req = storage::ScanRequest::new(bucket, i64::MIN, i64::MAX, storage::Predicate::True);
    let mut out = Vec::new();
    for fs in engine.scan(&req).expect("scan") {
        let times = fs.batch.column(0).as_any().downcast_ref::<TimestampNanosecondArray>().expect("times").clone();
        let values = fs.batch.column(1);
        for i in 0..times.len() {
            let v = arrow::util::display::array_value_to_string(values, i).expect("value");
            out.push((fs.series.to_string(), fs.field.clone(), times.value(i), v));
        }
    }
    out
}
