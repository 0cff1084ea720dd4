//! The schema statements (`SHOW DATABASES`, `RETENTION POLICIES`,
//! `MEASUREMENTS`, `TAG KEYS`, `TAG VALUES`, `FIELD KEYS`, `SERIES` and the
//! cardinalities): answered from storage's schema index, never by a scan.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value;
use storage::{FieldType, Predicate};

use crate::ast::*;
use crate::condition::tag_predicate;
use crate::context::{Context, Options};
use crate::error::{Error, Result};
use crate::result::Series;

/// `SHOW DATABASES`: the databases the caller may read.
pub(crate) fn databases(ctx: &dyn Context) -> Result<Vec<Series>> {
    let names = ctx.databases()?;
    Ok(vec![Series {
        name: Some("databases".into()),
        columns: vec!["name".into()],
        values: names.into_iter().map(|n| vec![Value::from(n)]).collect(),
        ..Series::default()
    }])
}

/// `SHOW RETENTION POLICIES [ON db]`.
pub(crate) fn retention_policies(database: Option<&str>, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let rps = ctx.retention_policies(opts.database(database)?)?;
    Ok(vec![Series {
        columns: ["name", "duration", "shardGroupDuration", "replicaN", "default"]
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
        values: rps
            .into_iter()
            .map(|rp| {
                vec![
                    Value::from(rp.name),
                    Value::from(time::duration::go_string(rp.duration_ns)),
                    Value::from(time::duration::go_string(rp.shard_group_duration_ns)),
                    Value::from(1),
                    Value::from(rp.default),
                ]
            })
            .collect(),
        ..Series::default()
    }])
}

/// The bucket a statement reads: its `ON db` or the request's.
fn bucket_of(database: Option<&str>, ctx: &dyn Context, opts: &Options) -> Result<u64> {
    ctx.bucket(opts.database(database)?, &opts.retention_policy)
}

/// The bucket a schema statement with a `FROM` reads: that of the first
/// source naming a database or retention policy (`FROM rp.m`, `FROM db.rp.m`,
/// as 1.x reads that policy's shards), else the statement's database's default.
fn bucket_of_sources(database: Option<&str>, sources: &[Source], ctx: &dyn Context, opts: &Options) -> Result<u64> {
    let named = sources.iter().find_map(|s| match s {
        Source::Measurement(m) if !m.database.is_empty() || !m.retention_policy.is_empty() => Some(m),
        _ => None,
    });
    match named {
        None => bucket_of(database, ctx, opts),
        Some(m) => {
            let db = if m.database.is_empty() { opts.database(database)? } else { m.database.as_str() };
            let rp = if m.retention_policy.is_empty() {
                opts.retention_policy.as_str()
            } else {
                m.retention_policy.as_str()
            };
            ctx.bucket(db, rp)
        }
    }
}

/// Measurements of the bucket that `sources` name (all when none), matching `condition`'s tags.
fn measurements_of(bucket: u64, sources: &[Source], condition: &Predicate, ctx: &dyn Context) -> Result<Vec<String>> {
    let all = ctx.storage().measurements(bucket, i64::MIN, i64::MAX, condition)?;
    if sources.is_empty() {
        return Ok(all);
    }
    let mut wanted = Vec::new();
    for s in sources {
        if let Source::Measurement(m) = s {
            match &m.regex {
                Some(re) => {
                    let re = Regex::new(re)?;
                    wanted.extend(all.iter().filter(|n| re.is_match(n)).cloned());
                }
                None => wanted.extend(all.iter().filter(|n| **n == m.name).cloned()),
            }
        }
    }
    wanted.sort();
    wanted.dedup();
    Ok(wanted)
}

pub(crate) fn measurements(s: &ShowMeasurements, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let bucket = bucket_of(s.database.as_deref(), ctx, opts)?;
    let condition = tag_predicate(s.condition.as_ref())?;
    let sources: Vec<Source> = s.source.iter().cloned().map(Source::Measurement).collect();
    let names = page(measurements_of(bucket, &sources, &condition, ctx)?, s.limit, s.offset);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Series {
        name: Some("measurements".into()),
        columns: vec!["name".into()],
        values: names.into_iter().map(|n| vec![Value::from(n)]).collect(),
        ..Series::default()
    }])
}

