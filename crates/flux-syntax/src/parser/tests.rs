use super::*;
use serde_json::{Value, json};

fn ast(src: &str) -> Value {
    serde_json::to_value(parse(src).unwrap()).unwrap()
}

fn first_expr(src: &str) -> Value {
    ast(src)["files"][0]["body"][0]["expression"].clone()
}

#[test]
fn a_query_parses_into_flux_shaped_json() {
    let v = ast("from(bucket: \"b\")\n  |> range(start: -1h)");
    assert_eq!(v["type"], "Package");
    assert_eq!(v["package"], "main");
    let file = &v["files"][0];
    assert_eq!(file["type"], "File");
    let stmt = &file["body"][0];
    assert_eq!(stmt["type"], "ExpressionStatement");
    let pipe = &stmt["expression"];
    assert_eq!(pipe["type"], "PipeExpression");
    assert_eq!(pipe["argument"]["type"], "CallExpression");
    assert_eq!(pipe["argument"]["callee"]["name"], "from");
    let args = &pipe["argument"]["arguments"][0];
    assert_eq!(args["type"], "ObjectExpression");
    assert_eq!(
        args["properties"][0]["key"],
        json!({"type": "Identifier", "name": "bucket",
        "location": {"start": {"line": 1, "column": 6}, "end": {"line": 1, "column": 12}, "source": "bucket"}})
    );
    assert_eq!(args["properties"][0]["value"]["value"], "b");
    let range_arg = &pipe["call"]["arguments"][0]["properties"][0]["value"];
    assert_eq!(range_arg["type"], "UnaryExpression");
    assert_eq!(range_arg["operator"], "-");
    assert_eq!(range_arg["argument"]["values"], json!([{"magnitude": 1, "unit": "h"}]));
    assert_eq!(pipe["location"]["start"], json!({"line": 1, "column": 1}));
    assert_eq!(pipe["location"]["end"], json!({"line": 2, "column": 23}));
    assert_eq!(pipe["location"]["source"], "from(bucket: \"b\")\n  |> range(start: -1h)");
}

#[test]
fn precedence_follows_the_spec() {
    // * over +, + over ==, == over and, and over or.
    let e = first_expr("a or b and c == 1 + 2 * 3");
    assert_eq!(e["operator"], "or");
    assert_eq!(e["right"]["operator"], "and");
    assert_eq!(e["right"]["right"]["operator"], "==");
    assert_eq!(e["right"]["right"]["right"]["operator"], "+");
    assert_eq!(e["right"]["right"]["right"]["right"]["operator"], "*");
    assert_eq!(first_expr("1 - 2 - 3")["left"]["operator"], "-");
    assert_eq!(first_expr("not exists r.x")["argument"]["operator"], "exists");
    assert_eq!(first_expr("if a then b else if c then d else e")["alternate"]["type"], "ConditionalExpression");
}

#[test]
fn functions_records_arrays_dicts_and_literals() {
    let v = ast("f = (r, x=10, t=<-) => ({r with y: r.x * x})");
    let init = &v["files"][0]["body"][0]["init"];
    assert_eq!(init["type"], "FunctionExpression");
    assert_eq!(init["params"][2]["value"]["type"], "PipeLiteral");
    assert_eq!(init["body"]["type"], "ParenExpression");
    assert_eq!(init["body"]["expression"]["with"]["source"]["name"], "r");
    assert_eq!(first_expr("[1, 2][0]")["type"], "IndexExpression");
    assert_eq!(first_expr("[\"a\": 1, \"b\": 2]")["elements"][1]["val"]["value"], "2");
    assert_eq!(first_expr("[:]")["type"], "DictExpression");
    assert_eq!(first_expr("r[\"k\"]")["property"]["type"], "StringLiteral");
    assert_eq!(first_expr("2020-01-01")["value"], "2020-01-01T00:00:00Z");
    assert_eq!(
        first_expr("a =~ /x\\/y/")["right"],
        json!({"type": "RegexpLiteral", "value": "x/y",
        "location": {"start": {"line": 1, "column": 6}, "end": {"line": 1, "column": 12}, "source": "/x\\/y/"}})
    );
    assert_eq!(first_expr("8 / 2")["operator"], "/");
    assert_eq!(first_expr("() => { x = 1\n return x }")["body"]["body"][1]["type"], "ReturnStatement");
}

#[test]
fn strings_with_interpolation() {
    let e = first_expr("\"a ${b + 1} \\\"c\\\"\"");
    assert_eq!(e["type"], "StringExpression");
    assert_eq!(
        e["parts"][0],
        json!({"type": "TextPart", "value": "a ",
        "location": {"start": {"line": 1, "column": 2}, "end": {"line": 1, "column": 4}, "source": "a "}})
    );
    assert_eq!(e["parts"][1]["type"], "InterpolatedPart");
    assert_eq!(e["parts"][1]["expression"]["operator"], "+");
    assert_eq!(e["parts"][2]["value"], " \"c\"");
    assert_eq!(first_expr("\"plain\\n\"")["value"], "plain\n");
}

#[test]
fn files_with_package_imports_options_testcases_and_attributes() {
    let v = ast(
        "package foo\nimport \"strings\"\nimport s \"strings\"\noption now = () => 2020-01-01T00:00:00Z\noption task = {name: \"t\", every: 1h}\n@edition(\"2022.1\")\ntestcase t extends \"x\" { a = 1 }\nbuiltin f : (v: A) => A\n",
    );
    assert_eq!(v["package"], "foo");
    let file = &v["files"][0];
    assert_eq!(file["package"]["name"]["name"], "foo");
    assert_eq!(file["imports"][1]["as"]["name"], "s");
    assert_eq!(file["imports"][0]["path"]["value"], "strings");
    assert_eq!(file["body"][0]["type"], "OptionStatement");
    assert_eq!(file["body"][0]["assignment"]["type"], "VariableAssignment");
    assert_eq!(file["body"][2]["type"], "TestCaseStatement");
    assert_eq!(file["body"][2]["attributes"][0]["name"], "edition");
    assert_eq!(file["body"][2]["extends"]["value"], "x");
    assert_eq!(file["body"][3]["type"], "BuiltinStatement");
    assert_eq!(file["body"][3]["ty"]["location"]["source"], "(v: A) => A");
    let m = ast("option task.every = 2h");
    assert_eq!(m["files"][0]["body"][0]["assignment"]["type"], "MemberAssignment");
}

#[test]
fn errors_carry_line_and_column() {
    let err = |s: &str| parse(s).unwrap_err();
    assert_eq!((err("a = \n  (1 + )").line, err("a = \n  (1 + )").column), (2, 8));
    assert!(err("x |> 1").message.contains("pipe destination must be a function call"));
    assert_eq!(err("f(a: 1").message, "expected \")\", got end of input");
    assert!(err("9223372036854775808").message.contains("out of range"));
    assert!(err("\"a\\q\"").message.contains("invalid escape"));
}
