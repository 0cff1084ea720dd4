//! `http`, `http/requests`, `experimental/http` and `experimental/influxdb`:
//! requests a query sends. The natives here build an [`HttpRequest`] from a
//! script's arguments and read the [`HttpResponse`] back into Flux values; the
//! embedder sends it ([`crate::Source::http`], [`crate::Source::api`]).
//! `http.endpoint` and the `requests` functions are written in Flux over them.

use std::rc::Rc;
use std::time::Duration as StdDuration;

use base64::Engine;

use crate::args::builtin;
use crate::args::{self, fail};
use crate::remote::{escape_path_segment, escape_query};
use flux_runtime::duration::Duration;
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::interp::{Args, Interp};
use flux_runtime::outbound::{HttpRequest, HttpResponse};
use flux_runtime::value::Value;

/// The natives `http.flux` builds on.
pub(super) fn http_natives() -> Vec<(&'static str, Value)> {
    vec![
        ("post", builtin("post", &["url", "headers", "data"], None, post)),
        (
            "basicAuth",
            builtin("basicAuth", &["u", "p"], None, |_, a| {
                let pair = format!("{}:{}", args::string(a, "u")?, args::string(a, "p")?);
                Ok(Value::String(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))))
            }),
        ),
        (
            "pathEscape",
            builtin("pathEscape", &["inputString"], None, |_, a| {
                Ok(Value::String(escape_path_segment(args::string(a, "inputString")?)))
            }),
        ),
    ]
}

/// The natives `requests.flux` builds on.
pub(super) fn requests_natives() -> Vec<(&'static str, Value)> {
    vec![("_do", builtin("_do", &["method", "url", "params", "headers", "body", "config"], None, requests_do))]
}

/// `experimental/http`: `get`.
pub(super) fn experimental_http() -> Value {
    crate::args::package(vec![("get", builtin("get", &["url", "headers", "timeout"], None, experimental_get))])
}

/// `experimental/influxdb`: `api`.
pub(super) fn experimental_influxdb() -> Value {
    crate::args::package(vec![(
        "api",
        builtin("api", &["method", "path", "host", "token", "headers", "query", "timeout", "body"], None, api),
    )])
}

/// `http.post(url:, headers:, data:)`: the status code.
fn post(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let mut req = HttpRequest::new("POST", args::string(a, "url")?).with_timeout(&i.budget, None);
    if let Some(h) = a.get("headers") {
        req.headers = string_pairs(h, "headers")?;
    }
    if let Some(d) = a.get("data") {
        req.body = bytes(d, "data")?;
    }
    let resp = send(i, &req, "http.post")?;
    Ok(Value::Int(i64::from(resp.status)))
}

/// `requests.do`'s native: `{statusCode, body, headers, duration}`.
fn requests_do(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let method = args::string(a, "method")?.to_ascii_uppercase();
    if !matches!(method.as_str(), "DELETE" | "GET" | "HEAD" | "PATCH" | "POST" | "PUT") {
        return fail(format!("requests.do: unsupported method {method:?}: use DELETE, GET, HEAD, PATCH, POST or PUT"));
    }
    let mut url = args::string(a, "url")?.to_owned();
    if let Some(params) = a.get("params") {
        let mut first = !url.contains('?');
        // As Go's url.Values encodes them: sorted by name.
        let mut params = dict_entries(params, "params")?;
        params.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, vs) in params {
            let Value::Array(vs) = vs else {
                return fail(format!("requests.do: params values must be arrays of strings, got {}", vs.type_name()));
            };
            for v in vs.iter() {
                let Value::String(v) = v else {
                    return fail(format!("requests.do: params values must be strings, got {}", v.type_name()));
                };
                url.push(if first { '?' } else { '&' });
                first = false;
                url.push_str(&format!("{}={}", escape_query(&k), escape_query(v)));
            }
        }
    }
    let (timeout, insecure) = match a.get("config") {
        Some(Value::Record(c)) => {
            let timeout = match c.get("timeout") {
                Some(Value::Duration(d)) => Some(std_duration(d)),
                None => None,
                Some(v) => {
                    return fail(format!("requests.do: config.timeout must be a duration, got {}", v.type_name()));
                }
            };
            (timeout, matches!(c.get("insecureSkipVerify"), Some(Value::Bool(true))))
        }
        None => (None, false),
        Some(v) => return fail(format!("requests.do: config must be a record, got {}", v.type_name())),
    };
    let mut req = HttpRequest::new(&method, url).with_timeout(&i.budget, timeout);
    req.insecure_skip_verify = insecure;
    if let Some(h) = a.get("headers") {
        req.headers = string_pairs(h, "headers")?;
    }
    if let Some(b) = a.get("body") {
        req.body = bytes(b, "body")?;
    }
    let resp = send(i, &req, "requests.do")?;
    Ok(Value::record([
        ("statusCode".to_owned(), Value::Int(i64::from(resp.status))),
        ("body".to_owned(), Value::Bytes(resp.body)),
        ("headers".to_owned(), header_dict(resp.headers)),
        ("duration".to_owned(), Value::Duration(Duration::from_nanos(resp.duration.as_nanos() as i64))),
    ]))
}

