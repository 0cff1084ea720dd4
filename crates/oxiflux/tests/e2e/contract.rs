//! Answers as InfluxDB 2.7 gives them, where clients read them: the `org`
//! parameter given an org ID, task and run errors worded as 2.7 words them
//! (the Python client's own tests match on those words), a deleted user
//! that is then looked for, and the headers every answer carries.

use reqwest::Method;
use serde_json::json;

use crate::server::{TOKEN, TestServer, org_id};

/// A task ID no task has.
const NO_TASK: &str = "020f755c3c082000";

#[test]
fn the_org_parameter_takes_an_org_id_as_well_as_a_name() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);

    let write = s
        .request(Method::POST, &format!("/api/v2/write?org={org}&bucket=metrics"), Some(TOKEN))
        .body("cpu,host=a usage=1 1000000000\ncpu,host=a usage=2 2000000000\n")
        .send()
        .unwrap();
    assert_eq!(write.status(), 204, "{}", write.text().unwrap());

    let query = s
        .request(Method::POST, &format!("/api/v2/query?org={org}"), Some(TOKEN))
        .header("Content-Type", "application/vnd.flux")
        .body("from(bucket: \"metrics\") |> range(start: 0) |> count()")
        .send()
        .unwrap();
    assert_eq!(query.status(), 200);
    let csv = query.text().unwrap();
    let mut lines = csv.lines().filter(|l| !l.is_empty() && !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let value = header.iter().position(|c| *c == "_value").expect("a _value column");
    let counts: Vec<&str> = lines.map(|l| l.split(',').nth(value).unwrap_or_default()).collect();
    assert_eq!(counts, ["2"], "{csv}");

    let (_, buckets) = s.get("/api/v2/buckets?name=metrics", TOKEN);
    let bucket = buckets["buckets"][0]["id"].as_str().unwrap().to_owned();
    // `bucket` may hold the bucket's ID too (2.7's queryBucket).
    let delete = s
        .request(Method::POST, &format!("/api/v2/delete?org={org}&bucket={bucket}"), Some(TOKEN))
        .json(&json!({"start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:01.5Z"}))
        .send()
        .unwrap();
    assert_eq!(delete.status(), 204, "{}", delete.text().unwrap());

    let (status, buckets) = s.get(&format!("/api/v2/buckets?org={org}"), TOKEN);
    assert_eq!(status, 200, "{buckets}");
    assert!(buckets["buckets"].as_array().unwrap().iter().any(|b| b["name"] == "metrics"), "{buckets}");

    // Tokens listed by an `orgID` no org has: none (2.7 filters, it does not look the org up).
    let (status, body) = s.get("/api/v2/authorizations?orgID=ffffffffffffffff", TOKEN);
    assert_eq!((status, body["authorizations"].as_array().map(Vec::len)), (200, Some(0)), "{body}");

    // An ID no org has is answered as 2.7 answers a missing org.
    let (status, body) = s.get("/api/v2/buckets?org=020f755c3c082000", TOKEN);
    assert_eq!(status, 404, "{body}");

    // An org whose name looks like an ID is still found by its name.
    let (status, made) = s.post("/api/v2/orgs", TOKEN, json!({"name": "00000000000000ff"}));
    assert_eq!(status, 201, "{made}");
    let (status, body) = s.get("/api/v2/buckets?org=00000000000000ff", TOKEN);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn task_and_run_errors_are_worded_as_influxdb_words_them() {
    let (s, _) = TestServer::onboarded();
    let message = |method: Method, path: &str| {
        let (status, body) = s.call(method, path, Some(TOKEN), None);
        (status, body["message"].as_str().unwrap_or_default().to_owned())
    };

    let task = {
        let flux = "option task = {name: \"t\", every: 1h}\nfrom(bucket: \"metrics\") |> range(start: -1m)";
        let (status, body) = s.post("/api/v2/tasks", TOKEN, json!({"org": "acme", "flux": flux}));
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    };
    let cases = [
        (Method::GET, format!("/api/v2/tasks/{NO_TASK}"), 404, "failed to find task: task not found"),
        (Method::GET, format!("/api/v2/tasks/{NO_TASK}/runs"), 404, "failed to find runs: task not found"),
        (Method::POST, format!("/api/v2/tasks/{NO_TASK}/runs"), 404, "failed to force run: task not found"),
        (Method::GET, format!("/api/v2/tasks/{NO_TASK}/logs"), 404, "failed to find task logs: task not found"),
        (
            Method::GET,
            format!("/api/v2/tasks/{task}/runs/{NO_TASK}/logs"),
            404,
            "failed to find task logs: run not found",
        ),
        (Method::GET, format!("/api/v2/tasks/{task}/runs/{NO_TASK}"), 404, "failed to find run: run not found"),
        (Method::POST, format!("/api/v2/tasks/{task}/runs/{NO_TASK}/retry"), 404, "failed to retry run: run not found"),
        (Method::DELETE, format!("/api/v2/tasks/{task}/runs/{NO_TASK}"), 404, "failed to cancel run: run not found"),
        (
            Method::DELETE,
            format!("/api/v2/tasks/{NO_TASK}/runs/{NO_TASK}"),
            404,
            "failed to cancel run: task not found",
        ),
    ];
    for (method, path, status, text) in cases {
        assert_eq!(message(method.clone(), &path), (status, text.to_owned()), "{method} {path}");
    }

    let (status, _) = s.delete(&format!("/api/v2/tasks/{task}"), TOKEN);
    assert_eq!(status, 204);
    assert_eq!(
        message(Method::GET, &format!("/api/v2/tasks/{task}")),
        (404, "failed to find task: task not found".to_owned())
    );
    assert_eq!(
        message(Method::DELETE, &format!("/api/v2/tasks/{task}")),
        (404, "failed to delete task: task not found".to_owned())
    );
}

#[test]
fn a_deleted_user_is_not_found_by_id_or_name() {
    let (s, _) = TestServer::onboarded();
    let (status, user) = s.post("/api/v2/users", TOKEN, json!({"name": "gone"}));
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap();
    let (status, found) = s.get(&format!("/api/v2/users?id={id}"), TOKEN);
    assert_eq!((status, found["users"][0]["name"].as_str()), (200, Some("gone")), "{found}");

    let (status, _) = s.delete(&format!("/api/v2/users/{id}"), TOKEN);
    assert_eq!(status, 204);
    for path in [format!("/api/v2/users?id={id}"), "/api/v2/users?name=gone".to_owned()] {
        let (status, body) = s.get(&path, TOKEN);
        assert_eq!(
            (status, body["code"].as_str(), body["message"].as_str()),
            (404, Some("not found"), Some("user not found")),
            "{path}"
        );
    }
    // Without a filter the list still answers, without the user.
    let (status, all) = s.get("/api/v2/users", TOKEN);
    assert_eq!(status, 200);
    assert!(all["users"].as_array().unwrap().iter().all(|u| u["name"] != "gone"), "{all}");
}

#[test]
fn every_answer_carries_the_build_headers_errors_too() {
    let (s, _) = TestServer::onboarded();
    let bad = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .body("h2o_feet,location=coyote_creek level\\")
        .send()
        .unwrap();
    let unauthorized = s.request(Method::GET, "/api/v2/buckets", Some("not-a-token")).send().unwrap();
    let fine = s.request(Method::GET, "/api/v2/buckets", Some(TOKEN)).send().unwrap();
    for (r, status, code) in
        [(&bad, 400, Some("invalid")), (&unauthorized, 401, Some("unauthorized")), (&fine, 200, None)]
    {
        let h = r.headers();
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(r.status().as_u16(), status);
        assert!(text("x-influxdb-version").is_some_and(|v| v.starts_with('v')), "{h:?}");
        assert_eq!(text("x-influxdb-build").as_deref(), Some("OSS"), "{h:?}");
        assert_eq!(text("x-platform-error-code").as_deref(), code, "{h:?}");
        assert!(text("content-type").is_some_and(|v| v.starts_with("application/json")), "{h:?}");
    }
}

#[test]
fn a_task_is_cloned_with_its_labels_by_a_token_that_may_write_labels() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    // The Python client's tasks tests use such a token: tasks read and write,
    // labels write (not read), orgs.
    let (token, _) = s.make_token(
        &org,
        json!([
            {"action": "read", "resource": {"type": "tasks", "orgID": org}},
            {"action": "write", "resource": {"type": "tasks", "orgID": org}},
            {"action": "read", "resource": {"type": "orgs"}},
            {"action": "write", "resource": {"type": "labels"}},
        ]),
    );
    let flux = "option task = {name: \"t\", every: 1h}\nfrom(bucket: \"metrics\") |> range(start: -1m)";
    let mut ids = vec![];
    for _ in 0..2 {
        let (status, task) = s.post("/api/v2/tasks", &token, json!({"orgID": org, "flux": flux}));
        assert_eq!(status, 201, "{task}");
        ids.push(task["id"].as_str().unwrap().to_owned());
    }
    let (status, label) = s.post("/api/v2/labels", TOKEN, json!({"orgID": org, "name": "west"}));
    assert_eq!(status, 201, "{label}");
    let label = label["label"]["id"].as_str().unwrap().to_owned();

    for task in &ids {
        let (status, body) = s.post(&format!("/api/v2/tasks/{task}/labels"), &token, json!({"labelID": label}));
        assert_eq!(status, 201, "{body}");
        let (status, listed) = s.get(&format!("/api/v2/tasks/{task}/labels"), &token);
        assert_eq!(status, 200, "{listed}");
        let names: Vec<&str> = listed["labels"].as_array().unwrap().iter().filter_map(|l| l["name"].as_str()).collect();
        assert_eq!(names, ["west"], "{listed}");
        let (_, got) = s.get(&format!("/api/v2/tasks/{task}"), &token);
        assert_eq!(got["labels"][0]["id"], label.as_str(), "{got}");
    }

    // A token that may only read labels may not attach one (2.7 asks write on the label).
    let (reader, _) = s.make_token(
        &org,
        json!([
            {"action": "write", "resource": {"type": "tasks", "orgID": org}},
            {"action": "read", "resource": {"type": "tasks", "orgID": org}},
            {"action": "read", "resource": {"type": "labels"}},
        ]),
    );
    let (status, body) = s.post(&format!("/api/v2/tasks/{}/labels", ids[0]), &reader, json!({"labelID": label}));
    assert_eq!(status, 401, "{body}");
}
