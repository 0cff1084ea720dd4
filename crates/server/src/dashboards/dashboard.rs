//! `/api/v2/dashboards`: dashboards, their cells (position and size) and each
//! cell's view (what it shows: one of the spec's view property types), with
//! labels, members and owners. A cell and its view share their ID.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::dashboards::variables::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::documents::{Document, Kind, NewDocument};
use time::now_ns;

/// The view types a `chronograf-v2` view may have.
const VIEW_TYPES: &[&str] = &[
    "xy",
    "single-stat",
    "gauge",
    "table",
    "simple-table",
    "markdown",
    "heatmap",
    "histogram",
    "scatter",
    "mosaic",
    "band",
    "geo",
    "check",
    "line-plus-single-stat",
    "log-viewer",
];

fn resource(d: &Document) -> Resource {
    Resource::one_in_org(ResourceType::Dashboards, d.id, d.org_id)
}

/// A view's properties as InfluxDB takes them: shape `chronograf-v2` with a
/// known type, or `empty`.
fn check_properties(p: &Value) -> ApiResult<()> {
    if p.is_null() {
        return Ok(());
    }
    match p["shape"].as_str() {
        Some("chronograf-v2") => match p["type"].as_str() {
            Some(t) if VIEW_TYPES.contains(&t) => Ok(()),
            t => Err(ApiError::invalid(format!("unknown view type {}", t.unwrap_or("(none)")))),
        },
        Some("empty") | None if p.as_object().is_some_and(|o| o.get("type").is_none()) => Ok(()),
        s => Err(ApiError::invalid(format!("unknown shape {}", s.unwrap_or("")))),
    }
}

/// The view of a cell nothing has been put in yet. 2.7 writes it
/// `{"shape": "empty"}`, which no `ViewProperties` of oss.yml admits, so
/// the clients generated from it cannot read the cell: an empty note is what
/// shows the same (nothing) within the contract.
fn empty_properties() -> Value {
    json!({ "shape": "chronograf-v2", "type": "markdown", "note": "" })
}

/// A view's properties as shown: `empty` ones (as 2.7 and older oxiflux
/// stored them) as [`empty_properties`].
fn shown_properties(p: &Value) -> Value {
    match p["shape"].as_str() {
        Some("chronograf-v2") => p.clone(),
        _ => empty_properties(),
    }
}

/// The cells of a dashboard's body.
fn cells(d: &Document) -> Vec<Value> {
    d.body["cells"].as_array().cloned().unwrap_or_default()
}

fn cell_view(dash: Id, c: &Value, view: Option<&Document>) -> Value {
    let id = c["id"].as_str().unwrap_or_default();
    let mut v = json!({
        "id": id,
        "x": c["x"].as_i64().unwrap_or(0),
        "y": c["y"].as_i64().unwrap_or(0),
        "w": c["w"].as_i64().unwrap_or(0),
        "h": c["h"].as_i64().unwrap_or(0),
        "viewID": id,
        "links": {
            "self": format!("/api/v2/dashboards/{dash}/cells/{id}"),
            "view": format!("/api/v2/dashboards/{dash}/cells/{id}/view"),
        },
    });
    if let Some(view) = view {
        v["name"] = json!(view.name);
        v["properties"] = shown_properties(&view.body["properties"]);
    }
    v
}

fn dashboard_view(d: &Document, labels: &[meta::labels::Label], views: Option<&[Document]>) -> Value {
    let id = d.id;
    let cells: Vec<Value> = cells(d)
        .iter()
        .map(|c| {
            let view =
                views.and_then(|vs| vs.iter().find(|v| v.id.to_string() == c["id"].as_str().unwrap_or_default()));
            cell_view(id, c, view)
        })
        .collect();
    json!({
        "id": id.to_string(),
        "orgID": d.org_id.to_string(),
        "name": d.name,
        "description": d.body["description"].as_str().unwrap_or(""),
        "meta": { "createdAt": rfc3339(d.created_at), "updatedAt": rfc3339(d.updated_at) },
        "cells": cells,
        "labels": labels.iter().map(crate::tenancy::views::label).collect::<Vec<_>>(),
        "links": {
            "self": format!("/api/v2/dashboards/{id}"),
            "members": format!("/api/v2/dashboards/{id}/members"),
            "owners": format!("/api/v2/dashboards/{id}/owners"),
            "cells": format!("/api/v2/dashboards/{id}/cells"),
            "labels": format!("/api/v2/dashboards/{id}/labels"),
            "org": format!("/api/v2/orgs/{}", d.org_id),
        },
    })
}

