//! Applying templates: every kind made as the API makes it, dry runs,
//! faults with their place, all-or-nothing, remote and Jsonnet templates.

use serde_json::{Value, json};

use super::{EVERYTHING, apply, inventory, request, serve, states};
use crate::server::{TOKEN, TestServer, org_id};

fn find<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|x| x["name"] == name).unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn every_kind_applies_as_the_api_makes_it_and_again_changes_nothing() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let (status, first) = apply(&s, request(&org, EVERYTHING));
    assert_eq!(status, 201, "{first}");
    assert!(states(&first).iter().all(|(_, _, st)| st == "new"), "{:?}", states(&first));
    assert_eq!(states(&first).len(), 15);
    assert_eq!(first["summary"]["missingSecrets"], json!(["hook-token"]));
    assert_eq!(first["summary"]["missingEnvRefs"], json!([]));
    assert_eq!(first["summary"]["labelMappings"].as_array().unwrap().len(), 6);

    // Each resource is there, as its API shows it.
    let (_, buckets) = s.get(&format!("/api/v2/buckets?orgID={org}&name=team-metrics"), TOKEN);
    let bucket = &buckets["buckets"][0];
    assert_eq!(bucket["retentionRules"][0]["everySeconds"], 2_592_000);
    assert_eq!(bucket["labels"][0]["name"], "team");
    let (_, tasks) = s.get(&format!("/api/v2/tasks?orgID={org}"), TOKEN);
    let task = find(&tasks["tasks"], "downsample");
    assert_eq!(
        (task["every"].as_str(), task["offset"].as_str(), task["status"].as_str()),
        (Some("1h0m0s"), Some("5m"), Some("active"))
    );
    assert!(
        task["flux"]
            .as_str()
            .unwrap()
            .starts_with("import \"strings\"\n\noption task = { name: \"downsample\", every: 1h0m0s, offset: 5m0s }")
    );
    let (_, checks) = s.get(&format!("/api/v2/checks?orgID={org}"), TOKEN);
    let cpu = find(&checks["checks"], "CPU high");
    assert_eq!(
        cpu["thresholds"][1],
        json!({"type": "range", "level": "OK", "min": 0.0, "max": 50.0, "within": true, "allValues": false})
    );
    assert!(cpu["taskID"].as_str().is_some_and(|t| !t.is_empty()), "a check is scheduled by its task: {cpu}");
    assert_eq!(find(&checks["checks"], "Host silent")["staleTime"], "10m0s");
    let (_, endpoints) = s.get(&format!("/api/v2/notificationEndpoints?orgID={org}"), TOKEN);
    let hook = find(&endpoints["notificationEndpoints"], "hook");
    assert_eq!((hook["authMethod"].as_str(), hook["token"].as_str()), (Some("bearer"), Some("secret: hook-token")));
    let (_, rules) = s.get(&format!("/api/v2/notificationRules?orgID={org}"), TOKEN);
    let rule = find(&rules["notificationRules"], "crit to hook");
    assert_eq!((rule["endpointID"].as_str(), rule["type"].as_str()), (hook["id"].as_str(), Some("http")));
    assert_eq!(find(&rules["notificationRules"], "warn to slack")["channel"], "#ops");
    let (_, dashboards) = s.get(&format!("/api/v2/dashboards?orgID={org}"), TOKEN);
    let id = find(&dashboards["dashboards"], "Overview")["id"].as_str().unwrap().to_owned();
    let (_, dash) = s.get(&format!("/api/v2/dashboards/{id}?include=properties"), TOKEN);
    let mut types: Vec<&str> =
        dash["cells"].as_array().unwrap().iter().map(|c| c["properties"]["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "band",
            "gauge",
            "geo",
            "heatmap",
            "histogram",
            "line-plus-single-stat",
            "markdown",
            "mosaic",
            "scatter",
            "single-stat",
            "table",
            "xy"
        ]
    );
    let stat = dash["cells"].as_array().unwrap().iter().find(|c| c["name"] == "now").unwrap();
    assert_eq!((stat["x"].as_i64(), stat["w"].as_i64(), stat["h"].as_i64()), (Some(6), Some(2), Some(3)));
    assert_eq!(stat["properties"]["decimalPlaces"], json!({"isEnforced": true, "digits": 1}));
    let (_, vars) = s.get(&format!("/api/v2/variables?orgID={org}"), TOKEN);
    assert_eq!(find(&vars["variables"], "region")["arguments"]["values"]["Hilo, HI"], "us");
    assert_eq!(find(&vars["variables"], "host")["selected"], json!(["a"]));

    // The same template again: everything is found and nothing is made or changed.
    let before = inventory(&s, &org);
    let (status, again) = apply(&s, request(&org, EVERYTHING));
    assert_eq!(status, 201, "{again}");
    assert!(states(&again).iter().all(|(_, _, st)| st == "exists"), "{:?}", states(&again));
    let mappings = again["diff"]["labelMappings"].as_array().unwrap();
    assert!(mappings.iter().all(|m| m["stateStatus"] == "exists"), "{mappings:?}");
    assert_eq!(inventory(&s, &org), before);
    assert_eq!(again["summary"]["dashboards"][0]["id"], first["summary"]["dashboards"][0]["id"]);
    let (_, task_again) = s.get(&format!("/api/v2/tasks/{}", task["id"].as_str().unwrap()), TOKEN);
    assert_eq!(task_again["updatedAt"], task["updatedAt"], "an unchanged task is not written");
}

