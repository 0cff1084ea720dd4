use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::server::{PASSWORD, TOKEN, TestServer, org_id};

#[test]
fn a_restart_keeps_everything() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, bucket) = s.post("/api/v2/buckets", TOKEN, json!({"orgID": org, "name": "kept"}));
    let (_, label) = s.post("/api/v2/labels", TOKEN, json!({"orgID": org, "name": "l"}));
    let (_, user) = s.post("/api/v2/users", TOKEN, json!({"name": "u2"}));
    let (token, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]));
    let bucket_id = bucket["id"].as_str().unwrap().to_owned();
    let before = s.get(&format!("/api/v2/buckets/{bucket_id}"), TOKEN).1;

    let s = s.restart();
    assert_eq!(s.get(&format!("/api/v2/buckets/{bucket_id}"), TOKEN).1, before);
    assert_eq!(s.get(&format!("/api/v2/labels/{}", label["label"]["id"].as_str().unwrap()), TOKEN).0, 200);
    assert_eq!(s.get(&format!("/api/v2/users/{}", user["id"].as_str().unwrap()), TOKEN).0, 200);
    assert_eq!(s.get("/api/v2/buckets", &token).0, 200, "tokens survive");
    assert_eq!(s.call(reqwest::Method::GET, "/api/v2/setup", None, None).1, json!({"allowed": false}));
    let r =
        s.request(reqwest::Method::POST, "/api/v2/signin", None).basic_auth("admin", Some(PASSWORD)).send().unwrap();
    assert_eq!(r.status(), 204, "passwords survive");
}

#[test]
fn kill_9_during_metadata_writes_leaves_a_consistent_store_with_every_acknowledged_write() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let url = s.url("/api/v2/buckets");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, org, stop) = (url.clone(), org.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut acked = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("w{w}-{i}");
                    let r = client
                        .post(&url)
                        .header("Authorization", format!("Token {TOKEN}"))
                        .json(&json!({"orgID": org, "name": name}))
                        .send();
                    match r {
                        Ok(r) if r.status() == 201 => acked.push(name),
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => break, // the server died under us
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let mut s = s;
    s.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<String> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(acked.len() > 10, "the writers got going: {}", acked.len());

    // The file itself is sound...
    let store = meta::Store::open(&s.data_dir().join("meta.sqlite")).unwrap();
    store.integrity_check().unwrap();
    drop(store);

    // ...and every bucket that was acknowledged is there after restart.
    let s = s.restart();
    for name in &acked {
        let (status, body) = s.get(&format!("/api/v2/buckets?orgID={org}&name={name}"), TOKEN);
        assert_eq!(status, 200);
        assert_eq!(body["buckets"].as_array().unwrap().len(), 1, "acknowledged bucket {name} lost");
    }
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let mut s = TestServer::start();
    let (ok, log) = s.terminate();
    assert!(ok, "exit status; log: {log:?}");
    assert!(log.iter().any(|l| l.contains("shutting down")), "{log:?}");
}

#[test]
fn kill_9_while_clients_write_loses_no_acknowledged_point() {
    kill_9_while_writing(&[]);
}

/// The same with a tiny buffer: snapshots to Parquet and WAL releases happen all
/// through the run, so the kill can land in the middle of one.
#[test]
fn kill_9_during_snapshots_loses_no_acknowledged_point() {
    kill_9_while_writing(&["--storage-cache-snapshot-memory-size", "20000"]);
}

fn kill_9_while_writing(args: &[&str]) {
    let s = TestServer::start_with(args, &[]);
    let setup = s.setup();
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let url = s.url("/api/v2/write?org=acme&bucket=metrics");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, stop) = (url.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut acked = Vec::new();
                for batch in 0u64.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // 50 points per request; each point's value names it.
                    let body: String = (0..50)
                        .map(|i| {
                            format!(
                                "crash,writer=w{w} v={} {}\n",
                                batch * 50 + i,
                                1_700_000_000_000_000_000 + (batch * 50 + i) as i64
                            )
                        })
                        .collect();
                    match client.post(&url).header("Authorization", format!("Token {TOKEN}")).body(body).send() {
                        Ok(r) if r.status() == 204 => acked.extend((0..50).map(|i| (w, batch * 50 + i))),
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => break,
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    let mut s = s;
    s.kill9();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<(u64, u64)> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(acked.len() >= 1000, "the writers got going: {}", acked.len());

    // The server comes back, takes writes again...
    let mut s = s.restart();
    let r = s
        .request(reqwest::Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .body("after v=1 1700000000000000000")
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    // ...and every acknowledged point is there.
    let stored: std::collections::HashSet<(String, String)> =
        s.stop_and_read(&bucket).into_iter().map(|(series, _, _, v)| (series, v)).collect();
    let missing: Vec<_> = acked
        .iter()
        .filter(|(w, v)| !stored.contains(&(format!("crash,writer=w{w}"), format!("{v}.0"))))
        .take(5)
        .collect();
    assert!(missing.is_empty(), "{} acknowledged points lost, e.g. {missing:?}", missing.len());
    assert!(stored.contains(&("after".to_string(), "1.0".to_string())));
    if !args.is_empty() {
        let files = std::fs::read_dir(s.data_dir().join("data").join(&bucket)).map(|d| d.count()).unwrap_or(0);
        assert!(files > 1, "snapshots wrote Parquet files during the run");
    }
}
