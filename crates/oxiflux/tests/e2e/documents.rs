//! Stored-document resources over HTTP: variables and dashboards (cells and
//! views), with labels, members, owners, permissions and cascades.

use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer, org_id};

#[test]
fn variables_follow_influxdbs_rules() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let make = |body: Value| s.post("/api/v2/variables", TOKEN, body);
    let (status, v) = make(json!({"orgID": org, "name": "host", "selected": ["a"],
        "arguments": {"type": "query", "values": {"query": "buckets()", "language": "flux"}}}));
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["arguments"]["values"]["language"], "flux");
    assert_eq!(v["selected"], json!(["a"]));
    assert_eq!(v["links"]["labels"], format!("/api/v2/variables/{}/labels", v["id"].as_str().unwrap()));
    let id = v["id"].as_str().unwrap().to_owned();
    let (status, c) =
        make(json!({"orgID": org, "name": "region", "arguments": {"type": "constant", "values": ["eu", "us"]}}));
    assert_eq!(status, 201, "{c}");
    let (status, m) = make(json!({"orgID": org, "name": "env", "arguments": {"type": "map", "values": {"p": "prod"}}}));
    assert_eq!(status, 201, "{m}");

    for (body, message) in [
        (json!({"orgID": org, "name": "", "arguments": {"type": "constant", "values": []}}), "missing variable name"),
        (
            json!({"orgID": org, "name": "1x", "arguments": {"type": "constant", "values": []}}),
            "variable name must start with a letter",
        ),
        (
            json!({"orgID": org, "name": "timeRangeStart", "arguments": {"type": "constant", "values": []}}),
            "\"timeRangeStart\" is a protected variable name",
        ),
        (
            json!({"orgID": org, "name": "import", "arguments": {"type": "constant", "values": []}}),
            "\"import\" is a protected variable name",
        ),
        (json!({"orgID": org, "name": "x", "arguments": {"type": "nope", "values": []}}), "invalid arguments type"),
        (
            json!({"orgID": org, "name": "x", "arguments": {"type": "constant", "values": [1]}}),
            "expected variable constant value to be string but received float64",
        ),
        (
            json!({"orgID": org, "name": "x", "arguments": {"type": "query", "values": {"query": "x"}}}),
            "\"language\" key not present in VariableQueryArguments",
        ),
    ] {
        let (status, body) = make(body);
        assert_eq!((status, body["message"].as_str()), (400, Some(message)));
    }
    let (status, _) = make(json!({"orgID": org, "name": "host", "arguments": {"type": "constant", "values": []}}));
    assert_eq!(status, 422, "a name is unique in its org");

    let (_, list) = s.get(&format!("/api/v2/variables?orgID={org}"), TOKEN);
    assert_eq!(list["variables"].as_array().unwrap().len(), 3);
    let (status, patched) = s.patch(&format!("/api/v2/variables/{id}"), TOKEN, json!({"description": "hosts"}));
    assert_eq!((status, patched["description"].as_str(), patched["name"].as_str()), (200, Some("hosts"), Some("host")));
    assert_eq!(
        s.patch(&format!("/api/v2/variables/{id}"), TOKEN, json!({})).1["message"],
        "no fields supplied in update"
    );
    let (status, put) = s.call(
        reqwest::Method::PUT,
        &format!("/api/v2/variables/{id}"),
        Some(TOKEN),
        Some(json!({"orgID": org, "name": "hosts", "arguments": {"type": "constant", "values": ["x"]}})),
    );
    assert_eq!((status, put["name"].as_str(), put["description"].as_str()), (200, Some("hosts"), Some("")), "{put}");

    // Labels on a variable; deleting the label removes the mapping.
    let (_, label) = s.post(
        "/api/v2/labels",
        TOKEN,
        json!({"orgID": org, "name": "prod", "properties": {"color": "#ff0000", "description": "production"}}),
    );
    let label_id = label["label"]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.post(&format!("/api/v2/variables/{id}/labels"), TOKEN, json!({"labelID": label_id})).0, 201);
    let (_, v) = s.get(&format!("/api/v2/variables/{id}"), TOKEN);
    assert_eq!(v["labels"][0]["properties"]["color"], "#ff0000");
    assert_eq!(s.delete(&format!("/api/v2/labels/{label_id}"), TOKEN).0, 204);
    let (_, labels) = s.get(&format!("/api/v2/variables/{id}/labels"), TOKEN);
    assert_eq!(labels["labels"].as_array().unwrap().len(), 0);

    // Permissions: read-only cannot change; another org's token sees nothing.
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "variables", "orgID": org}}]));
    assert_eq!(s.get(&format!("/api/v2/variables/{id}"), &reader).0, 200);
    assert_eq!(s.delete(&format!("/api/v2/variables/{id}"), &reader).0, 401);
    assert_eq!(s.delete(&format!("/api/v2/variables/{id}"), TOKEN).0, 204);
    assert_eq!(s.get(&format!("/api/v2/variables/{id}"), TOKEN).0, 404);
}

