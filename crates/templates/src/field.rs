//! A spec's fields read as 2.7's pkger reads them: loosely. A value of the
//! wrong type reads as the zero value (a number where text is wanted reads
//! as its text), so templates written by hand or by older exports apply.

use serde_json::{Map, Value};

use std::collections::BTreeSet;

use crate::Envs;
use crate::error::Faults;

/// The text of a value: a string as is, a number as its shortest text.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            (None, Some(f)) => f.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// A whole number (a float is truncated), 0 otherwise.
pub(crate) fn int(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or_else(|| n.as_f64().map_or(0, |f| f as i64)),
        _ => 0,
    }
}

pub(crate) fn float(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// True only for a boolean `true`.
pub(crate) fn boolean(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

/// Trimmed and lowercased text.
pub(crate) fn norm(v: &Value) -> String {
    text(v).trim().to_lowercase()
}

/// Texts of a list's elements (elements that are not text or numbers dropped).
pub(crate) fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|items| items.iter().filter(|i| i.is_string() || i.is_number()).map(text).collect())
        .unwrap_or_default()
}

/// The objects of a list (other elements dropped).
pub(crate) fn objects(v: &Value) -> Vec<&Map<String, Value>> {
    v.as_array().map(|items| items.iter().filter_map(Value::as_object).collect()).unwrap_or_default()
}

/// A Flux duration literal (`1h30m`, `-5m`, `1m0s`) in nanoseconds; 0 when
/// the value is not one (a bare number is not). Months and years count as
/// 30 and 365 days, as a schedule measures them.
pub(crate) fn duration(v: &Value) -> i64 {
    parse_duration(v.as_str().unwrap_or_default()).unwrap_or(0)
}

pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        if unit_len == 0 {
            return None;
        }
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "mo" => 30 * time::DAY,
            "y" => 365 * time::DAY,
            u => time::duration::unit_nanos(u)?,
        };
        total = total.checked_add(n.checked_mul(scale)?)?;
    }
    Some(if negative { -total } else { total })
}

/// A field that may be a reference to a value given at apply time
/// (`{envRef: {key, default}}`) or to an org secret (`{secretRef: {key}}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ref {
    pub(crate) env_key: Option<String>,
    pub(crate) secret_key: Option<String>,
    pub(crate) default: Option<Value>,
    /// The value written in the template, or given for its env key.
    pub(crate) value: Option<Value>,
}

impl Ref {
    pub(crate) fn read(v: &Value, envs: &Envs) -> Ref {
        if let Some(env) = v.get("envRef").and_then(Value::as_object) {
            let key = text(env.get("key").unwrap_or(&Value::Null));
            let default = env.get("default").filter(|d| !d.is_null()).cloned();
            let value = envs.get(&key).filter(|v| !v.is_null()).cloned();
            return Ref { env_key: Some(key), secret_key: None, default, value };
        }
        if let Some(secret) = v.get("secretRef").and_then(Value::as_object) {
            let key = text(secret.get("key").unwrap_or(&Value::Null));
            return Ref { env_key: None, secret_key: Some(key), default: None, value: None };
        }
        match v {
            Value::Null => Ref::default(),
            other => Ref { value: Some(other.clone()), ..Ref::default() },
        }
    }

    /// The text the reference stands for: its value, else its default,
    /// else `env-<key>`; empty for a secret.
    pub(crate) fn text(&self) -> String {
        if let Some(v) = self.value.as_ref().map(text).filter(|s| !s.is_empty()) {
            return v;
        }
        match &self.env_key {
            Some(key) => {
                self.default.as_ref().map(text).filter(|s| !s.is_empty()).unwrap_or_else(|| format!("env-{key}"))
            }
            None => String::new(),
        }
    }

    /// The summary's `envReferences` entry for this reference at `field`.
    pub(crate) fn env_reference(&self, field: &str) -> Option<Value> {
        let key = self.env_key.as_ref()?;
        Some(serde_json::json!({
            "resourceField": field,
            "envRefKey": key,
            "valueType": "string",
            "value": self.value.clone(),
            "defaultValue": self.default.clone(),
        }))
    }
}

/// What reading one object gathers besides its spec: its faults, the env
/// references it makes and the secrets it names.
pub(crate) struct Ctx<'a> {
    pub(crate) envs: &'a Envs,
    pub(crate) faults: Faults,
    pub(crate) env_references: Vec<Value>,
    pub(crate) env_keys: BTreeSet<String>,
    pub(crate) secrets: Vec<String>,
}

impl Ctx<'_> {
    /// Reads a field that may be a reference, recording it for the summary.
    pub(crate) fn reference(&mut self, v: &Value, field: &str) -> Ref {
        let r = Ref::read(v, self.envs);
        if let Some(e) = r.env_reference(field) {
            self.env_references.push(e);
        }
        if let Some(key) = &r.env_key
            && r.value.is_none()
        {
            self.env_keys.insert(key.clone());
        }
        if let Some(key) = r.secret_key.as_ref().filter(|k| !k.is_empty())
            && !self.secrets.contains(key)
        {
            self.secrets.push(key.clone());
        }
        r
    }
}
