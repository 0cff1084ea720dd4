//! Flux over HTTP: write with `/api/v2/write`, read back with `/api/v2/query`.
//! Fixed answers to fixed queries are conformance cases (`tests/cases/flux/`);
//! here are the checks that are not one fixed answer: headers, permissions,
//! writes, secrets, the documented examples.

use std::io::Read;

use reqwest::Method;
use serde_json::json;

use crate::server::{TOKEN, TestServer, decode, org_id};

/// A server with the four points of the Flux conformance cases in `metrics`.
fn loaded() -> (TestServer, serde_json::Value) {
    let (s, setup) = TestServer::onboarded();
    let points = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases/flux/metrics.lp")).unwrap();
    let r = s.request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN)).body(points).send().unwrap();
    assert_eq!(r.status(), 204);
    (s, setup)
}

const Q: &str = r#"from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z) |> filter(fn: (r) => r._measurement == "cpu")"#;

fn flux(s: &TestServer, token: &str, body: serde_json::Value) -> (u16, String) {
    let r = s.request(Method::POST, "/api/v2/query?org=acme", Some(token)).json(&body).send().unwrap();
    let status = r.status().as_u16();
    (status, r.text().unwrap())
}

#[test]
fn raw_flux_bodies_default_dialect_and_gzip() {
    let (s, _) = loaded();
    let r = s
        .request(Method::POST, "/api/v2/query?org=acme", Some(TOKEN))
        .header("Content-Type", "application/vnd.flux")
        .header("Accept-Encoding", "gzip")
        .body(Q)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let gzipped = r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
    let bytes = r.bytes().unwrap();
    let text = if gzipped.as_deref() == Some("gzip") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut s).unwrap();
        s
    } else {
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    // No dialect: no annotation rows, the result named on each row.
    assert!(text.starts_with(",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n"), "{text}");
    assert!(
        text.contains(",_result,1,2020-01-01T00:00:00Z,2020-01-01T01:00:00Z,2020-01-01T00:00:00Z,3,usage,cpu,b\r\n")
    );
}

#[test]
fn query_errors_and_permissions() {
    let (s, setup) = loaded();
    let org = org_id(&setup);
    let (status, body) = flux(&s, TOKEN, json!({"query": "from(bucket: "}));
    assert_eq!(status, 400);
    assert!(body.contains("compilation failed: error @1:"), "{body}");
    let (status, body) = flux(&s, TOKEN, json!({"query": "from(bucket: \"nope\") |> range(start: -1h)"}));
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("could not find bucket \\\"nope\\\""), "{body}");
    let (status, body) = flux(&s, TOKEN, json!({"query": "from(bucket: \"metrics\")"}));
    assert_eq!(status, 400);
    assert!(body.contains("cannot submit unbounded read"), "{body}");
    assert_eq!(flux(&s, TOKEN, json!({"query": Q, "type": "sql"})).0, 400);
    let r = s.request(Method::POST, "/api/v2/query?org=acme", None).json(&json!({"query": Q})).send().unwrap();
    assert_eq!(decode(r).0, 401);

    // A token that may read only another bucket does not see this one.
    let (_, other) = s.post("/api/v2/buckets", TOKEN, json!({"orgID": org, "name": "other"}));
    let other_id = other["id"].as_str().unwrap();
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "id": other_id}}]));
    let (status, _) = flux(&s, &reader, json!({"query": Q}));
    assert_eq!(status, 404);
    let (all, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]));
    assert_eq!(flux(&s, &all, json!({"query": Q})).0, 200);
}

#[path = "../../../flux/tests/docs/mod.rs"]
mod docs;