/// `experimental/http.get`: `{statusCode, body, headers}` with headers as a record.
fn experimental_get(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let timeout = optional_timeout(a, "http.get")?;
    let mut req = HttpRequest::new("GET", args::string(a, "url")?).with_timeout(&i.budget, timeout);
    if let Some(h) = a.get("headers") {
        req.headers = string_pairs(h, "headers")?;
    }
    let resp = send(i, &req, "http.get")?;
    let headers = Value::record(resp.headers.into_iter().map(|(k, v)| (k, Value::String(v))));
    Ok(Value::record([
        ("statusCode".to_owned(), Value::Int(i64::from(resp.status))),
        ("body".to_owned(), Value::Bytes(resp.body)),
        ("headers".to_owned(), headers),
    ]))
}

/// `influxdb.api`: a call to this server's API as the query's caller, or,
/// with a `host`, to that server with `token`.
fn api(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let method = args::string(a, "method")?;
    let path = args::string(a, "path")?;
    if !path.starts_with('/') {
        return fail(format!("influxdb.api: path must start with \"/\", got {path:?}"));
    }
    let host = match a.get("host") {
        None => "",
        Some(Value::String(h)) => h.as_str(),
        Some(v) => return fail(format!("influxdb.api: host must be a string, got {}", v.type_name())),
    };
    let token = match a.get("token") {
        None => "",
        Some(Value::String(t)) => t.as_str(),
        Some(v) => return fail(format!("influxdb.api: token must be a string, got {}", v.type_name())),
    };
    let mut target = format!("{}{path}", host.trim_end_matches('/'));
    if let Some(q) = a.get("query") {
        let mut first = !target.contains('?');
        let mut pairs = string_pairs(q, "query")?;
        pairs.sort();
        for (k, v) in pairs {
            target.push(if first { '?' } else { '&' });
            first = false;
            target.push_str(&format!("{}={}", escape_query(&k), escape_query(&v)));
        }
    }
    let timeout = optional_timeout(a, "influxdb.api")?;
    let mut req = HttpRequest::new(method, target).with_timeout(&i.budget, timeout);
    if let Some(h) = a.get("headers") {
        req.headers = string_pairs(h, "headers")?;
    }
    if !token.is_empty() {
        req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        req.headers.push(("Authorization".into(), format!("Token {token}")));
    }
    if let Some(b) = a.get("body") {
        req.body = bytes(b, "body")?;
    }
    let resp = if host.is_empty() {
        let source = i.source.clone().ok_or_else(|| EvalError::invalid("influxdb.api: no API here"))?;
        source.api(&req).map_err(|e| e.context("influxdb.api"))?
    } else {
        send(i, &req, "influxdb.api")?
    };
    Ok(Value::record([
        ("statusCode".to_owned(), Value::Int(i64::from(resp.status))),
        ("headers".to_owned(), header_dict(resp.headers)),
        ("body".to_owned(), Value::Bytes(resp.body)),
    ]))
}

fn send(i: &Interp, req: &HttpRequest, what: &str) -> EvalResult<HttpResponse> {
    let source = i.source.clone().ok_or_else(|| EvalError::invalid(format!("{what}: no HTTP client here")))?;
    source.http(req).map_err(|e| e.context(what))
}

fn optional_timeout(a: &Args, what: &str) -> EvalResult<Option<StdDuration>> {
    match a.get("timeout") {
        None => Ok(None),
        Some(Value::Duration(d)) => Ok(Some(std_duration(d))),
        Some(v) => fail(format!("{what}: timeout must be a duration, got {}", v.type_name())),
    }
}

/// A duration as a timeout; a negative one is none at all (zero: the default).
fn std_duration(d: &Duration) -> StdDuration {
    let (months, nanos) = d.signed();
    let total = nanos.saturating_add(months.saturating_mul(30 * 24 * 3600 * 1_000_000_000));
    StdDuration::from_nanos(u64::try_from(total).unwrap_or(0))
}

fn bytes(v: &Value, name: &str) -> EvalResult<Vec<u8>> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::String(s) => Ok(s.clone().into_bytes()),
        v => fail(format!("{name} must be bytes, got {}", v.type_name())),
    }
}

/// Header-like name/value pairs from a record or a `[string:string]` dict.
fn string_pairs(v: &Value, name: &str) -> EvalResult<Vec<(String, String)>> {
    let pairs: Vec<(String, &Value)> = match v {
        Value::Record(r) => r.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Dict(_) => {
            return dict_entries(v, name)?
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    v => fail(format!("{name} values must be strings, got {}", v.type_name())),
                })
                .collect();
        }
        v => return fail(format!("{name} must be a record or a dictionary, got {}", v.type_name())),
    };
    pairs
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s.clone())),
            v => fail(format!("{name} values must be strings, got {}", v.type_name())),
        })
        .collect()
}

fn dict_entries(v: &Value, name: &str) -> EvalResult<Vec<(String, Value)>> {
    let Value::Dict(d) = v else {
        return fail(format!("{name} must be a dictionary, got {}", v.type_name()));
    };
    d.iter()
        .map(|(k, v)| match k {
            Value::String(k) => Ok((k.clone(), v.clone())),
            k => fail(format!("{name} keys must be strings, got {}", k.type_name())),
        })
        .collect()
}

fn header_dict(headers: Vec<(String, String)>) -> Value {
    Value::Dict(Rc::new(headers.into_iter().map(|(k, v)| (Value::String(k), Value::String(v))).collect()))
}
