//! `reference/openapi/oss.yml` read for checking answers: each operation's
//! documented responses, and a JSON-Schema validator (the `jsonschema`
//! crate) for a response body. OpenAPI 3.0's schema objects are JSON Schema
//! draft 4 but for `nullable`, which is rewritten into a `null` type here.

use std::collections::HashMap;

use serde_json::{Value, json};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/openapi/oss.yml");

pub(crate) struct Spec {
    doc: Value,
    validators: HashMap<String, jsonschema::Validator>,
}

/// What the spec says of one answer of an operation.
pub(crate) enum Documented<'a> {
    /// The status is not among the operation's responses (nor is a `default`).
    Undocumented,
    /// Documented, with these media types and their schemas (none: no body).
    Content(Vec<(&'a str, Option<&'a Value>)>),
}

impl Spec {
    pub(crate) fn load() -> Self {
        let text = std::fs::read_to_string(SPEC).expect("the reference pack beside the repository");
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("oss.yml is YAML");
        let mut doc = serde_json::to_value(yaml).expect("oss.yml as JSON");
        to_json_schema(&mut doc);
        Spec { doc, validators: HashMap::new() }
    }

    /// Every operation as (method, path, operationId), in the spec's order.
    pub(crate) fn operations(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (path, ops) in self.doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in ops.as_object().into_iter().flatten() {
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    out.push((method.to_uppercase(), path.clone(), id.to_owned()));
                }
            }
        }
        out
    }

    /// The operation at `method` and `path` (as oss.yml writes the path).
    pub(crate) fn operation(&self, method: &str, path: &str) -> Option<&Value> {
        self.doc["paths"].get(path)?.get(method.to_lowercase())
    }

    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => self.doc.pointer(pointer).map_or(v, |t| self.deref(t)),
            None => v,
        }
    }

    /// The request body's schema for `media` (`application/json`).
    pub(crate) fn request_schema<'a>(&'a self, op: &'a Value, media: &str) -> Option<&'a Value> {
        let body = self.deref(op.get("requestBody")?);
        body["content"].get(media)?.get("schema").map(|s| self.deref(s))
    }

    /// The operation's query parameters: (name, its schema's `type`).
    pub(crate) fn query_parameters(&self, op: &Value) -> Vec<(String, String)> {
        let Some(params) = op["parameters"].as_array() else { return Vec::new() };
        params
            .iter()
            .map(|p| self.deref(p))
            .filter(|p| p["in"] == "query")
            .filter_map(|p| {
                let ty = self.deref(&p["schema"])["type"].as_str()?.to_owned();
                Some((p["name"].as_str()?.to_owned(), ty))
            })
            .collect()
    }

    /// A schema with its `$ref` followed (for reading its properties).
    pub(crate) fn resolved<'a>(&'a self, schema: &'a Value) -> &'a Value {
        self.deref(schema)
    }

    pub(crate) fn response<'a>(&'a self, op: &'a Value, status: u16) -> Documented<'a> {
        let responses = &op["responses"];
        let Some(r) = responses.get(status.to_string()).or_else(|| responses.get("default")) else {
            return Documented::Undocumented;
        };
        let r = self.deref(r);
        let content = match r.get("content").and_then(Value::as_object) {
            None => Vec::new(),
            Some(c) => c.iter().map(|(media, m)| (media.as_str(), m.get("schema"))).collect(),
        };
        Documented::Content(content)
    }

    /// Every way `body` breaks `schema`, as one line each; empty when it holds.
    pub(crate) fn violations(&mut self, schema: &Value, body: &Value) -> Vec<String> {
        let key = schema.to_string();
        if !self.validators.contains_key(&key) {
            // The schema at the root of a document holding the spec's
            // components, so that its `#/components/...` references resolve.
            let mut root = json!({"components": self.doc["components"].clone()});
            if let (Some(r), Some(s)) = (root.as_object_mut(), schema.as_object()) {
                for (k, v) in s {
                    r.insert(k.clone(), v.clone());
                }
            }
            // 2.7's `links` are paths on the same server ("/api/v2/buckets/1"), which
            // the spec calls `uri`: a URI reference is what it means.
            let validator = jsonschema::draft4::options()
                .should_validate_formats(true)
                .with_format("uri", |s: &str| !s.is_empty() && !s.chars().any(char::is_whitespace))
                .build(&root);
            self.validators.insert(key.clone(), validator.expect("oss.yml's schema compiles"));
        }
        self.validators[&key].iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }
}

/// OpenAPI 3.0 to JSON Schema: `nullable: true` lets `null` in. And
/// `oneOf` reads as `anyOf`: oss.yml's alternatives overlap (a dashboard
/// without cells is both a `Dashboard` and a `DashboardWithViewProperties`,
/// an AST statement fits several), and clients take the first that fits.
fn to_json_schema(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(alternatives) = map.remove("oneOf") {
                map.insert("anyOf".into(), alternatives);
            }
            if map.remove("nullable") == Some(Value::Bool(true)) {
                match map.get("type").cloned() {
                    Some(Value::String(t)) => {
                        map.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(e)) = map.get_mut("enum") {
                            e.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            for child in map.values_mut() {
                to_json_schema(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}
