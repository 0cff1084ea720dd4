use std::str::FromStr;

/// The unit of the timestamps in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
}

impl Precision {
    /// Nanoseconds per unit.
    pub fn multiplier(self) -> i64 {
        match self {
            Precision::Nanosecond => 1,
            Precision::Microsecond => 1_000,
            Precision::Millisecond => 1_000_000,
            Precision::Second => 1_000_000_000,
            Precision::Minute => 60_000_000_000,
            Precision::Hour => 3_600_000_000_000,
        }
    }

    /// `ns` cut down to a whole number of units, as InfluxDB does to server time
    /// when a line has no timestamp.
    pub fn truncate(self, ns: i64) -> i64 {
        let m = self.multiplier();
        ns - ns.rem_euclid(m)
    }

    /// The v2 API's spellings: `ns`, `us`, `ms`, `s`.
    pub fn from_v2(s: &str) -> Option<Self> {
        match s {
            "ns" => Some(Precision::Nanosecond),
            "us" => Some(Precision::Microsecond),
            "ms" => Some(Precision::Millisecond),
            "s" => Some(Precision::Second),
            _ => None,
        }
    }

    /// The v1 API's spellings: `n`/`ns`, `u`/`us`/`µ`, `ms`, `s`, `m`, `h`.
    pub fn from_v1(s: &str) -> Option<Self> {
        match s {
            "n" | "ns" => Some(Precision::Nanosecond),
            "u" | "us" | "µ" => Some(Precision::Microsecond),
            "ms" => Some(Precision::Millisecond),
            "s" => Some(Precision::Second),
            "m" => Some(Precision::Minute),
            "h" => Some(Precision::Hour),
            _ => None,
        }
    }
}

impl FromStr for Precision {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::from_v1(s).ok_or(())
    }
}