pub(crate) fn tag_keys(s: &ShowSchema, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let bucket = bucket_of_sources(s.database.as_deref(), &s.sources, ctx, opts)?;
    let condition = tag_predicate(s.condition.as_ref())?;
    let mut out = Vec::new();
    for m in measurements_of(bucket, &s.sources, &condition, ctx)? {
        let p = Predicate::measurement_eq(&m).and(condition.clone());
        let keys = ctx.storage().tag_keys(bucket, i64::MIN, i64::MAX, &p)?;
        let keys = page(keys, s.limit, s.offset);
        if keys.is_empty() {
            continue;
        }
        out.push(Series {
            name: Some(m),
            columns: vec!["tagKey".into()],
            values: keys.into_iter().map(|k| vec![Value::from(k)]).collect(),
            ..Series::default()
        });
    }
    Ok(out)
}

pub(crate) fn tag_values(s: &ShowTagValues, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let bucket = bucket_of_sources(s.database.as_deref(), &s.sources, ctx, opts)?;
    let condition = tag_predicate(s.condition.as_ref())?;
    let key_matches = key_filter(&s.keys)?;
    let mut out = Vec::new();
    for m in measurements_of(bucket, &s.sources, &condition, ctx)? {
        let p = Predicate::measurement_eq(&m).and(condition.clone());
        let storage = ctx.storage();
        let keys = storage.tag_keys(bucket, i64::MIN, i64::MAX, &p)?;
        let mut pairs = Vec::new();
        for k in keys.into_iter().filter(|k| key_matches(k)) {
            for v in storage.tag_values(bucket, &k, i64::MIN, i64::MAX, &p)? {
                pairs.push((k.clone(), v));
            }
        }
        let pairs = page(pairs, s.limit, s.offset);
        if pairs.is_empty() {
            continue;
        }
        out.push(Series {
            name: Some(m),
            columns: vec!["key".into(), "value".into()],
            values: pairs.into_iter().map(|(k, v)| vec![Value::from(k), Value::from(v)]).collect(),
            ..Series::default()
        });
    }
    Ok(out)
}

/// A test on tag keys.
type KeyFilter = Box<dyn Fn(&str) -> bool>;

/// Which tag keys a `WITH KEY` clause selects.
fn key_filter(keys: &TagKeys) -> Result<KeyFilter> {
    Ok(match keys {
        TagKeys::Eq(k) => {
            let k = k.clone();
            Box::new(move |x| x == k)
        }
        TagKeys::Neq(k) => {
            let k = k.clone();
            Box::new(move |x| x != k)
        }
        TagKeys::In(ks) => {
            let ks = ks.clone();
            Box::new(move |x| ks.iter().any(|k| k == x))
        }
        TagKeys::Regex(re) => {
            let re = Regex::new(re)?;
            Box::new(move |x| re.is_match(x))
        }
        TagKeys::NotRegex(re) => {
            let re = Regex::new(re)?;
            Box::new(move |x| !re.is_match(x))
        }
    })
}

pub(crate) fn series(s: &ShowSchema, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let bucket = bucket_of_sources(s.database.as_deref(), &s.sources, ctx, opts)?;
    let condition = tag_predicate(s.condition.as_ref())?;
    let mut keys = Vec::new();
    for m in measurements_of(bucket, &s.sources, &condition, ctx)? {
        let p = Predicate::measurement_eq(&m).and(condition.clone());
        let found = ctx.storage().series_keys(bucket, i64::MIN, i64::MAX, &p)?;
        keys.extend(found.into_iter().map(|k| k.to_string()));
    }
    let keys = page(keys, s.limit, s.offset);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Series {
        columns: vec!["key".into()],
        values: keys.into_iter().map(|k| vec![Value::from(k)]).collect(),
        ..Series::default()
    }])
}

pub(crate) fn field_keys(s: &ShowSchema, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let bucket = bucket_of_sources(s.database.as_deref(), &s.sources, ctx, opts)?;
    let mut out = Vec::new();
    for m in measurements_of(bucket, &s.sources, &Predicate::True, ctx)? {
        let p = Predicate::measurement_eq(&m);
        let fields = ctx.storage().field_keys(bucket, i64::MIN, i64::MAX, &p)?;
        let fields = page(fields, s.limit, s.offset);
        if fields.is_empty() {
            continue;
        }
        out.push(Series {
            name: Some(m),
            columns: vec!["fieldKey".into(), "fieldType".into()],
            values: fields.into_iter().map(|(f, t)| vec![Value::from(f), Value::from(field_type_name(t))]).collect(),
            ..Series::default()
        });
    }
    Ok(out)
}

/// A field type as InfluxQL names it.
fn field_type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Float => "float",
        FieldType::Integer => "integer",
        FieldType::UInteger => "unsigned",
        FieldType::String => "string",
        FieldType::Boolean => "boolean",
    }
}

