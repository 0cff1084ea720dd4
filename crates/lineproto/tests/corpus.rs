//! The line-protocol corpus (`reference/line-protocol-corpus/corpus.json`) is the
//! test: every decode case must give the same points, or an error, as the corpus
//! says — except the cases in [`INFLUXDB_2_7_DIFFERS`], where we do what InfluxDB
//! 2.7 does instead, each with its reason.

use std::collections::BTreeMap;

use base64::Engine;
use lineproto::{FieldValue, Precision, parse};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/line-protocol-corpus/corpus.json");

const LEADING_WHITESPACE: &str = "a line that starts with a tab, or holds only tabs: InfluxDB 2.7 skips leading \
     spaces and tabs (scripts that indent their line protocol rely on it); the corpus's reference parser refuses them";

/// Corpus cases where oxiflux follows InfluxDB 2.7 rather than the corpus's
/// reference parser: (case key, why).
const INFLUXDB_2_7_DIFFERS: &[(&str, &str)] = &[
    ("2be024ca70163a7068b08f5e8ef57ffa", LEADING_WHITESPACE),
    ("a02aab4c616a523b89c419dc100e70fd", LEADING_WHITESPACE),
    ("c0ce359f018a4255f4152ca2bc156ca7", LEADING_WHITESPACE),
    (
        "dfa6432a639651d02910c4527badb15c",
        "control characters inside a comment line: InfluxDB 2.7 skips a line starting with '#' whole, \
         whatever it holds; the corpus's reference parser refuses it",
    ),
];

#[derive(Debug, PartialEq)]
struct Point {
    name: String,
    tags: Vec<(String, String)>,
    fields: Vec<(String, Value)>,
    time: i64,
}

fn expected_points(result: &Value) -> Vec<Point> {
    result
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| Point {
            name: p["name"].as_str().unwrap().to_owned(),
            tags: p["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["key"].as_str().unwrap().to_owned(), t["value"].as_str().unwrap().to_owned()))
                .collect(),
            fields: p["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (f["key"].as_str().unwrap().to_owned(), f["value"].clone()))
                .collect(),
            time: p["time"].as_i64().unwrap(),
        })
        .collect()
}

fn value_json(v: &FieldValue<'_>) -> Value {
    match v {
        FieldValue::Float(f) => serde_json::json!({ "float": f }),
        FieldValue::Integer(n) => serde_json::json!({ "int": n }),
        FieldValue::UInteger(n) => serde_json::json!({ "uint": n }),
        FieldValue::String(s) => serde_json::json!({ "string": s.unescaped() }),
        FieldValue::Boolean(b) => serde_json::json!({ "bool": b }),
    }
}

fn decode(body: &[u8], precision: Precision, default_time: i64) -> Result<Vec<Point>, String> {
    let mut points = Vec::new();
    for line in parse(body, precision) {
        let line = line.map_err(|e| e.to_string())?;
        let mut tags: Vec<(String, String)> =
            line.tags.iter().map(|(k, v)| (k.unescaped().into_owned(), v.unescaped().into_owned())).collect();
        tags.sort();
        points.push(Point {
            name: line.measurement.unescaped().into_owned(),
            tags,
            fields: line.fields.iter().map(|(k, v)| (k.unescaped().into_owned(), value_json(v))).collect(),
            time: line.timestamp.unwrap_or(precision.truncate(default_time)),
        });
    }
    Ok(points)
}

fn same_values(a: &Value, b: &Value) -> bool {
    // Floats compare by value (the corpus writes 42 for 42.0).
    match (a.get("float"), b.get("float")) {
        (Some(x), Some(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn same(a: &[Point], b: &[Point]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.name == y.name
                && x.tags == y.tags
                && x.time == y.time
                && x.fields.len() == y.fields.len()
                && x.fields.iter().zip(&y.fields).all(|(f, g)| f.0 == g.0 && same_values(&f.1, &g.1))
        })
}

#[test]
fn every_decode_case_of_the_corpus() {
    let corpus: Value = serde_json::from_str(&std::fs::read_to_string(CORPUS).expect("corpus.json")).unwrap();
    let exceptions: BTreeMap<&str, &str> = INFLUXDB_2_7_DIFFERS.iter().copied().collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (key, case) in corpus["decode"].as_object().unwrap() {
        let input = &case["input"];
        let body = match &input["text"] {
            Value::String(s) => s.clone().into_bytes(),
            other => base64::engine::general_purpose::STANDARD.decode(other["binary"].as_str().unwrap()).unwrap(),
        };
        let precision = match input["precision"].as_str().unwrap() {
            "1ns" => Precision::Nanosecond,
            "1µs" => Precision::Microsecond,
            "1ms" => Precision::Millisecond,
            "1s" => Precision::Second,
            other => panic!("precision {other}"),
        };
        let got = decode(&body, precision, input["defaultTime"].as_i64().unwrap());
        let want = &case["output"];
        let ok = match (&got, want.get("error")) {
            (Err(_), Some(_)) => true,
            (Ok(points), None) => same(points, &expected_points(&want["result"])),
            _ => false,
        };
        checked += 1;
        if ok == exceptions.contains_key(key.as_str()) {
            failures.push(format!(
                "{key}: input {:?}\n  want {}\n  got  {:?}",
                String::from_utf8_lossy(&body),
                want,
                got
            ));
        }
    }
    assert!(checked > 6000, "corpus read: {checked} cases");
    assert!(failures.is_empty(), "{} of {checked} cases differ:\n{}", failures.len(), failures.join("\n"));
}
