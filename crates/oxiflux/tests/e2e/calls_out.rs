//! Requests a Flux query sends: `http.post`, `http.endpoint`, `http/requests`,
//! `experimental/http.get`, `experimental/influxdb.api()` (into this server as
//! the caller, or to another one with a token), and `from` with a `host`.
//! The peers are real HTTP servers on loopback: a small recording one, and a
//! second oxiflux.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::server::{TOKEN, TestServer, org_id};

/// A request the peer received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A loopback HTTP server that records every request and answers by path:
/// `/slow` after 5 s, `/huge` with more body than a query may read, `/status/N`
/// with status N, anything else 200 with a small JSON body.
pub(crate) struct Peer {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Peer {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve(conn, &log));
            }
        });
        Self { url, received }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, log: &Mutex<Vec<Received>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let len =
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    log.lock().unwrap().push(Received {
        method,
        target: target.clone(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let mut out = conn;
    let path = target.split('?').next().unwrap_or("");
    if path == "/slow" {
        std::thread::sleep(Duration::from_secs(5));
    }
    if path == "/huge" {
        let size = 101 * 1024 * 1024;
        let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..101 {
            if out.write_all(&chunk).is_err() {
                return;
            }
        }
        return;
    }
    let status: u16 = path.strip_prefix("/status/").and_then(|s| s.parse().ok()).unwrap_or(200);
    let reply = r#"{"ok":true}"#;
    let _ = write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nX-Peer: one\r\nX-Peer: two\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

fn query(s: &TestServer, token: &str, flux: &str) -> (u16, String) {
    let r = s
        .request(Method::POST, "/api/v2/query?org=acme", Some(token))
        .json(&json!({"query": flux, "type": "flux"}))
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// The rows of a CSV answer, each a list of cells (header row included);
/// quoted cells may hold commas, quotes and line breaks.
fn rows(csv: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, csv.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => row.push(std::mem::take(&mut cell)),
            '\r' if !quoted => {}
            '\n' if !quoted => {
                row.push(std::mem::take(&mut cell));
                if row.iter().any(|c| !c.is_empty()) {
                    rows.push(std::mem::take(&mut row));
                }
                row.clear();
            }
            c => cell.push(c),
        }
    }
    rows
}

/// The cells of `column` in a one-table answer.
fn column(csv: &str, name: &str) -> Vec<String> {
    let rows = rows(csv);
    let i = rows[0].iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name} in {csv}"));
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

#[test]
fn http_post_and_endpoint_send_what_the_script_says() {
    let (s, _) = TestServer::onboarded();
    let peer = Peer::start();
    let flux = format!(
        r#"import "http"
import "json"
import "array"
status = http.post(url: "{0}/notify", headers: {{Authorization: "Bearer abc", "Content-Type": "application/json"}}, data: json.encode(v: {{level: "crit"}}))
missing = http.post(url: "{0}/status/404", data: bytes(v: "x"))
array.from(rows: [{{status, missing, auth: http.basicAuth(u: "me", p: "pw"), escaped: http.pathEscape(inputString: "a b/c?d")}}])"#,
        peer.url
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "status"), ["200"], "{csv}");
    assert_eq!(column(&csv, "missing"), ["404"], "{csv}");
    assert_eq!(column(&csv, "auth"), ["Basic bWU6cHc="], "{csv}");
    assert_eq!(column(&csv, "escaped"), ["a%20b%2Fc%3Fd"], "{csv}");
    let got = peer.received();
    let notify = got.iter().find(|r| r.target == "/notify").expect("the post arrived");
    assert_eq!(notify.method, "POST");
    assert_eq!(notify.header("authorization"), Some("Bearer abc"));
    assert_eq!(notify.header("content-type"), Some("application/json"));
    assert_eq!(notify.body, r#"{"level":"crit"}"#);

    // One POST per row; `_sent` says which were answered 200.
    let flux = format!(
        r#"import "http"
import "array"
endpoint = http.endpoint(url: "{0}/rows")(mapFn: (r) => ({{headers: {{"X-Host": r.host}}, data: bytes(v: "value ${{r._value}}")}}))
array.from(rows: [{{host: "a", _value: 1}}, {{host: "b", _value: 2}}]) |> endpoint()"#,
        peer.url
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "_sent"), ["true", "true"], "{csv}");
    assert!(csv.contains("#group") || rows(&csv)[0].contains(&"_sent".to_owned()), "{csv}");
    let mut sent: Vec<(String, String)> = peer
        .received()
        .into_iter()
        .filter(|r| r.target == "/rows")
        .map(|r| (r.header("x-host").unwrap().to_owned(), r.body))
        .collect();
    sent.sort();
    assert_eq!(sent, [("a".into(), "value 1".into()), ("b".into(), "value 2".into())]);
}

#[test]
fn requests_and_experimental_http_read_status_headers_and_body() {
    let (s, _) = TestServer::onboarded();
    let peer = Peer::start();
    let flux = format!(
        r#"import "http/requests"
response = requests.get(url: "{0}/things", params: ["name": ["a b", "c"], "n": ["1"]], headers: ["X-Key": "k1"])
requests.peek(response: response)"#,
        peer.url
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "statusCode"), ["200"], "{csv}");
    assert_eq!(column(&csv, "body"), [r#"{"ok":true}"#], "{csv}");
    assert!(column(&csv, "headers")[0].contains("X-Peer: one,two"), "repeated headers are joined: {csv}");
    let got = peer.received();
    let r = got.iter().find(|r| r.target.starts_with("/things")).unwrap();
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/things?n=1&name=a+b&name=c");
    assert_eq!(r.header("x-key"), Some("k1"));

    // requests.post with a body; a bad method is refused before anything is sent.
    let flux = format!(
        r#"import "http/requests"
import "array"
r = requests.post(url: "{0}/status/201", body: bytes(v: "payload"))
array.from(rows: [{{code: r.statusCode, ms: int(v: r.duration) >= 0}}])"#,
        peer.url
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!((status, column(&csv, "code")), (200, vec!["201".to_owned()]), "{csv}");
    assert!(peer.received().iter().any(|r| r.target == "/status/201" && r.body == "payload" && r.method == "POST"));
    let (_, csv) = query(
        &s,
        TOKEN,
        &format!(
            r#"import "http/requests"
requests.peek(response: requests.do(method: "TRACE", url: "{}/x"))"#,
            peer.url
        ),
    );
    assert!(csv.contains("unsupported method"), "{csv}");

    // experimental/http.get: headers as a record.
    let flux = format!(
        r#"import "experimental/http"
import "array"
r = http.get(url: "{0}/health", headers: {{Accept: "application/json"}}, timeout: 5s)
array.from(rows: [{{code: r.statusCode, body: string(v: r.body), ctype: r.headers["Content-Type"]}}])"#,
        peer.url
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "code"), ["200"], "{csv}");
    assert_eq!(column(&csv, "ctype"), ["application/json"], "{csv}");
}

#[test]
fn calls_out_time_out_cap_their_size_and_say_what_failed() {
    let (s, _) = TestServer::onboarded();
    let peer = Peer::start();
    let started = std::time::Instant::now();
    let (_, csv) = query(
        &s,
        TOKEN,
        &format!(
            r#"import "http/requests"
requests.peek(response: requests.get(url: "{}/slow", config: {{timeout: 300ms, insecureSkipVerify: false}}))"#,
            peer.url
        ),
    );
    assert!(csv.contains("timed out after 300ms"), "{csv}");
    assert!(started.elapsed() < Duration::from_secs(4), "the timeout held: {:?}", started.elapsed());

    let (_, csv) = query(
        &s,
        TOKEN,
        &format!(
            r#"import "http/requests"
requests.peek(response: requests.get(url: "{}/huge"))"#,
            peer.url
        ),
    );
    assert!(csv.contains("larger than 104857600 bytes"), "{csv}");

    // Nothing listens on a port just freed.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (_, csv) = query(
        &s,
        TOKEN,
        &format!(
            r#"import "http"
import "array"
array.from(rows: [{{s: http.post(url: "http://{closed}/x")}}])"#
        ),
    );
    assert!(csv.contains(&format!("cannot connect to http://{closed}/x")), "{csv}");

    let (_, csv) = query(
        &s,
        TOKEN,
        r#"import "http"
import "array"
array.from(rows: [{s: http.post(url: "ftp://example/x")}])"#,
    );
    assert!(csv.contains("only http and https are supported"), "{csv}");

    // The query's own time limit bounds a call that asked for longer.
    let limited = TestServer::start_with(&["--query-timeout", "1s"], &[]);
    limited.setup();
    let started = std::time::Instant::now();
    let (_, csv) = query(
        &limited,
        TOKEN,
        &format!(
            r#"import "experimental/http"
import "array"
array.from(rows: [{{s: http.get(url: "{}/slow", timeout: 1h).statusCode}}])"#,
            peer.url
        ),
    );
    assert!(csv.contains("timed out") || csv.contains("query timeout"), "{csv}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

#[test]
fn influxdb_api_calls_this_server_as_the_caller_or_another_with_a_token() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let flux = r#"import "experimental/influxdb"
import "array"
import "dict"
health = influxdb.api(method: "get", path: "/health")
buckets = influxdb.api(method: "get", path: "/api/v2/buckets", query: ["name": "metrics"])
array.from(rows: [{health: health.statusCode, code: buckets.statusCode, body: string(v: buckets.body), ctype: dict.get(dict: buckets.headers, key: "Content-Type", default: "")}])"#;
    let (status, csv) = query(&s, TOKEN, flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "health"), ["200"], "{csv}");
    assert_eq!(column(&csv, "code"), ["200"], "{csv}");
    let body: serde_json::Value = serde_json::from_str(&column(&csv, "body")[0]).unwrap();
    assert_eq!(body["buckets"][0]["name"], "metrics", "{body}");
    assert_eq!(column(&csv, "ctype"), ["application/json"], "{csv}");

    // A body goes through: the caller creates a bucket.
    let flux = format!(
        r#"import "experimental/influxdb"
import "json"
import "array"
r = influxdb.api(method: "post", path: "/api/v2/buckets", body: json.encode(v: {{name: "made-by-flux", orgID: "{org}", retentionRules: []}}))
array.from(rows: [{{code: r.statusCode}}])"#
    );
    let (_, csv) = query(&s, TOKEN, &flux);
    assert_eq!(column(&csv, "code"), ["201"], "{csv}");
    assert_eq!(s.get("/api/v2/buckets?name=made-by-flux", TOKEN).1["buckets"].as_array().unwrap().len(), 1);

    // The caller's permissions hold: a token that may only read buckets cannot make one.
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]));
    let flux = format!(
        r#"import "experimental/influxdb"
import "json"
import "array"
r = influxdb.api(method: "post", path: "/api/v2/buckets", body: json.encode(v: {{name: "not-allowed", orgID: "{org}"}}))
array.from(rows: [{{code: r.statusCode, body: string(v: r.body)}}])"#
    );
    let (_, csv) = query(&s, &reader, &flux);
    assert_eq!(column(&csv, "code"), ["401"], "{csv}");
    assert!(csv.contains("is unauthorized"), "{csv}");
    assert_eq!(s.get("/api/v2/buckets?name=not-allowed", TOKEN).1["buckets"].as_array().unwrap().len(), 0);

    // With a host: that server, with that token; without the token, its 401.
    let (other, other_setup) = TestServer::onboarded();
    let other_url = format!("http://{}", other.addr);
    let flux = format!(
        r#"import "experimental/influxdb"
import "array"
ok = influxdb.api(method: "get", path: "/api/v2/orgs", host: "{other_url}", token: "{TOKEN}", timeout: 10s)
denied = influxdb.api(method: "get", path: "/api/v2/orgs", host: "{other_url}")
array.from(rows: [{{ok: ok.statusCode, denied: denied.statusCode, body: string(v: ok.body)}}])"#
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "ok"), ["200"], "{csv}");
    assert_eq!(column(&csv, "denied"), ["401"], "{csv}");
    assert!(csv.contains(&org_id(&other_setup)), "{csv}");
}

