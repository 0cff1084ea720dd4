//! RFC 3339 times in UTC (`2020-01-01T00:00:00.5Z`), written in each of the
//! forms InfluxDB uses, and read with any offset.

use crate::civil::DateTime;

/// How the fraction of a second is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fraction {
    /// Go's `time.RFC3339Nano`: up to nine digits, trailing zeros trimmed, none
    /// for a whole second. Annotated CSV, v1 JSON, line times in errors.
    Trimmed,
    /// Always nine digits: how Flux writes a time in a string (`string()`,
    /// interpolation, `display()`).
    Fixed,
    /// Three, six or nine digits, as many as the value needs, none for a whole
    /// second: the metadata timestamps (`createdAt`, `updatedAt`, `started`).
    Si,
    /// Whole seconds, the fraction cut off.
    None,
}

/// `ns` nanoseconds since the epoch as an RFC 3339 UTC time.
pub fn format(ns: i64, fraction: Fraction) -> String {
    let mut out = String::with_capacity(30);
    write(&mut out, ns, fraction);
    out
}

/// Appends `ns` as an RFC 3339 UTC time to `out` (no allocation of its own:
/// for writers of many times, such as annotated CSV and v1 JSON).
pub fn write(out: &mut String, ns: i64, fraction: Fraction) {
    let t = DateTime::from_nanos(ns);
    let mut buf = [0u8; 30];
    // An i64 of nanoseconds spans the years 1677 to 2262: always four digits.
    digits(&mut buf[0..4], t.year as u32);
    buf[4] = b'-';
    digits(&mut buf[5..7], t.month);
    buf[7] = b'-';
    digits(&mut buf[8..10], t.day);
    buf[10] = b'T';
    digits(&mut buf[11..13], t.hour);
    buf[13] = b':';
    digits(&mut buf[14..16], t.minute);
    buf[16] = b':';
    digits(&mut buf[17..19], t.second);
    let n = t.nanosecond;
    let width = match fraction {
        Fraction::None => 0,
        Fraction::Fixed => 9,
        _ if n == 0 => 0,
        Fraction::Trimmed => 9 - trailing_zeros(n),
        Fraction::Si if n.is_multiple_of(1_000_000) => 3,
        Fraction::Si if n.is_multiple_of(1_000) => 6,
        Fraction::Si => 9,
    };
    let mut len = 19;
    if width > 0 {
        buf[19] = b'.';
        let mut all = [0u8; 9];
        digits(&mut all, n);
        buf[20..20 + width].copy_from_slice(&all[..width]);
        len = 20 + width;
    }
    buf[len] = b'Z';
    out.push_str(std::str::from_utf8(&buf[..=len]).unwrap_or_default());
}

/// The decimal zeros that end `n` (not zero).
fn trailing_zeros(mut n: u32) -> usize {
    let mut zeros = 0;
    while n.is_multiple_of(10) {
        n /= 10;
        zeros += 1;
    }
    zeros
}

/// `value` in exactly `slot.len()` decimal digits, zero-padded.
fn digits(slot: &mut [u8], value: u32) {
    let mut v = value;
    for b in slot.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// An RFC 3339 time with any offset (`2020-01-01T02:00:00+02:00`, a
/// fraction of any length), as nanoseconds since the epoch; `None` when it
/// is not one or lies outside an `i64` of nanoseconds.
pub fn parse(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok()?.timestamp_nanos_opt()
}

/// A bare date (`2020-01-01`) as midnight UTC of that day.
pub fn parse_date(s: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    fn chrono_form(t: i64, f: SecondsFormat) -> String {
        chrono::DateTime::from_timestamp_nanos(t).to_rfc3339_opts(f, true)
    }

    #[test]
    fn every_form_is_written_as_chrono_and_go_write_it() {
        let mut t: i64 = -2_208_988_800_123_456_789; // 1900
        while t < 4_102_444_800_000_000_000 {
            assert_eq!(format(t, Fraction::Si), chrono_form(t, SecondsFormat::AutoSi), "{t}");
            assert_eq!(format(t, Fraction::None), chrono_form(t, SecondsFormat::Secs), "{t}");
            assert_eq!(format(t, Fraction::Fixed), chrono_form(t, SecondsFormat::Nanos), "{t}");
            let nanos = chrono_form(t, SecondsFormat::Nanos);
            let (secs, frac) = nanos.trim_end_matches('Z').split_once('.').unwrap();
            let frac = frac.trim_end_matches('0');
            let trimmed = if frac.is_empty() { format!("{secs}Z") } else { format!("{secs}.{frac}Z") };
            assert_eq!(format(t, Fraction::Trimmed), trimmed, "{t}");
            assert_eq!(parse(&format(t, Fraction::Trimmed)), Some(t));
            t += 86_399_999_999_937 * 3 + 7;
        }
    }

    #[test]
    fn named_forms() {
        let t = 1_577_836_800_500_000_000; // 2020-01-01T00:00:00.5Z
        assert_eq!(format(t, Fraction::Trimmed), "2020-01-01T00:00:00.5Z");
        assert_eq!(format(t, Fraction::Fixed), "2020-01-01T00:00:00.500000000Z");
        assert_eq!(format(t, Fraction::Si), "2020-01-01T00:00:00.500Z");
        assert_eq!(format(t, Fraction::None), "2020-01-01T00:00:00Z");
        assert_eq!(format(0, Fraction::Trimmed), "1970-01-01T00:00:00Z");
        assert_eq!(format(0, Fraction::Fixed), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(format(-1, Fraction::Trimmed), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(format(951_782_400_000_000_000, Fraction::Trimmed), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn times_are_read_with_their_offset() {
        assert_eq!(parse("2020-01-01T02:00:00+02:00"), Some(1_577_836_800_000_000_000));
        assert_eq!(parse("2020-01-01T00:00:00.5Z"), Some(1_577_836_800_500_000_000));
        assert_eq!(parse("2020-01-01"), None);
        assert_eq!(parse("3000-01-01T00:00:00Z"), None);
        assert_eq!(parse_date("2020-01-01"), Some(1_577_836_800_000_000_000));
        assert_eq!(parse_date("2020-13-01"), None);
    }
}
