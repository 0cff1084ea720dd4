//! Alerting over HTTP: checks that really run — a threshold check moving
//! through ok, warn and crit as written values cross its thresholds, a
//! deadman check firing when a series goes silent — with their statuses read
//! back from `_monitoring`, their tasks following them, and 2.7's refusals.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

fn write_now(s: &TestServer, line: &str) {
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics&precision=ns", Some(TOKEN))
        .body(line.to_owned())
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// The rows of a single-table CSV answer, each as (column, value) pairs.
fn rows(csv: &str) -> Vec<Vec<(String, String)>> {
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
fn statuses(s: &TestServer, check_id: &str) -> Vec<Vec<(String, String)>> {
    rows(&s.flux_csv(&format!(
        "from(bucket: \"_monitoring\") |> range(start: -1h) \
         |> filter(fn: (r) => r._measurement == \"statuses\" and r._check_id == \"{check_id}\" and r._field == \"_message\") \
         |> group() |> sort(columns: [\"_time\"])"
    )))
}

fn column(row: &[(String, String)], name: &str) -> String {
    row.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// Writes `line` (its value stamped now) until the check records `level`.
fn drive_to(s: &TestServer, check_id: &str, value: f64, level: &str) -> Vec<Vec<(String, String)>> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        write_now(s, &format!("cpu,host=a usage={value} {now}"));
        let rows = statuses(s, check_id);
        if rows.last().is_some_and(|r| column(r, "_level") == level) {
            return rows;
        }
        assert!(Instant::now() < until, "no {level} status for {value} after 30 s: {rows:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn threshold_check(org: &str, name: &str) -> Value {
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

#[test]
fn a_threshold_check_moves_through_ok_warn_and_crit_as_values_cross_its_thresholds() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, check) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, "cpu high"));
    assert_eq!(status, 201, "{check}");
    let id = check["id"].as_str().unwrap().to_owned();
    assert_eq!(check["status"], "active");
    assert_eq!(check["type"], "threshold");
    assert_eq!(check["links"]["query"], format!("/api/v2/checks/{id}/query"));
    let task_id = check["taskID"].as_str().unwrap().to_owned();

    // The check's Flux is its task's, generated as 2.7 generates it.
    let (status, q) = s.get(&format!("/api/v2/checks/{id}/query"), TOKEN);
    assert_eq!(status, 200, "{q}");
    let flux = q["flux"].as_str().unwrap();
    assert!(flux.contains("        |> range(start: -1s)\n"), "{flux}");
    assert!(flux.contains("aggregateWindow(every: 1s, fn: last, createEmpty: false)"), "{flux}");
    assert!(flux.contains("warn = (r) => r[\"usage\"] < 90.0 and r[\"usage\"] > 50.0\n"), "{flux}");
    let (status, task) = s.get(&format!("/api/v2/tasks/{task_id}"), TOKEN);
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["flux"].as_str().unwrap(), flux);

    drive_to(&s, &id, 10.0, "ok");
    drive_to(&s, &id, 70.0, "warn");
    let rows = drive_to(&s, &id, 95.0, "crit");
    let last = rows.last().unwrap();
    assert_eq!(column(last, "_value"), "usage is 95");
    assert_eq!(column(last, "_check_name"), "cpu high");
    assert_eq!(column(last, "_source_measurement"), "cpu");
    assert_eq!(column(last, "_type"), "threshold");
    assert_eq!(column(last, "team"), "ops");
    let stamps = s.flux_csv(&format!(
        "from(bucket: \"_monitoring\") |> range(start: -1h) \
             |> filter(fn: (r) => r._check_id == \"{id}\" and r._field == \"_source_timestamp\") |> count()"
    ));
    assert!(stamps.contains(",_source_timestamp,"), "{stamps}");
    let levels: Vec<String> = rows.iter().map(|r| column(r, "_level")).collect();
    let first = |l: &str| levels.iter().position(|x| x == l).unwrap();
    assert!(first("ok") < first("warn") && first("warn") < first("crit"), "{levels:?}");

    // The answer carries the task's runs.
    let (_, got) = s.get(&format!("/api/v2/checks/{id}"), TOKEN);
    assert!(got["latestCompleted"].is_string(), "{got}");
    assert_eq!(got["lastRunStatus"], "success", "{got}");

    // Pausing and renaming reach the task.
    let (status, paused) =
        s.patch(&format!("/api/v2/checks/{id}"), TOKEN, json!({"status": "inactive", "name": "cpu very high"}));
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["status"], "inactive");
    let (_, task) = s.get(&format!("/api/v2/tasks/{task_id}"), TOKEN);
    assert_eq!(task["status"], "inactive");
    assert!(task["flux"].as_str().unwrap().contains("_check_name: \"cpu very high\""), "{task}");

    // Deleting the check deletes its task.
    let (status, _) = s.delete(&format!("/api/v2/checks/{id}"), TOKEN);
    assert_eq!(status, 204);
    assert_eq!(s.get(&format!("/api/v2/tasks/{task_id}"), TOKEN).0, 404);
    assert_eq!(s.get(&format!("/api/v2/checks/{id}"), TOKEN).0, 404);
}

