//! The checker against the standard library: what `analyze` (and every query,
//! before it runs) finds wrong in a program, worded as Flux words it.

fn errors(src: &str) -> String {
    match flux::analyze(&flux::Request::new(src, 0)) {
        Ok(()) => String::new(),
        Err(flux::Error::Check(e)) => e.to_string(),
        Err(e) => panic!("{src}: not a check error: {e}"),
    }
}

#[test]
fn suggestions_name_each_parameter_kind() {
    let all = flux::suggestions();
    let sum = &all.iter().find(|(n, _)| n == "sum").unwrap().1;
    assert_eq!(sum, &[("tables".to_owned(), "stream"), ("column".to_owned(), "string")]);
    let range = &all.iter().find(|(n, _)| n == "range").unwrap().1;
    assert!(range.contains(&("start".to_owned(), "invalid")), "{range:?}");
    assert!(all.iter().any(|(n, _)| n == "from") && all.iter().all(|(n, _)| n != "true"));
}

#[test]
fn names_must_be_defined_before_use() {
    assert_eq!(errors("x = 1 + 1\na"), "error @2:1-2:2: undefined identifier a");
    assert_eq!(
        errors("show tag values"),
        "error @1:1-1:5: undefined identifier show\n\nerror @1:6-1:9: undefined identifier tag\n\nerror @1:10-1:16: undefined identifier values"
    );
    assert_eq!(errors("x = y - 1\ny = 2"), "error @1:5-1:6: undefined identifier y");
    assert_eq!(errors("f = (r) => r.a + b\n"), "error @1:18-1:19: undefined identifier b");
    assert_eq!(errors("a = 1\nb = {a, c}"), "error @2:9-2:10: undefined identifier c");
    assert_eq!(errors("import \"strings\"\nx = strings.toUpper(v: \"a\")\ny = {x with z: x}"), "");
    assert_eq!(errors("option now = () => 2020-01-01T00:00:00Z\nx = now()"), "");
}

#[test]
fn calls_give_the_parameters_their_function_has() {
    assert_eq!(
        errors("f = (a, b) => a + b\nf(a: 0, c: 1)"),
        "error @2:12-2:13: found unexpected argument c (Expected `b`)\n\nerror @2:1-2:14: missing required argument b"
    );
    assert_eq!(
        errors("f = (a, b, c) => a + b + c\nf(d: 1)"),
        "error @2:6-2:7: found unexpected argument d (Expected one of `a`, `b` or `c`)\n\n\
         error @2:1-2:8: missing required argument a\n\n\
         error @2:1-2:8: missing required argument b\n\n\
         error @2:1-2:8: missing required argument c"
    );
    assert_eq!(
        errors("from(bucket: \"b\") |> range(begin: -1h)"),
        "error @1:35-1:38: found unexpected argument begin (Expected `start`)\n\nerror @1:22-1:39: missing required argument start"
    );
    assert_eq!(errors("sum()"), "error @1:1-1:6: missing pipe argument");
    assert_eq!(errors("f = (t=<-) => t\nx = 1 |> f()"), "");
}

#[test]
fn arguments_of_a_plainly_wrong_type_are_refused() {
    assert_eq!(
        errors("from(bucket: \"b\") |> range(start: -1h) |> limit(n: \"5\")"),
        "error @1:52-1:55: expected int but found string (argument n)"
    );
    assert_eq!(
        errors("from(bucket: \"b\") |> range(start: -1h) |> group(columns: \"host\")"),
        "error @1:58-1:64: expected [string] but found string (argument columns)"
    );
    assert_eq!(errors("x = 1 + \"a\""), "error @1:5-1:12: expected int but found string");
    // A function's body fixes its parameter's type where it meets a literal.
    assert_eq!(
        errors("f = (x) => x + 1\ny = f(x: \"a\")"),
        "error @2:10-2:13: expected int but found string (argument x)"
    );
    assert_eq!(errors("f = (x) => x + 1\ny = f(x: 2)\ng = (s) => \"pre\" + s\nz = g(s: \"a\")"), "");
    // What the source does not show is left to the run.
    assert_eq!(errors("n = (v) => v\nfrom(bucket: \"b\") |> range(start: -1h) |> limit(n: n(v: 1))"), "");
}