fn view_view(dash: Id, v: &Document) -> Value {
    json!({
        "id": v.id.to_string(),
        "name": v.name,
        "properties": shown_properties(&v.body["properties"]),
        "links": { "self": format!("/api/v2/dashboards/{dash}/cells/{}/view", v.id) },
    })
}

pub(crate) async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Document> {
    let id = parse_id(id)?;
    let d = state.meta(move |m| m.find_document(Kind::Dashboard, id)).await?;
    p.require(action, resource(&d))?;
    Ok(d)
}

async fn render(state: &AppState, d: &Document, with_properties: bool) -> ApiResult<Value> {
    let id = d.id;
    let (labels, views) = state
        .meta(move |m| -> meta::Result<_> {
            let views = if with_properties { Some(m.list_documents(Kind::View, None, Some(id))?) } else { None };
            Ok((m.labels_of("dashboards", id)?, views))
        })
        .await?;
    Ok(dashboard_view(d, &labels, views.as_deref()))
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = crate::paging::find_options(&q)?;
    let org = crate::tenancy::orgs::from_query(&state, &q).await?.map(|o| o.id);
    let owner = q.id("owner")?;
    let ids: Vec<Id> = q.0.iter().filter(|(k, _)| *k == "id").filter_map(|(_, v)| v.parse().ok()).collect();
    let all = state
        .meta(move |m| -> meta::Result<Vec<Document>> {
            let mut docs = m.list_documents(Kind::Dashboard, org, None)?;
            if let Some(owner) = owner {
                let owned = m.user_resources(owner, "dashboards", meta::members::Role::Owner)?;
                docs.retain(|d| owned.contains(&d.id));
            }
            Ok(docs)
        })
        .await?;
    let mut visible: Vec<Document> = all
        .into_iter()
        .filter(|d| p.can(Action::Read, &resource(d)))
        .filter(|d| ids.is_empty() || ids.contains(&d.id))
        .collect();
    match q.get("sortBy") {
        Some("CreatedAt") => visible.sort_by_key(|d| (d.created_at, d.id)),
        Some("UpdatedAt") => visible.sort_by_key(|d| (d.updated_at, d.id)),
        _ => visible.sort_by_key(|d| d.id),
    }
    let page = opts.apply(visible, |d| d.id);
    let mut out = Vec::with_capacity(page.len());
    for d in &page {
        out.push(render(&state, d, false).await?);
    }
    let links = crate::paging::links(
        "/api/v2/dashboards",
        &opts,
        &[
            ("org", q.get("org").map(str::to_owned)),
            ("orgID", q.get("orgID").map(str::to_owned)),
            ("owner", q.get("owner").map(str::to_owned)),
            ("sortBy", q.get("sortBy").map(str::to_owned)),
        ],
        page.len(),
    );
    Ok(Json(json!({ "links": links, "dashboards": out })))
}

#[derive(Deserialize)]
pub(crate) struct PostDashboard {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(b): JsonBody<PostDashboard>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org: Id = b.org_id.as_deref().and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("invalid orgID"))?;
    if b.name.is_empty() {
        return Err(ApiError::invalid("dashboard name is required"));
    }
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Dashboards, org))?;
    let new = NewDocument {
        kind: Kind::Dashboard,
        org_id: org,
        parent_id: None,
        name: b.name,
        body: json!({ "description": b.description, "cells": [] }),
        owner_id: p.user_id,
        unique_name: false,
        now: now_ns(),
    };
    let d = state.meta(move |m| m.create_document(&new)).await?;
    Ok((StatusCode::CREATED, Json(dashboard_view(&d, &[], None))))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    q: QueryMap,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(render(&state, &d, q.get("include") == Some("properties")).await?))
}

