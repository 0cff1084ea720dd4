//! Each kind's spec read and checked as 2.7 checks it, and the API body
//! that makes the resource it describes.

use serde_json::{Map, Value, json};

use crate::chart::{Cell, query_json};
use crate::field::{Ctx, boolean, duration, float, int, norm, objects, text, texts};
use crate::{Kind, Resource};

/// What a resource is, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    Label {
        color: String,
        description: String,
    },
    Bucket {
        description: String,
        retention_seconds: i64,
    },
    Variable {
        description: String,
        selected: Vec<String>,
        arguments: Value,
    },
    Dashboard {
        description: String,
        cells: Vec<Cell>,
    },
    Task {
        description: String,
        cron: String,
        every: i64,
        offset: i64,
        query: String,
        flux: String,
        status: String,
    },
    /// A check's API body (no `orgID`).
    Check {
        body: Value,
    },
    /// An endpoint's API body (no `orgID`); secrets as `"secret: <key>"`.
    Endpoint {
        body: Value,
    },
    /// A rule's API body (no `orgID`, `endpointID` or `type`) and its endpoint's `metadata.name`.
    Rule {
        endpoint: String,
        body: Value,
    },
    Telegraf {
        description: String,
        config: String,
    },
}

const LEVELS: [&str; 5] = ["CRIT", "WARN", "INFO", "OK", "ANY"];

pub(crate) fn read(kind: Kind, meta_name: &str, name: &str, spec: &Map<String, Value>, ctx: &mut Ctx<'_>) -> Spec {
    let null = Value::Null;
    let get = |k: &str| spec.get(k).unwrap_or(&null);
    let description = text(get("description"));
    let min_name = |ctx: &mut Ctx<'_>, n: usize| {
        if name.len() < n {
            ctx.faults.add("spec.name", format!("must be a string of at least {n} chars in length"));
        }
    };
    match kind {
        Kind::Label => {
            min_name(ctx, 2);
            Spec::Label { color: text(get("color")), description }
        }
        Kind::Bucket => {
            min_name(ctx, 2);
            let rules = objects(get("retentionRules"));
            for (i, r) in rules.iter().enumerate() {
                if int(r.get("everySeconds").unwrap_or(&null)) < 3600 {
                    ctx.faults
                        .add(&format!("spec.retentionRules[{i}].everySeconds"), "seconds must be a minimum of 3600");
                }
                if text(r.get("type").unwrap_or(&null)) != "expire" {
                    ctx.faults.add(&format!("spec.retentionRules[{i}].type"), "type must be \"expire\"");
                }
            }
            let retention_seconds = rules.first().map_or(0, |r| int(r.get("everySeconds").unwrap_or(&null)));
            Spec::Bucket { description, retention_seconds }
        }
        Kind::Variable => variable(spec, description, ctx),
        Kind::Dashboard => {
            min_name(ctx, 2);
            let mut cells = Vec::new();
            for (i, chart) in objects(get("charts")).into_iter().enumerate() {
                let chart = chart_params(chart, meta_name, i, ctx);
                match crate::chart::read(&chart) {
                    Ok(c) => cells.push(c),
                    Err(f) => ctx.faults.nest(&format!("spec.charts[{i}]"), f),
                }
            }
            Spec::Dashboard { description, cells }
        }
        Kind::Task => task(meta_name, name, spec, description, ctx),
        Kind::CheckDeadman | Kind::CheckThreshold => check(kind, name, spec, description, ctx),
        Kind::NotificationEndpointHttp | Kind::NotificationEndpointPagerDuty | Kind::NotificationEndpointSlack => {
            endpoint(kind, name, spec, description, ctx)
        }
        Kind::NotificationRule => rule(name, spec, description, ctx),
        Kind::Telegraf => {
            let config = text(get("config"));
            if config.is_empty() {
                ctx.faults.add("spec.config", "no config provided");
            }
            Spec::Telegraf { description, config }
        }
    }
}

