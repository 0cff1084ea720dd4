//! Checks' Flux against what InfluxDB 2.7 generates for the same check (the
//! expected scripts of its `notification/check` tests, as its formatter
//! prints them), and 2.7's refusals.

use serde_json::{Value, json};

use super::Check;

fn threshold(query: &str) -> Value {
    json!({
        "type": "threshold",
        "name": "moo",
        "every": "1h",
        "statusMessageTemplate": "whoa! {r[\"usage_user\"]}",
        "tags": [{"key": "aaa", "value": "vaaa"}, {"key": "bbb", "value": "vbbb"}],
        "query": {"text": query},
        "thresholds": [
            {"type": "greater", "level": "OK", "value": 10},
            {"type": "lesser", "level": "INFO", "value": 40},
            {"type": "range", "level": "WARN", "min": 10, "max": 40, "within": true},
            {"type": "range", "level": "CRIT", "min": 10, "max": 40, "within": false},
        ],
    })
}

fn flux(body: &Value) -> String {
    Check::read("000000000000000a", body).unwrap().flux().unwrap()
}

const ALL_LEVELS: &str = r#"import "influxdata/influxdb/monitor"
import "influxdata/influxdb/v1"

data =
    from(bucket: "foo")
        |> range(start: -1h)
        |> filter(fn: (r) => r._field == "usage_user")
        |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)

option task = {name: "moo", every: 1h}

check = {
    _check_id: "000000000000000a",
    _check_name: "moo",
    _type: "threshold",
    tags: {aaa: "vaaa", bbb: "vbbb"},
}
ok = (r) => r["usage_user"] > 10.0
info = (r) => r["usage_user"] < 40.0
warn = (r) => r["usage_user"] < 40.0 and r["usage_user"] > 10.0
crit = (r) => r["usage_user"] < 10.0 or r["usage_user"] > 40.0
messageFn = (r) => "whoa! {r[\"usage_user\"]}"

data
    |> v1["fieldsAsCols"]()
    |> monitor["check"](
        data: check,
        messageFn: messageFn,
        ok: ok,
        info: info,
        warn: warn,
        crit: crit,
    )
"#;

#[test]
fn a_threshold_check_runs_its_query_over_its_interval_with_a_predicate_a_level() {
    let with_stop = r#"from(bucket: "foo") |> range(start: -1d, stop: now()) |> filter(fn: (r) => r._field == "usage_user") |> aggregateWindow(every: 1m, fn: mean) |> yield()"#;
    assert_eq!(flux(&threshold(with_stop)), ALL_LEVELS);
    let without_yield = r#"from(bucket: "foo") |> range(start: -1d) |> filter(fn: (r) => r._field == "usage_user") |> aggregateWindow(every: 1m, fn: mean)"#;
    assert_eq!(flux(&threshold(without_yield)), ALL_LEVELS);
}

#[test]
fn a_field_with_a_space_is_written_as_a_string_member() {
    let q = r#"from(bucket: "foo") |> range(start: -1d) |> filter(fn: (r) => r._field == "usage user") |> aggregateWindow(every: 1m, fn: mean) |> yield()"#;
    let got = flux(&threshold(q));
    assert!(got.contains("        |> filter(fn: (r) => r._field == \"usage user\")\n"), "{got}");
    assert!(got.contains("warn = (r) => r[\"usage user\"] < 40.0 and r[\"usage user\"] > 10.0\n"), "{got}");
}