#[test]
fn dashboards_cells_and_views() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, d) = s.post("/api/v2/dashboards", TOKEN, json!({"orgID": org, "name": "ops", "description": "d"}));
    assert_eq!(status, 201, "{d}");
    let id = d["id"].as_str().unwrap().to_owned();
    assert_eq!(d["cells"], json!([]));
    assert!(d["meta"]["createdAt"].is_string());
    assert_eq!(s.post("/api/v2/dashboards", TOKEN, json!({"orgID": org})).0, 400);

    // A cell gets an empty view, an empty note (2.7's `{"shape": "empty"}` is
    // outside oss.yml's ViewProperties); its view takes any of the spec's view types.
    let (status, cell) = s.post(
        &format!("/api/v2/dashboards/{id}/cells"),
        TOKEN,
        json!({"name": "cpu", "x": 0, "y": 0, "w": 4, "h": 3}),
    );
    assert_eq!(status, 201, "{cell}");
    let cell_id = cell["id"].as_str().unwrap().to_owned();
    assert_eq!(cell["viewID"], cell_id.as_str());
    let view_path = format!("/api/v2/dashboards/{id}/cells/{cell_id}/view");
    let (_, view) = s.get(&view_path, TOKEN);
    assert_eq!(view["name"], "cpu");
    assert_eq!(view["properties"], json!({"shape": "chronograf-v2", "type": "markdown", "note": ""}));
    for kind in [
        "xy",
        "single-stat",
        "gauge",
        "table",
        "markdown",
        "heatmap",
        "histogram",
        "scatter",
        "mosaic",
        "band",
        "geo",
        "check",
        "line-plus-single-stat",
    ] {
        let props = json!({"shape": "chronograf-v2", "type": kind, "queries": [{"text": "from(bucket: \"metrics\")", "editMode": "advanced"}], "note": "", "showNoteWhenEmpty": false});
        let (status, v) = s.patch(&view_path, TOKEN, json!({"properties": props}));
        assert_eq!((status, v["properties"]["type"].as_str()), (200, Some(kind)), "{v}");
    }
    let (status, bad) = s.patch(&view_path, TOKEN, json!({"properties": {"shape": "chronograf-v2", "type": "pie"}}));
    assert_eq!(status, 400, "{bad}");

    // A second cell copies the first one's view.
    let (_, second) =
        s.post(&format!("/api/v2/dashboards/{id}/cells"), TOKEN, json!({"x": 4, "w": 4, "h": 3, "usingView": cell_id}));
    let second_id = second["id"].as_str().unwrap().to_owned();
    let (_, copied) = s.get(&format!("/api/v2/dashboards/{id}/cells/{second_id}/view"), TOKEN);
    assert_eq!(copied["properties"]["type"], "line-plus-single-stat");

    // Position and size; include=properties; replacing all cells.
    let (status, moved) =
        s.patch(&format!("/api/v2/dashboards/{id}/cells/{second_id}"), TOKEN, json!({"y": 5, "h": 6}));
    assert_eq!(
        (status, moved["y"].as_i64(), moved["h"].as_i64(), moved["x"].as_i64()),
        (200, Some(5), Some(6), Some(4))
    );
    let (_, full) = s.get(&format!("/api/v2/dashboards/{id}?include=properties"), TOKEN);
    assert_eq!(full["cells"].as_array().unwrap().len(), 2);
    assert_eq!(full["cells"][1]["properties"]["type"], "line-plus-single-stat");
    let (status, replaced) = s.call(
        reqwest::Method::PUT,
        &format!("/api/v2/dashboards/{id}/cells"),
        Some(TOKEN),
        Some(json!([{"id": second_id, "x": 0, "y": 0, "w": 12, "h": 4}])),
    );
    assert_eq!(status, 201, "{replaced}");
    assert_eq!(replaced["cells"].as_array().unwrap().len(), 1);
    assert_eq!(s.get(&view_path, TOKEN).0, 404, "the dropped cell's view went with it");

    // Lists and filters.
    s.post("/api/v2/dashboards", TOKEN, json!({"orgID": org, "name": "b"}));
    let (_, list) = s.get(&format!("/api/v2/dashboards?orgID={org}&limit=1"), TOKEN);
    assert_eq!(list["dashboards"].as_array().unwrap().len(), 1);
    assert!(list["links"]["next"].is_string(), "{list}");
    let owner = setup["user"]["id"].as_str().unwrap();
    let (_, owned) = s.get(&format!("/api/v2/dashboards?owner={owner}"), TOKEN);
    assert_eq!(owned["dashboards"].as_array().unwrap().len(), 2);
    let (_, owners) = s.get(&format!("/api/v2/dashboards/{id}/owners"), TOKEN);
    assert_eq!(owners["users"][0]["id"], owner);

    // Read-only tokens read; deleting cascades to cells and views.
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "dashboards", "orgID": org}}]));
    assert_eq!(s.get(&format!("/api/v2/dashboards/{id}"), &reader).0, 200);
    assert_eq!(s.patch(&format!("/api/v2/dashboards/{id}"), &reader, json!({"name": "x"})).0, 401);
    assert_eq!(s.delete(&format!("/api/v2/dashboards/{id}"), TOKEN).0, 204);
    assert_eq!(s.get(&format!("/api/v2/dashboards/{id}/cells/{second_id}/view"), TOKEN).0, 404);
}

