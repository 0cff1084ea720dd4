//! Notification endpoints and rules: secrets kept sealed, rules that post
//! to real servers on loopback (basic and bearer auth, tag and status-change
//! rules), endpoints that fail or are down, permissions and 2.7's refusals.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{body_of, column, created, drive_to, rows, statuses, threshold_check, wait_received, write_usage};
use crate::server::{TOKEN, TestServer, org_id};

#[test]
fn endpoint_secrets_go_to_the_orgs_store_and_are_never_answered_in_clear() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let body = json!({
        "type": "http", "name": "hook", "orgID": org, "status": "active",
        "url": "http://127.0.0.1:9/hook", "method": "POST", "authMethod": "basic",
        "username": "alice", "password": "s3cret-pass", "headers": {"X-Team": "ops"},
    });
    let e = created(&s, "/api/v2/notificationEndpoints", body);
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

#[test]
fn an_http_rule_posts_crit_statuses_to_its_endpoint_with_basic_auth() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let peer = crate::calls_out::Peer::start();
    let endpoint = created(
        &s,
        "/api/v2/notificationEndpoints",
        json!({"type": "http", "name": "hook", "orgID": org, "status": "active", "url": format!("{}/hook", peer.url),
            "method": "POST", "authMethod": "basic", "username": "alice", "password": "pw"}),
    );
    let endpoint_id = endpoint["id"].as_str().unwrap();
    created(&s, "/api/v2/checks", threshold_check(&org, "cpu high"));
    let rule = |name: &str, team: &str| {
        json!({"type": "http", "name": name, "orgID": org, "status": "active", "every": "1s",
            "endpointID": endpoint_id, "statusRules": [{"currentLevel": "CRIT"}],
            "tagRules": [{"key": "team", "value": team, "operator": "equal"}]})
    };
    let ops = created(&s, "/api/v2/notificationRules", rule("to ops", "ops"));
    // A rule whose tag rule no status meets sends nothing.
    let dev = created(&s, "/api/v2/notificationRules", rule("to dev", "dev"));
    let rule_id = ops["id"].as_str().unwrap().to_owned();
    assert_eq!(ops["status"], "active");
    let (status, q) = s.get(&format!("/api/v2/notificationRules/{rule_id}/query"), TOKEN);
    assert_eq!(status, 200, "{q}");
    assert!(
        q["flux"].as_str().unwrap().contains("monitor[\"from\"](start: -2s, fn: (r) => r[\"team\"] == \"ops\")"),
        "{q}"
    );

    let got = wait_received(&peer, || write_usage(&s, 95.0), |got| got.iter().any(|r| r.target == "/hook"));
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
        let e = created(
            &s,
            "/api/v2/notificationEndpoints",
            json!({"type": "http", "name": name, "orgID": org, "status": "active", "url": url, "method": "POST", "authMethod": "none"}),
        );
        e["id"].as_str().unwrap().to_owned()
    };
    let failing = endpoint("answers 503", format!("{}/status/503", peer.url));
    let down = endpoint("down", format!("http://{closed}/hook"));
    let healthy = endpoint("healthy", format!("{}/ok", peer.url));
    let check = created(&s, "/api/v2/checks", threshold_check(&org, "cpu high"));
    let rule = |name: &str, endpoint: &str| {
        created(
            &s,
            "/api/v2/notificationRules",
            json!({"type": "http", "name": name, "orgID": org, "status": "active", "every": "1s",
                "endpointID": endpoint, "statusRules": [{"currentLevel": "ANY"}]}),
        )
    };
    let to_failing = rule("to failing", &failing);
    let to_down = rule("to down", &down);
    rule("to healthy", &healthy);

    // The healthy endpoint is sent to whatever the others do.
    wait_received(
        &peer,
        || write_usage(&s, 95.0),
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

#[test]
fn a_status_change_rule_sends_the_change_only_and_bearer_auth_reaches_the_endpoint() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let peer = crate::calls_out::Peer::start();
    let endpoint = created(
        &s,
        "/api/v2/notificationEndpoints",
        json!({"type": "http", "name": "bearer", "orgID": org, "status": "active", "url": format!("{}/changes", peer.url),
            "method": "POST", "authMethod": "bearer", "token": "t0ken"}),
    );
    let check = created(&s, "/api/v2/checks", threshold_check(&org, "cpu high"));
    let check_id = check["id"].as_str().unwrap().to_owned();
    // The rule looks back over 10 s (its every, widened), so it sees the ok
    // status before the crit one.
    created(
        &s,
        "/api/v2/notificationRules",
        json!({"type": "http", "name": "ok to crit", "orgID": org, "status": "active", "every": "5s",
            "endpointID": endpoint["id"], "statusRules": [{"currentLevel": "CRIT", "previousLevel": "OK"}]}),
    );
    drive_to(&s, &check_id, 10.0, "ok");
    let got = wait_received(&peer, || write_usage(&s, 95.0), |got| got.iter().any(|r| r.target == "/changes"));
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
    let rule = created(
        &s,
        "/api/v2/notificationRules",
        json!({"type": "slack", "name": "r", "orgID": org, "status": "active", "every": "1m", "endpointID": endpoint_id,
            "messageTemplate": "m", "statusRules": [{"currentLevel": "CRIT"}]}),
    );
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

    // Lists filter by the tags a status would carry.
    let tagged = created(
        &s,
        "/api/v2/notificationRules",
        json!({"type": "slack", "name": "ops only", "orgID": org, "status": "active", "every": "1m", "endpointID": endpoint_id,
            "messageTemplate": "m", "statusRules": [{"currentLevel": "CRIT"}],
            "tagRules": [{"key": "team", "value": "ops", "operator": "equal"}]}),
    );
    let names = |q: &str| {
        let (status, list) = s.get(&format!("/api/v2/notificationRules?orgID={org}&{q}"), TOKEN);
        assert_eq!(status, 200, "{list}");
        let mut names: Vec<String> = list["notificationRules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("tag=team:ops"), ["ops only", "r"]);
    assert_eq!(names("tag=team:dev"), ["r"]);
    let (status, bad) = s.get(&format!("/api/v2/notificationRules?orgID={org}&tag=team"), TOKEN);
    assert_eq!((status, bad["message"].as_str()), (400, Some("tag must be in form key:value")), "{bad}");
    assert_eq!(tagged["tagRules"][0]["key"], "team");
}
