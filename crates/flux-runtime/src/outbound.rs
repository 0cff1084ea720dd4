//! Calls a query makes out of the engine: HTTP requests (`http.post`,
//! `requests.do`, `influxdb.api`, reads from another server). The engine only
//! describes the request; the embedder (the server) sends it through
//! [`crate::Source::http`] or [`crate::Source::api`], with its own client,
//! timeouts and size limits.

use std::time::Duration;

use crate::limits::Budget;

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
    pub fn with_timeout(mut self, budget: &Budget, asked: Option<Duration>) -> Self {
        let asked = asked.filter(|d| !d.is_zero()).unwrap_or(DEFAULT_TIMEOUT);
        self.timeout = match budget.time_left() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_canonical() {
        assert_eq!(canonical_header("content-type"), "Content-Type");
        assert_eq!(canonical_header("X-RATE-limit"), "X-Rate-Limit");
    }
}
