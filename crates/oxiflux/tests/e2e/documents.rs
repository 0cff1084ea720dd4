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

    // A cell gets an empty view; its view takes any of the spec's view types.
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
    assert_eq!((view["name"].as_str(), view["properties"]["shape"].as_str()), (Some("cpu"), Some("empty")));
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
