//! Every operation the route table serves, called on a live server and its
//! answer held to oss.yml: the status is one the operation documents, the
//! content type is the documented one, and a JSON body validates against its
//! schema (the `jsonschema` crate). Then each operation that takes a JSON
//! body is sent bodies that break its schema (not an object, a required field
//! missing, a field of the wrong type, an enum value the spec lacks), which
//! must be refused with 400 and InfluxDB's code `invalid`, never 2xx nor 5xx;
//! and a malformed ID in a path is 400 `invalid` too. Operations the table lists as
//! waiting must answer 404, so the table cannot drift from the server.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};
use server::operations::{OPERATIONS, Operation, Served};

use crate::openapi::{Documented, Spec};
use crate::server::{PASSWORD, TOKEN, TestServer, org_id};

/// The objects the operations are called on, made first.
struct Fixtures {
    ids: HashMap<&'static str, String>,
    /// A backup of the fixtures, for the restore operations.
    backup: crate::backup::Backup,
}

impl Fixtures {
    fn id(&self, key: &str) -> &str {
        self.ids.get(key).unwrap_or_else(|| panic!("no fixture {key}"))
    }
}

/// A threshold check on the schema bucket.
fn check_body(org: &str, name: &str) -> Value {
    json!({
        "type": "threshold", "name": name, "orgID": org, "status": "active", "every": "1h",
        "statusMessageTemplate": "m", "tags": [],
        "query": {"text": "from(bucket: \"schema\") |> range(start: -1h) |> filter(fn: (r) => r._field == \"v\")"},
        "thresholds": [{"type": "greater", "level": "CRIT", "value": 1}],
    })
}

/// A Slack endpoint with a token.
fn endpoint_body(org: &str, name: &str) -> Value {
    json!({"type": "slack", "name": name, "orgID": org, "status": "active", "url": "http://127.0.0.1:9/slack", "token": "t"})
}

/// A Slack rule on crit statuses.
fn rule_body(org: &str, name: &str, endpoint: &str) -> Value {
    json!({"type": "slack", "name": name, "orgID": org, "status": "active", "every": "1h", "endpointID": endpoint,
        "messageTemplate": "m", "channel": "c", "statusRules": [{"currentLevel": "CRIT"}], "tagRules": []})
}

fn created(s: &TestServer, path: &str, body: Value) -> Value {
    let (status, got) = s.post(path, TOKEN, body);
    assert!(status == 201 || status == 200, "POST {path}: {status} {got}");
    got
}