fn variable(spec: &Map<String, Value>, description: String, ctx: &mut Ctx<'_>) -> Spec {
    let null = Value::Null;
    let get = |k: &str| spec.get(k).unwrap_or(&null);
    let mut selected = Vec::new();
    for (i, s) in get("selected").as_array().cloned().unwrap_or_default().iter().enumerate() {
        let v = ctx.reference(s, &format!("spec.selected[{i}]")).text();
        if !v.is_empty() {
            selected.push(v);
        }
    }
    let arguments = match norm(get("type")).as_str() {
        "constant" => {
            let values = texts(get("values"));
            if values.is_empty() {
                ctx.faults.add("spec.values", "constant variable must have a least 1 value provided");
            }
            json!({ "type": "constant", "values": values })
        }
        "map" => {
            let values: Map<String, Value> = get("values")
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), Value::String(text(v)))).collect())
                .unwrap_or_default();
            if values.is_empty() {
                ctx.faults.add("spec.values", "map variable must have at least 1 key/val pair");
            }
            json!({ "type": "map", "values": values })
        }
        "query" => {
            let query = text(get("query")).trim().to_owned();
            let language = norm(get("language"));
            if query.is_empty() {
                ctx.faults.add("spec.query", "query variable must provide a query string");
            }
            if language != "flux" && language != "influxql" {
                ctx.faults.add(
                    "spec.language",
                    format!("query variable language must be either \"influxql\" or \"flux\"; got {language:?}"),
                );
            }
            json!({ "type": "query", "values": { "query": query, "language": language } })
        }
        other => {
            ctx.faults.add("spec.type", format!("variable type must be one of constant, map or query; got {other:?}"));
            Value::Null
        }
    };
    Spec::Variable { description, selected, arguments }
}

fn status(v: &Value, ctx: &mut Ctx<'_>, path: &str, message: &str) -> String {
    let s = norm(v);
    match s.as_str() {
        "" => "active".into(),
        "active" | "inactive" => s,
        _ => {
            ctx.faults.add(path, message.replace("{got}", &s));
            s
        }
    }
}

/// A chart whose queries have their parameters set (see [`crate::params`]).
fn chart_params(chart: &Map<String, Value>, meta_name: &str, i: usize, ctx: &mut Ctx<'_>) -> Map<String, Value> {
    let mut chart = chart.clone();
    if let Some(Value::Array(queries)) = chart.get_mut("queries") {
        for (j, q) in queries.iter_mut().enumerate() {
            let Some(q) = q.as_object_mut() else { continue };
            let source = text(q.get("query").unwrap_or(&Value::Null));
            let prefix = format!("dashboards[{meta_name}].spec.charts[{i}].queries[{j}]");
            let field = format!("spec.charts[{i}].queries[{j}].params");
            let set = crate::params::substitute(&source, q.get("params").unwrap_or(&Value::Null), &prefix, &field, ctx);
            q.insert("query".into(), Value::String(set));
        }
    }
    chart
}

fn task(meta_name: &str, name: &str, spec: &Map<String, Value>, description: String, ctx: &mut Ctx<'_>) -> Spec {
    let null = Value::Null;
    let get = |k: &str| spec.get(k).unwrap_or(&null);
    let cron = text(get("cron")).trim().to_owned();
    let every = duration(get("every"));
    let offset = duration(get("offset"));
    let prefix = format!("tasks[{meta_name}].spec");
    let query = crate::params::substitute(text(get("query")).trim(), get("params"), &prefix, "spec.params", ctx);
    if cron.is_empty() && every == 0 {
        ctx.faults.add("spec.every", "must provide if cron field is not provided");
        ctx.faults.add("spec.cron", "must provide if every field is not provided");
    }
    if query.is_empty() {
        ctx.faults.add("spec.query", "must provide a non zero value");
    }
    let status = status(get("status"), ctx, "spec.status", "must be 1 of [active, inactive]");
    let flux = task_flux(name, &cron, every, offset, &query);
    Spec::Task { description, cron, every, offset, query, flux, status }
}

