//! `/query` (InfluxQL): what the answers recorded from InfluxDB 1.6.7 (the
//! conformance cases under `tests/cases/influxql/`) do not show: other output
//! formats, credentials, parameters, deletes, random samples.

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

/// A server with the conformance cases' dataset in bucket `db` (virtual mapping `db/autogen`).
fn loaded() -> TestServer {
    let (s, setup) = TestServer::onboarded();
    let (status, body) =
        s.post("/api/v2/buckets", TOKEN, json!({"orgID": org_id(&setup), "name": "db", "retentionRules": []}));
    assert_eq!(status, 201, "{body}");
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases/influxql/db.lp")).unwrap();
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=db&precision=ns", Some(TOKEN))
        .body(data)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    s
}

fn query(s: &TestServer, params: &[(&str, &str)]) -> (u16, Value) {
    let r = s.request(Method::GET, "/query", Some(TOKEN)).query(params).send().unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap())
}

#[test]
fn statements_2x_refuses_answer_not_implemented() {
    let s = loaded();
    let (status, body) = query(
        &s,
        &[
            ("db", "db"),
            (
                "q",
                "CREATE DATABASE x; SHOW USERS; DROP SERIES FROM cpu; GRANT ALL TO bob; SHOW SERIES CARDINALITY; \
                 SHOW MEASUREMENT CARDINALITY",
            ),
        ],
    );
    assert_eq!(status, 200);
    let errors: Vec<&str> = body["results"].as_array().unwrap().iter().map(|r| r["error"].as_str().unwrap()).collect();
    assert_eq!(
        errors,
        [
            "not implemented: CREATE DATABASE",
            "not implemented: SHOW USERS",
            "not implemented: DROP SERIES",
            "not implemented: GRANT ALL",
            "not implemented: SHOW SERIES CARDINALITY",
            "not implemented: SHOW MEASUREMENT CARDINALITY",
        ]
    );
}