#[derive(Deserialize)]
pub(crate) struct PatchDashboard {
    name: Option<String>,
    description: Option<String>,
    cells: Option<Vec<CellBody>>,
}

#[derive(Deserialize, Clone)]
pub(crate) struct CellBody {
    id: Option<String>,
    x: Option<i64>,
    y: Option<i64>,
    w: Option<i64>,
    h: Option<i64>,
    name: Option<String>,
    #[serde(rename = "usingView")]
    using_view: Option<String>,
}

/// Saves a dashboard's new name, description and cells; views of cells that
/// went are deleted, cells without a view get an empty one.
async fn save(
    state: &AppState,
    d: &Document,
    name: String,
    description: String,
    new_cells: Vec<Value>,
) -> ApiResult<Document> {
    let did = d.id;
    let old: Vec<String> = cells(d).iter().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect();
    let body = json!({ "description": description, "cells": new_cells.clone() });
    state
        .meta(move |m| -> meta::Result<Document> {
            let kept: Vec<String> = new_cells.iter().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect();
            for gone in old.iter().filter(|o| !kept.contains(o)) {
                if let Ok(id) = gone.parse::<Id>() {
                    let _ = m.delete_document(Kind::View, id);
                }
            }
            m.update_document(Kind::Dashboard, did, &name, &body, false, now_ns())
        })
        .await
}

fn cell_json(id: Id, c: &CellBody) -> Value {
    json!({ "id": id.to_string(), "x": c.x.unwrap_or(0), "y": c.y.unwrap_or(0), "w": c.w.unwrap_or(0), "h": c.h.unwrap_or(0) })
}

/// Makes the view of a new cell: a copy of `using`'s, or empty.
async fn make_view(state: &AppState, d: &Document, cell: &CellBody) -> ApiResult<Id> {
    let (name, properties) = match cell.using_view.as_deref().filter(|s| !s.is_empty()) {
        Some(v) => {
            let vid = parse_id(v)?;
            let view = state.meta(move |m| m.find_document(Kind::View, vid)).await?;
            (cell.name.clone().unwrap_or(view.name), view.body["properties"].clone())
        }
        None => (cell.name.clone().unwrap_or_default(), empty_properties()),
    };
    let new = NewDocument {
        kind: Kind::View,
        org_id: d.org_id,
        parent_id: Some(d.id),
        name,
        body: json!({ "properties": properties }),
        owner_id: None,
        unique_name: false,
        now: now_ns(),
    };
    Ok(state.meta(move |m| m.create_document(&new)).await?.id)
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PatchDashboard>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    if b.name.is_none() && b.description.is_none() && b.cells.is_none() {
        return Err(ApiError::invalid("must update at least one attribute"));
    }
    let name = b.name.unwrap_or_else(|| d.name.clone());
    if name.is_empty() {
        return Err(ApiError::invalid("dashboard name is required"));
    }
    let description = b.description.unwrap_or_else(|| d.body["description"].as_str().unwrap_or("").to_owned());
    let new_cells = match b.cells {
        Some(cs) => replace_cells(&state, &d, cs).await?,
        None => cells(&d),
    };
    let updated = save(&state, &d, name, description, new_cells).await?;
    Ok(Json(render(&state, &updated, false).await?))
}

/// The cells a replacement gives: known cells keep their view; new ones get one.
async fn replace_cells(state: &AppState, d: &Document, given: Vec<CellBody>) -> ApiResult<Vec<Value>> {
    let existing: Vec<String> = cells(d).iter().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect();
    let mut out = Vec::with_capacity(given.len());
    for c in given {
        let id = match c.id.as_deref().filter(|i| existing.iter().any(|e| e == i)) {
            Some(i) => parse_id(i)?,
            None => make_view(state, d, &c).await?,
        };
        out.push(cell_json(id, &c));
    }
    Ok(out)
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_document(Kind::Dashboard, d.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn add_cell(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(c): JsonBody<CellBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let cid = make_view(&state, &d, &c).await?;
    let mut all = cells(&d);
    let cell = cell_json(cid, &c);
    all.push(cell.clone());
    let description = d.body["description"].as_str().unwrap_or("").to_owned();
    save(&state, &d, d.name.clone(), description, all).await?;
    Ok((StatusCode::CREATED, Json(cell_view(d.id, &cell, None))))
}

pub(crate) async fn replace_all_cells(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // The body is an array of cells (the one endpoint whose body is not an object).
    let given: Vec<CellBody> =
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("failed to decode request body: {e}")))?;
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let new_cells = replace_cells(&state, &d, given).await?;
    let description = d.body["description"].as_str().unwrap_or("").to_owned();
    let updated = save(&state, &d, d.name.clone(), description, new_cells).await?;
    Ok((StatusCode::CREATED, Json(render(&state, &updated, false).await?)))
}

