//! The `date` package: parts of a time on a location's wall clock, calendar
//! arithmetic and truncation, and the day and month constants.

use chrono::{Datelike, Timelike};

use super::{fail, package};
use crate::builtins::builtin;
use crate::interp::{Args, EvalResult, Interp, add_duration};
use crate::location::Location;
use crate::transform::{location_arg, truncate};
use crate::value::{Duration, Value};

/// A part of a time: the clock's fields of its local date and time.
#[derive(Clone, Copy)]
enum Part {
    Second,
    Minute,
    Hour,
    WeekDay,
    MonthDay,
    YearDay,
    Month,
    Year,
    Week,
    Quarter,
    Millisecond,
    Microsecond,
    Nanosecond,
}

/// The builtins of the parts, a function each.
macro_rules! parts {
    ($($name:literal => $part:ident),* $(,)?) => {
        vec![$(($name, builtin($name, &["t", "location"], None, |i, a| date_part(i, a, Part::$part)))),*]
    };
}

pub(super) fn package_value() -> Value {
    let mut members = parts![
        "second" => Second,
        "minute" => Minute,
        "hour" => Hour,
        "weekDay" => WeekDay,
        "monthDay" => MonthDay,
        "yearDay" => YearDay,
        "month" => Month,
        "year" => Year,
        "week" => Week,
        "quarter" => Quarter,
        "millisecond" => Millisecond,
        "microsecond" => Microsecond,
        "nanosecond" => Nanosecond,
    ];
    members.extend([
        // The wall-clock time in the location, written as if it were UTC.
        (
            "time",
            builtin("time", &["t", "location"], None, |i, a| {
                Ok(Value::Time(location_arg(i, a)?.to_local(timeable(i, a, "t")?)))
            }),
        ),
        ("add", builtin("add", &["d", "to", "location"], None, |i, a| shift(i, a, "to", 1))),
        ("sub", builtin("sub", &["d", "from", "location"], None, |i, a| shift(i, a, "from", -1))),
        ("truncate", builtin("truncate", &["t", "unit", "location"], None, date_truncate)),
        ("scale", builtin("scale", &["d", "n"], None, scale)),
    ]);
    let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    members.extend(days.iter().zip(0..).map(|(d, n)| (*d, Value::Int(n))));
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    members.extend(months.iter().zip(1..).map(|(m, n)| (*m, Value::Int(n))));
    package(members)
}

/// A time argument: a time, or a duration from `now()`.
fn timeable(i: &Interp, a: &Args, name: &str) -> EvalResult<i64> {
    match a.required(name)? {
        Value::Time(t) => Ok(*t),
        Value::Duration(d) => add_duration(i.now, d, 1),
        v => fail(format!("{name} must be a time or a duration, got {}", v.type_name())),
    }
}

fn date_part(i: &mut Interp, a: &Args, part: Part) -> EvalResult<Value> {
    let t = timeable(i, a, "t")?;
    // The sub-second parts do not depend on the zone.
    let local = match part {
        Part::Millisecond | Part::Microsecond | Part::Nanosecond | Part::Second => t,
        _ => location_arg(i, a)?.to_local(t),
    };
    let dt = chrono::DateTime::from_timestamp_nanos(local).naive_utc();
    let nanos = i64::from(dt.nanosecond() % 1_000_000_000);
    Ok(Value::Int(match part {
        Part::Second => i64::from(dt.second()),
        Part::Minute => i64::from(dt.minute()),
        Part::Hour => i64::from(dt.hour()),
        Part::WeekDay => i64::from(dt.weekday().num_days_from_sunday()),
        Part::MonthDay => i64::from(dt.day()),
        Part::YearDay => i64::from(dt.ordinal()),
        Part::Month => i64::from(dt.month()),
        Part::Year => i64::from(dt.year()),
        Part::Week => i64::from(dt.iso_week().week()),
        Part::Quarter => i64::from(dt.month0() / 3 + 1),
        Part::Millisecond => nanos / 1_000_000,
        Part::Microsecond => nanos / 1_000,
        Part::Nanosecond => nanos,
    }))
}

/// `date.add`/`date.sub`: a time moved by `d` on the location's wall clock
/// (so a day is a calendar day across a clock change).
fn shift(i: &mut Interp, a: &Args, what: &str, sign: i64) -> EvalResult<Value> {
    let Value::Duration(d) = a.required("d")? else { return fail("d must be a duration") };
    let t = timeable(i, a, what)?;
    let loc: Location = location_arg(i, a)?;
    Ok(Value::Time(loc.to_utc(add_duration(loc.to_local(t), d, sign)?)))
}

/// The start of the `unit`-long window (on the location's clock) holding `t`.
fn date_truncate(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let t = timeable(i, a, "t")?;
    let Value::Duration(unit) = a.required("unit")? else { return fail("unit must be a duration") };
    Ok(Value::Time(truncate(t, unit, location_arg(i, a)?)?))
}

/// A duration `n` times as long (months and nanoseconds alike).
fn scale(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let Value::Duration(d) = a.required("d")? else { return fail("d must be a duration") };
    let Value::Int(n) = a.required("n")? else { return fail("n must be an int") };
    let (months, nanos) = d.signed();
    let overflow = || crate::interp::EvalError { message: "date.scale: duration out of range".into() };
    let months = months.checked_mul(*n).ok_or_else(overflow)?;
    let nanos = nanos.checked_mul(*n).ok_or_else(overflow)?;
    let negative = months < 0 || nanos < 0;
    Ok(Value::Duration(Duration { months: months.abs(), nanos: nanos.abs(), negative }))
}