#[test]
fn a_deadman_check_fires_when_a_series_goes_silent() {
    let (s, setup) = TestServer::onboarded();
    let body = json!({
        "type": "deadman",
        "name": "host gone",
        "orgID": org_id(&setup),
        "status": "active",
        "every": "1s",
        "timeSince": "2s",
        "staleTime": "1m",
        "level": "CRIT",
        "statusMessageTemplate": "${r.host} is dead: ${string(v: r.dead)}",
        "query": {"text": "from(bucket: \"metrics\") |> range(start: -1m) |> filter(fn: (r) => r._measurement == \"cpu\") |> filter(fn: (r) => r._field == \"usage\")"},
    });
    let (status, check) = s.post("/api/v2/checks", TOKEN, body);
    assert_eq!(status, 201, "{check}");
    let id = check["id"].as_str().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    write_now(&s, &format!("cpu,host=a usage=1 {now}"));
    // While the point is fresh the host is not dead (level ok, monitor.check's
    // default); once it is older than timeSince, the check says crit.
    let until = Instant::now() + Duration::from_secs(30);
    let rows = loop {
        let rows = statuses(&s, id);
        if rows.iter().any(|r| column(r, "_level") == "crit") {
            break rows;
        }
        assert!(Instant::now() < until, "no crit status: {rows:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    let crit = rows.iter().find(|r| column(r, "_level") == "crit").unwrap();
    assert_eq!(column(crit, "_value"), "a is dead: true");
    assert_eq!(column(crit, "_type"), "deadman");
    assert!(rows.iter().take_while(|r| column(r, "_level") != "crit").all(|r| column(r, "_level") == "ok"));
}

#[test]
fn checks_are_listed_by_org_paged_and_refused_as_2_7_refuses_them() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    for name in ["a", "b", "c"] {
        let (status, body) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, name));
        assert_eq!(status, 201, "{body}");
    }
    let (status, page) = s.get(&format!("/api/v2/checks?orgID={org}&limit=2"), TOKEN);
    assert_eq!(status, 200, "{page}");
    let names: Vec<&str> = page["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(page["links"]["next"].as_str().unwrap().contains("offset=2"), "{page}");
    let (_, rest) = s.get(&format!("/api/v2/checks?orgID={org}&limit=2&offset=2"), TOKEN);
    assert_eq!(rest["checks"].as_array().unwrap().len(), 1);

    let refused = |body: Value| {
        let (status, answer) = s.post("/api/v2/checks", TOKEN, body);
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["code"], "invalid");
        answer["message"].as_str().unwrap().to_owned()
    };
    let with = |k: &str, v: Value| {
        let mut b = threshold_check(&org, "x");
        b[k] = v;
        b
    };
    assert_eq!(refused(with("type", json!("weird"))), "invalid check type weird");
    assert_eq!(refused(with("name", json!(""))), "Check Name can't be empty");
    assert_eq!(refused(with("offset", json!("5s"))), "Offset should not be equal or greater than the interval");
    assert_eq!(refused(with("status", json!("paused"))), "invalid status: must be active or inactive");
    let no_level = json!([{"type": "greater", "value": 1}]);
    assert!(refused(with("thresholds", no_level)).contains("level is required"));
    // A second check of the same name in the org is a conflict.
    let (status, dup) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, "a"));
    assert_eq!((status, dup["message"].as_str()), (422, Some("check name is not unique")), "{dup}");
    // Nothing of a refused check is left behind: no task, no check.
    let (_, all) = s.get(&format!("/api/v2/checks?orgID={org}"), TOKEN);
    assert_eq!(all["checks"].as_array().unwrap().len(), 3);

    // Another org's token sees none of them.
    let (status, other) = s.post("/api/v2/orgs", TOKEN, json!({"name": "other"}));
    assert_eq!(status, 201, "{other}");
    let other_id = other["id"].as_str().unwrap();
    let (token, _) =
        s.make_token(other_id, json!([{"action": "read", "resource": {"type": "checks", "orgID": other_id}}]));
    let (status, seen) = s.get("/api/v2/checks", &token);
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["checks"].as_array().unwrap().len(), 0);
    let first = page["checks"][0]["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/api/v2/checks/{first}"), &token).0, 401);
}

