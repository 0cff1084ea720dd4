//! `POST /api/v2/templates/export`: stored resources written as a template
//! that applies again: by `resources` (kind and ID or name), by `orgIDs`
//! (every resource of the org, filtered by label and kind), or by
//! `stackID` (what a stack installed, under its recorded names). A label
//! a resource carries and a rule's endpoint are exported with it.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use templates::{Exported, Group};

use super::client::Api;
use super::resources;
use super::stacks;
use crate::error::{ApiError, ApiResult, Code};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;

/// One resource to export: its group, ID and the `metadata.name` it gets.
struct Target {
    group: Group,
    id: String,
    meta_name: Option<String>,
    rename: Option<String>,
}

pub(crate) async fn export(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    use super::Ty::{Objects, Str};
    let b = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        super::object_body(&body, &[("stackID", Str), ("orgIDs", Objects), ("resources", Objects)])?
    };
    for r in b["resources"].as_array().into_iter().flatten() {
        super::typed(r, &[("kind", Str), ("id", Str), ("name", Str)])?;
    }
    for o in b["orgIDs"].as_array().into_iter().flatten() {
        super::typed(o, &[("orgID", Str), ("resourceFilters", super::Ty::Object)])?;
    }
    let api = Api::new(&state, &p)?;
    let mut targets: Vec<Target> = Vec::new();
    let given =
        |k: &str| b[k].as_array().is_some_and(|a| !a.is_empty()) || b[k].as_str().is_some_and(|s| !s.is_empty());
    if !given("stackID") && !given("orgIDs") && !given("resources") {
        return Err(ApiError::new(Code::Unprocessable, "at least 1 resource, 1 org id, or stack id must be provided"));
    }
    if let Some(raw) = b["stackID"].as_str().filter(|s| !s.is_empty()) {
        let id: Id = raw.parse().map_err(|_| ApiError::invalid(format!("invalid stack ID provided: {raw:?}")))?;
        let stack = stacks::load(&state, id).await?;
        p.require(meta::auth::Action::Read, meta::auth::Resource::one(meta::auth::ResourceType::Orgs, stack.org_id))?;
        for r in stack.latest().resources {
            targets.push(Target { group: r.group, id: r.id, meta_name: Some(r.meta_name), rename: None });
        }
    }
    for o in b["orgIDs"].as_array().cloned().unwrap_or_default() {
        let raw = o["orgID"].as_str().unwrap_or_default();
        raw.parse::<Id>().map_err(|_| ApiError::invalid(format!("provided org id is invalid: {raw:?}")))?;
        let filters = &o["resourceFilters"];
        let kinds: Vec<Group> = match filters["byResourceKind"].as_array().filter(|a| !a.is_empty()) {
            Some(ks) => {
                let mut out = Vec::new();
                for k in ks {
                    let name = k.as_str().unwrap_or_default();
                    out.push(
                        Group::parse(name)
                            .ok_or_else(|| ApiError::invalid(format!("unsupported kind provided: {name:?}")))?,
                    );
                }
                out
            }
            None => Group::ALL.to_vec(),
        };
        let by_label: Vec<&str> =
            filters["byLabel"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        for group in kinds {
            for r in resources::list(&api, group, raw).await? {
                if group == Group::Bucket && resources::is_system_bucket(&r) {
                    continue;
                }
                if group == Group::Task && r["type"].as_str().is_some_and(|t| t != "system" && !t.is_empty()) {
                    continue;
                }
                let id = r["id"].as_str().unwrap_or_default().to_owned();
                if !by_label.is_empty() {
                    let names: Vec<String> = if group == Group::Label {
                        vec![r["name"].as_str().unwrap_or_default().to_owned()]
                    } else {
                        resources::labels_of(&api, group, &id).await?.into_iter().map(|(_, n)| n).collect()
                    };
                    if !names.iter().any(|n| by_label.contains(&n.as_str())) {
                        continue;
                    }
                }
                targets.push(Target { group, id, meta_name: None, rename: None });
            }
        }
    }
    for r in b["resources"].as_array().cloned().unwrap_or_default() {
        let kind = r["kind"].as_str().unwrap_or_default();
        let group = Group::parse(kind).ok_or_else(|| {
            ApiError::invalid(if kind.is_empty() {
                "invalid kind".to_owned()
            } else {
                format!("unsupported kind provided: {kind:?}")
            })
        })?;
        let name = r["name"].as_str().filter(|n| !n.is_empty()).map(str::to_owned);
        match r["id"].as_str().filter(|i| !i.is_empty()) {
            Some(id) => {
                id.parse::<Id>()
                    .map_err(|_| ApiError::invalid(format!("failed to unmarshal json: invalid ID {id:?}")))?;
                targets.push(Target { group, id: id.to_owned(), meta_name: None, rename: name });
            }
            None => {
                let Some(name) = name else {
                    return Err(ApiError::invalid("must provide an ID or name"));
                };
                let orgs = api.get("/api/v2/orgs").await?;
                for org in orgs["orgs"].as_array().cloned().unwrap_or_default() {
                    let oid = org["id"].as_str().unwrap_or_default();
                    for found in resources::list(&api, group, oid).await? {
                        if found["name"] == name.as_str() {
                            let id = found["id"].as_str().unwrap_or_default().to_owned();
                            targets.push(Target { group, id, meta_name: None, rename: None });
                        }
                    }
                }
            }
        }
    }
    let objects = write_objects(&api, targets).await?;
    let yaml = headers
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("application/x-yaml") || a.contains("text/yml") || a.contains("yaml"));
    let values: Vec<Value> = objects.into_iter().map(|o| o.object).collect();
    if yaml {
        let text = templates::to_yaml(&values).map_err(ApiError::internal)?;
        let mut resp = (StatusCode::OK, text).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-yaml"));
        return Ok(resp);
    }
    Ok((StatusCode::OK, axum::Json(Value::Array(values))).into_response())
}

