//! The native parts of the notification packages (the rest is Flux:
//! `flux/slack.flux`, `flux/pagerduty.flux`, ...): what Flux itself writes
//! in Go for them.

use arrow::datatypes::DataType;
use sha2::{Digest, Sha256};

use crate::args::{self, builtin, fail, stream};
use flux_runtime::error::EvalResult;
use flux_runtime::interp::{Args, Interp};
use flux_runtime::stream::Stream;
use flux_runtime::table::{Table, array_of};
use flux_runtime::value::Value;

/// `slack.validateColorString`: `good`, `warning`, `danger` or `#rrggbb`.
pub(super) fn slack() -> Vec<(&'static str, Value)> {
    vec![(
        "validateColorString",
        builtin("validateColorString", &["color"], None, |_, a| {
            let color = args::string(a, "color")?;
            let named = matches!(color, "good" | "warning" | "danger");
            let hex = color
                .strip_prefix('#')
                .is_some_and(|h| i64::from_str_radix(h, 16).is_ok_and(|n| (0..=0xffffff).contains(&n)));
            if named || hex { Ok(Value::String(color.to_owned())) } else { fail("could not parse color string") }
        }),
    )]
}

/// `opsgenie.respondersToJSON`: `user:`, `team:`, `escalation:` and
/// `schedule:` names as the JSON array Opsgenie takes.
pub(super) fn opsgenie() -> Vec<(&'static str, Value)> {
    vec![(
        "respondersToJSON",
        builtin("respondersToJSON", &["v"], None, |_, a| {
            let mut out = String::from("[");
            for (i, item) in args::strings(a, "v")?.iter().enumerate() {
                let (kind, field, name) = match item.split_once(':') {
                    Some(("user", n)) => ("user", "username", n),
                    Some((k @ ("team" | "escalation" | "schedule"), n)) => (k, "name", n),
                    _ => {
                        return fail(format!(
                            "unsupported responder \"{item}\", it must start with one of ['user:','team:','escalation:','schedule:']"
                        ));
                    }
                };
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{{\"type\":\"{kind}\",\"{field}\":"));
                super::dynamic::string(name, &mut out);
                out.push('}');
            }
            out.push(']');
            Ok(Value::String(out))
        }),
    )]
}

/// `sensu.toSensuName`: a name with every character Sensu refuses made `_`.
pub(super) fn sensu() -> Vec<(&'static str, Value)> {
    vec![(
        "toSensuName",
        builtin("toSensuName", &["v"], None, |_, a| {
            let v = args::string(a, "v")?;
            if v.is_empty() {
                return Ok(Value::String("_".to_owned()));
            }
            let keep = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
            Ok(Value::String(v.chars().map(|c| if keep(c) { c } else { '_' }).collect()))
        }),
    )]
}

/// `pagerduty.dedupKey`.
pub(super) fn pagerduty() -> Vec<(&'static str, Value)> {
    vec![("dedupKey", builtin("dedupKey", &["exclude"], Some("tables"), dedup_key))]
}

/// The column `dedupKey` adds.
const DEDUP_COLUMN: &str = "_pagerdutyDedupKey";

/// `dedupKey(exclude)`: each row gets the SHA-256 (hex) of its table's group
/// key without the excluded columns (`_start`, `_stop`, `_level` unless
/// told): the key's columns in name order, each name and value on a line of
/// its own, values as Go prints them. Rows of one series share a key
/// whatever their level, so PagerDuty sees one incident.
fn dedup_key(_: &mut Interp, a: &Args) -> EvalResult<Value> {
    let exclude = match a.get("exclude") {
        None => vec!["_start".to_owned(), "_stop".to_owned(), "_level".to_owned()],
        Some(_) => args::strings(a, "exclude")?,
    };
    let input = stream(a, "tables")?;
    Ok(Value::Stream(Stream::per_table("pagerduty.dedupKey", input, move |_, t| {
        let mut parts: Vec<(&str, String)> = Vec::new();
        for (name, value) in &t.key.0 {
            if exclude.iter().any(|e| e == name) {
                continue;
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Int(n) => n.to_string(),
                Value::UInt(n) => n.to_string(),
                Value::Float(f) => format!("{f}"),
                Value::Bool(b) => b.to_string(),
                Value::Time(ns) => time::civil::go_string(*ns),
                Value::Duration(d) => flux_runtime::duration::format_duration(d),
                other => return fail(format!("cannot convert {} to string", other.type_name())),
            };
            parts.push((name, text));
        }
        parts.sort_by(|x, y| x.0.cmp(y.0));
        let mut hasher = Sha256::new();
        for (name, text) in &parts {
            hasher.update(format!("{name}\n{text}\n"));
        }
        let key: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let mut cols = t.columns();
        cols.retain(|(n, _)| n != DEDUP_COLUMN);
        let rows = t.num_rows();
        cols.push((DEDUP_COLUMN.to_owned(), array_of(&DataType::Utf8, (0..rows).map(|_| Value::String(key.clone())))));
        Ok(vec![Table::with_key(t.key.clone(), cols)?])
    })))
}
