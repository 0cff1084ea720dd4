//! `GROUP BY time` windows, and the rows that a `SELECT` computes: a point
//! read (its series and its fields' values) and a window's values.

use storage::SeriesKey;

use crate::condition::TimeRange;
use crate::value::V;

/// `GROUP BY time(every, offset)`, the offset within `[0, every)` (`None`: no windows).
pub(super) type Interval = Option<(i64, i64)>;

/// The windows of a query: `GROUP BY time` windows from the range's start (or
/// the first point) through its end (or now); one window without.
pub(super) fn windows_for(range: &TimeRange, interval: Interval, first: Option<i64>, now: i64) -> Vec<(i64, i64)> {
    match interval {
        Some((every, offset)) => {
            let lo = range.min.or(first).unwrap_or(0);
            let hi = range.max.unwrap_or(now);
            let mut start = (lo - offset).div_euclid(every) * every + offset;
            let mut out = Vec::new();
            while start <= hi && out.len() < 1_000_000 {
                out.push((start, start + every));
                start += every;
            }
            out
        }
        None => vec![(range.min.unwrap_or(0), i64::MAX)],
    }
}

/// One point of a series: its time and the values of the fields read (by index).
pub(super) struct Row {
    pub(super) time: i64,
    pub(super) series: usize,
    pub(super) values: Vec<Option<V>>,
}

/// A group's tag values, by GROUP BY key.
pub(super) type GroupKey = Vec<(String, String)>;

/// The group of a series: its values of the `GROUP BY` tags (`""` where it has none).
pub(super) fn group_key(group_tags: &[String], series: &SeriesKey) -> GroupKey {
    group_tags.iter().map(|k| (k.clone(), series.tag(k).unwrap_or("").to_owned())).collect()
}

/// A window's time and each output field's value.
pub(super) type WindowRow = (i64, Vec<Option<V>>);
