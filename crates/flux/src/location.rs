//! Time zones for calendar work (`option location`, the `location` parameters):
//! windows, hour selection and truncation happen on the local wall clock.

use chrono::{NaiveDateTime, Offset, TimeZone};

use crate::interp::{EvalError, EvalResult};
use crate::value::Value;

/// A location: an IANA zone (none is UTC) plus a fixed offset.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Location {
    tz: Option<chrono_tz::Tz>,
    /// Added to the zone's offset, nanoseconds.
    offset: i64,
}

fn naive(t: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_nanos(t).naive_utc()
}

fn nanos(n: NaiveDateTime) -> i64 {
    n.and_utc().timestamp().wrapping_mul(1_000_000_000).wrapping_add(i64::from(n.and_utc().timestamp_subsec_nanos()))
}

impl Location {
    /// A location record `{zone, offset}` as `timezone.location` and `timezone.fixed` make them.
    pub fn from_value(v: &Value) -> EvalResult<Location> {
        let Value::Record(r) = v else {
            return Err(EvalError { message: format!("location must be a record, got {}", v.type_name()) });
        };
        let tz = match r.get("zone") {
            None | Some(Value::Null) => None,
            Some(Value::String(z)) if z.is_empty() || z == "UTC" => None,
            Some(Value::String(z)) => Some(
                z.parse::<chrono_tz::Tz>().map_err(|_| EvalError { message: format!("unknown time zone {z:?}") })?,
            ),
            Some(v) => {
                return Err(EvalError { message: format!("location zone must be a string, got {}", v.type_name()) });
            }
        };
        let offset = match r.get("offset") {
            Some(Value::Duration(d)) => d.signed().1,
            _ => 0,
        };
        Ok(Location { tz, offset })
    }

    pub fn is_utc(&self) -> bool {
        self.tz.is_none() && self.offset == 0
    }

    /// The local wall-clock time of an instant, as nanoseconds of a UTC calendar.
    pub fn to_local(&self, t: i64) -> i64 {
        let zone = match self.tz {
            Some(tz) => i64::from(tz.offset_from_utc_datetime(&naive(t)).fix().local_minus_utc()) * 1_000_000_000,
            None => 0,
        };
        t.saturating_add(zone).saturating_add(self.offset)
    }

    /// The instant of a local wall-clock time: the earlier one when the clock
    /// repeats, the end of the gap when the clock skips it.
    pub fn to_utc(&self, local: i64) -> i64 {
        let wall = local.saturating_sub(self.offset);
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

use chrono::Timelike;
