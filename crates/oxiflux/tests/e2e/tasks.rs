//! Tasks over HTTP: scheduled Flux that downsamples into another bucket, cron
//! schedules, failing scripts, inactive tasks, manual runs, retry and cancel,
//! restart and `kill -9` with catch-up, and the Python client's tasks API.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

fn create(s: &TestServer, flux: &str) -> Value {
    let (status, body) = s.post("/api/v2/tasks", TOKEN, json!({"org": "acme", "flux": flux}));
    assert_eq!(status, 201, "{body}");
    body
}

fn runs(s: &TestServer, task: &str) -> Vec<Value> {
    let (status, body) = s.get(&format!("/api/v2/tasks/{task}/runs"), TOKEN);
    assert_eq!(status, 200, "{body}");
    body["runs"].as_array().unwrap().clone()
}

/// Waits (up to `secs`) until `done` holds for the task's runs.
fn wait_runs(s: &TestServer, task: &str, secs: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = runs(s, task);
        if done(&r) || Instant::now() > until {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn with_status<'a>(runs: &'a [Value], status: &str) -> Vec<&'a Value> {
    runs.iter().filter(|r| r["status"] == status).collect()
}

fn make_bucket(s: &TestServer, setup: &Value, name: &str) {
    let (status, body) = s.post("/api/v2/buckets", TOKEN, json!({"orgID": org_id(setup), "name": name}));
    assert_eq!(status, 201, "{body}");
}

fn write(s: &TestServer, bucket: &str, body: &str) {
    let r = s
        .request(Method::POST, &format!("/api/v2/write?org=acme&bucket={bucket}"), Some(TOKEN))
        .body(body.to_owned())
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[test]
fn a_downsampling_task_writes_window_means_into_a_second_bucket() {
    let (s, setup) = TestServer::onboarded();
    make_bucket(&s, &setup, "down");
    write(
        &s,
        "metrics",
        "cpu,host=a usage=1 1577836800000000000\ncpu,host=a usage=3 1577836860000000000\n\
         cpu,host=a usage=10 1577837400000000000\ncpu,host=b usage=7 1577836800000000000\n",
    );
    let task = create(
        &s,
        "option task = {name: \"downsample\", every: 1s}\n\n\
         from(bucket: \"metrics\")\n  |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)\n  \
         |> filter(fn: (r) => r._measurement == \"cpu\")\n  |> aggregateWindow(every: 10m, fn: mean)\n  \
         |> to(bucket: \"down\")\n",
    );
    assert_eq!(
        (task["name"].as_str(), task["every"].as_str(), task["status"].as_str()),
        (Some("downsample"), Some("1s"), Some("active"))
    );
    assert_eq!(task["org"], "acme");
    let id = task["id"].as_str().unwrap().to_owned();
    let done = wait_runs(&s, &id, 10, |r| with_status(r, "success").len() >= 2);
    assert!(with_status(&done, "success").len() >= 2, "{done:?}");
    // Runs are scheduled on whole seconds, one second apart, newest first.
    let times: Vec<i64> = with_status(&done, "success")
        .iter()
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["scheduledFor"].as_str().unwrap()).unwrap().timestamp())
        .collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");

    let csv = s.flux_csv("from(bucket: \"down\") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-02T00:00:00Z) |> keep(columns: [\"_time\", \"_value\", \"host\"])",
    );
    let rows: Vec<&str> = csv.lines().filter(|l| l.starts_with(",_result")).map(str::trim_end).collect();
    assert_eq!(
        rows,
        [
            ",_result,0,2020-01-01T00:10:00Z,2,a",
            ",_result,0,2020-01-01T00:20:00Z,10,a",
            ",_result,1,2020-01-01T00:10:00Z,7,b",
        ],
        "{csv}"
    );

    // The task and its logs say what happened.
    let (_, t) = s.get(&format!("/api/v2/tasks/{id}"), TOKEN);
    assert_eq!(t["lastRunStatus"], "success", "{t}");
    assert!(t["latestCompleted"].as_str().unwrap() > task["latestCompleted"].as_str().unwrap(), "{t}");
    let run = &with_status(&done, "success")[0];
    let (_, logs) = s.get(&format!("/api/v2/tasks/{id}/runs/{}/logs", run["id"].as_str().unwrap()), TOKEN);
    let messages: Vec<&str> =
        logs["events"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert!(messages[0].starts_with("Started task from script: \"option task"), "{messages:?}");
    assert_eq!(messages.last(), Some(&"Completed(success)"));
    // Runs are also kept as InfluxDB keeps them: points in the org's _tasks bucket.
    let recorded = s.flux_csv(&format!(
            "from(bucket: \"_tasks\") |> range(start: -1h) |> filter(fn: (r) => r.taskID == \"{id}\" and r._field == \"runID\") |> count()"
        ),
    );
    assert!(recorded.contains(",success,"), "{recorded}");
}

