//! The apply answer as 2.7 gives it: `summary` (what exists after the
//! apply, with IDs) and `diff` (each resource new, existing or removed,
//! with its new and old state). IDs in both are JSON numbers, as 2.7's
//! pkger writes them (the `influx` CLI reads them so).

use std::collections::HashMap;

use serde_json::{Value, json};
use templates::{Group, Kind, Resource, Spec};

/// What the apply did or would do to one resource.
#[derive(Debug, Clone)]
pub(crate) struct Outcome<'a> {
    pub(crate) r: &'a Resource,
    /// Its ID: the existing one, or the one made (`None` on a dry run of a new one).
    pub(crate) id: Option<String>,
    /// Its state before the apply, as the API showed it.
    pub(crate) old: Option<Value>,
    /// Its state after the apply, as the API shows it (`None` on a dry run).
    pub(crate) now: Option<Value>,
    /// For a rule: its endpoint's ID and type.
    pub(crate) endpoint: Option<(String, String)>,
}

/// A label mapping the apply makes, keeps or removes.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub(crate) status: &'static str,
    pub(crate) group: Group,
    pub(crate) resource_id: Option<String>,
    pub(crate) resource_name: String,
    pub(crate) resource_meta: String,
    pub(crate) label_id: Option<String>,
    pub(crate) label_name: String,
    pub(crate) label_meta: String,
}

/// A resource a stack installed that the template no longer has.
#[derive(Debug, Clone)]
pub(crate) struct Removal {
    pub(crate) group: Group,
    pub(crate) id: String,
    pub(crate) meta_name: String,
}

/// An ID as 2.7's apply answer writes it: a number (0 for none).
pub(crate) fn num(id: Option<&str>) -> Value {
    json!(id.and_then(|i| u64::from_str_radix(i, 16).ok()).unwrap_or(0))
}

