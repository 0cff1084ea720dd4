//! Alerting over HTTP: checks that really run (`checks`), notification
//! endpoints and rules that send to real servers on loopback (`rules`), and
//! Flux's notification packages (`packages`). The helpers here write the
//! points the checks look at and read back what `_monitoring` holds.

mod checks;
mod packages;
mod rules;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer};

/// POSTs `body` to `path` as the operator; it must be created (201).
pub(super) fn created(s: &TestServer, path: &str, body: Value) -> Value {
    let (status, made) = s.post(path, TOKEN, body);
    assert_eq!(status, 201, "POST {path}: {made}");
    made
}

/// Writes `cpu,host=a usage=<value>` stamped now.
pub(super) fn write_usage(s: &TestServer, value: f64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    write_now(s, &format!("cpu,host=a usage={value} {now}"));
}

pub(super) fn write_now(s: &TestServer, line: &str) {
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics&precision=ns", Some(TOKEN))
        .body(line.to_owned())
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// The rows of a single-table CSV answer, each as (column, value) pairs.
pub(super) fn rows(csv: &str) -> Vec<Vec<(String, String)>> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let Some(header) = lines.next() else { return Vec::new() };
    let names: Vec<String> = header.split(',').map(str::to_owned).collect();
    lines
        .filter(|l| !l.starts_with(",result"))
        .map(|l| names.iter().cloned().zip(l.split(',').map(str::to_owned)).collect())
        .collect()
}

/// The statuses `_monitoring` holds for a check, in time order (their
/// `_message` rows).
pub(super) fn statuses(s: &TestServer, check_id: &str) -> Vec<Vec<(String, String)>> {
    rows(&s.flux_csv(&format!(
        "from(bucket: \"_monitoring\") |> range(start: -1h) \
         |> filter(fn: (r) => r._measurement == \"statuses\" and r._check_id == \"{check_id}\" and r._field == \"_message\") \
         |> group() |> sort(columns: [\"_time\"])"
    )))
}

pub(super) fn column(row: &[(String, String)], name: &str) -> String {
    row.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// Writes `line` (its value stamped now) until the check records `level`.
pub(super) fn drive_to(s: &TestServer, check_id: &str, value: f64, level: &str) -> Vec<Vec<(String, String)>> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        write_usage(s, value);
        let rows = statuses(s, check_id);
        if rows.last().is_some_and(|r| column(r, "_level") == level) {
            return rows;
        }
        assert!(Instant::now() < until, "no {level} status for {value} after 30 s: {rows:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub(super) fn threshold_check(org: &str, name: &str) -> Value {
    json!({
        "type": "threshold",
        "name": name,
        "orgID": org,
        "status": "active",
        "every": "1s",
        "statusMessageTemplate": "usage is ${string(v: r.usage)}",
        "tags": [{"key": "team", "value": "ops"}],
        "query": {"text": "from(bucket: \"metrics\") |> range(start: -1m) |> filter(fn: (r) => r._measurement == \"cpu\") |> filter(fn: (r) => r._field == \"usage\") |> aggregateWindow(every: 1m, fn: last)"},
        "thresholds": [
            {"type": "lesser", "level": "OK", "value": 50},
            {"type": "range", "level": "WARN", "min": 50, "max": 90, "within": true},
            {"type": "greater", "level": "CRIT", "value": 90},
        ],
    })
}

/// Waits (up to 30 s) for `done` to hold of what the peer received, poking
/// (writing) between looks.
pub(super) fn wait_received(
    peer: &crate::calls_out::Peer,
    mut poke: impl FnMut(),
    done: impl Fn(&[crate::calls_out::Received]) -> bool,
) -> Vec<crate::calls_out::Received> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        poke();
        let got = peer.received();
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < until, "not received in 30 s: {got:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

pub(super) fn body_of(r: &crate::calls_out::Received) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}
