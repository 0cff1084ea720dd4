use serde_json::{Value, json};

use super::*;
use crate::Spec;

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    json!({ "apiVersion": "influxdata.com/v2alpha1", "kind": kind, "metadata": { "name": name }, "spec": spec })
}

fn faults(objects: &[Value]) -> Vec<String> {
    read(objects, &Envs::new()).unwrap_err().iter().map(ToString::to_string).collect()
}

#[test]
fn a_bucket_with_a_label_reads_with_its_association() {
    let t = read(
        &[
            obj("Label", "lbl", json!({ "color": "#fff" })),
            obj(
                "Bucket",
                "bkt",
                json!({
                    "name": "Bucket One",
                    "retentionRules": [{ "type": "expire", "everySeconds": 2.592e6 }],
                    "associations": [{ "kind": "Label", "name": "lbl" }],
                }),
            ),
        ],
        &Envs::new(),
    )
    .unwrap();
    assert_eq!(t.resources.len(), 2);
    let b = &t.resources[1];
    assert_eq!((b.meta_name.as_str(), b.name.as_str()), ("bkt", "Bucket One"));
    assert_eq!(b.labels, ["lbl"]);
    assert_eq!(b.spec, Spec::Bucket { description: String::new(), retention_seconds: 2_592_000 });
    assert_eq!(b.api_body("0000000000000001")["retentionRules"][0]["everySeconds"], 2_592_000);
}

#[test]
fn every_fault_is_reported_with_its_place() {
    let got = faults(&[
        obj("Bucket", "bk", json!({ "retentionRules": [{ "type": "forever", "everySeconds": 60 }] })),
        obj(
            "Dashboard",
            "dash",
            json!({ "charts": [
            { "kind": "Xy", "width": 4, "height": 4, "geom": "line", "axes": [{ "name": "x" }, { "name": "y" }] },
            { "kind": "Gauge", "width": 0, "height": 4, "colors": [{ "type": "min", "hex": "" }, { "type": "max", "hex": "#000" }] },
        ] }),
        ),
        obj("Label", "Not_DNS", json!({})),
        obj("Task", "t", json!({ "associations": [{ "kind": "Label", "name": "nope" }] })),
        json!({ "apiVersion": "influxdata.com/v2alpha1", "kind": "bucket", "metadata": { "name": "x" } }),
    ]);
    assert_eq!(
        got,
        [
            r#"kind=Bucket field=root[0].spec.retentionRules[0].everySeconds reason="seconds must be a minimum of 3600""#,
            r#"kind=Bucket field=root[0].spec.retentionRules[0].type reason="type must be \"expire\"""#,
            r#"kind=Dashboard field=root[1].spec.charts[1].width reason="must be greater than 0""#,
            r#"kind=Dashboard field=root[1].spec.charts[1].colors[0].hex reason="a color must have a hex value provided""#,
            "kind=Label field=root[2].metadata.name reason=\"name \\\"Not_DNS\\\" is invalid; a DNS-1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')\"",
            r#"kind=Task field=root[3].spec.every reason="must provide if cron field is not provided""#,
            r#"kind=Task field=root[3].spec.cron reason="must provide if every field is not provided""#,
            r#"kind=Task field=root[3].spec.query reason="must provide a non zero value""#,
            r#"kind=Task field=root[3].associations[0] reason="label \"nope\" does not exist in pkg""#,
            r#"kind=bucket field=root[4].kind reason="unsupported kind provided""#,
        ]
    );
}

#[test]
fn names_are_unique_per_kind_but_may_repeat_across_kinds() {
    let got = faults(&[
        obj("Label", "same", json!({})),
        obj("Dashboard", "same", json!({})),
        obj("Label", "same", json!({})),
        obj("Variable", "v1", json!({ "name": "v", "type": "constant", "values": ["a"] })),
        obj("Variable", "v2", json!({ "name": "v", "type": "constant", "values": ["a"] })),
    ]);
    assert_eq!(
        got,
        [
            r#"kind=Label field=root[2].metadata.name reason="duplicate name: same""#,
            r#"kind=Variable field=root[4].spec.name reason="duplicate name: v2""#,
        ]
    );
}

#[test]
fn env_refs_take_the_given_value_else_the_default_else_env_key() {
    let objects = [
        obj("Bucket", "b1", json!({ "name": { "envRef": { "key": "bucket-name" } } })),
        obj("Bucket", "b2", json!({ "name": { "envRef": { "key": "other", "default": "fallback" } } })),
    ];
    let t = read(&objects, &Envs::new()).unwrap();
    assert_eq!(t.resources[0].name, "env-bucket-name");
    assert_eq!(t.resources[1].name, "fallback");
    assert_eq!(t.missing_envs, ["bucket-name", "other"]);
    let mut envs = Envs::new();
    envs.insert("bucket-name".into(), json!("given"));
    let t = read(&objects, &envs).unwrap();
    assert_eq!(t.resources[0].name, "given");
    assert_eq!(t.missing_envs, ["other"]);
    assert_eq!(t.resources[0].env_references[0]["envRefKey"], "bucket-name");
    assert_eq!(t.resources[0].env_references[0]["value"], "given");
}