#[test]
fn parse_errors_credentials_and_parameters() {
    let s = loaded();
    let (status, body) = query(&s, &[("db", "db"), ("q", "SELECT x FORM cpu")]);
    assert_eq!(status, 400);
    assert_eq!(body["error"], "error parsing query: found FORM, expected FROM at line 1, char 10");
    let (status, body) = query(&s, &[("db", "db")]);
    assert_eq!((status, body["error"].as_str()), (400, Some("missing required parameter \"q\"")));

    // u/p, Basic and Token credentials; a bad token is 401.
    let url = s.url("/query");
    let client = reqwest::blocking::Client::new();
    let q = [("db", "db"), ("q", "SHOW MEASUREMENTS LIMIT 1")];
    let with_up = client.get(&url).query(&q).query(&[("u", "any"), ("p", TOKEN)]).send().unwrap();
    assert_eq!(with_up.status(), 200);
    let basic = client.get(&url).query(&q).basic_auth("any", Some(TOKEN)).send().unwrap();
    assert_eq!(basic.status(), 200);
    let bad = client.get(&url).query(&q).query(&[("u", "any"), ("p", "wrong")]).send().unwrap();
    assert_eq!(bad.status(), 401);

    // A form body, and bound parameters.
    let form = client
        .post(&url)
        .header("Authorization", format!("Token {TOKEN}"))
        .form(&[
            ("db", "db"),
            ("q", "SHOW TAG VALUES WITH KEY = $k WHERE region = $r"),
            ("params", r#"{"k": {"identifier": "host"}, "r": "eu"}"#),
        ])
        .send()
        .unwrap();
    assert_eq!(form.status(), 200);
    let body: Value = form.json().unwrap();
    assert_eq!(body["results"][0]["series"][0]["values"], json!([["host", "c"]]));
    // pretty
    let r = client
        .get(&url)
        .query(&q)
        .query(&[("pretty", "true")])
        .header("Authorization", format!("Token {TOKEN}"))
        .send()
        .unwrap();
    let text = r.text().unwrap();
    assert!(text.starts_with("{\n    \"results\": [\n        {\n            \"statement_id\": 0,"), "{text}");
    // Keys in InfluxDB's order.
    let r = client.get(&url).query(&q).header("Authorization", format!("Token {TOKEN}")).send().unwrap();
    assert_eq!(
        r.text().unwrap(),
        "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"measurements\",\"columns\":[\"name\"],\"values\":[[\"cpu\"]]}]}]}\n"
    );
}

/// `Accept: application/csv` and `chunked=true`, as influxd 1.6.7 wrote them for the same data.
#[test]
fn csv_and_chunked_answers_read_as_influxdb_writes_them() {
    let s = loaded();
    let get = |params: &[(&str, &str)], accept: &str| {
        let r = s.request(Method::GET, "/query", Some(TOKEN)).header("Accept", accept).query(params).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let q =
        "SELECT usage FROM cpu WHERE host = 'a' LIMIT 2; SELECT mean(usage) FROM cpu GROUP BY host; SHOW MEASUREMENTS";
    let (status, csv) = get(&[("db", "db"), ("q", q)], "application/csv");
    assert_eq!(status, 200);
    assert_eq!(
        csv,
        "name,tags,time,usage\ncpu,,1577836800000000000,48.238\ncpu,,1577836810000000000,44.746\n\n\
         name,tags,time,mean\ncpu,host=a,0,19.377333333333336\ncpu,host=b,0,50.14208333333333\ncpu,host=c,0,62.63441666666666\n\n\
         name,tags,name\nmeasurements,,cpu\nmeasurements,,disk\nmeasurements,,mem\n"
    );
    let (_, csv) =
        get(&[("db", "db"), ("q", "SELECT last(usage) FROM cpu GROUP BY *"), ("epoch", "s")], "application/csv");
    assert_eq!(
        csv,
        "name,tags,time,last\ncpu,\"host=a,region=us\",1577837390,11.01\ncpu,\"host=b,region=us\",1577837390,46.567\ncpu,\"host=c,region=eu\",1577837390,76.795\n"
    );
    // A request that fails is answered in JSON even to a client that asked for CSV, as 2.7 does.
    let (status, body) = get(&[("db", "db"), ("q", "SELEC x")], "application/csv");
    assert_eq!(status, 400);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["error"],
        "error parsing query: found SELEC, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1"
    );
    assert_eq!(body["code"], "invalid");

    let q = "SELECT usage FROM cpu WHERE host = 'a' LIMIT 5; SHOW MEASUREMENTS";
    let (_, chunks) = get(&[("db", "db"), ("q", q), ("chunked", "true"), ("chunk_size", "2")], "application/json");
    let want = [
        r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[["2020-01-01T00:00:00Z",48.238],["2020-01-01T00:00:10Z",44.746]],"partial":true}],"partial":true}]}"#,
        r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[["2020-01-01T00:00:20Z",46.255],["2020-01-01T00:00:30Z",41.979]],"partial":true}],"partial":true}]}"#,
        r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[["2020-01-01T00:00:40Z",42.338]]}]}]}"#,
        r#"{"results":[{"statement_id":1,"series":[{"name":"measurements","columns":["name"],"values":[["cpu"],["disk"],["mem"]]}]}]}"#,
    ];
    assert_eq!(chunks.lines().collect::<Vec<_>>(), want);
}

#[test]
fn delete_and_drop_measurement_go_through_the_storage_delete_path() {
    let s = loaded();
    let count = |q: &str| -> Value {
        let (_, body) = query(&s, &[("db", "db"), ("q", q)]);
        body["results"][0]["series"][0]["values"][0][1].clone()
    };
    assert_eq!(count("SELECT count(usage) FROM cpu"), json!(180));
    let (status, body) =
        query(&s, &[("db", "db"), ("q", "DELETE FROM cpu WHERE host = 'a' AND time < '2020-01-01T00:01:00Z'")]);
    assert_eq!((status, body.clone()), (200, json!({"results": [{"statement_id": 0}]})), "{body}");
    assert_eq!(count("SELECT count(usage) FROM cpu"), json!(174));
    assert_eq!(count("SELECT count(usage) FROM cpu WHERE host = 'a'"), json!(54));

    let (_, body) = query(&s, &[("db", "db"), ("q", "DROP MEASUREMENT mem; SHOW MEASUREMENTS")]);
    assert_eq!(body["results"][1]["series"][0]["values"], json!([["cpu"], ["disk"]]));

    let (_, body) = query(&s, &[("db", "db"), ("q", "DELETE FROM cpu WHERE host =~ /a/")]);
    assert!(body["results"][0]["error"].as_str().unwrap().starts_with("DELETE conditions"), "{body}");

    // Deleting needs write permission on the bucket.
    let org = s.get("/api/v2/orgs?org=acme", TOKEN).1["orgs"][0]["id"].as_str().unwrap().to_owned();
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]));
    let r = s
        .request(Method::GET, "/query", Some(&reader))
        .query(&[("db", "db"), ("q", "DELETE FROM cpu; SELECT count(usage) FROM cpu")])
        .send()
        .unwrap();
    let body: Value = r.json().unwrap();
    assert_eq!(body["results"][0]["error"], "insufficient permissions");
    assert_eq!(body["results"][1]["series"][0]["values"][0][1], json!(174));
}