#[test]
fn a_dry_run_answers_the_diff_and_makes_nothing() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let before = inventory(&s, &org);
    let mut body = request(&org, EVERYTHING);
    body["dryRun"] = json!(true);
    let (status, answer) = apply(&s, body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["stackID"], "");
    assert_eq!(states(&answer).len(), 15);
    assert!(answer["diff"]["buckets"][0]["id"] == 0 && answer["diff"]["buckets"][0]["new"]["name"] == "team-metrics");
    assert_eq!(inventory(&s, &org), before);
    let (_, stacks) = s.get(&format!("/api/v2/stacks?orgID={org}"), TOKEN);
    assert_eq!(stacks["stacks"], json!([]));
}

#[test]
fn a_faulty_template_is_refused_with_every_fault_in_its_place() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let before = inventory(&s, &org);
    let yaml = "apiVersion: influxdata.com/v2alpha1\nkind: Label\nmetadata: {name: fine-label}\n---\n\
        apiVersion: influxdata.com/v2alpha1\nkind: Dashboard\nmetadata: {name: broken}\nspec:\n  charts:\n\
        \x20   - {kind: Xy, width: 2, height: 2, geom: line, axes: [{name: x}, {name: y}]}\n\
        \x20   - {kind: Gauge, width: 2, height: 2, colors: [{type: min, hex: '#000'}]}\n\
        \x20 associations: [{kind: Label, name: missing-label}]\n---\n\
        apiVersion: influxdata.com/v2alpha1\nkind: Widget\nmetadata: {name: w}\n";
    let (status, answer) = apply(&s, json!({"orgID": org, "template": {"contentType": "yaml", "contents": yaml}}));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "unprocessable entity");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains(r#"kind=Dashboard field=root[1].spec.charts[1].colors reason="type not found: \"max\"""#),
        "{message}"
    );
    assert!(
        message.contains(
            r#"kind=Dashboard field=root[1].associations[0] reason="label \"missing-label\" does not exist in pkg""#
        ),
        "{message}"
    );
    assert!(message.contains(r#"kind=Widget field=root[2].kind reason="unsupported kind provided""#), "{message}");
    assert_eq!(
        answer["errors"][0],
        json!({"kind": "Dashboard", "fields": ["root", "spec", "charts", "colors"], "idxs": [1, null, 1, null], "reason": "type not found: \"max\""})
    );
    assert_eq!(inventory(&s, &org), before, "nothing of a faulty template is made");

    let (status, answer) =
        apply(&s, json!({"orgID": org, "template": {"contentType": "yaml", "contents": "kind: [unclosed"}}));
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("template[0] from source(s) \"\" had an issue: unable to unmarshal yaml"),
        "{answer}"
    );
    let (status, answer) = apply(&s, json!({"orgID": "nope", "template": {"contents": []}}));
    assert_eq!((status, answer["message"].as_str()), (400, Some("invalid organization ID provided: \"nope\"")));
}

