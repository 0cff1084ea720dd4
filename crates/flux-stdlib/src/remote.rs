//! Reads from another server: `from` with a `host` is a stream source that
//! asks that server's `/api/v2/query` for the bucket's range and decodes its
//! annotated CSV; everything after the read runs here. And the URL escaping
//! of Go's `net/url` that the calls out use.

use std::rc::Rc;

use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::Interp;
use flux_runtime::outbound::HttpRequest;
use flux_runtime::stream::{Sink, TableSource};

/// `from(bucket:, host:, token:, org:)`: a read from another InfluxDB or oxiflux.
#[derive(Debug, Clone)]
pub(crate) struct RemoteRead {
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
        let mut req = HttpRequest::new("POST", url).with_timeout(&i.budget, None);
        req.headers.push(("Content-Type".into(), "application/json".into()));
        req.headers.push(("Accept".into(), "application/csv".into()));
        if let Some(token) = &self.token {
            req.headers.push(("Authorization".into(), format!("Token {token}")));
        }
        req.body = body.to_string().into_bytes();
        req
    }
}

impl TableSource for RemoteRead {
    fn describe(&self) -> String {
        format!("{:?} on {}", self.bucket, self.host)
    }

    fn bounds(&self) -> Option<(i64, i64)> {
        self.range
    }

    fn with_range(&self, start: i64, stop: i64) -> Option<Rc<dyn TableSource>> {
        let range = match self.range {
            Some((s, e)) => (s.max(start), e.min(stop)),
            None => (start, stop),
        };
        Some(Rc::new(RemoteRead { range: Some(range), ..self.clone() }))
    }

    /// Reads the range from the remote server and hands its tables on.
    fn execute(&self, i: &mut Interp, sink: &mut Sink<'_>) -> EvalResult<()> {
        let spec = self;
        let Some((start, stop)) = spec.range else {
            return Err(EvalError::invalid(format!(
                "cannot submit unbounded read to {:?}; try bounding 'from' with a call to 'range'",
                spec.bucket
            )));
        };
        let source = i.source.clone().ok_or_else(|| EvalError::invalid("from: no HTTP client in this context"))?;
        let resp = source
            .http(&spec.request(i, start, stop))
            .map_err(|e| e.context(format!("from: reading {:?} from {}", spec.bucket, spec.host)))?;
        let text = String::from_utf8_lossy(&resp.body);
        if !(200..300).contains(&resp.status) {
            return Err(EvalError::remote(format!(
                "from: {} answered {}: {}",
                spec.host,
                resp.status,
                error_message(&text)
            )));
        }
        let _held = i.budget.reserve(|| resp.body.len() as u64)?;
        let tables = flux_runtime::csv::decode(&text)
            .map_err(|e| EvalError::remote(format!("from: reading the answer of {}: {}", spec.host, e.message())))?;
        for t in tables {
            i.budget.check_time()?;
            sink(i, t)?;
        }
        Ok(())
    }
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
}