fn cardinality_name(of: CardinalityOf) -> &'static str {
    match of {
        CardinalityOf::Series => "SHOW SERIES CARDINALITY",
        CardinalityOf::Measurements => "SHOW MEASUREMENT CARDINALITY",
        CardinalityOf::TagKeys => "SHOW TAG KEY CARDINALITY",
        CardinalityOf::TagValues => "SHOW TAG VALUES CARDINALITY",
        CardinalityOf::FieldKeys => "SHOW FIELD KEY CARDINALITY",
    }
}

/// The cardinality statements, as 1.x rewrites them: `count(distinct(...))`
/// of series, tag keys, tag values or field keys per measurement (and per
/// `GROUP BY` tags), or of measurements. 2.x refuses only the estimates
/// (`SHOW SERIES|MEASUREMENT CARDINALITY` with no clause at all).
pub(crate) fn cardinality(c: &ShowCardinality, ctx: &dyn Context, opts: &Options) -> Result<Vec<Series>> {
    let bare =
        c.sources.is_empty() && c.condition.is_none() && c.dimensions.is_empty() && c.limit == 0 && c.offset == 0;
    if !c.exact && bare && matches!(c.of, CardinalityOf::Series | CardinalityOf::Measurements) {
        return Err(Error::NotImplemented(cardinality_name(c.of).to_owned()));
    }
    let bucket = bucket_of_sources(c.database.as_deref(), &c.sources, ctx, opts)?;
    let condition = tag_predicate(c.condition.as_ref())?;
    let measurements = measurements_of(bucket, &c.sources, &condition, ctx)?;
    let count_row = |n: usize| page(vec![vec![Value::from(n)]], c.limit, c.offset);
    if c.of == CardinalityOf::Measurements {
        let values = count_row(measurements.len());
        return Ok(if values.is_empty() {
            Vec::new()
        } else {
            vec![Series { columns: vec!["count".into()], values, ..Series::default() }]
        });
    }
    let key_matches: KeyFilter = match &c.keys {
        Some(keys) => key_filter(keys)?,
        None => Box::new(|_: &str| true),
    };
    let storage = ctx.storage();
    let mut out = Vec::new();
    for m in measurements {
        let p = Predicate::measurement_eq(&m).and(condition.clone());
        let mut groups: BTreeMap<Vec<(String, String)>, BTreeSet<String>> = BTreeMap::new();
        if c.of == CardinalityOf::FieldKeys {
            let fields = storage.field_keys(bucket, i64::MIN, i64::MAX, &Predicate::measurement_eq(&m));
            groups.insert(Vec::new(), fields?.into_iter().map(|(f, _)| f).collect());
        } else {
            for key in storage.series_keys(bucket, i64::MIN, i64::MAX, &p)? {
                let group = group_of(&key.tags, &c.dimensions)?;
                let seen = groups.entry(group).or_default();
                match c.of {
                    CardinalityOf::Series => {
                        seen.insert(key.to_string());
                    }
                    CardinalityOf::TagKeys => seen.extend(key.tags.iter().map(|(k, _)| k.clone())),
                    _ => seen.extend(key.tags.iter().filter(|(k, _)| key_matches(k)).map(|(_, v)| v.clone())),
                }
            }
        }
        for (tags, seen) in groups {
            let values = if seen.is_empty() { Vec::new() } else { count_row(seen.len()) };
            if values.is_empty() {
                continue;
            }
            out.push(Series {
                name: Some(m.clone()),
                tags: tags.into_iter().collect(),
                columns: vec!["count".into()],
                values,
                ..Series::default()
            });
        }
    }
    Ok(out)
}

/// A series' values of the `GROUP BY` tags (`""` where it has none).
fn group_of(tags: &[(String, String)], dimensions: &[Expr]) -> Result<Vec<(String, String)>> {
    let value = |k: &str| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut group = Vec::new();
    for d in dimensions {
        match d {
            Expr::VarRef { name, .. } => group.push((name.clone(), value(name))),
            Expr::Wildcard(_) => group.extend(tags.iter().cloned()),
            Expr::Regex(re) => {
                let re = Regex::new(re)?;
                group.extend(tags.iter().filter(|(k, _)| re.is_match(k)).cloned());
            }
            _ => return Err(Error::invalid("only tags are allowed in the GROUP BY of a cardinality statement")),
        }
    }
    group.sort();
    group.dedup();
    Ok(group)
}

/// `LIMIT`/`OFFSET` over a list (0 = no limit).
fn page<T>(items: Vec<T>, limit: u64, offset: u64) -> Vec<T> {
    let it = items.into_iter().skip(offset as usize);
    if limit == 0 { it.collect() } else { it.take(limit as usize).collect() }
}
