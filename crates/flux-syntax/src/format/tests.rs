//! The layouts Flux's formatter gives, checked on scripts as InfluxDB 2.7
//! prints them (its check and rule tests' expected scripts) and on the
//! shapes that decide a layout: breaking, hanging, trailing commas, blank
//! lines, parentheses.

use crate::parse_file;

/// Formats `src`; formatting the answer again changes nothing.
fn format(src: &str) -> String {
    let once = super::file(&parse_file(src).unwrap());
    let twice = super::file(&parse_file(&once).unwrap());
    assert_eq!(once, twice, "formatting is not stable:\n{once}");
    once
}

#[test]
fn a_formatted_threshold_check_is_kept_as_it_is() {
    // As 2.7 generates it; the check record is longer than a line, so it is broken.
    let script = r#"import "influxdata/influxdb/monitor"
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
    assert_eq!(format(script), script);
}

#[test]
fn a_long_pipeline_on_one_line_is_broken_a_call_a_line() {
    let src = r#"data = from(bucket: "foo") |> range(start: -1h) |> filter(fn: (r) => r._field == "usage_user") |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)"#;
    assert_eq!(
        format(src),
        r#"data =
    from(bucket: "foo")
        |> range(start: -1h)
        |> filter(fn: (r) => r._field == "usage_user")
        |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)
"#
    );
}

#[test]
fn short_pipelines_stay_on_their_line_unless_the_source_broke_them() {
    assert_eq!(
        format("x = from(bucket: \"b\") |> range(start: -1h)"),
        "x = from(bucket: \"b\") |> range(start: -1h)\n"
    );
    assert_eq!(
        format("from(bucket: \"b\")\n  |> range(start: -1h)"),
        "from(bucket: \"b\")\n    |> range(start: -1h)\n"
    );
}

#[test]
fn more_than_four_arguments_or_fields_are_one_a_line() {
    assert_eq!(format("f(a: 1, b: 2, c: 3, d: 4)"), "f(a: 1, b: 2, c: 3, d: 4)\n");
    assert_eq!(
        format("f(a: 1, b: 2, c: 3, d: 4, e: 5)"),
        "f(\n    a: 1,\n    b: 2,\n    c: 3,\n    d: 4,\n    e: 5,\n)\n"
    );
    assert_eq!(
        format("x = {a: 1, b: 2, c: 3, d: 4, e: 5}"),
        "x = {\n    a: 1,\n    b: 2,\n    c: 3,\n    d: 4,\n    e: 5,\n}\n"
    );
    assert_eq!(format("x = [1, 2, 3, 4, 5]"), "x = [\n    1,\n    2,\n    3,\n    4,\n    5,\n]\n");
}

#[test]
fn a_function_with_a_record_body_hangs_after_its_arrow() {
    let src = r#"notification = {_notification_rule_id: "0000000000000001", _notification_rule_name: "foo", _notification_endpoint_id: "0000000000000002", _notification_endpoint_name: "foo"}"#;
    assert_eq!(
        format(src),
        r#"notification = {
    _notification_rule_id: "0000000000000001",
    _notification_rule_name: "foo",
    _notification_endpoint_id: "0000000000000002",
    _notification_endpoint_name: "foo",
}
"#
    );
    let mapfn = r#"all_statuses |> monitor["notify"](data: notification, endpoint: slack_endpoint(mapFn: (r) => ({channel: "bar", text: "blah", color: if r["_level"] == "crit" then "danger" else if r["_level"] == "warn" then "warning" else "good"})))"#;
    assert_eq!(
        format(mapfn),
        r#"all_statuses
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
"#
    );
}

#[test]
fn blank_lines_separate_kinds_of_statement_and_stay_where_the_source_had_them() {
    assert_eq!(format("a = 1\nb = 2\n\n\nc = 3\noption x = 1\nx"), "a = 1\nb = 2\n\nc = 3\n\noption x = 1\n\nx\n");
}

#[test]
fn parentheses_only_where_the_tree_needs_them() {
    assert_eq!(format("x = (1 + 2) * 3"), "x = (1 + 2) * 3\n");
    assert_eq!(format("x = 1 + (2 * 3)"), "x = 1 + 2 * 3\n");
    assert_eq!(format("x = 1 - (2 - 3)"), "x = 1 - (2 - 3)\n");
    assert_eq!(format("x = not (a and b)"), "x = not (a and b)\n");
    assert_eq!(format("f = (r) => ({r with a: 1})"), "f = (r) => ({r with a: 1})\n");
    assert_eq!(format("f = (r=<-, x=1) => r"), "f = (r=<-, x=1) => r\n");
}

#[test]
fn literals_keep_their_source_and_generated_floats_get_a_point() {
    assert_eq!(format(r#"x = "a\"b" + "c""#), "x = \"a\\\"b\" + \"c\"\n");
    assert_eq!(
        format("x = 1.50\ny = 1h30m\nz = /a\\/b/\nt = 2020-01-01T00:00:00Z"),
        "x = 1.50\ny = 1h30m\nz = /a\\/b/\nt = 2020-01-01T00:00:00Z\n"
    );
    let generated = crate::ast::Expression::FloatLiteral { base: Default::default(), value: 10.0 };
    assert_eq!(super::expression(&generated), "10.0");
}

#[test]
fn a_block_body_is_indented_under_its_function() {
    assert_eq!(format("f = (x) => {\ny = x + 1\nreturn y\n}"), "f = (x) => {\n    y = x + 1\n\n    return y\n}\n");
}
