//! Each kind of resource a template holds, through the API: found by ID or
//! by name, made, changed back and forth, deleted, and its labels.

use serde_json::{Value, json};
use templates::{Group, Resource, Spec};

use super::client::Api;
use crate::error::ApiResult;

/// The buckets 2.7 never touches from a template.
pub(crate) fn is_system_bucket(b: &Value) -> bool {
    b["type"] == "system" || b["name"].as_str().is_some_and(|n| n.starts_with('_'))
}

/// The path of one resource.
pub(crate) fn path(group: Group, id: &str) -> String {
    format!("/api/v2/{}/{id}", group.api_path())
}

/// A label's answers wrap it (`{"label": {...}}`); the others are the resource.
fn unwrapped(group: Group, v: Value) -> Value {
    match (group, v) {
        (Group::Label, Value::Object(mut m)) if m.contains_key("label") => m.remove("label").unwrap_or_default(),
        (_, v) => v,
    }
}

/// A resource by ID (a dashboard with its cells' views), `None` if gone.
pub(crate) async fn find(api: &Api, group: Group, id: &str) -> ApiResult<Option<Value>> {
    let p = match group {
        Group::Dashboard => format!("{}?include=properties", path(group, id)),
        _ => path(group, id),
    };
    Ok(api.find(&p).await?.map(|v| unwrapped(group, v)))
}

/// Every resource of a group in an org, read page by page.
pub(crate) async fn list(api: &Api, group: Group, org: &str) -> ApiResult<Vec<Value>> {
    let (key, limit) = match group {
        Group::Label => ("labels", 0),
        Group::Bucket => ("buckets", 100),
        Group::Check => ("checks", 100),
        Group::NotificationEndpoint => ("notificationEndpoints", 100),
        Group::NotificationRule => ("notificationRules", 100),
        Group::Task => ("tasks", 500),
        Group::Variable => ("variables", 0),
        Group::Dashboard => ("dashboards", 100),
        Group::Telegraf => ("configurations", 0),
    };
    let base = format!("/api/v2/{}?orgID={org}", group.api_path());
    if limit == 0 {
        let v = api.get(&base).await?;
        return Ok(v[key].as_array().cloned().unwrap_or_default());
    }
    let mut out: Vec<Value> = Vec::new();
    loop {
        let page = if group == Group::Task {
            let after = out.last().and_then(|t| t["id"].as_str()).map(|a| format!("&after={a}")).unwrap_or_default();
            api.get(&format!("{base}&limit={limit}{after}")).await?
        } else {
            api.get(&format!("{base}&limit={limit}&offset={}", out.len())).await?
        };
        let items = page[key].as_array().cloned().unwrap_or_default();
        let n = items.len();
        out.extend(items);
        if n < limit {
            return Ok(out);
        }
    }
}

/// The resource of a group 2.7 matches by name (buckets, checks, labels,
/// endpoints, variables) that an org already has under `name`.
pub(crate) async fn find_by_name(api: &Api, group: Group, org: &str, name: &str) -> ApiResult<Option<Value>> {
    if !matches!(group, Group::Bucket | Group::Check | Group::Label | Group::NotificationEndpoint | Group::Variable) {
        return Ok(None);
    }
    if group == Group::Bucket {
        let v = api.get(&format!("/api/v2/buckets?orgID={org}&name={}", crate::paging::urlencode(name))).await?;
        return Ok(v["buckets"].as_array().and_then(|b| b.first()).cloned());
    }
    Ok(list(api, group, org).await?.into_iter().find(|r| r["name"] == name))
}

/// The body a resource is written with (a rule with its endpoint's ID and type).
fn body(r: &Resource, org: &str, endpoint: Option<(&str, &str)>) -> Value {
    match (&r.spec, endpoint) {
        (Spec::Rule { .. }, Some((id, kind))) => r.rule_body(org, id, kind),
        _ => r.api_body(org),
    }
}

/// Whether `existing` already is what the template describes.
pub(crate) fn unchanged(r: &Resource, existing: &Value, org: &str, endpoint: Option<(&str, &str)>) -> bool {
    let want = body(r, org, endpoint);
    match &r.spec {
        Spec::Bucket { retention_seconds, description } => {
            existing["name"] == r.name.as_str()
                && existing["description"].as_str().unwrap_or_default() == description
                && retention(existing) == *retention_seconds
        }
        Spec::Task { flux, description, status, .. } => {
            existing["flux"] == flux.as_str()
                && existing["description"].as_str().unwrap_or_default() == description
                && existing["status"] == status.as_str()
        }
        Spec::Dashboard { description, cells } => {
            let have: Vec<Value> = existing["cells"]
                .as_array()
                .map(|cs| {
                    cs.iter().map(|c| json!([c["x"], c["y"], c["w"], c["h"], c["name"], c["properties"]])).collect()
                })
                .unwrap_or_default();
            let want: Vec<Value> = cells.iter().map(|c| json!([c.x, c.y, c.w, c.h, c.name, c.properties])).collect();
            existing["name"] == r.name.as_str()
                && existing["description"].as_str().unwrap_or_default() == description
                && have == want
        }
        _ => subset(&want, existing),
    }
}