/// `/private/legacy/authorizations`: a v1 username and password, scoped to a
/// bucket, signs in on `/query` and `/write` with `u`/`p` or Basic auth.
#[test]
fn v1_usernames_and_passwords_sign_in_on_query_and_write() {
    let s = loaded();
    let org = s.get("/api/v2/orgs?org=acme", TOKEN).1["orgs"][0]["id"].as_str().unwrap().to_owned();
    let buckets = s.get("/api/v2/buckets?name=db", TOKEN).1;
    let bucket = buckets["buckets"][0]["id"].as_str().unwrap().to_owned();
    let perms = json!([
        {"action": "read", "resource": {"type": "buckets", "id": bucket, "orgID": org}},
        {"action": "write", "resource": {"type": "buckets", "id": bucket, "orgID": org}}
    ]);
    let (status, auth) = s.post(
        "/private/legacy/authorizations",
        TOKEN,
        json!({"orgID": org, "token": "grafana", "description": "dashboards", "permissions": perms}),
    );
    assert_eq!(status, 201, "{auth}");
    assert_eq!(auth["token"], "grafana");
    let id = auth["id"].as_str().unwrap().to_owned();
    let (status, body) = s.post(
        "/private/legacy/authorizations",
        TOKEN,
        json!({"orgID": org, "token": "grafana", "permissions": perms}),
    );
    assert_eq!(status, 422, "usernames are unique: {body}");
    let (status, body) = s.post("/private/legacy/authorizations", TOKEN, json!({"orgID": org, "permissions": perms}));
    assert_eq!((status, body["message"].as_str()), (400, Some("token required for v1 user authorization type")));

    let url = s.url("/query");
    let client = reqwest::blocking::Client::new();
    let q = [("db", "db"), ("q", "SELECT count(usage) FROM cpu")];
    // No password yet: refused.
    let r = client.get(&url).query(&q).query(&[("u", "grafana"), ("p", "whatever1")]).send().unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .request(Method::POST, &format!("/private/legacy/authorizations/{id}/password"), Some(TOKEN))
        .json(&json!({"password": "dashboards-2024"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = client.get(&url).query(&q).query(&[("u", "grafana"), ("p", "dashboards-2024")]).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["results"][0]["series"][0]["values"][0][1], json!(180));
    let r = client.get(&url).query(&q).basic_auth("grafana", Some("dashboards-2024")).send().unwrap();
    assert_eq!(r.status(), 200);
    let r = client.get(&url).query(&q).basic_auth("grafana", Some("wrong-password")).send().unwrap();
    assert_eq!(r.status(), 401);
    // ... and writes with it through /write.
    let w = client
        .post(s.url("/write"))
        .query(&[("db", "db"), ("u", "grafana"), ("p", "dashboards-2024")])
        .body("cpu,host=z usage=1 1577836800000000000")
        .send()
        .unwrap();
    assert_eq!(w.status(), 204);
    // Deactivated, it no longer reads; listed and deleted through the API.
    let (status, _) = s.patch(&format!("/private/legacy/authorizations/{id}"), TOKEN, json!({"status": "inactive"}));
    assert_eq!(status, 200);
    let r = client.get(&url).query(&q).query(&[("u", "grafana"), ("p", "dashboards-2024")]).send().unwrap();
    assert_eq!(r.status(), 403);
    let (_, list) = s.get(&format!("/private/legacy/authorizations?orgID={org}"), TOKEN);
    assert_eq!(list["authorizations"].as_array().unwrap().len(), 1);
    assert_eq!(s.delete(&format!("/private/legacy/authorizations/{id}"), TOKEN).0, 204);
    let r = client.get(&url).query(&q).query(&[("u", "grafana"), ("p", "dashboards-2024")]).send().unwrap();
    assert_eq!(r.status(), 401, "a deleted name falls back to the password as a token, which is none");
}

/// Debian's 1.x `influx` shell (package influxdb-client; `.ci/run` installs it)
/// against oxiflux, with any username and the token as password.
#[test]
fn the_1x_influx_shell_queries_oxiflux() {
    let influx = ["/usr/bin/influx", "/usr/local/bin/influx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("the 1.x influx shell is needed: apt-get install influxdb-client (.ci/run does)");
    let s = loaded();
    let port = s.url("").rsplit(':').next().unwrap().trim_end_matches('/').to_owned();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(influx)
            .args(["-host", "127.0.0.1", "-port", &port, "-username", "any"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) =
        run(&["-password", TOKEN, "-database", "db", "-execute", "SELECT mean(usage) FROM cpu GROUP BY host"]);
    assert!(ok, "{out}");
    assert!(out.contains("name: cpu\ntags: host=a\ntime mean\n---- ----\n0    19.377333333333336"), "{out}");
    let (ok, out) = run(&[
        "-password",
        TOKEN,
        "-database",
        "db",
        "-format",
        "csv",
        "-execute",
        "SELECT usage FROM cpu WHERE host = 'a' LIMIT 2",
    ]);
    assert!(ok, "{out}");
    assert_eq!(out, "name,time,usage\ncpu,1577836800000000000,48.238\ncpu,1577836810000000000,44.746\n");
    let (ok, out) = run(&["-password", TOKEN, "-execute", "SHOW DATABASES"]);
    assert!(ok && out.contains("db\n"), "{out}");
    let (ok, out) = run(&["-password", "not-a-token", "-execute", "SHOW DATABASES"]);
    assert!(!ok && out.contains("ERR: unauthorized access"), "{out}");
}

/// EXPLAIN names each field's expression and the series it reads; EXPLAIN
/// ANALYZE runs the query and reports its series and rows.
#[test]
fn explain_describes_the_plan_and_analyze_runs_it() {
    let s = loaded();
    let plan = |q: &str| -> Vec<String> {
        let (status, body) = query(&s, &[("db", "db"), ("q", q)]);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["results"][0]["series"][0]["columns"], json!(["QUERY PLAN"]), "{body}");
        body["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row[0].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        plan("EXPLAIN SELECT mean(usage), max(usage) * 2 FROM cpu WHERE region = 'us' GROUP BY time(1m)"),
        ["EXPRESSION: mean(usage)", "EXPRESSION: max(usage) * 2", "NUMBER OF SERIES: 2"]
    );
    assert_eq!(plan("EXPLAIN SELECT usage FROM cpu")[1], "NUMBER OF SERIES: 3");
    let analyzed = plan("EXPLAIN ANALYZE SELECT count(usage) FROM cpu GROUP BY host");
    assert_eq!(analyzed[0], "EXPLAIN ANALYZE");
    assert!(analyzed.iter().any(|l| l.ends_with("series: 3")), "{analyzed:?}");
    assert!(analyzed.iter().any(|l| l.ends_with("rows: 3")), "{analyzed:?}");
}

/// sample() picks at random, so its answer is checked for what it must be:
/// n of the window's own points (time and value), in time order.
#[test]
fn sample_picks_n_real_points_per_window_in_time_order() {
    let s = loaded();
    let rows = |q: &str| -> Vec<(String, Value)> {
        let (status, body) = query(&s, &[("db", "db"), ("q", q)]);
        assert_eq!(status, 200, "{body}");
        body["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].clone()))
            .collect()
    };
    let all = rows("SELECT usage FROM cpu WHERE host = 'a'");
    assert_eq!(all.len(), 60);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let picked = rows("SELECT sample(usage, 3) FROM cpu WHERE host = 'a'");
        assert_eq!(picked.len(), 3);
        assert!(picked.windows(2).all(|w| w[0].0 < w[1].0), "{picked:?}");
        for p in &picked {
            assert!(all.contains(p), "{p:?} is not a point of the series");
            seen.insert(p.0.clone());
        }
    }
    // Twenty draws of 3 from 60 points do not keep landing on the same few.
    assert!(seen.len() > 10, "{seen:?}");

    let windows = rows(
        "SELECT sample(usage, 2) FROM cpu WHERE host = 'a' AND time >= '2020-01-01T00:00:00Z' \
         AND time < '2020-01-01T00:05:00Z' GROUP BY time(1m)",
    );
    assert_eq!(windows.len(), 10);
    for (i, pair) in windows.chunks(2).enumerate() {
        for p in pair {
            assert!(all.contains(p));
            assert!(p.0.starts_with(&format!("2020-01-01T00:0{i}:")), "{p:?} outside window {i}");
        }
    }
}