fn durations(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The state a resource's template gives it, in the diff's `new` shape.
fn desired(o: &Outcome<'_>, org: &str) -> Value {
    let r = o.r;
    let endpoint = o.endpoint.as_ref().map(|(i, t)| (i.as_str(), t.as_str()));
    match &r.spec {
        Spec::Label { color, description } => json!({ "name": r.name, "color": color, "description": description }),
        Spec::Bucket { description, retention_seconds } => json!({
            "name": r.name, "description": description,
            "retentionRules": if *retention_seconds > 0 { json!([{ "type": "expire", "everySeconds": retention_seconds }]) } else { Value::Null },
        }),
        Spec::Variable { description, arguments, .. } => {
            json!({ "name": r.name, "description": description, "args": arguments })
        }
        Spec::Dashboard { description, cells } => json!({
            "name": r.name, "description": description,
            "charts": cells.iter().map(|c| json!({ "properties": c.properties, "xPos": c.x, "yPos": c.y, "height": c.h, "width": c.w })).collect::<Vec<_>>(),
        }),
        Spec::Task { description, cron, every, offset, query, status, .. } => json!({
            "name": r.name, "cron": cron, "description": description,
            "every": go(*every), "offset": go(*offset), "query": query, "status": status,
        }),
        Spec::Rule { endpoint: meta, body } => json!({
            "name": r.name, "description": body["description"],
            "endpointID": num(endpoint.map(|(i, _)| i)), "endpointName": meta,
            "endpointType": endpoint.map(|(_, t)| t).unwrap_or_default(),
            "every": durations(&body["every"]), "offset": body["offset"].as_str().unwrap_or("0s"),
            "messageTemplate": body["messageTemplate"], "statusRules": body["statusRules"], "tagRules": body["tagRules"],
        }),
        Spec::Telegraf { description, config } => {
            json!({ "name": r.name, "description": description, "config": config })
        }
        Spec::Check { .. } | Spec::Endpoint { .. } => {
            let mut b = r.api_body(org);
            if let Some(id) = &o.id {
                b["id"] = json!(id);
            }
            b
        }
    }
}

fn go(ns: i64) -> String {
    if ns == 0 { String::new() } else { time::duration::go_string(ns) }
}

/// A stored resource in the diff's `old` shape.
fn old_state(group: Group, old: &Value) -> Value {
    match group {
        Group::Label => {
            json!({ "name": old["name"], "color": old["properties"]["color"], "description": old["properties"]["description"] })
        }
        Group::Bucket => {
            let secs = super::resources::retention(old);
            json!({
                "name": old["name"], "description": old["description"],
                "retentionRules": if secs > 0 { json!([{ "type": "expire", "everySeconds": secs }]) } else { Value::Null },
            })
        }
        Group::Variable => json!({ "name": old["name"], "description": old["description"], "args": old["arguments"] }),
        Group::Dashboard => json!({
            "name": old["name"], "description": old["description"],
            "charts": old["cells"].as_array().map(|cs| cs.iter().map(|c| json!({
                "properties": c["properties"], "xPos": c["x"], "yPos": c["y"], "height": c["h"], "width": c["w"],
            })).collect::<Vec<_>>()).unwrap_or_default(),
        }),
        Group::Task => json!({
            "name": old["name"], "cron": old["cron"], "description": old["description"], "every": old["every"],
            "offset": old["offset"], "query": old["flux"], "status": old["status"],
        }),
        Group::NotificationRule => json!({
            "name": old["name"], "description": old["description"], "endpointID": num(old["endpointID"].as_str()),
            "endpointName": old["name"], "endpointType": old["type"], "every": old["every"], "offset": old["offset"],
            "messageTemplate": old["messageTemplate"], "statusRules": old["statusRules"], "tagRules": old["tagRules"],
        }),
        Group::Telegraf => json!({ "name": old["name"], "description": old["description"], "config": old["config"] }),
        Group::Check | Group::NotificationEndpoint => old.clone(),
    }
}

/// The diff: per kind, each resource new, existing or removed.
pub(crate) fn diff(outcomes: &[Outcome<'_>], mappings: &[Mapping], removals: &[Removal], org: &str) -> Value {
    let mut by_key: HashMap<&'static str, Vec<(String, Value)>> = HashMap::new();
    for o in outcomes {
        let status = if o.old.is_some() { "exists" } else { "new" };
        let entry = json!({
            "id": num(o.id.as_deref()),
            "stateStatus": status,
            "templateMetaName": o.r.meta_name,
            "kind": o.r.kind.as_str(),
            "new": desired(o, org),
            "old": o.old.as_ref().map(|v| old_state(o.r.group(), v)),
        });
        by_key.entry(diff_key(o.r.group())).or_default().push((o.r.meta_name.clone(), entry));
    }
    for rm in removals {
        let known_kind = !matches!(rm.group, Group::Check | Group::NotificationEndpoint);
        let entry = json!({
            "id": num(Some(&rm.id)),
            "stateStatus": "remove",
            "templateMetaName": rm.meta_name,
            "kind": if known_kind { rm.group.as_str() } else { "" },
            "new": if known_kind { json!({ "name": rm.meta_name }) } else { Value::Null },
            "old": Value::Null,
        });
        by_key.entry(diff_key(rm.group)).or_default().push((rm.meta_name.clone(), entry));
    }
    let mut out = serde_json::Map::new();
    for key in DIFF_KEYS {
        let mut list = by_key.remove(key).unwrap_or_default();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert(key.to_owned(), Value::Array(list.into_iter().map(|(_, v)| v).collect()));
    }
    out.insert(
        "labelMappings".into(),
        Value::Array(
            sorted_mappings(mappings)
                .iter()
                .map(|m| {
                    json!({
                        "stateStatus": m.status,
                        "resourceType": m.group.resource_type(),
                        "resourceID": num(m.resource_id.as_deref()),
                        "resourceName": m.resource_name,
                        "resourceTemplateMetaName": m.resource_meta,
                        "labelID": num(m.label_id.as_deref()),
                        "labelName": m.label_name,
                        "labelTemplateMetaName": m.label_meta,
                    })
                })
                .collect(),
        ),
    );
    Value::Object(out)
}

const DIFF_KEYS: [&str; 9] = [
    "buckets",
    "checks",
    "dashboards",
    "labels",
    "notificationEndpoints",
    "notificationRules",
    "tasks",
    "telegrafConfigs",
    "variables",
];

fn diff_key(group: Group) -> &'static str {
    match group {
        Group::Bucket => "buckets",
        Group::Check => "checks",
        Group::Dashboard => "dashboards",
        Group::Label => "labels",
        Group::NotificationEndpoint => "notificationEndpoints",
        Group::NotificationRule => "notificationRules",
        Group::Task => "tasks",
        Group::Telegraf => "telegrafConfigs",
        Group::Variable => "variables",
    }
}

fn sorted_mappings(mappings: &[Mapping]) -> Vec<&Mapping> {
    let mut m: Vec<&Mapping> = mappings.iter().collect();
    m.sort_by(|a, b| {
        (a.group.resource_type(), &a.resource_meta, &a.label_name).cmp(&(
            b.group.resource_type(),
            &b.resource_meta,
            &b.label_name,
        ))
    });
    m
}

/// A label as the summary shows it (alone, or associated with a resource).
fn summary_label(o: &Outcome<'_>, org_num: &Value) -> Value {
    let (color, description) = match &o.r.spec {
        Spec::Label { color, description } => (color.clone(), description.clone()),
        _ => Default::default(),
    };
    json!({
        "kind": "Label", "templateMetaName": o.r.meta_name, "envReferences": o.r.env_references,
        "id": num(o.id.as_deref()), "orgID": org_num, "name": o.r.name,
        "properties": { "color": color, "description": description },
    })
}

/// The summary: what exists after the apply (or would, on a dry run).
pub(crate) fn summary(
    outcomes: &[Outcome<'_>],
    mappings: &[Mapping],
    missing_envs: &[String],
    missing_secrets: &[String],
    org: &str,
) -> Value {
    let org_num = num(Some(org));
    let labels: HashMap<&str, Value> = outcomes
        .iter()
        .filter(|o| o.r.kind == Kind::Label)
        .map(|o| (o.r.meta_name.as_str(), summary_label(o, &org_num)))
        .collect();
    let mut lists: HashMap<&'static str, Vec<(String, Value)>> = HashMap::new();
    for o in outcomes {
        let r = o.r;
        let assoc: Vec<Value> = r.labels.iter().filter_map(|l| labels.get(l.as_str()).cloned()).collect();
        let now_or = |fallback: Value| o.now.clone().unwrap_or(fallback);
        let mut e =
            json!({ "kind": r.kind.as_str(), "templateMetaName": r.meta_name, "envReferences": r.env_references });
        let key = match &r.spec {
            Spec::Label { .. } => {
                lists.entry("labels").or_default().push((r.meta_name.clone(), summary_label(o, &org_num)));
                continue;
            }
            Spec::Bucket { description, retention_seconds } => {
                if o.id.is_some() {
                    e["id"] = num(o.id.as_deref());
                }
                e["orgID"] = org_num.clone();
                e["name"] = json!(r.name);
                e["description"] = json!(description);
                e["retentionPeriod"] = json!(retention_seconds.saturating_mul(1_000_000_000));
                "buckets"
            }
            Spec::Check { body } => {
                let mut check = now_or(body.clone());
                check["orgID"] = json!(org);
                e["check"] = check;
                e["status"] = body["status"].clone();
                "checks"
            }
            Spec::Dashboard { description, cells } => {
                e["id"] = num(o.id.as_deref());
                e["orgID"] = org_num.clone();
                e["name"] = json!(r.name);
                e["description"] = json!(description);
                e["charts"] = if cells.is_empty() {
                    Value::Null
                } else {
                    cells.iter().map(|c| json!({ "properties": c.properties, "xPos": c.x, "yPos": c.y, "height": c.h, "width": c.w })).collect()
                };
                "dashboards"
            }
            Spec::Endpoint { body } => {
                let mut b = body.clone();
                b["orgID"] = json!(org);
                e["notificationEndpoint"] = now_or(b);
                "notificationEndpoints"
            }
            Spec::Rule { endpoint, body } => {
                e["id"] = num(o.id.as_deref());
                e["name"] = json!(r.name);
                e["description"] = body["description"].clone();
                e["endpointID"] = num(o.endpoint.as_ref().map(|(i, _)| i.as_str()));
                e["endpointTemplateMetaName"] = json!(endpoint);
                e["endpointType"] = json!(o.endpoint.as_ref().map(|(_, t)| t.as_str()).unwrap_or_default());
                e["every"] = body["every"].clone();
                e["offset"] = json!(body["offset"].as_str().unwrap_or("0s"));
                e["messageTemplate"] = body["messageTemplate"].clone();
                e["status"] = body["status"].clone();
                e["statusRules"] = body["statusRules"].clone();
                e["tagRules"] = body["tagRules"].clone();
                "notificationRules"
            }
            Spec::Task { description, cron, every, offset, query, status, .. } => {
                e["id"] = num(o.id.as_deref());
                e["name"] = json!(r.name);
                e["cron"] = json!(cron);
                e["description"] = json!(description);
                e["every"] = json!(go(*every));
                e["offset"] = json!(go(*offset));
                e["query"] = json!(query);
                e["status"] = json!(status);
                "summaryTask"
            }
            Spec::Telegraf { description, config } => {
                e["telegrafConfig"] =
                    now_or(json!({ "orgID": org, "name": r.name, "description": description, "config": config }));
                "telegrafConfigs"
            }
            Spec::Variable { description, selected, arguments } => {
                if o.id.is_some() {
                    e["id"] = num(o.id.as_deref());
                }
                e["orgID"] = org_num.clone();
                e["name"] = json!(r.name);
                e["description"] = json!(description);
                e["variables"] = json!(selected);
                e["arguments"] = arguments.clone();
                "variables"
            }
        };
        e["labelAssociations"] = json!(assoc);
        lists.entry(key).or_default().push((r.meta_name.clone(), e));
    }
    let mut out = serde_json::Map::new();
    for key in ["buckets", "checks", "dashboards", "notificationEndpoints", "notificationRules", "labels"] {
        let mut list = lists.remove(key).unwrap_or_default();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert(key.into(), Value::Array(list.into_iter().map(|(_, v)| v).collect()));
    }
    let shown: Vec<Value> = sorted_mappings(mappings)
        .into_iter()
        .filter(|m| m.status != "remove")
        .map(|m| {
            json!({
                "status": m.status,
                "resourceID": num(m.resource_id.as_deref()),
                "resourceTemplateMetaName": m.resource_meta,
                "resourceName": m.resource_name,
                "resourceType": m.group.resource_type(),
                "labelTemplateMetaName": m.label_meta,
                "labelName": m.label_name,
                "labelID": num(m.label_id.as_deref()),
            })
        })
        .collect();
    out.insert("labelMappings".into(), json!(shown));
    out.insert("missingEnvRefs".into(), json!(missing_envs));
    out.insert("missingSecrets".into(), json!(missing_secrets));
    let mut tasks = lists.remove("summaryTask").unwrap_or_default();
    tasks.sort_by(|a, b| a.0.cmp(&b.0));
    let tasks: Vec<Value> = tasks.into_iter().map(|(_, v)| v).collect();
    out.insert("summaryTask".into(), json!(tasks));
    // The `influx` CLI's model reads tasks under this name.
    out.insert("tasks".into(), json!(tasks));
    for key in ["telegrafConfigs", "variables"] {
        let mut list = lists.remove(key).unwrap_or_default();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert(key.into(), Value::Array(list.into_iter().map(|(_, v)| v).collect()));
    }
    Value::Object(out)
}

/// An empty diff and summary (an apply that did not get as far as planning).
pub(crate) fn empty(org: &str) -> (Value, Value) {
    let mut s = summary(&[], &[], &[], &[], org);
    s["missingEnvRefs"] = Value::Null;
    s["missingSecrets"] = Value::Null;
    (diff(&[], &[], &[], org), s)
}
