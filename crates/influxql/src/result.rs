//! What a query answers, in InfluxDB 1.x's JSON shape and key order:
//! `results`, each with its `statement_id` and `series` (`name`, `tags`,
//! `columns`, `values`), `messages`, or its `error`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One series of a statement's result.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Series {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sorted by key, as Go writes a map.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub columns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Vec<Value>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub level: String,
    pub text: String,
}

/// What one statement answered.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StatementResult {
    pub statement_id: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<Series>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl StatementResult {
    pub fn error(statement_id: usize, message: impl Into<String>) -> Self {
        Self { statement_id, error: Some(message.into()), ..Self::default() }
    }
}

#[derive(Serialize)]
struct Response<'a> {
    results: &'a [StatementResult],
}

/// The whole answer, `{"results": [...]}`: compact, or indented by four spaces as InfluxDB's `pretty=true`.
pub fn response_json(results: &[StatementResult], pretty: bool) -> String {
    let response = Response { results };
    if !pretty {
        return serde_json::to_string(&response).unwrap_or_default();
    }
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    if response.serialize(&mut ser).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Rewrites RFC3339 `time` values as integers in an `epoch` unit (`ns u µ ms s m h`);
/// an unknown unit leaves them as they are.
pub fn convert_epoch(results: &mut [StatementResult], epoch: &str) {
    let divisor: i64 = match epoch {
        "ns" => 1,
        "u" | "µ" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return,
    };
    for r in results {
        for s in &mut r.series {
            let Some(at) = s.columns.iter().position(|c| c == "time") else { continue };
            for row in &mut s.values {
                if let Some(cell) = row.get_mut(at)
                    && let Some(ns) = cell.as_str().and_then(parse_time)
                {
                    *cell = Value::from(ns.div_euclid(divisor));
                }
            }
        }
    }
}

fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok()?.timestamp_nanos_opt()
}
