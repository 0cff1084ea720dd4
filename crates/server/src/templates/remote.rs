//! Templates fetched from a URL (`remotes`, a stack's `templateURLs`):
//! `http` and `https` only, answered within a time limit and a size cap.

use std::time::Duration;

use templates::Encoding;

/// Largest template read from a URL.
pub(crate) const MAX_BYTES: usize = 16 << 20;

/// How long a URL may take to answer in full.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// A GitHub page of a file (`github.com/<owner>/<repo>/blob/<ref>/<path>`)
/// as its raw content's URL, as 2.7 rewrites it.
fn raw_github(url: &reqwest::Url) -> Option<reqwest::Url> {
    if url.host_str() != Some("github.com") {
        return None;
    }
    let segs: Vec<&str> = url.path_segments()?.collect();
    if segs.len() < 5 || segs[2] != "blob" {
        return None;
    }
    let path = format!("{}/{}/{}", segs[0], segs[1], segs[3..].join("/"));
    reqwest::Url::parse(&format!("https://raw.githubusercontent.com/{path}")).ok()
}

/// The bytes at `url` and the encoding they are in.
pub(crate) async fn fetch(url: &str, content_type: &str) -> Result<(Vec<u8>, Encoding), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("unsupported protocol scheme {:?}: only http and https are fetched", parsed.scheme()));
    }
    let target = raw_github(&parsed).unwrap_or(parsed);
    let client = reqwest::Client::builder()
        .user_agent(concat!("oxiflux/", env!("CARGO_PKG_VERSION")))
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
    let exchange = async {
        let mut resp = client.get(target.clone()).send().await.map_err(|e| describe(&e))?;
        let status = resp.status();
        let header = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if let Some(len) = resp.content_length()
            && len as usize > MAX_BYTES
        {
            return Err(format!("the template is {len} bytes, more than the {MAX_BYTES} a template may be"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(format!("the template is more than the {MAX_BYTES} bytes a template may be"));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_owned();
            return Err(format!("bad response: address={url} status_code={} body={text:?}", status.as_u16()));
        }
        Ok((body, header))
    };
    let (body, header) = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))??;
    let encoding = Encoding::named(content_type, target.path())
        .or_else(|| Encoding::named(&header, ""))
        .unwrap_or_else(|| Encoding::sniff(&body));
    Ok((body, encoding))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
