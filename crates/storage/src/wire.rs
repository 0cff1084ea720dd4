//! The WAL's entry encoding: what to replay, in a few fixed-width fields.

use crate::error::{Error, Result};

/// One logged operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    /// A line-protocol body as accepted, with everything needed to apply it again
    /// exactly as it was applied the first time.
    Write { bucket: u64, shard_group_ns: i64, retention_ns: i64, precision: u8, now: i64, body: Vec<u8> },
    /// A delete by time range and predicate (the predicate in its text form).
    Delete { bucket: u64, start: i64, stop: i64, predicate: String },
    /// A bucket and all its data went.
    DropBucket { bucket: u64 },
}

fn take<const N: usize>(b: &[u8], pos: &mut usize) -> Result<[u8; N]> {
    let s = b.get(*pos..*pos + N).ok_or_else(|| Error::Corrupt("short WAL entry".into()))?;
    *pos += N;
    s.try_into().map_err(|_| Error::Corrupt("short WAL entry".into()))
}

impl Entry {
    /// The fixed part of a `Write` entry; the body follows it, so a caller can log a
    /// request body without copying it into one buffer first.
    pub(crate) fn write_header(
        bucket: u64,
        shard_group_ns: i64,
        retention_ns: i64,
        precision: u8,
        now: i64,
    ) -> [u8; 34] {
        let mut h = [0u8; 34];
        h[0] = 1;
        h[1..9].copy_from_slice(&bucket.to_le_bytes());
        h[9..17].copy_from_slice(&shard_group_ns.to_le_bytes());
        h[17..25].copy_from_slice(&retention_ns.to_le_bytes());
        h[25] = precision;
        h[26..34].copy_from_slice(&now.to_le_bytes());
        h
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Entry::Write { bucket, shard_group_ns, retention_ns, precision, now, body } => {
                out.push(1);
                out.extend_from_slice(&bucket.to_le_bytes());
                out.extend_from_slice(&shard_group_ns.to_le_bytes());
                out.extend_from_slice(&retention_ns.to_le_bytes());
                out.push(*precision);
                out.extend_from_slice(&now.to_le_bytes());
                out.extend_from_slice(body);
            }
            Entry::Delete { bucket, start, stop, predicate } => {
                out.push(2);
                out.extend_from_slice(&bucket.to_le_bytes());
                out.extend_from_slice(&start.to_le_bytes());
                out.extend_from_slice(&stop.to_le_bytes());
                out.extend_from_slice(predicate.as_bytes());
            }
            Entry::DropBucket { bucket } => {
                out.push(3);
                out.extend_from_slice(&bucket.to_le_bytes());
            }
        }
        out
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self> {
        let mut pos = 1;
        match b.first() {
            Some(1) => {
                let bucket = u64::from_le_bytes(take(b, &mut pos)?);
                let shard_group_ns = i64::from_le_bytes(take(b, &mut pos)?);
                let retention_ns = i64::from_le_bytes(take(b, &mut pos)?);
                let [precision] = take::<1>(b, &mut pos)?;
                let now = i64::from_le_bytes(take(b, &mut pos)?);
                Ok(Entry::Write { bucket, shard_group_ns, retention_ns, precision, now, body: b[pos..].to_vec() })
            }
            Some(2) => {
                let bucket = u64::from_le_bytes(take(b, &mut pos)?);
                let start = i64::from_le_bytes(take(b, &mut pos)?);
                let stop = i64::from_le_bytes(take(b, &mut pos)?);
                let predicate = String::from_utf8(b[pos..].to_vec())
                    .map_err(|_| Error::Corrupt("delete predicate is not UTF-8".into()))?;
                Ok(Entry::Delete { bucket, start, stop, predicate })
            }
            Some(3) => Ok(Entry::DropBucket { bucket: u64::from_le_bytes(take(b, &mut pos)?) }),
            other => Err(Error::Corrupt(format!("unknown WAL entry kind {other:?}"))),
        }
    }
}

pub(crate) fn precision_code(p: lineproto::Precision) -> u8 {
    use lineproto::Precision as P;
    match p {
        P::Nanosecond => 0,
        P::Microsecond => 1,
        P::Millisecond => 2,
        P::Second => 3,
        P::Minute => 4,
        P::Hour => 5,
    }
}

pub(crate) fn precision_from_code(c: u8) -> Result<lineproto::Precision> {
    use lineproto::Precision as P;
    Ok(match c {
        0 => P::Nanosecond,
        1 => P::Microsecond,
        2 => P::Millisecond,
        3 => P::Second,
        4 => P::Minute,
        5 => P::Hour,
        _ => return Err(Error::Corrupt(format!("unknown precision code {c}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_header_plus_body_is_a_write_entry() {
        let e = Entry::Write {
            bucket: 7,
            shard_group_ns: 1,
            retention_ns: 2,
            precision: 3,
            now: -4,
            body: b"m v=1".to_vec(),
        };
        let mut parts = Entry::write_header(7, 1, 2, 3, -4).to_vec();
        parts.extend_from_slice(b"m v=1");
        assert_eq!(parts, e.encode());
    }

    #[test]
    fn entries_round_trip() {
        for e in [
            Entry::Write {
                bucket: 7,
                shard_group_ns: 1,
                retention_ns: 2,
                precision: 3,
                now: -4,
                body: b"m v=1".to_vec(),
            },
            Entry::Delete { bucket: 7, start: -1, stop: 9, predicate: "a=\"b\"".into() },
            Entry::DropBucket { bucket: u64::MAX },
        ] {
            assert_eq!(Entry::decode(&e.encode()).unwrap(), e);
        }
        assert!(Entry::decode(&[1, 2]).is_err());
        assert!(Entry::decode(&[9]).is_err());
    }
}
