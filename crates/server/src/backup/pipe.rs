//! Between blocking work and HTTP bodies, in bounded memory: a `Write`
//! whose bytes become a streamed response (gzipped when the client asks),
//! and a `Read` over a request body (gunzipped when it says so).

use std::io::{Read, Write};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult};

/// Bytes sent at once, and how many such pieces may wait for the client.
const PIECE: usize = 256 * 1024;
const QUEUED: usize = 8;

/// The write end of a streamed answer; a client gone away fails the next write.
pub(super) struct Pipe {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::take(&mut self.buf));
        self.tx.blocking_send(Ok(piece)).map_err(|_| std::io::Error::other("the client went away"))
    }
}

/// Runs `produce` on a blocking thread writing the answer's body. An error
/// before any byte is sent is the answer (its 4xx or 5xx); one after cuts the
/// stream short, which the client sees as a truncated body.
pub(super) async fn stream(
    content_type: String,
    gzip: bool,
    produce: impl FnOnce(&mut dyn Write) -> ApiResult<()> + Send + 'static,
) -> ApiResult<Response> {
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(QUEUED);
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<ApiResult<()>>();
    tokio::task::spawn_blocking(move || {
        let errors = tx.clone();
        let mut pipe = Pipe { tx, buf: Vec::new() };
        let mut gate = Gate { inner: &mut pipe, first: Some(first_tx) };
        let outcome = if gzip {
            let mut gz = flate2::write::GzEncoder::new(&mut gate, flate2::Compression::fast());
            produce(&mut gz).and_then(|()| gz.finish().map(drop).map_err(|e| ApiError::internal(e.to_string())))
        } else {
            produce(&mut gate)
        };
        let outcome = outcome.and_then(|()| gate.flush().map_err(|e| ApiError::internal(e.to_string())));
        match (gate.first.take(), outcome) {
            (Some(first), result) => {
                let _ = first.send(result);
            }
            (None, Err(e)) => {
                tracing::warn!(error = %e.message, "a backup stream failed after it began");
                let _ = errors.blocking_send(Err(std::io::Error::other(e.message)));
            }
            (None, Ok(())) => {}
        }
    });
    // Waits for the first bytes (or the end, or an error before either).
    let ready = first_rx.await.map_err(|_| ApiError::internal("the backup stopped"))?;
    ready?;
    let body = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = (StatusCode::OK, Body::from_stream(body)).into_response();
    let value = HeaderValue::from_str(&content_type).map_err(|e| ApiError::internal(e.to_string()))?;
    resp.headers_mut().insert(header::CONTENT_TYPE, value);
    if gzip {
        resp.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(resp)
}

/// Passes bytes through, and says "started" once the first of them is written.
struct Gate<'a> {
    inner: &'a mut Pipe,
    first: Option<tokio::sync::oneshot::Sender<ApiResult<()>>>,
}

impl Write for Gate<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if !data.is_empty()
            && let Some(first) = self.first.take()
        {
            let _ = first.send(Ok(()));
        }
        self.inner.write(data)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A request body as a blocking `Read`, fed a chunk at a time.
pub(super) struct BodyRead {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    chunk: Bytes,
}

impl BodyRead {
    /// Starts reading `body` (a task forwards its chunks; at most a few wait).
    pub(super) fn new(body: Body) -> Self {
        let (tx, rx) = mpsc::channel(QUEUED);
        tokio::spawn(async move {
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| format!("reading the request body: {e}"));
                let failed = chunk.is_err();
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        });
        Self { rx, chunk: Bytes::new() }
    }
}

impl Read for BodyRead {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(c)) => self.chunk = c,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len());
        out[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk = self.chunk.slice(n..);
        Ok(n)
    }
}

/// A request body as a blocking reader, gunzipped when the request says so.
pub(super) fn reader(body: Body, headers: &HeaderMap) -> Input {
    Input { raw: Some(BodyRead::new(body)), gzip: crate::extract::sends_gzip(headers), gz: None }
}

/// A request body to read on a blocking thread: the gzip decoder reads its
/// header as it is made, so it is made there, at the first read.
pub(super) struct Input {
    raw: Option<BodyRead>,
    gzip: bool,
    gz: Option<flate2::read::GzDecoder<BodyRead>>,
}

impl Read for Input {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if let Some(gz) = &mut self.gz {
            return gz.read(out);
        }
        match self.raw.take() {
            Some(raw) if self.gzip => self.gz.insert(flate2::read::GzDecoder::new(raw)).read(out),
            Some(mut raw) => {
                let n = raw.read(out);
                self.raw = Some(raw);
                n
            }
            None => Ok(0),
        }
    }
}
