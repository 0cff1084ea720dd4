//! Property: whatever the writer writes, the parser reads back unchanged.

use std::collections::BTreeMap;

use lineproto::{FieldValue, Precision, parse, string_value, write_line};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Value {
    Float(f64),
    Int(i64),
    UInt(u64),
    Bool(bool),
    Str(String),
}

impl Value {
    fn field(&self) -> FieldValue<'_> {
        match self {
            Value::Float(f) => FieldValue::Float(*f),
            Value::Int(n) => FieldValue::Integer(*n),
            Value::UInt(n) => FieldValue::UInteger(*n),
            Value::Bool(b) => FieldValue::Boolean(*b),
            Value::Str(s) => string_value(s),
        }
    }
}

/// Names: anything printable but backslash (a trailing backslash before a
/// delimiter cannot be written unambiguously), including the escaped specials.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_ ,=\"'.:é🚀-]{1,12}".prop_filter("not a comment", |s| !s.starts_with('#'))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Float),
        any::<i64>().prop_map(Value::Int),
        any::<u64>().prop_map(Value::UInt),
        any::<bool>().prop_map(Value::Bool),
        any::<String>().prop_map(Value::Str),
    ]
}

proptest! {
    #[test]
    fn written_lines_parse_back(
        measurement in name(),
        tags in proptest::collection::btree_map(name(), name(), 0..6),
        fields in proptest::collection::btree_map(name(), value(), 1..6),
        timestamp in proptest::option::of(-9_000_000_000_000_000_000i64..9_000_000_000_000_000_000),
    ) {
        let tag_refs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let field_refs: Vec<(&str, FieldValue<'_>)> = fields.iter().map(|(k, v)| (k.as_str(), v.field())).collect();
        let text = write_line(&measurement, &tag_refs, &field_refs, timestamp);
        let lines: Vec<_> = parse(text.as_bytes(), Precision::Nanosecond).collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
        prop_assert_eq!(lines.len(), 1);
        let line = &lines[0];
        prop_assert_eq!(line.measurement.unescaped(), measurement.as_str());
        let got_tags: BTreeMap<String, String> =
            line.tags.iter().map(|(k, v)| (k.unescaped().into_owned(), v.unescaped().into_owned())).collect();
        prop_assert_eq!(&got_tags, &tags);
        prop_assert_eq!(line.fields.len(), fields.len());
        for ((k, v), (want_k, want_v)) in line.fields.iter().zip(&fields) {
            prop_assert_eq!(k.unescaped(), want_k.as_str());
            match (v, want_v) {
                (FieldValue::String(s), Value::Str(w)) => prop_assert_eq!(s.unescaped(), w.as_str()),
                (FieldValue::Float(a), Value::Float(b)) => prop_assert_eq!(a.to_bits(), b.to_bits()),
                (got, want) => prop_assert_eq!(*got, want.field()),
            }
        }
        prop_assert_eq!(line.timestamp, timestamp);
    }
}

#[test]
fn backslashes_follow_influxdb() {
    // A backslash escapes only what its token lets it escape; otherwise it is kept.
    // So in a tag `\\` is two backslashes (InfluxDB 2.7 and the corpus agree), while
    // in a string field it is one.
    let body = br#"m\ x\y,t\=k=a\\b\,c f\ k="q\"\\\z" 1"#;
    let line = parse(body, Precision::Nanosecond).next().unwrap().unwrap();
    assert_eq!(line.measurement.unescaped(), r"m x\y");
    assert_eq!(line.tags[0].0.unescaped(), "t=k");
    assert_eq!(line.tags[0].1.unescaped(), r"a\\b,c");
    assert_eq!(line.fields[0].0.unescaped(), "f k");
    match line.fields[0].1 {
        FieldValue::String(s) => assert_eq!(s.unescaped(), r#"q"\\z"#),
        ref other => panic!("{other:?}"),
    }
}
