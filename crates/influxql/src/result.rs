//! What a query answers, in InfluxDB 1.x's JSON shape and key order:
//! `results`, each with its `statement_id` and `series` (`name`, `tags`,
//! `columns`, `values`), `messages`, or its `error`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::Error;

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
    pub error: Option<Error>,
    /// Whether `chunked=true` cuts this result (a SELECT's) into pieces.
    #[serde(skip)]
    pub chunkable: bool,
}

impl StatementResult {
    pub fn error(statement_id: usize, error: Error) -> Self {
        Self { statement_id, error: Some(error), ..Self::default() }
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
    time::rfc3339::parse(s)
}

/// The answer as chunks, one JSON object each (`chunked=true`): each series is
/// cut into pieces of at most `size` rows; `partial` marks a series, and a
/// statement, that more chunks continue.
pub fn response_chunks(results: &[StatementResult], size: usize) -> Vec<String> {
    let size = size.max(1);
    let mut out = Vec::new();
    for r in results {
        if r.series.is_empty() || !r.chunkable {
            out.push(response_json(std::slice::from_ref(r), false));
            continue;
        }
        let pieces: Vec<Series> = r
            .series
            .iter()
            .flat_map(|s| {
                let n = s.values.len().div_ceil(size).max(1);
                (0..n).map(move |k| Series {
                    values: s.values.iter().skip(k * size).take(size).cloned().collect(),
                    partial: k + 1 < n,
                    ..s.clone()
                })
            })
            .collect();
        let count = pieces.len();
        for (k, piece) in pieces.into_iter().enumerate() {
            let chunk = StatementResult {
                statement_id: r.statement_id,
                series: vec![piece],
                messages: if k == 0 { r.messages.clone() } else { Vec::new() },
                partial: k + 1 < count,
                error: None,
                chunkable: true,
            };
            out.push(response_json(std::slice::from_ref(&chunk), false));
        }
    }
    out
}

/// The answer as CSV (`Accept: application/csv`): `name,tags,<columns>`
/// headers, tags as `k=v,...`, times as integers (nanoseconds unless `epoch`
/// converted them), a blank line between statements.
pub fn response_csv(results: &[StatementResult]) -> String {
    let mut out = String::new();
    for (n, r) in results.iter().enumerate() {
        if n > 0 && !out.is_empty() {
            out.push('\n');
        }
        let mut header: Option<&Vec<String>> = None;
        for s in &r.series {
            if header != Some(&s.columns) {
                let mut h = vec!["name".to_owned(), "tags".to_owned()];
                h.extend(s.columns.iter().cloned());
                csv_line(&h, &mut out);
                header = Some(&s.columns);
            }
            let tags = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let time_at = s.columns.iter().position(|c| c == "time");
            for row in &s.values {
                let mut cells = vec![s.name.clone().unwrap_or_default(), tags.clone()];
                for (i, v) in row.iter().enumerate() {
                    let cell = match v {
                        Value::Null => String::new(),
                        Value::String(t) if Some(i) == time_at => {
                            parse_time(t).map_or_else(|| t.clone(), |ns| ns.to_string())
                        }
                        Value::String(t) => t.clone(),
                        other => other.to_string(),
                    };
                    cells.push(cell);
                }
                csv_line(&cells, &mut out);
            }
        }
    }
    out
}

fn csv_line(cells: &[String], out: &mut String) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if c.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out.push('\n');
}