/// Every example on the documentation page of each core function, sent
/// through `/api/v2/query`, gives the documented output tables.
#[test]
fn documented_examples_give_the_documented_output_over_http() {
    let (s, _) = TestServer::onboarded();
    let mut failures = Vec::new();
    let mut passed = 0;
    for page in docs::PAGES {
        for e in docs::examples(page) {
            if e.output.is_empty() || docs::SKIP.iter().any(|(t, _)| *t == e.title) {
                continue;
            }
            let src = docs::program(&e);
            let body = json!({"query": src, "type": "flux", "now": "2030-01-01T00:00:00Z",
                "dialect": {"annotations": ["datatype", "group", "default"]}});
            let (status, csv) = flux(&s, TOKEN, body);
            if status != 200 {
                failures.push(format!("{page} — {}: HTTP {status}: {csv}", e.title));
                continue;
            }
            match docs::compare(&docs::from_annotated_csv(&csv), &e.output) {
                None => passed += 1,
                Some(why) => failures.push(format!("{page} — {}: {why}", e.title)),
            }
        }
    }
    assert!(passed > 100, "only {passed} examples ran");
    assert!(failures.is_empty(), "{} failing examples:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn buckets_lists_what_the_token_may_read_and_to_writes_through_the_write_path() {
    let (s, setup) = loaded();
    let (status, csv) = flux(&s, TOKEN, json!({"query": "buckets()"}));
    assert_eq!(status, 200, "{csv}");
    assert!(csv.contains(",name,id,organizationID,retentionPolicy,retentionPeriod"), "{csv}");
    assert!(csv.contains(",metrics,"), "{csv}");
    // Downsample cpu into another measurement of the same bucket, then read it back.
    let q = r#"from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)
        |> filter(fn: (r) => r._measurement == "cpu")
        |> aggregateWindow(every: 1h, fn: max, createEmpty: false)
        |> set(key: "_measurement", value: "cpu_hourly")
        |> to(bucket: "metrics")"#;
    let (status, csv) = flux(&s, TOKEN, json!({"query": q}));
    assert_eq!(status, 200, "{csv}");
    let back = r#"from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-02T00:00:00Z) |> filter(fn: (r) => r._measurement == "cpu_hourly")"#;
    let (status, csv) = flux(&s, TOKEN, json!({"query": back}));
    assert_eq!(status, 200, "{csv}");
    let rows: Vec<&str> = csv.lines().filter(|l| l.starts_with(",_result,")).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows.iter().any(|r| r.contains(",2.5,usage,cpu_hourly,a")), "{csv}");
    assert!(rows.iter().any(|r| r.contains(",3,usage,cpu_hourly,b")), "{csv}");
    // A token that may only read gets an error, and nothing is written.
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let (reader, _) =
        s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "id": bucket, "orgID": org}}]));
    let q = r#"from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)
        |> set(key: "_measurement", value: "sneaky") |> to(bucket: "metrics")"#;
    let (status, body) = flux(&s, &reader, json!({"query": q}));
    assert_eq!(status, 403, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "forbidden", "{body}");
    assert!(body["message"].as_str().unwrap().ends_with("user not authorized to write"), "{body}");
    let (_, csv) = flux(&s, TOKEN, json!({"query": back.replace("cpu_hourly", "sneaky")}));
    assert!(!csv.contains(",_result,"), "{csv}");
}

/// The schema package (written in Flux, embedded) reads a real bucket.
#[test]
fn schema_functions_read_what_a_bucket_holds() {
    let (s, _) = loaded();
    let values = |q: &str| -> Vec<String> {
        let (status, csv) = flux(&s, TOKEN, json!({"query": q, "type": "flux"}));
        assert_eq!(status, 200, "{csv}");
        let mut rows = csv
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(",result"))
            .map(|l| l.rsplit(',').next().unwrap_or_default().trim().to_owned());
        let mut out: Vec<String> = rows.by_ref().collect();
        out.sort();
        out
    };
    let span = "start: 2020-01-01T00:00:00Z, stop: 2020-01-02T00:00:00Z";
    let schema = "import \"influxdata/influxdb/schema\"\n";
    assert_eq!(values(&format!("{schema}schema.measurements(bucket: \"metrics\", {span})")), ["cpu", "mem"]);
    assert_eq!(values(&format!("{schema}schema.tagValues(bucket: \"metrics\", tag: \"host\", {span})")), ["a", "b"]);
    assert_eq!(
        values(&format!("{schema}schema.measurementFieldKeys(bucket: \"metrics\", measurement: \"mem\", {span})")),
        ["free"]
    );
    let keys = values(&format!("{schema}schema.tagKeys(bucket: \"metrics\", {span})"));
    assert!(keys.contains(&"host".to_owned()) && keys.contains(&"_measurement".to_owned()), "{keys:?}");
    let v1 = "import \"influxdata/influxdb/v1\"\n";
    assert_eq!(values(&format!("{v1}v1.measurements(bucket: \"metrics\", {span})")), ["cpu", "mem"]);
    // The program may point the package elsewhere: here, at host b's series only.
    let redirected = format!(
        "{schema}option schema._from = (bucket) => from(bucket: bucket) |> filter(fn: (r) => r.host == \"b\")\n\
         schema.measurements(bucket: \"metrics\", {span})"
    );
    assert_eq!(values(&redirected), ["cpu"]);
}

