use serde_json::{Value, json};

use crate::{Envs, Spec, read};

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    json!({ "apiVersion": "influxdata.com/v2alpha1", "kind": kind, "metadata": { "name": name }, "spec": spec })
}

fn task_query(t: &crate::Template) -> &str {
    match &t.resources[0].spec {
        Spec::Task { query, .. } => query,
        other => panic!("not a task: {other:?}"),
    }
}

const QUERY: &str = r#"option params = {bucket: "telegraf", n: 5, window: 1m}

from(bucket: params.bucket) |> range(start: -params.window) |> limit(n: params.n)"#;

#[test]
fn a_tasks_params_take_the_given_value_else_the_written_one() {
    let objects = [obj("Task", "t", json!({ "every": "1m", "query": QUERY }))];
    let mut envs = Envs::new();
    envs.insert("tasks[t].spec.params.bucket".into(), json!("other \"one\""));
    envs.insert("tasks[t].spec.params.window".into(), json!("2h"));
    let t = read(&objects, &envs).unwrap();
    let q = task_query(&t);
    assert!(q.starts_with(r#"option params = {bucket: "other \"one\"", n: 5, window: 2h}"#), "{q}");
    assert!(q.contains("limit(n: params.n)"), "{q}");
    assert_eq!(t.missing_envs, ["tasks[t].spec.params.n"]);
    let refs = &t.resources[0].env_references;
    let n = refs.iter().find(|r| r["envRefKey"] == "tasks[t].spec.params.n").unwrap();
    assert_eq!(
        (&n["resourceField"], &n["valueType"], &n["defaultValue"]),
        (&json!("spec.params.n"), &json!("int"), &json!(5))
    );
    let b = refs.iter().find(|r| r["envRefKey"] == "tasks[t].spec.params.bucket").unwrap();
    assert_eq!(b["value"], "other \"one\"");
}

#[test]
fn declared_params_give_defaults_and_types_and_a_missing_property_is_added() {
    let spec = json!({
        "every": "1h",
        "query": QUERY,
        "params": [{ "key": "n", "default": 10, "type": "int" }, { "key": "extra", "default": 1.5, "type": "float" }],
    });
    let t = read(&[obj("Task", "t", spec)], &Envs::new()).unwrap();
    let q = task_query(&t);
    assert!(q.starts_with(r#"option params = {bucket: "telegraf", n: 10, window: 1m, extra: 1.5}"#), "{q}");
}

#[test]
fn a_query_without_option_params_is_stored_as_written() {
    let query = "from(bucket: \"b\")  // a comment\n  |> range(start: -1h)";
    let t = read(&[obj("Task", "t", json!({ "every": "1h", "query": query }))], &Envs::new()).unwrap();
    assert_eq!(task_query(&t), query);
    assert!(t.missing_envs.is_empty());
}

#[test]
fn a_chart_querys_params_are_named_by_dashboard_chart_and_query() {
    let chart = json!({
        "kind": "Single_Stat", "name": "c", "width": 2, "height": 2, "xPos": 0, "yPos": 0,
        "colors": [{ "name": "laser", "type": "text", "hex": "#00C9FF" }],
        "queries": [{ "query": "from(bucket: \"x\") |> range(start: -1h)" }, { "query": QUERY }],
    });
    let mut envs = Envs::new();
    envs.insert("dashboards[d].spec.charts[0].queries[1].params.n".into(), json!(7));
    let t = read(&[obj("Dashboard", "d", json!({ "name": "dd", "charts": [chart] }))], &envs).unwrap();
    let Spec::Dashboard { cells, .. } = &t.resources[0].spec else { panic!("not a dashboard") };
    let text = cells[0].properties["queries"][1]["text"].as_str().unwrap();
    assert!(text.starts_with(r#"option params = {bucket: "telegraf", n: 7, window: 1m}"#), "{text}");
    assert_eq!(
        t.missing_envs,
        [
            "dashboards[d].spec.charts[0].queries[1].params.bucket",
            "dashboards[d].spec.charts[0].queries[1].params.window"
        ]
    );
}