#[test]
fn cron_tasks_failures_inactive_tasks_and_the_task_api() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);

    // A cron schedule with seconds: every second.
    let cron = create(
        &s,
        "import \"array\"\noption task = {name: \"cron\", cron: \"* * * * * *\"}\narray.from(rows: [{v: 1}])",
    );
    assert_eq!(cron["cron"], "* * * * * *");
    let cron_id = cron["id"].as_str().unwrap().to_owned();
    let r = wait_runs(&s, &cron_id, 10, |r| with_status(r, "success").len() >= 2);
    assert!(with_status(&r, "success").len() >= 2, "{r:?}");

    // A failing script: failed runs, the error in the logs and on the task.
    let bad = create(&s, "option task = {name: \"bad\", every: 1s}\nfrom(bucket: \"nope\") |> range(start: -1h)");
    let bad_id = bad["id"].as_str().unwrap().to_owned();
    let r = wait_runs(&s, &bad_id, 10, |r| !with_status(r, "failed").is_empty());
    assert!(!with_status(&r, "failed").is_empty(), "{r:?}");
    let (_, t) = s.get(&format!("/api/v2/tasks/{bad_id}"), TOKEN);
    assert_eq!(t["lastRunStatus"], "failed");
    assert!(t["lastRunError"].as_str().unwrap().contains("could not find bucket \"nope\""), "{t}");
    let (_, logs) = s.get(&format!("/api/v2/tasks/{bad_id}/logs"), TOKEN);
    assert!(
        logs["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("could not find bucket")),
        "{logs}"
    );

    // Inactive: no more runs.
    let (status, body) = s.patch(&format!("/api/v2/tasks/{cron_id}"), TOKEN, json!({"status": "inactive"}));
    assert_eq!((status, body["status"].as_str()), (200, Some("inactive")), "{body}");
    std::thread::sleep(Duration::from_millis(1200));
    let before = runs(&s, &cron_id).len();
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(runs(&s, &cron_id).len(), before, "an inactive task ran");

    // Options rewritten by an update, as InfluxDB rewrites them.
    let (status, body) = s.patch(
        &format!("/api/v2/tasks/{bad_id}"),
        TOKEN,
        json!({"every": "1h", "offset": "10m", "name": "renamed", "description": "d"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["name"].as_str(), body["every"].as_str(), body["offset"].as_str()),
        (Some("renamed"), Some("1h"), Some("10m"))
    );
    assert!(
        body["flux"].as_str().unwrap().starts_with("option task = {name: \"renamed\", every: 1h, offset: 10m}"),
        "{body}"
    );
    assert_eq!(body["description"], "d");
    let (_, body) = s.patch(&format!("/api/v2/tasks/{bad_id}"), TOKEN, json!({"cron": "0 * * * *"}));
    assert_eq!((body["cron"].as_str(), body.get("every")), (Some("0 * * * *"), None), "{body}");

    // Bad input is refused in InfluxDB's words.
    let (status, body) = s.post("/api/v2/tasks", TOKEN, json!({"org": "acme", "flux": "option task = {every: 1h}\n1"}));
    assert_eq!((status, body["message"].as_str()), (400, Some("invalid options: missing required option: name")));
    let (status, body) =
        s.post("/api/v2/tasks", TOKEN, json!({"org": "acme", "flux": "option task = {name: \"x\", every: 10ms}"}));
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("invalid options: invalid options: every option must be at least 1 second"))
    );
    let (status, _) = s.post("/api/v2/tasks", TOKEN, json!({"org": "acme"}));
    assert_eq!(status, 400);
    let (status, _) = s.post("/api/v2/tasks", TOKEN, json!({"flux": "option task = {name: \"x\", every: 1h}"}));
    assert_eq!(status, 400);
    assert_eq!(s.get("/api/v2/tasks/0000000000000001", TOKEN).0, 404);

    // Lists and their filters.
    let (_, all) = s.get("/api/v2/tasks?limit=500", TOKEN);
    assert_eq!(all["tasks"].as_array().unwrap().len(), 2);
    let (_, named) = s.get("/api/v2/tasks?name=renamed", TOKEN);
    assert_eq!(named["tasks"].as_array().unwrap().len(), 1);
    let (_, inactive) = s.get(&format!("/api/v2/tasks?orgID={org}&status=inactive"), TOKEN);
    assert_eq!(inactive["tasks"][0]["id"], cron_id.as_str());
    let (_, page) = s.get("/api/v2/tasks?limit=1", TOKEN);
    let next = page["links"]["next"].as_str().unwrap().to_owned();
    let (_, second) = s.get(&next, TOKEN);
    assert_eq!(second["tasks"].as_array().unwrap().len(), 1);
    assert_ne!(second["tasks"][0]["id"], page["tasks"][0]["id"]);
    assert_eq!(s.get("/api/v2/tasks?limit=501", TOKEN).0, 422);
    assert_eq!(s.get("/api/v2/tasks?type=other", TOKEN).0, 400);

    // Owners, members and labels.
    let (_, owners) = s.get(&format!("/api/v2/tasks/{cron_id}/owners"), TOKEN);
    assert_eq!(owners["users"][0]["name"], "admin", "{owners}");
    let (status, label) = s.post("/api/v2/labels", TOKEN, json!({"orgID": org, "name": "nightly"}));
    assert_eq!(status, 201, "{label}");
    let label_id = label["label"]["id"].as_str().unwrap();
    assert_eq!(s.post(&format!("/api/v2/tasks/{cron_id}/labels"), TOKEN, json!({"labelID": label_id})).0, 201);
    let (_, t) = s.get(&format!("/api/v2/tasks/{cron_id}"), TOKEN);
    assert_eq!(t["labels"][0]["name"], "nightly");

    // A token that may only read tasks cannot change them.
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "tasks", "orgID": org}}]));
    assert_eq!(s.get(&format!("/api/v2/tasks/{cron_id}"), &reader).0, 200);
    assert_eq!(s.patch(&format!("/api/v2/tasks/{cron_id}"), &reader, json!({"status": "active"})).0, 401);

    // Deleted with its runs.
    assert_eq!(s.delete(&format!("/api/v2/tasks/{cron_id}"), TOKEN).0, 204);
    assert_eq!(s.get(&format!("/api/v2/tasks/{cron_id}/runs"), TOKEN).0, 404);
}