#[test]
fn a_resource_that_fails_rolls_back_what_the_apply_made() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let before = inventory(&s, &org);
    // The task's script does not parse: the tasks API refuses it, after the label and bucket were made.
    let yaml = "apiVersion: influxdata.com/v2alpha1\nkind: Label\nmetadata: {name: doomed-label}\n---\n\
        apiVersion: influxdata.com/v2alpha1\nkind: Bucket\nmetadata: {name: doomed-bucket}\n\
        spec: {associations: [{kind: Label, name: doomed-label}]}\n---\n\
        apiVersion: influxdata.com/v2alpha1\nkind: Task\nmetadata: {name: bad-task}\nspec: {every: 1h, query: 'from(bucket: '}\n";
    let (status, answer) = apply(&s, json!({"orgID": org, "template": {"contentType": "yaml", "contents": yaml}}));
    assert!(status == 400 || status == 422, "{status} {answer}");
    assert!(answer["message"].as_str().unwrap().contains("metadata_name=\"bad-task\""), "{answer}");
    assert_eq!(inventory(&s, &org), before, "the label and bucket are gone again");
    let (_, stacks) = s.get(&format!("/api/v2/stacks?orgID={org}"), TOKEN);
    assert_eq!(stacks["stacks"], json!([]), "the apply's stack is gone too");
}

#[test]
fn a_token_that_may_not_write_a_kind_applies_nothing() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let before = inventory(&s, &org);
    let (token, _) = s.make_token(
        &org,
        json!([
            {"action": "read", "resource": {"type": "orgs", "id": org}},
            {"action": "write", "resource": {"type": "labels", "orgID": org}},
            {"action": "read", "resource": {"type": "labels", "orgID": org}},
            {"action": "read", "resource": {"type": "buckets", "orgID": org}},
        ]),
    );
    let yaml = "apiVersion: influxdata.com/v2alpha1\nkind: Label\nmetadata: {name: allowed-label}\n---\n\
        apiVersion: influxdata.com/v2alpha1\nkind: Bucket\nmetadata: {name: forbidden-bucket}\n";
    let (status, answer) = s.post(
        "/api/v2/templates/apply",
        &token,
        json!({"orgID": org, "template": {"contentType": "yaml", "contents": yaml}}),
    );
    assert_eq!(status, 401, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("write:orgs/"), "{answer}");
    assert_eq!(inventory(&s, &org), before);
}

#[test]
fn templates_come_by_url_or_as_jsonnet() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let url = serve("apiVersion: influxdata.com/v2alpha1\nkind: Label\nmetadata: {name: remote-label}\n");
    let (status, answer) = apply(&s, json!({"orgID": org, "remotes": [{"url": format!("{url}/t.yml")}]}));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["sources"], json!([format!("{url}/t.yml")]));
    assert_eq!(answer["summary"]["labels"][0]["name"], "remote-label");

    for (path, says) in [("/status/503", "status_code=503"), ("/huge", "more than the")] {
        let (status, answer) = apply(&s, json!({"orgID": org, "remotes": [{"url": format!("{url}{path}")}]}));
        assert_eq!(status, 422, "{answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{path}: {answer}");
    }
    let (status, answer) = apply(&s, json!({"orgID": org, "remotes": [{"url": "http://127.0.0.1:1/t.yml"}]}));
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = apply(&s, json!({"orgID": org, "remotes": [{"url": "file:///etc/passwd"}]}));
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("only http and https"), "{answer}");

    let jsonnet = "local label(n) = { apiVersion: 'influxdata.com/v2alpha1', kind: 'Label', metadata: { name: n } };\n\
        [label('jsonnet-%d' % i) for i in [1, 2]]";
    let (status, answer) =
        apply(&s, json!({"orgID": org, "template": {"contentType": "jsonnet", "contents": jsonnet}}));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["summary"]["labels"].as_array().unwrap().len(), 2);
}

