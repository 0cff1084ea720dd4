//! Objects to resources: the envelope (`apiVersion`, `kind`,
//! `metadata.name`), names unique per kind, label associations, and each
//! kind's spec, with every fault found at once, as 2.7 reports them.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::error::{Fault, Faults};
use crate::field::{self, Ctx, Ref};
use crate::{Envs, Group, Kind, Resource, Template};

const API_VERSIONS: [&str; 2] = ["influxdata.com/v2alpha1", "influxdata.com/v2alpha2"];

/// Reads a template's objects with the env values given for it. Every
/// fault of every object is reported at once; no faults, no resources.
pub fn read(objects: &[Value], envs: &Envs) -> Result<Template, Vec<Fault>> {
    let mut faults: Vec<Fault> = Vec::new();
    let mut resources = Vec::new();
    let mut missing = BTreeSet::new();
    let mut secrets: Vec<String> = Vec::new();
    let label_names: HashSet<String> = objects
        .iter()
        .filter(|o| o["kind"].as_str() == Some("Label"))
        .map(|o| Ref::read(&o["metadata"]["name"], envs).text())
        .collect();
    let mut meta_seen: HashSet<(Group, String)> = HashSet::new();
    let mut names_seen: HashSet<(Group, String)> = HashSet::new();
    for (index, object) in objects.iter().enumerate() {
        let kind_text = object["kind"].as_str().unwrap_or_default();
        let fault = |path: &str, reason: String| {
            let mut f = Faults::default();
            f.add(path, reason);
            let (p, r) = f.list.remove(0);
            let mut full = vec![("root".to_owned(), Some(index))];
            full.extend(p);
            Fault {
                kind: if kind_text.is_empty() { "unknown".into() } else { kind_text.into() },
                path: full,
                reason: r,
            }
        };
        let Some(object) = object.as_object() else {
            faults.push(fault("kind", "invalid kind".into()));
            continue;
        };
        let kind = match Kind::parse(kind_text) {
            Some(k) => k,
            None if kind_text.is_empty() => {
                faults.push(fault("kind", "invalid kind".into()));
                continue;
            }
            // 2.7 reads these two and makes nothing of them.
            None if kind_text == "Check" || kind_text == "NotificationEndpoint" => continue,
            None => {
                faults.push(fault("kind", "unsupported kind provided".into()));
                continue;
            }
        };
        let version = object.get("apiVersion").map(field::text).unwrap_or_default();
        if !API_VERSIONS.contains(&version.as_str()) {
            faults.push(fault(
                "apiVersion",
                format!(
                    "invalid API version provided {version:?}; must be 1 in [influxdata.com/v2alpha1, influxdata.com/v2alpha2]"
                ),
            ));
            continue;
        }
        let null = Value::Null;
        let metadata = object.get("metadata").unwrap_or(&null);
        let spec_value = object.get("spec").unwrap_or(&null);
        let empty = Map::new();
        let spec = spec_value.as_object().unwrap_or(&empty);
        let mut ctx = Ctx {
            envs,
            faults: Faults::default(),
            env_references: Vec::new(),
            env_keys: BTreeSet::new(),
            secrets: Vec::new(),
        };
        let meta_ref = ctx.reference(&metadata["name"], "metadata.name");
        // 2.7 checks the name as written (an env key's default), not the value given.
        let written_name = Ref { value: None, ..meta_ref.clone() }.text();
        let checked_name = if meta_ref.env_key.is_some() { written_name } else { meta_ref.text() };
        if let Some(reason) = dns_label_fault(&checked_name) {
            faults.push(fault("metadata.name", reason));
            continue;
        }
        let meta_name = meta_ref.text();
        if !meta_seen.insert((kind.group(), meta_name.clone())) {
            faults.push(fault("metadata.name", format!("duplicate name: {meta_name}")));
            continue;
        }
        let display = ctx.reference(spec.get("name").unwrap_or(&null), "spec.name").text();
        let name = if display.is_empty() { meta_name.clone() } else { display };
        let unique_display =
            matches!(kind.group(), Group::Label | Group::Variable | Group::Bucket | Group::NotificationEndpoint);
        if unique_display && !names_seen.insert((kind.group(), name.clone())) {
            faults.push(fault("spec.name", format!("duplicate name: {meta_name}")));
            continue;
        }
        // 2.7 reports a spec's faults before its associations'.
        let body = crate::spec::read(kind, &meta_name, &name, spec, &mut ctx);
        let labels = if kind == Kind::Label { Vec::new() } else { associations(spec, &label_names, &mut ctx) };
        let object_faults = std::mem::take(&mut ctx.faults);
        if !object_faults.is_empty() {
            for (path, reason) in object_faults.list {
                let mut full = vec![("root".to_owned(), Some(index))];
                full.extend(path);
                faults.push(Fault { kind: kind.as_str().to_owned(), path: full, reason });
            }
            continue;
        }
        missing.extend(ctx.env_keys);
        for s in ctx.secrets {
            if !secrets.contains(&s) {
                secrets.push(s);
            }
        }
        resources.push(Resource {
            kind,
            meta_name,
            name,
            index,
            labels,
            env_references: ctx.env_references,
            spec: body,
        });
    }
    check_endpoints(&resources, &mut faults);
    if !faults.is_empty() {
        let mut seen = HashSet::new();
        faults.retain(|f| seen.insert(f.clone()));
        faults.sort_by_key(|f| f.path.first().and_then(|(_, i)| *i).unwrap_or(0));
        return Err(faults);
    }
    Ok(Template { resources, missing_envs: missing.into_iter().collect(), secrets })
}