/// A task's script: the query's imports, then the `option task` the spec
/// describes, then the rest of the query (a query with its own `option
/// task` keeps it as written).
pub(crate) fn task_flux(name: &str, cron: &str, every: i64, offset: i64, query: &str) -> String {
    if query.lines().any(|l| l.trim_start().starts_with("option task")) {
        return query.to_owned();
    }
    let mut imports = Vec::new();
    let mut rest_at = query.len();
    let mut at = 0;
    for line in query.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with("import ") {
            imports.push(t.to_owned());
        } else if !(t.is_empty() || t.starts_with("//")) {
            rest_at = at;
            break;
        }
        at += line.len();
    }
    let mut fields = vec![format!("name: {name:?}")];
    if !cron.is_empty() {
        fields.push(format!("cron: {cron:?}"));
    }
    if every > 0 {
        fields.push(format!("every: {}", time::duration::go_string(every)));
    }
    if offset > 0 {
        fields.push(format!("offset: {}", time::duration::go_string(offset)));
    }
    let option = format!("option task = {{ {} }}", fields.join(", "));
    let rest = query[rest_at.min(query.len())..].trim();
    if imports.is_empty() {
        format!("{option}\n\n{rest}")
    } else {
        format!("{}\n\n{option}\n\n{rest}", imports.join("\n"))
    }
}

fn check(kind: Kind, name: &str, spec: &Map<String, Value>, description: String, ctx: &mut Ctx<'_>) -> Spec {
    let null = Value::Null;
    let get = |k: &str| spec.get(k).unwrap_or(&null);
    let every = duration(get("every"));
    let offset = duration(get("offset"));
    let query = text(get("query")).trim().to_owned();
    let template = text(get("statusMessageTemplate"));
    if every == 0 {
        ctx.faults.add("spec.every", "duration value must be provided that is >= 5s (seconds)");
    }
    if query.is_empty() {
        ctx.faults.add("spec.query", "must provide a non zero value");
    }
    if template.is_empty() {
        ctx.faults.add(
            "spec.statusMessageTemplate",
            "must provide a template; ex. \"Check: ${ r._check_name } is: ${ r._level }\"",
        );
    }
    let status = status(get("status"), ctx, "spec.status", "must be 1 of [active, inactive]");
    let tags: Vec<Value> = objects(get("tags"))
        .iter()
        .map(|t| json!({ "key": text(t.get("key").unwrap_or(&null)), "value": text(t.get("value").unwrap_or(&null)) }))
        .collect();
    let mut body = json!({
        "name": name,
        "description": description,
        "query": query_json(&query),
        "every": time::duration::go_string(every),
        "statusMessageTemplate": template,
        "tags": tags,
        "status": status,
    });
    if offset != 0 {
        body["offset"] = json!(time::duration::go_string(offset));
    }
    if kind == Kind::CheckThreshold {
        body["type"] = json!("threshold");
        let thresholds = objects(get("thresholds"));
        if thresholds.is_empty() {
            ctx.faults.add("spec.thresholds", "must provide at least 1 threshold entry");
        }
        let mut out = Vec::new();
        for (i, t) in thresholds.iter().enumerate() {
            let g = |k: &str| t.get(k).unwrap_or(&null);
            let level = text(g("level")).trim().to_uppercase();
            if !LEVELS.contains(&level.as_str()) {
                ctx.faults
                    .add(&format!("spec.level[{i}]"), format!("must be 1 in [CRIT, WARN, INFO, OK]; got={level:?}"));
            }
            let (min, max) = (float(g("min")), float(g("max")));
            if min > max {
                ctx.faults.add(&format!("spec.min[{i}]"), "min must be < max");
            }
            let all = boolean(g("allValues"));
            let entry = match norm(g("type")).as_str() {
                t @ ("greater" | "lesser") => {
                    json!({ "type": t, "level": level, "value": float(g("value")), "allValues": all })
                }
                t @ ("inside_range" | "outside_range") => json!({
                    "type": "range", "level": level, "min": min, "max": max,
                    "within": t == "inside_range", "allValues": all,
                }),
                other => {
                    ctx.faults.add(
                        &format!("spec.type[{i}]"),
                        format!("must be 1 in [Lesser, Greater, Inside_Range, Outside_Range]; got={other:?}"),
                    );
                    continue;
                }
            };
            out.push(entry);
        }
        body["thresholds"] = Value::Array(out);
    } else {
        body["type"] = json!("deadman");
        let level = text(get("level")).trim().to_uppercase();
        body["level"] = json!(if LEVELS.contains(&level.as_str()) { level } else { "UNKNOWN".into() });
        body["timeSince"] = json!(time::duration::go_string(duration(get("timeSince"))));
        body["staleTime"] = json!(time::duration::go_string(duration(get("staleTime"))));
        body["reportZero"] = json!(boolean(get("reportZero")));
    }
    Spec::Check { body }
}

