//! `--query-memory-bytes`, `--query-concurrency` with `--query-queue-size`, and
//! `--query-timeout`: each stops what goes past it with a clear 400, and the
//! server goes on answering.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer};

fn query(s: &TestServer, q: &str) -> (u16, String) {
    let r = s.request(Method::POST, "/api/v2/query?org=acme", Some(TOKEN)).json(&json!({ "query": q })).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(v["code"], "invalid", "{body}");
    v["message"].as_str().unwrap().to_owned()
}

const SMALL: &str = r#"import "array"
array.from(rows: [{_value: 1}])"#;

#[test]
fn a_query_that_would_hold_more_than_query_memory_bytes_gets_an_error() {
    let s = TestServer::start_with(&["--query-memory-bytes", "65536"], &[]);
    s.setup();
    let mut body = String::new();
    for i in 0..10_000 {
        body.push_str(&format!("big v={i} {}\n", 1_600_000_000_000_000_000i64 + i * 1_000_000_000));
    }
    body.push_str("small v=1 1600000000000000000\n");
    let r = s.request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN)).body(body).send().unwrap();
    assert_eq!(r.status(), 204);

    let read = |m: &str| {
        format!(
            r#"from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "{m}")"#
        )
    };
    let (status, body) = query(&s, &read("big"));
    assert_eq!(status, 400, "{body}");
    let m = message(&body);
    assert!(m.starts_with("memory allocation limit reached: limit 65536 bytes, allocated: 0, wanted: "), "{m}");

    // Gathering tables counts too: 10,000 rows do not fit in 64 KiB however they come.
    let (status, body) = query(&s, &format!("{} |> window(every: 1h) |> group()", read("big")));
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).starts_with("memory allocation limit reached"), "{body}");

    let (status, body) = query(&s, &read("small"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(",small\r\n"), "{body}");

    // 20 series of 500 points: 160 KB in all, 8 KB each. A raw read streams
    // series by series and fits; gathering them all does not.
    let mut wide = String::new();
    for host in 0..20 {
        for i in 0..500 {
            wide.push_str(&format!("wide,host=h{host} v={i} {}\n", 1_600_000_000_000_000_000i64 + i * 1_000_000_000));
        }
    }
    let r = s.request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN)).body(wide).send().unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = query(&s, &read("wide"));
    assert_eq!(status, 200, "{}", &body[..body.len().min(300)]);
    assert_eq!(body.lines().filter(|l| l.contains(",wide,h")).count(), 10_000);
    let (status, body) = query(&s, &format!("{} |> group()", read("wide")));
    assert_eq!(status, 400, "{}", &body[..body.len().min(300)]);
    assert!(message(&body).starts_with("memory allocation limit reached"), "{body}");
    // The aggregate runs in storage and holds one row.
    let (status, body) = query(&s, &format!("{} |> count()", read("big")));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(",v,big,10000\r\n"), "{body}");
}

/// A query whose output runs to tens of megabytes: while its client does not
/// read, it stays running (and holds its slot).
const LARGE: &str = r#"import "generate"
generate.from(count: 1000000, fn: (n) => n, start: 2021-01-01T00:00:00Z, stop: 2021-01-02T00:00:00Z)"#;

#[test]
fn past_query_concurrency_queries_wait_and_past_the_queue_they_are_turned_away() {
    let s = TestServer::start_with(&["--query-concurrency", "1", "--query-queue-size", "1"], &[]);
    s.setup();
    let running =
        s.request(Method::POST, "/api/v2/query?org=acme", Some(TOKEN)).json(&json!({ "query": LARGE })).send().unwrap();
    assert_eq!(running.status(), 200);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        let url = s.url("/api/v2/query?org=acme");
        for _ in 0..2 {
            let (tx, url) = (tx.clone(), url.clone());
            scope.spawn(move || {
                let r = reqwest::blocking::Client::new()
                    .post(url)
                    .header("Authorization", format!("Token {TOKEN}"))
                    .json(&json!({ "query": SMALL }))
                    .send()
                    .unwrap();
                tx.send((r.status().as_u16(), r.text().unwrap())).unwrap()
            });
        }
        // One of the two waits in the queue; the other finds it full.
        let (status, body) = rx.recv_timeout(Duration::from_secs(30)).expect("one query is refused at once");
        assert_eq!(status, 400, "{body}");
        assert_eq!(message(&body), "queue length exceeded");
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "the other query waits for the slot");
        // The first client goes away: its query stops and the waiting one runs.
        drop(running);
        let (status, body) = rx.recv_timeout(Duration::from_secs(30)).expect("the queued query runs");
        assert_eq!(status, 200, "{body}");
    });
    let (status, body) = query(&s, SMALL);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_query_past_query_timeout_stops_with_an_error() {
    let s = TestServer::start_with(&["--query-timeout", "300ms"], &[]);
    s.setup();
    // Row-by-row work (a call of a user function in map) that would run for many seconds.
    let slow = r#"import "generate"
double = (x) => x * 2
generate.from(count: 3000000, fn: (n) => n, start: 2021-01-01T00:00:00Z, stop: 2021-01-02T00:00:00Z)
    |> map(fn: (r) => ({r with doubled: double(x: r._value)}))"#;
    let started = Instant::now();
    let (status, body) = query(&s, slow);
    let took = started.elapsed();
    assert_eq!(status, 400, "{body}");
    let m = message(&body);
    assert!(m.contains("query timeout reached: the query ran longer than 300ms"), "{m}");
    assert!(took < Duration::from_secs(10), "the query stopped at its timeout, not at its end: {took:?}");
    let (status, body) = query(&s, SMALL);
    assert_eq!(status, 200, "{body}");
}
