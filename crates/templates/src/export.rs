//! Stored resources, as the API answers them, written back as template
//! objects the way 2.7 exports them: only the fields that are set, labels
//! as associations, a rule's endpoint by its exported `metadata.name`.

use serde_json::{Map, Value, json};

use crate::{API_VERSION, Group, Kind};

/// One exported object with its kind and `metadata.name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub kind: Kind,
    pub meta_name: String,
    pub object: Value,
}

/// The kind a stored resource of `group` is exported as (`None`: one a
/// template cannot hold, such as a Telegram endpoint).
fn kind_of(group: Group, api: &Value) -> Option<Kind> {
    Some(match group {
        Group::Label => Kind::Label,
        Group::Bucket => Kind::Bucket,
        Group::Check => match api["type"].as_str()? {
            "threshold" => Kind::CheckThreshold,
            "deadman" => Kind::CheckDeadman,
            _ => return None,
        },
        Group::NotificationEndpoint => match api["type"].as_str()? {
            "http" => Kind::NotificationEndpointHttp,
            "pagerduty" => Kind::NotificationEndpointPagerDuty,
            "slack" => Kind::NotificationEndpointSlack,
            _ => return None,
        },
        Group::NotificationRule => Kind::NotificationRule,
        Group::Task => Kind::Task,
        Group::Variable => Kind::Variable,
        Group::Dashboard => Kind::Dashboard,
        Group::Telegraf => Kind::Telegraf,
    })
}

/// A spec that keeps only set fields.
#[derive(Default)]
struct SpecOut(Map<String, Value>);

impl SpecOut {
    fn put(&mut self, k: &str, v: &Value) {
        let set = match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty() && s != "0s",
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        };
        if set {
            self.0.insert(k.to_owned(), v.clone());
        }
    }

    fn always(&mut self, k: &str, v: Value) {
        self.0.insert(k.to_owned(), v);
    }
}