#[test]
fn manual_runs_retry_and_cancel() {
    let (s, setup) = TestServer::onboarded();
    make_bucket(&s, &setup, "stamps");
    // Runs only when asked: every hour. It writes its own now().
    let task = create(
        &s,
        "import \"array\"\noption task = {name: \"stamp\", every: 1h}\n\
         array.from(rows: [{_measurement: \"stamp\", _field: \"v\", _value: 1, _time: now()}]) |> to(bucket: \"stamps\")",
    );
    let id = task["id"].as_str().unwrap().to_owned();
    let (status, run) =
        s.post(&format!("/api/v2/tasks/{id}/runs"), TOKEN, json!({"scheduledFor": "2020-01-01T00:00:00Z"}));
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["scheduledFor"], "2020-01-01T00:00:00Z");
    assert!(run["requestedAt"].is_string(), "{run}");
    let run_id = run["id"].as_str().unwrap().to_owned();
    let done = wait_runs(&s, &id, 10, |r| r.iter().any(|r| r["id"] == run_id.as_str() && r["status"] == "success"));
    assert!(done.iter().any(|r| r["id"] == run_id.as_str() && r["status"] == "success"), "{done:?}");
    // The run's now() was its scheduled time.
    let csv = s.flux_csv("from(bucket: \"stamps\") |> range(start: 2019-12-31T00:00:00Z, stop: 2020-01-02T00:00:00Z)");
    assert!(csv.contains(",2020-01-01T00:00:00Z,1,v,stamp"), "{csv}");

    // Retry: another run for the same time.
    let (status, retried) = s.post(&format!("/api/v2/tasks/{id}/runs/{run_id}/retry"), TOKEN, json!({}));
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["scheduledFor"], "2020-01-01T00:00:00Z");
    assert_ne!(retried["id"], run_id.as_str());
    let (_, one) = s.get(&format!("/api/v2/tasks/{id}/runs/{run_id}"), TOKEN);
    assert_eq!(one["status"], "success");
    assert!(one["log"].as_array().unwrap().len() >= 2, "{one}");

    // Cancel: a slow run in flight (it waits on a slow loopback server), and
    // one waiting behind it (concurrency 1).
    let peer = crate::calls_out::Peer::start();
    let slow = create(
        &s,
        &format!(
            "import \"http/requests\"\noption task = {{name: \"slow\", every: 1h}}\n\
             requests.peek(response: requests.get(url: \"{}/slow\", config: {{timeout: 20s, insecureSkipVerify: false}}))",
            peer.url
        ),
    );
    let slow_id = slow["id"].as_str().unwrap().to_owned();
    let (_, first) =
        s.post(&format!("/api/v2/tasks/{slow_id}/runs"), TOKEN, json!({"scheduledFor": "2021-01-01T00:00:00Z"}));
    let first_id = first["id"].as_str().unwrap().to_owned();
    wait_runs(&s, &slow_id, 10, |r| r.iter().any(|r| r["id"] == first_id.as_str() && r["status"] == "started"));
    let (_, second) =
        s.post(&format!("/api/v2/tasks/{slow_id}/runs"), TOKEN, json!({"scheduledFor": "2021-01-01T01:00:00Z"}));
    let second_id = second["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));
    let (_, waiting) = s.get(&format!("/api/v2/tasks/{slow_id}/runs/{second_id}"), TOKEN);
    assert_eq!(waiting["status"], "scheduled", "concurrency 1: it waits: {waiting}");
    assert_eq!(s.delete(&format!("/api/v2/tasks/{slow_id}/runs/{second_id}"), TOKEN).0, 204);
    let (_, canceled) = s.get(&format!("/api/v2/tasks/{slow_id}/runs/{second_id}"), TOKEN);
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(s.delete(&format!("/api/v2/tasks/{slow_id}/runs/{first_id}"), TOKEN).0, 204);
    let stopped =
        wait_runs(&s, &slow_id, 15, |r| r.iter().any(|r| r["id"] == first_id.as_str() && r["status"] == "canceled"));
    assert!(stopped.iter().any(|r| r["id"] == first_id.as_str() && r["status"] == "canceled"), "{stopped:?}");
    // A finished run is not among those that can be canceled, nor is an unknown one.
    assert_eq!(s.delete(&format!("/api/v2/tasks/{id}/runs/{run_id}"), TOKEN).0, 404);
    assert_eq!(s.delete(&format!("/api/v2/tasks/{id}/runs/0000000000000001"), TOKEN).0, 404);
    // Inactive tasks take no manual runs.
    s.patch(&format!("/api/v2/tasks/{id}"), TOKEN, json!({"status": "inactive"}));
    assert_eq!(s.post(&format!("/api/v2/tasks/{id}/runs"), TOKEN, json!({})).0, 400);
}

