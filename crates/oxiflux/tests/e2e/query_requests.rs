//! What a query request carries beside its text, as the client libraries send
//! it: `extern` (a Flux JSON syntax tree of options evaluated first; the
//! Python client's parameters), `params` (read as `params.<name>`), and the
//! profilers a program enables, whose tables come last, in `_profiler`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TOKEN, TestServer};

fn loaded() -> TestServer {
    let (s, _) = TestServer::onboarded();
    let r = s
        .request(Method::POST, "/api/v2/write?org=acme&bucket=metrics", Some(TOKEN))
        .body("cpu,host=a usage=1 1000000000\ncpu,host=a usage=2 2000000000\ncpu,host=b usage=5 3000000000\n")
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    s
}

fn query(s: &TestServer, path: &str, body: Value) -> (u16, String) {
    let r = s.request(Method::POST, path, Some(TOKEN)).json(&body).send().unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// Annotated CSV read as records, quotes and all (a query plan spans lines).
fn records(csv: &str) -> Vec<Vec<String>> {
    let (mut out, mut record, mut field, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => record.push(std::mem::take(&mut field)),
            '\r' if !quoted => {}
            '\n' if !quoted => {
                record.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut record));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push(record);
    }
    out
}

/// The data rows of annotated CSV, each as (column, value) pairs, with the
/// `#default` result filled in where the row leaves it empty.
fn rows(csv: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let (mut default_result, mut header): (String, Option<Vec<String>>) = (String::new(), None);
    for record in records(csv) {
        let first = record.first().map(String::as_str).unwrap_or_default();
        if record.len() == 1 && first.is_empty() {
            header = None;
        } else if first == "#default" {
            default_result = record.get(1).cloned().unwrap_or_default();
        } else if first.starts_with('#') {
        } else if let Some(h) = &header {
            let mut row: Vec<(String, String)> = h.iter().cloned().zip(record).collect();
            if let Some(r) = row.iter_mut().find(|(k, v)| k == "result" && v.is_empty()) {
                r.1 = default_result.clone();
            }
            out.push(row);
        } else {
            header = Some(record);
        }
    }
    out
}

fn col<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    row.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name} in {row:?}"))
}

fn ident(name: &str) -> Value {
    json!({"type": "Identifier", "name": name})
}

fn option(name: &str, init: Value) -> Value {
    json!({"type": "OptionStatement", "assignment": {"type": "VariableAssignment", "id": ident(name), "init": init}})
}

#[test]
fn extern_options_are_evaluated_before_the_query() {
    let s = loaded();
    // What the Python client sends for params={"bucketParam": "metrics", "hostParam": "a", "stopParam": <datetime>}.
    let ext = json!({"type": "File", "imports": [], "body": [
        option("bucketParam", json!({"type": "StringLiteral", "value": "metrics"})),
        option("hostParam", json!({"type": "StringLiteral", "value": "a"})),
        option("stopParam", json!({"type": "DateTimeLiteral", "value": "1970-01-01T00:00:10.000000000Z"})),
        option("callParam", json!({"type": "CallExpression", "callee": ident("now")})),
    ]});
    let q = "from(bucket: bucketParam)\n  |> range(start: 0, stop: stopParam)\n  |> filter(fn: (r) => r.host == hostParam)\n  |> sum()";
    let (status, csv) = query(&s, "/api/v2/query?org=acme", json!({"query": q, "extern": ext}));
    assert_eq!(status, 200, "{csv}");
    let got = rows(&csv);
    assert_eq!(got.len(), 1, "{csv}");
    assert_eq!(col(&got[0], "_value"), "3");

    // The query's errors keep the query's own line numbers.
    let (status, body) = query(&s, "/api/v2/query?org=acme", json!({"query": "x = 1\ny = nope + 1\ny", "extern": ext}));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("@2:5"), "{body}");

    // An empty extern is what the Python client sends with every query.
    let (status, csv) = query(
        &s,
        "/api/v2/query?org=acme",
        json!({"query": "from(bucket: \"metrics\") |> range(start: 0)", "extern": {"imports": [], "body": []}}),
    );
    assert_eq!(status, 200, "{csv}");

    // A tree that is not Flux is refused with 400, never run.
    for bad in [
        json!({"type": "Query"}),
        json!([]),
        json!({"type": "File", "body": [option("a b", json!({"type": "StringLiteral", "value": "x"}))]}),
        json!({"type": "File", "body": [{"type": "OptionStatement"}]}),
    ] {
        let (status, body) = query(&s, "/api/v2/query?org=acme", json!({"query": "1", "extern": bad}));
        assert_eq!(status, 400, "{body}");
        let err: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(err["code"], "invalid", "{body}");
        assert!(err["message"].as_str().unwrap().starts_with("invalid extern"), "{body}");
    }
}