#[test]
fn a_task_gets_its_schedule_as_an_option_after_its_imports() {
    let t = read(
        &[obj(
            "Task",
            "t",
            json!({
                "name": "Downsample", "every": "1h0m0s", "offset": "5m",
                "query": "import \"strings\"\nimport \"math\"\n\nfrom(bucket: \"b\")\n  |> range(start: -task.every)",
            }),
        )],
        &Envs::new(),
    )
    .unwrap();
    let Spec::Task { flux, status, .. } = &t.resources[0].spec else { panic!("not a task") };
    assert_eq!(status, "active");
    assert_eq!(
        flux,
        "import \"strings\"\nimport \"math\"\n\noption task = { name: \"Downsample\", every: 1h0m0s, offset: 5m0s }\n\nfrom(bucket: \"b\")\n  |> range(start: -task.every)"
    );
}

/// A threshold check, an HTTP endpoint and a rule sending to it.
fn alerting() -> Vec<Value> {
    vec![
        obj(
            "CheckThreshold",
            "cpu",
            json!({
                "every": "1m", "query": "from(bucket: \"t\")", "statusMessageTemplate": "m",
                "thresholds": [{ "type": "greater", "level": "crit", "value": 1e9 }, { "type": "inside_range", "level": "OK", "min": 1, "max": 2 }],
            }),
        ),
        obj(
            "NotificationEndpointHTTP",
            "hook",
            json!({ "url": "http://127.0.0.1:1/x", "method": "post", "type": "bearer", "token": { "secretRef": { "key": "tok" } } }),
        ),
        obj(
            "NotificationRule",
            "rule",
            json!({ "endpointName": "hook", "every": "5m", "statusRules": [{ "currentLevel": "CRIT", "previousLevel": "OK" }] }),
        ),
    ]
}

#[test]
fn checks_endpoints_and_rules_become_their_api_bodies() {
    let mut lost = alerting();
    lost.push(obj(
        "NotificationRule",
        "lost",
        json!({ "endpointName": "gone", "every": "5m", "statusRules": [{ "currentLevel": "CRIT" }] }),
    ));
    let t = read(&lost, &Envs::new()).unwrap_err();
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].to_string(),
        r#"kind=NotificationRule field=root[3].spec.endpointName reason="notification endpoint \"gone\" does not exist in pkg""#
    );

    let t = read(&alerting(), &Envs::new()).unwrap();
    let check = t.resources[0].api_body("0000000000000001");
    assert_eq!(check["type"], "threshold");
    assert_eq!(check["every"], "1m0s");
    assert_eq!(check["thresholds"][0], json!({ "type": "greater", "level": "CRIT", "value": 1e9, "allValues": false }));
    assert_eq!(check["thresholds"][1]["within"], true);
    let hook = t.resources[1].api_body("0000000000000001");
    assert_eq!(
        (hook["method"].as_str(), hook["authMethod"].as_str(), hook["token"].as_str()),
        (Some("POST"), Some("bearer"), Some("secret: tok"))
    );
    assert_eq!(t.secrets, ["tok"]);
    let rule = t.resources[2].rule_body("0000000000000001", "00000000000000ee", "http");
    assert_eq!((rule["endpointID"].as_str(), rule["type"].as_str()), (Some("00000000000000ee"), Some("http")));
    assert_eq!(rule["statusRules"][0], json!({ "currentLevel": "CRIT", "previousLevel": "OK" }));
}

#[test]
fn charts_become_the_views_the_ui_draws() {
    let t = read(
        &[obj("Dashboard", "dash", json!({ "charts": [
            { "kind": "Single_Stat_Plus_Line", "name": "cpu", "xPos": 1, "width": 6, "height": 3, "decimalPlaces": 2,
              "queries": [{ "query": " from(bucket: \"b\") " }], "axes": [{ "name": "x", "base": 10 }, { "name": "y" }],
              "colors": [{ "type": "text", "hex": "#fff", "value": -30 }], "position": "overlaid" },
            { "kind": "markdown", "note": "# hi", "queries": null },
            { "kind": "Heatmap", "width": 1, "height": 1, "colors": [{ "hex": "#000004" }], "axes": [{ "name": "x", "domain": [-140, -90] }, { "name": "y" }] },
        ] }))],
        &Envs::new(),
    )
    .unwrap();
    let Spec::Dashboard { cells, .. } = &t.resources[0].spec else { panic!("not a dashboard") };
    let p = &cells[0].properties;
    assert_eq!((cells[0].x, cells[0].y, cells[0].w, cells[0].h), (1, 0, 6, 3));
    assert_eq!(p["type"], "line-plus-single-stat");
    assert_eq!(p["queries"][0]["text"], "from(bucket: \"b\")");
    assert_eq!(p["decimalPlaces"], json!({ "isEnforced": true, "digits": 2 }));
    assert_eq!(p["axes"]["x"]["base"], "10");
    assert_eq!(p["colors"][0]["value"], -30.0);
    assert_eq!(cells[1].properties, json!({ "shape": "chronograf-v2", "type": "markdown", "note": "# hi" }));
    assert_eq!(cells[2].properties["colors"], json!(["#000004"]));
    assert_eq!(cells[2].properties["xDomain"], json!([-140.0, -90.0]));

    let back = crate::chart::export(1, 0, 6, 3, "cpu", p).unwrap();
    assert_eq!(back["kind"], "Single_Stat_Plus_Line");
    assert_eq!(back["xPos"], 1);
    assert_eq!(back["decimalPlaces"], 2);
    assert_eq!(back["queries"], json!([{ "query": "from(bucket: \"b\")" }]));
}