/// A rule's endpoint must be one of the template's endpoints.
fn check_endpoints(resources: &[Resource], faults: &mut Vec<Fault>) {
    let endpoints: HashMap<&str, ()> = resources
        .iter()
        .filter(|r| r.group() == Group::NotificationEndpoint)
        .map(|r| (r.meta_name.as_str(), ()))
        .collect();
    for r in resources {
        if let crate::Spec::Rule { endpoint, .. } = &r.spec
            && !endpoints.contains_key(endpoint.as_str())
        {
            faults.push(Fault {
                kind: r.kind.as_str().to_owned(),
                path: vec![("root".into(), Some(r.index)), ("spec".into(), None), ("endpointName".into(), None)],
                reason: format!("notification endpoint {endpoint:?} does not exist in pkg"),
            });
        }
    }
}

/// The labels a resource is associated with, by their `metadata.name`s.
fn associations(spec: &Map<String, Value>, labels: &HashSet<String>, ctx: &mut Ctx<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let null = Value::Null;
    for (i, a) in spec.get("associations").map(field::objects).unwrap_or_default().into_iter().enumerate() {
        let kind = a.get("kind").and_then(Value::as_str);
        match kind {
            None => ctx.faults.add(&format!("associations[{i}].kind"), "no kind provided"),
            Some("") => ctx.faults.add(&format!("associations[{i}].kind"), "invalid kind"),
            Some("Label") => {
                let r = ctx.reference(a.get("name").unwrap_or(&null), &format!("spec.associations[{i}].name"));
                let name = r.text().trim().to_owned();
                if !labels.contains(&name) {
                    let raw = if r.env_key.is_some() { String::new() } else { name };
                    ctx.faults.add(&format!("associations[{i}]"), format!("label {raw:?} does not exist in pkg"));
                } else if out.contains(&name) {
                    ctx.faults.add(&format!("associations[{i}]"), format!("duplicate nested label: {name:?}"));
                } else {
                    out.push(name);
                }
            }
            Some(k) if Kind::parse(k).is_some() => {}
            Some(_) => ctx.faults.add(&format!("associations[{i}].kind"), "unsupported kind provided"),
        }
    }
    out.sort();
    out
}

/// Why a name is not a DNS-1123 label, as Kubernetes words it (2.7 uses its check).
fn dns_label_fault(name: &str) -> Option<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = name.as_bytes();
    let valid = !b.is_empty() && ok_char(b[0]) && ok_char(b[b.len() - 1]) && b.iter().all(|&c| ok_char(c) || c == b'-');
    if !valid {
        errs.push(
            "a DNS-1123 label must consist of lower case alphanumeric characters or '-', and must start and end \
             with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is \
             '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
                .to_owned(),
        );
    }
    (!errs.is_empty()).then(|| format!("name {name:?} is invalid; {}", errs.join("; ")))
}

#[cfg(test)]
mod tests;
