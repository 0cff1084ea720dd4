//! The TSBS devops query set, in Flux for oxiflux and in InfluxQL for
//! InfluxDB 1.x, over the same data: random instances of each query (the same
//! hosts and times for both servers), each timed end to end over HTTP.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::blocking::Client;

use crate::data::{FIELD_NAMES, Rng, START_NS};

/// One instance of a query, in both languages.
pub(crate) struct Instance {
    pub(crate) flux: String,
    pub(crate) influxql: String,
}

pub(crate) struct QueryType {
    pub(crate) name: &'static str,
    make: fn(&mut Rng, &Shape) -> Instance,
}

/// What the data covers.
pub(crate) struct Shape {
    pub(crate) hosts: usize,
    pub(crate) seconds: u64,
}

const HOUR: i64 = 3_600_000_000_000;

fn rfc3339(ns: i64) -> String {
    time::rfc3339::format(ns, time::rfc3339::Fraction::None)
}

/// A random start such that `[start, start + span)` lies in the data, on a whole minute.
fn window(rng: &mut Rng, shape: &Shape, span: i64) -> (i64, i64) {
    let total = shape.seconds as i64 * 1_000_000_000;
    let room = ((total - span) / 60_000_000_000).max(1) as u64;
    let start = START_NS + (rng.next() % room) as i64 * 60_000_000_000;
    (start, start + span)
}

fn hosts(rng: &mut Rng, shape: &Shape, n: usize) -> Vec<String> {
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < n.min(shape.hosts) {
        let h = (rng.next() % shape.hosts as u64) as usize;
        if !picked.contains(&h) {
            picked.push(h);
        }
    }
    picked.into_iter().map(|h| format!("host_{h}")).collect()
}

fn flux_any(column: &str, values: &[String]) -> String {
    values.iter().map(|v| format!("r.{column} == \"{v}\"")).collect::<Vec<_>>().join(" or ")
}

fn influxql_any(column: &str, values: &[String]) -> String {
    values.iter().map(|v| format!("{column} = '{v}'")).collect::<Vec<_>>().join(" or ")
}

/// `max` of `fields` for `n_hosts` random hosts over `hours`, per `every`, all hosts together.
fn max_by_time(rng: &mut Rng, shape: &Shape, fields: &[&str], n_hosts: usize, hours: i64, every: &str) -> Instance {
    let (start, stop) = window(rng, shape, hours * HOUR);
    let hs = hosts(rng, shape, n_hosts);
    let fs: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    let group = if n_hosts > 1 { "\n  |> group(columns: [\"_field\"])" } else { "" };
    Instance {
        flux: format!(
            "from(bucket: \"bench\")\n  |> range(start: {}, stop: {})\n  |> filter(fn: (r) => r._measurement == \"cpu\" and ({}) and ({})){group}\n  |> aggregateWindow(every: {every}, fn: max, createEmpty: false)",
            rfc3339(start),
            rfc3339(stop),
            flux_any("_field", &fs),
            flux_any("hostname", &hs),
        ),
        influxql: format!(
            "SELECT {} FROM cpu WHERE ({}) AND time >= '{}' AND time < '{}' GROUP BY time({every})",
            fields.iter().map(|f| format!("max({f})")).collect::<Vec<_>>().join(", "),
            influxql_any("hostname", &hs),
            rfc3339(start),
            rfc3339(stop),
        ),
    }
}