#[test]
fn endpoint_secrets_go_to_the_orgs_store_and_are_never_answered_in_clear() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let body = json!({
        "type": "http", "name": "hook", "orgID": org, "status": "active",
        "url": "http://127.0.0.1:9/hook", "method": "POST", "authMethod": "basic",
        "username": "alice", "password": "s3cret-pass", "headers": {"X-Team": "ops"},
    });
    let (status, e) = s.post("/api/v2/notificationEndpoints", TOKEN, body);
    assert_eq!(status, 201, "{e}");
    let id = e["id"].as_str().unwrap().to_owned();
    assert_eq!(e["username"], format!("secret: {id}-username"));
    assert_eq!(e["password"], format!("secret: {id}-password"));
    assert!(!e.to_string().contains("s3cret-pass"), "{e}");
    let (_, keys) = s.get(&format!("/api/v2/orgs/{org}/secrets"), TOKEN);
    let keys: Vec<&str> = keys["secrets"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert!(keys.contains(&format!("{id}-password").as_str()), "{keys:?}");

    let (status, got) = s.get(&format!("/api/v2/notificationEndpoints/{id}"), TOKEN);
    assert_eq!(status, 200, "{got}");
    assert!(!got.to_string().contains("s3cret-pass"));
    let (_, list) = s.get(&format!("/api/v2/notificationEndpoints?orgID={org}"), TOKEN);
    assert_eq!(list["notificationEndpoints"].as_array().unwrap().len(), 1);

    let (status, patched) =
        s.patch(&format!("/api/v2/notificationEndpoints/{id}"), TOKEN, json!({"status": "inactive"}));
    assert_eq!((status, patched["status"].as_str()), (200, Some("inactive")), "{patched}");

    let (status, bad) = s.post(
        "/api/v2/notificationEndpoints",
        TOKEN,
        json!({"type": "http", "name": "h2", "orgID": org, "status": "active", "url": "http://x", "method": "POST", "authMethod": "magic"}),
    );
    assert_eq!((status, bad["message"].as_str()), (400, Some("invalid http auth method")), "{bad}");
    let (status, bad) = s.post(
        "/api/v2/notificationEndpoints",
        TOKEN,
        json!({"type": "slack", "name": "s", "orgID": org, "status": "active"}),
    );
    assert_eq!((status, bad["message"].as_str()), (400, Some("slack endpoint URL must be provided")), "{bad}");

    let (status, _) = s.delete(&format!("/api/v2/notificationEndpoints/{id}"), TOKEN);
    assert_eq!(status, 204);
    let (_, keys) = s.get(&format!("/api/v2/orgs/{org}/secrets"), TOKEN);
    assert!(!keys.to_string().contains(&id), "{keys}");
    assert_eq!(s.get(&format!("/api/v2/notificationEndpoints/{id}"), TOKEN).0, 404);
}

/// Waits (up to 30 s) for `done` to hold of what the peer received.
fn wait_received(
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

#[test]
fn an_http_rule_posts_crit_statuses_to_its_endpoint_with_basic_auth() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let peer = crate::calls_out::Peer::start();
    let (status, endpoint) = s.post(
        "/api/v2/notificationEndpoints",
        TOKEN,
        json!({"type": "http", "name": "hook", "orgID": org, "status": "active", "url": format!("{}/hook", peer.url),
            "method": "POST", "authMethod": "basic", "username": "alice", "password": "pw"}),
    );
    assert_eq!(status, 201, "{endpoint}");
    let endpoint_id = endpoint["id"].as_str().unwrap();
    let (status, check) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, "cpu high"));
    assert_eq!(status, 201, "{check}");
    let rule = |name: &str, team: &str| {
        json!({"type": "http", "name": name, "orgID": org, "status": "active", "every": "1s",
            "endpointID": endpoint_id, "statusRules": [{"currentLevel": "CRIT"}],
            "tagRules": [{"key": "team", "value": team, "operator": "equal"}]})
    };
    let (status, ops) = s.post("/api/v2/notificationRules", TOKEN, rule("to ops", "ops"));
    assert_eq!(status, 201, "{ops}");
    // A rule whose tag rule no status meets sends nothing.
    let (status, dev) = s.post("/api/v2/notificationRules", TOKEN, rule("to dev", "dev"));
    assert_eq!(status, 201, "{dev}");
    let rule_id = ops["id"].as_str().unwrap().to_owned();
    assert_eq!(ops["status"], "active");
    let (status, q) = s.get(&format!("/api/v2/notificationRules/{rule_id}/query"), TOKEN);
    assert_eq!(status, 200, "{q}");
    assert!(
        q["flux"].as_str().unwrap().contains("monitor[\"from\"](start: -2s, fn: (r) => r[\"team\"] == \"ops\")"),
        "{q}"
    );

    let got = wait_received(
        &peer,
        || {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            write_now(&s, &format!("cpu,host=a usage=95 {now}"));
        },
        |got| got.iter().any(|r| r.target == "/hook"),
    );
    let sent = got.iter().find(|r| r.target == "/hook").unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.header("Content-Type"), Some("application/json"));
    assert_eq!(sent.header("Authorization"), Some("Basic YWxpY2U6cHc="));
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["_level"], "crit", "{body}");
    assert_eq!(body["_check_name"], "cpu high");
    assert_eq!(body["_notification_rule_name"], "to ops");
    assert_eq!(body["_notification_endpoint_name"], "hook");
    assert_eq!(body["_version"], 1);
    assert_eq!(body["_message"], "usage is 95");
    assert_eq!(body["team"], "ops");
    assert!(got.iter().all(|r| !r.body.contains("to dev")), "{got:?}");

    // The notification is recorded in _monitoring, as sent.
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let recorded = rows(&s.flux_csv(&format!(
            "from(bucket: \"_monitoring\") |> range(start: -1h) \
             |> filter(fn: (r) => r._measurement == \"notifications\" and r._notification_rule_id == \"{rule_id}\" and r._field == \"_message\") \
             |> group()"
        )));
        if let Some(row) = recorded.first() {
            assert_eq!(column(row, "_sent"), "true", "{recorded:?}");
            assert_eq!(column(row, "_check_name"), "cpu high", "{recorded:?}");
            break;
        }
        assert!(Instant::now() < until, "no notification recorded");
        std::thread::sleep(Duration::from_millis(250));
    }

    // The endpoint a rule sends to is kept; the rule's deletion takes its task.
    let (status, refused) = s.delete(&format!("/api/v2/notificationEndpoints/{endpoint_id}"), TOKEN);
    assert_eq!(status, 422, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("to ops"), "{refused}");
    let task_id = ops["taskID"].as_str().unwrap();
    for r in [&ops, &dev] {
        assert_eq!(s.delete(&format!("/api/v2/notificationRules/{}", r["id"].as_str().unwrap()), TOKEN).0, 204);
    }
    assert_eq!(s.get(&format!("/api/v2/tasks/{task_id}"), TOKEN).0, 404);
    assert_eq!(s.delete(&format!("/api/v2/notificationEndpoints/{endpoint_id}"), TOKEN).0, 204);
}