fn make_fixtures(s: &TestServer, setup: &Value) -> Fixtures {
    let org = org_id(setup);
    let mut ids: HashMap<&'static str, String> = HashMap::new();
    let id = |v: &Value| v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned();
    ids.insert("acme", org.clone());
    // The org the /orgs operations are called on (and, last, deleted), apart
    // from the one everything else is in, whose deletion would take the token with it.
    let other = created(s, "/api/v2/orgs", json!({"name": "schema-org"}));
    ids.insert("orgs", id(&other));
    let bucket = created(s, "/api/v2/buckets", json!({"orgID": org, "name": "schema", "retentionRules": []}));
    ids.insert("buckets", id(&bucket));
    let user = created(s, "/api/v2/users", json!({"name": "schema-user"}));
    ids.insert("users", id(&user));
    // A user is a member or an owner of a thing, not both: one of each.
    ids.insert("members", id(&created(s, "/api/v2/users", json!({"name": "schema-member"}))));
    ids.insert("owners", id(&created(s, "/api/v2/users", json!({"name": "schema-owner"}))));
    let (status, body) = s.post(&format!("/api/v2/users/{}/password", id(&user)), TOKEN, json!({"password": PASSWORD}));
    assert_eq!(status, 204, "{body}");
    let label = created(s, "/api/v2/labels", json!({"orgID": org, "name": "schema-label"}));
    ids.insert("labels", id(&label["label"]));
    let dashboard = created(s, "/api/v2/dashboards", json!({"orgID": org, "name": "schema-dashboard"}));
    ids.insert("dashboards", id(&dashboard));
    let cell =
        created(s, &format!("/api/v2/dashboards/{}/cells", id(&dashboard)), json!({"x": 0, "y": 0, "w": 4, "h": 4}));
    ids.insert("cells", id(&cell));
    let variable = created(
        s,
        "/api/v2/variables",
        json!({"orgID": org, "name": "schemavar", "arguments": {"type": "constant", "values": ["a", "b"]}}),
    );
    ids.insert("variables", id(&variable));
    let task = created(
        s,
        "/api/v2/tasks",
        json!({"orgID": org, "flux": "option task = {name: \"schema-task\", every: 1h}\nfrom(bucket: \"schema\") |> range(start: -1m)"}),
    );
    ids.insert("tasks", id(&task));
    let run = created(s, &format!("/api/v2/tasks/{}/runs", id(&task)), json!({}));
    ids.insert("runs", id(&run));
    let telegraf =
        created(s, "/api/v2/telegrafs", json!({"orgID": org, "name": "schema-telegraf", "config": "[[inputs.cpu]]\n"}));
    ids.insert("telegrafs", id(&telegraf));
    let scraper = created(
        s,
        "/api/v2/scrapers",
        json!({"orgID": org, "bucketID": ids["buckets"], "name": "schema-scraper", "type": "prometheus", "url": s.url("/metrics")}),
    );
    ids.insert("scrapers", id(&scraper));
    let check = created(s, "/api/v2/checks", check_body(&org, "schema-check"));
    ids.insert("checks", id(&check));
    let endpoint = created(s, "/api/v2/notificationEndpoints", endpoint_body(&org, "schema-endpoint"));
    ids.insert("notificationEndpoints", id(&endpoint));
    // The rule sends to an endpoint of its own: an endpoint in use is not deleted.
    let sent_to = created(s, "/api/v2/notificationEndpoints", endpoint_body(&org, "schema-rule-endpoint"));
    ids.insert("rule-endpoint", id(&sent_to));
    let rule = created(s, "/api/v2/notificationRules", rule_body(&org, "schema-rule", ids["rule-endpoint"].as_str()));
    ids.insert("notificationRules", id(&rule));
    let source = created(
        s,
        "/api/v2/sources",
        json!({"orgID": org, "name": "schema-source", "type": "v2", "url": s.url(""), "token": TOKEN}),
    );
    ids.insert("sources", id(&source));
    let remote = created(
        s,
        "/api/v2/remotes",
        json!({"orgID": org, "name": "schema-remote", "remoteURL": s.url(""), "remoteAPIToken": TOKEN, "remoteOrgID": org, "allowInsecureTLS": false}),
    );
    ids.insert("remotes", id(&remote));
    // What the replications made by the calls point at, so that the remote above can be deleted.
    let kept = created(
        s,
        "/api/v2/remotes",
        json!({"orgID": org, "name": "schema-remote-kept", "remoteURL": s.url(""), "remoteAPIToken": TOKEN, "remoteOrgID": org}),
    );
    ids.insert("kept-remote", id(&kept));
    let replication = created(
        s,
        "/api/v2/replications",
        json!({"orgID": org, "name": "schema-replication", "remoteID": id(&remote), "localBucketID": ids["buckets"],
               "remoteBucketID": ids["buckets"], "maxQueueSizeBytes": 67108860, "dropNonRetryableData": false, "maxAgeSeconds": 0}),
    );
    ids.insert("replications", id(&replication));
    let dbrp = created(
        s,
        "/api/v2/dbrps",
        json!({"orgID": org, "bucketID": ids["buckets"], "database": "schemadb", "retention_policy": "autogen", "default": true}),
    );
    ids.insert("dbrps", dbrp["content"]["id"].as_str().map_or_else(|| id(&dbrp), str::to_owned));
    let auth = created(
        s,
        "/api/v2/authorizations",
        json!({"orgID": org, "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": org}}]}),
    );
    ids.insert("authorizations", id(&auth));
    let legacy = created(
        s,
        "/private/legacy/authorizations",
        json!({"orgID": org, "token": "schema-legacy", "permissions": [{"action": "read", "resource": {"type": "buckets", "orgID": org}}]}),
    );
    ids.insert("legacy", id(&legacy));
    let stack = created(s, "/api/v2/stacks", json!({"orgID": org, "name": "schema-stack"}));
    ids.insert("stacks", id(&stack));
    let (status, body) = s.patch(&format!("/api/v2/orgs/{}/secrets", id(&other)), TOKEN, json!({"schemakey": "v"}));
    assert_eq!(status, 204, "{body}");
    let r = s.request(Method::POST, "/api/v2/write?org=acme&bucket=schema", Some(TOKEN)).body("cpu v=1 1").send();
    assert_eq!(r.unwrap().status(), 204);
    let backup = crate::backup::backup(s);
    let schema = backup.buckets.iter().find(|b| b["bucketName"] == "schema").expect("the schema bucket");
    let shard = &schema["retentionPolicies"][0]["shardGroups"][0]["shards"][0]["id"];
    ids.insert("shards", shard.to_string());
    Fixtures { ids, backup }
}

