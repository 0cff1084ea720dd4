//! The proleptic Gregorian calendar over days since 1970-01-01 (Howard
//! Hinnant's `days_from_civil` and `civil_from_days`): exact for every day an
//! `i64` of nanoseconds can name, and free of allocation.

use crate::{DAY, split_seconds};

/// A UTC time taken apart: its date and its time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanosecond: u32,
}

impl DateTime {
    /// The UTC date and time of `ns` nanoseconds since the epoch.
    pub fn from_nanos(ns: i64) -> Self {
        let (secs, nanosecond) = split_seconds(ns);
        let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        let (year, month, day) = civil_from_days(days);
        Self { year, month, day, hour: of_day / 3600, minute: of_day % 3600 / 60, second: of_day % 60, nanosecond }
    }

    /// Nanoseconds since the epoch, if they fit an `i64`.
    pub fn to_nanos(&self) -> Option<i64> {
        let days = i128::from(days_from_civil(self.year, self.month, self.day));
        let secs = i128::from(self.hour) * 3600 + i128::from(self.minute) * 60 + i128::from(self.second);
        let ns = days * i128::from(DAY) + secs * i128::from(crate::SECOND) + i128::from(self.nanosecond);
        i64::try_from(ns).ok()
    }
}

/// A time as Go's `time.Time.String()` prints one in UTC
/// (`2020-01-01 00:00:00.5 +0000 UTC`): how InfluxDB names times in its
/// partial-write messages.
pub fn go_string(ns: i64) -> String {
    let t = DateTime::from_nanos(ns);
    let mut frac = String::new();
    if t.nanosecond != 0 {
        frac = format!(".{:09}", t.nanosecond).trim_end_matches('0').to_owned();
    }
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}{frac} +0000 UTC", t.year, t.month, t.day, t.hour, t.minute, t.second)
}

/// The (year, month, day) of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The day, counted from 1970-01-01, of a (year, month, day); months and
/// days out of their range count on into the next (as the algorithm does).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike};

    #[test]
    fn the_calendar_agrees_with_chrono_over_the_whole_nanosecond_range() {
        let mut t: i64 = i64::MIN + 1;
        while t < i64::MAX - 86_399_999_999_937 * 5 {
            let ours = DateTime::from_nanos(t);
            let theirs = chrono::DateTime::from_timestamp_nanos(t);
            assert_eq!(
                (ours.year, ours.month, ours.day, ours.hour, ours.minute, ours.second, ours.nanosecond),
                (
                    i64::from(theirs.year()),
                    theirs.month(),
                    theirs.day(),
                    theirs.hour(),
                    theirs.minute(),
                    theirs.second(),
                    theirs.nanosecond()
                ),
                "{t}"
            );
            assert_eq!(ours.to_nanos(), Some(t), "{t}");
            t += 86_399_999_999_937 * 5 + 7;
        }
    }

    #[test]
    fn days_round_trip() {
        for days in -200_000..200_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn go_prints_times_so() {
        assert_eq!(go_string(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_string(1_577_836_800_500_000_000), "2020-01-01 00:00:00.5 +0000 UTC");
    }
}
