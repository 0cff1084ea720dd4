//! The scraper: every interval, each Prometheus scraper target is fetched,
//! its text exposition format turned into points as InfluxDB's scraper turns
//! it (measurement = metric name, labels = tags; field `counter`, `gauge` or
//! `value`; histograms as a field per bucket bound plus `count` and `sum`,
//! summaries as a field per quantile plus `count` and `sum`), and written to
//! the target's bucket. A target that fails is logged and skipped; the others
//! go on.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use meta::documents::Kind;

use crate::state::AppState;

/// One point: measurement, tags (sorted), fields, time in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Point {
    pub(crate) measurement: String,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) fields: BTreeMap<String, f64>,
    pub(crate) time: i64,
}

/// A float as Go's `fmt.Sprint` writes it (how InfluxDB names bucket and quantile fields).
fn go_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f.is_nan() {
        return "NaN".into();
    }
    if f == 0.0 {
        return "0".into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// A sample line: name, labels, value, optional timestamp in milliseconds.
type Sample = (String, BTreeMap<String, String>, f64, Option<i64>);

fn sample(line: &str) -> Option<Sample> {
    let line = line.trim();
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if rest.starts_with('{') {
        let mut chars = rest[1..].char_indices().peekable();
        let end;
        loop {
            // Label name.
            while chars.peek().is_some_and(|(_, c)| *c == ',' || c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_some_and(|(_, c)| *c == '}') {
                end = chars.next().map(|(i, _)| i);
                break;
            }
            let mut key = String::new();
            while let Some((_, c)) = chars.peek() {
                if *c == '=' || c.is_whitespace() {
                    break;
                }
                key.push(*c);
                chars.next();
            }
            while chars.peek().is_some_and(|(_, c)| c.is_whitespace() || *c == '=') {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()? {
                    (_, '\\') => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        c => value.push(c),
                    },
                    (_, '"') => break,
                    (_, c) => value.push(c),
                }
            }
            labels.insert(key, value);
        }
        rest = &rest[1 + end? + 1..];
    }
    let mut parts = rest.split_whitespace();
    let value = match parts.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    let ts = parts.next().and_then(|t| t.parse().ok());
    Some((name, labels, value, ts))
}

/// Parses the Prometheus text exposition format into points.
pub(crate) fn parse(text: &str, now: i64) -> Vec<Point> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    // Points by (measurement, tags), in the order first seen.
    let mut points: Vec<Point> = Vec::new();
    let mut add = |measurement: &str, tags: BTreeMap<String, String>, field: String, value: f64, ts: Option<i64>| {
        if value.is_nan() {
            return;
        }
        let time = ts.filter(|t| *t > 0).map_or(now, |ms| ms.saturating_mul(1_000_000));
        match points.iter_mut().find(|p| p.measurement == measurement && p.tags == tags) {
            Some(p) => {
                p.fields.insert(field, value);
            }
            None => points.push(Point {
                measurement: measurement.to_owned(),
                tags,
                fields: BTreeMap::from([(field, value)]),
                time,
            }),
        }
    };
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (parts.next(), parts.next()) {
                types.insert(name.to_owned(), kind.to_owned());
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, mut labels, value, ts)) = sample(line) else { continue };
        // The family a sample belongs to: a histogram's or summary's parts carry suffixes.
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
            let base = name.strip_suffix(suffix)?;
            matches!(types.get(base).map(String::as_str), Some("histogram" | "summary"))
                .then(|| (base.to_owned(), *suffix))
        });
        match (family, types.get(&name).map(String::as_str)) {
            (Some((base, "_bucket")), _) => {
                let Some(le) = labels.remove("le") else { continue };
                let bound = match le.as_str() {
                    "+Inf" => f64::INFINITY,
                    s => s.parse().unwrap_or(f64::NAN),
                };
                add(&base, labels, go_float(bound), value, ts);
            }
            (Some((base, "_sum")), _) => add(&base, labels, "sum".into(), value, ts),
            (Some((base, _)), _) => add(&base, labels, "count".into(), value, ts),
            (None, Some("summary")) => {
                let Some(q) = labels.remove("quantile") else { continue };
                add(&name, labels, go_float(q.parse().unwrap_or(f64::NAN)), value, ts);
            }
            (None, Some("counter")) => add(&name, labels, "counter".into(), value, ts),
            (None, Some("gauge")) => add(&name, labels, "gauge".into(), value, ts),
            (None, _) => add(&name, labels, "value".into(), value, ts),
        }
    }
    points
}

