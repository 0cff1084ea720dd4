//! A statement's fields: wildcards and regexes expanded into the sources'
//! fields and tags, the fields each expression reads, its transformation
//! split off, and the output columns' names.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use storage::Predicate;

use crate::ast::*;
use crate::context::Context;
use crate::error::Result;
use crate::function::math::is_math;
use crate::function::transform::is_transformation;

/// The fields and tags of all of a statement's sources, which its wildcards expand to.
pub(super) struct Schema {
    pub(super) fields: BTreeMap<String, storage::FieldType>,
    pub(super) tags: Vec<String>,
}

impl Schema {
    pub(super) fn of(targets: &[(&dyn Context, u64, String)]) -> Result<Self> {
        let mut fields = BTreeMap::new();
        let mut tags = BTreeSet::new();
        for (ctx, bucket, name) in targets {
            let p = Predicate::measurement_eq(name);
            for (f, t) in ctx.storage().field_keys(*bucket, i64::MIN, i64::MAX, &p)? {
                fields.entry(f).or_insert(t);
            }
            tags.extend(ctx.storage().tag_keys(*bucket, i64::MIN, i64::MAX, &p)?);
        }
        Ok(Self { fields, tags: tags.into_iter().collect() })
    }
}

/// Whether a statement's fields hold a wildcard or regex to expand.
pub(super) fn wants_schema(stmt: &SelectStatement) -> bool {
    stmt.fields.iter().any(|f| match &f.expr {
        Expr::Wildcard(_) | Expr::Regex(_) => true,
        Expr::Call { args, .. } => matches!(args.first(), Some(Expr::Wildcard(_) | Expr::Regex(_))),
        _ => false,
    })
}

/// `*`, `*::field`/`*::tag` and `/regex/` expanded into the fields and tags
/// (sorted by name); `fn(*)` and `fn(/regex/)` into a call per field of a type
/// the function takes, named `fn_field`.
pub(super) fn expand_fields(
    fields: &[Field],
    types: &BTreeMap<String, storage::FieldType>,
    tag_keys: &[String],
) -> Result<Vec<Field>> {
    let mut out = Vec::new();
    for f in fields {
        match &f.expr {
            Expr::Wildcard(_) | Expr::Regex(_) => {
                let (ty, re) = match &f.expr {
                    Expr::Wildcard(ty) => (*ty, None),
                    Expr::Regex(re) => (None, Some(Regex::new(re)?)),
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
                    Expr::Regex(re) => Some(Regex::new(re)?),
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
pub(super) fn collect_fields(e: &Expr, types: &BTreeMap<String, storage::FieldType>, out: &mut Vec<String>) {
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
pub(super) fn has_call(e: &Expr) -> bool {
    match e {
        Expr::Call { name, args } if is_math(name) || is_transformation(name) => args.iter().any(has_call),
        Expr::Call { .. } | Expr::Distinct(_) => true,
        Expr::Binary { lhs, rhs, .. } => has_call(lhs) || has_call(rhs),
        Expr::Paren(e) => has_call(e),
        _ => false,
    }
}

/// A field's transformation (name and arguments) and the expression it transforms.
pub(super) fn split_transform(f: &Field) -> (Option<(String, Vec<Expr>)>, Field) {
    match &f.expr {
        Expr::Call { name, args } if is_transformation(name) && !args.is_empty() => (
            Some((name.clone(), args.clone())),
            Field { expr: args[0].clone(), alias: Some(f.alias.clone().unwrap_or_else(|| name.clone())) },
        ),
        _ => (None, f.clone()),
    }
}

/// Output column names: the alias, else the call's or reference's name;
/// repeats get `_1`, `_2`.
pub(super) fn column_names(fields: &[Field]) -> Vec<String> {
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