#[test]
fn telegraf_configs_are_served_as_toml_and_the_plugins_are_listed() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let config = "[agent]\n  interval = \"10s\"\n[[inputs.cpu]]\n[[outputs.influxdb_v2]]\n  urls = [\"http://localhost:8086\"]\n";
    let (status, t) = s.post(
        "/api/v2/telegrafs",
        TOKEN,
        json!({"orgID": org, "name": "edge agents", "description": "d", "metadata": {"buckets": ["metrics"]}, "config": config}),
    );
    assert_eq!(status, 201, "{t}");
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["metadata"]["buckets"], json!(["metrics"]));
    // As an agent fetches it (no Accept, or TOML): the TOML itself.
    let r = s.request(reqwest::Method::GET, &format!("/api/v2/telegrafs/{id}"), Some(TOKEN)).send().unwrap();
    assert_eq!(r.headers()["content-type"], "application/toml; charset=utf-8");
    assert_eq!(r.text().unwrap(), config);
    let r = s
        .request(reqwest::Method::GET, &format!("/api/v2/telegrafs/{id}"), Some(TOKEN))
        .header("Accept", "application/octet-stream")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"edge_agents.toml\"");
    let r = s
        .request(reqwest::Method::GET, &format!("/api/v2/telegrafs/{id}"), Some(TOKEN))
        .header("Accept", "application/json")
        .send()
        .unwrap();
    let j: Value = r.json().unwrap();
    assert_eq!(j["config"], config);
    let (status, put) = s.call(
        reqwest::Method::PUT,
        &format!("/api/v2/telegrafs/{id}"),
        Some(TOKEN),
        Some(json!({"orgID": org, "name": "renamed", "config": "[[inputs.mem]]\n"})),
    );
    assert_eq!((status, put["name"].as_str()), (200, Some("renamed")));
    let (_, list) = s.get(&format!("/api/v2/telegrafs?orgID={org}"), TOKEN);
    assert_eq!(list["configurations"].as_array().unwrap().len(), 1);
    let (_, owners) = s.get(&format!("/api/v2/telegrafs/{id}/owners"), TOKEN);
    assert_eq!(owners["users"].as_array().unwrap().len(), 1);
    assert_eq!(s.post("/api/v2/telegrafs", TOKEN, json!({"orgID": org, "config": "x"})).0, 400);
    assert_eq!(s.delete(&format!("/api/v2/telegrafs/{id}"), TOKEN).0, 204);

    let (status, plugins) = s.get("/api/v2/telegraf/plugins", TOKEN);
    assert_eq!(status, 200);
    let names: Vec<&str> = plugins["plugins"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for want in [
        "cpu",
        "disk",
        "diskio",
        "docker",
        "kubernetes",
        "mem",
        "net",
        "nginx",
        "prometheus",
        "redis",
        "system",
        "influxdb_v2",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let (_, inputs) = s.get("/api/v2/telegraf/plugins?type=input", TOKEN);
    assert!(inputs["plugins"].as_array().unwrap().iter().all(|p| p["type"] == "input"));
    assert!(inputs["plugins"][0]["config"].as_str().unwrap().contains("[[inputs."));
    assert_eq!(s.get("/api/v2/telegraf/plugins?type=nope", TOKEN).0, 400);
}

#[test]
fn scrapers_collect_a_prometheus_endpoint_into_a_bucket() {
    use std::io::{BufRead, BufReader, Write};
    let (s, setup) = TestServer::onboarded_with(&["--scraper-interval", "1s"]);
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    // A Prometheus endpoint on loopback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let body = "# TYPE jobs_total counter\njobs_total{queue=\"a\"} 12\n# TYPE temp gauge\ntemp 21.5\n\
                    # TYPE lat histogram\nlat_bucket{le=\"0.5\"} 3\nlat_bucket{le=\"+Inf\"} 4\nlat_sum 1.5\nlat_count 4\n";
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let mut out = conn;
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let (status, target) = s.post(
        "/api/v2/scrapers",
        TOKEN,
        json!({"name": "local", "type": "prometheus", "url": url, "orgID": org, "bucketID": bucket}),
    );
    assert_eq!(status, 201, "{target}");
    assert_eq!((target["org"].as_str(), target["bucket"].as_str()), (Some("acme"), Some("metrics")));
    let id = target["id"].as_str().unwrap().to_owned();
    // A broken target does not stop the others; oxiflux's own /metrics is a target too.
    s.post(
        "/api/v2/scrapers",
        TOKEN,
        json!({"name": "broken", "url": "http://127.0.0.1:1/metrics", "orgID": org, "bucketID": bucket}),
    );
    s.post(
        "/api/v2/scrapers",
        TOKEN,
        json!({"name": "self", "url": s.url("/metrics"), "orgID": org, "bucketID": bucket}),
    );

    let query = |q: &str| {
        s.request(reqwest::Method::POST, "/api/v2/query?org=acme", Some(TOKEN))
            .header("Content-Type", "application/vnd.flux")
            .body(q.to_owned())
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut csv = String::new();
    while std::time::Instant::now() < until {
        csv = query(
            "from(bucket: \"metrics\") |> range(start: -1h) |> last() |> keep(columns: [\"_measurement\", \"_field\", \"_value\", \"queue\"])",
        );
        if csv.contains("lat") && csv.contains("jobs_total") && csv.contains("influxdb_uptime_seconds") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    for row in
        [",counter,jobs_total,a", ",21.5,gauge,temp", ",3,0.5,lat", ",4,+Inf,lat", ",1.5,sum,lat", ",4,count,lat"]
    {
        assert!(csv.contains(row), "{row} missing:\n{csv}");
    }
    assert!(csv.contains(",12,counter,jobs_total,a"), "{csv}");
    assert!(csv.contains(",gauge,influxdb_uptime_seconds"), "{csv}");

    let (status, patched) = s.patch(&format!("/api/v2/scrapers/{id}"), TOKEN, json!({"name": "renamed"}));
    assert_eq!((status, patched["name"].as_str(), patched["url"].as_str()), (200, Some("renamed"), Some(url.as_str())));
    assert_eq!(s.patch(&format!("/api/v2/scrapers/{id}"), TOKEN, json!({"url": "ftp://x"})).0, 400);
    let (_, list) = s.get(&format!("/api/v2/scrapers?orgID={org}"), TOKEN);
    assert_eq!(list["configurations"].as_array().unwrap().len(), 3);
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "scrapers", "orgID": org}}]));
    assert_eq!(s.delete(&format!("/api/v2/scrapers/{id}"), &reader).0, 401);
    assert_eq!(s.delete(&format!("/api/v2/scrapers/{id}"), TOKEN).0, 204);
}