/// Points as line protocol (nanosecond times).
pub(crate) fn line_protocol(points: &[Point]) -> String {
    let escape = |s: &str, specials: &[char]| {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if specials.contains(&c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    let mut out = String::new();
    for p in points.iter().filter(|p| !p.fields.is_empty()) {
        out.push_str(&escape(&p.measurement, &[',', ' ']));
        for (k, v) in p.tags.iter().filter(|(_, v)| !v.is_empty()) {
            let _ = write!(out, ",{}={}", escape(k, &[',', '=', ' ']), escape(v, &[',', '=', ' ']));
        }
        for (i, (k, v)) in p.fields.iter().filter(|(_, v)| v.is_finite()).enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            let _ = write!(out, "{}={v:?}", escape(k, &[',', '=', ' ']));
        }
        let _ = writeln!(out, " {}", p.time);
    }
    out
}

impl AppState {
    /// Scrapes every target each `interval` until `shutdown` resolves.
    pub fn start_scrapers(
        &self,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = tick.tick() => scrape_all(&state, interval).await,
                }
            }
        })
    }
}

async fn scrape_all(state: &AppState, interval: Duration) {
    let targets = match state.meta(|m| m.list_documents(Kind::Scraper, None, None)).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e.message, "scraper: cannot list targets");
            return;
        }
    };
    let jobs = targets.into_iter().map(|t| {
        let state = state.clone();
        async move {
            if let Err(e) = scrape(&state, &t, interval).await {
                tracing::warn!(target = %t.name, id = %t.id, error = %e, "scraper: target failed");
            }
        }
    });
    futures::future::join_all(jobs).await;
}

async fn scrape(state: &AppState, target: &meta::documents::Document, interval: Duration) -> Result<(), String> {
    let url = target.body["url"].as_str().unwrap_or_default();
    let bucket_id: meta::Id = target.body["bucketID"].as_str().and_then(|b| b.parse().ok()).ok_or("no bucket")?;
    let client = reqwest::Client::builder()
        .timeout(interval.min(Duration::from_secs(10)))
        .danger_accept_invalid_certs(target.body["allowInsecure"].as_bool().unwrap_or(false))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client
        .get(url)
        .header("Accept", "text/plain;version=0.0.4")
        .send()
        .await
        .map_err(|e| format!("fetching {url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("fetching {url}: status {}", resp.status()));
    }
    let text = resp.text().await.map_err(|e| format!("reading {url}: {e}"))?;
    let now = time::now_ns();
    let lines = line_protocol(&parse(&text, now));
    if lines.is_empty() {
        return Ok(());
    }
    let bucket = state.meta(move |m| m.find_bucket_by_id(bucket_id)).await.map_err(|e| e.message)?;
    let ingest = state.ingest();
    crate::state::blocking(move || {
        ingest
            .write(&bucket, lines.as_bytes(), lineproto::Precision::Nanosecond, now)
            .map_err(crate::error::ApiError::from)
    })
    .await
    .map(|_| ())
    .map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000
# TYPE temperature gauge
temperature{room="a b"} 21.5
untyped_metric 7
# TYPE latency histogram
latency_bucket{le="0.05"} 24054
latency_bucket{le="1e-05"} 1
latency_bucket{le="+Inf"} 144320
latency_sum 53423
latency_count 144320
# TYPE rpc summary
rpc{quantile="0.5"} 4773
rpc{quantile="0.99"} 76656
rpc_sum 1.7560473e+07
rpc_count 2693
"#;

    #[test]
    fn prometheus_text_maps_as_influxdbs_scraper_maps_it() {
        let points = parse(TEXT, 42);
        let find = |m: &str| points.iter().filter(|p| p.measurement == m).collect::<Vec<_>>();
        let reqs = find("http_requests_total");
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].fields["counter"], 1027.0);
        assert_eq!(reqs[0].tags["code"], "200");
        assert_eq!(reqs[0].time, 1_395_066_363_000_000_000);
        assert_eq!(find("temperature")[0].fields["gauge"], 21.5);
        assert_eq!(find("temperature")[0].tags["room"], "a b");
        assert_eq!(find("untyped_metric")[0].fields["value"], 7.0);
        assert_eq!(find("untyped_metric")[0].time, 42);
        let h = &find("latency")[0];
        assert_eq!(h.fields.keys().map(String::as_str).collect::<Vec<_>>(), ["+Inf", "0.05", "1e-05", "count", "sum"]);
        let s = &find("rpc")[0];
        assert_eq!((s.fields["0.99"], s.fields["sum"], s.fields["count"]), (76656.0, 17_560_473.0, 2693.0));
        let lp = line_protocol(&points);
        assert!(lp.contains("temperature,room=a\\ b gauge=21.5 42\n"), "{lp}");
    }

    #[test]
    fn floats_are_named_as_go_prints_them() {
        for (f, s) in
            [(0.5, "0.5"), (1.0, "1"), (1e-5, "1e-05"), (0.0001, "0.0001"), (1e21, "1e+21"), (100000.0, "100000")]
        {
            assert_eq!(go_float(f), s);
        }
    }
}