#[test]
fn actions_skip_kinds_and_resources() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let mut body = request(&org, EVERYTHING);
    body["dryRun"] = json!(true);
    body["actions"] = json!([
        {"action": "skipKind", "properties": {"kind": "Dashboard"}},
        {"action": "skipResource", "properties": {"kind": "Bucket", "resourceTemplateName": "metrics-bucket"}},
    ]);
    let (status, answer) = apply(&s, body.clone());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["diff"]["dashboards"], json!([]));
    assert_eq!(answer["diff"]["buckets"], json!([]));
    assert_eq!(answer["diff"]["tasks"].as_array().unwrap().len(), 1);
    body["actions"] = json!([{"action": "skipAll", "properties": {"kind": "Bucket"}}]);
    let (status, answer) = apply(&s, body);
    assert_eq!(status, 400, "{answer}");
}

/// A task's `option params` is set from the apply's env values (else left as
/// written), the summary names each parameter, and a run of the task reads
/// the bucket given.
#[test]
fn a_tasks_params_come_from_env_refs() {
    let (s, setup) = TestServer::onboarded();
    let org = org_id(&setup);
    let query = "option params = {bucket: \"acme-bucket\", every: 1h}\n\n\
                 from(bucket: params.bucket) |> range(start: -params.every) |> count()";
    let yaml = format!(
        "apiVersion: influxdata.com/v2alpha1\nkind: Task\nmetadata:\n  name: counter\nspec:\n  every: 1h\n  query: {}\n",
        serde_json::to_string(query).unwrap()
    );
    let body = json!({
        "orgID": org,
        "envRefs": { "tasks[counter].spec.params.bucket": "given-bucket" },
        "template": { "contentType": "yaml", "contents": yaml },
    });
    let (status, answer) = apply(&s, body);
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["summary"]["missingEnvRefs"], json!(["tasks[counter].spec.params.every"]));
    let refs = &answer["summary"]["summaryTask"][0]["envReferences"];
    let bucket = refs.as_array().unwrap().iter().find(|r| r["resourceField"] == "spec.params.bucket").unwrap();
    assert_eq!((&bucket["value"], &bucket["defaultValue"]), (&json!("given-bucket"), &json!("acme-bucket")), "{refs}");
    let (_, tasks) = s.get(&format!("/api/v2/tasks?orgID={org}"), TOKEN);
    let flux = tasks["tasks"][0]["flux"].as_str().unwrap();
    assert!(flux.contains("option params = {bucket: \"given-bucket\", every: 1h}"), "{flux}");
    assert!(flux.contains("option task = { name: \"counter\", every: 1h0m0s }"), "{flux}");
    let task = tasks["tasks"][0]["id"].as_str().unwrap();
    let (status, run) = s.post(&format!("/api/v2/tasks/{task}/runs"), TOKEN, json!({}));
    assert_eq!(status, 201, "{run}");
    let run = run["id"].as_str().unwrap();
    for _ in 0..100 {
        let (_, r) = s.get(&format!("/api/v2/tasks/{task}/runs/{run}"), TOKEN);
        if r["status"] == "failed" {
            let (_, logs) = s.get(&format!("/api/v2/tasks/{task}/runs/{run}/logs"), TOKEN);
            assert!(logs.to_string().contains("could not find bucket \\\"given-bucket\\\""), "{logs}");
            return;
        }
        assert_ne!(r["status"], "success", "{r}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the run did not finish");
}
