use reqwest::Method;
use serde_json::json;

use crate::server::{PASSWORD, TOKEN, TestServer};

#[test]
fn setup_creates_user_org_bucket_and_operator_token_once() {
    let s = TestServer::start();
    assert_eq!(s.call(Method::GET, "/api/v2/setup", None, None), (200, json!({"allowed": true})));

    let body = s.setup();
    assert_eq!(body["user"]["name"], "admin");
    assert_eq!(body["user"]["status"], "active");
    assert_eq!(body["org"]["name"], "acme");
    assert_eq!(body["bucket"]["name"], "metrics");
    assert_eq!(body["bucket"]["orgID"], body["org"]["id"]);
    assert_eq!(body["auth"]["token"], TOKEN, "a token given in the request is used");
    assert_eq!(body["auth"]["userID"], body["user"]["id"]);
    assert_eq!(body["auth"]["description"], "admin's Token");
    assert_eq!(body["auth"]["permissions"].as_array().unwrap().len(), 44, "read+write on 22 types");
    for id in [&body["user"]["id"], &body["org"]["id"], &body["bucket"]["id"], &body["auth"]["id"]] {
        let id = id.as_str().unwrap();
        assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }

    assert_eq!(s.call(Method::GET, "/api/v2/setup", None, None), (200, json!({"allowed": false})));
    let (status, body) = s.call(
        Method::POST,
        "/api/v2/setup",
        None,
        Some(json!({"username": "other", "password": PASSWORD, "org": "o", "bucket": "b"})),
    );
    assert_eq!(status, 422);
    assert_eq!(body, json!({"code": "conflict", "message": "onboarding has already been completed"}));

    // The operator token works.
    let (status, _) = s.get("/api/v2/orgs", TOKEN);
    assert_eq!(status, 200);
}

#[test]
fn setup_without_a_token_generates_one() {
    let s = TestServer::start();
    let (status, body) = s.call(
        Method::POST,
        "/api/v2/setup",
        None,
        Some(json!({"username": "u", "password": PASSWORD, "org": "o", "bucket": "b", "retentionPeriodSeconds": 3600})),
    );
    assert_eq!(status, 201, "{body}");
    let token = body["auth"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 88, "64 random bytes, padded base64url");
    assert_eq!(body["bucket"]["retentionRules"][0]["everySeconds"], 3600);
    assert_eq!(body["bucket"]["retentionRules"][0]["shardGroupDurationSeconds"], 3600);
    assert_eq!(s.get("/api/v2/me", token).1["name"], "u");
}

#[test]
fn setup_takes_the_deprecated_retention_field_in_nanoseconds() {
    let s = TestServer::start();
    let (status, body) = s.call(
        Method::POST,
        "/api/v2/setup",
        None,
        Some(json!({"username": "u", "password": PASSWORD, "org": "o", "bucket": "b",
                    "retentionPeriodHrs": 7_200_000_000_000i64})),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["bucket"]["retentionRules"][0]["everySeconds"], 7200);
}

#[test]
fn bad_setup_requests_are_refused_and_leave_setup_open() {
    let s = TestServer::start();
    let cases = [
        (json!({"password": PASSWORD}), 422, "onboarding failed: missing required fields [username,org,bucket]"),
        (
            json!({"username": "u", "org": "o", "bucket": "b", "password": "short"}),
            400,
            "passwords must be at least 8 characters long",
        ),
        (
            json!({"username": "u", "org": "o", "bucket": "_b", "password": PASSWORD}),
            400,
            "bucket name _b is invalid. Buckets may not start with underscore",
        ),
    ];
    for (req, want_status, want_msg) in cases {
        let (status, body) = s.call(Method::POST, "/api/v2/setup", None, Some(req.clone()));
        assert_eq!(status, want_status, "{req} -> {body}");
        assert_eq!(body["message"], want_msg, "{req}");
    }
    let r = s.request(Method::POST, "/api/v2/setup", None).body("{not json").send().unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["code"], "invalid");
    assert!(body["message"].as_str().unwrap().starts_with("failed to decode request body"), "{body}");

    assert_eq!(s.call(Method::GET, "/api/v2/setup", None, None), (200, json!({"allowed": true})));
}

#[test]
fn docker_init_variables_set_the_server_up_on_first_start() {
    let envs = [
        ("DOCKER_INFLUXDB_INIT_MODE", "setup"),
        ("DOCKER_INFLUXDB_INIT_USERNAME", "dock"),
        ("DOCKER_INFLUXDB_INIT_PASSWORD", PASSWORD),
        ("DOCKER_INFLUXDB_INIT_ORG", "docker-org"),
        ("DOCKER_INFLUXDB_INIT_BUCKET", "docker-bucket"),
        ("DOCKER_INFLUXDB_INIT_RETENTION", "1w"),
        ("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN", "docker-token"),
    ];
    let s = TestServer::start_with(&[], &envs);
    assert_eq!(s.call(Method::GET, "/api/v2/setup", None, None), (200, json!({"allowed": false})));
    let (status, body) = s.get("/api/v2/buckets?org=docker-org&name=docker-bucket", "docker-token");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["buckets"][0]["retentionRules"][0]["everySeconds"], 604_800);
    // A restart with the same variables does not try again.
    let s = s.restart();
    assert_eq!(s.get("/api/v2/me", "docker-token").1["name"], "dock");
}
