//! Templates and stacks over HTTP: `POST /api/v2/templates/apply` with
//! every kind (`apply`), stacks that track, update and uninstall what was
//! applied (`stacks`), and `POST /api/v2/templates/export` back to a
//! template that applies again (`export`). `everything.yml` holds every kind
//! and every chart kind; templates fetched by URL come from a loopback
//! server here.

mod apply;
mod export;
mod stacks;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer};

/// The template with every kind in it.
pub(super) const EVERYTHING: &str = include_str!("everything.yml");

/// An apply request of `yaml` in `org`, with the env value the bucket's name takes.
pub(super) fn request(org: &str, yaml: &str) -> Value {
    json!({
        "orgID": org,
        "envRefs": { "bucket-name": "team-metrics" },
        "template": { "contentType": "yaml", "sources": ["everything.yml"], "contents": yaml },
    })
}

/// POSTs an apply; answers its status and body.
pub(super) fn apply(s: &TestServer, body: Value) -> (u16, Value) {
    s.post("/api/v2/templates/apply", TOKEN, body)
}

/// The names of an org's resources of one kind (`buckets`, `dashboards`, ...), sorted.
pub(super) fn names(s: &TestServer, path: &str, key: &str, org: &str) -> Vec<String> {
    let (status, v) = s.get(&format!("/api/v2/{path}?orgID={org}&limit=100"), TOKEN);
    assert_eq!(status, 200, "{v}");
    let mut out: Vec<String> =
        v[key].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap_or_default().to_owned()).collect();
    out.sort();
    out
}

/// Everything an org holds that a template can make, by kind.
pub(super) fn inventory(s: &TestServer, org: &str) -> Vec<(&'static str, Vec<String>)> {
    [
        ("buckets", "buckets"),
        ("labels", "labels"),
        ("dashboards", "dashboards"),
        ("variables", "variables"),
        ("tasks", "tasks"),
        ("checks", "checks"),
        ("notificationEndpoints", "notificationEndpoints"),
        ("notificationRules", "notificationRules"),
        ("telegrafs", "configurations"),
    ]
    .into_iter()
    .map(|(path, key)| (path, names(s, path, key, org)))
    .collect()
}

/// The diff entries of an answer as (kind list, metadata name, state).
pub(super) fn states(answer: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (list, entries) in answer["diff"].as_object().unwrap() {
        if list == "labelMappings" {
            continue;
        }
        for e in entries.as_array().unwrap() {
            out.push((
                list.clone(),
                e["templateMetaName"].as_str().unwrap().to_owned(),
                e["stateStatus"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out.sort();
    out
}

/// A loopback server with fixed answers by path: `/status/N` answers N,
/// `/huge` more bytes than a template may be, anything else `body`.
pub(super) fn serve(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let mut out = conn;
                if path == "/huge" {
                    let size = 17 << 20;
                    let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n");
                    let chunk = vec![b' '; 1 << 20];
                    for _ in 0..17 {
                        if out.write_all(&chunk).is_err() {
                            return;
                        }
                    }
                    return;
                }
                let status: u16 = path.strip_prefix("/status/").and_then(|s| s.parse().ok()).unwrap_or(200);
                let _ = write!(
                    out,
                    "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}
