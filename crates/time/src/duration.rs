//! Durations in nanoseconds: the fixed-length units that every duration
//! grammar of oxiflux shares, and Go's `time.Duration` text, which InfluxDB
//! prints (`168h0m0s`) and its flags and cron `@every` read (`1h30m`, `1.5s`).

use std::fmt;

use crate::{DAY, HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND, WEEK};

/// The length in nanoseconds of a fixed-length unit as the grammars here
/// spell it: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`, `d`, `w`. Months and
/// years have no fixed length and are not units here (Flux keeps them apart).
pub fn unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        "d" => DAY,
        "w" => WEEK,
        _ => return None,
    })
}

/// A duration as Go's `time.Duration.String()` prints it: `0s`, `42ns`,
/// `1.5ms`, `1m30s`, `168h0m0s`, `-1h0m0s`.
pub fn go_string(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if ns < 0 {
        out.push('-');
    }
    let mut n = ns.unsigned_abs();
    let second = SECOND as u64;
    if n < second {
        // Under a second: the largest unit that keeps a digit before the point.
        let (unit, scale, width) = if n < 1_000 {
            ("ns", 1, 0)
        } else if n < 1_000_000 {
            ("µs", 1_000, 3)
        } else {
            ("ms", 1_000_000, 6)
        };
        out.push_str(&(n / scale).to_string());
        fraction(&mut out, n % scale, width);
        out.push_str(unit);
        return out;
    }
    let hours = n / HOUR as u64;
    n %= HOUR as u64;
    let minutes = n / MINUTE as u64;
    n %= MINUTE as u64;
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&(n / second).to_string());
    fraction(&mut out, n % second, 9);
    out.push('s');
    out
}

/// `.ddd` of a fraction written in `width` digits, trailing zeros trimmed;
/// nothing for zero.
fn fraction(out: &mut String, frac: u64, width: usize) {
    if frac > 0 {
        let digits = format!("{frac:0width$}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// Why a Go duration did not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing, a sign alone, or a number that is not one.
    Invalid(String),
    /// A number without its unit (`10`; `0` alone is allowed).
    MissingUnit(String),
    /// A unit that is none of `ns us µs ms s m h d w`.
    UnknownUnit { unit: String, text: String },
    /// Longer than an `i64` of nanoseconds.
    Overflow(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go's own words (`time.ParseDuration`).
        match self {
            ParseError::Invalid(s) => write!(f, "time: invalid duration {s:?}"),
            ParseError::MissingUnit(s) => write!(f, "time: missing unit in duration {s:?}"),
            ParseError::UnknownUnit { unit, text } => {
                write!(f, "time: unknown unit {unit:?} in duration {text:?} (use ns, us, ms, s, m, h, d or w)")
            }
            ParseError::Overflow(s) => write!(f, "time: invalid duration {s:?}: too long"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads a duration as Go's `time.ParseDuration` does (`1h30m`, `1.5s`,
/// `-5m`, `0`), also taking `d` and `w` as influxd's flags do; nanoseconds.
pub fn parse_go(s: &str) -> Result<i64, ParseError> {
    let invalid = || ParseError::Invalid(s.to_owned());
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let frac = match rest.strip_prefix('.') {
            Some(after) => {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                rest = &after[len..];
                &after[..len]
            }
            None => "",
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(ParseError::MissingUnit(s.to_owned()));
        }
        let scale = i128::from(
            unit_nanos(unit).ok_or_else(|| ParseError::UnknownUnit { unit: unit.to_owned(), text: s.to_owned() })?,
        );
        let overflow = || ParseError::Overflow(s.to_owned());
        let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| overflow())? };
        let mut part = whole.checked_mul(scale).ok_or_else(overflow)?;
        // The fraction's digits, as far as they can matter at nanosecond scale.
        let (mut num, mut den) = (0i128, 1i128);
        for d in frac.bytes().take(30) {
            num = num * 10 + i128::from(d - b'0');
            den *= 10;
        }
        part += num * scale / den;
        total += part;
        if total > i128::from(i64::MAX) + i128::from(negative) {
            return Err(overflow());
        }
    }
    let total = if negative { -total } else { total };
    i64::try_from(total).map_err(|_| ParseError::Overflow(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(go_string(0), "0s");
        assert_eq!(go_string(WEEK), "168h0m0s");
        assert_eq!(go_string(DAY), "24h0m0s");
        assert_eq!(go_string(HOUR), "1h0m0s");
        assert_eq!(go_string(30 * DAY), "720h0m0s");
        assert_eq!(go_string(90 * SECOND), "1m30s");
        assert_eq!(go_string(1_500_000_000), "1.5s");
        assert_eq!(go_string(1_500_000), "1.5ms");
        assert_eq!(go_string(1_500), "1.5µs");
        assert_eq!(go_string(42), "42ns");
        assert_eq!(go_string(-HOUR), "-1h0m0s");
        assert_eq!(go_string(i64::MIN), "-2562047h47m16.854775808s");
    }

    #[test]
    fn go_durations_read_as_go_reads_them() {
        assert_eq!(parse_go("30m0s"), Ok(30 * MINUTE));
        assert_eq!(parse_go("1h30m"), Ok(90 * MINUTE));
        assert_eq!(parse_go("500ms"), Ok(500 * MILLISECOND));
        assert_eq!(parse_go("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go(".5s"), Ok(500_000_000));
        assert_eq!(parse_go("1w"), Ok(WEEK));
        assert_eq!(parse_go("1d"), Ok(DAY));
        assert_eq!(parse_go("-5m"), Ok(-5 * MINUTE));
        assert_eq!(parse_go("0"), Ok(0));
        assert_eq!(parse_go("2562047h47m16.854775807s"), Ok(i64::MAX));
        assert_eq!(parse_go("-2562047h47m16.854775808s"), Ok(i64::MIN));
        assert!(matches!(parse_go("2562047h47m16.854775808s"), Err(ParseError::Overflow(_))));
        assert!(matches!(parse_go("10x"), Err(ParseError::UnknownUnit { .. })));
        assert!(matches!(parse_go("10"), Err(ParseError::MissingUnit(_))));
        assert!(matches!(parse_go("m"), Err(ParseError::Invalid(_))));
        assert!(matches!(parse_go(""), Err(ParseError::Invalid(_))));
        assert!(matches!(parse_go("-"), Err(ParseError::Invalid(_))));
    }

    #[test]
    fn units_have_their_lengths() {
        assert_eq!(unit_nanos("µs"), Some(1_000));
        assert_eq!(unit_nanos("w"), Some(604_800_000_000_000));
        assert_eq!(unit_nanos("mo"), None);
    }
}
