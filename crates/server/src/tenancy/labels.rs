//! `/api/v2/labels`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{self, MethodRouter};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::views;
use meta::FindOptions;
use meta::auth::{Action, Resource, ResourceType};
use meta::labels::{Label, LabelFilter, LabelUpdate};

pub(crate) fn resource(l: &Label) -> Resource {
    Resource::one_in_org(ResourceType::Labels, l.id, l.org_id)
}

/// The body that attaches a label to a resource.
#[derive(Debug, Deserialize)]
pub(crate) struct LabelMapping {
    #[serde(rename = "labelID", default)]
    pub(crate) label_id: String,
}

pub(crate) fn label_response(l: &Label) -> Value {
    json!({ "label": views::label(l), "links": { "self": format!("/api/v2/labels/{}", l.id) } })
}

pub(crate) fn labels_response(self_link: &str, labels: &[Label]) -> Value {
    json!({ "links": { "self": self_link }, "labels": labels.iter().map(views::label).collect::<Vec<_>>() })
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let filter = LabelFilter { org_id: q.id("orgID")?, name: q.get("name").map(str::to_owned) };
    let all = state.meta(move |m| m.list_labels(&filter, &FindOptions::all())).await?;
    let visible: Vec<Label> = all.into_iter().filter(|l| p.can(Action::Read, &resource(l))).collect();
    Ok(Json(labels_response("/api/v2/labels", &visible)))
}

#[derive(Deserialize)]
pub(crate) struct PostLabel {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostLabel>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org_id = match body.org_id.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_id(s)?,
        None => return Err(ApiError::invalid("label requires a valid orgID")),
    };
    state.meta(move |m| m.find_org_by_id(org_id)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Labels, org_id))?;
    let label = state.meta(move |m| m.create_label(org_id, &body.name, body.properties)).await?;
    Ok((StatusCode::CREATED, Json(label_response(&label))))
}

async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Label> {
    let id = parse_id(id)?;
    let label = state.meta(move |m| m.find_label_by_id(id)).await?;
    p.require(action, resource(&label))?;
    Ok(label)
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(label_response(&authorized(&state, &p, &id, Action::Read).await?)))
}

#[derive(Deserialize)]
pub(crate) struct PatchLabel {
    name: Option<String>,
    properties: Option<BTreeMap<String, String>>,
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchLabel>,
) -> ApiResult<Json<Value>> {
    let label = authorized(&state, &p, &id, Action::Write).await?;
    let update = LabelUpdate { name: body.name, properties: body.properties };
    let label = state.meta(move |m| m.update_label(label.id, &update)).await?;
    Ok(Json(label_response(&label)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let label = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_label(label.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A resource with `/labels`: its handlers are shared, generic over the kind.
/// `<base>/labels` and `<base>/labels/{label}` of a resource that has labels.
pub(crate) fn routes_on<T: HasLabels>(base: &str) -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        (format!("{base}/labels"), routing::get(list_on::<T>).post(add_on::<T>)),
        (format!("{base}/labels/{{label}}"), routing::delete(remove_on::<T>)),
    ]
}

pub(crate) trait HasLabels: crate::tenancy::resource::Resource {
    /// The resource type name label mappings use (`dashboards`, ...).
    const TYPE: &'static str;
    /// Whether a resource's labels are listed only as far as the caller may
    /// read each label. 2.7 filters them for most resources; a task's labels
    /// it reads past the label authorizer, so whoever may read a task sees
    /// all of its labels (clients cloning a task rely on it).
    const ONLY_READABLE_LABELS: bool = true;
}

/// The labels of a resource, as its kind shows them to `p`.
pub(crate) fn visible_on<T: HasLabels>(p: &Principal, labels: Vec<Label>) -> Vec<Label> {
    if !T::ONLY_READABLE_LABELS {
        return labels;
    }
    labels.into_iter().filter(|l| p.can(Action::Read, &resource(l))).collect()
}

pub(crate) async fn list_on<T: HasLabels>(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let rid = T::target(&state, &p, &id, Action::Read).await?;
    let labels = state.meta(move |m| m.labels_of(T::TYPE, rid)).await?;
    let labels = visible_on::<T>(&p, labels);
    Ok(Json(labels_response(&format!("{}/{rid}/labels", T::PATH), &labels)))
}

pub(crate) async fn add_on<T: HasLabels>(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<LabelMapping>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let rid = T::target(&state, &p, &id, Action::Write).await?;
    let label_id = parse_id(&body.label_id)?;
    let label = state.meta(move |m| m.find_label_by_id(label_id)).await?;
    // Attaching a label writes it (2.7's CreateLabelMapping asks write on both).
    p.require(Action::Write, resource(&label))?;
    let label = state.meta(move |m| m.add_label_mapping(label_id, T::TYPE, rid)).await?;
    Ok((StatusCode::CREATED, Json(label_response(&label))))
}

pub(crate) async fn remove_on<T: HasLabels>(
    State(state): State<AppState>,
    p: Principal,
    Path((id, label)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let rid = T::target(&state, &p, &id, Action::Write).await?;
    let label_id = parse_id(&label)?;
    state.meta(move |m| m.remove_label_mapping(label_id, T::TYPE, rid)).await?;
    Ok(StatusCode::NO_CONTENT)
}
