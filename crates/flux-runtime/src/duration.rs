//! Flux durations: months and nanoseconds kept apart (a month's length
//! depends on when it is applied), their literal text both ways, and adding
//! one to a time on the calendar (SPEC: durations).

use flux_syntax::ast;

use crate::error::{EvalError, EvalResult, err};

/// A duration: months and nanoseconds, kept apart because a month's length
/// depends on when it is applied (SPEC: "Durations represent a length of time
/// dependent on specific instants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    pub months: i64,
    pub nanos: i64,
    pub negative: bool,
}

impl Duration {
    pub fn from_nanos(n: i64) -> Self {
        Self { months: 0, nanos: n.abs(), negative: n < 0 }
    }

    /// Signed months and nanoseconds.
    pub fn signed(&self) -> (i64, i64) {
        let s = if self.negative { -1 } else { 1 };
        (s * self.months, s * self.nanos)
    }
}

/// A duration literal's text (`1h30m`, `-5m`, `1mo2w`), or `None`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut values = Vec::new();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let magnitude: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit =
            ["mo", "ms", "us", "µs", "ns", "y", "w", "d", "h", "m", "s"].into_iter().find(|u| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        values.push(ast::DurationValue { magnitude, unit: unit.to_owned() });
    }
    if values.is_empty() {
        return None;
    }
    let d = duration_of(&values).ok()?;
    Some(Duration { negative, ..d })
}

pub(crate) fn duration_of(values: &[ast::DurationValue]) -> EvalResult<Duration> {
    let mut d = Duration::default();
    for v in values {
        // Months and years have no fixed length: they are kept apart.
        let (months, nanos): (i64, i64) = match v.unit.as_str() {
            "y" => (12, 0),
            "mo" => (1, 0),
            u => match time::duration::unit_nanos(u) {
                Some(n) => (0, n),
                None => return err(format!("invalid duration unit {u}")),
            },
        };
        let overflow = || EvalError::invalid("duration out of range");
        d.months = v.magnitude.checked_mul(months).and_then(|m| d.months.checked_add(m)).ok_or_else(overflow)?;
        d.nanos = v.magnitude.checked_mul(nanos).and_then(|n| d.nanos.checked_add(n)).ok_or_else(overflow)?;
    }
    Ok(d)
}

/// Adds a (signed) duration to a time: months first, clamping the day to the
/// month's end, then nanoseconds (SPEC: durations).
pub fn add_duration(t: i64, d: &Duration, sign: i64) -> EvalResult<i64> {
    use chrono::{Datelike, Months, TimeZone};
    let (months, nanos) = d.signed();
    let (months, nanos) = (months * sign, nanos * sign);
    let mut t = t;
    if months != 0 {
        let dt = chrono::Utc.timestamp_nanos(t);
        let shifted = if months > 0 {
            dt.checked_add_months(Months::new(months as u32))
        } else {
            dt.checked_sub_months(Months::new((-months) as u32))
        };
        let shifted = shifted.ok_or_else(|| EvalError::invalid("time out of range"))?;
        let _ = shifted.day();
        t = shifted.timestamp_nanos_opt().ok_or_else(|| EvalError::invalid("time out of range"))?;
    }
    t.checked_add(nanos).ok_or_else(|| EvalError::invalid("time out of range"))
}

pub fn format_duration(d: &Duration) -> String {
    if d.months == 0 && d.nanos == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    let (y, mo) = (d.months / 12, d.months % 12);
    if y > 0 {
        out.push_str(&format!("{y}y"));
    }
    if mo > 0 {
        out.push_str(&format!("{mo}mo"));
    }
    let mut n = d.nanos;
    for (unit, size) in [
        ("w", time::WEEK),
        ("d", time::DAY),
        ("h", time::HOUR),
        ("m", time::MINUTE),
        ("s", time::SECOND),
        ("ms", time::MILLISECOND),
        ("us", time::MICROSECOND),
        ("ns", 1),
    ] {
        if n >= size {
            out.push_str(&format!("{}{unit}", n / size));
            n %= size;
        }
    }
    out
}