/// Secrets: set and named over the API (never shown), read by `secrets.get()`
/// in the query's org, sealed on disk, with permissions on both sides.
#[test]
fn secrets_are_kept_sealed_and_read_by_flux() {
    let (s, setup) = loaded();
    let org = org_id(&setup);
    let path = format!("/api/v2/orgs/{org}/secrets");
    let (status, body) = s.patch(&path, TOKEN, json!({"apikey": "s3cr3t-value", "other": "x"}));
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.get(&path, TOKEN);
    assert_eq!((status, body["secrets"].clone()), (200, json!(["apikey", "other"])), "{body}");
    assert!(!body.to_string().contains("s3cr3t"), "{body}");

    let read = |token: &str, key: &str| {
        let q = format!(
            "import \"array\"\nimport \"influxdata/influxdb/secrets\"\narray.from(rows: [{{v: secrets.get(key: \"{key}\")}}])"
        );
        flux(&s, token, json!({"query": q, "type": "flux"}))
    };
    let (status, csv) = read(TOKEN, "apikey");
    assert_eq!(status, 200, "{csv}");
    assert!(csv.contains("s3cr3t-value"), "{csv}");
    let (status, csv) = read(TOKEN, "nope");
    assert!(status >= 400 || csv.contains("error"), "{csv}");
    assert!(
        csv.contains("secret key \\\"nope\\\" not found") || csv.contains("secret key \"nope\" not found"),
        "{csv}"
    );

    // A token that may read buckets but not secrets sees neither the names nor the values.
    let (reader, _) = s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org}}]));
    assert_eq!(s.get(&path, &reader).0, 401);
    assert_eq!(s.patch(&path, &reader, json!({"k": "v"})).0, 401);
    let (_, csv) = read(&reader, "apikey");
    assert!(!csv.contains("s3cr3t-value") && csv.contains("unauthorized"), "{csv}");

    // Deleted one by one or several at once; an unknown org is a 404.
    assert_eq!(s.delete(&format!("{path}/other"), TOKEN).0, 204);
    assert_eq!(s.post(&format!("{path}/delete"), TOKEN, json!({"secrets": ["apikey"]})).0, 204);
    assert_eq!(s.get(&path, TOKEN).1["secrets"], json!([]));
    assert_eq!(s.get("/api/v2/orgs/0000000000000001/secrets", TOKEN).0, 404);

    // On disk: the key file is the owner's alone, and no value is in clear.
    s.patch(&path, TOKEN, json!({"apikey": "s3cr3t-value"}));
    let key_file = s.data_dir().join("secrets.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    for name in ["meta.sqlite", "meta.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(s.data_dir().join(name)) {
            assert!(!bytes.windows(12).any(|w| w == b"s3cr3t-value"), "a secret in clear in {name}");
        }
    }
}

#[test]
fn v1_databases_lists_the_orgs_mappings_a_token_may_read() {
    let (s, setup) = loaded();
    let org = org_id(&setup);
    let bucket = setup["bucket"]["id"].as_str().unwrap().to_owned();
    let (status, m) = s.post(
        "/api/v2/dbrps",
        TOKEN,
        json!({"orgID": org, "bucketID": bucket, "database": "legacy", "retention_policy": "week", "default": true}),
    );
    assert_eq!(status, 201, "{m}");
    let q = "import \"influxdata/influxdb/v1\"\nv1.databases() |> filter(fn: (r) => r.databaseName == \"legacy\")";
    let (status, csv) = flux(&s, TOKEN, json!({"query": q, "type": "flux"}));
    assert_eq!(status, 200, "{csv}");
    let header = csv.lines().find(|l| l.contains("databaseName")).unwrap().trim_end();
    assert_eq!(header, ",result,table,organizationID,databaseName,retentionPolicy,retentionPeriod,default,bucketID");
    let row = csv.lines().find(|l| l.contains(",legacy,")).unwrap().trim_end().to_owned();
    assert_eq!(row, format!(",_result,0,{org},legacy,week,0,true,{bucket}"));

    // A token that cannot read the bucket does not see its mapping.
    let (status, other) = s.post("/api/v2/buckets", TOKEN, json!({"orgID": org, "name": "other"}));
    assert_eq!(status, 201, "{other}");
    let other_id = other["id"].as_str().unwrap();
    let (reader, _) =
        s.make_token(&org, json!([{"action": "read", "resource": {"type": "buckets", "orgID": org, "id": other_id}}]));
    let (status, csv) =
        flux(&s, &reader, json!({"query": "import \"influxdata/influxdb/v1\"\nv1.databases()", "type": "flux"}));
    assert_eq!(status, 200, "{csv}");
    assert!(!csv.contains("legacy"), "{csv}");
}

