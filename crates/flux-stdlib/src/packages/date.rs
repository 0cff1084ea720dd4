//! The `date` package: parts of a time on a location's wall clock, calendar
//! arithmetic and truncation, and the day and month constants.

use chrono::{Datelike, Timelike};

use crate::args::builtin;
use crate::args::{fail, package};
use crate::location::Location;
use crate::transform::{location_arg, truncate};
use flux_runtime::duration::Duration;
use flux_runtime::duration::add_duration;
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::value::Value;

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
    let overflow = || flux_runtime::error::EvalError::invalid("date.scale: duration out of range");
    let months = months.checked_mul(*n).ok_or_else(overflow)?;
    let nanos = nanos.checked_mul(*n).ok_or_else(overflow)?;
    let negative = months < 0 || nanos < 0;
    Ok(Value::Duration(Duration { months: months.abs(), nanos: nanos.abs(), negative }))
}

const DAY: i64 = 86_400_000_000_000;

/// `experimental/date/boundaries`: the start and stop of yesterday, of the
/// last given weekday, of a week and of a month, on the clock of `option
/// location`, as records `{start, stop}`.
pub(super) fn boundaries() -> Value {
    macro_rules! weekdays {
        ($($name:literal => $n:literal),*) => {
            vec![$(($name, builtin($name, &[], None, |i, a| last_weekday(i, a, $n)))),*]
        };
    }
    let mut members = weekdays![
        "sunday" => 0, "monday" => 1, "tuesday" => 2, "wednesday" => 3, "thursday" => 4, "friday" => 5, "saturday" => 6
    ];
    members.extend([
        (
            "yesterday",
            builtin("yesterday", &[], None, |i, a| {
                let (loc, today) = today(i, a)?;
                span(&loc, today - DAY, &Duration::from_nanos(DAY))
            }),
        ),
        ("week", builtin("week", &["week_offset", "start_sunday"], None, week)),
        ("month", builtin("month", &["month_offset"], None, month)),
    ]);
    package(members)
}

/// The location, and the start of today on its clock (as a UTC-calendar time).
fn today(i: &Interp, a: &Args) -> EvalResult<(Location, i64)> {
    let loc = location_arg(i, a)?;
    let local = loc.to_local(i.now);
    Ok((loc, local - local.rem_euclid(DAY)))
}

/// Day of the week of a local midnight (0 = Sunday; 1970-01-01 was a Thursday).
fn weekday_of(local: i64) -> i64 {
    (local.div_euclid(DAY) + 4).rem_euclid(7)
}

fn span(loc: &Location, start: i64, length: &Duration) -> EvalResult<Value> {
    let stop = add_duration(start, length, 1)?;
    Ok(Value::record([
        ("start".to_owned(), Value::Time(loc.to_utc(start))),
        ("stop".to_owned(), Value::Time(loc.to_utc(stop))),
    ]))
}

/// The day of the latest `weekday` before today (a week ago when today is one).
fn last_weekday(i: &mut Interp, a: &Args, weekday: i64) -> EvalResult<Value> {
    let (loc, today) = today(i, a)?;
    let back = match (weekday_of(today) - weekday).rem_euclid(7) {
        0 => 7,
        n => n,
    };
    span(&loc, today - back * DAY, &Duration::from_nanos(DAY))
}

/// The week holding today (from Monday, or Sunday), moved by `week_offset` weeks.
fn week(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let offset = match a.get("week_offset") {
        None => 0,
        Some(Value::Int(n)) => *n,
        Some(v) => return fail(format!("week_offset must be an int, got {}", v.type_name())),
    };
    let first = match a.get("start_sunday") {
        None | Some(Value::Bool(false)) => 1,
        Some(Value::Bool(true)) => 0,
        Some(v) => return fail(format!("start_sunday must be a bool, got {}", v.type_name())),
    };
    let (loc, today) = today(i, a)?;
    let start = today - (weekday_of(today) - first).rem_euclid(7) * DAY + offset * 7 * DAY;
    span(&loc, start, &Duration::from_nanos(7 * DAY))
}

/// The month holding today, moved by `month_offset` months.
fn month(i: &mut Interp, a: &Args) -> EvalResult<Value> {
    let offset = match a.get("month_offset") {
        None => 0,
        Some(Value::Int(n)) => *n,
        Some(v) => return fail(format!("month_offset must be an int, got {}", v.type_name())),
    };
    let (loc, today) = today(i, a)?;
    let day = chrono::DateTime::from_timestamp_nanos(today).naive_utc();
    let first = today - i64::from(day.day() - 1) * DAY;
    let start = add_duration(first, &Duration { months: offset.abs(), nanos: 0, negative: offset < 0 }, 1)?;
    span(&loc, start, &Duration { months: 1, nanos: 0, negative: false })
}
