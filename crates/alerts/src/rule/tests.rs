//! Rules' Flux against what InfluxDB 2.7 generates for the same rule and
//! endpoint (the expected scripts of its `notification/rule` tests, as
//! libflux's formatter prints them: those tests compare after formatting, so
//! their one-line `all_statuses` longer than 100 columns is broken here), and
//! 2.7's refusals.

use serde_json::{Value, json};

use super::{Rule, Target};

const RULE_ID: &str = "0000000000000001";

fn target(body: Value) -> Target {
    Target { id: "0000000000000002".into(), name: "foo".into(), body }
}

fn rule(extra: Value) -> Value {
    let mut b = json!({"name": "foo", "endpointID": "0000000000000002", "every": "1h"});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

fn flux(body: Value, endpoint: Value) -> String {
    Rule::read(RULE_ID, &body).unwrap().flux(&target(endpoint)).unwrap()
}

const NOTIFICATION: &str = r#"notification = {
    _notification_rule_id: "0000000000000001",
    _notification_rule_name: "foo",
    _notification_endpoint_id: "0000000000000002",
    _notification_endpoint_name: "foo",
}
"#;

const SLACK_NOTIFY: &str = r#"
all_statuses
    |> monitor["notify"](
        data: notification,
        endpoint:
            slack_endpoint(
                mapFn: (r) =>
                    ({
                        channel: "bar",
                        text: "blah",
                        color:
                            if r["_level"] == "crit" then
                                "danger"
                            else if r["_level"] == "warn" then
                                "warning"
                            else
                                "good",
                    }),
            ),
    )
"#;

fn tags() -> Value {
    json!([{"key": "foo", "value": "bar", "operator": "equal"}, {"key": "baz", "value": "bang", "operator": "equal"}])
}

#[test]
fn a_slack_rule_on_any_status_notifies_every_status_of_its_interval() {
    let body = rule(json!({"type": "slack", "channel": "bar", "messageTemplate": "blah", "tagRules": tags(),
        "statusRules": [{"currentLevel": "ANY"}]}));
    let want = format!(
        r#"import "influxdata/influxdb/monitor"
import "slack"
import "influxdata/influxdb/secrets"
import "experimental"

option task = {{name: "foo", every: 1h}}

slack_endpoint = slack["endpoint"](url: "http://localhost:7777")
{NOTIFICATION}statuses = monitor["from"](start: -2h, fn: (r) => r["foo"] == "bar" and r["baz"] == "bang")
any = statuses |> filter(fn: (r) => true)
all_statuses =
    any |> filter(fn: (r) => r["_time"] >= experimental["subDuration"](from: now(), d: 1h))
{SLACK_NOTIFY}"#
    );
    assert_eq!(flux(body, json!({"type": "slack", "url": "http://localhost:7777"})), want);
}

#[test]
fn several_status_rules_are_a_union_sorted_by_time() {
    let body = rule(json!({"type": "slack", "channel": "bar", "messageTemplate": "blah", "tagRules": tags(),
        "statusRules": [{"currentLevel": "CRIT"}, {"currentLevel": "WARN", "previousLevel": "INFO"}]}));
    let want = format!(
        r#"import "influxdata/influxdb/monitor"
import "slack"
import "influxdata/influxdb/secrets"
import "experimental"

option task = {{name: "foo", every: 1h}}

slack_endpoint = slack["endpoint"](url: "http://localhost:7777")
{NOTIFICATION}statuses = monitor["from"](start: -2h, fn: (r) => r["foo"] == "bar" and r["baz"] == "bang")
crit = statuses |> filter(fn: (r) => r["_level"] == "crit")
info_to_warn = statuses |> monitor["stateChanges"](fromLevel: "info", toLevel: "warn")
all_statuses =
    union(tables: [crit, info_to_warn])
        |> sort(columns: ["_time"])
        |> filter(fn: (r) => r["_time"] >= experimental["subDuration"](from: now(), d: 1h))
{SLACK_NOTIFY}"#
    );
    assert_eq!(flux(body, json!({"type": "slack", "url": "http://localhost:7777"})), want);
}

fn http_want(imports: &str, headers: &str) -> String {
    format!(
        r#"import "influxdata/influxdb/monitor"
import "http"
import "json"
import "experimental"
{imports}
option task = {{name: "foo", every: 1h, offset: 1s}}

{headers}endpoint = http["endpoint"](url: "http://localhost:7777")
{NOTIFICATION}statuses = monitor["from"](start: -2h)
crit = statuses |> filter(fn: (r) => r["_level"] == "crit")
all_statuses =
    crit |> filter(fn: (r) => r["_time"] >= experimental["subDuration"](from: now(), d: 1h))

all_statuses
    |> monitor["notify"](
        data: notification,
        endpoint:
            endpoint(
                mapFn: (r) => {{
                    body = {{r with _version: 1}}

                    return {{headers: headers, data: json["encode"](v: body)}}
                }},
            ),
    )
"#
    )
}