#[test]
fn params_are_read_as_params_dot_name() {
    let s = loaded();
    let q = "from(bucket: params.bucket)\n  |> range(start: 0)\n  |> filter(fn: (r) => r.host == params.hosts[0] and r._value > params.over)\n  |> count()";
    let body = json!({"query": q, "params": {"bucket": "metrics", "hosts": ["a", "b"], "over": 1.5}});
    let (status, csv) = query(&s, "/api/v2/query?org=acme", body);
    assert_eq!(status, 200, "{csv}");
    let got = rows(&csv);
    assert_eq!(got.len(), 1, "{csv}");
    assert_eq!(col(&got[0], "_value"), "1");

    for (bad, why) in [
        (json!({"query": "1", "params": ["x"]}), "params must be an object"),
        (json!({"query": "1", "params": {"x": null}}), "invalid params: params.x"),
        (json!({"query": "1", "params": {"x": 1}, "extern": {"type": "File", "body": []}}), "params or extern"),
    ] {
        let (status, body) = query(&s, "/api/v2/query?org=acme", bad);
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(why), "{why}: {body}");
    }
}

#[test]
fn analyze_reads_the_query_with_its_extern_and_params() {
    let s = loaded();
    let analyze = |body: Value| {
        let (status, text) = query(&s, "/api/v2/query/analyze", body);
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        v["errors"].as_array().unwrap().len()
    };
    assert_eq!(analyze(json!({"query": "x = stringParam"})), 1);
    let ext = json!({"type": "File", "body": [option("stringParam", json!({"type": "StringLiteral", "value": "s"}))]});
    assert_eq!(analyze(json!({"query": "x = stringParam", "extern": ext})), 0);
    assert_eq!(analyze(json!({"query": "x = params.a", "params": {"a": 1}})), 0);
}

#[test]
fn enabled_profilers_add_their_tables_last_in_the_profiler_result() {
    let s = loaded();
    let q = "import \"profiler\"\noption profiler.enabledProfilers = [\"query\", \"operator\"]\nfrom(bucket: \"metrics\") |> range(start: 0) |> filter(fn: (r) => r.host == \"a\") |> limit(n: 1)";
    let (status, csv) = query(
        &s,
        "/api/v2/query?org=acme",
        json!({"query": q, "dialect": {"annotations": ["datatype", "group", "default"]}}),
    );
    assert_eq!(status, 200, "{csv}");
    let got = rows(&csv);
    let results: Vec<&str> = got.iter().map(|r| col(r, "result")).collect();
    let data = results.iter().take_while(|r| **r == "_result").count();
    assert_eq!(data, 1, "{csv}");
    assert!(results[data..].iter().all(|r| *r == "_profiler"), "{csv}");

    let query_row = got.iter().find(|r| col(r, "_measurement") == "profiler/query").expect("a profiler/query row");
    let total: i64 = col(query_row, "TotalDuration").parse().unwrap();
    let execute: i64 = col(query_row, "ExecuteDuration").parse().unwrap();
    assert!(total > 0 && execute > 0 && execute <= total, "{query_row:?}");
    assert!(col(query_row, "flux/query-plan").starts_with("digraph {"), "{csv}");

    let ops: Vec<&Vec<(String, String)>> =
        got.iter().filter(|r| col(r, "_measurement") == "profiler/operator").collect();
    let kinds: Vec<&str> = ops.iter().map(|r| col(r, "Type")).collect();
    assert!(kinds.contains(&"limit"), "{kinds:?}");
    for op in &ops {
        let count: i64 = col(op, "Count").parse().unwrap();
        let (min, max): (i64, i64) = (col(op, "MinDuration").parse().unwrap(), col(op, "MaxDuration").parse().unwrap());
        assert!(count >= 1 && min <= max, "{op:?}");
    }

    // Through extern, as the Python client enables them (its File has no type), and only those asked for.
    let ext = json!({"imports": [{"type": "ImportDeclaration", "path": {"type": "StringLiteral", "value": "profiler"}}],
        "body": [{"type": "OptionStatement", "assignment": {"type": "MemberAssignment",
            "member": {"type": "MemberExpression", "object": ident("profiler"), "property": ident("enabledProfilers")},
            "init": {"type": "ArrayExpression", "elements": [{"type": "StringLiteral", "value": "operator"}]}}}]});
    let (status, csv) = query(
        &s,
        "/api/v2/query?org=acme",
        json!({"query": "from(bucket: \"metrics\") |> range(start: 0)", "extern": ext}),
    );
    assert_eq!(status, 200, "{csv}");
    let measurements: Vec<String> = rows(&csv)
        .iter()
        .filter(|r| col(r, "result") == "_profiler")
        .map(|r| col(r, "_measurement").to_owned())
        .collect();
    assert!(!measurements.is_empty() && measurements.iter().all(|m| m == "profiler/operator"), "{csv}");

    // What storage handed the scans: the three points written, in bytes of their batches.
    let q = "import \"profiler\"\noption profiler.enabledProfilers = [\"query\"]\nfrom(bucket: \"metrics\") |> range(start: 0)";
    let (status, csv) = query(&s, "/api/v2/query?org=acme", json!({"query": q}));
    assert_eq!(status, 200, "{csv}");
    let got = rows(&csv);
    let profile = got.iter().find(|r| col(r, "_measurement") == "profiler/query").expect("a profiler/query row");
    assert_eq!(col(profile, "influxdb/scanned-values"), "3", "{csv}");
    assert!(col(profile, "influxdb/scanned-bytes").parse::<i64>().unwrap() > 0, "{csv}");

    // Without profilers, no profiler table.
    let (_, csv) =
        query(&s, "/api/v2/query?org=acme", json!({"query": "from(bucket: \"metrics\") |> range(start: 0)"}));
    assert!(!csv.contains("profiler/"), "{csv}");
}