/// The table's path with its parameters filled from the fixtures.
fn concrete(path: &str, fx: &Fixtures) -> String {
    let legacy = path.starts_with("/private/legacy/");
    let parts: Vec<&str> = path.split('/').collect();
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let filled = match *part {
            "{id}" if legacy => fx.id("legacy").to_owned(),
            "{id}" => fx.id(parts[i - 1]).to_owned(),
            "{label}" => fx.id("labels").to_owned(),
            "{user}" => fx.id(parts[i - 1]).to_owned(),
            "{cell}" => fx.id("cells").to_owned(),
            "{run}" => fx.id("runs").to_owned(),
            "{name}" if parts[i - 1] == "secrets" => "schemakey".to_owned(),
            "{name}" => "from".to_owned(),
            "{shardID}" => fx.id("shards").to_owned(),
            "{bucketID}" => fx.id("buckets").to_owned(),
            other => other.to_owned(),
        };
        out.push(filled);
    }
    out.join("/")
}

/// oss.yml's path for a table path: its operation is found by operationId.
fn spec_path<'a>(spec_paths: &'a [(String, String, String)], op: &Operation) -> &'a str {
    spec_paths
        .iter()
        .find(|(m, _, id)| m == op.method && id == op.id)
        .map(|(_, p, _)| p.as_str())
        .unwrap_or_else(|| panic!("{} {} ({}) is not in oss.yml", op.method, op.path, op.id))
}

/// The query parameters an operation needs to be a valid request.
fn query_for(op: &Operation, fx: &Fixtures) -> Vec<(&'static str, String)> {
    let org = fx.id("acme").to_owned();
    match op.id {
        "GetDBRPs"
        | "GetVariables"
        | "GetTelegrafs"
        | "GetRemoteConnections"
        | "GetReplications"
        | "GetSources"
        | "GetScrapers"
        | "GetLabels"
        | "GetDashboards"
        | "GetAuthorizations"
        | "GetLegacyAuthorizations"
        | "GetTasks"
        | "GetBuckets" => vec![("orgID", org)],
        // 2.7 asks a mapping's org of every call on it.
        "GetDBRPsID" | "PatchDBRPID" | "DeleteDBRPID" => vec![("orgID", org)],
        "PostWrite" | "PostDelete" => vec![("org", "acme".into()), ("bucket", "schema".into())],
        "PostQuery" => vec![("org", "acme".into())],
        "PostLegacyWrite" => vec![("db", "schemadb".into())],
        "GetLegacyQuery" | "PostLegacyQuery" => vec![("db", "schemadb".into()), ("q", "SHOW MEASUREMENTS".into())],
        "GetSourcesIDBuckets" => vec![("org", "acme".into())],
        "ListStacks" | "DeleteStack" | "UninstallStack" => vec![("orgID", org)],
        _ => Vec::new(),
    }
}

/// A valid body for each operation that takes one: (content type, text).
/// The body a valid request of `op` carries: the restores' are a backup's parts.
fn request_body(op: &Operation, fx: &Fixtures, n: usize) -> Option<(&'static str, Vec<u8>)> {
    let backup = &fx.backup;
    let shard = || backup.shards.iter().find(|(id, _)| id.to_string() == fx.id("shards")).expect("the shard");
    match op.id {
        "PostRestoreKV" => Some(("application/octet-stream", backup.kv.clone())),
        "PostRestoreShardId" => Some(("application/octet-stream", shard().1.clone())),
        "PostRestoreSQL" => Some(("application/octet-stream", Vec::new())),
        "PostRestoreBucketMetadata" => {
            let mut m = backup.buckets.iter().find(|b| b["bucketName"] == "schema").expect("schema").clone();
            m["bucketName"] = json!(format!("schema-restored-{n}"));
            Some(("application/json", m.to_string().into_bytes()))
        }
        _ => body_for(op, fx, n).map(|(ct, text)| (ct, text.into_bytes())),
    }
}

