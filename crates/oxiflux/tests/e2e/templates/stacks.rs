//! Stacks: what each apply installed, its history, an apply with a stack
//! that removes what the template dropped, uninstall and delete.

use serde_json::{Value, json};

use super::{EVERYTHING, apply, inventory, request, states};
use crate::server::{TOKEN, TestServer, org_id};

fn stack(s: &TestServer, id: &str) -> Value {
    let (status, v) = s.get(&format!("/api/v2/stacks/{id}"), TOKEN);
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn a_stack_is_made_listed_changed_and_deleted() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, made) =
        s.post("/api/v2/stacks", TOKEN, json!({"orgID": org, "name": "ops", "description": "d", "urls": []}));
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    assert_eq!((made["eventType"].as_str(), made["name"].as_str()), (Some("create"), Some("ops")));
    let (_, other) = s.post("/api/v2/stacks", TOKEN, json!({"orgID": org, "name": "other"}));
    let (_, by_name) = s.get(&format!("/api/v2/stacks?orgID={org}&name=ops"), TOKEN);
    assert_eq!(by_name["stacks"].as_array().unwrap().len(), 1);
    let (_, by_id) =
        s.get(&format!("/api/v2/stacks?orgID={org}&stackID={}&stackID={id}", other["id"].as_str().unwrap()), TOKEN);
    assert_eq!(by_id["stacks"].as_array().unwrap().len(), 2);

    let (status, label) = s.post("/api/v2/labels", TOKEN, json!({"orgID": org, "name": "adopted"}));
    assert_eq!(status, 201);
    let label_id = label["label"]["id"].as_str().unwrap();
    let (status, patched) = s.patch(
        &format!("/api/v2/stacks/{id}"),
        TOKEN,
        json!({"name": "ops2", "additionalResources": [{"resourceID": label_id, "kind": "Label", "templateMetaName": "adopted-label"}]}),
    );
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["events"].as_array().unwrap().len(), 2);
    assert_eq!(patched["name"], "ops2");
    assert_eq!(
        patched["resources"],
        json!([{"apiVersion": "influxdata.com/v2alpha1", "resourceID": label_id, "kind": "Label", "templateMetaName": "adopted-label",
                "associations": [], "links": {"self": format!("/api/v2/labels/{label_id}")}}])
    );

    // Another org's token sees none of it.
    let (_, other_org) = s.post("/api/v2/orgs", TOKEN, json!({"name": "elsewhere"}));
    let other_org = other_org["id"].as_str().unwrap().to_owned();
    let (token, _) = s.make_token(&other_org, json!([{"action": "read", "resource": {"type": "orgs", "id": other_org}}, {"action": "write", "resource": {"type": "orgs", "id": other_org}}]));
    let (status, _) = s.get(&format!("/api/v2/stacks/{id}"), &token);
    assert_eq!(status, 401);
    let (status, _) = s.get(&format!("/api/v2/stacks?orgID={org}"), &token);
    assert_eq!(status, 401);
    let (status, v) = s.delete(&format!("/api/v2/stacks/{id}?orgID={other_org}"), &token);
    assert_eq!((status, v["code"].as_str()), (422, Some("conflict")));

    let (status, _) = s.delete(&format!("/api/v2/stacks/{id}?orgID={org}"), TOKEN);
    assert_eq!(status, 204);
    let (status, _) = s.get(&format!("/api/v2/stacks/{id}"), TOKEN);
    assert_eq!(status, 404);
    let (status, _) = s.get(&format!("/api/v2/labels/{label_id}"), TOKEN);
    assert_eq!(status, 404, "deleting a stack removes what it holds");
    let (status, _) = s.delete(&format!("/api/v2/stacks/{id}?orgID={org}"), TOKEN);
    assert_eq!(status, 204, "deleting a deleted stack is no failure, as in 2.7");
}

#[test]
fn applying_a_smaller_template_to_a_stack_removes_what_it_dropped_and_uninstall_empties_it() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let before = inventory(&s, &org);
    let (status, first) = apply(&s, request(&org, EVERYTHING));
    assert_eq!(status, 201, "{first}");
    let id = first["stackID"].as_str().unwrap().to_owned();
    let st = stack(&s, &id);
    assert_eq!(st["eventType"], "update");
    assert_eq!(st["sources"], json!(["everything.yml"]));
    assert_eq!(st["resources"].as_array().unwrap().len(), 15);
    let rule = st["resources"].as_array().unwrap().iter().find(|r| r["templateMetaName"] == "crit-rule").unwrap();
    assert_eq!(rule["associations"], json!([{"kind": "NotificationEndpoint", "metaName": "hook-endpoint"}]));

    // Only the label and the bucket, the bucket no longer labelled.
    let smaller = "apiVersion: influxdata.com/v2alpha1\nkind: Label\nmetadata: {name: team-label}\nspec: {name: team, color: '#326BBA', description: owned by the team}\n---\n\
        apiVersion: influxdata.com/v2alpha1\nkind: Bucket\nmetadata: {name: metrics-bucket}\n\
        spec: {name: team-metrics, description: the team's metrics, retentionRules: [{type: expire, everySeconds: 2592000}]}\n";
    let mut body = request(&org, smaller);
    body["stackID"] = json!(id);
    body["dryRun"] = json!(true);
    let (status, dry) = apply(&s, body.clone());
    assert_eq!(status, 200, "{dry}");
    let removed: Vec<_> = states(&dry).into_iter().filter(|(_, _, st)| st == "remove").collect();
    assert_eq!(removed.len(), 13, "{removed:?}");
    body["dryRun"] = json!(false);
    let (status, applied) = apply(&s, body);
    assert_eq!(status, 201, "{applied}");
    assert_eq!(applied["stackID"], id.as_str());
    let now = inventory(&s, &org);
    let get = |k: &str| now.iter().find(|(n, _)| *n == k).unwrap().1.clone();
    assert_eq!(get("dashboards"), Vec::<String>::new());
    assert_eq!(get("checks"), Vec::<String>::new());
    assert_eq!(get("notificationEndpoints"), Vec::<String>::new());
    assert_eq!(get("labels"), ["team"]);
    let (_, b) = s.get(&format!("/api/v2/buckets?orgID={org}&name=team-metrics"), TOKEN);
    assert_eq!(b["buckets"][0]["labels"], json!([]), "the dropped association is removed");
    let st = stack(&s, &id);
    assert_eq!(st["resources"].as_array().unwrap().len(), 2);
    assert_eq!(st["events"].as_array().unwrap().len(), 3);

    let (status, un) = s.post(&format!("/api/v2/stacks/{id}/uninstall?orgID={org}"), TOKEN, json!({}));
    assert_eq!(status, 200, "{un}");
    assert_eq!((un["eventType"].as_str(), un["resources"].clone()), (Some("uninstall"), json!([])));
    assert_eq!(inventory(&s, &org), before, "uninstall leaves the org as it was before the first apply");
}