#[test]
fn rules_are_refused_as_2_7_refuses_them() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, slack) = s.post(
        "/api/v2/notificationEndpoints",
        TOKEN,
        json!({"type": "slack", "name": "s", "orgID": org, "status": "active", "url": "http://127.0.0.1:9/s"}),
    );
    let slack_id = slack["id"].as_str().unwrap();
    let refused = |body: Value| {
        let (status, answer) = s.post("/api/v2/notificationRules", TOKEN, body);
        assert_eq!(status, 400, "{answer}");
        answer["message"].as_str().unwrap().to_owned()
    };
    let base = json!({"type": "http", "name": "r", "orgID": org, "status": "active", "every": "1m",
        "endpointID": slack_id, "statusRules": [{"currentLevel": "CRIT"}]});
    assert_eq!(refused(base.clone()), "endpoint provided is a slack, not an HTTP endpoint");
    let mut smtp = base.clone();
    smtp["type"] = json!("smtp");
    assert_eq!(refused(smtp), "invalid notification type smtp");
    let mut no_template = base.clone();
    no_template["type"] = json!("slack");
    assert_eq!(refused(no_template), "slack msg template is empty");
    // Nothing of a refused rule is left behind.
    let (_, all) = s.get(&format!("/api/v2/notificationRules?orgID={org}"), TOKEN);
    assert_eq!(all["notificationRules"].as_array().unwrap().len(), 0, "{all}");
}

