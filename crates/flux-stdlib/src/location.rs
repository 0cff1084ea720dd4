//! Time zones for calendar work (`option location`, the `location` parameters):
//! windows, hour selection and truncation happen on the local wall clock.

use chrono::{NaiveDateTime, Offset, TimeZone, Timelike};

use flux_runtime::duration::Duration;
use flux_runtime::error::{EvalError, EvalResult};
use flux_runtime::value::Value;

/// A location: an IANA zone (none is UTC) plus a fixed offset.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Location {
    tz: Option<chrono_tz::Tz>,
    /// Added to the zone's offset; may hold months (`timezone.fixed(offset: -2mo2w)`),
    /// applied on the calendar.
    offset: Duration,
}

fn naive(t: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_nanos(t).naive_utc()
}

fn nanos(n: NaiveDateTime) -> i64 {
    n.and_utc().timestamp().wrapping_mul(1_000_000_000).wrapping_add(i64::from(n.and_utc().timestamp_subsec_nanos()))
}

impl Location {
    /// A location record `{zone, offset}` as `timezone.location` and `timezone.fixed` make them.
    pub(crate) fn from_value(v: &Value) -> EvalResult<Location> {
        let Value::Record(r) = v else {
            return Err(EvalError::invalid(format!("location must be a record, got {}", v.type_name())));
        };
        let tz = match r.get("zone") {
            None | Some(Value::Null) => None,
            Some(Value::String(z)) if z.is_empty() || z == "UTC" => None,
            Some(Value::String(z)) => {
                Some(z.parse::<chrono_tz::Tz>().map_err(|_| EvalError::invalid(format!("unknown time zone {z:?}")))?)
            }
            Some(v) => {
                return Err(EvalError::invalid(format!("location zone must be a string, got {}", v.type_name())));
            }
        };
        let offset = match r.get("offset") {
            Some(Value::Duration(d)) => *d,
            _ => Duration::default(),
        };
        Ok(Location { tz, offset })
    }

    pub(crate) fn is_utc(&self) -> bool {
        self.tz.is_none() && self.offset.months == 0 && self.offset.nanos == 0
    }

    /// `t` shifted by the fixed offset (`sign` 1) or back (-1), on the calendar.
    fn shift(&self, t: i64, sign: i64) -> i64 {
        flux_runtime::duration::add_duration(t, &self.offset, sign).unwrap_or(if sign * self.offset.signed().1 >= 0 {
            i64::MAX
        } else {
            i64::MIN
        })
    }

    /// The local wall-clock time of an instant, as nanoseconds of a UTC calendar.
    pub(crate) fn to_local(self, t: i64) -> i64 {
        let zone = match self.tz {
            Some(tz) => i64::from(tz.offset_from_utc_datetime(&naive(t)).fix().local_minus_utc()) * 1_000_000_000,
            None => 0,
        };
        self.shift(t.saturating_add(zone), 1)
    }

    /// The instant of a local wall-clock time: the earlier one when the clock
    /// repeats, the end of the gap when the clock skips it.
    pub(crate) fn to_utc(self, local: i64) -> i64 {
        let wall = self.shift(local, -1);
        let Some(tz) = self.tz else { return wall };
        let mut probe = naive(wall);
        for _ in 0..=(48 * 60) {
            match tz.from_local_datetime(&probe) {
                chrono::LocalResult::Single(dt) => return nanos(dt.naive_utc()),
                chrono::LocalResult::Ambiguous(a, _) => return nanos(a.naive_utc()),
                chrono::LocalResult::None => {
                    // Skipped time: the first wall-clock minute after the gap.
                    probe = (probe + chrono::Duration::minutes(1))
                        .with_second(0)
                        .and_then(|p| p.with_nanosecond(0))
                        .unwrap_or(probe + chrono::Duration::minutes(1));
                }
            }
        }
        wall
    }
}

/// A location record as `timezone.location` and `timezone.fixed` make them.
pub(crate) fn value(zone: &str, offset: Duration) -> Value {
    Value::record([("zone".to_owned(), Value::String(zone.to_owned())), ("offset".to_owned(), Value::Duration(offset))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_offset_with_months_moves_on_the_calendar() {
        let fixed = crate::eval("import \"timezone\"\ntimezone.fixed(offset: -2mo2w)").unwrap();
        let loc = Location::from_value(&fixed).unwrap();
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_nanos_opt().unwrap();
        assert_eq!(loc.to_utc(t("2016-01-01T00:00:00Z")), t("2016-03-15T00:00:00Z"));
        assert_eq!(loc.to_local(t("2017-03-12T01:45:00Z")), t("2016-12-29T01:45:00Z"));
        assert!(!loc.is_utc());
    }
}