/// Reads each target and writes it, with its labels and a rule's endpoint, as template objects.
async fn write_objects(api: &Api, targets: Vec<Target>) -> ApiResult<Vec<Exported>> {
    // (group, id) -> metadata.name, for what is exported and what it refers to.
    let mut names: HashMap<(Group, String), String> = HashMap::new();
    for t in &targets {
        if let Some(n) = &t.meta_name {
            names.insert((t.group, t.id.clone()), n.clone());
        }
    }
    let mut queue: Vec<Target> = targets;
    let mut seen: HashMap<(Group, String), ()> = HashMap::new();
    let mut out = Vec::new();
    while let Some(t) = queue.pop() {
        if seen.insert((t.group, t.id.clone()), ()).is_some() {
            continue;
        }
        let Some(mut api_object) = resources::find(api, t.group, &t.id).await? else {
            return Err(ApiError::not_found(format!(
                "failed to clone resource: resource_id={} resource_kind={} err=\"cloning resource: not found\"",
                t.id,
                t.group.as_str()
            )));
        };
        if let Some(rename) = &t.rename {
            api_object["name"] = Value::String(rename.clone());
        }
        let meta_name = names.entry((t.group, t.id.clone())).or_insert_with(templates::generated_name).clone();
        let mut labels = Vec::new();
        if t.group != Group::Label {
            for (lid, _) in resources::labels_of(api, t.group, &t.id).await? {
                let n = names.entry((Group::Label, lid.clone())).or_insert_with(templates::generated_name).clone();
                labels.push(n);
                queue.push(Target { group: Group::Label, id: lid, meta_name: None, rename: None });
            }
        }
        let mut endpoint = None;
        if t.group == Group::NotificationRule
            && let Some(eid) = api_object["endpointID"].as_str()
        {
            let n = names
                .entry((Group::NotificationEndpoint, eid.to_owned()))
                .or_insert_with(templates::generated_name)
                .clone();
            endpoint = Some(n);
            queue.push(Target {
                group: Group::NotificationEndpoint,
                id: eid.to_owned(),
                meta_name: None,
                rename: None,
            });
        }
        if let Some(e) = templates::export_object(t.group, &api_object, &meta_name, &labels, endpoint.as_deref()) {
            out.push(e);
        }
    }
    templates::order_objects(&mut out);
    Ok(out)
}