/// Every field of `want` (but `orgID`) has the same value in `have`; a query by its text.
fn subset(want: &Value, have: &Value) -> bool {
    let Some(w) = want.as_object() else { return want == have };
    w.iter().all(|(k, v)| match k.as_str() {
        "orgID" => true,
        "query" if v.is_object() => v["text"] == have[k]["text"],
        _ => {
            let h = &have[k];
            v == h
                || (v.as_str() == Some("") && h.is_null())
                || (v.as_array().is_some_and(|a| a.is_empty()) && h.is_null())
        }
    })
}

/// A bucket's retention in seconds (0: forever).
pub(crate) fn retention(b: &Value) -> i64 {
    b["retentionRules"].as_array().and_then(|r| r.first()).and_then(|r| r["everySeconds"].as_i64()).unwrap_or(0)
}

/// Makes the resource; answers it as the API shows it.
pub(crate) async fn create(api: &Api, r: &Resource, org: &str, endpoint: Option<(&str, &str)>) -> ApiResult<Value> {
    let group = r.group();
    let made = unwrapped(group, api.post(&format!("/api/v2/{}", group.api_path()), &body(r, org, endpoint)).await?);
    if let Spec::Dashboard { cells, .. } = &r.spec {
        let id = made["id"].as_str().unwrap_or_default().to_owned();
        if let Err(e) = write_cells(api, &id, cells).await {
            let _ = api.delete(&path(group, &id)).await;
            return Err(e);
        }
        return Ok(find(api, group, &id).await?.unwrap_or(made));
    }
    Ok(made)
}

/// Replaces a dashboard's cells with the template's.
async fn write_cells(api: &Api, id: &str, cells: &[templates::Cell]) -> ApiResult<()> {
    api.call("PUT", &format!("/api/v2/dashboards/{id}/cells"), Some(&json!([]))).await?;
    for c in cells {
        let cell = api
            .post(
                &format!("/api/v2/dashboards/{id}/cells"),
                &json!({ "x": c.x, "y": c.y, "w": c.w, "h": c.h, "name": c.name }),
            )
            .await?;
        let cell_id = cell["id"].as_str().unwrap_or_default();
        api.call(
            "PATCH",
            &format!("/api/v2/dashboards/{id}/cells/{cell_id}/view"),
            Some(&json!({ "name": c.name, "properties": c.properties })),
        )
        .await?;
    }
    Ok(())
}

/// Changes an existing resource to what the template describes.
pub(crate) async fn update(
    api: &Api,
    r: &Resource,
    id: &str,
    org: &str,
    endpoint: Option<(&str, &str)>,
) -> ApiResult<Value> {
    let group = r.group();
    let p = path(group, id);
    let b = body(r, org, endpoint);
    match &r.spec {
        Spec::Dashboard { cells, description } => {
            api.call("PATCH", &p, Some(&json!({ "name": r.name, "description": description }))).await?;
            write_cells(api, id, cells).await?;
            Ok(find(api, group, id).await?.unwrap_or(Value::Null))
        }
        Spec::Bucket { .. } | Spec::Label { .. } | Spec::Task { .. } => {
            Ok(unwrapped(group, api.call("PATCH", &p, Some(&b)).await?))
        }
        _ => api.call("PUT", &p, Some(&b)).await,
    }
}

/// Puts a resource back as it was before an apply changed it.
pub(crate) async fn restore(api: &Api, group: Group, id: &str, old: &Value) -> ApiResult<()> {
    let p = path(group, id);
    match group {
        Group::Dashboard => {
            api.call("PATCH", &p, Some(&json!({ "name": old["name"], "description": old["description"] }))).await?;
            let cells: Vec<templates::Cell> = old["cells"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| templates::Cell {
                            x: c["x"].as_i64().unwrap_or(0),
                            y: c["y"].as_i64().unwrap_or(0),
                            w: c["w"].as_i64().unwrap_or(0),
                            h: c["h"].as_i64().unwrap_or(0),
                            name: c["name"].as_str().unwrap_or_default().to_owned(),
                            properties: c["properties"].clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            write_cells(api, id, &cells).await
        }
        Group::Bucket => {
            let b = json!({ "name": old["name"], "description": old["description"], "retentionRules": old["retentionRules"] });
            api.call("PATCH", &p, Some(&b)).await.map(drop)
        }
        Group::Label => api
            .call("PATCH", &p, Some(&json!({ "name": old["name"], "properties": old["properties"] })))
            .await
            .map(drop),
        Group::Task => {
            let b = json!({ "flux": old["flux"], "description": old["description"], "status": old["status"] });
            api.call("PATCH", &p, Some(&b)).await.map(drop)
        }
        _ => api.call("PUT", &p, Some(old)).await.map(drop),
    }
}

pub(crate) async fn delete(api: &Api, group: Group, id: &str) -> ApiResult<()> {
    api.delete(&path(group, id)).await
}

/// The labels on a resource: `(id, name)`.
pub(crate) async fn labels_of(api: &Api, group: Group, id: &str) -> ApiResult<Vec<(String, String)>> {
    let v = api.get(&format!("{}/labels", path(group, id))).await?;
    Ok(v["labels"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    (l["id"].as_str().unwrap_or_default().to_owned(), l["name"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default())
}

pub(crate) async fn add_label(api: &Api, group: Group, id: &str, label: &str) -> ApiResult<()> {
    api.post(&format!("{}/labels", path(group, id)), &json!({ "labelID": label })).await.map(drop)
}

pub(crate) async fn remove_label(api: &Api, group: Group, id: &str, label: &str) -> ApiResult<()> {
    api.delete(&format!("{}/labels/{label}", path(group, id))).await
}
