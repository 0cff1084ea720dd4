//! Predicates the scans understand: on the measurement, tags and field keys,
//! combined with `and` / `or`.

use regex::Regex;

use crate::series::SeriesKey;

/// A comparison.
#[derive(Debug, Clone)]
pub enum Matcher {
    Eq(String),
    NotEq(String),
    Regex(Regex),
    NotRegex(Regex),
}

impl Matcher {
    /// Whether a value (absent = the empty string, as InfluxDB treats a missing tag) matches.
    pub fn matches(&self, v: Option<&str>) -> bool {
        let v = v.unwrap_or("");
        match self {
            Matcher::Eq(s) => v == s,
            Matcher::NotEq(s) => v != s,
            Matcher::Regex(r) => r.is_match(v),
            Matcher::NotRegex(r) => !r.is_match(v),
        }
    }
}

/// What a predicate looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Measurement,
    Field,
    Tag(String),
}

#[derive(Debug, Clone)]
pub enum Predicate {
    True,
    Compare(Subject, Matcher),
    And(Box<Predicate>, Box<Predicate>),
    Or(Box<Predicate>, Box<Predicate>),
}

impl Predicate {
    pub fn and(self, other: Predicate) -> Predicate {
        match (self, other) {
            (Predicate::True, p) | (p, Predicate::True) => p,
            (a, b) => Predicate::And(Box::new(a), Box::new(b)),
        }
    }

    pub fn or(self, other: Predicate) -> Predicate {
        Predicate::Or(Box::new(self), Box::new(other))
    }

    pub fn measurement_eq(m: &str) -> Predicate {
        Predicate::Compare(Subject::Measurement, Matcher::Eq(m.to_owned()))
    }

    pub fn tag_eq(k: &str, v: &str) -> Predicate {
        Predicate::Compare(Subject::Tag(k.to_owned()), Matcher::Eq(v.to_owned()))
    }

    pub fn field_eq(f: &str) -> Predicate {
        Predicate::Compare(Subject::Field, Matcher::Eq(f.to_owned()))
    }

    /// Evaluates against a series and one of its fields.
    pub fn matches(&self, series: &SeriesKey, field: &str) -> bool {
        self.matches_parts(&series.measurement, &series.tags, field)
    }

    /// [`Predicate::matches`] on a series' parts, borrowed where they lie.
    pub fn matches_parts(&self, measurement: &str, tags: &[(String, String)], field: &str) -> bool {
        match self {
            Predicate::True => true,
            Predicate::Compare(subject, m) => match subject {
                Subject::Measurement => m.matches(Some(measurement)),
                Subject::Field => m.matches(Some(field)),
                Subject::Tag(k) => m.matches(tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.as_str())),
            },
            Predicate::And(a, b) => {
                a.matches_parts(measurement, tags, field) && b.matches_parts(measurement, tags, field)
            }
            Predicate::Or(a, b) => {
                a.matches_parts(measurement, tags, field) || b.matches_parts(measurement, tags, field)
            }
        }
    }

    /// Evaluates on the series alone: `None` when the answer depends on the field.
    pub fn matches_series(&self, series: &SeriesKey) -> Option<bool> {
        self.matches_series_parts(&series.measurement, &series.tags)
    }

    /// [`Predicate::matches_series`] on a series' parts, borrowed where they lie.
    pub fn matches_series_parts(&self, measurement: &str, tags: &[(String, String)]) -> Option<bool> {
        match self {
            Predicate::True => Some(true),
            Predicate::Compare(Subject::Field, _) => None,
            Predicate::Compare(..) => Some(self.matches_parts(measurement, tags, "")),
            Predicate::And(a, b) => {
                match (a.matches_series_parts(measurement, tags), b.matches_series_parts(measurement, tags)) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }
            }
            Predicate::Or(a, b) => {
                match (a.matches_series_parts(measurement, tags), b.matches_series_parts(measurement, tags)) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            }
        }
    }

    /// Whether the predicate could match anything in `measurement`.
    pub fn may_match_measurement(&self, measurement: &str) -> bool {
        match self {
            Predicate::Compare(Subject::Measurement, m) => m.matches(Some(measurement)),
            Predicate::And(a, b) => a.may_match_measurement(measurement) && b.may_match_measurement(measurement),
            Predicate::Or(a, b) => a.may_match_measurement(measurement) || b.may_match_measurement(measurement),
            _ => true,
        }
    }
}