#[test]
fn an_http_rule_posts_the_status_as_json_with_the_endpoints_authorization() {
    let body = rule(json!({"type": "http", "offset": "1s", "statusRules": [{"currentLevel": "CRIT"}]}));
    let none = json!({"type": "http", "url": "http://localhost:7777", "authMethod": "none", "method": "POST"});
    assert_eq!(flux(body.clone(), none), http_want("", "headers = {\"Content-Type\": \"application/json\"}\n"));
    let basic = json!({"type": "http", "url": "http://localhost:7777", "authMethod": "basic", "method": "POST",
        "username": "secret: 000000000000000e-username", "password": "secret: 000000000000000e-password"});
    let headers = r#"headers = {
    "Content-Type": "application/json",
    "Authorization":
        http["basicAuth"](
            u: secrets["get"](key: "000000000000000e-username"),
            p: secrets["get"](key: "000000000000000e-password"),
        ),
}
"#;
    assert_eq!(flux(body, basic), http_want("import \"influxdata/influxdb/secrets\"\n", headers));
}

#[test]
fn a_pagerduty_rule_sends_events_with_the_routing_key_from_secrets() {
    let body = rule(json!({"type": "pagerduty", "messageTemplate": "m", "tagRules": tags(),
        "statusRules": [{"currentLevel": "CRIT"}]}));
    let endpoint = json!({"type": "pagerduty", "clientURL": "http://localhost:7777/host/${r.host}",
        "routingKey": "secret: pagerduty_token"});
    let want = format!(
        r#"import "influxdata/influxdb/monitor"
import "pagerduty"
import "influxdata/influxdb/secrets"
import "experimental"

option task = {{name: "foo", every: 1h}}

pagerduty_secret = secrets["get"](key: "pagerduty_token")
pagerduty_endpoint = pagerduty["endpoint"]()
{NOTIFICATION}statuses = monitor["from"](start: -2h, fn: (r) => r["foo"] == "bar" and r["baz"] == "bang")
crit = statuses |> filter(fn: (r) => r["_level"] == "crit")
all_statuses =
    crit |> filter(fn: (r) => r["_time"] >= experimental["subDuration"](from: now(), d: 1h))

all_statuses
    |> monitor["notify"](
        data: notification,
        endpoint:
            pagerduty_endpoint(
                mapFn: (r) =>
                    ({{
                        routingKey: pagerduty_secret,
                        client: "influxdata",
                        clientURL: "http://localhost:7777/host/${{r.host}}",
                        class: r._check_name,
                        group: r["_source_measurement"],
                        severity: pagerduty["severityFromLevel"](level: r["_level"]),
                        eventAction: pagerduty["actionFromLevel"](level: r["_level"]),
                        source: notification["_notification_rule_name"],
                        summary: r["_message"],
                        timestamp: time(v: r["_source_timestamp"]),
                    }}),
            ),
    )
"#
    );
    assert_eq!(flux(body, endpoint), want);
}

#[test]
fn seconds_are_doubled_and_other_units_widened_by_one() {
    let body = |every: &str| rule(json!({"type": "http", "every": every, "statusRules": [{"currentLevel": "ANY"}]}));
    let none = json!({"type": "http", "url": "http://x", "authMethod": "none", "method": "POST"});
    assert!(flux(body("30s"), none.clone()).contains("monitor[\"from\"](start: -60s)"));
    assert!(flux(body("1h30m"), none.clone()).contains("monitor[\"from\"](start: -2h30m)"));
    assert!(flux(body("5m"), none).contains("monitor[\"from\"](start: -6m)"));
}

#[test]
fn tag_rules_filter_with_their_own_operator() {
    let tags = json!([{"key": "host", "value": "a", "operator": "notequal"},
        {"key": "region", "value": "eu.*", "operator": "equalregex"},
        {"key": "dc", "value": "x", "operator": "notequalregex"}]);
    let body = rule(json!({"type": "http", "tagRules": tags, "statusRules": [{"currentLevel": "ANY"}]}));
    let none = json!({"type": "http", "url": "http://x", "authMethod": "none", "method": "POST"});
    let got = flux(body, none);
    assert!(got.contains(r#"fn: (r) => r["host"] != "a" and r["region"] =~ /eu.*/ and r["dc"] !~ /x/"#), "{got}");
}

#[test]
fn bad_rules_get_2_7s_messages() {
    let refused = |b: Value| Rule::read(RULE_ID, &b).unwrap_err().0;
    assert_eq!(refused(rule(json!({"type": "smtp"}))), "invalid notification type smtp");
    assert_eq!(refused(rule(json!({"type": "slack", "name": ""}))), "Notification Rule Name can't be empty");
    assert_eq!(refused(rule(json!({"type": "slack", "endpointID": "x"}))), "Notification Rule EndpointID is invalid");
    assert_eq!(
        refused(rule(json!({"type": "slack", "offset": "2h", "messageTemplate": "m"}))),
        "Offset should not be equal or greater than the interval"
    );
    assert_eq!(refused(rule(json!({"type": "slack"}))), "slack msg template is empty");
    assert_eq!(refused(rule(json!({"type": "pagerduty"}))), "pagerduty invalid message template");
    assert_eq!(refused(rule(json!({"type": "telegram"}))), "Telegram MessageTemplate is invalid");
    assert_eq!(
        refused(rule(json!({"type": "http", "limit": 0, "limitEvery": 60}))),
        "if limit is set, limit and limitEvery must be larger than 0"
    );
    let odd = json!([{"key": "a", "value": "b", "operator": "like"}]);
    assert_eq!(refused(rule(json!({"type": "http", "tagRules": odd}))), "Operator is invalid");
    let http = Rule::read(RULE_ID, &rule(json!({"type": "http"}))).unwrap();
    assert_eq!(
        http.flux(&target(json!({"type": "slack", "url": "http://x"}))).unwrap_err().0,
        "endpoint provided is a slack, not an HTTP endpoint"
    );
}
