//! Replication to a second oxiflux on loopback: remotes, replications,
//! durable queues through outages and `kill -9`, refusals reported, a full
//! queue refusing writes; and the sources API.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

/// A server on a port of its own, so that it comes back at the same address.
fn fixed_port_server() -> (TestServer, Value) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s = TestServer::start_with(&["--http-bind-address", &format!("127.0.0.1:{port}")], &[]);
    let setup = s.setup();
    (s, setup)
}

/// `n` points of one series, values `from..from+n`, one second apart.
fn points(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("seq,host=edge v={i}i {}\n", 1_600_000_000 + i as i64)).collect()
}

fn write(s: &TestServer, body: &str) -> (u16, String) {
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics&precision=s", Some(TOKEN))
        .body(body.to_owned())
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// The values in the remote's bucket, in time order.
fn values(s: &TestServer) -> Vec<i64> {
    let r = s
        .request(Method::POST, "/api/v2/query?org=acme", Some(TOKEN))
        .header("Content-Type", "application/vnd.flux")
        .body("from(bucket: \"metrics\") |> range(start: 0) |> filter(fn: (r) => r._measurement == \"seq\")")
        .send()
        .unwrap();
    let csv = r.text().unwrap();
    let rows: Vec<&str> = csv.lines().filter(|l| l.starts_with(",_result")).collect();
    rows.iter().map(|l| l.split(',').nth(6).unwrap().parse().unwrap()).collect()
}

fn wait_values(s: &TestServer, want: usize, secs: u64) -> Vec<i64> {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = values(s);
        if v.len() >= want || Instant::now() > until {
            return v;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn replication(s: &TestServer, id: &str) -> Value {
    let (status, body) = s.get(&format!("/api/v2/replications/{id}"), TOKEN);
    assert_eq!(status, 200, "{body}");
    body
}

fn wait_replication(s: &TestServer, id: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = replication(s, id);
        if done(&r) || Instant::now() > until {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn replication_reaches_the_remote_through_outages_and_kills() {
    let (remote, remote_setup) = fixed_port_server();
    let remote_org = org_id(&remote_setup);
    let remote_bucket = remote_setup["bucket"]["id"].as_str().unwrap().to_owned();
    let (local, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();

    // The remote connection: its token is kept, never shown.
    let (status, conn) = local.post(
        "/api/v2/remotes",
        TOKEN,
        json!({"name": "central", "orgID": org, "remoteURL": remote.url(""), "remoteAPIToken": TOKEN,
               "remoteOrgID": remote_org, "allowInsecureTLS": false}),
    );
    assert_eq!(status, 201, "{conn}");
    assert!(!conn.to_string().contains(TOKEN), "{conn}");
    let conn_id = conn["id"].as_str().unwrap().to_owned();
    let (_, list) = local.get(&format!("/api/v2/remotes?orgID={org}"), TOKEN);
    assert_eq!(list["remotes"][0]["id"], conn_id.as_str());
    assert!(!list.to_string().contains(TOKEN));
    assert_eq!(local.get("/api/v2/remotes", TOKEN).0, 400);
    let (status, bad) = local.post(
        "/api/v2/remotes",
        TOKEN,
        json!({"name": "x", "orgID": org, "remoteURL": "nope", "remoteAPIToken": "t"}),
    );
    assert_eq!(status, 400, "{bad}");

    // Validation checks the remote for real, and saves nothing.
    let req = json!({"name": "to-central", "orgID": org, "remoteID": conn_id, "localBucketID": bucket,
                     "remoteBucketID": remote_bucket});
    assert_eq!(local.post("/api/v2/replications?validate=true", TOKEN, req.clone()).0, 204);
    let mut wrong = req.clone();
    wrong["remoteBucketID"] = json!("0000000000000001");
    let (status, why) = local.post("/api/v2/replications?validate=true", TOKEN, wrong);
    assert_eq!(status, 400, "{why}");
    assert!(why["message"].as_str().unwrap().contains("404"), "{why}");
    let (_, none) = local.get(&format!("/api/v2/replications?orgID={org}"), TOKEN);
    assert_eq!(none["replications"].as_array().unwrap().len(), 0);
    let mut small = req.clone();
    small["maxQueueSizeBytes"] = json!(1000);
    assert_eq!(local.post("/api/v2/replications", TOKEN, small).0, 400);
    let (status, rep) = local.post("/api/v2/replications", TOKEN, req);
    assert_eq!(status, 201, "{rep}");
    assert_eq!(rep["maxQueueSizeBytes"], 67_108_860);
    // 2.7's defaults when the request leaves them out: a 64 MiB queue, no age limit.
    assert_eq!(rep["maxAgeSeconds"], 0);
    let rep_id = rep["id"].as_str().unwrap().to_owned();
    assert_eq!(local.post(&format!("/api/v2/replications/{rep_id}/validate"), TOKEN, json!({})).0, 204);

    // 10,000 points find their way.
    for k in 0..10 {
        assert_eq!(write(&local, &points(k * 1000, 1000)).0, 204);
    }
    let got = wait_values(&remote, 10_000, 30);
    assert_eq!(got, (0..10_000).collect::<Vec<i64>>());
    let r = wait_replication(&local, &rep_id, 10, |r| r["remainingBytesToBeSynced"] == 0);
    assert_eq!((r["remainingBytesToBeSynced"].as_i64(), r["latestResponseCode"].as_i64()), (Some(0), Some(204)), "{r}");

    // The remote stops; writes go on; its errors show; when it is back, all arrive.
    let mut remote = remote;
    let (ok, _) = remote.terminate();
    assert!(ok);
    assert_eq!(write(&local, &points(10_000, 2000)).0, 204);
    let r = wait_replication(&local, &rep_id, 10, |r| r["latestErrorMessage"].is_string());
    assert!(r["remainingBytesToBeSynced"].as_i64().unwrap() > 0, "{r}");
    assert!(r["latestErrorMessage"].as_str().unwrap().contains("error sending request"), "{r}");
    let remote = remote.restart();
    assert_eq!(wait_values(&remote, 12_000, 60), (0..12_000).collect::<Vec<i64>>());

    // kill -9 of the local server mid-replication: nothing lost.
    let mut remote = remote;
    let (ok, _) = remote.terminate();
    assert!(ok);
    for k in 0..3 {
        assert_eq!(write(&local, &points(12_000 + k * 1000, 1000)).0, 204);
    }
    let mut local = local;
    local.kill9();
    let local = local.restart();
    let remote = remote.restart();
    assert_eq!(wait_values(&remote, 15_000, 60), (0..15_000).collect::<Vec<i64>>());
    let r = wait_replication(&local, &rep_id, 10, |r| r["remainingBytesToBeSynced"] == 0);
    assert_eq!(r["remainingBytesToBeSynced"], 0, "{r}");

    // A wrong token: the remote's 401 is reported, and the data waits.
    let (status, _) =
        local.patch(&format!("/api/v2/remotes/{conn_id}"), TOKEN, json!({"remoteAPIToken": "wrong-token"}));
    assert_eq!(status, 200);
    assert_eq!(write(&local, &points(15_000, 10)).0, 204);
    let r = wait_replication(&local, &rep_id, 10, |r| r["latestResponseCode"] == 401);
    assert_eq!(r["latestResponseCode"], 401, "{r}");
    assert!(r["latestErrorMessage"].as_str().unwrap().contains("unauthorized"), "{r}");
    assert!(r["remainingBytesToBeSynced"].as_i64().unwrap() > 0, "{r}");
    // Put right, it goes on where it stopped.
    local.patch(&format!("/api/v2/remotes/{conn_id}"), TOKEN, json!({"remoteAPIToken": TOKEN}));
    assert_eq!(wait_values(&remote, 15_010, 30).len(), 15_010);

    // v1 writes and Flux's to() are replicated too.
    let r = local
        .request(Method::POST, "/write?db=metrics&precision=s", None)
        .basic_auth("admin", Some(TOKEN))
        .body(format!("seq,host=edge v=15010i {}\n", 1_600_000_000 + 15_010))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let flux = format!(
        "import \"array\"\narray.from(rows: [{{_measurement: \"seq\", host: \"edge\", _field: \"v\", _value: 15011, _time: {}}}]) |> to(bucket: \"metrics\")",
        "2020-09-13T16:36:51Z"
    );
    let r = local
        .request(Method::POST, "/api/v2/query?org=acme", Some(TOKEN))
        .header("Content-Type", "application/vnd.flux")
        .body(flux)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = wait_values(&remote, 15_012, 30);
    assert_eq!(got[15_010..], [15_010, 15_011], "{:?}", &got[15_000..]);

    // The queue's figures on /metrics, under InfluxDB's names (public, as there).
    let metrics = local.client.get(local.url("/metrics")).send().unwrap().text().unwrap();
    let line = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains(&rep_id))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
    };
    // Counted since the last start (it was killed above), as Prometheus counters are.
    assert!(line("replications_queue_total_points_queued") >= 10.0, "{metrics}");
    assert!(line("replications_queue_remote_write_bytes_sent") > 0.0, "{metrics}");
    assert_eq!(line("replications_queue_current_bytes_queued"), 0.0);
    assert!(line("replications_queue_remote_write_errors{code=\"401\"") >= 1.0, "{metrics}");

    // A remote in use cannot be deleted; the replication first.
    assert_eq!(local.delete(&format!("/api/v2/remotes/{conn_id}"), TOKEN).0, 422);
    assert_eq!(local.delete(&format!("/api/v2/replications/{rep_id}"), TOKEN).0, 204);
    assert_eq!(local.delete(&format!("/api/v2/remotes/{conn_id}"), TOKEN).0, 204);
}

/// Every write goes through the one write path, so the scheduler's run
/// records in `_tasks` replicate like any other write (as InfluxDB 2.7's do).
#[test]
fn task_run_records_are_replicated_like_every_write() {
    let (remote, remote_setup) = fixed_port_server();
    let remote_org = org_id(&remote_setup);
    let remote_bucket = remote_setup["bucket"]["id"].as_str().unwrap().to_owned();
    let (local, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, tasks_bucket) = local.get(&format!("/api/v2/buckets?orgID={org}&name=_tasks"), TOKEN);
    let tasks_bucket = tasks_bucket["buckets"][0]["id"].as_str().unwrap().to_owned();
    let (status, conn) = local.post(
        "/api/v2/remotes",
        TOKEN,
        json!({"name": "central", "orgID": org, "remoteURL": remote.url(""), "remoteAPIToken": TOKEN,
               "remoteOrgID": remote_org, "allowInsecureTLS": false}),
    );
    assert_eq!(status, 201, "{conn}");
    let (status, rep) = local.post(
        "/api/v2/replications",
        TOKEN,
        json!({"name": "runs", "orgID": org, "remoteID": conn["id"], "localBucketID": tasks_bucket,
               "remoteBucketID": remote_bucket}),
    );
    assert_eq!(status, 201, "{rep}");
    let flux = "import \"array\"\noption task = {name: \"noop\", every: 1h}\narray.from(rows: [{x: 1}])";
    let (status, task) = local.post("/api/v2/tasks", TOKEN, json!({"org": "acme", "flux": flux}));
    assert_eq!(status, 201, "{task}");
    let id = task["id"].as_str().unwrap();
    assert_eq!(local.post(&format!("/api/v2/tasks/{id}/runs"), TOKEN, json!({})).0, 201);
    let until = Instant::now() + Duration::from_secs(30);
    let csv = loop {
        let r = remote
            .request(Method::POST, "/api/v2/query?org=acme", Some(TOKEN))
            .header("Content-Type", "application/vnd.flux")
            .body("from(bucket: \"metrics\") |> range(start: 0) |> filter(fn: (r) => r._measurement == \"runs\" and r._field == \"runID\")")
            .send()
            .unwrap();
        let csv = r.text().unwrap();
        if csv.contains(id) || Instant::now() > until {
            break csv;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(csv.contains(",success,") && csv.contains(id), "{csv}");
}

#[test]
fn a_full_queue_refuses_writes_with_a_clear_error() {
    let (local, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    // Nothing listens there: the queue only grows.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (_, conn) = local.post(
        "/api/v2/remotes",
        TOKEN,
        json!({"name": "nowhere", "orgID": org, "remoteURL": format!("http://{closed}"), "remoteAPIToken": "t",
               "remoteOrgID": "0000000000000001"}),
    );
    let (status, rep) = local.post(
        "/api/v2/replications",
        TOKEN,
        json!({"name": "stuck", "orgID": org, "remoteID": conn["id"], "localBucketID": bucket,
               "remoteBucketName": "metrics", "maxQueueSizeBytes": 33_554_430}),
    );
    assert_eq!(status, 201, "{rep}");
    let big = "x".repeat(100_000);
    let body: String = (0..100).map(|i| format!("blob,host=a s=\"{big}\" {}\n", 1_600_000_000 + i)).collect();
    let mut refused = None;
    for _ in 0..10 {
        let (status, text) = write(&local, &body);
        if status != 204 {
            refused = Some((status, text));
            break;
        }
    }
    let (status, text) = refused.expect("the queue never filled");
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("replication \\\"stuck\\\"") && text.contains("queue is full"), "{text}");
    let r = replication(&local, rep["id"].as_str().unwrap());
    assert!(r["currentQueueSizeBytes"].as_i64().unwrap() > 30_000_000, "{r}");
    // Without the replication, the bucket takes writes again.
    assert_eq!(local.delete(&format!("/api/v2/replications/{}", rep["id"].as_str().unwrap()), TOKEN).0, 204);
    assert_eq!(write(&local, &body).0, 204);
}

#[test]
fn sources_list_buckets_and_check_health_for_real() {
    let (remote, _) = TestServer::onboarded();
    let (local, setup) = TestServer::onboarded();
    let org = org_id(&setup);

    // The built-in source: this server.
    let (status, all) = local.get("/api/v2/sources", TOKEN);
    assert_eq!(status, 200, "{all}");
    let me = &all["sources"][0];
    assert_eq!(
        (me["id"].as_str(), me["type"].as_str(), me["default"].as_bool()),
        (Some("020f755c3c082000"), Some("self"), Some(true))
    );
    let (status, health) = local.get("/api/v2/sources/020f755c3c082000/health", TOKEN);
    assert_eq!((status, health["status"].as_str()), (200, Some("pass")), "{health}");
    let (_, mine) = local.get("/api/v2/sources/020f755c3c082000/buckets?org=acme", TOKEN);
    assert!(mine["buckets"].as_array().unwrap().iter().any(|b| b["name"] == "metrics"), "{mine}");

    // A v2 source: the second server, over its API with its token.
    let (status, v2) = local.post(
        "/api/v2/sources",
        TOKEN,
        json!({"orgID": org, "name": "central", "type": "v2", "url": remote.url(""), "token": TOKEN}),
    );
    assert_eq!(status, 201, "{v2}");
    assert!(!v2.to_string().contains(TOKEN), "secrets are write-only: {v2}");
    let id = v2["id"].as_str().unwrap().to_owned();
    let (status, buckets) = local.get(&format!("/api/v2/sources/{id}/buckets?org=acme"), TOKEN);
    assert_eq!(status, 200, "{buckets}");
    let names: Vec<&str> = buckets["buckets"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"metrics") && names.contains(&"_tasks"), "{names:?}");
    let (status, health) = local.get(&format!("/api/v2/sources/{id}/health"), TOKEN);
    assert_eq!((status, health["status"].as_str()), (200, Some("pass")), "{health}");

    // A v1 source: the same server's /query, with a v1 user and password.
    let (status, v1) = local.post(
        "/api/v2/sources",
        TOKEN,
        json!({"orgID": org, "name": "legacy", "type": "v1", "url": remote.url(""), "username": "admin", "password": TOKEN}),
    );
    assert_eq!(status, 201, "{v1}");
    assert!(!v1.to_string().contains(TOKEN));
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    let (status, dbs) = local.get(&format!("/api/v2/sources/{v1_id}/buckets"), TOKEN);
    assert_eq!(status, 200, "{dbs}");
    assert!(dbs["buckets"].as_array().unwrap().iter().any(|b| b["name"] == "metrics" && b["rp"] == "autogen"), "{dbs}");
    assert_eq!(local.get(&format!("/api/v2/sources/{v1_id}/health"), TOKEN).1["status"], "pass");

    // Nothing listens there: unhealthy, with the reason.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (_, down) = local.post(
        "/api/v2/sources",
        TOKEN,
        json!({"orgID": org, "name": "down", "type": "v2", "url": format!("http://{closed}"), "token": "t"}),
    );
    let down_id = down["id"].as_str().unwrap();
    // The check worked, so 200 (as 2.7); what it found is in the body.
    let (status, health) = local.get(&format!("/api/v2/sources/{down_id}/health"), TOKEN);
    assert_eq!((status, health["status"].as_str()), (200, Some("fail")), "{health}");
    assert!(health["message"].as_str().unwrap().contains("cannot reach"), "{health}");
    // Its buckets cannot be read: 422 with the reason, not a server error.
    let (status, why) = local.get(&format!("/api/v2/sources/{down_id}/buckets?org=acme"), TOKEN);
    assert_eq!((status, why["code"].as_str()), (422, Some("unprocessable entity")), "{why}");
    assert!(why["message"].as_str().unwrap().contains("cannot reach"), "{why}");

    // Changed, listed, deleted; the built-in one stays.
    let (status, renamed) = local.patch(&format!("/api/v2/sources/{id}"), TOKEN, json!({"name": "hq"}));
    assert_eq!((status, renamed["name"].as_str()), (200, Some("hq")));
    let (_, health) = local.get(&format!("/api/v2/sources/{id}/health"), TOKEN);
    assert_eq!(health["status"], "pass", "the token was kept: {health}");
    let (_, all) = local.get("/api/v2/sources", TOKEN);
    assert_eq!(all["sources"].as_array().unwrap().len(), 4);
    assert_eq!(local.delete(&format!("/api/v2/sources/{id}"), TOKEN).0, 204);
    assert_eq!(local.get(&format!("/api/v2/sources/{id}"), TOKEN).0, 404);
    assert_eq!(local.delete("/api/v2/sources/020f755c3c082000", TOKEN).0, 400);
    let (status, _) =
        local.post("/api/v2/sources", TOKEN, json!({"orgID": org, "name": "x", "type": "v3", "url": "http://a"}));
    assert_eq!(status, 400);
}
