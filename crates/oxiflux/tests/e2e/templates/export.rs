//! Exporting: a stack, an org's resources by kind and label, or resources
//! by ID, written as a template that applies again to the same resources.

use serde_json::{Value, json};

use super::{EVERYTHING, apply, inventory, request};
use crate::server::{TOKEN, TestServer, org_id};

fn export(s: &TestServer, body: Value) -> Value {
    let (status, v) = s.post("/api/v2/templates/export", TOKEN, body);
    assert_eq!(status, 200, "{v}");
    v
}

/// The dashboards of an org with their cells' view types, sorted, to compare.
fn dashboards(s: &TestServer, org: &str) -> Vec<(String, Vec<String>)> {
    let (_, list) = s.get(&format!("/api/v2/dashboards?orgID={org}"), TOKEN);
    let mut out: Vec<(String, Vec<String>)> = list["dashboards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let (_, full) =
                s.get(&format!("/api/v2/dashboards/{}?include=properties", d["id"].as_str().unwrap()), TOKEN);
            let mut cells: Vec<String> = full["cells"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!("{} {} {} {} {} {}", c["properties"]["type"], c["name"], c["x"], c["y"], c["w"], c["h"])
                })
                .collect();
            cells.sort();
            (d["name"].as_str().unwrap().to_owned(), cells)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn an_export_applies_to_an_empty_org_as_the_same_resources() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, first) = apply(&s, request(&org, EVERYTHING));
    assert_eq!(status, 201, "{first}");
    let stack = first["stackID"].as_str().unwrap();
    let objects = export(&s, json!({"stackID": stack}));
    let objects = objects.as_array().unwrap();
    assert_eq!(objects.len(), 15);
    assert_eq!(objects[0]["kind"], "Label", "labels come first, as 2.7 orders an export");
    assert!(objects.iter().any(|o| o["metadata"]["name"] == "overview-dashboard"), "a stack's export keeps its names");
    let rule = objects.iter().find(|o| o["metadata"]["name"] == "crit-rule").unwrap();
    assert_eq!(rule["spec"]["endpointName"], "hook-endpoint");
    let hook = objects.iter().find(|o| o["metadata"]["name"] == "hook-endpoint").unwrap();
    assert_eq!(hook["spec"]["token"], json!({"secretRef": {"key": "hook-token"}}));

    let (_, other) = s.post("/api/v2/orgs", TOKEN, json!({"name": "copy"}));
    let copy = other["id"].as_str().unwrap();
    let (status, applied) = apply(&s, json!({"orgID": copy, "template": {"contentType": "json", "contents": objects}}));
    assert_eq!(status, 201, "{applied}");
    let strip = |inv: Vec<(&'static str, Vec<String>)>| -> Vec<(&'static str, Vec<String>)> {
        // The copy has no `metrics` bucket of its own setup.
        inv.into_iter()
            .map(|(k, mut v)| {
                v.retain(|n| !n.starts_with('_') && n != "metrics");
                (k, v)
            })
            .collect()
    };
    assert_eq!(strip(inventory(&s, copy)), strip(inventory(&s, &org)));
    assert_eq!(dashboards(&s, copy), dashboards(&s, &org));

    // The org's export, by kind and by label; in YAML when asked.
    let by_kind = export(&s, json!({"orgIDs": [{"orgID": org, "resourceFilters": {"byResourceKind": ["Bucket"]}}]}));
    let kinds: Vec<&str> = by_kind.as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Label", "Bucket", "Bucket"], "both buckets, with the label one carries");
    let by_label = export(
        &s,
        json!({"orgIDs": [{"orgID": org, "resourceFilters": {"byLabel": ["team"], "byResourceKind": ["Task", "Dashboard"]}}]}),
    );
    let kinds: Vec<&str> = by_label.as_array().unwrap().iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Label", "Task", "Dashboard"]);
    let task = &by_label[1]["spec"];
    assert_eq!((task["every"].as_str(), task["offset"].as_str()), (Some("1h0m0s"), Some("5m")));
    assert!(!task["query"].as_str().unwrap().contains("option task"), "{task}");

    let (_, b) = s.get(&format!("/api/v2/buckets?orgID={org}&name=team-metrics"), TOKEN);
    let bucket = b["buckets"][0]["id"].as_str().unwrap();
    let r = s
        .request(reqwest::Method::POST, "/api/v2/templates/export", Some(TOKEN))
        .header("Accept", "application/x-yaml")
        .json(&json!({"resources": [{"kind": "Bucket", "id": bucket, "name": "renamed-metrics"}]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-yaml");
    let yaml = r.text().unwrap();
    assert!(yaml.starts_with("---\napiVersion: influxdata.com/v2alpha1\nkind: Label\n"), "{yaml}");
    let (status, dry) =
        apply(&s, json!({"orgID": copy, "dryRun": true, "template": {"contentType": "yaml", "contents": yaml}}));
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        dry["diff"]["buckets"][0]["new"]["name"], "renamed-metrics",
        "a name given with an ID renames the export"
    );
    assert_eq!(dry["diff"]["labels"][0]["stateStatus"], "exists", "the copy's label of that name is found");

    let (status, v) = s.post("/api/v2/templates/export", TOKEN, json!({}));
    assert_eq!(
        (status, v["message"].as_str()),
        (422, Some("at least 1 resource, 1 org id, or stack id must be provided"))
    );
}
