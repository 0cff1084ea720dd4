//! `SELECT`: reads each measurement's series through the storage scan (the
//! measurement, tag conditions, fields and time range pushed into it), then
//! either lists points (raw queries) or aggregates them per group of series
//! and time window, with InfluxQL's fill, selector-time, limit and naming rules.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampNanosecondArray, UInt64Array,
};
use regex::Regex;
use serde_json::Value as Json;
use storage::{MemoryTables, Predicate, ReadApi, ScanRequest, SeriesKey};

use crate::ast::*;
use crate::condition::{TimeRange, split_time, tag_predicate};
use crate::context::{Context, Options, RetentionPolicy};
use crate::lexer::Token;
use crate::result::Series;
use crate::transform::{check_holt_winters, check_technical, is_math, is_technical, is_transformation, looks_back};
use crate::value::{TypedFloats, V, value_at};

type Run<T> = Result<T, String>;

/// One point of a series: its time and the values of the fields read (by index).
struct Row {
    time: i64,
    series: usize,
    values: Vec<Option<V>>,
}

pub(crate) fn run(stmt: &SelectStatement, ctx: &dyn Context, opts: &Options) -> Run<Vec<Series>> {
    validate_fields(stmt)?;
    if stmt.target.is_some() {
        return Err("not implemented: SELECT INTO".into());
    }
    if opts.database.is_empty()
        && stmt.sources.iter().any(|s| matches!(s, Source::Measurement(m) if m.database.is_empty()))
    {
        return Err("database name required".into());
    }
    let (range, rest) = split_time(stmt.condition.as_ref(), ctx.now())?;
    // Subqueries first: their results are sources like buckets.
    let mut tables = Vec::new();
    for source in &stmt.sources {
        if let Source::Subquery(inner) = source {
            tables.push(subquery(inner, stmt, &range, ctx, opts)?);
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
                let sub = next_subquery.next().ok_or("a subquery without its result")?;
                let names =
                    sub.tables.measurements(0, i64::MIN, i64::MAX, &Predicate::True).map_err(|e| e.to_string())?;
                targets.extend(names.into_iter().map(|name| (sub as &dyn Context, 0, name)));
                continue;
            }
        };
        let db = if m.database.is_empty() { opts.database.clone() } else { m.database.clone() };
        let rp = if m.retention_policy.is_empty() { opts.retention_policy.clone() } else { m.retention_policy.clone() };
        let bucket = ctx.bucket(&db, &rp)?;
        let names: Vec<String> = match &m.regex {
            Some(re) => {
                let re = Regex::new(re).map_err(|e| e.to_string())?;
                let all = ctx
                    .storage()
                    .measurements(bucket, i64::MIN, i64::MAX, &Predicate::True)
                    .map_err(|e| e.to_string())?;
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
        out.extend(measurement(stmt, *c, *bucket, name, &range, rest.as_ref(), schema.as_ref())?);
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

/// What InfluxQL's compiler learns from a statement's fields to validate them.
#[derive(Default)]
struct FieldFacts<'a> {
    /// Function calls (math functions and a distinct() inside count() aside).
    calls: Vec<&'a str>,
    /// A field or tag read outside any call.
    auxiliary: bool,
    /// No call but selectors (which answer with a point's own time).
    only_selectors: bool,
    /// A distinct() of its own.
    distinct: bool,
    top_bottom: Option<&'a str>,
}

impl<'a> FieldFacts<'a> {
    fn walk(&mut self, e: &'a Expr, in_call: bool) {
        match e {
            Expr::VarRef { .. } | Expr::Wildcard(_) | Expr::Regex(_) if !in_call => self.auxiliary = true,
            Expr::Call { name, args } if is_math(name) => args.iter().for_each(|a| self.walk(a, in_call)),
            Expr::Call { name, args } => {
                if in_call && name == "distinct" {
                    return;
                }
                self.calls.push(name);
                match name.as_str() {
                    "max" | "min" | "first" | "last" | "percentile" | "sample" => {}
                    "top" | "bottom" => {
                        self.top_bottom.get_or_insert(name);
                    }
                    "distinct" => self.distinct = true,
                    _ => self.only_selectors = false,
                }
                if args.iter().any(|a| matches!(a, Expr::Wildcard(_) | Expr::Regex(_))) {
                    self.only_selectors = false;
                }
                args.iter().for_each(|a| self.walk(a, true));
            }
            Expr::Distinct(_) if !in_call => {
                self.calls.push("distinct");
                self.distinct = true;
            }
            Expr::Binary { lhs, rhs, .. } => {
                self.walk(lhs, in_call);
                self.walk(rhs, in_call);
            }
            Expr::Paren(e) => self.walk(e, in_call),
            _ => {}
        }
    }
}

/// The checks InfluxQL makes of a statement's fields before it runs.
fn validate_fields(stmt: &SelectStatement) -> Run<()> {
    let mut facts = FieldFacts { only_selectors: true, ..FieldFacts::default() };
    for f in &stmt.fields {
        facts.walk(&f.expr, false);
    }
    if let Some(selector) = facts.top_bottom
        && facts.calls.len() > 1
    {
        return Err(format!("selector function {selector}() cannot be combined with other functions"));
    }
    if facts.calls.is_empty() {
        match stmt.fill {
            Fill::None => return Err("fill(none) must be used with a function".into()),
            Fill::Linear => return Err("fill(linear) must be used with a function".into()),
            _ => {}
        }
        if stmt.dimensions.iter().any(|d| matches!(d, Expr::Call { name, .. } if name == "time")) {
            return Err("GROUP BY requires at least one aggregate function".into());
        }
    }
    if facts.distinct && (facts.calls.len() != 1 || facts.auxiliary) {
        return Err("aggregate function distinct() cannot be combined with other functions or fields".into());
    }
    if facts.auxiliary {
        if !facts.only_selectors {
            return Err("mixing aggregate and non-aggregate queries is not supported".into());
        }
        if facts.calls.len() > 1 {
            return Err("mixing multiple selector functions with tags or fields is not supported".into());
        }
    }
    Ok(())
}

/// Runs a subquery as InfluxQL does: within the outer query's time range,
/// grouped also by the outer query's `GROUP BY` tags, an aggregate's
/// `fill(null)` taken as `fill(none)`. Its result, typed, becomes tables the
/// outer query reads like a bucket: each result series a series, each column a field.
fn subquery(
    inner: &SelectStatement,
    outer: &SelectStatement,
    range: &TimeRange,
    ctx: &dyn Context,
    opts: &Options,
) -> Run<MemoryTables> {
    let mut stmt = inner.clone();
    let bound = |op: Token, t: i64| Expr::Binary {
        op,
        lhs: Box::new(Expr::VarRef { name: "time".into(), ty: None }),
        rhs: Box::new(Expr::Integer(t)),
    };
    let bounds = [range.min.map(|t| bound(Token::Gte, t)), range.max.map(|t| bound(Token::Lte, t))];
    for b in bounds.into_iter().flatten() {
        stmt.condition = Some(match stmt.condition.take() {
            Some(c) => Expr::Binary { op: Token::And, lhs: Box::new(Expr::Paren(Box::new(c))), rhs: Box::new(b) },
            None => b,
        });
    }
    for d in &outer.dimensions {
        if !matches!(d, Expr::Call { .. }) && !stmt.dimensions.contains(d) {
            stmt.dimensions.push(d.clone());
        }
    }
    if stmt.fill == Fill::Null && stmt.fields.iter().any(|f| has_call(&f.expr)) {
        stmt.fill = Fill::None;
    }
    let series = {
        let _typed = TypedFloats::on();
        run(&stmt, ctx, opts)?
    };
    let mut tables = MemoryTables::default();
    for s in series {
        let key = SeriesKey::new(s.name.clone().unwrap_or_default(), s.tags.clone().into_iter().collect());
        let mut rows: Vec<(i64, &Vec<Json>)> = Vec::with_capacity(s.values.len());
        for row in &s.values {
            let t = row
                .first()
                .and_then(Json::as_str)
                .and_then(time::rfc3339::parse)
                .ok_or("a subquery row without a time")?;
            rows.push((t, row));
        }
        rows.sort_by_key(|(t, _)| *t);
        let times: Vec<i64> = rows.iter().map(|(t, _)| *t).collect();
        for (j, column) in s.columns.iter().enumerate().skip(1) {
            let cells: Vec<&Json> = rows.iter().map(|(_, row)| row.get(j).unwrap_or(&Json::Null)).collect();
            if let Some(values) = json_column(&cells) {
                tables.insert(key.clone(), column, times.clone(), values).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(tables)
}

/// A result column as a typed array: strings, booleans, floats (any float
/// among its numbers), integers or unsigned; `None` when it is all null.
fn json_column(cells: &[&Json]) -> Option<ArrayRef> {
    let first = cells.iter().find(|c| !c.is_null())?;
    Some(match first {
        Json::String(_) => Arc::new(cells.iter().map(|c| c.as_str()).collect::<StringArray>()),
        Json::Bool(_) => Arc::new(cells.iter().map(|c| c.as_bool()).collect::<BooleanArray>()),
        _ if cells.iter().any(|c| c.is_f64()) => Arc::new(cells.iter().map(|c| c.as_f64()).collect::<Float64Array>()),
        _ if cells.iter().all(|c| c.is_null() || c.is_i64()) => {
            Arc::new(cells.iter().map(|c| c.as_i64()).collect::<Int64Array>())
        }
        _ => Arc::new(cells.iter().map(|c| c.as_u64()).collect::<UInt64Array>()),
    })
}

/// What an outer query reads: its subquery's tables in place of storage.
struct SubqueryContext<'a> {
    outer: &'a dyn Context,
    tables: &'a MemoryTables,
}

impl Context for SubqueryContext<'_> {
    fn databases(&self) -> Run<Vec<String>> {
        self.outer.databases()
    }
    fn retention_policies(&self, database: &str) -> Run<Vec<RetentionPolicy>> {
        self.outer.retention_policies(database)
    }
    fn bucket(&self, _database: &str, _retention_policy: &str) -> Run<u64> {
        Ok(0)
    }
    fn storage(&self) -> &dyn storage::ReadApi {
        self.tables
    }
    fn delete(&self, _: &str, _: i64, _: i64, _: &storage::DeletePredicate) -> Run<()> {
        Err("a subquery deletes nothing".into())
    }
    fn now(&self) -> i64 {
        self.outer.now()
    }
}

/// The fields and tags of all of a statement's sources, which its wildcards expand to.
struct Schema {
    fields: BTreeMap<String, storage::FieldType>,
    tags: Vec<String>,
}

impl Schema {
    fn of(targets: &[(&dyn Context, u64, String)]) -> Run<Self> {
        let mut fields = BTreeMap::new();
        let mut tags = BTreeSet::new();
        for (ctx, bucket, name) in targets {
            let p = Predicate::measurement_eq(name);
            for (f, t) in ctx.storage().field_keys(*bucket, i64::MIN, i64::MAX, &p).map_err(|e| e.to_string())? {
                fields.entry(f).or_insert(t);
            }
            tags.extend(ctx.storage().tag_keys(*bucket, i64::MIN, i64::MAX, &p).map_err(|e| e.to_string())?);
        }
        Ok(Self { fields, tags: tags.into_iter().collect() })
    }
}

/// Refuses a function of a field of a type it does not take, as InfluxDB
/// does when it builds the function's iterator.
fn check_types(e: &Expr, types: &BTreeMap<String, storage::FieldType>) -> Run<()> {
    use storage::FieldType as T;
    match e {
        Expr::Call { name, args } => {
            if let Some(Expr::VarRef { name: field, .. }) = args.first()
                && let Some(t @ (T::String | T::Boolean)) = types.get(field)
            {
                let takes = match name.as_str() {
                    "count" | "first" | "last" | "distinct" | "mode" | "sample" | "elapsed" => true,
                    "min" | "max" => *t == T::Boolean,
                    _ => is_math(name),
                };
                if !takes {
                    let label = match name.as_str() {
                        "non_negative_derivative" => "derivative".to_owned(),
                        "non_negative_difference" => "difference".to_owned(),
                        other => other.replace('_', " "),
                    };
                    let iterator = if *t == T::String { "string" } else { "boolean" };
                    return Err(format!("unsupported {label} iterator type: *query.{iterator}InterruptIterator"));
                }
            }
            args.iter().try_for_each(|a| check_types(a, types))
        }
        Expr::Binary { lhs, rhs, .. } => {
            check_types(lhs, types)?;
            check_types(rhs, types)
        }
        Expr::Paren(e) => check_types(e, types),
        _ => Ok(()),
    }
}

/// Whether a statement's fields hold a wildcard or regex to expand.
fn wants_schema(stmt: &SelectStatement) -> bool {
    stmt.fields.iter().any(|f| match &f.expr {
        Expr::Wildcard(_) | Expr::Regex(_) => true,
        Expr::Call { args, .. } => matches!(args.first(), Some(Expr::Wildcard(_) | Expr::Regex(_))),
        _ => false,
    })
}

/// One measurement's series of the result.
fn measurement(
    stmt: &SelectStatement,
    ctx: &dyn Context,
    bucket: u64,
    name: &str,
    range: &TimeRange,
    rest: Option<&Expr>,
    schema: Option<&Schema>,
) -> Run<Vec<Series>> {
    let storage = ctx.storage();
    let mp = Predicate::measurement_eq(name);
    let field_types: BTreeMap<String, storage::FieldType> =
        storage.field_keys(bucket, i64::MIN, i64::MAX, &mp).map_err(|e| e.to_string())?.into_iter().collect();
    // Tag keys only matter to `*` and GROUP BY `*` or a regex.
    let wants_tags = stmt.dimensions.iter().any(|d| matches!(d, Expr::Wildcard(_) | Expr::Regex(_)));
    let tag_keys: Vec<String> = if wants_tags {
        storage.tag_keys(bucket, i64::MIN, i64::MAX, &mp).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };

    // The fields: expanded wildcards, then every field a field expression or the condition reads.
    let outer = match schema {
        Some(s) => expand_fields(&stmt.fields, &s.fields, &s.tags)?,
        None => expand_fields(&stmt.fields, &field_types, &tag_keys)?,
    };
    if outer.is_empty() {
        return Ok(Vec::new());
    }
    let names = column_names(&outer);
    // Transformations apply last: the fields read and aggregated are what they transform.
    for f in &outer {
        check_types(&f.expr, &field_types)?;
    }
    let (transforms, fields): (Vec<_>, Vec<Field>) = outer.iter().map(split_transform).unzip();
    let transformed = transforms.iter().any(Option::is_some);
    let mut read: Vec<String> = Vec::new();
    for f in &fields {
        collect_fields(&f.expr, &field_types, &mut read);
    }
    if read.is_empty() {
        // Only tags selected: InfluxDB answers nothing.
        return Ok(Vec::new());
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
            let shift = i64::from(at.with_timezone(&zone).offset().fix().local_minus_utc()) * 1_000_000_000;
            Some((every, (offset - shift).rem_euclid(every)))
        }
        (i, _) => i,
    };
    // Transformations of window aggregates also read the window just before
    // the range (as InfluxQL does), so the first window in range has its
    // predecessor; what they emit there is kept.
    let range = match (interval, range.min) {
        (Some((every, _)), Some(min)) if transforms.iter().flatten().any(|(name, _)| looks_back(name)) => {
            &TimeRange { min: Some(min.saturating_sub(every)), max: range.max }
        }
        _ => range,
    };
    let start = range.min.unwrap_or(i64::MIN);
    let every = interval.map(|(every, _)| every);
    let transform_rows = |rows: Vec<WindowRow>| -> Run<Vec<WindowRow>> {
        if !transformed {
            return Ok(rows);
        }
        apply_transforms(rows, &transforms, every)
    };
    if row_cond.is_none()
        && let Some(plan) = pushable(&fields, &field_types)
    {
        let scan = ScanRequest::new(bucket, start, stop, predicate.clone());
        let groups = pushdown(storage, &scan, &plan, &group_tags, range, interval, ctx.now())?;
        let mut out = Vec::new();
        for (key, rows) in groups {
            let values = page_rows(stmt, finish(stmt, interval, transform_rows(rows)?, fields.len()));
            if !values.is_empty() {
                out.push(Series {
                    name: Some(name.to_owned()),
                    tags: key.into_iter().collect(),
                    columns: std::iter::once("time".to_owned()).chain(names.iter().cloned()).collect(),
                    values,
                    partial: false,
                });
            }
        }
        return Ok(out);
    }
    let mut req = ScanRequest::new(bucket, start, stop, predicate);
    req.fields = Some(all_fields.iter().cloned().collect());

    // Each series' fields as they come from storage, then aligned on one time axis.
    let mut series: Vec<SeriesKey> = Vec::new();
    let mut parts: Vec<Vec<Option<FieldPart>>> = Vec::new();
    let mut failed = None;
    storage
        .scan_each(&req, &mut |fs| {
            // Series come grouped: the last one seen is the usual match.
            let idx = match series.iter().rposition(|s| *s == *fs.series) {
                Some(i) => i,
                None => {
                    series.push((*fs.series).clone());
                    parts.push(vec![None; all_fields.len()]);
                    series.len() - 1
                }
            };
            let Some(fi) = all_fields.iter().position(|f| *f == fs.field) else { return ControlFlow::Continue(()) };
            match fs.batch.column(0).as_any().downcast_ref::<TimestampNanosecondArray>() {
                Some(t) => {
                    parts[idx][fi] = Some((t.values().to_vec(), Arc::clone(fs.batch.column(1))));
                    ControlFlow::Continue(())
                }
                None => {
                    failed = Some("storage returned times of another type".to_owned());
                    ControlFlow::Break(())
                }
            }
        })
        .map_err(|e| e.to_string())?;
    if let Some(e) = failed {
        return Err(e);
    }
    let data: Vec<SeriesData> = parts.into_iter().map(SeriesData::align).collect();

    // Groups of series by the GROUP BY tags.
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<usize>> = BTreeMap::new();
    for (i, s) in series.iter().enumerate() {
        let key: Vec<(String, String)> =
            group_tags.iter().map(|k| (k.clone(), s.tag(k).unwrap_or("").to_owned())).collect();
        groups.entry(key).or_default().push(i);
    }

    let aggregate = fields.iter().any(|f| has_call(&f.expr));
    let read_idx: Vec<usize> = read.iter().filter_map(|f| all_fields.iter().position(|a| a == f)).collect();
    let mut out = Vec::new();
    for (key, members) in groups {
        // The group's points in time order (series order among equal times), filtered.
        let mut at: Vec<(i64, usize, usize)> = Vec::new();
        for &i in &members {
            let d = &data[i];
            for r in 0..d.times.len() {
                let keep = match &row_cond {
                    Some(cond) => truthy(&eval_with(cond, &|name| d.lookup(name, r, &all_fields, &series[i]))),
                    None => true,
                };
                if keep {
                    at.push((d.times[r], i, r));
                }
            }
        }
        at.sort_unstable();
        let values = if aggregate {
            let rows: Vec<Row> = at
                .iter()
                .map(|&(time, i, r)| Row {
                    time,
                    series: i,
                    values: (0..all_fields.len()).map(|f| data[i].cell(f, r)).collect(),
                })
                .collect();
            let rows = aggregate_rows(&fields, &all_fields, &rows, &series, range, interval, ctx.now())?;
            finish(stmt, interval, transform_rows(rows)?, fields.len())
        } else if transformed {
            let rows: Vec<WindowRow> = at
                .iter()
                .filter(|&&(_, i, r)| read_idx.iter().any(|&f| data[i].present(f, r)))
                .map(|&(time, i, r)| {
                    let get = |name: &str| data[i].lookup(name, r, &all_fields, &series[i]);
                    (time, fields.iter().map(|f| eval_with(&f.expr, &get)).collect())
                })
                .collect();
            transform_rows(rows)?
                .into_iter()
                .map(|(t, v)| {
                    std::iter::once(Json::from(format_time(t)))
                        .chain(v.into_iter().map(|x| x.map_or(Json::Null, |x| x.json())))
                        .collect()
                })
                .collect()
        } else {
            at.iter()
                .filter(|&&(_, i, r)| read_idx.iter().any(|&f| data[i].present(f, r)))
                .map(|&(time, i, r)| {
                    let get = |name: &str| data[i].lookup(name, r, &all_fields, &series[i]);
                    std::iter::once(Json::from(format_time(time)))
                        .chain(fields.iter().map(|f| eval_with(&f.expr, &get).map_or(Json::Null, |v| v.json())))
                        .collect()
                })
                .collect()
        };
        let values = page_rows(stmt, values);
        if values.is_empty() {
            continue;
        }
        out.push(Series {
            name: Some(name.to_owned()),
            tags: key.into_iter().collect(),
            columns: std::iter::once("time".to_owned()).chain(names.iter().cloned()).collect(),
            values,
            partial: false,
        });
    }
    Ok(out)
}

/// ORDER BY time DESC, OFFSET and LIMIT over a series' rows.
fn page_rows(stmt: &SelectStatement, mut values: Vec<Vec<Json>>) -> Vec<Vec<Json>> {
    if stmt.descending {
        values.reverse();
    }
    let values: Vec<Vec<Json>> = values.into_iter().skip(stmt.offset as usize).collect();
    if stmt.limit > 0 { values.into_iter().take(stmt.limit as usize).collect() } else { values }
}

/// `*`, `*::field`/`*::tag` and `/regex/` expanded into the fields and tags
/// (sorted by name); `fn(*)` and `fn(/regex/)` into a call per field of a type
/// the function takes, named `fn_field`.
fn expand_fields(
    fields: &[Field],
    types: &BTreeMap<String, storage::FieldType>,
    tag_keys: &[String],
) -> Run<Vec<Field>> {
    let mut out = Vec::new();
    for f in fields {
        match &f.expr {
            Expr::Wildcard(_) | Expr::Regex(_) => {
                let (ty, re) = match &f.expr {
                    Expr::Wildcard(ty) => (*ty, None),
                    Expr::Regex(re) => (None, Some(Regex::new(re).map_err(|e| e.to_string())?)),
                    _ => (None, None),
                };
                let mut names: Vec<(String, DataType)> = Vec::new();
                if !matches!(ty, Some(DataType::Tag)) {
                    names.extend(types.keys().map(|k| (k.clone(), DataType::AnyField)));
                }
                if !matches!(ty, Some(DataType::AnyField)) {
                    names.extend(tag_keys.iter().map(|k| (k.clone(), DataType::Tag)));
                }
                names.retain(|(n, _)| re.as_ref().is_none_or(|re| re.is_match(n)));
                names.sort_by(|a, b| a.0.cmp(&b.0));
                out.extend(
                    names
                        .into_iter()
                        .map(|(name, ty)| Field { expr: Expr::VarRef { name, ty: Some(ty) }, alias: None }),
                );
            }
            Expr::Call { name, args } if matches!(args.first(), Some(Expr::Wildcard(_) | Expr::Regex(_))) => {
                let re = match &args[0] {
                    Expr::Regex(re) => Some(Regex::new(re).map_err(|e| e.to_string())?),
                    _ => None,
                };
                let base = f.alias.clone().unwrap_or_else(|| name.clone());
                for (field, t) in types {
                    if re.as_ref().is_some_and(|re| !re.is_match(field)) || !takes_type(name, *t) {
                        continue;
                    }
                    out.push(Field {
                        expr: Expr::Call {
                            name: name.clone(),
                            args: std::iter::once(Expr::VarRef { name: field.clone(), ty: None })
                                .chain(args.iter().skip(1).cloned())
                                .collect(),
                        },
                        alias: Some(format!("{base}_{field}")),
                    });
                }
            }
            _ => out.push(f.clone()),
        }
    }
    Ok(out)
}

/// Whether a function's wildcard takes fields of a type: numbers for most;
/// booleans too for min and max; every type for count, first, last,
/// distinct, elapsed, mode and sample; floats and integers for holt_winters.
fn takes_type(function: &str, t: storage::FieldType) -> bool {
    use storage::FieldType as T;
    match (function, t) {
        (_, T::Float | T::Integer) => true,
        ("holt_winters" | "holt_winters_with_fit", _) => false,
        (_, T::UInteger) => true,
        ("count" | "first" | "last" | "distinct" | "elapsed" | "mode" | "sample", _) => true,
        ("min" | "max", T::Boolean) => true,
        _ => false,
    }
}

/// The fields an expression reads, in order of appearance.
fn collect_fields(e: &Expr, types: &BTreeMap<String, storage::FieldType>, out: &mut Vec<String>) {
    match e {
        Expr::VarRef { name, ty }
            if !matches!(ty, Some(DataType::Tag)) && types.contains_key(name) && !out.contains(name) =>
        {
            out.push(name.clone());
        }
        Expr::Call { args, .. } => args.iter().for_each(|a| collect_fields(a, types, out)),
        Expr::Binary { lhs, rhs, .. } => {
            collect_fields(lhs, types, out);
            collect_fields(rhs, types, out);
        }
        Expr::Paren(e) => collect_fields(e, types, out),
        Expr::Distinct(name) if types.contains_key(name) && !out.contains(name) => out.push(name.clone()),
        _ => {}
    }
}

/// Whether an expression aggregates (a call other than a math function or transformation, at any depth).
fn has_call(e: &Expr) -> bool {
    match e {
        Expr::Call { name, args } if is_math(name) || is_transformation(name) => args.iter().any(has_call),
        Expr::Call { .. } | Expr::Distinct(_) => true,
        Expr::Binary { lhs, rhs, .. } => has_call(lhs) || has_call(rhs),
        Expr::Paren(e) => has_call(e),
        _ => false,
    }
}

/// A field's transformation (name and arguments) and the expression it transforms.
fn split_transform(f: &Field) -> (Option<(String, Vec<Expr>)>, Field) {
    match &f.expr {
        Expr::Call { name, args } if is_transformation(name) && !args.is_empty() => (
            Some((name.clone(), args.clone())),
            Field { expr: args[0].clone(), alias: Some(f.alias.clone().unwrap_or_else(|| name.clone())) },
        ),
        _ => (None, f.clone()),
    }
}

/// Applies the fields' transformations to rows in time order: each
/// transformed column becomes its transformation's output, and rows are the
/// times any transformation gave a value at.
fn apply_transforms(
    rows: Vec<WindowRow>,
    transforms: &[Option<(String, Vec<Expr>)>],
    every: Option<i64>,
) -> Run<Vec<WindowRow>> {
    let mut outputs: Vec<Option<BTreeMap<i64, V>>> = Vec::with_capacity(transforms.len());
    for (i, t) in transforms.iter().enumerate() {
        outputs.push(match t {
            None => None,
            Some((name, args)) => {
                let seq: Vec<(i64, V)> = rows.iter().filter_map(|(t, v)| v[i].clone().map(|v| (*t, v))).collect();
                Some(crate::transform::transform(name, args, &seq, every)?.into_iter().collect())
            }
        });
    }
    let mut times: BTreeSet<i64> = BTreeSet::new();
    for o in outputs.iter().flatten() {
        times.extend(o.keys().copied());
    }
    let by_time: BTreeMap<i64, &Vec<Option<V>>> = rows.iter().map(|(t, v)| (*t, v)).collect();
    Ok(times
        .into_iter()
        .map(|t| {
            let values = outputs
                .iter()
                .enumerate()
                .map(|(i, o)| match o {
                    Some(map) => map.get(&t).cloned(),
                    None => by_time.get(&t).and_then(|v| v[i].clone()),
                })
                .collect();
            (t, values)
        })
        .collect())
}

/// Output column names: the alias, else the call's or reference's name;
/// repeats get `_1`, `_2`.
fn column_names(fields: &[Field]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |base: String, out: &mut Vec<String>| {
        let mut name = base.clone();
        let mut n = 1;
        while out.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        out.push(name);
    };
    for f in fields {
        push(f.alias.clone().unwrap_or_else(|| expr_name(&f.expr)), &mut out);
        // top(field, tag, ..., n) and bottom answer each tag argument in a column of its own.
        if let Expr::Call { name, args } = &f.expr
            && matches!(name.as_str(), "top" | "bottom")
            && args.len() > 2
        {
            for a in &args[1..args.len() - 1] {
                if let Expr::VarRef { name, .. } = a {
                    push(name.clone(), &mut out);
                }
            }
        }
    }
    out
}

/// A field's column name as InfluxQL gives it: a reference's or call's
/// name; for an operation, the names of the references and calls in it,
/// joined by `_` (`max(a) - min(a)` is `max_min`).
fn expr_name(e: &Expr) -> String {
    fn names<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
        match e {
            Expr::VarRef { name, .. } | Expr::Call { name, .. } => out.push(name),
            Expr::Distinct(_) => out.push("distinct"),
            Expr::Binary { lhs, rhs, .. } => {
                names(lhs, out);
                names(rhs, out);
            }
            Expr::Paren(e) => names(e, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    names(e, &mut out);
    out.join("_")
}

/// GROUP BY: the tag keys to group by, and `time(every, offset)` if any.
/// `time(every, offset)`, offset within `[0, every)`.
type Interval = Option<(i64, i64)>;

fn dimensions(dims: &[Expr], tag_keys: &[String]) -> Run<(Vec<String>, Interval)> {
    let mut tags: Vec<String> = Vec::new();
    let mut interval = None;
    for d in dims {
        match d {
            Expr::Call { name, args } if name == "time" => {
                let every = match args.first() {
                    Some(Expr::Duration(d)) if *d > 0 => *d,
                    _ => return Err("time dimension must have duration argument".into()),
                };
                let offset = match args.get(1) {
                    Some(Expr::Duration(d)) => *d,
                    None => 0,
                    _ => return Err("time dimension offset must be duration or now()".into()),
                };
                interval = Some((every, offset.rem_euclid(every)));
            }
            Expr::VarRef { name, .. } => tags.push(name.clone()),
            Expr::Wildcard(_) => tags.extend(tag_keys.iter().cloned()),
            Expr::Regex(re) => {
                let re = Regex::new(re).map_err(|e| e.to_string())?;
                tags.extend(tag_keys.iter().filter(|k| re.is_match(k)).cloned());
            }
            _ => return Err("only time() calls allowed in dimensions".into()),
        }
    }
    tags.sort();
    tags.dedup();
    Ok((tags, interval))
}

/// One field of one series as storage gives it: times and values.
type FieldPart = (Vec<i64>, ArrayRef);

/// One series' fields aligned on the union of their times.
struct SeriesData {
    times: Vec<i64>,
    /// Per field read: its values and, when its times differ from the union's,
    /// the value index of each row (`u32::MAX`: none).
    cols: Vec<Option<(ArrayRef, Option<Vec<u32>>)>>,
}

impl SeriesData {
    fn align(parts: Vec<Option<FieldPart>>) -> SeriesData {
        let present: Vec<&Vec<i64>> = parts.iter().flatten().map(|(t, _)| t).collect();
        let same = present.windows(2).all(|w| w[0] == w[1]);
        let times: Vec<i64> = if same {
            present.first().map(|t| (*t).clone()).unwrap_or_default()
        } else {
            let mut all: Vec<i64> = present.iter().flat_map(|t| t.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            all
        };
        let cols = parts
            .into_iter()
            .map(|p| {
                p.map(|(t, values)| {
                    if t == times {
                        return (values, None);
                    }
                    let mut index = vec![u32::MAX; times.len()];
                    let mut j = 0;
                    for (k, &ti) in t.iter().enumerate() {
                        while times[j] < ti {
                            j += 1;
                        }
                        index[j] = k as u32;
                    }
                    (values, Some(index))
                })
            })
            .collect();
        SeriesData { times, cols }
    }

    /// The value index of field `f` at row `r`.
    fn at(&self, f: usize, r: usize) -> Option<(&ArrayRef, usize)> {
        let (values, index) = self.cols.get(f)?.as_ref()?;
        let i = match index {
            None => r,
            Some(ix) => match ix[r] {
                u32::MAX => return None,
                i => i as usize,
            },
        };
        (!values.is_null(i)).then_some((values, i))
    }

    fn present(&self, f: usize, r: usize) -> bool {
        self.at(f, r).is_some()
    }

    fn cell(&self, f: usize, r: usize) -> Option<V> {
        let (values, i) = self.at(f, r)?;
        value_at(values, i)
    }

    /// A field's value at a row, else the series' tag of that name.
    fn lookup(&self, name: &str, r: usize, all: &[String], s: &SeriesKey) -> Option<V> {
        match all.iter().position(|f| f == name) {
            Some(f) => self.cell(f, r),
            None => s.tag(name).map(|v| V::S(v.to_owned())),
        }
    }
}

/// The value of an expression on one point, reading names through `get` (`None`: null).
fn eval_with(e: &Expr, get: &dyn Fn(&str) -> Option<V>) -> Option<V> {
    match e {
        Expr::VarRef { name, ty: Some(DataType::Tag) } => get(name).filter(|v| matches!(v, V::S(_))),
        Expr::VarRef { name, .. } => get(name),
        Expr::Number(x) => Some(V::F(*x)),
        Expr::Integer(x) => Some(V::I(*x)),
        Expr::Unsigned(x) => Some(V::U(*x)),
        Expr::String(x) => Some(V::S(x.clone())),
        Expr::Boolean(x) => Some(V::B(*x)),
        Expr::Paren(e) => eval_with(e, get),
        Expr::Binary { op, lhs, rhs } => binary(*op, eval_with(lhs, get), rhs, |e| eval_with(e, get)),
        Expr::Call { name, args } if is_math(name) => {
            let values: Vec<Option<V>> = args.iter().map(|a| eval_with(a, get)).collect();
            crate::transform::math(name, &values)
        }
        _ => None,
    }
}

fn truthy(v: &Option<V>) -> bool {
    matches!(v, Some(V::B(true)))
}

/// A binary operation; the right side is evaluated by `eval` unless it is a regex.
fn binary(op: Token, l: Option<V>, rhs: &Expr, eval: impl Fn(&Expr) -> Option<V>) -> Option<V> {
    if let Expr::Regex(re) = rhs {
        let re = Regex::new(re).ok()?;
        let s = match &l {
            Some(V::S(s)) => s.as_str(),
            None => "",
            _ => return Some(V::B(false)),
        };
        return match op {
            Token::EqRegex => Some(V::B(re.is_match(s))),
            Token::NeqRegex => Some(V::B(!re.is_match(s))),
            _ => None,
        };
    }
    let r = eval(rhs);
    match op {
        Token::And => Some(V::B(truthy(&l) && truthy(&r))),
        Token::Or => Some(V::B(truthy(&l) || truthy(&r))),
        Token::Eq | Token::Neq | Token::Lt | Token::Lte | Token::Gt | Token::Gte => {
            let (l, r) = (l?, r?);
            let o = l.cmp(&r)?;
            Some(V::B(match op {
                Token::Eq => o.is_eq(),
                Token::Neq => o.is_ne(),
                Token::Lt => o.is_lt(),
                Token::Lte => o.is_le(),
                Token::Gt => o.is_gt(),
                _ => o.is_ge(),
            }))
        }
        Token::Add
        | Token::Sub
        | Token::Mul
        | Token::Div
        | Token::Mod
        | Token::BitAnd
        | Token::BitOr
        | Token::BitXor => arith(op, l?, r?),
        _ => None,
    }
}

fn arith(op: Token, l: V, r: V) -> Option<V> {
    if matches!(op, Token::BitAnd | Token::BitOr | Token::BitXor) {
        // Bitwise operators take integers, unsigned integers or booleans alike.
        return match (l, r) {
            (V::I(a), V::I(b)) => Some(V::I(bits(op, a as u64, b as u64) as i64)),
            (V::U(a), V::U(b)) => Some(V::U(bits(op, a, b))),
            (V::B(a), V::B(b)) => Some(V::B(bits(op, u64::from(a), u64::from(b)) != 0)),
            _ => None,
        };
    }
    match (&l, &r) {
        (V::I(a), V::I(b)) if op != Token::Div => Some(V::I(match op {
            Token::Add => a.wrapping_add(*b),
            Token::Sub => a.wrapping_sub(*b),
            Token::Mul => a.wrapping_mul(*b),
            _ => {
                if *b == 0 {
                    return Some(V::I(0));
                }
                a % b
            }
        })),
        _ => {
            let (a, b) = (l.num()?, r.num()?);
            Some(V::F(match op {
                Token::Add => a + b,
                Token::Sub => a - b,
                Token::Mul => a * b,
                Token::Div => {
                    if b == 0.0 {
                        0.0
                    } else {
                        a / b
                    }
                }
                _ => a % b,
            }))
        }
    }
}

fn bits(op: Token, a: u64, b: u64) -> u64 {
    match op {
        Token::BitAnd => a & b,
        Token::BitOr => a | b,
        _ => a ^ b,
    }
}

/// Aggregated rows: one per window (one window without GROUP BY time).
fn aggregate_rows(
    fields: &[Field],
    all: &[String],
    rows: &[Row],
    series: &[SeriesKey],
    range: &TimeRange,
    interval: Option<(i64, i64)>,
    now: i64,
) -> Run<Vec<WindowRow>> {
    // A lone selector gives its point's time when windows do not.
    let calls: Vec<&Expr> = fields.iter().flat_map(|f| calls_in(&f.expr)).collect();
    let lone_selector = calls.len() == 1 && is_selector(calls[0]);
    let windows = windows_for(range, interval, rows.first().map(|r| r.time), now);
    if let Some(multi) = multi_row(fields) {
        return multi_rows(multi, fields, all, rows, series, &windows, interval.is_some(), range);
    }
    let mut out: Vec<(i64, Vec<Option<V>>)> = Vec::new();
    let mut at = 0;
    for (ws, we) in windows {
        let from = at;
        while at < rows.len() && rows[at].time < we {
            at += 1;
        }
        // Rows before the first window (an offset) are skipped by starting at the bound.
        let in_window: Vec<&Row> = rows[from..at].iter().filter(|r| r.time >= ws).collect();
        let mut time = if interval.is_some() { ws } else { range.min.unwrap_or(0) };
        let mut values = Vec::with_capacity(fields.len());
        let mut selected: Option<(i64, usize)> = None;
        for (k, f) in fields.iter().enumerate() {
            let (v, t) = eval_agg(&f.expr, &in_window, all)?;
            if let Some(t) = t {
                selected.get_or_insert((t, k));
                if lone_selector && interval.is_none() {
                    time = t;
                }
            }
            values.push(v);
        }
        // Tags beside a lone selector are those of the series of the point it picked.
        if lone_selector && let Some((t, k)) = selected {
            let field = calls_in(&fields[k].expr).first().and_then(|c| match c {
                Expr::Call { args, .. } => match args.first() {
                    Some(Expr::VarRef { name, .. }) => all.iter().position(|a| a == name),
                    _ => None,
                },
                _ => None,
            });
            let picked = in_window.iter().find(|r| r.time == t && field.is_some_and(|f| r.values[f] == values[k]));
            if let Some(row) = picked {
                for (j, f) in fields.iter().enumerate() {
                    if let Expr::VarRef { name, .. } = &f.expr
                        && !all.contains(name)
                    {
                        values[j] = series[row.series].tag(name).map(|v| V::S(v.to_owned()));
                    }
                }
            }
        }
        out.push((time, values));
    }
    Ok(out)
}

/// A call that answers with several rows per window (top, bottom, distinct), when a query's first field is one.
fn multi_row(fields: &[Field]) -> Option<&Expr> {
    match &fields.first()?.expr {
        e @ Expr::Call { name, .. } if matches!(name.as_str(), "top" | "bottom" | "distinct" | "sample") => Some(e),
        e @ Expr::Distinct(_) => Some(e),
        _ => None,
    }
}

/// top(field, [tag, ...,] n), bottom(...), distinct(field), sample(field, n):
/// per window, the points (or values) they pick, in time order; tag arguments
/// and tag fields beside them come from each picked point's series.
#[allow(clippy::too_many_arguments)]
fn multi_rows(
    call: &Expr,
    fields: &[Field],
    all: &[String],
    rows: &[Row],
    series: &[SeriesKey],
    windows: &[(i64, i64)],
    windowed: bool,
    range: &TimeRange,
) -> Run<Vec<WindowRow>> {
    let (name, args): (&str, Vec<Expr>) = match call {
        Expr::Call { name, args } => (name.as_str(), args.clone()),
        Expr::Distinct(f) => ("distinct", vec![Expr::VarRef { name: f.clone(), ty: None }]),
        _ => return Ok(Vec::new()),
    };
    let field = match args.first() {
        Some(Expr::VarRef { name, .. }) => name.clone(),
        _ => {
            return Err(format!(
                "expected first argument to be a field in {name}(), found {}",
                args.first().map_or(String::new(), |a| format!("{a:?}"))
            ));
        }
    };
    let sample_size = if name == "sample" {
        if args.len() != 2 {
            return Err(format!("invalid number of arguments for sample, expected 2, got {}", args.len()));
        }
        match args[1] {
            Expr::Integer(n) if n > 0 => n as usize,
            Expr::Integer(n) => return Err(format!("sample window must be greater than 1, got {n}")),
            _ => return Err("expected integer argument in sample()".into()),
        }
    } else {
        0
    };
    let Some(fi) = all.iter().position(|f| *f == field) else { return Ok(Vec::new()) };
    let mut rng = rand::rng();
    let mut out = Vec::new();
    for &(ws, we) in windows {
        let points: Vec<&Row> = rows.iter().filter(|r| r.time >= ws && r.time < we && r.values[fi].is_some()).collect();
        let mut picked: Vec<(&Row, i64)> = Vec::new();
        match name {
            "distinct" => {
                let mut seen: Vec<&V> = Vec::new();
                for r in &points {
                    let v = r.values[fi].as_ref().expect("filtered");
                    if !seen.contains(&v) {
                        seen.push(v);
                        picked.push((r, if windowed { ws } else { range.min.unwrap_or(0) }));
                    }
                }
            }
            "sample" => {
                // A reservoir: the first n points, then each later point
                // replaces a random one with probability n / (points so far).
                let mut reservoir: Vec<&Row> = Vec::with_capacity(sample_size);
                for (seen, r) in points.iter().enumerate() {
                    if reservoir.len() < sample_size {
                        reservoir.push(r);
                    } else {
                        let slot = rand::Rng::random_range(&mut rng, 0..=seen);
                        if slot < sample_size {
                            reservoir[slot] = r;
                        }
                    }
                }
                reservoir.sort_by_key(|r| (r.time, r.series));
                picked = reservoir.into_iter().map(|r| (r, r.time)).collect();
            }
            _ => {
                let n = match args.last() {
                    Some(Expr::Integer(n)) if *n > 0 => *n as usize,
                    _ => return Err(format!("expected integer as last argument in {name}()")),
                };
                let tags: Vec<String> = args[1..args.len() - 1]
                    .iter()
                    .filter_map(|a| match a {
                        Expr::VarRef { name, .. } => Some(name.clone()),
                        _ => None,
                    })
                    .collect();
                let better = |a: &V, b: &V| match a.cmp(b) {
                    Some(o) if name == "top" => o.is_gt(),
                    Some(o) => o.is_lt(),
                    None => false,
                };
                // With tag arguments, the best point of each tag combination competes.
                let mut candidates: Vec<&Row> = Vec::new();
                if tags.is_empty() {
                    candidates = points.clone();
                } else {
                    let mut best: Vec<(Vec<String>, &Row)> = Vec::new();
                    for r in &points {
                        let key: Vec<String> =
                            tags.iter().map(|t| series[r.series].tag(t).unwrap_or("").to_owned()).collect();
                        match best.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => {
                                if better(
                                    r.values[fi].as_ref().expect("filtered"),
                                    slot.1.values[fi].as_ref().expect("kept"),
                                ) {
                                    slot.1 = r;
                                }
                            }
                            None => best.push((key, r)),
                        }
                    }
                    candidates.extend(best.into_iter().map(|(_, r)| r));
                }
                candidates.sort_by(|a, b| {
                    let (va, vb) = (a.values[fi].as_ref().expect("filtered"), b.values[fi].as_ref().expect("filtered"));
                    let o = if name == "top" { vb.cmp(va) } else { va.cmp(vb) };
                    o.unwrap_or(std::cmp::Ordering::Equal).then(a.time.cmp(&b.time))
                });
                candidates.truncate(n);
                candidates.sort_by_key(|r| (r.time, r.series));
                picked = candidates.into_iter().map(|r| (r, r.time)).collect();
            }
        }
        for (r, time) in picked {
            let mut values = Vec::with_capacity(fields.len());
            values.push(r.values[fi].clone());
            for a in args.iter().skip(1) {
                if let Expr::VarRef { name, .. } = a {
                    values.push(series[r.series].tag(name).map(|v| V::S(v.to_owned())));
                }
            }
            for f in &fields[1..] {
                values.push(match &f.expr {
                    Expr::VarRef { name, .. } => match all.iter().position(|a| a == name) {
                        Some(j) => r.values[j].clone(),
                        None => series[r.series].tag(name).map(|v| V::S(v.to_owned())),
                    },
                    _ => None,
                });
            }
            out.push((time, values));
        }
    }
    Ok(out)
}

/// The windows of a query: `GROUP BY time` windows from the range's start (or
/// the first point) through its end (or now); one window without.
fn windows_for(range: &TimeRange, interval: Interval, first: Option<i64>, now: i64) -> Vec<(i64, i64)> {
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

/// Fills empty windows as the query says and writes the rows as JSON.
fn finish(stmt: &SelectStatement, interval: Interval, mut out: Vec<(i64, Vec<Option<V>>)>, n: usize) -> Vec<Vec<Json>> {
    let n = out.first().map_or(n, |r| r.1.len());
    match &stmt.fill {
        Fill::None => out.retain(|(_, v)| v.iter().any(Option::is_some)),
        Fill::Null => {
            if interval.is_none() {
                out.retain(|(_, v)| v.iter().any(Option::is_some));
            }
        }
        Fill::Number(x) => fill_with(&mut out, &V::F(*x)),
        Fill::Integer(x) => fill_with(&mut out, &V::I(*x)),
        Fill::Previous => {
            let mut last: Vec<Option<V>> = vec![None; n];
            for (_, v) in &mut out {
                for (i, cell) in v.iter_mut().enumerate() {
                    match cell {
                        Some(x) => last[i] = Some(x.clone()),
                        None => *cell = last[i].clone(),
                    }
                }
            }
        }
        Fill::Linear => {
            for i in 0..n {
                let known: Vec<(usize, f64)> = out
                    .iter()
                    .enumerate()
                    .filter_map(|(j, (_, v))| v[i].as_ref().and_then(V::num).map(|x| (j, x)))
                    .collect();
                for w in known.windows(2) {
                    let ((a, x), (b, y)) = (w[0], w[1]);
                    for (j, row) in out.iter_mut().enumerate().take(b).skip(a + 1) {
                        let v = x + (y - x) * (j - a) as f64 / (b - a) as f64;
                        row.1[i] = Some(V::F(v));
                    }
                }
            }
        }
    }
    if interval.is_none() && out.iter().all(|(_, v)| v.iter().all(Option::is_none)) {
        return Vec::new();
    }
    out.into_iter()
        .map(|(t, v)| {
            std::iter::once(Json::from(format_time(t)))
                .chain(v.into_iter().map(|x| x.map_or(Json::Null, |x| x.json())))
                .collect()
        })
        .collect()
}

/// An aggregate storage computes per series and window.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pushed {
    Count,
    Sum,
    Mean,
    Min,
    Max,
    First,
    Last,
}

/// Each output field as a pushed aggregate of one field, when all of them are.
fn pushable(fields: &[Field], types: &BTreeMap<String, storage::FieldType>) -> Option<Vec<(Pushed, String)>> {
    fields
        .iter()
        .map(|f| {
            let Expr::Call { name, args } = &f.expr else { return None };
            let [Expr::VarRef { name: field, ty: None | Some(DataType::AnyField) }] = args.as_slice() else {
                return None;
            };
            let ty = types.get(field)?;
            let numeric =
                matches!(ty, storage::FieldType::Float | storage::FieldType::Integer | storage::FieldType::UInteger);
            let agg = match name.as_str() {
                "count" => Pushed::Count,
                "sum" if numeric => Pushed::Sum,
                "mean" if numeric => Pushed::Mean,
                "min" if numeric => Pushed::Min,
                "max" if numeric => Pushed::Max,
                "first" => Pushed::First,
                "last" => Pushed::Last,
                _ => return None,
            };
            Some((agg, field.clone()))
        })
        .collect()
}

/// A group's tag values, by GROUP BY key.
type GroupKey = Vec<(String, String)>;

/// A window's time and each output field's value.
type WindowRow = (i64, Vec<Option<V>>);

/// A window's value of one pushed aggregate across a group's series: the
/// value, and the time of the point a selector picked.
type Windowed = BTreeMap<i64, (V, i64)>;

/// Runs the plan's aggregates as storage window aggregates and combines each
/// group's series per window: the rows of each group.
#[allow(clippy::too_many_arguments)]
fn pushdown(
    storage: &dyn storage::ReadApi,
    scan: &ScanRequest,
    plan: &[(Pushed, String)],
    group_tags: &[String],
    range: &TimeRange,
    interval: Interval,
    now: i64,
) -> Run<BTreeMap<GroupKey, Vec<WindowRow>>> {
    // Without GROUP BY time, one window spanning the range.
    let (every, offset) = match interval {
        Some(i) => i,
        None => {
            let lo = range.min.unwrap_or(i64::MIN / 4);
            let hi = range.max.map_or(i64::MAX / 4, |m| m.saturating_add(1));
            let every = hi.saturating_sub(lo).max(1);
            (every, lo.rem_euclid(every))
        }
    };
    // Each (aggregate, field) storage must compute once.
    let mut requests: Vec<(storage::Aggregate, String)> = Vec::new();
    for (p, field) in plan {
        let aggs: &[storage::Aggregate] = match p {
            Pushed::Count => &[storage::Aggregate::Count],
            Pushed::Sum => &[storage::Aggregate::Sum],
            Pushed::Mean => &[storage::Aggregate::Sum, storage::Aggregate::Count],
            Pushed::Min => &[storage::Aggregate::Min],
            Pushed::Max => &[storage::Aggregate::Max],
            Pushed::First => &[storage::Aggregate::First],
            Pushed::Last => &[storage::Aggregate::Last],
        };
        for a in aggs {
            if !requests.iter().any(|(x, f)| x == a && f == field) {
                requests.push((*a, field.clone()));
            }
        }
    }
    let mut results: Vec<BTreeMap<Vec<(String, String)>, Windowed>> = vec![BTreeMap::new(); requests.len()];
    let mut first_time: Option<i64> = None;
    // Unbounded reads cover (almost) all time, within what window arithmetic allows.
    let mut scan = scan.clone();
    scan.start = scan.start.max(i64::MIN / 4);
    scan.stop = scan.stop.min(i64::MAX / 4);
    // One storage read per aggregate, for all the fields that want it.
    let mut kinds: Vec<storage::Aggregate> = Vec::new();
    for (a, _) in &requests {
        if !kinds.contains(a) {
            kinds.push(*a);
        }
    }
    for agg in kinds {
        let mut req = scan.clone();
        req.fields = Some(requests.iter().filter(|(a, _)| *a == agg).map(|(_, f)| f.clone()).collect());
        let per_series = storage
            .window_aggregate(&storage::WindowRequest { scan: req, every, offset, aggregate: agg, create_empty: false })
            .map_err(|e| e.to_string())?;
        for fs in per_series {
            let Some(slot) = requests.iter().position(|(a, f)| *a == agg && *f == fs.field) else { continue };
            let by_group = &mut results[slot];
            let key: Vec<(String, String)> =
                group_tags.iter().map(|k| (k.clone(), fs.series.tag(k).unwrap_or("").to_owned())).collect();
            let starts =
                fs.batch.column(0).as_any().downcast_ref::<TimestampNanosecondArray>().ok_or("window starts")?;
            let times = fs.batch.column(2).as_any().downcast_ref::<TimestampNanosecondArray>().ok_or("window times")?;
            let values = values_at(fs.batch.column(3))?;
            let windows = by_group.entry(key).or_default();
            for (i, v) in values.into_iter().enumerate() {
                let Some(v) = v else { continue };
                let ws = (starts.value(i) - offset).div_euclid(every) * every + offset;
                let t = times.value(i);
                first_time = Some(first_time.map_or(ws, |f: i64| f.min(ws)));
                match windows.get_mut(&ws) {
                    None => {
                        windows.insert(ws, (v, t));
                    }
                    Some(have) => combine(agg, have, v, t),
                }
            }
        }
    }
    let windows = windows_for(range, interval, first_time, now);
    let lone_selector =
        plan.len() == 1 && matches!(plan[0].0, Pushed::Min | Pushed::Max | Pushed::First | Pushed::Last);
    let mut groups: BTreeSet<Vec<(String, String)>> = BTreeSet::new();
    for r in &results {
        groups.extend(r.keys().cloned());
    }
    let find = |agg: storage::Aggregate, field: &str| requests.iter().position(|(a, f)| *a == agg && f == field);
    let mut out = BTreeMap::new();
    for key in groups {
        let mut rows = Vec::with_capacity(windows.len());
        for &(ws, _) in &windows {
            let mut time = if interval.is_some() { ws } else { range.min.unwrap_or(0) };
            let lookup_ws = if interval.is_some() {
                ws
            } else {
                (range.min.unwrap_or(i64::MIN / 4) - offset).div_euclid(every) * every + offset
            };
            let get = |agg: storage::Aggregate, field: &str| {
                find(agg, field).and_then(|i| results[i].get(&key)).and_then(|w| w.get(&lookup_ws)).cloned()
            };
            let mut values = Vec::with_capacity(plan.len());
            for (p, field) in plan {
                let v = match p {
                    Pushed::Count => get(storage::Aggregate::Count, field).map(|(v, _)| v),
                    Pushed::Sum => get(storage::Aggregate::Sum, field).map(|(v, _)| v),
                    Pushed::Mean => {
                        match (get(storage::Aggregate::Sum, field), get(storage::Aggregate::Count, field)) {
                            (Some((s, _)), Some((c, _))) => match (s.num(), c.num()) {
                                (Some(s), Some(c)) if c > 0.0 => Some(V::F(s / c)),
                                _ => None,
                            },
                            _ => None,
                        }
                    }
                    selector => {
                        let agg = match selector {
                            Pushed::Min => storage::Aggregate::Min,
                            Pushed::Max => storage::Aggregate::Max,
                            Pushed::First => storage::Aggregate::First,
                            _ => storage::Aggregate::Last,
                        };
                        get(agg, field).map(|(v, t)| {
                            if lone_selector && interval.is_none() {
                                time = t;
                            }
                            v
                        })
                    }
                };
                values.push(v);
            }
            rows.push((time, values));
        }
        out.insert(key, rows);
    }
    Ok(out)
}

/// Between points of equal time, which `first` and `last` select: the
/// greater value, except that `first` prefers false to true.
fn tie_wins(v: &V, over: &V, first: bool) -> bool {
    match (v, over) {
        (V::B(a), V::B(b)) => {
            if first {
                !a && *b
            } else {
                *a && !b
            }
        }
        _ => v.cmp(over).is_some_and(std::cmp::Ordering::is_gt),
    }
}

/// Folds one series' window value into the group's.
fn combine(agg: storage::Aggregate, have: &mut (V, i64), v: V, t: i64) {
    use storage::Aggregate as A;
    match agg {
        A::Count | A::Sum => {
            have.0 = match (&have.0, &v) {
                (V::I(a), V::I(b)) => V::I(a.wrapping_add(*b)),
                (V::U(a), V::U(b)) => V::U(a.wrapping_add(*b)),
                _ => V::F(have.0.num().unwrap_or(0.0) + v.num().unwrap_or(0.0)),
            }
        }
        A::Min | A::Max => {
            let better = match v.cmp(&have.0) {
                Some(o) if agg == A::Max => o.is_gt() || (o.is_eq() && t < have.1),
                Some(o) => o.is_lt() || (o.is_eq() && t < have.1),
                None => false,
            };
            if better {
                *have = (v, t);
            }
        }
        A::First => {
            if t < have.1 || (t == have.1 && tie_wins(&v, &have.0, true)) {
                *have = (v, t);
            }
        }
        A::Last => {
            if t > have.1 || (t == have.1 && tie_wins(&v, &have.0, false)) {
                *have = (v, t);
            }
        }
        A::Mean => {}
    }
}

/// An array's values, nulls as `None`.
fn values_at(col: &arrow::array::ArrayRef) -> Run<Vec<Option<V>>> {
    let any = col.as_any();
    let get = |i: usize| -> Run<V> {
        Ok(if let Some(a) = any.downcast_ref::<Float64Array>() {
            V::F(a.value(i))
        } else if let Some(a) = any.downcast_ref::<Int64Array>() {
            V::I(a.value(i))
        } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
            V::U(a.value(i))
        } else if let Some(a) = any.downcast_ref::<StringArray>() {
            V::S(a.value(i).to_owned())
        } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
            V::B(a.value(i))
        } else {
            return Err(format!("unsupported field type {}", col.data_type()));
        })
    };
    (0..col.len()).map(|i| if col.is_null(i) { Ok(None) } else { get(i).map(Some) }).collect()
}

fn fill_with(out: &mut [(i64, Vec<Option<V>>)], v: &V) {
    for (_, row) in out {
        for cell in row.iter_mut() {
            if cell.is_none() {
                *cell = Some(v.clone());
            }
        }
    }
}

fn calls_in(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Call { .. } => vec![e],
        Expr::Binary { lhs, rhs, .. } => {
            let mut v = calls_in(lhs);
            v.extend(calls_in(rhs));
            v
        }
        Expr::Paren(e) => calls_in(e),
        _ => Vec::new(),
    }
}

fn is_selector(e: &Expr) -> bool {
    matches!(e, Expr::Call { name, .. } if matches!(name.as_str(), "first" | "last" | "min" | "max" | "percentile" | "sample" | "top" | "bottom"))
}

/// An aggregate expression over a window's rows: its value, and the time of a selected point.
fn eval_agg(e: &Expr, rows: &[&Row], all: &[String]) -> Run<(Option<V>, Option<i64>)> {
    match e {
        Expr::Call { name, args } if is_math(name) => {
            let mut values = Vec::with_capacity(args.len());
            let mut time = None;
            for a in args {
                let (v, t) = eval_agg(a, rows, all)?;
                time = time.or(t);
                values.push(v);
            }
            Ok((crate::transform::math(name, &values), time))
        }
        Expr::Call { name, args } => {
            let field = match args.first() {
                Some(Expr::VarRef { name, .. }) => name,
                // count(distinct(field)), count(DISTINCT field)
                Some(Expr::Call { name: inner, args: inner_args }) if name == "count" && inner == "distinct" => {
                    match inner_args.first() {
                        Some(Expr::VarRef { name, .. }) => name,
                        _ => return Err("expected field argument in distinct()".into()),
                    }
                }
                Some(Expr::Distinct(f)) if name == "count" => f,
                _ => return Err(format!("expected field argument in {name}()")),
            };
            let Some(fi) = all.iter().position(|f| f == field) else { return Ok((None, None)) };
            let vals: Vec<(i64, &V)> = rows.iter().filter_map(|r| r.values[fi].as_ref().map(|v| (r.time, v))).collect();
            aggregate(name, args, &vals)
        }
        Expr::Paren(e) => eval_agg(e, rows, all),
        Expr::Binary { op, lhs, rhs } => {
            let (l, lt) = eval_agg(lhs, rows, all)?;
            let (r, rt) = eval_agg(rhs, rows, all)?;
            Ok((l.and_then(|l| r.and_then(|r| arith(*op, l, r))), lt.or(rt)))
        }
        Expr::Number(x) => Ok((Some(V::F(*x)), None)),
        Expr::Integer(x) => Ok((Some(V::I(*x)), None)),
        _ => Ok((None, None)),
    }
}

/// A value as `count(distinct())` tells values apart (floats by their bits).
#[derive(PartialEq, Eq, Hash)]
enum Distinct<'a> {
    F(u64),
    I(i64),
    U(u64),
    S(&'a str),
    B(bool),
}

impl<'a> Distinct<'a> {
    fn of(v: &'a V) -> Self {
        match v {
            V::F(x) => Distinct::F(if *x == 0.0 { 0 } else { x.to_bits() }),
            V::I(x) => Distinct::I(*x),
            V::U(x) => Distinct::U(*x),
            V::S(s) => Distinct::S(s),
            V::B(b) => Distinct::B(*b),
        }
    }
}

fn aggregate(name: &str, args: &[Expr], vals: &[(i64, &V)]) -> Run<(Option<V>, Option<i64>)> {
    let nums = || vals.iter().filter_map(|(_, v)| v.num()).collect::<Vec<f64>>();
    if vals.is_empty() {
        return Ok((None, None));
    }
    Ok(match name {
        "count" if matches!(args.first(), Some(Expr::Call { .. } | Expr::Distinct(_))) => {
            let distinct: std::collections::HashSet<Distinct<'_>> = vals.iter().map(|(_, v)| Distinct::of(v)).collect();
            (Some(V::I(distinct.len() as i64)), None)
        }
        "count" => (Some(V::I(vals.len() as i64)), None),
        "sum" => {
            if vals.iter().all(|(_, v)| matches!(v, V::I(_))) {
                (Some(V::I(vals.iter().map(|(_, v)| if let V::I(x) = v { *x } else { 0 }).sum())), None)
            } else {
                (Some(V::F(nums().iter().sum())), None)
            }
        }
        "mean" => {
            let n = nums();
            if n.is_empty() {
                return Err("unsupported mean iterator type".into());
            }
            // InfluxDB averages incrementally; a plain sum agrees within a float's last digits.
            (Some(V::F(n.iter().sum::<f64>() / n.len() as f64)), None)
        }
        "min" | "max" => {
            let mut best: Option<(i64, &V)> = None;
            for &(t, v) in vals {
                let better = match best {
                    None => true,
                    Some((_, b)) => match v.cmp(b) {
                        Some(o) if name == "max" => o.is_gt(),
                        Some(o) => o.is_lt(),
                        None => false,
                    },
                };
                if better {
                    best = Some((t, v));
                }
            }
            best.map_or((None, None), |(t, v)| (Some(v.clone()), Some(t)))
        }
        "first" | "last" => {
            let (t, _) = if name == "first" { vals[0] } else { vals[vals.len() - 1] };
            let mut tied = vals.iter().filter(|(at, _)| *at == t).map(|(_, v)| *v);
            let mut pick = tied.next().unwrap_or(vals[0].1);
            for v in tied {
                if tie_wins(v, pick, name == "first") {
                    pick = v;
                }
            }
            (Some(pick.clone()), Some(t))
        }
        "spread" => {
            let n = nums();
            let (lo, hi) = n.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            if vals.iter().all(|(_, v)| matches!(v, V::I(_))) {
                (Some(V::I((hi - lo) as i64)), None)
            } else {
                (Some(V::F(hi - lo)), None)
            }
        }
        "stddev" => {
            let n = nums();
            if n.len() < 2 {
                return Ok((None, None));
            }
            let mean = n.iter().sum::<f64>() / n.len() as f64;
            let var = n.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n.len() - 1) as f64;
            (Some(V::F(var.sqrt())), None)
        }
        "median" => {
            let mut n = nums();
            n.sort_by(f64::total_cmp);
            let len = n.len();
            let m = if len % 2 == 1 { n[len / 2] } else { (n[len / 2 - 1] + n[len / 2]) / 2.0 };
            (Some(V::F(m)), None)
        }
        "mode" => {
            let mut counts: Vec<(&V, usize)> = Vec::new();
            for (_, v) in vals {
                match counts.iter_mut().find(|(x, _)| *x == *v) {
                    Some(c) => c.1 += 1,
                    None => counts.push((v, 1)),
                }
            }
            let max = counts.iter().map(|c| c.1).max().unwrap_or(0);
            let mut best: Vec<&V> = counts.iter().filter(|c| c.1 == max).map(|c| c.0).collect();
            best.sort_by(|a, b| a.cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            (best.first().map(|v| (*v).clone()), None)
        }
        "integral" => {
            let unit = match args.get(1) {
                Some(Expr::Duration(d)) if *d > 0 => *d as f64,
                None => 1e9,
                _ => return Err("second argument must be a duration".into()),
            };
            let pts: Vec<(i64, f64)> = vals.iter().filter_map(|(t, v)| v.num().map(|x| (*t, x))).collect();
            let area: f64 = pts.windows(2).map(|w| (w[0].1 + w[1].1) / 2.0 * (w[1].0 - w[0].0) as f64 / unit).sum();
            (Some(V::F(area)), None)
        }
        "percentile" => {
            let p = match args.get(1) {
                Some(Expr::Integer(n)) => *n as f64,
                Some(Expr::Number(n)) => *n,
                _ => return Err("expected float argument in percentile()".into()),
            };
            let mut sorted: Vec<(i64, &V)> = vals.to_vec();
            sorted.sort_by(|a, b| a.1.cmp(b.1).unwrap_or(std::cmp::Ordering::Equal));
            // Past either end (p of 0, or above 100), there is no such point.
            let i = (sorted.len() as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
            if i < 0 || i >= sorted.len() as i64 {
                return Ok((None, None));
            }
            let (t, v) = sorted[i as usize];
            (Some(v.clone()), Some(t))
        }
        other => return Err(format!("undefined function {other}()")),
    })
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

/// A time as InfluxDB writes it in JSON: RFC3339 with the fraction's zeros trimmed.
pub(crate) fn format_time(t: i64) -> String {
    time::rfc3339::format(t, time::rfc3339::Fraction::Trimmed)
}