#[test]
fn the_python_client_manages_dashboards_and_labels() {
    let (s, _) = TestServer::onboarded();
    crate::python_client::run_client_script(
        &s,
        "dashboards_client.py",
        &["labels ok", "dashboards ok", "cells ok", "dashboard labels ok"],
    );
}

#[test]
fn members_may_read_and_owners_may_change_what_they_are_mapped_to() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (_, d) = s.post("/api/v2/dashboards", TOKEN, json!({"orgID": org, "name": "shared"}));
    let dash = d["id"].as_str().unwrap().to_owned();
    let (_, t) = s.post("/api/v2/telegrafs", TOKEN, json!({"orgID": org, "name": "t", "config": "[[inputs.cpu]]\n"}));
    let telegraf = t["id"].as_str().unwrap().to_owned();
    // Bob belongs to no org: only his mappings give him anything.
    let (_, bob) = s.post("/api/v2/users", TOKEN, json!({"name": "bob"}));
    let bob_id = bob["id"].as_str().unwrap().to_owned();
    s.call(
        reqwest::Method::POST,
        &format!("/api/v2/users/{bob_id}/password"),
        Some(TOKEN),
        Some(json!({"password": "bobpassword1"})),
    );
    let client = reqwest::blocking::Client::builder().cookie_store(true).build().unwrap();
    let r = client.post(s.url("/api/v2/signin")).basic_auth("bob", Some("bobpassword1")).send().unwrap();
    assert_eq!(r.status(), 204);
    let get = |path: &str| client.get(s.url(path)).send().unwrap().status().as_u16();
    let patch = |path: &str, body: Value| client.patch(s.url(path)).json(&body).send().unwrap().status().as_u16();
    assert_eq!(get(&format!("/api/v2/dashboards/{dash}")), 401);

    assert_eq!(s.post(&format!("/api/v2/dashboards/{dash}/members"), TOKEN, json!({"id": bob_id})).0, 201);
    assert_eq!(get(&format!("/api/v2/dashboards/{dash}")), 200, "a member reads");
    assert_eq!(patch(&format!("/api/v2/dashboards/{dash}"), json!({"name": "x"})), 401, "but does not write");
    assert_eq!(s.post(&format!("/api/v2/dashboards/{dash}/owners"), TOKEN, json!({"id": bob_id})).0, 201);
    assert_eq!(patch(&format!("/api/v2/dashboards/{dash}"), json!({"name": "x"})), 200, "an owner writes");
    let (_, members) = s.get(&format!("/api/v2/dashboards/{dash}/owners"), TOKEN);
    assert!(members["users"].as_array().unwrap().iter().any(|u| u["id"] == bob_id.as_str()));
    assert_eq!(s.delete(&format!("/api/v2/dashboards/{dash}/owners/{bob_id}"), TOKEN).0, 204);
    assert_eq!(get(&format!("/api/v2/dashboards/{dash}")), 401);

    assert_eq!(s.post(&format!("/api/v2/telegrafs/{telegraf}/members"), TOKEN, json!({"id": bob_id})).0, 201);
    assert_eq!(get(&format!("/api/v2/telegrafs/{telegraf}")), 200);
}

