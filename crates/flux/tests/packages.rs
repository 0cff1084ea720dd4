//! Small packages: `bitwise`, `types`, `dict`, with their pages' examples.

use flux::{Value, eval};

fn ev(src: &str) -> Value {
    eval(src, 0).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn fails(src: &str) -> String {
    eval(src, 0).unwrap_err().to_string()
}

#[test]
fn bitwise_on_uints_and_ints() {
    let b = "import \"bitwise\"\n";
    assert_eq!(ev(&format!("{b}bitwise.uand(a: uint(v: 12), b: uint(v: 21))")), Value::UInt(4));
    assert_eq!(ev(&format!("{b}bitwise.uor(a: uint(v: 12), b: uint(v: 21))")), Value::UInt(29));
    assert_eq!(ev(&format!("{b}bitwise.uxor(a: uint(v: 12), b: uint(v: 21))")), Value::UInt(25));
    assert_eq!(ev(&format!("{b}bitwise.uclear(a: uint(v: 12), b: uint(v: 21))")), Value::UInt(8));
    assert_eq!(ev(&format!("{b}bitwise.unot(a: uint(v: 12))")), Value::UInt(18_446_744_073_709_551_603));
    assert_eq!(ev(&format!("{b}bitwise.ulshift(a: uint(v: 12), b: uint(v: 21))")), Value::UInt(25_165_824));
    assert_eq!(ev(&format!("{b}bitwise.urshift(a: uint(v: 21), b: uint(v: 70))")), Value::UInt(0));
    assert_eq!(ev(&format!("{b}bitwise.sand(a: 12, b: 21)")), Value::Int(4));
    assert_eq!(ev(&format!("{b}bitwise.snot(a: 12)")), Value::Int(-13));
    assert_eq!(ev(&format!("{b}bitwise.sclear(a: 12, b: 21)")), Value::Int(8));
    assert_eq!(ev(&format!("{b}bitwise.slshift(a: 12, b: 21)")), Value::Int(25_165_824));
    assert_eq!(ev(&format!("{b}bitwise.srshift(a: -12, b: 100)")), Value::Int(-1));
    assert!(fails(&format!("{b}bitwise.slshift(a: 1, b: -1)")).contains("negative shift amount"));
    assert_eq!(ev("import \"experimental/bitwise\"\nbitwise.sor(a: 12, b: 21)"), Value::Int(29));
}

#[test]
fn types_tell_values_apart() {
    let t = "import \"types\"\n";
    assert_eq!(ev(&format!("{t}types.isType(v: \"a\", type: \"string\")")), Value::Bool(true));
    assert_eq!(ev(&format!("{t}types.isType(v: 1, type: \"uint\")")), Value::Bool(false));
    assert_eq!(ev(&format!("{t}types.isType(v: 2030-01-01T00:00:00Z, type: \"time\")")), Value::Bool(true));
    assert_eq!(ev(&format!("{t}types.isType(v: 1h, type: \"nope\")")), Value::Bool(false));
    assert_eq!(ev(&format!("{t}types.isNumeric(v: 1.5)")), Value::Bool(true));
    assert_eq!(ev(&format!("{t}types.isNumeric(v: \"1\")")), Value::Bool(false));
}

#[test]
fn dictionaries_are_built_read_and_changed_into_new_ones() {
    let d = "import \"dict\"\nd = dict.fromList(pairs: [{key: 1, value: \"foo\"}, {key: 2, value: \"bar\"}])\n";
    assert_eq!(ev(&format!("{d}dict.get(dict: d, key: 1, default: \"\")")), Value::String("foo".into()));
    assert_eq!(ev(&format!("{d}dict.get(dict: d, key: 3, default: \"none\")")), Value::String("none".into()));
    let inserted = format!("{d}e = dict.insert(dict: d, key: 3, value: \"baz\")\n");
    assert_eq!(ev(&format!("{inserted}dict.get(dict: e, key: 3, default: \"\")")), Value::String("baz".into()));
    assert_eq!(ev(&format!("{inserted}dict.get(dict: d, key: 3, default: \"gone\")")), Value::String("gone".into()));
    let replaced = format!("{d}e = dict.insert(dict: d, key: 1, value: \"new\")\n");
    assert_eq!(ev(&format!("{replaced}dict.get(dict: e, key: 1, default: \"\")")), Value::String("new".into()));
    let removed = format!("{d}e = dict.remove(dict: d, key: 1)\n");
    assert_eq!(ev(&format!("{removed}dict.get(dict: e, key: 1, default: \"gone\")")), Value::String("gone".into()));
    assert_eq!(ev(&format!("{d}dict.get(dict: [\"a\": 1], key: \"a\", default: 0)")), Value::Int(1));
}

#[test]
fn arrays_are_mapped_filtered_joined_and_converted() {
    let a = "import \"array\"\n";
    let ints = |v: &[i64]| Value::Array(std::rc::Rc::new(v.iter().map(|x| Value::Int(*x)).collect()));
    assert_eq!(ev(&format!("{a}array.map(arr: [1, 2, 3], fn: (x) => x * 10)")), ints(&[10, 20, 30]));
    assert_eq!(ev(&format!("{a}[1, 2, 3, 4] |> array.filter(fn: (x) => x % 2 == 0)")), ints(&[2, 4]));
    assert_eq!(ev(&format!("{a}array.concat(arr: [1], v: [2, 3])")), ints(&[1, 2, 3]));
    let e = "import \"experimental/array\"\n";
    assert_eq!(ev(&format!("{e}[\"1\", \"2\"] |> array.toInt()")), ints(&[1, 2]));
    assert_eq!(
        ev(&format!("{e}[\"2022-01-01\"] |> array.toTime()")),
        Value::Array(std::rc::Rc::new(vec![Value::Time(1_640_995_200_000_000_000)]))
    );
    assert!(fails(&format!("{a}array.filter(arr: [1], fn: (x) => x)")).contains("must return a bool"));
}

#[test]
fn experimental_aggregates_are_the_universe_ones_on_value() {
    let src = "import \"array\"\nimport \"experimental\"\n\
               data = array.from(rows: [{_value: 1.0, k: \"a\"}, {_value: 3.0, k: \"a\"}, {_value: 8.0, k: \"b\"}])\n\
               data |> group(columns: [\"k\"]) |> experimental.mean() |> yield(name: \"mean\")\n\
               data |> experimental.count() |> yield(name: \"count\")";
    let results = flux::query(src, 0, None).unwrap_or_else(|e| panic!("{e}"));
    let values = |name: &str| -> Vec<Value> {
        let (_, tables) = results.iter().find(|(n, _)| n == name).expect(name);
        tables
            .iter()
            .flat_map(|t| {
                let col = std::sync::Arc::clone(t.column("_value").expect("_value"));
                (0..t.num_rows()).map(move |i| flux::table::cell(col.as_ref(), i))
            })
            .collect()
    };
    assert_eq!(values("mean"), [Value::Float(2.0), Value::Float(8.0)]);
    assert_eq!(values("count"), [Value::Int(3)]);
    assert_eq!(
        ev("import \"experimental\"\nexperimental.objectKeys(o: {b: 1, a: 2})"),
        Value::Array(std::rc::Rc::new(vec![Value::String("b".into()), Value::String("a".into())]))
    );
}

#[test]
fn unpivot_turns_columns_into_fields() {
    let src = "import \"array\"\nimport \"experimental\"\n\
               array.from(rows: [{_time: 2020-01-01T00:00:00Z, m: \"cpu\", a: 1.0, b: 2}, {_time: 2020-01-01T00:01:00Z, m: \"cpu\", a: 3.0}])\n\
               |> group(columns: [\"m\"]) |> experimental.unpivot()";
    let results = flux::query(src, 0, None).unwrap_or_else(|e| panic!("{e}"));
    let tables = &results[0].1;
    let fields: Vec<(Value, usize)> =
        tables.iter().map(|t| (t.key.get("_field").cloned().unwrap_or(Value::Null), t.num_rows())).collect();
    assert_eq!(fields, [(Value::String("a".into()), 2), (Value::String("b".into()), 1)]);
    assert_eq!(tables[0].names(), ["m", "_field", "_time", "_value"]);
    let bad = "import \"array\"\nimport \"experimental\"\narray.from(rows: [{_value: 1}]) |> experimental.unpivot()";
    assert!(flux::query(bad, 0, None).unwrap_err().to_string().contains("unpivot can't have"));
}

#[test]
fn json_in_and_out_and_records_read_with_a_default() {
    let enc =
        ev("import \"json\"\nstring(v: json.encode(v: {b: [1, 2], a: \"x\", t: 2020-01-01T00:00:00Z, d: 1h30m}))");
    assert_eq!(enc, Value::String(r#"{"a":"x","b":[1,2],"d":"1h30m","t":"2020-01-01T00:00:00Z"}"#.into()));
    // Floats, HTML characters and dicts as Go's encoding/json writes them.
    let enc = ev(
        "import \"json\"\nstring(v: json.encode(v: {f: [1.0, 0.5, 0.0000001], s: \"<a&b>\", d: [\"y\": 2, \"x\": 1]}))",
    );
    assert_eq!(enc, Value::String(r#"{"d":{"x":1,"y":2},"f":[1,0.5,1e-7],"s":"\u003ca\u0026b\u003e"}"#.into()));
    let parsed =
        "import \"experimental/json\"\nr = json.parse(data: bytes(v: \"{\\\"a\\\": {\\\"b\\\": [1, true, null]}}\"))\n";
    assert_eq!(ev(&format!("{parsed}r.a.b[0]")), Value::Float(1.0));
    assert_eq!(ev(&format!("{parsed}r.a.b[1]")), Value::Bool(true));
    assert!(fails("import \"experimental/json\"\njson.parse(data: bytes(v: \"{nope\"))").contains("json.parse"));
    let rec = "import \"experimental/record\"\n";
    assert_eq!(ev(&format!("{rec}record.get(r: {{a: 1}}, key: \"a\", default: 0)")), Value::Int(1));
    assert_eq!(ev(&format!("{rec}record.get(r: {{a: 1}}, key: \"b\", default: 0)")), Value::Int(0));
    assert_eq!(ev("import \"internal/influxql\"\ninfluxql.epoch"), Value::Time(0));
}

#[test]
fn experimental_preview_set_and_group_extend() {
    let data = "import \"array\"\nimport \"experimental\"\n\
                data = array.from(rows: [{k: \"a\", n: \"x\", _value: 1}, {k: \"a\", n: \"y\", _value: 2}, {k: \"b\", n: \"x\", _value: 3}])\n\
                    |> group(columns: [\"k\"])\n";
    let run = |tail: &str| flux::query(&format!("{data}{tail}"), 0, None).unwrap_or_else(|e| panic!("{e}"));
    let shapes = |tail: &str| -> Vec<(Vec<String>, usize)> {
        run(tail)[0].1.iter().map(|t| (t.key.names().map(str::to_owned).collect(), t.num_rows())).collect()
    };
    assert_eq!(shapes("data |> experimental.preview(nrows: 1, ntables: 1)"), [(vec!["k".to_owned()], 1)]);
    assert_eq!(
        shapes("data |> experimental.group(mode: \"extend\", columns: [\"n\"])"),
        [
            (vec!["k".to_owned(), "n".to_owned()], 1),
            (vec!["k".to_owned(), "n".to_owned()], 1),
            (vec!["k".to_owned(), "n".to_owned()], 1)
        ]
    );
    // Setting a key column merges the tables that now share a key.
    assert_eq!(shapes("data |> experimental.set(o: {k: \"all\", extra: 1.5})"), [(vec!["k".to_owned()], 3)]);
    let set = run("data |> experimental.set(o: {k: \"all\", extra: 1.5})");
    assert!(set[0].1[0].column("extra").is_some());
}

#[test]
fn strings_split_n_and_split_after_n_as_go_does() {
    let strs = |v: Value| -> Vec<String> {
        match v {
            Value::Array(a) => a.iter().map(|x| x.to_string()).collect(),
            v => panic!("not an array: {v}"),
        }
    };
    let s = "import \"strings\"\n";
    assert_eq!(
        strs(ev(&format!("{s}strings.splitN(v: \"foo, bar, baz, quz\", t: \", \", i: 3)"))),
        ["foo", "bar", "baz, quz"]
    );
    assert_eq!(
        strs(ev(&format!("{s}strings.splitAfterN(v: \"foo, bar, baz, quz\", t: \", \", i: 3)"))),
        ["foo, ", "bar, ", "baz, quz"]
    );
    assert_eq!(strs(ev(&format!("{s}strings.splitN(v: \"a,b,\", t: \",\", i: -1)"))), ["a", "b", ""]);
    assert_eq!(strs(ev(&format!("{s}strings.splitAfterN(v: \"a,b\", t: \",\", i: 1)"))), ["a,b"]);
    assert!(strs(ev(&format!("{s}strings.splitN(v: \"a,b\", t: \",\", i: 0)"))).is_empty());
    assert_eq!(strs(ev(&format!("{s}strings.splitN(v: \"abc\", t: \"\", i: 2)"))), ["a", "bc"]);
}

#[test]
fn dynamic_values_wrap_read_convert_and_round_trip_json() {
    let d = "import \"experimental/dynamic\"\nimport \"internal/debug\"\n";
    let shown = |src: &str| match ev(&format!("{d}display(v: {src})")) {
        Value::String(s) => s,
        v => panic!("{v:?}"),
    };
    // Arrays and records are wrapped all the way down; a dynamic is not re-wrapped.
    assert_eq!(
        shown("dynamic.dynamic(v: {a: [1, 2.5], b: dynamic.dynamic(v: \"x\")})"),
        "dynamic({a: dynamic([dynamic(1), dynamic(2.5)]), b: dynamic(x)})"
    );
    assert_eq!(shown("dynamic.dynamic(v: () => true)"), "dynamic(() => bool)");
    // Properties: a missing one is a dynamic null; a non-record has none.
    assert_eq!(shown("dynamic.dynamic(v: {a: 1}).b"), "dynamic(<null>)");
    assert_eq!(ev(&format!("{d}exists dynamic.dynamic(v: {{a: 1}}).b")), Value::Bool(false));
    assert_eq!(ev(&format!("{d}exists dynamic.dynamic(v: {{a: 1}}).a")), Value::Bool(true));
    assert!(
        fails(&format!("{d}dynamic.dynamic(v: 1).a")).contains("cannot access property \"a\" on value of type int")
    );
    // Conversions read what a dynamic holds; nulls stay null except for bytes.
    assert_eq!(ev(&format!("{d}int(v: dynamic.dynamic(v: 12.7))")), Value::Int(12));
    assert_eq!(ev(&format!("{d}string(v: dynamic.dynamic(v: 5))")), Value::String("5".into()));
    assert_eq!(ev(&format!("{d}float(v: dynamic.dynamic(v: debug.null()))")), Value::Null);
    assert!(fails(&format!("{d}bytes(v: dynamic.dynamic(v: debug.null()))")).contains("cannot convert null to bytes"));
    assert!(
        fails(&format!("{d}bool(v: dynamic.dynamic(v: \"yes\"))")).contains("cannot convert string \"yes\" to bool")
    );
    // isType, asArray.
    assert_eq!(ev(&format!("{d}dynamic.isType(v: dynamic.dynamic(v: {{a: 1}}), type: \"object\")")), Value::Bool(true));
    assert_eq!(
        ev(&format!("{d}dynamic.isType(v: dynamic.dynamic(v: [\"a\": 1]), type: \"dictionary\")")),
        Value::Bool(true)
    );
    assert_eq!(ev(&format!("{d}dynamic.isType(v: dynamic.dynamic(v: 1), type: \"float\")")), Value::Bool(false));
    assert_eq!(ev(&format!("{d}dynamic.isType(v: debug.null(), type: \"int\")")), Value::Bool(false));
    assert_eq!(ev(&format!("{d}a = dynamic.dynamic(v: [3, 4]) |> dynamic.asArray()\nint(v: a[1])")), Value::Int(4));
    assert!(
        fails(&format!("{d}dynamic.dynamic(v: 3) |> dynamic.asArray()")).contains("unable to convert int to array")
    );
    // JSON in: numbers are floats; JSON out: as Go writes it, keys sorted.
    let json = r#"{\"z\": [1, \"two\", null], \"a\": {\"b\": true}}"#;
    let parsed = format!("{d}j = dynamic.jsonParse(data: bytes(v: \"{json}\"))\n");
    assert_eq!(ev(&format!("{parsed}float(v: (j.z |> dynamic.asArray())[0])")), Value::Float(1.0));
    assert_eq!(ev(&format!("{parsed}bool(v: j.a.b)")), Value::Bool(true));
    assert_eq!(
        ev(&format!("{parsed}string(v: dynamic.jsonEncode(v: j))")),
        Value::String(r#"{"a":{"b":true},"z":[1,"two",null]}"#.into())
    );
    assert!(fails(&format!("{d}dynamic.jsonParse(data: bytes(v: \"{{nope\"))")).contains("jsonParse"));
}

#[test]
fn promql_functions_over_tables() {
    let src = r#"import "array"
import "internal/promql"
data = array.from(rows: [
    {_time: 2020-01-01T00:00:00Z, _value: 1.0, job: "a"},
    {_time: 2020-01-01T00:00:10Z, _value: 3.0, job: "a"},
    {_time: 2020-01-01T00:00:20Z, _value: 2.0, job: "a"},
]) |> group(columns: ["job"])
"#;
    let one = |call: &str| -> Vec<(String, Value)> {
        let results = flux::query(&format!("{src}data |> {call}"), 0, None).unwrap_or_else(|e| panic!("{call}: {e}"));
        let t = &results[0].1[0];
        assert_eq!(t.num_rows(), 1, "{call}");
        match t.row(0) {
            Value::Record(r) => r.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            v => panic!("{v:?}"),
        }
    };
    let value = |call: &str| one(call).into_iter().find(|(k, _)| k == "_value").map(|(_, v)| v);
    assert_eq!(value("promql.changes()"), Some(Value::Float(2.0)));
    assert_eq!(value("promql.resets()"), Some(Value::Float(1.0)));
    assert_eq!(value("promql.instantRate(isRate: true)"), Some(Value::Float(0.2)));
    assert_eq!(value("promql.linearRegression()"), Some(Value::Float(0.05)));
    // label_replace: job "a" becomes instance "host-a"; the time column goes.
    let replaced = one(
        r#"promql.labelReplace(source: "job", destination: "instance", regex: "(.*)", replacement: "host-$1") |> limit(n: 1)"#,
    );
    let names: Vec<&str> = replaced.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["job", "instance", "_value"]);
    assert_eq!(replaced[1].1, Value::String("host-a".into()));
    assert_eq!(value("promql.quantile(q: 2.0)"), Some(Value::Float(f64::INFINITY)));
    assert_eq!(
        eval("import \"internal/promql\"\npromql.promqlDaysInMonth(timestamp: 1582934400.0)", 0).unwrap(),
        Value::Float(29.0)
    );
}

#[test]
fn fill_of_a_missing_column_and_a_full_joins_missing_side() {
    let data = "import \"array\"\ndata = array.from(rows: [{_time: 2020-01-01T00:00:00Z, _value: 1.0}])\n";
    let names = |src: &str| -> Vec<(String, arrow::datatypes::DataType)> {
        let results = flux::query(&format!("{data}{src}"), 0, None).unwrap_or_else(|e| panic!("{src}: {e}"));
        results[0].1[0].fields()
    };
    use arrow::datatypes::DataType;
    // usePrevious on a column the table lacks passes it through; a value adds the column.
    assert_eq!(names("data |> fill(column: \"x\", usePrevious: true)").len(), 2);
    assert_eq!(names("data |> fill(column: \"x\", value: 5)").last().unwrap(), &("x".to_owned(), DataType::Int64));
    // A full join whose sides have different keys: each side's rows type the
    // other side's columns that they lack.
    let join = r#"import "array"
import "join"
l = array.from(rows: [{_time: 2020-01-01T00:00:00Z, v: 1, k: 1}]) |> group(columns: ["k"])
r = array.from(rows: [{_time: 2020-01-01T00:00:00Z, w: 0.5, k: 2}]) |> group(columns: ["k"])
join.full(left: l, right: r, on: (l, r) => l._time == r._time, as: (l, r) => ({k: if exists l.k then l.k else r.k, v: l.v, w: r.w}))
"#;
    let results = flux::query(join, 0, None).unwrap();
    for t in &results[0].1 {
        let fields = t.fields();
        assert!(fields.contains(&("v".to_owned(), DataType::Int64)), "{fields:?}");
        assert!(fields.contains(&("w".to_owned(), DataType::Float64)), "{fields:?}");
    }
    assert_eq!(results[0].1.len(), 2);
}
