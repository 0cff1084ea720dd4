//! A query's parameters, as 2.7's pkger reads them: the properties of its
//! `option params = {...}` (and those `spec.params` declares, with a `key`,
//! `default` and `type`) are each an env reference named
//! `<prefix>.params.<key>`: a task's prefix is `tasks[<metaName>].spec`, a
//! chart query's `dashboards[<metaName>].spec.charts[<i>].queries[<j>]`.
//! The value given at apply time, else the default, replaces the property's
//! value in the stored query, which is then laid out by Flux's formatter as
//! 2.7 lays it out. A query with no `option params` is stored as written.

use flux_syntax::ast::{Assignment, Expression, Identifier, Property, PropertyKey, Statement, StringLiteral};
use serde_json::{Value, json};

use crate::field::{Ctx, objects, text};

/// One parameter: its key, the value type 2.7 names, and its default.
struct Param {
    key: String,
    ty: String,
    default: Option<Value>,
}

/// `query` with its parameters set; each is recorded in `ctx` under
/// `field` (`spec.params` or `spec.charts[0].queries[1].params`) for the
/// summary's `envReferences` and, without a value, `missingEnvRefs`.
pub(crate) fn substitute(query: &str, declared: &Value, prefix: &str, field: &str, ctx: &mut Ctx<'_>) -> String {
    let declared = objects(declared);
    if declared.is_empty() && !query.contains("params") {
        return query.to_owned();
    }
    let Ok(mut file) = flux_syntax::parse_file(query) else { return query.to_owned() };
    let mut params: Vec<Param> = Vec::new();
    let option = file.body.iter_mut().find_map(|s| match s {
        Statement::OptionStatement { assignment: Assignment::VariableAssignment(v), .. } if v.id.name == "params" => {
            match &mut v.init {
                Expression::ObjectExpression { properties, .. } => Some(properties),
                _ => None,
            }
        }
        _ => None,
    });
    if let Some(properties) = &option {
        for p in properties.iter() {
            let key = match &p.key {
                PropertyKey::Identifier(i) => i.name.clone(),
                PropertyKey::StringLiteral(_) => continue,
            };
            let (ty, default) = p.value.as_ref().map(written).unwrap_or_default();
            params.push(Param { key, ty, default });
        }
    }
    for d in declared {
        let key = text(d.get("key").unwrap_or(&Value::Null));
        if key.is_empty() {
            continue;
        }
        let i = params.iter().position(|p| p.key == key).unwrap_or_else(|| {
            params.push(Param { key: key.clone(), ty: String::new(), default: None });
            params.len() - 1
        });
        if let Some(def) = d.get("default") {
            params[i].default = Some(def.clone());
        }
        if let Some(ty) = d.get("type").and_then(Value::as_str) {
            params[i].ty = ty.to_owned();
        }
    }
    let mut values = Vec::new();
    for p in &params {
        let env = format!("{prefix}.params.{}", p.key);
        let given = ctx.envs.get(&env).filter(|v| !v.is_null()).cloned();
        ctx.env_references.push(json!({
            "resourceField": format!("{field}.{}", p.key),
            "envRefKey": env,
            "valueType": p.ty,
            "value": given,
            "defaultValue": p.default,
        }));
        if given.is_none() {
            ctx.env_keys.insert(env);
        }
        values.push(given.or_else(|| p.default.clone()).and_then(|v| literal(&p.ty, &v)));
    }
    let Some(properties) = option else { return query.to_owned() };
    for (p, value) in params.iter().zip(values) {
        let Some(expr) = value else { continue };
        match properties.iter_mut().find(|q| matches!(&q.key, PropertyKey::Identifier(i) if i.name == p.key)) {
            Some(q) => q.value = Some(expr),
            None => properties.push(Property {
                base: Default::default(),
                key: PropertyKey::Identifier(Identifier { base: Default::default(), name: p.key.clone() }),
                value: Some(expr),
            }),
        }
    }
    flux_syntax::format::file(&file).trim_end().to_owned()
}

/// The value type and default 2.7 reads off a parameter's written value.
fn written(e: &Expression) -> (String, Option<Value>) {
    let formatted = || Some(json!(flux_syntax::format::expression(e)));
    match e {
        Expression::StringLiteral(s) => ("string".into(), Some(json!(s.value))),
        Expression::IntegerLiteral { value, .. } => ("int".into(), value.parse::<i64>().ok().map(|i| json!(i))),
        Expression::FloatLiteral { value, .. } => ("float".into(), Some(json!(value))),
        Expression::BooleanLiteral { value, .. } => ("bool".into(), Some(json!(value))),
        Expression::DurationLiteral { .. } => ("duration".into(), formatted()),
        Expression::DateTimeLiteral { value, .. } => ("time".into(), Some(json!(value))),
        Expression::CallExpression(c) if matches!(&*c.callee, Expression::Identifier(i) if i.name == "now") => {
            ("time".into(), Some(json!("now()")))
        }
        _ => (String::new(), None),
    }
}

/// `v` as a Flux literal of type `ty`; `None` when it is not one (2.7 then
/// leaves the property as written).
fn literal(ty: &str, v: &Value) -> Option<Expression> {
    let s = text(v);
    let source = match ty.to_ascii_lowercase().as_str() {
        "string" | "stringliteral" => {
            let value = StringLiteral { base: Default::default(), value: s };
            return Some(Expression::StringLiteral(value));
        }
        "int" | "integerliteral" => match v.as_f64() {
            Some(f) => (f as i64).to_string(),
            None => s.trim().parse::<i64>().ok()?.to_string(),
        },
        "float" | "floatliteral" => {
            let f = v.as_f64().or_else(|| s.trim().parse().ok()).filter(|f: &f64| f.is_finite())?;
            if f.fract() == 0.0 { format!("{f:.1}") } else { f.to_string() }
        }
        "bool" | "booleanliteral" => match v.as_bool().map(|b| b.to_string()).unwrap_or(s).as_str() {
            b @ ("true" | "false") => b.to_owned(),
            _ => return None,
        },
        // A Flux duration as written (`1d`), else Go's (`1h30m`) as 2.7 parses it.
        "duration" | "durationliteral" => match expression(&s) {
            Some(e @ Expression::DurationLiteral { .. }) => return Some(e),
            _ => time::duration::go_string(time::duration::parse_go(&s).ok()?),
        },
        "time" | "datetimeliteral" => s,
        _ => return None,
    };
    expression(&source)
}

/// One expression's source text as its syntax tree.
fn expression(source: &str) -> Option<Expression> {
    let file = flux_syntax::parse_file(&format!("x = {source}")).ok()?;
    match file.body.into_iter().next()? {
        Statement::VariableAssignment(a) => Some(a.init),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