fn endpoint(kind: Kind, name: &str, spec: &Map<String, Value>, description: String, ctx: &mut Ctx<'_>) -> Spec {
    let null = Value::Null;
    let get = |k: &str| spec.get(k).unwrap_or(&null);
    let url = text(get("url")).trim().to_owned();
    if url.is_empty() {
        ctx.faults.add("spec.url", "must be valid url");
    }
    let status =
        status(get("status"), ctx, "spec.status", "not a valid status; valid statues are one of [active, inactive]");
    let secret = |ctx: &mut Ctx<'_>, key: &str| -> Option<String> {
        let r = ctx.reference(get(key), &format!("spec.{key}"));
        match (&r.secret_key, r.text()) {
            (Some(k), _) if !k.is_empty() => Some(format!("secret: {k}")),
            (_, t) if !t.is_empty() => Some(t),
            _ => None,
        }
    };
    let mut body = json!({ "name": name, "description": description, "status": status });
    match kind {
        Kind::NotificationEndpointSlack => {
            body["type"] = json!("slack");
            body["url"] = json!(url);
            if let Some(t) = secret(ctx, "token") {
                body["token"] = json!(t);
            }
        }
        Kind::NotificationEndpointPagerDuty => {
            body["type"] = json!("pagerduty");
            body["clientURL"] = json!(url);
            match secret(ctx, "routingKey") {
                Some(k) => body["routingKey"] = json!(k),
                None => ctx.faults.add("spec.routingKey", "must be provide"),
            }
        }
        _ => {
            body["type"] = json!("http");
            body["url"] = json!(url);
            let method = text(get("method")).trim().to_uppercase();
            if !["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"].contains(&method.as_str()) {
                ctx.faults.add("spec.method", "http method must be a valid HTTP verb");
            }
            body["method"] = json!(method);
            let auth = norm(get("type"));
            match auth.as_str() {
                "basic" => {
                    for key in ["username", "password"] {
                        match secret(ctx, key) {
                            Some(v) => body[key] = json!(v),
                            None => ctx.faults.add(&format!("spec.{key}"), "must provide non empty string"),
                        }
                    }
                }
                "bearer" => match secret(ctx, "token") {
                    Some(v) => body["token"] = json!(v),
                    None => ctx.faults.add("spec.token", "must provide non empty string"),
                },
                "none" | "" => {}
                other => ctx.faults.add(
                    "spec.type",
                    format!("invalid type provided {other:?}; valid type is 1 in [basic, bearer, none]"),
                ),
            }
            body["authMethod"] = json!(if auth.is_empty() { "none".to_owned() } else { auth });
        }
    }
    Spec::Endpoint { body }
}

