//! Requests queries send: out of the server over HTTP (`http.post`,
//! `requests.do`, `influxdb.api` with a host, `from` with a host), and into
//! this server's own API (`influxdb.api` without a host) as the query's caller.
//!
//! Every call has a timeout (the script's, else 30 s, never past the query's
//! own limit) and reads at most [`flux::outbound::MAX_RESPONSE_BYTES`] of
//! response body. Queries run on the blocking pool, so a call blocks its
//! query's thread on the runtime, never an async worker.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use flux::EvalError;
use flux::outbound::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, canonical_header};
use tower::ServiceExt;

use crate::principal::{ActingAs, Principal};

/// The HTTP clients queries share, and a way back into this server's API.
#[derive(Debug, Default)]
pub(crate) struct Outbound {
    client: OnceLock<reqwest::Client>,
    /// For `insecureSkipVerify: true`.
    insecure: OnceLock<reqwest::Client>,
    /// The server's own routes, set once the router is built.
    pub(crate) own_api: OnceLock<Router>,
}

/// A call that could not be made as the script wrote it.
fn invalid(message: String) -> EvalError {
    EvalError::invalid(message)
}

/// A call whose peer failed, refused or did not answer in time.
fn remote(message: String) -> EvalError {
    EvalError::remote(message)
}

/// A response past what a query may read (Flux's `requests` cap).
fn too_large() -> EvalError {
    EvalError::resources_exhausted(format!("the response body is larger than {MAX_RESPONSE_BYTES} bytes"))
}

impl Outbound {
    fn client(&self, insecure: bool) -> Result<&reqwest::Client, EvalError> {
        let cell = if insecure { &self.insecure } else { &self.client };
        if let Some(c) = cell.get() {
            return Ok(c);
        }
        let built = reqwest::Client::builder()
            .user_agent(concat!("oxiflux/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(insecure)
            .build()
            .map_err(|e| EvalError::internal(format!("cannot make an HTTP client: {e}")))?;
        Ok(cell.get_or_init(|| built))
    }

    /// Sends `req` to the URL it names and waits for the whole answer.
    pub(crate) fn send(&self, runtime: &tokio::runtime::Handle, req: &HttpRequest) -> Result<HttpResponse, EvalError> {
        let client = self.client(req.insecure_skip_verify)?.clone();
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| invalid(format!("invalid HTTP method {:?}", req.method)))?;
        let url = reqwest::Url::parse(&req.url).map_err(|e| invalid(format!("invalid URL {:?}: {e}", req.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!("invalid URL {:?}: only http and https are supported", req.url)));
        }
        let mut builder = client.request(method, url.clone()).body(req.body.clone());
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let started = Instant::now();
        let exchange = async move {
            let mut resp = builder.send().await.map_err(|e| remote(describe(&e)))?;
            let status = resp.status().as_u16();
            let headers = response_headers(resp.headers());
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| remote(describe(&e)))? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse { status, headers, body, duration: started.elapsed() })
        };
        let timeout = req.timeout;
        runtime.block_on(async move {
            tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or_else(|_| Err(remote(format!("request to {} timed out after {timeout:?}", redact(&url)))))
        })
    }

    /// Sends `req` (a path and query string) through this server's own routes:
    /// with the caller's principal, unless the request names its own token.
    pub(crate) fn api(
        &self,
        runtime: &tokio::runtime::Handle,
        principal: &Principal,
        req: &HttpRequest,
    ) -> Result<HttpResponse, EvalError> {
        let router = self.own_api.get().ok_or_else(|| EvalError::internal("the server's API is not ready"))?.clone();
        let mut builder = axum::http::Request::builder().method(req.method.as_str()).uri(req.url.as_str());
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let mut request = builder
            .body(Body::from(req.body.clone()))
            .map_err(|e| invalid(format!("invalid request {} {:?}: {e}", req.method, req.url)))?;
        let names_token = req.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        if !names_token {
            request.extensions_mut().insert(ActingAs(principal.clone()));
        }
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
        request.extensions_mut().insert(WithinQuery);
        let started = Instant::now();
        let timeout = req.timeout;
        runtime.block_on(async move {
            let exchange = async move {
                let resp = router.oneshot(request).await.unwrap_or_else(|e| match e {});
                let status = resp.status().as_u16();
                let headers = response_headers(resp.headers());
                let body = axum::body::to_bytes(resp.into_body(), MAX_RESPONSE_BYTES).await.map_err(|_| too_large())?;
                Ok(HttpResponse { status, headers, body: body.to_vec(), duration: started.elapsed() })
            };
            tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or_else(|_| Err(remote(format!("request to {} timed out after {timeout:?}", req.url))))
        })
    }
}

/// A request a running query makes of this server. A query it starts runs in
/// the calling query's admission slot: waiting for a slot of its own could
/// wait for the caller itself. Only the server can set it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WithinQuery;

/// Response headers as Flux sees them: canonical names, repeated values
/// joined, sorted by name.
fn response_headers(map: &axum::http::HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in map.keys() {
        let values: Vec<&str> = map.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        out.push((canonical_header(name.as_str()), values.join(",")));
    }
    out.sort();
    out
}

/// What went wrong, with the causes reqwest wraps (refused, DNS, TLS, ...).
fn describe(e: &reqwest::Error) -> String {
    let mut message = match e.url() {
        Some(url) if e.is_connect() => format!("cannot connect to {}", redact(url)),
        Some(url) => format!("request to {} failed", redact(url)),
        None => "request failed".to_owned(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// A URL without its user info and query string, which may hold credentials.
fn redact(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}