/// Exports the stored resource `api` (its API answer; a dashboard's with
/// its cells' views) as `meta_name`, associated with the labels exported
/// as `labels`. A rule names its endpoint by `endpoint`'s exported name.
pub fn export_object(
    group: Group,
    api: &Value,
    meta_name: &str,
    labels: &[String],
    endpoint: Option<&str>,
) -> Option<Exported> {
    let kind = kind_of(group, api)?;
    let mut s = SpecOut::default();
    s.always("name", api["name"].clone());
    s.put("description", &api["description"]);
    match kind {
        Kind::Label => {
            s.put("color", &api["properties"]["color"]);
            s.put("description", &api["properties"]["description"]);
        }
        Kind::Bucket => {
            let every = api["retentionRules"].as_array().and_then(|r| r.first()).map(|r| r["everySeconds"].clone());
            if let Some(e) = every.filter(|e| e.as_i64().unwrap_or(0) > 0) {
                s.always("retentionRules", json!([{ "type": "expire", "everySeconds": e }]));
            }
        }
        Kind::CheckThreshold | Kind::CheckDeadman => {
            s.always("status", json!("active"));
            s.always("query", json!(api["query"]["text"].as_str().unwrap_or_default().trim()));
            s.always("statusMessageTemplate", api["statusMessageTemplate"].clone());
            s.put("every", &api["every"]);
            s.put("offset", &api["offset"]);
            s.put("tags", &api["tags"]);
            if kind == Kind::CheckThreshold {
                let thresholds: Vec<Value> = api["thresholds"]
                    .as_array()
                    .map(|ts| {
                        ts.iter()
                            .map(|t| {
                                let mut o = Map::new();
                                o.insert("level".into(), t["level"].clone());
                                if t["type"] == "range" {
                                    let within = t["within"].as_bool().unwrap_or(false);
                                    o.insert(
                                        "type".into(),
                                        json!(if within { "inside_range" } else { "outside_range" }),
                                    );
                                    o.insert("min".into(), t["min"].clone());
                                    o.insert("max".into(), t["max"].clone());
                                } else {
                                    o.insert("type".into(), t["type"].clone());
                                    o.insert("value".into(), t["value"].clone());
                                }
                                if t["allValues"].as_bool() == Some(true) {
                                    o.insert("allValues".into(), json!(true));
                                }
                                Value::Object(o)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                s.always("thresholds", json!(thresholds));
            } else {
                s.always("level", api["level"].clone());
                s.put("timeSince", &api["timeSince"]);
                s.put("staleTime", &api["staleTime"]);
                s.put("reportZero", &api["reportZero"]);
            }
        }
        Kind::NotificationEndpointHttp | Kind::NotificationEndpointPagerDuty | Kind::NotificationEndpointSlack => {
            s.always("status", api["status"].clone());
            let secret = |v: &Value| match v.as_str() {
                Some(t) => match t.strip_prefix("secret: ") {
                    Some(key) => json!({ "secretRef": { "key": key } }),
                    None => json!(t),
                },
                None => Value::Null,
            };
            match kind {
                Kind::NotificationEndpointPagerDuty => {
                    s.put("url", &api["clientURL"]);
                    s.put("routingKey", &secret(&api["routingKey"]));
                }
                Kind::NotificationEndpointSlack => {
                    s.put("url", &api["url"]);
                    s.put("token", &secret(&api["token"]));
                }
                _ => {
                    s.put("url", &api["url"]);
                    s.put("method", &api["method"]);
                    s.always("type", api["authMethod"].clone());
                    for k in ["username", "password", "token"] {
                        s.put(k, &secret(&api[k]));
                    }
                }
            }
        }
        Kind::NotificationRule => {
            s.always("endpointName", json!(endpoint.unwrap_or_default()));
            s.put("every", &api["every"]);
            s.put("offset", &api["offset"]);
            s.put("tagRules", &api["tagRules"]);
            s.put("statusRules", &api["statusRules"]);
            s.put("channel", &api["channel"]);
            if api["type"] != "http" {
                s.always("messageTemplate", api["messageTemplate"].clone());
            }
        }
        Kind::Task => {
            s.put("cron", &api["cron"]);
            s.put("every", &api["every"]);
            s.put("offset", &api["offset"]);
            s.always("query", json!(without_task_option(api["flux"].as_str().unwrap_or_default())));
        }
        Kind::Variable => {
            s.put("selected", &api["selected"]);
            let args = &api["arguments"];
            s.always("type", args["type"].clone());
            match args["type"].as_str() {
                Some("query") => {
                    s.always("language", args["values"]["language"].clone());
                    s.always("query", json!(args["values"]["query"].as_str().unwrap_or_default().trim()));
                }
                _ => s.always("values", args["values"].clone()),
            }
        }
        Kind::Telegraf => {
            s.put("config", &api["config"]);
        }
        Kind::Dashboard => {
            let mut cells: Vec<&Value> = api["cells"].as_array().map(|c| c.iter().collect()).unwrap_or_default();
            cells.sort_by_key(|c| (c["x"].as_i64().unwrap_or(0), c["y"].as_i64().unwrap_or(0)));
            let charts: Vec<Value> = cells
                .iter()
                .filter_map(|c| {
                    let int = |k: &str| c[k].as_i64().unwrap_or(0);
                    // A cell shows its view's name and properties (`?include=properties`).
                    let view = if c["properties"].is_object() { *c } else { &c["view"] };
                    crate::chart::export(
                        int("x"),
                        int("y"),
                        int("w"),
                        int("h"),
                        view["name"].as_str().unwrap_or_default(),
                        &view["properties"],
                    )
                })
                .collect();
            s.always("charts", json!(charts));
        }
    }
    if !labels.is_empty() {
        let mut sorted = labels.to_vec();
        sorted.sort();
        let assoc: Vec<Value> = sorted.iter().map(|l| json!({ "kind": "Label", "name": l })).collect();
        s.always("associations", json!(assoc));
    }
    let object = json!({
        "apiVersion": API_VERSION,
        "kind": kind.as_str(),
        "metadata": { "name": meta_name },
        "spec": Value::Object(s.0),
    });
    Some(Exported { kind, meta_name: meta_name.to_owned(), object })
}

/// A task's script without its `option task = {...}` (a template's task
/// describes its schedule in its spec).
fn without_task_option(flux: &str) -> String {
    let Some(start) = flux.find("option task") else {
        return flux.trim().to_owned();
    };
    let Some(open) = flux[start..].find('{').map(|i| start + i) else {
        return flux.trim().to_owned();
    };
    let mut depth = 0;
    let mut end = flux.len();
    for (i, ch) in flux[open..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = open + i + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    let before = flux[..start].trim_end();
    let after = flux[end..].trim_start();
    if before.is_empty() { after.trim().to_owned() } else { format!("{before}\n\n{after}").trim().to_owned() }
}

/// Objects as a YAML stream, one document each (as `influx apply -f` and
/// the community templates read them).
pub fn to_yaml(objects: &[Value]) -> Result<String, String> {
    let mut text = String::new();
    for v in objects {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(v).map_err(|e| format!("writing YAML: {e}"))?);
    }
    Ok(text)
}

/// Exported objects in 2.7's order: by kind, then by name.
pub fn order_objects(objects: &mut [Exported]) {
    objects.sort_by(|a, b| (a.kind, &a.meta_name).cmp(&(b.kind, &b.meta_name)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_exports_its_script_without_the_task_option() {
        let flux = "import \"strings\"\n\noption task = { name: \"t\", every: 1h0m0s }\n\nfrom(bucket: \"b\")";
        assert_eq!(without_task_option(flux), "import \"strings\"\n\nfrom(bucket: \"b\")");
        assert_eq!(
            without_task_option("option task = {name: \"x\", every: 1m}\nfrom(bucket: \"b\")"),
            "from(bucket: \"b\")"
        );
    }
}