#[test]
fn from_with_a_host_reads_another_server() {
    let (s, _) = TestServer::onboarded();
    let (remote, _) = TestServer::onboarded();
    let r = remote
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .body("cpu,host=a usage=1.5 1577836800000000000\ncpu,host=b usage=3 1577836800000000000\nmem,host=a free=10i 1577836800000000000\n")
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let host = format!("http://{}", remote.addr);
    let flux = format!(
        r#"from(bucket: "metrics", host: "{host}", org: "acme", token: "{TOKEN}")
    |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)
    |> filter(fn: (r) => r._measurement == "cpu" and r.host == "b")"#
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "_value"), ["3"], "{csv}");
    assert_eq!(column(&csv, "_stop"), ["2020-01-01T01:00:00Z"], "{csv}");

    // The remote's refusal is the query's error, named.
    let flux = format!(
        r#"from(bucket: "metrics", host: "{host}", org: "acme", token: "wrong") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)"#
    );
    let (_, csv) = query(&s, TOKEN, &flux);
    assert!(csv.contains(&format!("from: {host} answered 401: unauthorized access")), "{csv}");
    let flux = format!(r#"from(bucket: "metrics", host: "{host}", token: "{TOKEN}")"#);
    let (_, csv) = query(&s, TOKEN, &flux);
    assert!(csv.contains("cannot submit unbounded read"), "{csv}");
}