#[test]
fn a_deadman_check_looks_at_raw_points_since_its_stale_time() {
    let body = |q: &str| {
        json!({
            "type": "deadman", "name": "moo", "every": "1h", "level": "INFO",
            "statusMessageTemplate": "whoa! {r[\"dead\"]}", "timeSince": "60s", "staleTime": "10m",
            "tags": [{"key": "aaa", "value": "vaaa"}, {"key": "bbb", "value": "vbbb"}],
            "query": {"text": q},
        })
    };
    let want = r#"import "influxdata/influxdb/monitor"
import "experimental"
import "influxdata/influxdb/v1"

data = from(bucket: "foo") |> range(start: -10m)

option task = {name: "moo", every: 1h}

check = {
    _check_id: "000000000000000a",
    _check_name: "moo",
    _type: "deadman",
    tags: {aaa: "vaaa", bbb: "vbbb"},
}
info = (r) => r["dead"]
messageFn = (r) => "whoa! {r[\"dead\"]}"

data
    |> v1["fieldsAsCols"]()
    |> monitor["deadman"](t: experimental["subDuration"](from: now(), d: 60s))
    |> monitor["check"](data: check, messageFn: messageFn, info: info)
"#;
    let windowed =
        r#"from(bucket: "foo") |> range(start: -1d, stop: now()) |> aggregateWindow(fn: mean, every: 1m) |> yield()"#;
    assert_eq!(flux(&body(windowed)), want);
    assert_eq!(flux(&body(r#"from(bucket: "foo") |> range(start: -1d, stop: now()) |> yield()"#)), want);
}

#[test]
fn an_offset_goes_into_the_task_option() {
    let mut body =
        threshold(r#"from(bucket: "foo") |> range(start: -1d) |> filter(fn: (r) => r._field == "usage_user")"#);
    body["offset"] = json!("5m");
    assert!(flux(&body).contains("option task = {name: \"moo\", every: 1h, offset: 5m}\n"));
}

#[test]
fn a_custom_check_runs_its_own_flux_with_its_own_id() {
    let q = "import \"influxdata/influxdb/monitor\"\n\noption task = {name: \"c\", every: 1m, offset: 0s}\n\ncheck = {_check_id: \"x\", _check_name: \"c\", _type: \"custom\", tags: {}}\n\nfrom(bucket: \"b\") |> range(start: -1m) |> monitor.check(data: check, messageFn: (r) => \"m\")\n";
    let body = json!({"type": "custom", "name": "c", "query": {"text": q}});
    let got = flux(&body);
    assert!(
        got.contains("check = {_check_id: \"000000000000000a\", _check_name: \"c\", _type: \"custom\", tags: {}}"),
        "{got}"
    );
    assert!(got.contains("option task = {name: \"c\", every: 1m, offset: 0s}"), "{got}");
}

fn refused(body: Value) -> String {
    Check::read("000000000000000a", &body).and_then(|c| c.flux()).unwrap_err().0
}

#[test]
fn bad_checks_get_2_7s_messages() {
    let q = r#"from(bucket: "foo") |> range(start: -1d) |> filter(fn: (r) => r._field == "usage_user")"#;
    let with = |k: &str, v: Value| {
        let mut b = threshold(q);
        b[k] = v;
        b
    };
    assert_eq!(refused(with("type", json!("nope"))), "invalid check type nope");
    assert_eq!(refused(with("name", json!(""))), "Check Name can't be empty");
    assert_eq!(refused(with("every", Value::Null)), "Check Every must exist");
    assert_eq!(refused(with("offset", json!("1h"))), "Offset should not be equal or greater than the interval");
    let range = json!([{"type": "range", "level": "CRIT", "min": 50, "max": 40}]);
    assert_eq!(refused(with("thresholds", range)), "range threshold min can't be larger than max");
    let odd = json!([{"type": "between", "level": "CRIT"}]);
    assert_eq!(refused(with("thresholds", odd)), "invalid threshold type between");
    let levelless = json!([{"type": "greater", "value": 1}]);
    assert!(refused(with("thresholds", levelless)).contains("level is required"));
    let two_fields =
        r#"from(bucket: "foo") |> range(start: -1d) |> filter(fn: (r) => r._field == "a" or r._field == "b")"#;
    assert_eq!(refused(with("query", json!({"text": two_fields}))), "expected a single field but got: [a b]");
    let deadman = |drop: &str| {
        let mut b = json!({"type": "deadman", "name": "d", "every": "1m", "level": "CRIT", "timeSince": "90s",
            "staleTime": "10m", "query": {"text": q}});
        b.as_object_mut().unwrap().remove(drop);
        refused(b)
    };
    assert_eq!(deadman("timeSince"), "deadman check timeSince is required");
    assert_eq!(deadman("staleTime"), "deadman check staleTime is required");
    let custom = |q: &str| refused(json!({"type": "custom", "name": "c", "query": {"text": q}}));
    assert_eq!(custom("x = 1"), "Custom flux must have an object called 'check'");
    assert_eq!(custom("check = {_check_name: \"c\", _type: \"custom\"}"), "Custom flux missing task option statement");
    assert_eq!(
        custom("check = {_check_name: \"c\", _type: \"custom\"}\noption task = {name: \"c\", every: 1m}"),
        "Custom flux missing offset parameter from task option statement"
    );
}
