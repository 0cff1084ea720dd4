//! When a task runs: `every` (aligned as InfluxDB aligns it) or a `cron`
//! expression (5 fields, 6 with seconds first, 7 with a year last, or a macro
//! such as `@hourly`), in UTC; the `offset` is added by the caller.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

const SECOND: i64 = 1_000_000_000;
/// Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the Unix epoch:
/// InfluxDB aligns `every` to multiples of it since then.
const GO_ZERO_TO_EPOCH: i128 = 62_135_596_800;
/// Schedules are looked up no further than this year.
const LAST_YEAR: i32 = 2099;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A fixed period in nanoseconds (whole seconds).
    Every(i64),
    Cron(Cron),
}

impl Schedule {
    /// Where the schedule stands at `t`: for `every`, `t` cut to whole seconds
    /// and down to a multiple of the period since Go's zero time (InfluxDB's
    /// alignment); for cron, `t` cut to whole seconds.
    pub fn align(&self, t: i64) -> i64 {
        let secs = t.div_euclid(SECOND);
        match self {
            Schedule::Every(every) => {
                let period = i128::from((every / SECOND).max(1));
                let since_zero = i128::from(secs) + GO_ZERO_TO_EPOCH;
                let aligned = i128::from(secs) - since_zero.rem_euclid(period);
                i64::try_from(aligned).unwrap_or(secs).saturating_mul(SECOND)
            }
            Schedule::Cron(_) => secs.saturating_mul(SECOND),
        }
    }

    /// The first scheduled time strictly after `t`.
    pub fn next(&self, t: i64) -> Option<i64> {
        match self {
            Schedule::Every(every) => t.checked_add(*every),
            Schedule::Cron(c) => c.next(t),
        }
    }
}

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    seconds: u64,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Years allowed, or `None` for any.
    years: Option<Vec<i32>>,
    /// `@every <duration>`: a plain period instead of fields.
    every: Option<Duration>,
}

struct Field {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECONDS: Field = Field { min: 0, max: 59, names: &[] };
const MINUTES: Field = SECONDS;
const HOURS: Field = Field { min: 0, max: 23, names: &[] };
const DAYS: Field = Field { min: 1, max: 31, names: &[] };
const MONTHS: Field = Field {
    min: 1,
    max: 12,
    names: &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
};
const WEEKDAYS: Field = Field { min: 0, max: 7, names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] };
const YEARS: Field = Field { min: 1970, max: LAST_YEAR as u32, names: &[] };

impl Field {
    fn value(&self, s: &str) -> Result<u32, String> {
        if let Ok(n) = s.parse::<u32>() {
            if n < self.min || n > self.max {
                return Err(format!("{n} is out of range {}-{}", self.min, self.max));
            }
            return Ok(n);
        }
        let upper = s.to_ascii_uppercase();
        self.names
            .iter()
            .position(|n| upper.starts_with(n))
            .map(|i| i as u32 + if self.min == 0 { 0 } else { self.min })
            .ok_or_else(|| format!("invalid value {s:?}"))
    }

    /// The values a field allows: `*`, `?`, `a`, `a-b`, `*/n`, `a/n`, `a-b/n`, lists of these.
    fn parse(&self, spec: &str) -> Result<Vec<u32>, String> {
        let mut out = Vec::new();
        for part in spec.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("invalid step {s:?}"))?),
                None => (part, 1),
            };
            if step == 0 {
                return Err("a step of 0".into());
            }
            let (from, to) = match range {
                "*" | "?" => (self.min, self.max),
                r => match r.split_once('-') {
                    Some((a, b)) => (self.value(a)?, self.value(b)?),
                    // `a/n` runs from a to the end, as Quartz reads it.
                    None if part.contains('/') => (self.value(r)?, self.max),
                    None => {
                        let v = self.value(r)?;
                        (v, v)
                    }
                },
            };
            if from > to {
                return Err(format!("invalid range {range:?}"));
            }
            out.extend((from..=to).step_by(step as usize));
        }
        Ok(out)
    }
}

fn bits<T: From<u8> + std::ops::BitOrAssign + std::ops::Shl<u32, Output = T>>(values: &[u32]) -> T {
    let mut b = T::from(0);
    for v in values {
        b |= T::from(1) << *v;
    }
    b
}

