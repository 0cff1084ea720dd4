use reqwest::Method;
use serde_json::json;

use crate::server::{TOKEN, TestServer};

#[test]
fn health_ping_and_ready_answer_without_a_token() {
    let s = TestServer::start();
    let (status, body) = s.call(Method::GET, "/health", None, None);
    assert_eq!(status, 200);
    assert_eq!(body["name"], "influxdb");
    assert_eq!(body["message"], "ready for queries and writes");
    assert_eq!(body["status"], "pass");
    assert!(body["version"].as_str().unwrap().starts_with('v'));

    for method in [Method::GET, Method::HEAD] {
        let r = s.request(method, "/ping", None).send().unwrap();
        assert_eq!(r.status(), 204);
        assert!(r.headers()["X-Influxdb-Version"].to_str().unwrap().starts_with('v'));
        assert_eq!(r.headers()["X-Influxdb-Build"], "OSS");
    }

    let (status, body) = s.call(Method::GET, "/ready", None, None);
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ready");
    assert!(body["started"].is_string() && body["up"].is_string());

    let (status, body) = s.call(Method::GET, "/api/v2", None, None);
    assert_eq!(status, 200);
    assert_eq!(body["buckets"], "/api/v2/buckets");
    assert_eq!(body["query"]["self"], "/api/v2/query");
}

#[test]
fn resources_flags_and_config_need_the_right_token() {
    let (s, setup) = TestServer::onboarded();
    let (status, body) = s.call(Method::GET, "/api/v2/resources", None, None);
    assert_eq!((status, body), (401, json!({"code": "unauthorized", "message": "unauthorized access"})));

    let (status, body) = s.get("/api/v2/resources", TOKEN);
    assert_eq!(status, 200);
    let types: Vec<&str> = body.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for t in ["authorizations", "buckets", "orgs", "users", "labels", "dbrp", "instance"] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }

    let (status, body) = s.get("/api/v2/flags", TOKEN);
    assert_eq!(status, 200);
    assert_eq!(body["appMetrics"], false);

    let (status, body) = s.get("/api/v2/config", TOKEN);
    assert_eq!(status, 200);
    assert_eq!(body["config"]["http-bind-address"], "127.0.0.1:0");
    assert_eq!(body["config"]["log-level"], "info");

    // An all-access token for one org is not an operator.
    let org = setup["org"]["id"].as_str().unwrap();
    let (token, _) = s.make_token(org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]));
    let (status, body) = s.get("/api/v2/config", &token);
    assert_eq!(
        (status, body),
        (401, json!({"code": "unauthorized", "message": "access to /api/v2/config requires operator permissions"}))
    );
}

#[test]
fn unknown_routes_and_wrong_methods_get_json_errors() {
    let (s, _) = TestServer::onboarded();
    let r = s.request(Method::GET, "/api/v2/no-such-thing", Some(TOKEN)).send().unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["X-Platform-Error-Code"], "not found");
    assert_eq!(r.json::<serde_json::Value>().unwrap(), json!({"code": "not found", "message": "path not found"}));

    let (status, body) = s.call(Method::PUT, "/api/v2/buckets", Some(TOKEN), None);
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method not allowed");

    // Without a token the router is not even consulted, as in InfluxDB.
    let (status, _) = s.call(Method::GET, "/api/v2/no-such-thing", None, None);
    assert_eq!(status, 401);
}

#[test]
fn version_subcommand_prints_the_version() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oxiflux")).arg("version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("oxiflux "), "{text}");
}

#[test]
fn an_oversized_body_is_413() {
    let (s, _) = TestServer::onboarded();
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(3 << 20));
    let r = s.request(Method::POST, "/api/v2/orgs", Some(TOKEN)).body(big).send().unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["code"], "request too large");
}

#[test]
fn flux_ast_and_analyze_over_http() {
    let (s, _) = TestServer::onboarded();
    let q = "from(bucket: \"b\") |> range(start: -1h) |> filter(fn: (r) => r._measurement == \"cpu\")";
    let (status, body) = s.post("/api/v2/query/ast", TOKEN, json!({ "query": q }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ast"]["type"], "Package");
    let pipe = &body["ast"]["files"][0]["body"][0]["expression"];
    assert_eq!(pipe["type"], "PipeExpression");
    assert_eq!(pipe["call"]["callee"]["name"], "filter");
    let f = &pipe["call"]["arguments"][0]["properties"][0]["value"];
    assert_eq!(f["type"], "FunctionExpression");
    assert_eq!(f["body"]["type"], "BinaryExpression");
    assert_eq!(f["body"]["left"]["property"]["name"], "_measurement");

    let (status, body) = s.post("/api/v2/query/ast", TOKEN, json!({ "query": "a = (1 +" }));
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid");
    assert!(body["message"].as_str().unwrap().starts_with("invalid AST: error @1:"), "{body}");

    assert_eq!(
        s.post("/api/v2/query/analyze", TOKEN, json!({ "query": q, "type": "flux" })),
        (200, json!({"errors": []}))
    );
    let (status, body) = s.post("/api/v2/query/analyze", TOKEN, json!({ "query": "x = 1\ny = x |> 2" }));
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["line"], 2);
    assert_eq!(body["errors"][0]["column"], 10);
    assert_eq!(body["errors"][0]["message"], "pipe destination must be a function call");
    assert_eq!(s.post("/api/v2/query/analyze", TOKEN, json!({ "query": q, "type": "sql" })).0, 400);
    assert_eq!(s.call(Method::POST, "/api/v2/query/ast", None, Some(json!({ "query": q }))).0, 401);

    // Names and arguments are checked too, each error with its position.
    let wrong = "from(bucket: \"b\")\n  |> range(begin: -1h)\n  |> mean(colum: \"x\") |> foo()";
    let (status, body) = s.post("/api/v2/query/analyze", TOKEN, json!({ "query": wrong }));
    assert_eq!(status, 200);
    let found: Vec<(u64, u64, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (2, 19, "found unexpected argument begin (Expected `start`)"),
            (2, 6, "missing required argument start"),
            (3, 18, "found unexpected argument colum"),
            (3, 26, "undefined identifier foo"),
        ]
    );
}

#[test]
fn flux_suggestions_list_functions_and_their_parameters() {
    let (s, _) = TestServer::onboarded();
    let (status, body) = s.get("/api/v2/query/suggestions", TOKEN);
    assert_eq!(status, 200, "{body}");
    let funcs = body["funcs"].as_array().unwrap();
    let names: Vec<&str> = funcs.iter().map(|f| f["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for f in ["aggregateWindow", "from", "range", "filter", "map", "pivot", "toFloat"] {
        assert!(names.contains(&f), "{f} missing from {names:?}");
    }
    let range = funcs.iter().find(|f| f["name"] == "range").unwrap();
    assert_eq!(range["params"], json!({"tables": "stream", "start": "invalid", "stop": "invalid"}));

    assert_eq!(
        s.get("/api/v2/query/suggestions/sum", TOKEN),
        (200, json!({"name": "sum", "params": {"column": "string", "tables": "stream"}}))
    );
    let (status, body) = s.get("/api/v2/query/suggestions/aggregateWindow", TOKEN);
    assert_eq!(status, 200);
    assert_eq!(body["params"]["every"], "duration");
    assert_eq!(body["params"]["fn"], "function");
    assert_eq!(body["params"]["createEmpty"], "bool");
    let (status, body) = s.get("/api/v2/query/suggestions/nope", TOKEN);
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not found");
    assert_eq!(s.call(Method::GET, "/api/v2/query/suggestions", None, None).0, 401);
}