#[test]
fn restart_and_kill_resume_the_schedule_and_catch_up() {
    let (s, _) = TestServer::onboarded();
    let task = create(&s, "import \"array\"\noption task = {name: \"tick\", every: 1s}\narray.from(rows: [{v: 1}])");
    let id = task["id"].as_str().unwrap().to_owned();
    wait_runs(&s, &id, 10, |r| !with_status(r, "success").is_empty());

    // A run in flight when the server is killed: a slow one.
    let peer = crate::calls_out::Peer::start();
    let slow = create(
        &s,
        &format!(
            "import \"http/requests\"\noption task = {{name: \"slow\", every: 1h}}\n\
             requests.peek(response: requests.get(url: \"{}/slow\", config: {{timeout: 20s, insecureSkipVerify: false}}))",
            peer.url
        ),
    );
    let slow_id = slow["id"].as_str().unwrap().to_owned();
    let (_, inflight) = s.post(&format!("/api/v2/tasks/{slow_id}/runs"), TOKEN, json!({}));
    let inflight_id = inflight["id"].as_str().unwrap().to_owned();
    wait_runs(&s, &slow_id, 10, |r| r.iter().any(|r| r["status"] == "started"));

    // Down for about three seconds: the missed runs run after the restart, in order.
    let mut s = s;
    s.kill9();
    std::thread::sleep(Duration::from_secs(3));
    let s = s.restart();
    let after = wait_runs(&s, &id, 15, |r| {
        let ok = with_status(r, "success");
        ok.len() >= 6 && r.iter().all(|r| r["status"] != "scheduled" && r["status"] != "started")
    });
    let mut times: Vec<i64> = after
        .iter()
        .filter(|r| r["status"] != "failed")
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["scheduledFor"].as_str().unwrap()).unwrap().timestamp())
        .collect();
    times.sort();
    times.dedup();
    assert!(times.len() >= 6, "{after:?}");
    assert!(times.windows(2).all(|w| w[1] - w[0] == 1), "a second was skipped: {times:?}");
    let (_, lost) = s.get(&format!("/api/v2/tasks/{slow_id}/runs/{inflight_id}"), TOKEN);
    assert_eq!(lost["status"], "failed", "{lost}");
    assert!(
        lost["log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["message"].as_str().unwrap().contains("the server stopped while it was running")),
        "{lost}"
    );

    // A clean stop and start keep the task and its history too.
    let mut s = s;
    let (ok, _) = s.terminate();
    assert!(ok);
    let s = s.restart();
    let (_, t) = s.get(&format!("/api/v2/tasks/{id}"), TOKEN);
    assert_eq!(t["status"], "active");
    assert!(runs(&s, &id).len() >= 6);
}

