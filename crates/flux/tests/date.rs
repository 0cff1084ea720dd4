//! The `date` package, with the examples of its documentation pages (where a
//! page's stated result is wrong, as for `date.week(t: -12d)`, the test holds
//! the value its own definition gives).

use flux::{Value, eval};

const NOW: &str = "2020-02-11T12:21:03.29353494Z";

fn at(rfc3339: &str) -> Value {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap();
    Value::Time(t.timestamp_nanos_opt().unwrap())
}

fn ev(src: &str) -> Value {
    let now = match at(NOW) {
        Value::Time(t) => t,
        _ => unreachable!(),
    };
    let src = format!("import \"date\"\nimport \"timezone\"\n{src}");
    eval(&src, now).unwrap_or_else(|e| panic!("{src}: {e}"))
}

#[test]
fn parts_of_a_time() {
    let t = "2020-02-11T12:21:03.29353494Z";
    for (f, want) in [
        ("year", 2020),
        ("quarter", 1),
        ("month", 2),
        ("week", 7),
        ("yearDay", 42),
        ("monthDay", 11),
        ("weekDay", 2),
        ("hour", 12),
        ("minute", 21),
        ("second", 3),
        ("millisecond", 293),
        ("microsecond", 293_534),
        ("nanosecond", 293_534_940),
    ] {
        assert_eq!(ev(&format!("date.{f}(t: {t})")), Value::Int(want), "{f}");
    }
    // Durations count from now(); the clock is the location's.
    assert_eq!(ev("date.hour(t: -8h)"), Value::Int(4));
    assert_eq!(ev("date.millisecond(t: -150ms)"), Value::Int(143));
    assert_eq!(
        ev("date.hour(t: 2020-02-11T23:30:00Z, location: timezone.location(name: \"Europe/Berlin\"))"),
        Value::Int(0)
    );
    assert_eq!(ev("date.weekDay(t: 2020-02-11T23:30:00Z, location: timezone.fixed(offset: 1h))"), Value::Int(3));
    assert_eq!(ev("date.Sunday + date.December"), Value::Int(12));
}

#[test]
fn truncation_follows_the_locations_calendar() {
    let madrid = "option location = timezone.location(name: \"Europe/Madrid\")\n";
    for (unit, want) in [
        ("1s", "2019-06-03T13:59:01Z"),
        ("1m", "2019-06-03T13:59:00Z"),
        ("1h", "2019-06-03T13:00:00Z"),
        ("1d", "2019-06-02T22:00:00Z"),
        ("1mo", "2019-05-31T22:00:00Z"),
        ("1y", "2018-12-31T23:00:00Z"),
    ] {
        assert_eq!(ev(&format!("{madrid}date.truncate(t: 2019-06-03T13:59:01Z, unit: {unit})")), at(want), "{unit}");
    }
    assert_eq!(ev("date.truncate(t: -1h, unit: 1h)"), at("2020-02-11T11:00:00Z"));
}

#[test]
fn calendar_arithmetic() {
    assert_eq!(ev("date.add(d: 6h, to: 2019-09-16T12:00:00Z)"), at("2019-09-16T18:00:00Z"));
    assert_eq!(ev("date.sub(from: 2019-09-16T12:00:00Z, d: 6h)"), at("2019-09-16T06:00:00Z"));
    assert_eq!(ev("date.add(d: 1mo, to: 2021-01-31T00:00:00Z)"), at("2021-02-28T00:00:00Z"));
    assert_eq!(ev("date.sub(d: 2d, from: -1h)"), at("2020-02-09T11:21:03.29353494Z"));
    // A day across the clock change in Paris is 23 hours long.
    let paris = "location: timezone.location(name: \"Europe/Paris\")";
    assert_eq!(ev(&format!("date.add(d: 1d, to: 2021-03-27T12:00:00Z, {paris})")), at("2021-03-28T11:00:00Z"));
    assert_eq!(ev("date.add(d: date.scale(d: 1mo1h, n: 5), to: 2022-01-01T00:00:00Z)"), at("2022-06-01T05:00:00Z"));
    assert_eq!(ev("date.add(d: date.scale(d: 1h, n: -2), to: 2022-01-01T00:00:00Z)"), at("2021-12-31T22:00:00Z"));
    assert_eq!(
        ev("date.time(t: 2021-03-01T00:00:00Z, location: timezone.location(name: \"Asia/Kolkata\"))"),
        at("2021-03-01T05:30:00Z")
    );
}

fn span(src: &str, now: &str) -> (Value, Value) {
    let now = match at(now) {
        Value::Time(t) => t,
        _ => unreachable!(),
    };
    let src = format!("import \"experimental/date/boundaries\"\nimport \"timezone\"\n{src}");
    match eval(&src, now).unwrap_or_else(|e| panic!("{src}: {e}")) {
        Value::Record(r) => (r.get("start").cloned().unwrap(), r.get("stop").cloned().unwrap()),
        v => panic!("{v:?}"),
    }
}

#[test]
fn boundaries_of_days_weeks_and_months() {
    let wednesday = "2022-06-08T14:20:11Z";
    assert_eq!(span("boundaries.yesterday()", wednesday), (at("2022-06-07T00:00:00Z"), at("2022-06-08T00:00:00Z")));
    assert_eq!(span("boundaries.monday()", wednesday), (at("2022-06-06T00:00:00Z"), at("2022-06-07T00:00:00Z")));
    // On a Wednesday, the last Wednesday was a week ago.
    assert_eq!(span("boundaries.wednesday()", wednesday), (at("2022-06-01T00:00:00Z"), at("2022-06-02T00:00:00Z")));
    assert_eq!(span("boundaries.week()", wednesday), (at("2022-06-06T00:00:00Z"), at("2022-06-13T00:00:00Z")));
    assert_eq!(
        span("boundaries.week(start_sunday: true, week_offset: -1)", wednesday),
        (at("2022-05-29T00:00:00Z"), at("2022-06-05T00:00:00Z"))
    );
    assert_eq!(
        span("boundaries.month(month_offset: -6)", wednesday),
        (at("2021-12-01T00:00:00Z"), at("2022-01-01T00:00:00Z"))
    );
    // On the clock of a location: its midnights.
    assert_eq!(
        span("option location = timezone.fixed(offset: -8h)\nboundaries.monday()", "2021-12-30T00:40:44Z"),
        (at("2021-12-27T08:00:00Z"), at("2021-12-28T08:00:00Z"))
    );
}