impl Cron {
    pub fn parse(spec: &str) -> Result<Cron, String> {
        let spec = spec.trim();
        let fields: Vec<&str> = match spec.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => vec!["0", "0", "0", "1", "1", "*"],
            "@monthly" => vec!["0", "0", "0", "1", "*", "*"],
            "@weekly" => vec!["0", "0", "0", "*", "*", "0"],
            "@daily" | "@midnight" => vec!["0", "0", "0", "*", "*", "*"],
            "@hourly" => vec!["0", "0", "*", "*", "*", "*"],
            "@every_minute" => vec!["0", "*", "*", "*", "*", "*"],
            "@every_second" => vec!["*", "*", "*", "*", "*", "*"],
            s if s.starts_with("@every ") => {
                let every = parse_go_duration(spec[7..].trim())?;
                return Ok(Cron { every: Some(every), ..Cron::parse("* * * * * *")? });
            }
            s if s.starts_with('@') => return Err(format!("unknown macro {spec:?}")),
            _ => spec.split_whitespace().collect(),
        };
        let (sec, rest): (Vec<u32>, &[&str]) = match fields.len() {
            5 => (vec![0], &fields[..]),
            6 | 7 => (SECONDS.parse(fields[0])?, &fields[1..]),
            n => return Err(format!("expected 5 to 7 fields, found {n}")),
        };
        let mut weekdays = WEEKDAYS.parse(rest[4])?;
        for d in &mut weekdays {
            *d %= 7;
        }
        let years = match rest.get(5) {
            Some(y) if *y != "*" && *y != "?" => Some(YEARS.parse(y)?.into_iter().map(|y| y as i32).collect()),
            _ => None,
        };
        Ok(Cron {
            seconds: bits(&sec),
            minutes: bits(&MINUTES.parse(rest[0])?),
            hours: bits(&HOURS.parse(rest[1])?),
            days: bits(&DAYS.parse(rest[2])?),
            months: bits(&MONTHS.parse(rest[3])?),
            weekdays: bits(&weekdays),
            years,
            every: None,
        })
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        // Day of month and day of week must both match (InfluxDB's cron reads them so).
        self.months & (1 << d.month()) != 0
            && self.days & (1 << d.day()) != 0
            && self.weekdays & (1 << d.weekday().num_days_from_sunday()) != 0
            && self.years.as_ref().is_none_or(|ys| ys.contains(&d.year()))
    }

    /// The first matching second strictly after `t` (nanoseconds), up to 2099.
    pub fn next(&self, t: i64) -> Option<i64> {
        let from = Utc.timestamp_nanos(t);
        if let Some(every) = self.every {
            let next = from + every;
            return (next > from).then(|| next.timestamp_nanos_opt()).flatten();
        }
        let mut at: DateTime<Utc> = Utc.timestamp_opt(t.div_euclid(SECOND) + 1, 0).single()?;
        while at.year() <= LAST_YEAR {
            let day = at.date_naive();
            if !self.day_matches(day) {
                at = Utc.from_utc_datetime(&day.succ_opt()?.and_hms_opt(0, 0, 0)?);
                continue;
            }
            if self.hours & (1 << at.hour()) == 0 {
                at = at.with_minute(0)?.with_second(0)? + Duration::hours(1);
                continue;
            }
            if self.minutes & (1 << at.minute()) == 0 {
                at = at.with_second(0)? + Duration::minutes(1);
                continue;
            }
            if self.seconds & (1 << at.second()) == 0 {
                at += Duration::seconds(1);
                continue;
            }
            return at.timestamp_nanos_opt();
        }
        None
    }
}

/// A Go duration (`1h30m`, `90s`, `1d`), for `@every`: a positive one.
fn parse_go_duration(s: &str) -> Result<Duration, String> {
    match time::duration::parse_go(s).map_err(|e| e.to_string())? {
        ns if ns > 0 => Ok(Duration::nanoseconds(ns)),
        _ => Err(format!("@every needs a positive duration, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> i64 {
        time::rfc3339::parse(s).unwrap()
    }

    fn show(n: i64) -> String {
        time::rfc3339::format(n, time::rfc3339::Fraction::None)
    }

    #[test]
    fn every_aligns_to_multiples_since_go_zero_time() {
        let hour = Schedule::Every(3_600 * SECOND);
        assert_eq!(show(hour.align(t("2024-05-01T10:17:42.5Z"))), "2024-05-01T10:00:00Z");
        let week = Schedule::Every(7 * 86_400 * SECOND);
        // Go's zero time was a Monday: weeks start on Mondays.
        assert_eq!(show(week.align(t("2024-05-01T10:17:42Z"))), "2024-04-29T00:00:00Z");
        let seven = Schedule::Every(7 * SECOND);
        let a = seven.align(t("2024-05-01T10:17:42Z"));
        assert_eq!((i128::from(a / SECOND) + GO_ZERO_TO_EPOCH) % 7, 0);
        assert_eq!(hour.next(hour.align(t("2024-05-01T10:17:42Z"))), Some(t("2024-05-01T11:00:00Z")));
    }

    #[test]
    fn cron_finds_the_next_matching_second() {
        let next = |spec: &str, from: &str| show(Cron::parse(spec).unwrap().next(t(from)).unwrap());
        assert_eq!(next("*/5 * * * *", "2024-05-01T10:17:42Z"), "2024-05-01T10:20:00Z");
        assert_eq!(next("0 9 * * MON", "2024-05-01T10:17:42Z"), "2024-05-06T09:00:00Z");
        assert_eq!(next("*/10 * * * * *", "2024-05-01T10:17:42Z"), "2024-05-01T10:17:50Z");
        assert_eq!(next("0 0 0 29 2 *", "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
        assert_eq!(next("@hourly", "2024-05-01T10:00:00Z"), "2024-05-01T11:00:00Z");
        assert_eq!(next("@daily", "2024-12-31T23:59:59Z"), "2025-01-01T00:00:00Z");
        assert_eq!(next("0 0 12 1 JAN-MAR *", "2024-04-01T00:00:00Z"), "2025-01-01T12:00:00Z");
        assert_eq!(next("@every 90s", "2024-05-01T10:00:00Z"), "2024-05-01T10:01:30Z");
        assert_eq!(next("0 0 0 1 1 * 2030", "2024-05-01T10:00:00Z"), "2030-01-01T00:00:00Z");
        for bad in ["", "* * * *", "61 * * * *", "* * * * * * * *", "@sometimes", "*/0 * * * *", "5-1 * * * *"] {
            assert!(Cron::parse(bad).is_err(), "{bad:?}");
        }
    }
}