fn body_for(op: &Operation, fx: &Fixtures, n: usize) -> Option<(&'static str, String)> {
    let org = fx.id("acme");
    let json = |v: Value| Some(("application/json", v.to_string()));
    let readable = json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]);
    let name = format!("schema-{n}");
    match op.id {
        "PostAuthorizations" => json(json!({"orgID": org, "permissions": readable})),
        "PatchAuthorizationsID" | "PatchLegacyAuthorizationsID" => {
            json(json!({"status": "active", "description": "d"}))
        }
        "PostBuckets" => json(json!({"orgID": org, "name": name, "retentionRules": []})),
        "CreateCheck" => json(check_body(org, &name)),
        "PutChecksID" => json(check_body(org, "schema-check")),
        "PatchChecksID" => json(json!({"description": "d"})),
        "CreateNotificationEndpoint" => json(endpoint_body(org, &name)),
        "PutNotificationEndpointsID" => json(endpoint_body(org, "schema-endpoint")),
        "PatchNotificationEndpointsID" => json(json!({"description": "d"})),
        "CreateNotificationRule" => json(rule_body(org, &name, fx.id("rule-endpoint"))),
        "PutNotificationRulesID" => json(rule_body(org, "schema-rule", fx.id("rule-endpoint"))),
        "PatchNotificationRulesID" => json(json!({"description": "d"})),
        "PatchBucketsID" => json(json!({"description": "d"})),
        id if id.ends_with("IDLabels") => json(json!({"labelID": fx.id("labels")})),
        id if id.ends_with("IDMembers") => json(json!({"id": fx.id("members")})),
        id if id.ends_with("IDOwners") => json(json!({"id": fx.id("owners")})),
        "PostDashboards" => json(json!({"orgID": org, "name": name})),
        "PatchDashboardsID" => json(json!({"description": "d"})),
        "PostDashboardsIDCells" => json(json!({"x": 0, "y": 4, "w": 4, "h": 4})),
        "PutDashboardsIDCells" => json(json!([{"id": fx.id("cells"), "x": 0, "y": 0, "w": 6, "h": 4}])),
        "PatchDashboardsIDCellsID" => json(json!({"w": 5})),
        "PatchDashboardsIDCellsIDView" => json(json!({"name": "v", "properties": {
            "type": "markdown", "shape": "chronograf-v2", "note": "hello"}})),
        "PostDBRP" => json(
            json!({"orgID": org, "bucketID": fx.id("buckets"), "database": format!("db{n}"), "retention_policy": "rp"}),
        ),
        "PatchDBRPID" => json(json!({"default": true})),
        "PostDelete" => json(json!({"start": "1970-01-01T00:00:00Z", "stop": "1970-01-01T00:00:01Z"})),
        "PostLabels" => json(json!({"orgID": org, "name": name})),
        "PatchLabelsID" => json(json!({"properties": {"color": "ffb3b3"}})),
        "PutMePassword" => json(json!({"password": PASSWORD})),
        "PostOrgs" => json(json!({"name": name})),
        "PatchOrgsID" => json(json!({"description": "d"})),
        "PatchOrgsIDSecrets" => json(json!({"other": "v"})),
        "PostOrgsIDSecrets" => json(json!({"secrets": ["other"]})),
        "PostQuery" => json(json!({"query": "from(bucket: \"schema\") |> range(start: 0)", "type": "flux"})),
        "PostQueryAnalyze" | "PostQueryAst" => json(json!({"query": "from(bucket: \"schema\") |> range(start: -1h)"})),
        "PostRemoteConnection" => json(
            json!({"orgID": org, "name": name, "remoteURL": "http://127.0.0.1:9", "remoteAPIToken": "t", "remoteOrgID": org, "allowInsecureTLS": false}),
        ),
        "PatchRemoteConnectionByID" => json(json!({"description": "d"})),
        "PostReplication" => json(
            json!({"orgID": org, "name": name, "remoteID": fx.id("kept-remote"), "localBucketID": fx.id("buckets"), "remoteBucketID": fx.id("buckets"), "maxQueueSizeBytes": 67108860}),
        ),
        "PatchReplicationByID" => json(json!({"description": "d"})),
        "PostScrapers" | "PatchScrapersID" => json(
            json!({"orgID": org, "bucketID": fx.id("buckets"), "name": name, "type": "prometheus", "url": "http://127.0.0.1:9/metrics"}),
        ),
        "PostSetup" => json(json!({"username": "u", "password": PASSWORD, "org": "o", "bucket": "b"})),
        "PostSources" => json(json!({"orgID": org, "name": name, "type": "v1", "url": "http://127.0.0.1:9"})),
        "PatchSourcesID" => json(json!({"name": name})),
        "PostTasks" => json(
            json!({"orgID": org, "flux": format!("option task = {{name: \"{name}\", every: 1h}}\nfrom(bucket: \"schema\") |> range(start: -1m)")}),
        ),
        "PatchTasksID" => json(json!({"description": "d"})),
        "PostTasksIDRuns" => json(json!({})),
        "PostTasksIDRunsIDRetry" => Some(("application/json; charset=utf-8", "{}".into())),
        "PostTelegrafs" | "PutTelegrafsID" => json(json!({"orgID": org, "name": name, "config": "[[inputs.mem]]\n"})),
        "PostUsers" => json(json!({"name": name})),
        "PatchUsersID" => json(json!({"name": "schema-user"})),
        "PostUsersIDPassword" | "PutUsersIDPassword" => json(json!({"password": PASSWORD})),
        "PostVariables" => {
            json(json!({"orgID": org, "name": format!("v{n}"), "arguments": {"type": "constant", "values": ["x"]}}))
        }
        "PatchVariablesID" => json(json!({"description": "d"})),
        "PutVariablesID" => {
            json(json!({"orgID": org, "name": "schemavar", "arguments": {"type": "map", "values": {"k": "v"}}}))
        }
        "CreateStack" => json(json!({"orgID": org, "name": name})),
        "UpdateStack" => json(json!({"name": "schema-stack", "description": "d"})),
        "ApplyTemplate" => json(json!({"orgID": org, "dryRun": n.is_multiple_of(2), "template": {"contents": [
            {"apiVersion": "influxdata.com/v2alpha1", "kind": "Label", "metadata": {"name": format!("schema-{n}")}},
        ]}})),
        "ExportTemplate" => json(json!({"resources": [{"kind": "Bucket", "id": fx.id("buckets")}]})),
        "PostLegacyAuthorizations" => json(json!({"orgID": org, "token": name, "permissions": readable})),
        "PostLegacyAuthorizationsIDPassword" => json(json!({"password": PASSWORD})),
        "PostWrite" | "PostLegacyWrite" => Some(("text/plain", "cpu,host=a usage=1 1\n".into())),
        _ => None,
    }
}

