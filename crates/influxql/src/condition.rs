//! A `WHERE` clause as storage reads it: its time bounds split off (for
//! `SELECT` and `DELETE`), and its tag comparisons as a storage predicate.

use regex::Regex;
use storage::{Matcher, Predicate, Subject};

use crate::ast::Expr;
use crate::error::{Error, Result};
use crate::lexer::Token;

/// The time bounds of a `WHERE`, inclusive (`None`: unbounded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeRange {
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
}

/// Splits the time bounds (inclusive) off a condition's top-level `AND`s:
/// the bounds and what is left of the condition.
pub(crate) fn split_time(cond: Option<&Expr>, now: i64) -> Result<(TimeRange, Option<Expr>)> {
    let mut range = TimeRange { min: None, max: None };
    let Some(cond) = cond else { return Ok((range, None)) };
    let rest = take_time(cond, now, &mut range)?;
    Ok((range, rest))
}

fn take_time(e: &Expr, now: i64, range: &mut TimeRange) -> Result<Option<Expr>> {
    match e {
        Expr::Binary { op: Token::And, lhs, rhs } => {
            let l = take_time(lhs, now, range)?;
            let r = take_time(rhs, now, range)?;
            Ok(match (l, r) {
                (Some(l), Some(r)) => Some(Expr::Binary { op: Token::And, lhs: Box::new(l), rhs: Box::new(r) }),
                (l, r) => l.or(r),
            })
        }
        Expr::Paren(inner) if is_time_comparison(inner) => take_time(inner, now, range),
        Expr::Binary { op, lhs, rhs } if is_time_comparison(e) => {
            let (op, value) = match (lhs.as_ref(), rhs.as_ref()) {
                (Expr::VarRef { name, .. }, v) if name.eq_ignore_ascii_case("time") => (*op, v),
                (v, _) => (flip(*op), v),
            };
            let t = time_value(value, now)?;
            match op {
                Token::Gt => range.min = Some(range.min.map_or(t + 1, |m| m.max(t + 1))),
                Token::Gte => range.min = Some(range.min.map_or(t, |m| m.max(t))),
                Token::Lt => range.max = Some(range.max.map_or(t - 1, |m| m.min(t - 1))),
                Token::Lte => range.max = Some(range.max.map_or(t, |m| m.min(t))),
                Token::Eq => {
                    range.min = Some(range.min.map_or(t, |m| m.max(t)));
                    range.max = Some(range.max.map_or(t, |m| m.min(t)));
                }
                _ => return Err(Error::invalid("invalid time comparison operator")),
            }
            Ok(None)
        }
        other => Ok(Some(other.clone())),
    }
}

fn is_time_comparison(e: &Expr) -> bool {
    let is_time = |e: &Expr| matches!(e, Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time"));
    matches!(e, Expr::Binary { op, lhs, rhs } if matches!(op, Token::Gt | Token::Gte | Token::Lt | Token::Lte | Token::Eq | Token::Neq) && (is_time(lhs) || is_time(rhs)))
}

fn flip(op: Token) -> Token {
    match op {
        Token::Gt => Token::Lt,
        Token::Gte => Token::Lte,
        Token::Lt => Token::Gt,
        Token::Lte => Token::Gte,
        o => o,
    }
}

/// A time literal: an RFC3339 or date string, an integer of nanoseconds, or `now()` ± durations.
fn time_value(e: &Expr, now: i64) -> Result<i64> {
    match e {
        Expr::String(s) => parse_time_string(s).ok_or_else(|| Error::invalid(format!("invalid time string: {s}"))),
        Expr::Integer(n) => Ok(*n),
        Expr::Number(x) => Ok(*x as i64),
        Expr::Duration(d) => Ok(*d),
        Expr::Call { name, args } if name == "now" && args.is_empty() => Ok(now),
        Expr::Paren(e) => time_value(e, now),
        Expr::Binary { op: Token::Add, lhs, rhs } => Ok(time_value(lhs, now)?.saturating_add(time_value(rhs, now)?)),
        Expr::Binary { op: Token::Sub, lhs, rhs } => Ok(time_value(lhs, now)?.saturating_sub(time_value(rhs, now)?)),
        _ => Err(Error::invalid("invalid time expression")),
    }
}

fn parse_time_string(s: &str) -> Option<i64> {
    if let Some(t) = time::rfc3339::parse(s) {
        return Some(t);
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return t.and_utc().timestamp_nanos_opt();
        }
    }
    time::rfc3339::parse_date(s)
}

/// The tag comparisons of a `WHERE` as a storage predicate (`time` bounds and
/// anything else are left out: they do not narrow the schema statements here).
pub(crate) fn tag_predicate(cond: Option<&Expr>) -> Result<Predicate> {
    let Some(e) = cond else { return Ok(Predicate::True) };
    Ok(translate(e).unwrap_or(Predicate::True))
}

fn translate(e: &Expr) -> Option<Predicate> {
    match e {
        Expr::Paren(inner) => translate(inner),
        Expr::Binary { op: Token::And, lhs, rhs } => match (translate(lhs), translate(rhs)) {
            (Some(a), Some(b)) => Some(a.and(b)),
            (Some(a), None) | (None, Some(a)) => Some(a),
            (None, None) => None,
        },
        Expr::Binary { op: Token::Or, lhs, rhs } => Some(translate(lhs)?.or(translate(rhs)?)),
        Expr::Binary { op, lhs, rhs } => {
            let (Expr::VarRef { name, .. }, value) = (lhs.as_ref(), rhs.as_ref()) else { return None };
            if name == "time" {
                return None;
            }
            let matcher = match (op, value) {
                (Token::Eq, Expr::String(s)) => Matcher::Eq(s.clone()),
                (Token::Neq, Expr::String(s)) => Matcher::NotEq(s.clone()),
                (Token::EqRegex, Expr::Regex(r)) => Matcher::Regex(Regex::new(r).ok()?),
                (Token::NeqRegex, Expr::Regex(r)) => Matcher::NotRegex(Regex::new(r).ok()?),
                _ => return None,
            };
            let subject = if name == "_name" { Subject::Measurement } else { Subject::Tag(name.clone()) };
            Some(Predicate::Compare(subject, matcher))
        }
        _ => None,
    }
}