#[test]
fn an_endpoint_that_fails_is_recorded_as_not_sent_and_one_that_is_down_fails_the_run_alone() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let peer = crate::calls_out::Peer::start();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let endpoint = |name: &str, url: String| {
        let (status, e) = s.post(
            "/api/v2/notificationEndpoints",
            TOKEN,
            json!({"type": "http", "name": name, "orgID": org, "status": "active", "url": url, "method": "POST", "authMethod": "none"}),
        );
        assert_eq!(status, 201, "{e}");
        e["id"].as_str().unwrap().to_owned()
    };
    let failing = endpoint("answers 503", format!("{}/status/503", peer.url));
    let down = endpoint("down", format!("http://{closed}/hook"));
    let healthy = endpoint("healthy", format!("{}/ok", peer.url));
    let (status, check) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, "cpu high"));
    assert_eq!(status, 201, "{check}");
    let rule = |name: &str, endpoint: &str| {
        let (status, r) = s.post(
            "/api/v2/notificationRules",
            TOKEN,
            json!({"type": "http", "name": name, "orgID": org, "status": "active", "every": "1s",
                "endpointID": endpoint, "statusRules": [{"currentLevel": "ANY"}]}),
        );
        assert_eq!(status, 201, "{r}");
        r
    };
    let to_failing = rule("to failing", &failing);
    let to_down = rule("to down", &down);
    rule("to healthy", &healthy);

    // The healthy endpoint is sent to whatever the others do.
    wait_received(
        &peer,
        || {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            write_now(&s, &format!("cpu,host=a usage=95 {now}"));
        },
        |got| got.iter().any(|r| r.target == "/ok") && got.iter().any(|r| r.target == "/status/503"),
    );

    // The 503 is recorded as a notification not sent.
    let failing_id = to_failing["id"].as_str().unwrap();
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let recorded = rows(&s.flux_csv(&format!(
            "from(bucket: \"_monitoring\") |> range(start: -1h) \
             |> filter(fn: (r) => r._measurement == \"notifications\" and r._notification_rule_id == \"{failing_id}\" and r._field == \"_message\") \
             |> group()"
        )));
        if let Some(row) = recorded.first() {
            assert_eq!(column(row, "_sent"), "false", "{recorded:?}");
            break;
        }
        assert!(Instant::now() < until, "no notification recorded for the failing endpoint");
        std::thread::sleep(Duration::from_millis(250));
    }

    // The endpoint that is down fails its rule's runs, with the error in the
    // run; the check's statuses are all there, and the next runs try again.
    let down_id = to_down["id"].as_str().unwrap();
    let until = Instant::now() + Duration::from_secs(15);
    let failed = loop {
        let (_, r) = s.get(&format!("/api/v2/notificationRules/{down_id}"), TOKEN);
        if r["lastRunStatus"] == "failed" {
            break r;
        }
        assert!(Instant::now() < until, "the rule's run did not fail: {r}");
        std::thread::sleep(Duration::from_millis(250));
    };
    let error = failed["lastRunError"].as_str().unwrap_or_default();
    assert!(error.contains(&closed.to_string()), "{failed}");
    let task = failed["taskID"].as_str().unwrap();
    let (_, runs) = s.get(&format!("/api/v2/tasks/{task}/runs"), TOKEN);
    let failures = runs["runs"].as_array().unwrap().iter().filter(|r| r["status"] == "failed").count();
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, runs) = s.get(&format!("/api/v2/tasks/{task}/runs"), TOKEN);
        if runs["runs"].as_array().unwrap().iter().filter(|r| r["status"] == "failed").count() > failures {
            break;
        }
        assert!(Instant::now() < until, "no run after the failed one");
        std::thread::sleep(Duration::from_millis(250));
    }
    let check_id = check["id"].as_str().unwrap();
    assert!(statuses(&s, check_id).iter().any(|r| column(r, "_level") == "crit"));
}

/// Runs `call` (a Flux expression sending one notification) in a query and
/// answers the one request the peer got for it, at `path`.
fn sent_by(
    s: &TestServer,
    peer: &crate::calls_out::Peer,
    imports: &str,
    call: &str,
    path: &str,
) -> crate::calls_out::Received {
    let csv = s.flux_csv(&format!("import \"array\"\n{imports}\narray.from(rows: [{{v: {call}}}])"));
    assert!(csv.contains(",200"), "{csv}");
    let got = peer.received();
    let found: Vec<_> = got.iter().filter(|r| r.target == path).collect();
    assert_eq!(found.len(), 1, "{path}: {got:?}");
    found[0].clone()
}

fn body_of(r: &crate::calls_out::Received) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

