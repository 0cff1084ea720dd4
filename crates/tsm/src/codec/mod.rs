//! A TSM block's bytes to its timestamps and values. A block is one key's
//! run of values: a type byte, the length of the encoded timestamps (a
//! varint), the timestamps, then the values, each with its own encoding
//! chosen by the writer and named in the high four bits of its first byte.

mod floats;
mod simple8b;

use crate::{Error, Result, Values};

/// The block's type byte, as the TSM index also names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Float,
    Integer,
    Boolean,
    String,
    Unsigned,
}

impl Kind {
    pub(crate) fn from_byte(b: u8) -> Result<Self> {
        Ok(match b {
            0 => Kind::Float,
            1 => Kind::Integer,
            2 => Kind::Boolean,
            3 => Kind::String,
            4 => Kind::Unsigned,
            other => return Err(Error::corrupt(format!("unknown block type {other}"))),
        })
    }
}

/// Decodes one block (without its checksum) into its timestamps and values,
/// which have the same length.
pub fn decode_block(block: &[u8]) -> Result<(Vec<i64>, Values)> {
    let (&kind, rest) = block.split_first().ok_or_else(|| Error::corrupt("empty block"))?;
    let kind = Kind::from_byte(kind)?;
    let (len, n) = uvarint(rest).ok_or_else(|| Error::corrupt("block's timestamp length"))?;
    let rest = &rest[n..];
    let len = usize::try_from(len)
        .ok()
        .filter(|l| *l <= rest.len())
        .ok_or_else(|| Error::corrupt("block's timestamps are cut short"))?;
    let (ts, vs) = rest.split_at(len);
    let times = decode_times(ts)?;
    let values = match kind {
        Kind::Float => Values::Float(floats::decode(vs)?),
        Kind::Integer => Values::Integer(decode_integers(vs)?),
        Kind::Unsigned => Values::Unsigned(decode_integers(vs)?.into_iter().map(|v| v as u64).collect()),
        Kind::Boolean => Values::Boolean(decode_booleans(vs)?),
        Kind::String => Values::String(decode_strings(vs)?),
    };
    if values.len() != times.len() {
        return Err(Error::corrupt(format!("block has {} timestamps and {} values", times.len(), values.len())));
    }
    Ok((times, values))
}

/// Go's `binary.Uvarint`: the value and how many bytes it took.
pub(crate) fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

fn be_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

const RAW: u8 = 0;
const PACKED: u8 = 1;
const RLE: u8 = 2;

/// Timestamps: deltas from the first, scaled down by a power of ten (the low
/// four bits of the header), then run-length, simple8b-packed or raw.
fn decode_times(b: &[u8]) -> Result<Vec<i64>> {
    let Some(&header) = b.first() else { return Ok(Vec::new()) };
    let scale = 10u64.checked_pow(u32::from(header & 0xf)).ok_or_else(|| Error::corrupt("timestamp scale"))?;
    match header >> 4 {
        RAW => {
            let mut out = Vec::with_capacity(b.len() / 8);
            let mut last = 0u64;
            for (i, w) in b[1..].chunks_exact(8).enumerate() {
                let d = u64::from_be_bytes(w.try_into().expect("8 bytes"));
                last = if i == 0 { d } else { last.wrapping_add(d) };
                out.push(last as i64);
            }
            Ok(out)
        }
        PACKED => {
            let first = be_u64(&b[1..]).ok_or_else(|| Error::corrupt("packed timestamps without a first value"))?;
            let mut deltas = Vec::new();
            simple8b::unpack_all(&b[9..], &mut deltas)?;
            let mut out = Vec::with_capacity(deltas.len() + 1);
            let mut last = first;
            out.push(first as i64);
            for d in deltas {
                last = last.wrapping_add(d.wrapping_mul(scale));
                out.push(last as i64);
            }
            Ok(out)
        }
        RLE => {
            let first = be_u64(&b[1..]).ok_or_else(|| Error::corrupt("run-length timestamps without a first value"))?;
            let (delta, n) = uvarint(&b[9..]).ok_or_else(|| Error::corrupt("run-length timestamp delta"))?;
            let (count, _) = uvarint(&b[9 + n..]).ok_or_else(|| Error::corrupt("run-length timestamp count"))?;
            let delta = delta.wrapping_mul(scale);
            let count = bounded(count, b.len())?;
            Ok((0..count as u64).map(|i| first.wrapping_add(delta.wrapping_mul(i)) as i64).collect())
        }
        other => Err(Error::corrupt(format!("unknown timestamp encoding {other}"))),
    }
}

