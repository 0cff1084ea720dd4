//! List paging as InfluxDB does it: `limit` (1–100, default 20), `offset`,
//! `after`, `descending`, and the `links` object every list answer carries.

use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{QueryMap, parse_id};
use meta::FindOptions;

pub(crate) fn find_options(q: &QueryMap) -> ApiResult<FindOptions> {
    let mut opts = FindOptions::default();
    if let Some(o) = q.get("offset") {
        opts.offset = o.parse().map_err(|_| ApiError::invalid("offset is invalid"))?;
    }
    if let Some(a) = q.get("after") {
        opts.after = Some(parse_id(a).map_err(|e| ApiError::invalid(format!("decoding after: {}", e.message)))?);
    }
    if let Some(l) = q.get("limit") {
        let l: i64 = l.parse().map_err(|_| ApiError::invalid("limit is invalid"))?;
        if !(1..=FindOptions::MAX_LIMIT as i64).contains(&l) {
            return Err(ApiError::invalid(format!("limit must be between 1 and {}", FindOptions::MAX_LIMIT)));
        }
        opts.limit = l as usize;
    }
    if let Some(d) = q.get("descending") {
        opts.descending = parse_bool(d).ok_or_else(|| ApiError::invalid("descending is invalid"))?;
    }
    Ok(opts)
}

/// Go's `strconv.ParseBool` spellings.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// `links` for a page of `count` items: `self`, and `next`/`prev` where there are more.
/// `filters` are the list's own query parameters, echoed back.
pub(crate) fn links(base: &str, opts: &FindOptions, filters: &[(&str, Option<String>)], count: usize) -> Value {
    let mut params: Vec<(String, String)> = filters
        .iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k.to_string(), v.clone())))
        .collect();
    params.push(("descending".into(), opts.descending.to_string()));
    params.push(("offset".into(), opts.offset.to_string()));
    params.push(("limit".into(), opts.limit.to_string()));
    if let Some(a) = opts.after {
        params.push(("after".into(), a.to_string()));
    }
    let url = |params: &[(String, String)]| {
        let mut sorted = params.to_vec();
        sorted.sort();
        let q = sorted.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
        format!("{base}?{q}")
    };
    let mut links = json!({ "self": url(&params) });
    let set_offset = |params: &mut Vec<(String, String)>, off: usize| {
        for p in params.iter_mut() {
            if p.0 == "offset" {
                p.1 = off.to_string();
            }
        }
    };
    if count >= opts.limit {
        let mut next = params.clone();
        set_offset(&mut next, opts.offset + opts.limit);
        links["next"] = json!(url(&next));
    }
    if opts.offset > 0 {
        let mut prev = params.clone();
        set_offset(&mut prev, opts.offset.saturating_sub(opts.limit));
        links["prev"] = json!(url(&prev));
    }
    links
}

/// A query parameter's name or value as Go's `url.QueryEscape` writes it
/// (a space is `+`).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_have_self_next_and_prev_like_influxdb() {
        let opts = FindOptions { limit: 2, offset: 2, after: None, descending: false };
        let l = links("/api/v2/orgs", &opts, &[("org", Some("my org".into()))], 2);
        assert_eq!(l["self"], "/api/v2/orgs?descending=false&limit=2&offset=2&org=my+org");
        assert_eq!(l["next"], "/api/v2/orgs?descending=false&limit=2&offset=4&org=my+org");
        assert_eq!(l["prev"], "/api/v2/orgs?descending=false&limit=2&offset=0&org=my+org");
    }
}