/// One answer held to the spec: what is wrong with it, if anything.
fn check(spec: &mut Spec, path: &str, op: &Operation, status: u16, content_type: &str, body: &[u8]) -> Option<String> {
    let operation = spec.operation(op.method, path).expect("the operation").clone();
    let what = format!("{} {} -> {status}", op.method, op.path);
    if status >= 500 {
        return Some(format!("{what}: a server error: {}", String::from_utf8_lossy(body)));
    }
    let content = match spec.response(&operation, status) {
        Documented::Undocumented => return Some(format!("{what}: status not documented")),
        Documented::Content(c) => c.into_iter().map(|(m, s)| (m.to_owned(), s.cloned())).collect::<Vec<_>>(),
    };
    if content.is_empty() {
        return None;
    }
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let Some((_, schema)) = content.iter().find(|(m, _)| m.split(';').next().unwrap_or_default().trim() == media)
    else {
        let documented: Vec<&str> = content.iter().map(|(m, _)| m.as_str()).collect();
        return Some(format!("{what}: content type {content_type:?}, documented {documented:?}"));
    };
    let (Some(schema), true) = (schema, media.ends_with("json")) else { return None };
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some(format!("{what}: not JSON ({e}): {}", String::from_utf8_lossy(body))),
    };
    let broken = spec.violations(schema, &value);
    (!broken.is_empty()).then(|| format!("{what}: {}", broken.join("; ")))
}

fn send(
    s: &TestServer,
    op: &Operation,
    url: &str,
    query: &[(&str, String)],
    body: Option<(&str, Vec<u8>)>,
) -> (u16, String, Vec<u8>) {
    let method = Method::from_bytes(op.method.as_bytes()).expect("a method");
    let mut rb = s.request(method, url, Some(TOKEN)).query(query);
    if let Some((ct, text)) = body {
        rb = rb.header("Content-Type", ct).body(text);
    }
    let r = rb.send().expect("an answer");
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, ct, r.bytes().map(|b| b.to_vec()).unwrap_or_default())
}