/// A run's count, refused when no real block could hold it (a corrupt count
/// must not ask for gigabytes).
fn bounded(count: u64, block_len: usize) -> Result<usize> {
    // A TSM block holds at most 1,000 values by default and never more than
    // the 16-bit index allows per key; runs compress well, so allow plenty.
    const MAX: u64 = 1 << 24;
    if count > MAX {
        return Err(Error::corrupt(format!("run of {count} values in a {block_len}-byte block")));
    }
    Ok(count as usize)
}

/// Integers (and unsigned, as their bits): zigzag deltas from the previous
/// value, simple8b-packed or raw; or a run-length first value and delta.
fn decode_integers(b: &[u8]) -> Result<Vec<i64>> {
    let Some(&header) = b.first() else { return Ok(Vec::new()) };
    let body = &b[1..];
    match header >> 4 {
        RAW | PACKED => {
            let mut raw = Vec::with_capacity(body.len() / 8);
            if header >> 4 == RAW {
                raw.extend(body.chunks_exact(8).map(|w| u64::from_be_bytes(w.try_into().expect("8 bytes"))));
            } else {
                let first = be_u64(body).ok_or_else(|| Error::corrupt("packed integers without a first value"))?;
                raw.push(first);
                simple8b::unpack_all(&body[8..], &mut raw)?;
            }
            let mut last = 0i64;
            Ok(raw
                .into_iter()
                .map(|d| {
                    last = last.wrapping_add(zigzag(d));
                    last
                })
                .collect())
        }
        RLE => {
            let first =
                zigzag(be_u64(body).ok_or_else(|| Error::corrupt("run-length integers without a first value"))?);
            let (delta, n) = uvarint(&body[8..]).ok_or_else(|| Error::corrupt("run-length integer delta"))?;
            let (repeats, _) = uvarint(&body[8 + n..]).ok_or_else(|| Error::corrupt("run-length integer count"))?;
            let delta = zigzag(delta);
            let count = bounded(repeats.saturating_add(1), b.len())?;
            Ok((0..count as i64).map(|i| first.wrapping_add(delta.wrapping_mul(i))).collect())
        }
        other => Err(Error::corrupt(format!("unknown integer encoding {other}"))),
    }
}

/// Booleans: a count (varint), then one bit each, the first in the high bit.
fn decode_booleans(b: &[u8]) -> Result<Vec<bool>> {
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let (count, n) = uvarint(&b[1..]).ok_or_else(|| Error::corrupt("boolean count"))?;
    let bits = &b[1 + n..];
    // As 1.x reads a cut-short block: no more values than there are bits.
    let count = (count as usize).min(bits.len() * 8);
    Ok((0..count).map(|i| bits[i >> 3] & (0x80 >> (i & 7)) != 0).collect())
}

/// Strings: one snappy block of varint-length-prefixed strings.
fn decode_strings(b: &[u8]) -> Result<Vec<String>> {
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let data =
        snap::raw::Decoder::new().decompress_vec(&b[1..]).map_err(|e| Error::corrupt(format!("string block: {e}")))?;
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let (len, n) = uvarint(&data[at..]).ok_or_else(|| Error::corrupt("string length"))?;
        let start = at + n;
        let end = usize::try_from(len).ok().and_then(|l| start.checked_add(l)).filter(|e| *e <= data.len());
        let end = end.ok_or_else(|| Error::corrupt("string runs past its block"))?;
        out.push(String::from_utf8_lossy(&data[start..end]).into_owned());
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
