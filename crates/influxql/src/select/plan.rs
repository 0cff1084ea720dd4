//! A `SELECT`'s plan for one measurement, made before any point is read:
//! the fields it outputs and those it reads, what storage filters and what is
//! left for rows, the `GROUP BY` tags and interval, and the time range.

use std::collections::BTreeMap;

use regex::Regex;
use storage::{FieldType, Predicate, ScanRequest};

use crate::ast::*;
use crate::condition::{TimeRange, tag_predicate};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::function::technical::{check_technical, is_technical};
use crate::function::transform::{check_holt_winters, looks_back};
use crate::lexer::Token;

use super::fields::{Schema, collect_fields, column_names, expand_fields, split_transform};
use super::output::apply_transforms;
use super::validate::check_types;
use super::window::{Interval, WindowRow};

/// What one measurement's part of a statement reads and computes.
pub(super) struct Plan {
    pub(super) measurement: String,
    bucket: u64,
    /// The output columns after `time`.
    pub(super) columns: Vec<String>,
    /// Each output field as read and aggregated, before its transformation.
    pub(super) fields: Vec<Field>,
    /// Each output field's transformation (name and arguments), if any.
    transforms: Vec<Option<(String, Vec<Expr>)>>,
    /// The fields that the output reads ...
    pub(super) read: Vec<String>,
    /// ... and after them those that only the condition reads: what the scan asks for.
    pub(super) all_fields: Vec<String>,
    pub(super) field_types: BTreeMap<String, FieldType>,
    /// The condition's part that reads fields, which rows are tested against.
    pub(super) row_cond: Option<Expr>,
    /// The measurement and the condition's tag comparisons, which storage applies.
    predicate: Predicate,
    pub(super) group_tags: Vec<String>,
    pub(super) interval: Interval,
    /// The statement's range, starting a window earlier where a transformation looks back.
    pub(super) range: TimeRange,
    /// The scan's exclusive end: the statement's range, not widened.
    stop: i64,
}

impl Plan {
    /// The plan of `stmt` over measurement `name`, or `None` when it has no
    /// answer there (no field to output, or only tags selected).
    pub(super) fn new(
        stmt: &SelectStatement,
        ctx: &dyn Context,
        bucket: u64,
        name: &str,
        range: &TimeRange,
        rest: Option<&Expr>,
        schema: Option<&Schema>,
    ) -> Result<Option<Plan>> {
        let storage = ctx.storage();
        let mp = Predicate::measurement_eq(name);
        let field_types: BTreeMap<String, FieldType> =
            storage.field_keys(bucket, i64::MIN, i64::MAX, &mp)?.into_iter().collect();
        // Tag keys only matter to `*` and GROUP BY `*` or a regex.
        let wants_tags = stmt.dimensions.iter().any(|d| matches!(d, Expr::Wildcard(_) | Expr::Regex(_)));
        let tag_keys: Vec<String> =
            if wants_tags { storage.tag_keys(bucket, i64::MIN, i64::MAX, &mp)? } else { Vec::new() };

        // The fields: expanded wildcards, then every field a field expression or the condition reads.
        let outer = match schema {
            Some(s) => expand_fields(&stmt.fields, &s.fields, &s.tags)?,
            None => expand_fields(&stmt.fields, &field_types, &tag_keys)?,
        };
        if outer.is_empty() {
            return Ok(None);
        }
        let columns = column_names(&outer);
        // Transformations apply last: the fields read and aggregated are what they transform.
        for f in &outer {
            check_types(&f.expr, &field_types)?;
        }
        let (transforms, fields): (Vec<_>, Vec<Field>) = outer.iter().map(split_transform).unzip();
        let mut read: Vec<String> = Vec::new();
        for f in &fields {
            collect_fields(&f.expr, &field_types, &mut read);
        }
        if read.is_empty() {
            // Only tags selected: InfluxDB answers nothing.
            return Ok(None);
        }
        let mut filter_fields = Vec::new();
        if let Some(cond) = rest {
            collect_fields(cond, &field_types, &mut filter_fields);
        }
        let mut all_fields = read.clone();
        for f in filter_fields {
            if !all_fields.contains(&f) {
                all_fields.push(f);
            }
        }
        // Tag-only conditions go to storage; the rest filters rows.
        let (tag_cond, row_cond) = split_condition(rest, &field_types);
        let predicate = mp.and(tag_predicate(tag_cond.as_ref())?);
        let stop = range.max.map_or(i64::MAX, |m| m.saturating_add(1));
        let (group_tags, interval) = dimensions(&stmt.dimensions, &tag_keys)?;
        for f in &outer {
            if let Expr::Call { name, args } = &f.expr
                && is_technical(name)
            {
                check_technical(name, args, interval.is_some())?;
            }
            if let Expr::Call { name, args } = &f.expr
                && name.starts_with("holt_winters")
            {
                check_holt_winters(name, args, interval.is_some())?;
            }
        }
        // In a zone, windows start on its wall clock (its offset where the range begins).
        let interval = match (interval, stmt.location.as_deref().and_then(|z| z.parse::<chrono_tz::Tz>().ok())) {
            (Some((every, offset)), Some(zone)) => {
                use chrono::Offset;
                let at = chrono::DateTime::from_timestamp_nanos(range.min.unwrap_or_else(|| ctx.now()));
                let shift = i64::from(at.with_timezone(&zone).offset().fix().local_minus_utc()) * time::SECOND;
                Some((every, (offset - shift).rem_euclid(every)))
            }
            (i, _) => i,
        };
        // Transformations of window aggregates also read the window just before
        // the range (as InfluxQL does), so the first window in range has its
        // predecessor; what they emit there is kept.
        let range = match (interval, range.min) {
            (Some((every, _)), Some(min)) if transforms.iter().flatten().any(|(name, _)| looks_back(name)) => {
                TimeRange { min: Some(min.saturating_sub(every)), max: range.max }
            }
            _ => *range,
        };
        Ok(Some(Plan {
            measurement: name.to_owned(),
            bucket,
            columns,
            fields,
            transforms,
            read,
            all_fields,
            field_types,
            row_cond,
            predicate,
            group_tags,
            interval,
            range,
            stop,
        }))
    }