pub(crate) const TYPES: &[QueryType] = &[
    QueryType { name: "single-groupby-1-1-1", make: |rng, s| max_by_time(rng, s, &FIELD_NAMES[..1], 1, 1, "1m") },
    QueryType { name: "single-groupby-5-8-1", make: |rng, s| max_by_time(rng, s, &FIELD_NAMES[..5], 8, 1, "1m") },
    QueryType { name: "cpu-max-all-8", make: |rng, s| max_by_time(rng, s, &FIELD_NAMES, 8, 8, "1h") },
    QueryType {
        name: "double-groupby-1",
        make: |rng, s| {
            let (start, stop) = window(rng, s, 12 * HOUR);
            Instance {
                flux: format!(
                    "from(bucket: \"bench\")\n  |> range(start: {}, stop: {})\n  |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\")\n  |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)",
                    rfc3339(start),
                    rfc3339(stop)
                ),
                influxql: format!(
                    "SELECT mean(usage_user) FROM cpu WHERE time >= '{}' AND time < '{}' GROUP BY time(1h), hostname",
                    rfc3339(start),
                    rfc3339(stop)
                ),
            }
        },
    },
    QueryType {
        name: "high-cpu-all",
        make: |rng, s| {
            let (start, stop) = window(rng, s, 12 * HOUR);
            Instance {
                flux: format!(
                    "from(bucket: \"bench\")\n  |> range(start: {}, stop: {})\n  |> filter(fn: (r) => r._measurement == \"cpu\")\n  |> pivot(rowKey: [\"_time\"], columnKey: [\"_field\"], valueColumn: \"_value\")\n  |> filter(fn: (r) => r.usage_user > 90.0)",
                    rfc3339(start),
                    rfc3339(stop)
                ),
                influxql: format!(
                    "SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '{}' AND time < '{}'",
                    rfc3339(start),
                    rfc3339(stop)
                ),
            }
        },
    },
    QueryType {
        name: "lastpoint",
        make: |_, s| Instance {
            flux: format!(
                "from(bucket: \"bench\")\n  |> range(start: {}, stop: {})\n  |> filter(fn: (r) => r._measurement == \"cpu\")\n  |> last()",
                rfc3339(START_NS),
                rfc3339(START_NS + s.seconds as i64 * 1_000_000_000)
            ),
            influxql: "SELECT last(*) FROM cpu GROUP BY hostname".to_owned(),
        },
    },
    QueryType {
        name: "groupby-orderby-limit",
        make: |rng, s| {
            let (_, stop) = window(rng, s, HOUR);
            Instance {
                flux: format!(
                    "from(bucket: \"bench\")\n  |> range(start: {}, stop: {})\n  |> filter(fn: (r) => r._measurement == \"cpu\" and r._field == \"usage_user\")\n  |> group()\n  |> aggregateWindow(every: 1m, fn: max, createEmpty: false)\n  |> sort(columns: [\"_time\"], desc: true)\n  |> limit(n: 5)",
                    rfc3339(START_NS),
                    rfc3339(stop)
                ),
                influxql: format!(
                    "SELECT max(usage_user) FROM cpu WHERE time < '{}' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
                    rfc3339(stop)
                ),
            }
        },
    },
];

pub(crate) fn instances(t: &QueryType, shape: &Shape, n: usize, seed: u64) -> Vec<Instance> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| (t.make)(&mut rng, shape)).collect()
}

/// Runs a Flux query on oxiflux: the time to the full response, and its data rows.
pub(crate) fn run_flux(client: &Client, url: &str, token: &str, q: &str) -> anyhow::Result<(Duration, usize)> {
    let start = Instant::now();
    let r = client
        .post(format!("{url}/api/v2/query?org=bench"))
        .header("Authorization", format!("Token {token}"))
        .header("Content-Type", "application/vnd.flux")
        .header("Accept", "application/csv")
        .body(q.to_owned())
        .send()?;
    let status = r.status();
    let text = r.text()?;
    let took = start.elapsed();
    if !status.is_success() {
        bail!("flux query failed: {status}: {text}\n{q}");
    }
    let rows = text.lines().filter(|l| l.starts_with(",_result,") || l.starts_with(",,")).count();
    Ok((took, rows))
}

/// Runs an InfluxQL query on `/query` (InfluxDB 1.x, or oxiflux with a token):
/// the time to the full response, and its rows.
pub(crate) fn run_influxql(
    conn: &mut crate::wire::Conn,
    token: Option<&str>,
    q: &str,
) -> anyhow::Result<(Duration, usize)> {
    let path = crate::wire::path_with("/query", &[("db", "bench"), ("q", q), ("epoch", "ns")]);
    let auth = token.map(|t| format!("Token {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let start = Instant::now();
    let (status, raw) = conn.get(&path, &headers)?;
    let took = start.elapsed();
    let body: serde_json::Value = serde_json::from_slice(&raw)?;
    let status = reqwest::StatusCode::from_u16(status)?;
    if !status.is_success() || body["results"][0].get("error").is_some() {
        bail!("influxql query failed: {status}: {body}\n{q}");
    }
    let rows = body["results"][0]["series"]
        .as_array()
        .map(|s| s.iter().map(|x| x["values"].as_array().map_or(0, Vec::len)).sum())
        .unwrap_or(0);
    Ok((took, rows))
}

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().context("no samples").unwrap_or_default()
}
