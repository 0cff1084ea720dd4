//! Calls a query makes out of the engine: HTTP requests (`http.post`,
//! `requests.do`, `influxdb.api`) and reads from another server (`from` with a
//! `host`). The engine only describes the request; the embedder (the server)
//! sends it through [`crate::Source::http`] or [`crate::Source::api`], with its
//! own client, timeouts and size limits.

use std::time::Duration;

use crate::interp::{EvalError, EvalResult, Interp};
use crate::stream::Sink;

/// The most a response body may hold (as Flux's `requests` package reads at most 100MB).
pub const MAX_RESPONSE_BYTES: usize = 100 * 1024 * 1024;

/// How long a call may take when the script does not say (or says `0s`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP request a query sends.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Upper case: `GET`, `POST`, ...
    pub method: String,
    /// A full URL for [`crate::Source::http`]; a path with its query string
    /// for [`crate::Source::api`].
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How long the whole exchange may take, reading the body included.
    pub timeout: Duration,
    /// Skip TLS certificate checks (`requests`' `insecureSkipVerify`).
    pub insecure_skip_verify: bool,
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Names in Go's canonical form (`Content-Type`), values of a repeated
    /// header joined with `,`, sorted by name.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub duration: Duration,
}

impl HttpRequest {
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            insecure_skip_verify: false,
        }
    }

    /// The timeout a script asked for (`None` or zero: the default), never
    /// past the time the query has left.
    pub(crate) fn with_timeout(mut self, i: &Interp, asked: Option<Duration>) -> Self {
        let asked = asked.filter(|d| !d.is_zero()).unwrap_or(DEFAULT_TIMEOUT);
        self.timeout = match i.budget.time_left() {
            Some(left) => asked.min(left),
            None => asked,
        };
        self
    }
}

/// Go's canonical header name: `content-type` is `Content-Type`.
pub fn canonical_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() });
        upper = c == '-';
    }
    out
}

/// `from(bucket:, host:, token:, org:)`: a read from another InfluxDB or oxiflux.
#[derive(Debug, Clone)]
pub struct RemoteRead {
    /// The bucket's name, or its ID when `by_id`.
    pub bucket: String,
    pub by_id: bool,
    pub host: String,
    pub token: Option<String>,
    pub org: Option<String>,
    pub org_id: Option<String>,
    pub range: Option<(i64, i64)>,
}

impl RemoteRead {
    /// The Flux the remote server runs: the read and its time range; filters
    /// and everything after run here.
    fn query(&self, start: i64, stop: i64) -> String {
        let bucket = serde_json::to_string(&self.bucket).unwrap_or_default();
        let param = if self.by_id { "bucketID" } else { "bucket" };
        format!(
            "from({param}: {bucket}) |> range(start: {}, stop: {})",
            time::rfc3339::format(start, time::rfc3339::Fraction::Trimmed),
            time::rfc3339::format(stop, time::rfc3339::Fraction::Trimmed)
        )
    }

    fn request(&self, i: &Interp, start: i64, stop: i64) -> HttpRequest {
        let mut url = format!("{}/api/v2/query", self.host.trim_end_matches('/'));
        match (&self.org_id, &self.org) {
            (Some(id), _) => url.push_str(&format!("?orgID={}", escape_query(id))),
            (None, Some(org)) => url.push_str(&format!("?org={}", escape_query(org))),
            (None, None) => {}
        }
        let body = serde_json::json!({
            "query": self.query(start, stop),
            "type": "flux",
            "dialect": {"annotations": ["datatype", "group", "default"]},
        });
        let mut req = HttpRequest::new("POST", url).with_timeout(i, None);
        req.headers.push(("Content-Type".into(), "application/json".into()));
        req.headers.push(("Accept".into(), "application/csv".into()));
        if let Some(token) = &self.token {
            req.headers.push(("Authorization".into(), format!("Token {token}")));
        }
        req.body = body.to_string().into_bytes();
        req
    }
}

/// Runs a remote read and hands its tables on.
pub(crate) fn run_remote(i: &mut Interp, spec: &RemoteRead, sink: &mut Sink<'_>) -> EvalResult<()> {
    let Some((start, stop)) = spec.range else {
        return Err(EvalError {
            message: format!(
                "cannot submit unbounded read to {:?}; try bounding 'from' with a call to 'range'",
                spec.bucket
            ),
        });
    };
    let source =
        i.source.clone().ok_or_else(|| EvalError { message: "from: no HTTP client in this context".into() })?;
    let resp = source.http(&spec.request(i, start, stop)).map_err(|e| EvalError {
        message: format!("from: reading {:?} from {}: {}", spec.bucket, spec.host, e.message),
    })?;
    let text = String::from_utf8_lossy(&resp.body);
    if !(200..300).contains(&resp.status) {
        return Err(EvalError {
            message: format!("from: {} answered {}: {}", spec.host, resp.status, error_message(&text)),
        });
    }
    let _held = i.budget.reserve(|| resp.body.len() as u64)?;
    let tables = crate::csv::decode(&text)
        .map_err(|e| EvalError { message: format!("from: reading the answer of {}: {}", spec.host, e.message) })?;
    for t in tables {
        i.budget.check_time()?;
        sink(i, t)?;
    }
    Ok(())
}

/// The `message` of an InfluxDB error body, or the body itself.
pub(crate) fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.trim().chars().take(512).collect())
}

/// Go's `url.QueryEscape`: a query parameter's name or value (a space is `+`).
pub(crate) fn escape_query(s: &str) -> String {
    escape(s, |c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~')).replace("%20", "+")
}

/// Go's `url.PathEscape`: a string safe as one path segment.
pub(crate) fn escape_path_segment(s: &str) -> String {
    escape(s, |c| {
        c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b':' | b'=' | b'@')
    })
}

fn escape(s: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_escape_as_go_does() {
        assert_eq!(escape_path_segment("Hello/world ?x=1;y,z@a$b&c+d:e"), "Hello%2Fworld%20%3Fx=1%3By%2Cz@a$b&c+d:e");
        assert_eq!(escape_path_segment("ü"), "%C3%BC");
        assert_eq!(escape_query("a b+c&d"), "a+b%2Bc%26d");
    }

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical_header("content-type"), "Content-Type");
        assert_eq!(canonical_header("X-RATE-limit"), "X-Rate-Limit");
    }
}