#[test]
fn notification_packages_send_what_fluxs_own_send() {
    let (s, _) = TestServer::onboarded();
    let peer = crate::calls_out::Peer::start();
    let url = &peer.url;

    let slack = sent_by(
        &s,
        &peer,
        "import \"slack\"",
        &format!(
            "slack.message(url: \"{url}/slack\", token: \"xoxb\", channel: \"#ops\", text: \"disk full\", color: \"warning\")"
        ),
        "/slack",
    );
    assert_eq!(slack.header("Authorization"), Some("Bearer xoxb"));
    assert_eq!(
        body_of(&slack),
        json!({"channel": "#ops", "attachments": [{"color": "warning", "text": "disk full", "mrkdwn_in": ["text"]}]})
    );
    let (status, bad) = s.call(
        Method::POST,
        "/api/v2/query?org=acme",
        Some(TOKEN),
        Some(json!({"query": format!("import \"slack\"\nimport \"array\"\narray.from(rows: [{{v: slack.message(url: \"{url}/x\", channel: \"c\", text: \"t\", color: \"pink\")}}])")})),
    );
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("could not parse color string"), "{bad}");

    let pd = sent_by(
        &s,
        &peer,
        "import \"pagerduty\"",
        &format!(
            "pagerduty.sendEvent(pagerdutyURL: \"{url}/pd\", routingKey: \"rk\", client: \"influxdata\", clientURL: \"http://c\", \
             dedupKey: \"dk\", class: \"cpu\", group: \"hosts\", severity: \"critical\", eventAction: \"trigger\", source: \"rule\", \
             summary: \"cpu high\", timestamp: \"2021-01-01T00:00:00Z\")"
        ),
        "/pd",
    );
    assert_eq!(pd.header("Accept"), Some("application/vnd.pagerduty+json;version=2"));
    assert_eq!(
        body_of(&pd),
        json!({"routing_key": "rk", "dedup_key": "dk", "event_action": "trigger", "client": "influxdata", "client_url": "http://c",
            "payload": {"summary": "cpu high", "timestamp": "2021-01-01T00:00:00Z", "source": "rule", "component": "",
                "severity": "critical", "group": "hosts", "class": "cpu"}})
    );

    let tg = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/telegram\"",
        &format!("telegram.message(url: \"{url}/tg/bot\", token: \"T0K\", channel: \"-100\", text: \"hi\")"),
        "/tg/botT0K/sendMessage",
    );
    assert_eq!(
        body_of(&tg),
        json!({"chat_id": "-100", "text": "hi", "parse_mode": "MarkdownV2", "disable_web_page_preview": false, "disable_notification": true})
    );

    let discord = sent_by(
        &s,
        &peer,
        &format!("import \"contrib/chobbs/discord\"\noption discord.discordURL = \"{url}/d/\""),
        "discord.send(webhookToken: \"tok\", webhookID: \"42\", username: \"influx\", content: \"down\")",
        "/d/42/tok",
    );
    assert_eq!(body_of(&discord), json!({"username": "influx", "content": "down", "avatar_url": ""}));

    let vo = sent_by(
        &s,
        &peer,
        "import \"contrib/bonitoo-io/victorops\"",
        &format!(
            "victorops.alert(url: \"{url}/vo\", messageType: \"CRITICAL\", entityID: \"e1\", timestamp: 2021-01-01T00:00:00Z)"
        ),
        "/vo",
    );
    assert_eq!(
        body_of(&vo),
        json!({"message_type": "CRITICAL", "entity_id": "e1", "entity_display_name": "", "state_message": "",
            "state_start_time": 1609459200, "monitoring_tool": "InfluxDB"})
    );

    let long = "x".repeat(80);
    let teams = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/teams\"",
        &format!("teams.message(url: \"{url}/teams\", title: \"CPU \\\"high\\\"\", text: \"{long}\")"),
        "/teams",
    );
    assert_eq!(
        body_of(&teams),
        json!({"@type": "MessageCard", "@context": "http://schema.org/extensions", "title": "CPU \"high\"", "text": long,
            "summary": format!("{}...", &long[..70])})
    );

    let pb = sent_by(
        &s,
        &peer,
        "import \"pushbullet\"",
        &format!("pushbullet.pushNote(url: \"{url}/pb\", token: \"pbt\", title: \"t\", text: \"x\")"),
        "/pb",
    );
    assert_eq!(pb.header("Access-Token"), Some("pbt"));
    assert_eq!(body_of(&pb), json!({"type": "note", "title": "t", "body": "x"}));

    let og = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/opsgenie\"",
        &format!(
            "opsgenie.sendAlert(url: \"{url}/og\", apiKey: \"k\", message: \"disk <full>\", priority: \"P1\", \
             responders: [\"user:ann@x.com\", \"team:ops\"], tags: [\"a\"], entity: \"db\")"
        ),
        "/og",
    );
    assert_eq!(og.header("Authorization"), Some("GenieKey k"));
    assert!(og.body.contains("\\u003cfull\\u003e"), "{}", og.body);
    assert_eq!(
        body_of(&og),
        json!({"message": "disk <full>", "alias": "disk <full>", "description": "", "priority": "P1", "entity": "db",
            "responders": [{"type": "user", "username": "ann@x.com"}, {"type": "team", "name": "ops"}],
            "visibleTo": [], "actions": [], "tags": ["a"], "details": {}})
    );

    let sensu = sent_by(
        &s,
        &peer,
        "import \"contrib/sranka/sensu\"",
        &format!(
            "sensu.event(url: \"{url}/sensu\", apiKey: \"k\", checkName: \"cpu check!\", text: \"high\", status: 2)"
        ),
        "/sensu/api/core/v2/namespaces/default/events",
    );
    assert_eq!(sensu.header("Authorization"), Some("Key k"));
    assert_eq!(
        body_of(&sensu),
        json!({"entity": {"entity_class": "proxy", "metadata": {"name": "influxdb"}},
            "check": {"output": "high", "state": "failing", "status": 2, "handlers": [], "interval": 60,
                "metadata": {"name": "cpu_check_"}}})
    );

    let sn = sent_by(
        &s,
        &peer,
        "import \"contrib/bonitoo-io/servicenow\"",
        &format!(
            "servicenow.event(url: \"{url}/sn\", username: \"u\", password: \"p\", node: \"h1\", description: \"d\", \
             severity: \"major\", additionalInfo: {{a: 1}})"
        ),
        "/sn",
    );
    assert_eq!(sn.header("Authorization"), Some("Basic dTpw"));
    assert_eq!(
        body_of(&sn),
        json!({"records": [{"source": "Flux", "node": "h1", "type": "", "resource": "", "metric_name": "", "message_key": "",
            "description": "d", "severity": "2", "additional_info": "{\"a\":1}"}]})
    );

    let bp = sent_by(
        &s,
        &peer,
        "import \"contrib/rhajek/bigpanda\"",
        &format!(
            "bigpanda.sendAlert(url: \"{url}/bp\", token: \"t\", appKey: \"ak\", status: bigpanda.statusFromLevel(level: \"crit\"), \
             rec: {{host: \"h1\", check: \"cpu\"}})"
        ),
        "/bp",
    );
    assert_eq!(bp.header("Authorization"), Some("Bearer t"));
    assert_eq!(body_of(&bp), json!({"host": "h1", "check": "cpu", "app_key": "ak", "status": "critical"}));

    let zenoss = sent_by(
        &s,
        &peer,
        "import \"contrib/bonitoo-io/zenoss\"",
        &format!(
            "zenoss.event(url: \"{url}/zen\", apiKey: \"zk\", summary: \"s\", device: \"h1\", severity: \"Critical\")"
        ),
        "/zen",
    );
    assert_eq!(zenoss.header("z-api-key"), Some("zk"));
    assert_eq!(
        body_of(&zenoss),
        json!({"action": "EventsRouter", "method": "add_event", "type": "rpc", "tid": 1,
            "data": [{"summary": "s", "device": "h1", "component": "", "severity": "Critical", "evclass": "",
                "evclasskey": "", "collector": "", "message": ""}]})
    );
}

