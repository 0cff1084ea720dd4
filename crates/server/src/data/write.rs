//! Writing points: `POST /api/v2/write` and the v1 `POST /write`.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::data::v1;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::QueryMap;
use crate::principal::Principal;
use crate::state::AppState;
use lineproto::Precision;
use meta::auth::{Action, Resource, ResourceType};
use meta::buckets::Bucket;

/// Reads a write body: gunzips it if asked, and holds it to the size limit
/// (after decompression, as InfluxDB does).
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> ApiResult<Bytes> {
    let too_large = || ApiError::new(Code::TooLarge, "unable to read data: points batch is too large");
    let gzip = crate::extract::sends_gzip(headers);
    let raw_limit = if limit == 0 || gzip { usize::MAX } else { limit };
    let raw = collect_body(body, raw_limit).await?.ok_or_else(too_large)?;
    if !gzip {
        return Ok(raw);
    }
    tokio::task::spawn_blocking(move || {
        let cap = if limit == 0 { u64::MAX } else { limit as u64 + 1 };
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .take(cap)
            .read_to_end(&mut out)
            .map_err(|e| ApiError::invalid(format!("unable to read data: gzip: {e}")))?;
        if limit > 0 && out.len() > limit {
            return Err(too_large());
        }
        Ok(Bytes::from(out))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
}

/// The whole body, or `None` once it passes `limit` bytes (the rest unread).
async fn collect_body(body: Body, limit: usize) -> ApiResult<Option<Bytes>> {
    use futures::StreamExt;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid(format!("unable to read data: {e}")))?;
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Ok(None);
        }
        chunks.push(chunk);
    }
    Ok(Some(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => Bytes::from(chunks.concat()),
    }))
}

/// Writes `body` into `bucket` after checking write permission on it; 204, or
/// 422 for a partial write, or 400 when the body does not parse.
async fn write_to(
    state: &AppState,
    p: &Principal,
    bucket: Bucket,
    body: Bytes,
    precision: Precision,
) -> ApiResult<Response> {
    if !p.can(Action::Write, &Resource::one_in_org(ResourceType::Buckets, bucket.id, bucket.org_id)) {
        return Err(ApiError::forbidden("insufficient permissions for write"));
    }
    let now = time::now_ns();
    let ingest = state.ingest();
    let outcome = crate::state::blocking(move || Ok(ingest.write(&bucket, &body, precision, now)?)).await?;
    match outcome.partial_write_message() {
        Some(m) => Err(ApiError::new(Code::Unprocessable, format!("failure writing points to database: {m}"))),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// `POST /api/v2/write?org=&bucket=&precision=`
pub(crate) async fn write_v2(
    State(state): State<AppState>,
    p: Principal,
    q: QueryMap,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let precision = match q.get("precision") {
        None => Precision::Nanosecond,
        Some(s) => Precision::from_v2(s)
            .ok_or_else(|| ApiError::invalid("invalid precision; valid precision units are ns, us, ms, and s"))?,
    };
    let org = crate::tenancy::orgs::from_query(&state, &q)
        .await?
        .ok_or_else(|| ApiError::invalid("Please provide either orgID or org"))?;
    let name = q.get("bucket").ok_or_else(|| ApiError::not_found("bucket not found"))?.to_owned();
    let org_id = org.id;
    let bucket = state
        .meta(move |m| -> ApiResult<Bucket> {
            crate::tenancy::buckets::by_id_or_name(m, org_id, &name)
                .map_err(|_| ApiError::not_found("bucket not found"))
        })
        .await?;
    let body = read_body(body, &headers, state.max_request_size).await?;
    write_to(&state, &p, bucket, body, precision).await
}

/// `POST /write?db=&rp=&precision=`, v1 style: credentials from a `Token`
/// header, Basic auth or `u`/`p`, and the bucket from the DBRP mappings.
pub(crate) async fn write_v1(State(state): State<AppState>, q: QueryMap, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let p = v1::authenticate(&state, &headers, &q).await?;
        let precision = match q.get("precision") {
            None => Precision::Nanosecond,
            Some(s) => Precision::from_v1(s).ok_or_else(|| {
                ApiError::invalid(format!("invalid precision {s:?}: use n, ns, u, us, ms, s, m or h"))
            })?,
        };
        let db = q.get("db").ok_or_else(|| ApiError::invalid("missing db"))?.to_owned();
        let rp = q.get("rp").map(str::to_owned);
        let bucket = v1::bucket_for(&state, &p, &db, rp.as_deref()).await?;
        let body = read_body(body, &headers, state.max_request_size).await?;
        write_to(&state, &p, bucket, body, precision).await
    }
    .await;
    result.unwrap_or_else(v1::error_response)
}