fn find_cell(d: &Document, cell: &str) -> ApiResult<(usize, Value)> {
    // A malformed ID is 400 before any lookup, as 2.7 decodes it first.
    parse_id(cell)?;
    cells(d)
        .into_iter()
        .enumerate()
        .find(|(_, c)| c["id"].as_str() == Some(cell))
        .ok_or_else(|| ApiError::not_found("cell not found"))
}

pub(crate) async fn patch_cell(
    State(state): State<AppState>,
    p: Principal,
    Path((id, cell)): Path<(String, String)>,
    JsonBody(c): JsonBody<CellBody>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let (at, mut found) = find_cell(&d, &cell)?;
    if c.x.is_none() && c.y.is_none() && c.w.is_none() && c.h.is_none() {
        return Err(ApiError::invalid("must update at least one attribute"));
    }
    for (k, v) in [("x", c.x), ("y", c.y), ("w", c.w), ("h", c.h)] {
        if let Some(v) = v {
            found[k] = json!(v);
        }
    }
    let mut all = cells(&d);
    all[at] = found.clone();
    let description = d.body["description"].as_str().unwrap_or("").to_owned();
    save(&state, &d, d.name.clone(), description, all).await?;
    Ok(Json(cell_view(d.id, &found, None)))
}

pub(crate) async fn delete_cell(
    State(state): State<AppState>,
    p: Principal,
    Path((id, cell)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let (at, _) = find_cell(&d, &cell)?;
    let mut all = cells(&d);
    all.remove(at);
    let description = d.body["description"].as_str().unwrap_or("").to_owned();
    save(&state, &d, d.name.clone(), description, all).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn get_view(
    State(state): State<AppState>,
    p: Principal,
    Path((id, cell)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    find_cell(&d, &cell)?;
    let vid = parse_id(&cell)?;
    let v = state.meta(move |m| m.find_document(Kind::View, vid)).await?;
    Ok(Json(view_view(d.id, &v)))
}

#[derive(Deserialize)]
pub(crate) struct PatchView {
    name: Option<String>,
    properties: Option<Value>,
}

pub(crate) async fn patch_view(
    State(state): State<AppState>,
    p: Principal,
    Path((id, cell)): Path<(String, String)>,
    JsonBody(b): JsonBody<PatchView>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    find_cell(&d, &cell)?;
    if b.name.is_none() && b.properties.is_none() {
        return Err(ApiError::invalid("expected at least one attribute to be updated"));
    }
    if let Some(props) = &b.properties {
        check_properties(props)?;
    }
    let vid = parse_id(&cell)?;
    let updated = state
        .meta(move |m| -> meta::Result<Document> {
            let v = m.find_document(Kind::View, vid)?;
            let name = b.name.unwrap_or(v.name);
            let properties = b.properties.unwrap_or_else(|| v.body["properties"].clone());
            m.update_document(Kind::View, vid, &name, &json!({ "properties": properties }), false, now_ns())
        })
        .await?;
    Ok(Json(view_view(d.id, &updated)))
}

/// Dashboards have labels, members and owners.
#[derive(Debug)]
pub(crate) struct Dashboards;

impl crate::tenancy::resource::Resource for Dashboards {
    const PATH: &'static str = "/api/v2/dashboards";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Dashboards {
    const TYPE: &'static str = "dashboards";
}

impl crate::tenancy::members::HasMembers for Dashboards {
    const KIND: meta::members::ResourceKind = meta::members::ResourceKind::Dashboard;
}
