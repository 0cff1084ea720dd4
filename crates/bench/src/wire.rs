//! A minimal HTTP/1.1 client for timing queries: one kept-alive TCP
//! connection per server, requests written and responses read on the calling
//! thread. reqwest's blocking client runs its own runtime thread, and the
//! hand-off to it and back cost ~0.2 ms per request — as much as a small query
//! takes the servers — which would blur every ratio toward 1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use anyhow::{Context, bail};

#[derive(Debug)]
pub(crate) struct Conn {
    host: String,
    stream: BufReader<TcpStream>,
}

impl Conn {
    /// Connects to `http://host:port`.
    pub(crate) fn open(url: &str) -> anyhow::Result<Conn> {
        let host = url.strip_prefix("http://").context("only http:// URLs")?.trim_end_matches('/').to_owned();
        let stream = TcpStream::connect(&host).with_context(|| format!("connecting to {host}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn { host, stream: BufReader::new(stream) })
    }

    /// `GET path` with extra header lines; the status and body.
    pub(crate) fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        self.stream.get_mut().write_all(req.as_bytes())?;
        self.read_response()
    }

    fn read_response(&mut self) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).context("no status")?.parse()?;
        let (mut length, mut chunked) = (None, false);
        loop {
            line.clear();
            self.stream.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').context("bad header")?;
            if k.eq_ignore_ascii_case("content-length") {
                length = Some(v.trim().parse::<usize>()?);
            } else if k.eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim_end().split(';').next().unwrap_or("0"), 16)?;
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.stream.read_exact(&mut body)?;
        } else {
            bail!("a response without length on a kept-alive connection");
        }
        Ok((status, body))
    }
}

/// `path?k=v&...` with the values percent-encoded.
pub(crate) fn path_with(path: &str, params: &[(&str, &str)]) -> String {
    let mut out = format!("{path}?");
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}
