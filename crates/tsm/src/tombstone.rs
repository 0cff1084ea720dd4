//! A TSM file's tombstones (`NNN-NNN.tombstone` beside `NNN-NNN.tsm`): which
//! keys lost which time ranges. Four versions exist: v1 a line per key (the
//! whole range), v2 binary records, v3 one gzip stream of them, v4 gzip
//! streams appended one per delete. A record is a 4-byte key length, the
//! key, and the inclusive min and max time.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

const V2: u32 = 0x1502;
const V3: u32 = 0x1503;
const V4: u32 = 0x1504;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub key: Vec<u8>,
    pub min: i64,
    pub max: i64,
}

/// Where a TSM file's tombstones are.
pub fn path_for(tsm: &Path) -> PathBuf {
    tsm.with_extension("tombstone")
}

/// The tombstones of a TSM file (none when it has no tombstone file).
pub fn read_for(tsm: &Path) -> Result<Vec<Tombstone>> {
    let path = path_for(tsm);
    match std::fs::read(&path) {
        Ok(bytes) => parse(&bytes).map_err(|e| e.in_file(&path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

pub fn parse(bytes: &[u8]) -> Result<Vec<Tombstone>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let header = bytes.get(..4).map(|h| u32::from_be_bytes(h.try_into().expect("4 bytes")));
    match header {
        Some(V2) => records(&bytes[4..]),
        Some(V3 | V4) => {
            let mut plain = Vec::new();
            if bytes.len() > 4 {
                flate2::read::MultiGzDecoder::new(&bytes[4..])
                    .read_to_end(&mut plain)
                    .map_err(|e| Error::corrupt(format!("tombstone gzip: {e}")))?;
            }
            records(&plain)
        }
        _ => Ok(bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|key| Tombstone { key: key.to_vec(), min: i64::MIN, max: i64::MAX })
            .collect()),
    }
}

fn records(mut b: &[u8]) -> Result<Vec<Tombstone>> {
    let mut out = Vec::new();
    let cut = || Error::corrupt("tombstone record is cut short");
    while !b.is_empty() {
        let len = u32::from_be_bytes(b.get(..4).ok_or_else(cut)?.try_into().expect("4 bytes")) as usize;
        let rest = &b[4..];
        let key = rest.get(..len).ok_or_else(cut)?;
        let times = rest.get(len..len + 16).ok_or_else(cut)?;
        out.push(Tombstone {
            key: key.to_vec(),
            min: i64::from_be_bytes(times[..8].try_into().expect("8 bytes")),
            max: i64::from_be_bytes(times[8..].try_into().expect("8 bytes")),
        });
        b = &rest[len + 16..];
    }
    Ok(out)
}
