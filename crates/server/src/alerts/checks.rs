//! `/api/v2/checks`: threshold, deadman and custom checks, each backed by a
//! task running the Flux 2.7 would generate for it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use time::now_ns;

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::documents::{Document, Kind};
use meta::tasks::TaskStatus;

fn resource(d: &Document) -> Resource {
    Resource::one_in_org(ResourceType::Checks, d.id, d.org_id)
}

/// A check as 2.7 answers it: its body, identity, times, task and labels.
async fn view(state: &AppState, p: &Principal, d: &Document) -> ApiResult<Value> {
    super::task_backed_view::<Checks>(state, p, d).await
}

async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Document> {
    let id = parse_id(id)?;
    let d = state.meta(move |m| m.find_document(Kind::Check, id)).await?;
    p.require(action, resource(&d))?;
    Ok(d)
}

/// Reads a check body for the check `id`: 2.7's checks and messages.
fn read(id: Id, body: &Value) -> ApiResult<alerts::check::Check> {
    alerts::check::Check::read(&id.to_string(), body).map_err(|e| ApiError::invalid(e.0))
}

fn generate(check: &alerts::check::Check) -> ApiResult<String> {
    check.flux().map_err(|e| ApiError::invalid(format!("Could not create task from check: {e}")))
}

/// The body as stored: a custom check keeps its Flux as it runs.
fn stored(body: &Value, check: &alerts::check::Check, flux: &str) -> ApiResult<Value> {
    let mut kept = super::stored(body)?;
    if check.kind == alerts::check::Kind::Custom {
        kept["query"]["text"] = json!(flux);
    }
    Ok(kept)
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = crate::paging::find_options(&q)?;
    let org = super::listed_org(&state, &q).await?;
    let org_id = org.as_ref().map(|o| o.id);
    let all = state.meta(move |m| m.list_documents(Kind::Check, org_id, None)).await?;
    let mut out = Vec::new();
    for d in super::page(all.iter().filter(|d| p.can(Action::Read, &resource(d))), &opts) {
        out.push(view(&state, &p, d).await?);
    }
    let filters = [("orgID", org.map(|o| o.id.to_string()))];
    Ok(Json(json!({ "checks": out, "links": crate::paging::links("/api/v2/checks", &opts, &filters, out.len()) })))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // The body is checked as a whole first (with a placeholder ID): nothing
    // is made of a check 2.7 would refuse.
    generate(&read(Id::generate(), &body)?)?;
    let status = super::status(&body["status"])?;
    let org = super::org_in(&body, "Check OrgID is invalid")?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Checks, org))?;
    let d = super::new_document(&state, &p, Kind::Check, org, &body).await?;
    match save(&state, &p, &d, &body, Some(status)).await {
        Ok(d) => Ok((StatusCode::CREATED, Json(view(&state, &p, &d).await?))),
        Err(e) => {
            let id = d.id;
            state.meta(move |m| m.delete_document(Kind::Check, id)).await?;
            Err(e)
        }
    }
}

/// Stores `body` as check `d`: its Flux generated (with the check's own ID)
/// and given to its task, with `status` if one is given. A check without a
/// task (a new one) gets one.
async fn save(
    state: &AppState,
    p: &Principal,
    d: &Document,
    body: &Value,
    status: Option<TaskStatus>,
) -> ApiResult<Document> {
    let check = read(d.id, body)?;
    let flux = generate(&check)?;
    let description = body["description"].as_str().unwrap_or_default().to_owned();
    let mut kept = stored(body, &check, &flux)?;
    let task = super::give_task(state, p, d, check.kind.name(), flux, status, description).await?;
    kept["taskID"] = json!(task.id.to_string());
    let (id, name) = (d.id, check.name);
    state.meta(move |m| m.update_document(Kind::Check, id, &name, &kept, true, now_ns())).await
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(view(&state, &p, &d).await?))
}

/// `GET /api/v2/checks/{id}/query`: the Flux the check runs.
pub(crate) async fn query(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    let flux = generate(&read(d.id, &super::with_name(&d))?)?;
    Ok(Json(json!({ "flux": flux })))
}

/// `PUT`: the whole check anew; its task gets the new Flux.
pub(crate) async fn put(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let updated = save(&state, &p, &d, &body, super::given_status(&body)?).await?;
    Ok(Json(view(&state, &p, &updated).await?))
}

/// `PATCH`: name, description and status; a new name is written into the
/// task's Flux too.
pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<super::Patch>,
) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    let (body, status) = (change.applied(&d), change.task_status()?);
    let updated = save(&state, &p, &d, &body, status).await?;
    Ok(Json(view(&state, &p, &updated).await?))
}

/// `DELETE`: the check's task first, then the check.
pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    super::delete_with_task(&state, Kind::Check, &d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks have labels.
#[derive(Debug)]
pub(crate) struct Checks;

impl crate::tenancy::resource::Resource for Checks {
    const PATH: &'static str = "/api/v2/checks";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Checks {
    const TYPE: &'static str = "checks";
}
