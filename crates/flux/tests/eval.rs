//! The language's scalar semantics, as SPEC.md states them.

use flux::{Value, eval};

fn ev(src: &str) -> Value {
    eval(src, 1_600_000_000_000_000_000).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn fails(src: &str) -> String {
    eval(src, 0).unwrap_err().to_string()
}

#[test]
fn arithmetic_and_comparison() {
    assert_eq!(ev("1 + 2 * 3"), Value::Int(7));
    assert_eq!(ev("7 / 2"), Value::Int(3));
    assert_eq!(ev("7.0 / 2.0"), Value::Float(3.5));
    assert_eq!(ev("2.0 ^ 3.0"), Value::Float(8.0));
    assert_eq!(ev("\"a\" + \"b\""), Value::String("ab".into()));
    assert_eq!(ev("1 < 2.5"), Value::Bool(true));
    assert_eq!(ev("\"abc\" =~ /b/"), Value::Bool(true));
    assert_eq!(ev("\"abc\" !~ /^b/"), Value::Bool(true));
    assert!(fails("1 / 0").contains("cannot divide by zero"));
    assert!(fails("1 + 1.0").contains("invalid binary operator + for types int and float"));
}

#[test]
fn nulls_follow_the_spec() {
    // "Any non-boolean operator that operates on basic types returns null when
    // at least one of its operands is null", and ternary logic for and/or.
    assert_eq!(ev("r = {a: 1}\nr.b + 5"), Value::Null);
    assert_eq!(ev("r = {}\nr.x == r.y"), Value::Null);
    assert_eq!(ev("r = {}\nr.x or true"), Value::Bool(true));
    assert_eq!(ev("r = {}\nr.x and false"), Value::Bool(false));
    assert_eq!(ev("r = {}\nr.x and true"), Value::Null);
    assert_eq!(ev("r = {}\nnot r.x"), Value::Null);
    assert_eq!(ev("r = {a: 1}\nexists r.a and not exists r.b"), Value::Bool(true));
    assert_eq!(ev("r = {}\nif r.x then 1 else 2"), Value::Int(2));
}

#[test]
fn functions_defaults_pipes_and_closures() {
    assert_eq!(ev("add = (a, b=10) => a + b\nadd(a: 1)"), Value::Int(11));
    assert_eq!(ev("n = 2\nf = (x) => x * n\nf(x: 21)"), Value::Int(42));
    assert_eq!(ev("inc = (v=<-) => v + 1\n1 |> inc() |> inc()"), Value::Int(3));
    assert_eq!(ev("f = () => {\n  a = 1\n  b = a + 1\n  return b * 10\n}\nf()"), Value::Int(20));
    assert!(fails("f = (a) => a\nf(b: 1)").contains("unknown argument b"));
    assert!(fails("f = (a) => a\nf()").contains("missing required argument a"));
}

#[test]
fn records_arrays_dicts_and_strings() {
    assert_eq!(ev("r = {a: 1, b: 2}\ns = {r with b: 3, c: 4}\ns.b + s.c + s.a"), Value::Int(8));
    assert_eq!(ev("a = [1, 2, 3]\na[1] + length(arr: a)"), Value::Int(5));
    assert_eq!(ev("contains(value: 2, set: [1, 2])"), Value::Bool(true));
    assert_eq!(ev("x = 5\n\"x is ${x}, doubled ${x * 2}\""), Value::String("x is 5, doubled 10".into()));
    assert_eq!(ev("r = {\"k k\": 1}\nr[\"k k\"]"), Value::Int(1));
    assert!(fails("[1][3]").contains("cannot access element 3 of array of length 1"));
}

#[test]
fn times_and_durations() {
    assert_eq!(ev("2018-01-31T00:00:00Z + 1mo"), ev("2018-02-28T00:00:00Z"));
    assert_eq!(ev("2018-01-01T00:00:00Z + 1d"), ev("2018-01-02T00:00:00Z"));
    assert_eq!(ev("2018-01-01T00:00:00Z - 1h"), ev("2017-12-31T23:00:00Z"));
    assert_eq!(ev("string(v: 1h30m)"), Value::String("1h30m".into()));
    assert_eq!(ev("string(v: -1mo5d)"), Value::String("-1mo5d".into()));
    assert_eq!(ev("now()"), Value::Time(1_600_000_000_000_000_000));
    assert_eq!(ev("option now = () => 2020-01-01T00:00:00Z\nnow()"), ev("2020-01-01T00:00:00Z"));
    assert_eq!(ev("int(v: 1s)"), Value::Int(1_000_000_000));
    assert_eq!(ev("duration(v: \"2h\") == 2h"), Value::Bool(true));
}

#[test]
fn conversions() {
    assert_eq!(ev("int(v: \"42\")"), Value::Int(42));
    assert_eq!(ev("float(v: 1)"), Value::Float(1.0));
    assert_eq!(ev("string(v: 1.5)"), Value::String("1.5".into()));
    assert_eq!(ev("bool(v: \"true\")"), Value::Bool(true));
    assert_eq!(ev("uint(v: 3)"), Value::UInt(3));
    assert_eq!(ev("time(v: \"2020-01-01T00:00:00Z\")"), ev("2020-01-01T00:00:00Z"));
    assert!(fails("int(v: \"x\")").contains("cannot convert string \"x\" to int due to invalid syntax"));
    assert!(fails("bool(v: 1.5)").contains("cannot convert float 1.500000 to bool, must be 0 or 1"));
    assert!(fails("bytes(v: 1)").contains("cannot convert int to bytes"));
    assert!(fails("string(v: [1])").contains("cannot convert [int] to string"));
    assert!(fails("string(v: (r) => r._value > 0)").contains("cannot convert (r: A) => bool to string"));
    assert_eq!(ev("duration(v: \"-1h30m\")"), ev("-1h30m"));
    assert!(fails("duration(v: \"now()\")").contains("cannot convert string \"now()\" to duration"));
    assert!(fails("x = 1\nx.y").contains("cannot access property \"y\" on value of type int"));
}

#[test]
fn labels_name_record_fields() {
    assert_eq!(ev("string(v: .myLabel)"), Value::String("myLabel".into()));
    assert_eq!(ev("string(v: .\"with spaces\")"), Value::String("with spaces".into()));
    let ast = serde_json::to_value(flux::parse("x = ._value").unwrap()).unwrap();
    let init = &ast["files"][0]["body"][0]["init"];
    assert_eq!((init["type"].as_str(), init["value"].as_str()), (Some("LabelLiteral"), Some("_value")));
    assert!(flux::parse("x = .1").is_ok(), "a float, not a label");
    assert!(flux::parse("x = .").is_err());
}

#[test]
fn today_is_the_start_of_now_s_day_in_the_location() {
    assert_eq!(ev("option now = () => 2020-03-04T15:16:17Z\ntoday()"), ev("2020-03-04T00:00:00Z"));
    assert_eq!(
        ev(
            "import \"timezone\"\noption now = () => 2020-03-04T03:00:00Z\noption location = timezone.fixed(offset: -5h)\ntoday()"
        ),
        ev("2020-03-03T05:00:00Z")
    );
}