/// The monitor package as a check task uses it: `check()` writes statuses to
/// `_monitoring`, `from()` reads them back, `stateChangesOnly()` finds the
/// changes, `notify()` logs notifications that `logs()` reads.
#[test]
fn monitor_checks_record_statuses_and_notifications_in_the_monitoring_bucket() {
    let (s, _) = loaded();
    let rows = |q: &str| -> Vec<String> {
        let (status, csv) = flux(&s, TOKEN, json!({"query": q, "type": "flux"}));
        assert_eq!(status, 200, "{q}\n{csv}");
        csv.lines().filter(|l| l.starts_with(",_result,")).map(str::to_owned).collect()
    };
    let monitor = "import \"influxdata/influxdb/monitor\"\nimport \"influxdata/influxdb/v1\"\n";
    let check = format!(
        r#"{monitor}from(bucket: "metrics") |> range(start: 2020-01-01T00:00:00Z, stop: 2020-01-01T01:00:00Z)
            |> filter(fn: (r) => r._measurement == "cpu")
            |> v1.fieldsAsCols()
            |> monitor.check(
                crit: (r) => r.usage > 2.8,
                warn: (r) => r.usage > 2.0,
                messageFn: (r) => "${{r.host}} is ${{r._level}}",
                data: {{_check_id: "0000000000000001", _check_name: "cpu check", _type: "threshold", tags: {{team: "ops"}}}},
            )"#
    );
    let written = rows(&check);
    assert_eq!(written.len(), 3, "{written:?}");
    // Read back from _monitoring: one status per source row, as tags and fields.
    let statuses = rows(&format!(
        r#"{monitor}monitor.from(start: -1h)
            |> group() |> sort(columns: ["_source_timestamp", "host"])
            |> keep(columns: ["_check_name", "_level", "_message", "_type", "host", "team", "usage"])"#
    ));
    let got: Vec<String> = statuses.iter().map(|l| l.split(',').skip(3).collect::<Vec<_>>().join(",")).collect();
    assert_eq!(
        got,
        [
            "cpu check,ok,threshold,a,ops,a is ok,1.5",
            "cpu check,crit,threshold,b,ops,b is crit,3",
            "cpu check,warn,threshold,a,ops,a is warn,2.5",
        ],
        "{statuses:?}"
    );
    // Host a went from ok to warn; host b has one status, so no change.
    let changes = rows(&format!(
        "{monitor}monitor.from(start: -1h) |> monitor.stateChangesOnly() |> keep(columns: [\"_level\", \"host\"])"
    ));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0].ends_with(",warn,a"), "{changes:?}");
    let to_crit = rows(&format!(
        "{monitor}monitor.from(start: -1h) |> monitor.stateChanges(fromLevel: \"ok\", toLevel: \"crit\")"
    ));
    assert!(to_crit.is_empty(), "{to_crit:?}");
    // Notify on the critical status; the notification is logged with its rule.
    let notify = format!(
        r#"{monitor}endpoint = (tables=<-) => tables |> map(fn: (r) => ({{r with _sent: "true"}}))
        monitor.from(start: -1h)
            |> filter(fn: (r) => r._level == "crit")
            |> monitor.notify(
                endpoint: endpoint,
                data: {{_notification_rule_id: "0000000000000002", _notification_rule_name: "page ops",
                        _notification_endpoint_id: "0000000000000003", _notification_endpoint_name: "pager"}},
            )"#
    );
    assert_eq!(rows(&notify).len(), 1);
    let logged = rows(&format!(
        "{monitor}monitor.logs(start: -1h, fn: (r) => true) |> keep(columns: [\"_notification_rule_name\", \"_sent\", \"host\", \"_message\"])"
    ));
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].ends_with(",page ops,true,b,b is crit"), "{logged:?}");
}
