//! WAL segments (`_NNNNN.wal`): entries of a type byte, a 4-byte length and
//! a snappy block. A write entry holds, per key, a type byte, the key, a
//! value count and the (time, value) pairs; a delete entry the keys it
//! removed; a delete-range entry a time range and its keys. A segment cut
//! short by a crash, or with a bad entry, ends at its last good entry, as
//! 1.x replays it.

use std::path::{Path, PathBuf};

use crate::{Error, Result, Timed, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// Per key, its values in the order written.
    Write(Vec<(Vec<u8>, Timed)>),
    /// The keys lost every value written before.
    Delete(Vec<Vec<u8>>),
    /// The keys lost the values in `[min, max]` written before.
    DeleteRange { keys: Vec<Vec<u8>>, min: i64, max: i64 },
}

/// A segment's whole entries, and whether its tail was cut short (then the
/// entries are those before the cut).
#[derive(Debug, Default)]
pub struct Segment {
    pub entries: Vec<Entry>,
    pub truncated: bool,
}

/// The segments of a shard's WAL directory, in the order they were written.
pub fn segments(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out: Vec<(u64, PathBuf)> = Vec::new();
    for entry in read {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if let Some(n) = name.strip_prefix('_').and_then(|n| n.strip_suffix(".wal")).and_then(|n| n.parse().ok()) {
            out.push((n, path));
        }
    }
    out.sort();
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

pub fn read_segment(path: &Path) -> Result<Segment> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(parse_segment(&bytes))
}

pub fn parse_segment(mut b: &[u8]) -> Segment {
    let mut seg = Segment::default();
    let mut decoder = snap::raw::Decoder::new();
    while !b.is_empty() {
        let Some(head) = b.get(..5) else {
            seg.truncated = true;
            break;
        };
        let len = u32::from_be_bytes(head[1..5].try_into().expect("4 bytes")) as usize;
        let Some(block) = b.get(5..5 + len) else {
            seg.truncated = true;
            break;
        };
        let Ok(data) = decoder.decompress_vec(block) else {
            seg.truncated = true;
            break;
        };
        let entry = match head[0] {
            1 => write_entry(&data).map(Entry::Write),
            2 => Ok(Entry::Delete(data.split(|&c| c == b'\n').filter(|k| !k.is_empty()).map(<[u8]>::to_vec).collect())),
            3 => delete_range(&data),
            other => Err(Error::corrupt(format!("unknown WAL entry type {other}"))),
        };
        // 1.x truncates a segment at its first bad entry and replays what came before.
        let Ok(entry) = entry else {
            seg.truncated = true;
            break;
        };
        seg.entries.push(entry);
        b = &b[5 + len..];
    }
    seg
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n).ok_or_else(|| Error::corrupt("WAL entry is cut short"))?;
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
}

fn write_entry(b: &[u8]) -> Result<Vec<(Vec<u8>, Timed)>> {
    let mut c = Cursor(b);
    let mut out = Vec::new();
    while !c.0.is_empty() {
        let kind = c.take(1)?[0];
        let key_len = u16::from_be_bytes(c.take(2)?.try_into().expect("2 bytes")) as usize;
        let key = c.take(key_len)?.to_vec();
        let n = c.u32()? as usize;
        if n == 0 || n > b.len() {
            return Err(Error::corrupt(format!("WAL entry with {n} values")));
        }
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            let t = c.u64()? as i64;
            let v = match kind {
                1 => Value::Float(f64::from_bits(c.u64()?)),
                2 => Value::Integer(c.u64()? as i64),
                3 => Value::Boolean(c.take(1)?[0] == 1),
                4 => {
                    let len = c.u32()? as usize;
                    Value::String(String::from_utf8_lossy(c.take(len)?).into_owned())
                }
                5 => Value::Unsigned(c.u64()?),
                other => return Err(Error::corrupt(format!("unknown WAL value type {other}"))),
            };
            values.push((t, v));
        }
        out.push((key, values));
    }
    Ok(out)
}

fn delete_range(b: &[u8]) -> Result<Entry> {
    let mut c = Cursor(b);
    let min = c.u64()? as i64;
    let max = c.u64()? as i64;
    let mut keys = Vec::new();
    while !c.0.is_empty() {
        let len = c.u32()? as usize;
        keys.push(c.take(len)?.to_vec());
    }
    Ok(Entry::DeleteRange { keys, min, max })
}