#[test]
fn influxdb_package_writes_wide_rows_counts_series_and_reaches_other_hosts() {
    let (s, _) = TestServer::onboarded();
    let (remote, _) = TestServer::onboarded();
    let host = format!("http://{}", remote.addr);
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .body("cpu,host=a usage=1.5,idle=90 1577836800000000000\ncpu,host=b usage=3 1577836800000000000\nmem,host=a free=10i 1577836800000000000\n")
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let range = "range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)";

    // Series cardinality: measurement, tag set and field, here and over there.
    let card = |extra: &str| {
        let flux = format!(
            r#"import "influxdata/influxdb"
influxdb.cardinality(bucket: "metrics", start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z{extra})"#
        );
        let (status, csv) = query(&s, TOKEN, &flux);
        assert_eq!(status, 200, "{csv}");
        csv
    };
    assert_eq!(column(&card(""), "_value"), ["4"]);
    assert_eq!(column(&card(r#", predicate: (r) => r._measurement == "cpu""#), "_value"), ["3"]);
    assert_eq!(column(&card(r#", predicate: (r) => r.host == "b""#), "_value"), ["1"]);
    // Nothing matching is still one row, 0, with `_value` the only column, as 2.7 answers.
    let none = card(r#", predicate: (r) => r._measurement == "nothing""#);
    assert_eq!(column(&none, "_value"), ["0"], "{none}");
    assert!(none.lines().any(|l| l.trim_end() == ",result,table,_value"), "{none}");

    // wideTo to the other server: group-key columns are tags, the rest fields.
    let flux = format!(
        r#"import "influxdata/influxdb"
import "influxdata/influxdb/schema"
from(bucket: "metrics") |> {range} |> filter(fn: (r) => r._measurement == "cpu")
    |> schema.fieldsAsCols()
    |> influxdb.wideTo(bucket: "metrics", org: "acme", host: "{host}", token: "{TOKEN}")"#
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    let (_, csv) = query(
        &remote,
        TOKEN,
        &format!(
            r#"from(bucket: "metrics") |> {range} |> keep(columns: ["_measurement", "host", "_field", "_value"]) |> group() |> sort(columns: ["host", "_field"])"#
        ),
    );
    let got: Vec<String> =
        ["_measurement", "host", "_field", "_value"].iter().map(|c| column(&csv, c).join(" ")).collect();
    assert_eq!(got, ["cpu cpu cpu", "a a b", "idle usage usage", "90 1.5 3"], "{csv}");

    // to() with a host, then buckets() and cardinality() over there.
    let flux = format!(
        r#"from(bucket: "metrics") |> {range} |> filter(fn: (r) => r._measurement == "mem")
    |> to(bucket: "metrics", org: "acme", host: "{host}", token: "{TOKEN}")"#
    );
    let (status, csv) = query(&s, TOKEN, &flux);
    assert_eq!(status, 200, "{csv}");
    let flux = format!(
        r#"import "influxdata/influxdb"
influxdb.cardinality(bucket: "metrics", host: "{host}", org: "acme", token: "{TOKEN}", start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)"#
    );
    let (_, csv) = query(&s, TOKEN, &flux);
    assert_eq!(column(&csv, "_value"), ["4"], "{csv}");
    let (_, csv) = query(
        &s,
        TOKEN,
        &format!(r#"buckets(host: "{host}", org: "acme", token: "{TOKEN}") |> filter(fn: (r) => r.name == "metrics")"#),
    );
    assert_eq!(column(&csv, "name"), ["metrics"], "{csv}");

    // A refused write is the query's error.
    let flux = format!(
        r#"from(bucket: "metrics") |> {range} |> to(bucket: "metrics", org: "acme", host: "{host}", token: "wrong")"#
    );
    let (_, csv) = query(&s, TOKEN, &flux);
    assert!(csv.contains(&format!("to: {host} answered 401")), "{csv}");
}

/// A query that runs another through `influxdb.api()` does not wait for a
/// second query slot: with one slot, the inner query runs in its caller's.
#[test]
fn influxdb_api_runs_a_nested_query_in_the_callers_slot() {
    let (s, _) = TestServer::onboarded_with(&["--query-concurrency", "1", "--query-queue-size", "1"]);
    let flux = r#"import "experimental/influxdb"
import "array"
inner = influxdb.api(method: "post", path: "/api/v2/query", query: ["org": "acme"],
    headers: ["Content-Type": "application/vnd.flux"], body: bytes(v: "import \"array\"\narray.from(rows: [{v: 42}])"), timeout: 20s)
array.from(rows: [{code: inner.statusCode, body: string(v: inner.body)}])"#;
    let started = std::time::Instant::now();
    let (status, csv) = query(&s, TOKEN, flux);
    assert_eq!(status, 200, "{csv}");
    assert_eq!(column(&csv, "code"), ["200"], "{csv}");
    assert!(column(&csv, "body")[0].contains(",42"), "{csv}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
}