#[test]
fn a_slack_rule_posts_to_a_webhook_and_pagerdutys_endpoint_sends_one_incident_a_series() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let peer = crate::calls_out::Peer::start();
    let (status, endpoint) = s.post(
        "/api/v2/notificationEndpoints",
        TOKEN,
        json!({"type": "slack", "name": "webhook", "orgID": org, "status": "active", "url": format!("{}/slack", peer.url)}),
    );
    assert_eq!(status, 201, "{endpoint}");
    let (status, check) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, "cpu high"));
    assert_eq!(status, 201, "{check}");
    let (status, rule) = s.post(
        "/api/v2/notificationRules",
        TOKEN,
        json!({"type": "slack", "name": "to slack", "orgID": org, "status": "active", "every": "1s",
            "endpointID": endpoint["id"], "channel": "#ops", "messageTemplate": "${r._check_name}: ${r._message}",
            "statusRules": [{"currentLevel": "CRIT"}]}),
    );
    assert_eq!(status, 201, "{rule}");
    let got = wait_received(
        &peer,
        || {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            write_now(&s, &format!("cpu,host=a usage=97 {now}"));
        },
        |got| got.iter().any(|r| r.target == "/slack"),
    );
    let sent = got.iter().find(|r| r.target == "/slack").unwrap();
    assert_eq!(
        body_of(sent),
        json!({"channel": "#ops", "attachments": [{"color": "danger", "text": "cpu high: usage is 97", "mrkdwn_in": ["text"]}]})
    );

    // PagerDuty's endpoint, as a rule calls it: one dedup key per series,
    // whatever its level; the event as the Events API v2 takes it.
    let csv = s.flux_csv(&format!(
        "import \"array\"\nimport \"pagerduty\"\n\
         array.from(rows: [\
           {{_time: 2021-01-01T00:00:00Z, host: \"a\", _level: \"crit\", _check_name: \"c\", _message: \"m\", _source_measurement: \"cpu\", _source_timestamp: 1609459200000000000}},\
           {{_time: 2021-01-01T00:01:00Z, host: \"b\", _level: \"ok\", _check_name: \"c\", _message: \"m\", _source_measurement: \"cpu\", _source_timestamp: 1609459260000000000}}])\n\
         |> group(columns: [\"host\", \"_level\"])\n\
         |> pagerduty.endpoint(url: \"{}/pd\")(mapFn: (r) => ({{routingKey: \"rk\", client: \"influxdata\", clientURL: \"http://c\", class: r._check_name, \
              group: r._source_measurement, severity: pagerduty.severityFromLevel(level: r._level), \
              eventAction: pagerduty.actionFromLevel(level: r._level), source: \"rule\", summary: r._message, \
              timestamp: time(v: r._source_timestamp)}}))()",
        peer.url
    ));
    assert_eq!(csv.matches(",true,").count(), 2, "{csv}");
    let events: Vec<Value> = peer.received().iter().filter(|r| r.target == "/pd").map(body_of).collect();
    assert_eq!(events.len(), 2);
    let by_host = |level: &str| events.iter().find(|e| e["payload"]["severity"] == level).unwrap();
    let (crit, ok) = (by_host("critical"), by_host("info"));
    assert_eq!(crit["event_action"], "trigger");
    assert_eq!(ok["event_action"], "resolve");
    assert_eq!(crit["payload"]["timestamp"], "2021-01-01T00:00:00Z");
    let key = crit["dedup_key"].as_str().unwrap();
    assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert_ne!(crit["dedup_key"], ok["dedup_key"]);
}