    /// The scan of the measurement's series over the range, its tag conditions applied.
    pub(super) fn scan(&self) -> ScanRequest {
        ScanRequest::new(self.bucket, self.range.min.unwrap_or(i64::MIN), self.stop, self.predicate.clone())
    }

    /// Whether any output field is transformed.
    pub(super) fn transformed(&self) -> bool {
        self.transforms.iter().any(Option::is_some)
    }

    /// A group's rows, in time order, with the fields' transformations applied.
    pub(super) fn transform(&self, rows: Vec<WindowRow>) -> Result<Vec<WindowRow>> {
        if !self.transformed() {
            return Ok(rows);
        }
        apply_transforms(rows, &self.transforms, self.interval.map(|(every, _)| every))
    }
}

/// GROUP BY: the tag keys to group by, and `time(every, offset)` if any.
fn dimensions(dims: &[Expr], tag_keys: &[String]) -> Result<(Vec<String>, Interval)> {
    let mut tags: Vec<String> = Vec::new();
    let mut interval = None;
    for d in dims {
        match d {
            Expr::Call { name, args } if name == "time" => {
                let every = match args.first() {
                    Some(Expr::Duration(d)) if *d > 0 => *d,
                    _ => return Err(Error::invalid("time dimension must have duration argument")),
                };
                let offset = match args.get(1) {
                    Some(Expr::Duration(d)) => *d,
                    None => 0,
                    _ => return Err(Error::invalid("time dimension offset must be duration or now()")),
                };
                interval = Some((every, offset.rem_euclid(every)));
            }
            Expr::VarRef { name, .. } => tags.push(name.clone()),
            Expr::Wildcard(_) => tags.extend(tag_keys.iter().cloned()),
            Expr::Regex(re) => {
                let re = Regex::new(re)?;
                tags.extend(tag_keys.iter().filter(|k| re.is_match(k)).cloned());
            }
            _ => return Err(Error::invalid("only time() calls allowed in dimensions")),
        }
    }
    tags.sort();
    tags.dedup();
    Ok((tags, interval))
}

/// Splits a condition into what only reads tags (for storage) and the rest (rows).
fn split_condition(cond: Option<&Expr>, fields: &BTreeMap<String, storage::FieldType>) -> (Option<Expr>, Option<Expr>) {
    let Some(cond) = cond else { return (None, None) };
    let mut tags = Vec::new();
    let mut rows = Vec::new();
    for c in conjuncts(cond) {
        let mut read = Vec::new();
        collect_fields(c, fields, &mut read);
        if read.is_empty() { tags.push(c.clone()) } else { rows.push(c.clone()) }
    }
    let join =
        |v: Vec<Expr>| v.into_iter().reduce(|a, b| Expr::Binary { op: Token::And, lhs: Box::new(a), rhs: Box::new(b) });
    (join(tags), join(rows))
}

fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary { op: Token::And, lhs, rhs } => {
            let mut v = conjuncts(lhs);
            v.extend(conjuncts(rhs));
            v
        }
        Expr::Paren(inner) if matches!(inner.as_ref(), Expr::Binary { op: Token::And, .. }) => conjuncts(inner),
        other => vec![other],
    }
}