#[test]
fn the_python_client_manages_tasks_runs_and_logs() {
    let (s, _) = TestServer::onboarded();
    crate::python_client::run_client_script(
        &s,
        "tasks_client.py",
        &["create ok", "find ok", "runs ok", "logs ok", "update ok", "delete ok"],
    );
}

#[test]
fn offsets_last_success_experimental_to_and_the_owners_permissions() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    make_bucket(&s, &setup, "out");

    // every 2s with a 1s offset: scheduled on even seconds, started a second later.
    // Each run writes, with experimental.to, the time of the task's last success.
    let task = create(
        &s,
        "import \"array\"\nimport \"experimental\"\nimport \"influxdata/influxdb/tasks\"\n\
         option task = {name: \"offset\", every: 2s, offset: 1s}\n\
         array.from(rows: [{_measurement: \"seen\", _time: now(), last: int(v: tasks.lastSuccess(orTime: 2000-01-01T00:00:00Z))}])\n\
         |> experimental.to(bucket: \"out\")",
    );
    assert_eq!(task["offset"], "1s");
    let id = task["id"].as_str().unwrap().to_owned();
    let done = wait_runs(&s, &id, 15, |r| with_status(r, "success").len() >= 2);
    let ok = with_status(&done, "success");
    assert!(ok.len() >= 2, "{done:?}");
    for r in &ok {
        let at = |k: &str| chrono::DateTime::parse_from_rfc3339(r[k].as_str().unwrap()).unwrap();
        assert_eq!(at("scheduledFor").timestamp() % 2, 0, "{r}");
        assert!(at("startedAt") - at("scheduledFor") >= chrono::Duration::seconds(1), "{r}");
    }
    // The first run saw no success yet; the next saw the one before it.
    let csv = s.flux_csv("from(bucket: \"out\") |> range(start: -1h) |> filter(fn: (r) => r._field == \"last\")");
    let values: Vec<(i64, i64)> = csv
        .lines()
        .filter(|l| l.starts_with(",_result"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_end().split(',').collect();
            let time = chrono::DateTime::parse_from_rfc3339(cells[5]).unwrap().timestamp_nanos_opt().unwrap();
            (time, cells[6].parse().unwrap())
        })
        .collect();
    assert!(values.len() >= 2, "{csv}");
    assert_eq!(values[0].1, 946_684_800_000_000_000, "{csv}");
    assert_eq!(values[1].1, values[0].0, "{csv}");

    // A task runs with its owner's permissions: once bob's token is gone, bob
    // (a plain member of the org, who may only read) cannot write with to().
    let (status, bob) = s.post("/api/v2/users", TOKEN, json!({"name": "bob"}));
    assert_eq!(status, 201, "{bob}");
    let bob_id = bob["id"].as_str().unwrap().to_owned();
    assert_eq!(s.post(&format!("/api/v2/orgs/{org}/members"), TOKEN, json!({"id": bob_id})).0, 201);
    let (status, auth) = s.post(
        "/api/v2/authorizations",
        TOKEN,
        json!({"orgID": org, "userID": bob_id, "permissions": [
            {"action": "write", "resource": {"type": "tasks", "orgID": org}},
            {"action": "read", "resource": {"type": "tasks", "orgID": org}}]}),
    );
    assert_eq!(status, 201, "{auth}");
    let bob_token = auth["token"].as_str().unwrap().to_owned();
    let (status, bobs) = s.post(
        "/api/v2/tasks",
        &bob_token,
        json!({"org": "acme", "flux": "import \"array\"\noption task = {name: \"bobs\", every: 1h}\narray.from(rows: [{_measurement: \"m\", _field: \"f\", _value: 1, _time: now()}]) |> to(bucket: \"out\")"}),
    );
    assert_eq!(status, 201, "{bobs}");
    assert_eq!(bobs["ownerID"], bob_id.as_str());
    let bobs_id = bobs["id"].as_str().unwrap().to_owned();
    assert_eq!(s.delete(&format!("/api/v2/authorizations/{}", auth["id"].as_str().unwrap()), TOKEN).0, 204);
    let (status, _) = s.post(&format!("/api/v2/tasks/{bobs_id}/runs"), TOKEN, json!({}));
    assert_eq!(status, 201);
    let r = wait_runs(&s, &bobs_id, 10, |r| !with_status(r, "failed").is_empty());
    assert!(!with_status(&r, "failed").is_empty(), "{r:?}");
    let (_, t) = s.get(&format!("/api/v2/tasks/{bobs_id}"), TOKEN);
    assert!(t["lastRunError"].as_str().unwrap().contains("user not authorized to write"), "{t}");

    // A script that does not compile fails its run with the checker's message.
    let broken = create(
        &s,
        "option task = {name: \"broken\", every: 1h}\nfrom(bucket: \"out\") |> range(start: -1h) |> nosuch()",
    );
    let broken_id = broken["id"].as_str().unwrap().to_owned();
    s.post(&format!("/api/v2/tasks/{broken_id}/runs"), TOKEN, json!({}));
    let r = wait_runs(&s, &broken_id, 10, |r| !with_status(r, "failed").is_empty());
    let run_id = with_status(&r, "failed")[0]["id"].as_str().unwrap().to_owned();
    let (_, logs) = s.get(&format!("/api/v2/tasks/{broken_id}/runs/{run_id}/logs"), TOKEN);
    assert!(
        logs["events"].as_array().unwrap().iter().any(|e| e["message"].as_str().unwrap().contains("nosuch")),
        "{logs}"
    );
}