#[test]
fn a_status_change_rule_sends_the_change_only_and_bearer_auth_reaches_the_endpoint() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let peer = crate::calls_out::Peer::start();
    let (status, endpoint) = s.post(
        "/api/v2/notificationEndpoints",
        TOKEN,
        json!({"type": "http", "name": "bearer", "orgID": org, "status": "active", "url": format!("{}/changes", peer.url),
            "method": "POST", "authMethod": "bearer", "token": "t0ken"}),
    );
    assert_eq!(status, 201, "{endpoint}");
    let (status, check) = s.post("/api/v2/checks", TOKEN, threshold_check(&org, "cpu high"));
    assert_eq!(status, 201, "{check}");
    let check_id = check["id"].as_str().unwrap().to_owned();
    // The rule looks back over 10 s (its every, widened), so it sees the ok
    // status before the crit one.
    let (status, rule) = s.post(
        "/api/v2/notificationRules",
        TOKEN,
        json!({"type": "http", "name": "ok to crit", "orgID": org, "status": "active", "every": "5s",
            "endpointID": endpoint["id"], "statusRules": [{"currentLevel": "CRIT", "previousLevel": "OK"}]}),
    );
    assert_eq!(status, 201, "{rule}");
    drive_to(&s, &check_id, 10.0, "ok");
    let got = wait_received(
        &peer,
        || {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            write_now(&s, &format!("cpu,host=a usage=95 {now}"));
        },
        |got| got.iter().any(|r| r.target == "/changes"),
    );
    let sent: Vec<_> = got.iter().filter(|r| r.target == "/changes").collect();
    assert!(sent.iter().all(|r| r.header("Authorization") == Some("Bearer t0ken")), "{sent:?}");
    assert!(sent.iter().all(|r| body_of(r)["_level"] == "crit"), "{sent:?}");
    // Staying crit is no change: once the ok status is out of the rule's
    // window nothing more is sent.
    std::thread::sleep(Duration::from_secs(12));
    let before = peer.received().iter().filter(|r| r.target == "/changes").count();
    std::thread::sleep(Duration::from_secs(6));
    let after = peer.received().iter().filter(|r| r.target == "/changes").count();
    assert_eq!(before, after, "a crit after crit was sent");
}

#[test]
fn another_orgs_token_sees_no_endpoints_or_rules_and_cannot_use_their_endpoints() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, endpoint) = s.post(
        "/api/v2/notificationEndpoints",
        TOKEN,
        json!({"type": "slack", "name": "s", "orgID": org, "status": "active", "url": "http://127.0.0.1:9/s"}),
    );
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();
    let (status, rule) = s.post(
        "/api/v2/notificationRules",
        TOKEN,
        json!({"type": "slack", "name": "r", "orgID": org, "status": "active", "every": "1m", "endpointID": endpoint_id,
            "messageTemplate": "m", "statusRules": [{"currentLevel": "CRIT"}]}),
    );
    assert_eq!(status, 201, "{rule}");
    let (_, other) = s.post("/api/v2/orgs", TOKEN, json!({"name": "other"}));
    let other_id = other["id"].as_str().unwrap().to_owned();
    let all = ["notificationEndpoints", "notificationRules"].map(|t| {
        json!([{"action": "read", "resource": {"type": t, "orgID": other_id}},
                       {"action": "write", "resource": {"type": t, "orgID": other_id}}])
    });
    let perms: Vec<Value> = all.iter().flat_map(|a| a.as_array().unwrap().clone()).collect();
    let (token, _) = s.make_token(&other_id, json!(perms));
    let (_, seen) = s.get("/api/v2/notificationEndpoints", &token);
    assert_eq!(seen["notificationEndpoints"].as_array().unwrap().len(), 0, "{seen}");
    let (_, seen) = s.get("/api/v2/notificationRules", &token);
    assert_eq!(seen["notificationRules"].as_array().unwrap().len(), 0, "{seen}");
    assert_eq!(s.get(&format!("/api/v2/notificationEndpoints/{endpoint_id}"), &token).0, 401);
    assert_eq!(s.get(&format!("/api/v2/notificationRules/{}", rule["id"].as_str().unwrap()), &token).0, 401);
    // A rule of the other org cannot send to this org's endpoint.
    let (status, refused) = s.post(
        "/api/v2/notificationRules",
        TOKEN,
        json!({"type": "slack", "name": "r2", "orgID": other_id, "status": "active", "every": "1m", "endpointID": endpoint_id,
            "messageTemplate": "m", "statusRules": [{"currentLevel": "CRIT"}]}),
    );
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["message"], "the notification endpoint belongs to another organization");
}