fn rule(name: &str, spec: &Map<String, Value>, description: String, ctx: &mut Ctx<'_>) -> Spec {
    let null = Value::Null;
    let get = |k: &str| spec.get(k).unwrap_or(&null);
    let endpoint = ctx.reference(get("endpointName"), "spec.endpointName").text();
    if endpoint.is_empty() {
        ctx.faults.add("spec.endpointName", "must be provided");
    }
    let every = duration(get("every"));
    if every == 0 {
        ctx.faults.add("spec.every", "must be provided");
    }
    let offset = duration(get("offset"));
    let status = status(get("status"), ctx, "spec.status", "must be 1 in [active, inactive]; got=\"{got}\"");
    let status_rules = objects(get("statusRules"));
    if status_rules.is_empty() {
        ctx.faults.add("spec.statusRules", "must provide at least 1");
    }
    let mut rules = Vec::new();
    for (i, r) in status_rules.iter().enumerate() {
        let current = text(r.get("currentLevel").unwrap_or(&null)).trim().to_uppercase();
        let previous = text(r.get("previousLevel").unwrap_or(&null)).trim().to_uppercase();
        if !LEVELS.contains(&current.as_str()) {
            ctx.faults.add(
                &format!("spec.statusRules.currentLevel[{i}]"),
                format!("must be 1 in [CRIT, WARN, INFO, OK]; got={current:?}"),
            );
        }
        if !previous.is_empty() && !LEVELS.contains(&previous.as_str()) {
            ctx.faults.add(
                &format!("spec.statusRules.previousLevel[{i}]"),
                format!("must be 1 in [CRIT, WARN, INFO, OK]; got={previous:?}"),
            );
        }
        let mut entry = json!({ "currentLevel": current });
        if !previous.is_empty() {
            entry["previousLevel"] = json!(previous);
        }
        rules.push(entry);
    }
    let mut tags = Vec::new();
    for (i, t) in objects(get("tagRules")).iter().enumerate() {
        let op = norm(t.get("operator").unwrap_or(&null));
        let op = if op.is_empty() { "equal".to_owned() } else { op };
        if !["equal", "notequal", "equalregex", "notequalregex"].contains(&op.as_str()) {
            ctx.faults.add(&format!("spec.tagRules.operator[{i}]"), format!("must be 1 in [equal]; got={op:?}"));
        }
        tags.push(json!({
            "key": text(t.get("key").unwrap_or(&null)),
            "value": text(t.get("value").unwrap_or(&null)),
            "operator": op,
        }));
    }
    let mut body = json!({
        "name": name,
        "description": description,
        "every": time::duration::go_string(every),
        "status": status,
        "statusRules": rules,
        "tagRules": tags,
        "messageTemplate": text(get("messageTemplate")),
    });
    if offset != 0 {
        body["offset"] = json!(time::duration::go_string(offset));
    }
    if let Some(channel) = get("channel").as_str().filter(|c| !c.is_empty()) {
        body["channel"] = json!(channel);
    }
    Spec::Rule { endpoint, body }
}

impl Resource {
    /// The body that creates (`POST`) or replaces the resource in `org`. A
    /// rule needs its endpoint's ID and type: see [`Resource::rule_body`].
    pub fn api_body(&self, org: &str) -> Value {
        let name = &self.name;
        match &self.spec {
            Spec::Label { color, description } => json!({
                "orgID": org, "name": name,
                "properties": { "color": color, "description": description },
            }),
            Spec::Bucket { description, retention_seconds } => json!({
                "orgID": org, "name": name, "description": description,
                "retentionRules": if *retention_seconds > 0 {
                    json!([{ "type": "expire", "everySeconds": retention_seconds }])
                } else { json!([]) },
            }),
            Spec::Variable { description, selected, arguments } => json!({
                "orgID": org, "name": name, "description": description,
                "selected": selected, "arguments": arguments,
            }),
            Spec::Dashboard { description, .. } => json!({ "orgID": org, "name": name, "description": description }),
            Spec::Task { description, flux, status, .. } => json!({
                "orgID": org, "flux": flux, "description": description, "status": status,
            }),
            Spec::Check { body } | Spec::Endpoint { body } | Spec::Rule { body, .. } => {
                let mut b = body.clone();
                b["orgID"] = json!(org);
                b
            }
            Spec::Telegraf { description, config } => json!({
                "orgID": org, "name": name, "description": description, "config": config,
                "metadata": { "buckets": [] },
            }),
        }
    }

    /// A rule's body, sending to the endpoint `endpoint_id` of type `endpoint_type`.
    pub fn rule_body(&self, org: &str, endpoint_id: &str, endpoint_type: &str) -> Value {
        let mut b = self.api_body(org);
        b["endpointID"] = json!(endpoint_id);
        b["type"] = json!(endpoint_type);
        if endpoint_type != "slack"
            && let Some(m) = b.as_object_mut()
        {
            m.remove("channel");
        }
        b
    }
}
