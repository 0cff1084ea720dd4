use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A resource ID: a non-zero 64-bit number written as 16 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

/// The last ID handed out, so that IDs strictly increase within a process.
static LAST: AtomicU64 = AtomicU64::new(0);

impl Id {
    /// A fresh ID. Like InfluxDB's snowflake IDs they grow with time, so listing
    /// in ID order is listing in creation order: the milliseconds since the Unix
    /// epoch in the high bits, 22 random bits below, and never below the last
    /// one given out. Always non-zero and below 2^63 (positive as SQLite sees it).
    pub fn generate() -> Self {
        let millis = (time::now_ns() / time::MILLISECOND) as u64;
        let fresh = ((millis & ((1 << 41) - 1)) << 22) | (rand::random::<u64>() & ((1 << 22) - 1));
        let prev =
            LAST.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| Some(fresh.max(last + 1))).unwrap_or(0);
        Self(fresh.max(prev + 1))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

impl FromStr for Id {
    type Err = Error;

    /// Parses as InfluxDB does: exactly 16 hex digits, not all zero.
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() != 16 {
            return Err(Error::Invalid("id must have a length of 16 bytes".into()));
        }
        match u64::from_str_radix(s, 16) {
            Ok(0) | Err(_) => Err(Error::Invalid("invalid ID".into())),
            Ok(v) if s.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(Self(v)),
            Ok(_) => Err(Error::Invalid("invalid ID".into())),
        }
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// Stored as SQLite INTEGER: the bits of the u64 reinterpreted as i64.
impl ToSql for Id {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0 as i64))
    }
}

impl FromSql for Id {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        let n = v.as_i64()? as u64;
        if n == 0 {
            return Err(FromSqlError::OutOfRange(0));
        }
        Ok(Self(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_round_trips_through_hex() {
        let id = Id::generate();
        assert_eq!(id.to_string().parse::<Id>().unwrap(), id);
        assert_eq!(id.to_string().len(), 16);
    }

    #[test]
    fn ids_increase_and_stay_positive() {
        let ids: Vec<Id> = (0..1000).map(|_| Id::generate()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|i| (i.get() as i64) > 0));
    }

    #[test]
    fn id_rejects_wrong_length_zero_and_non_hex() {
        for bad in ["", "abc", "0000000000000000", "zzzzzzzzzzzzzzzz", "+000000000000001"] {
            assert!(bad.parse::<Id>().is_err(), "{bad}");
        }
        assert_eq!("000000000000000a".parse::<Id>().unwrap().get(), 10);
    }
}