#[test]
fn another_orgs_token_sees_none_of_these_resources() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let (_, d) = s.post("/api/v2/dashboards", TOKEN, json!({"orgID": org, "name": "d"}));
    let (_, v) = s.post(
        "/api/v2/variables",
        TOKEN,
        json!({"orgID": org, "name": "v", "arguments": {"type": "constant", "values": []}}),
    );
    let (_, t) = s.post("/api/v2/telegrafs", TOKEN, json!({"orgID": org, "name": "t", "config": ""}));
    let (_, sc) = s.post(
        "/api/v2/scrapers",
        TOKEN,
        json!({"name": "s", "url": "http://127.0.0.1:1/metrics", "orgID": org, "bucketID": bucket}),
    );
    let (status, other) = s.post("/api/v2/orgs", TOKEN, json!({"name": "other"}));
    assert_eq!(status, 201, "{other}");
    let other_id = other["id"].as_str().unwrap();
    let all_read: Vec<Value> = ["dashboards", "variables", "telegrafs", "scrapers"]
        .iter()
        .map(|t| json!({"action": "read", "resource": {"type": t, "orgID": other_id}}))
        .collect();
    let (stranger, _) = s.make_token(other_id, json!(all_read));
    for (path, key) in [
        ("/api/v2/dashboards", "dashboards"),
        ("/api/v2/variables", "variables"),
        ("/api/v2/telegrafs", "configurations"),
        ("/api/v2/scrapers", "configurations"),
    ] {
        let (status, list) = s.get(path, &stranger);
        assert_eq!((status, list[key].as_array().map(Vec::len)), (200, Some(0)), "{path}: {list}");
    }
    for (path, id) in [("dashboards", &d), ("variables", &v), ("telegrafs", &t), ("scrapers", &sc)] {
        let url = format!("/api/v2/{path}/{}", id["id"].as_str().unwrap());
        let status = s
            .request(reqwest::Method::GET, &url, Some(&stranger))
            .header("Accept", "application/json")
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 401, "{url}");
    }
}
