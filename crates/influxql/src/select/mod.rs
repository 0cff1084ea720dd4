//! `SELECT`: reads each measurement's series through the storage scan (the
//! measurement, tag conditions, fields and time range pushed into it), then
//! either lists points (raw queries) or aggregates them per group of series
//! and time window, with InfluxQL's fill, selector-time, limit and naming rules.
//!
//! [`run`] takes the statement's sources (subqueries first: their results are
//! read like buckets) and plans each measurement ([`plan::Plan`]); then
//! [`measurement`] either has storage compute window aggregates
//! ([`pushdown`]) or scans the series ([`series`]), whose points become
//! [`raw`] rows or [`aggregate`]s; [`output`] transforms, fills, pages and
//! writes them as JSON.

mod aggregate;
mod eval;
mod fields;
mod multi_row;
mod output;
mod plan;
mod pushdown;
mod raw;
mod series;
mod subquery;
mod validate;
mod window;

use regex::Regex;
use serde_json::Value as Json;
use storage::{Predicate, ReadApi};

use crate::ast::*;
use crate::condition::split_time;
use crate::context::{Context, Options};
use crate::error::{Error, Result};
use crate::result::Series;
use crate::value::TypedFloats;

use fields::{Schema, has_call, wants_schema};
use plan::Plan;
use subquery::SubqueryContext;
use window::GroupKey;

/// Runs a `SELECT` (or a subquery of one): its series, sorted by name and tags.
pub(crate) fn run(stmt: &SelectStatement, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    validate::validate_fields(stmt)?;
    if stmt.target.is_some() {
        return Err(Error::NotImplemented("SELECT INTO".into()));
    }
    if stmt.sources.iter().any(|s| matches!(s, Source::Measurement(m) if m.database.is_empty())) {
        opts.database(None)?;
    }
    let (range, rest) = split_time(stmt.condition.as_ref(), ctx.now())?;
    // Subqueries first: their results are sources like buckets.
    let mut tables = Vec::new();
    for source in &stmt.sources {
        if let Source::Subquery(inner) = source {
            let inner = subquery::rewrite(inner, stmt, &range);
            let series = {
                let _typed = TypedFloats::on();
                run(&inner, ctx, opts)?
            };
            tables.push(subquery::tables(series)?);
        }
    }
    let subqueries: Vec<SubqueryContext<'_>> =
        tables.iter().map(|t| SubqueryContext { outer: ctx, tables: t }).collect();
    let mut targets: Vec<(&dyn Context, u64, String)> = Vec::new();
    let mut next_subquery = subqueries.iter();
    for source in &stmt.sources {
        let m = match source {
            Source::Measurement(m) => m,
            Source::Subquery(_) => {
                let sub = next_subquery.next().ok_or_else(|| Error::internal("a subquery without its result"))?;
                let names = sub.tables.measurements(0, i64::MIN, i64::MAX, &Predicate::True)?;
                targets.extend(names.into_iter().map(|name| (sub as &dyn Context, 0, name)));
                continue;
            }
        };
        let db = if m.database.is_empty() { opts.database.clone() } else { m.database.clone() };
        let rp = if m.retention_policy.is_empty() { opts.retention_policy.clone() } else { m.retention_policy.clone() };
        let bucket = ctx.bucket(&db, &rp)?;
        let names: Vec<String> = match &m.regex {
            Some(re) => {
                let re = Regex::new(re)?;
                let all = ctx.storage().measurements(bucket, i64::MIN, i64::MAX, &Predicate::True)?;
                all.into_iter().filter(|n| re.is_match(n)).collect()
            }
            // A measurement that does not exist has no fields, and so no answer.
            None => vec![m.name.clone()],
        };
        targets.extend(names.into_iter().map(|name| (ctx, bucket, name)));
    }
    // Wildcards expand to the fields and tags of all the sources together.
    let schema = if wants_schema(stmt) { Some(Schema::of(&targets)?) } else { None };
    let mut out = Vec::new();
    for (c, bucket, name) in &targets {
        if let Some(plan) = Plan::new(stmt, *c, *bucket, name, &range, rest.as_ref(), schema.as_ref())? {
            out.extend(measurement(stmt, *c, &plan)?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.tags.cmp(&b.tags)));
    // tz(): times written in the zone, with its offset.
    if let Some(zone) = stmt.location.as_deref().and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        for s in &mut out {
            for row in &mut s.values {
                if let Some(cell) = row.first_mut()
                    && let Some(t) = cell.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                {
                    let local = t.with_timezone(&zone);
                    let text = local.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
                    *cell = Json::from(text);
                }
            }
        }
    }
    // SLIMIT / SOFFSET count series.
    let out: Vec<Series> = out.into_iter().skip(stmt.soffset as usize).collect();
    let out = if stmt.slimit > 0 { out.into_iter().take(stmt.slimit as usize).collect() } else { out };
    Ok(out)
}

/// One measurement's series of the result, as its plan says.
fn measurement(stmt: &SelectStatement, ctx: &dyn Context, plan: &Plan) -> Result<Vec<Series>> {
    let storage = ctx.storage();
    let groups = if plan.row_cond.is_none()
        && let Some(pushed) = pushdown::pushable(&plan.fields, &plan.field_types)
    {
        let groups = pushdown::pushdown(
            storage,
            &plan.scan(),
            &pushed,
            &plan.group_tags,
            &plan.range,
            plan.interval,
            ctx.now(),
        )?;
        let mut out = Vec::with_capacity(groups.len());
        for (key, rows) in groups {
            out.push((key, output::finish(stmt, plan.interval, plan.transform(rows)?, plan.fields.len())));
        }
        out
    } else {
        scanned(stmt, plan, storage, ctx.now())?
    };
    let columns: Vec<String> = std::iter::once("time".to_owned()).chain(plan.columns.iter().cloned()).collect();
    let mut out = Vec::new();
    for (key, values) in groups {
        let values = output::page_rows(stmt, values);
        if values.is_empty() {
            continue;
        }
        out.push(Series {
            name: Some(plan.measurement.clone()),
            tags: key.into_iter().collect(),
            columns: columns.clone(),
            values,
            partial: false,
        });
    }
    Ok(out)
}

/// Each group's rows from a scan of its series: aggregated per window, or
/// the raw points (transformed, where the statement says).
fn scanned(
    stmt: &SelectStatement,
    plan: &Plan,
    storage: &dyn ReadApi,
    now: i64,
) -> Result<Vec<(GroupKey, Vec<Vec<Json>>)>> {
    let scanned = series::read(storage, plan.scan(), &plan.all_fields)?;
    let aggregate = plan.fields.iter().any(|f| has_call(&f.expr));
    let mut out = Vec::new();
    for (key, members) in scanned.groups(&plan.group_tags) {
        let points = scanned.points(&members, plan.row_cond.as_ref());
        let values = if aggregate {
            let rows = scanned.rows(&points);
            let rows = aggregate::aggregate_rows(
                &plan.fields,
                &plan.all_fields,
                &rows,
                &scanned.keys,
                &plan.range,
                plan.interval,
                now,
            )?;
            output::finish(stmt, plan.interval, plan.transform(rows)?, plan.fields.len())
        } else if plan.transformed() {
            let rows = plan.transform(raw::rows(plan, &scanned, &points))?;
            rows.into_iter().map(|(t, v)| output::json_row(t, v)).collect()
        } else {
            raw::json_rows(plan, &scanned, &points)
        };
        out.push((key, values));
    }
    Ok(out)
}