/// Where oxiflux answers as 2.7 does rather than as oss.yml says, because
/// clients read 2.7's answer: (operationId, the part of the problem).
const DEPARTURES: &[(&str, &str)] = &[
    // Query results are `text/csv` in 2.7, and clients check for it (the R
    // client refuses any other type); oss.yml says `application/csv`.
    ("PostQuery", "content type \"text/csv; charset=utf-8\", documented [\"application/csv\"]"),
];

/// The apply answer's IDs are JSON numbers in 2.7 (its pkger writes them
/// so, and the `influx` CLI decodes them as `uint64`: strings would break
/// it), and a new resource's `old` is `null`; oss.yml says strings and an
/// object. Those fields are put as oss.yml says before the rest of the
/// answer is validated.
fn numbers_as_2_7_writes_them(op: &Operation, body: Vec<u8>) -> Vec<u8> {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|k, x| !(k == "old" && x.is_null()));
                for (k, x) in m.iter_mut() {
                    let id_key = matches!(k.as_str(), "id" | "orgID" | "resourceID" | "labelID" | "endpointID");
                    match x {
                        Value::Number(n) if id_key => *x = Value::String(format!("{:016x}", n.as_u64().unwrap_or(0))),
                        other => walk(other),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if op.id != "ApplyTemplate" {
        return body;
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&body) else { return body };
    walk(&mut v);
    serde_json::to_vec(&v).unwrap_or(body)
}

/// Fields oss.yml calls required that 2.7 does without, so that a script
/// written against 2.7 keeps working: (operationId, the field). Each is
/// still refused with the wrong type.
const OPTIONAL_AS_IN_2_7: &[(&str, &str)] = &[
    // Updates in 2.7 change what they are given (at least one field).
    ("PatchDashboardsIDCellsIDView", "name"),
    ("PatchDashboardsIDCellsIDView", "properties"),
    ("PatchUsersID", "name"),
    // A replaced variable keeps its org (2.7 does not read orgID on PUT).
    ("PutVariablesID", "orgID"),
    // An empty script: no errors, an empty syntax tree.
    ("PostQueryAnalyze", "query"),
    ("PostQueryAst", "query"),
    // 2.7 defaults them: TLS verified, a 64 MiB queue.
    ("PostRemoteConnection", "allowInsecureTLS"),
    ("PostReplication", "maxQueueSizeBytes"),
];

/// Operations whose valid request cannot be made on this server as it is
/// (each says why); their answer is still held to the spec.
fn expected_refusal(op: &Operation) -> bool {
    matches!(
        op.id,
        // Set up once already: 422, documented.
        "PostSetup"
        // A token is not a session: signout and /me/password ask for one (401, documented).
        | "PostSignout" | "PutMePassword" | "PostSignin"
        // The run made for the fixtures may still be running: retry and cancel may say so.
        | "PostTasksIDRunsIDRetry" | "DeleteTasksIDRunsID"
        // 2.0's protobuf bucket restore, which only a 2.0.x CLI sends: refused (400) with the way to restore.
        | "PostRestoreBucketID"
    )
}

#[test]
fn every_served_operation_answers_as_oss_yml_says() {
    let (s, setup) = TestServer::onboarded();
    let fx = make_fixtures(&s, &setup);
    let mut spec = Spec::load();
    let spec_paths = spec.operations();
    let mut problems: Vec<String> = Vec::new();
    let served: Vec<&Operation> = OPERATIONS.iter().filter(|op| op.served == Served::Yes).collect();
    // Everything but deletes in the table's order, then the deletes: the
    // deepest paths first (a label's mapping before the label), from the last.
    // The restores come last of all: restoring the kv part puts back the
    // store as the fixtures left it, undoing what the calls before made.
    let restore = |op: &&Operation| op.path.starts_with("/api/v2/restore/");
    let mut order: Vec<&Operation> =
        served.iter().copied().filter(|op| op.method != "DELETE" && !restore(op)).collect();
    let mut deletes: Vec<&Operation> = served.iter().copied().filter(|op| op.method == "DELETE").rev().collect();
    deletes.sort_by_key(|op| std::cmp::Reverse(op.path.matches('/').count()));
    order.extend(deletes);
    order.extend(served.iter().copied().filter(restore));
    let mut checked = 0;
    for (n, op) in order.into_iter().enumerate() {
        if op.path == "/api/v2/" {
            continue;
        }
        let path = spec_path(&spec_paths, op).to_owned();
        let url = concrete(op.path, &fx);
        let (status, ct, body) = send(&s, op, &url, &query_for(op, &fx), request_body(op, &fx, n));
        if !(200..300).contains(&status) && !expected_refusal(op) {
            problems.push(format!(
                "{} {url} ({}): a valid request refused: {status} {}",
                op.method,
                op.id,
                String::from_utf8_lossy(&body)
            ));
        }
        let body = numbers_as_2_7_writes_them(op, body);
        if let Some(p) = check(&mut spec, &path, op, status, &ct, &body)
            && !DEPARTURES.iter().any(|(id, what)| *id == op.id && p.contains(what))
        {
            problems.push(p);
        }
        checked += 1;
    }
    assert!(checked > 170, "only {checked} operations were called");
    println!("{checked} operations called and their answers validated");
    assert!(problems.is_empty(), "{} answers break oss.yml:\n{}", problems.len(), problems.join("\n"));
}

/// Whether an answer is InfluxDB's refusal of bad input: 400, code `invalid`.
fn refused_as_invalid(status: u16, body: &[u8]) -> bool {
    refused_with(status, body, (400, "invalid"))
}

fn refused_with(status: u16, body: &[u8], (want_status, want_code): (u16, &str)) -> bool {
    let code = serde_json::from_slice::<Value>(body).ok().and_then(|v| v["code"].as_str().map(str::to_owned));
    status == want_status && code.as_deref() == Some(want_code)
}

/// How an operation refuses a body that breaks its schema: 400 `invalid`;
/// but a body that decodes and lacks a field is, for setup, 2.7's 422
/// `onboarding failed: missing required fields`, and for a password change,
/// which asks for a session, the token's 401.
fn body_refusal(op: &Operation, what: &str) -> (u16, &'static str) {
    match (op.id, what.starts_with("without the required")) {
        ("PostSetup", true) => (422, "unprocessable entity"),
        ("PutMePassword", true) => (401, "unauthorized"),
        _ => (400, "invalid"),
    }
}

/// Bodies that break a schema: `(what, body)` for each way this test breaks it.
fn broken_bodies(spec: &Spec, schema: &Value, valid: &Value) -> Vec<(String, Value)> {
    let mut out = vec![("a body that is not an object".to_owned(), json!("text"))];
    let schema = spec.resolved(schema);
    let Some(valid) = valid.as_object() else { return out };
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    for r in &required {
        let mut b = valid.clone();
        if b.remove(*r).is_some() {
            out.push((format!("without the required {r}"), Value::Object(b)));
        }
    }
    let props = schema["properties"].as_object().cloned().unwrap_or_default();
    for key in valid.keys() {
        let Some(p) = props.get(key) else { continue };
        let p = spec.resolved(p);
        let wrong = match p.get("type").and_then(Value::as_str) {
            Some("string") => json!(12345),
            Some("integer" | "number") => json!("twelve"),
            Some("boolean") => json!("yes"),
            Some("array") => json!({"not": "a list"}),
            Some("object") => json!(["not", "an object"]),
            _ => continue,
        };
        let mut b = valid.clone();
        b.insert(key.clone(), wrong);
        out.push((format!("{key} of the wrong type"), Value::Object(b)));
        if p.get("enum").is_some() {
            let mut b = valid.clone();
            b.insert(key.clone(), json!("no-such-value"));
            out.push((format!("{key} outside its enum"), Value::Object(b)));
        }
    }
    out
}

#[test]
fn bodies_that_break_the_schema_are_refused_with_400_invalid() {
    let (s, setup) = TestServer::onboarded();
    let fx = make_fixtures(&s, &setup);
    let spec = Spec::load();
    let spec_paths = spec.operations();
    let mut problems = Vec::new();
    let mut sent = 0;
    for (n, op) in OPERATIONS.iter().filter(|op| op.served == Served::Yes).enumerate() {
        let Some(("application/json", valid)) = body_for(op, &fx, n) else { continue };
        let path = spec_path(&spec_paths, op);
        let operation = spec.operation(op.method, path).expect("the operation");
        let Some(schema) = spec.request_schema(operation, "application/json") else { continue };
        let valid: Value = serde_json::from_str(&valid).expect("JSON");
        let url = concrete(op.path, &fx);
        for (what, body) in broken_bodies(&spec, schema, &valid) {
            if OPTIONAL_AS_IN_2_7
                .iter()
                .any(|(id, field)| *id == op.id && what == format!("without the required {field}"))
            {
                continue;
            }
            let (status, _, answer) =
                send(&s, op, &url, &query_for(op, &fx), Some(("application/json", body.to_string().into_bytes())));
            sent += 1;
            if !refused_with(status, &answer, body_refusal(op, &what)) {
                problems.push(format!(
                    "{} {} ({}), {what}: {status} {}",
                    op.method,
                    op.path,
                    op.id,
                    String::from_utf8_lossy(&answer)
                ));
            }
        }
    }
    assert!(sent > 100, "only {sent} broken bodies were sent");
    println!("{sent} broken bodies sent");
    assert!(problems.is_empty(), "{} broken bodies were not refused:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn operations_the_table_says_wait_are_not_served() {
    let (s, _) = TestServer::onboarded();
    let mut problems = Vec::new();
    for op in OPERATIONS.iter().filter(|op| matches!(op.served, Served::Waits(_))) {
        let url: String = op
            .path
            .split('/')
            .map(|p| if p.starts_with('{') { "0000000000000001" } else { p })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(op.method.as_bytes()).expect("a method");
        let r = s.request(method, &url, Some(TOKEN)).send().expect("an answer");
        let status = r.status().as_u16();
        let body = r.text().unwrap_or_default();
        let unserved = (status == 404 && body.contains("path not found")) || status == 405;
        if !unserved {
            problems.push(format!("{} {} is served ({status} {body}) but the table says it waits", op.method, op.path));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn malformed_ids_in_a_path_are_refused_with_400_invalid() {
    let (s, setup) = TestServer::onboarded();
    let fx = make_fixtures(&s, &setup);
    let mut problems = Vec::new();
    let mut sent = 0;
    for (n, op) in OPERATIONS.iter().filter(|op| op.served == Served::Yes && op.path.contains('{')).enumerate() {
        let concrete = concrete(op.path, &fx);
        let parts: Vec<&str> = op.path.split('/').collect();
        // Each parameter in turn malformed, the others real.
        for (i, part) in parts.iter().enumerate().filter(|(_, p)| p.starts_with('{')) {
            if *part == "{name}" {
                continue;
            }
            let mut url: Vec<String> = concrete.split('/').map(str::to_owned).collect();
            url[i] = "not-an-id".into();
            let (status, _, body) = send(&s, op, &url.join("/"), &query_for(op, &fx), request_body(op, &fx, n));
            sent += 1;
            if !refused_as_invalid(status, &body) {
                problems.push(format!(
                    "{} {} with {part} malformed: {status} {}",
                    op.method,
                    op.path,
                    String::from_utf8_lossy(&body)
                ));
            }
        }
    }
    assert!(sent > 100, "only {sent} malformed IDs were sent");
    println!("{sent} malformed IDs sent");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn query_parameters_of_the_wrong_type_are_refused_with_400_invalid() {
    let (s, setup) = TestServer::onboarded();
    let fx = make_fixtures(&s, &setup);
    let spec = Spec::load();
    let spec_paths = spec.operations();
    let mut problems = Vec::new();
    let mut sent = 0;
    for (n, op) in OPERATIONS.iter().filter(|op| op.served == Served::Yes && op.method != "DELETE").enumerate() {
        let Some(operation) = spec.operation(op.method, spec_path(&spec_paths, op)) else { continue };
        for (name, ty) in spec.query_parameters(operation) {
            let wrong = match ty.as_str() {
                "integer" | "number" => "twelve",
                "boolean" => "maybe",
                _ => continue,
            };
            // 2.7 reads `validate` as "is it the word true", anything else no.
            if name == "validate" {
                continue;
            }
            let mut query: Vec<(&str, String)> = query_for(op, &fx).into_iter().filter(|(k, _)| *k != name).collect();
            query.push((name.as_str(), wrong.to_owned()));
            let (status, _, body) = send(&s, op, &concrete(op.path, &fx), &query, request_body(op, &fx, n));
            sent += 1;
            if !refused_as_invalid(status, &body) {
                problems.push(format!(
                    "{} {} with {name}={wrong}: {status} {}",
                    op.method,
                    op.path,
                    String::from_utf8_lossy(&body)
                ));
            }
        }
    }
    assert!(sent >= 10, "only {sent} wrong parameters were sent");
    println!("{sent} wrong parameters sent");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
