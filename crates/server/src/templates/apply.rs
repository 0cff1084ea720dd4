//! `POST /api/v2/templates/apply`: a template's resources made, changed or
//! removed in an org, all or nothing, and recorded in a stack; with
//! `dryRun`, only what would be done.
//!
//! A resource of the template is matched, in this order, with the one the
//! given stack installed under its `metadata.name`; without a stack, with
//! the one an earlier apply to the org installed under it; then, for the
//! kinds 2.7 matches by name (buckets, checks, labels, endpoints,
//! variables), with the org's resource of that name. A matched resource
//! already as the template describes it is left alone, so applying a
//! template twice changes nothing the second time.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use templates::{Group, Kind, Resource, Template};

use super::answer::{self, Mapping, Outcome, Removal};
use super::client::Api;
use super::resources;
use super::sources::{self, Request};
use super::stacks::{self, Installed, Stack};
use crate::error::{ApiError, ApiResult, Code};
use crate::principal::Principal;
use crate::state::AppState;

pub(crate) async fn apply(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req = Request::decode(&headers, &body)?;
    let api = Api::new(&state, &p)?;
    api.get(&format!("/api/v2/orgs/{}", req.org)).await?;
    let stack = match req.stack_id {
        Some(id) => {
            let s = stacks::load(&state, id).await?;
            if s.org_id.to_string() != req.org {
                return Err(ApiError::new(Code::Conflict, "you do not have access to given stack ID"));
            }
            Some(s)
        }
        None => None,
    };
    let urls = stack.as_ref().map(|s| s.latest().urls).unwrap_or_default();
    let (objects, source_names) = sources::gather(&req, &urls).await?;
    let template = match templates::read(&objects, &req.env_refs) {
        Ok(t) => t,
        Err(faults) => return Ok(invalid(&req, &source_names, &faults)),
    };
    let template = skip(template, &req.actions);
    let plan = plan(&state, &api, &req, stack.as_ref(), &template).await?;
    if req.dry_run {
        let missing = missing_secrets(&api, &req, &template, false).await?;
        let body = answer_body(&req, &source_names, None, &plan, &template, &missing);
        return Ok((StatusCode::OK, Json(body)).into_response());
    }
    let org_id = req.org.parse().map_err(|_| ApiError::invalid("invalid orgID"))?;
    let (mut stack, made_stack) = match stack {
        Some(s) => (s, false),
        None => (stacks::create_stack(&state, org_id, "", "", Vec::new()).await?, true),
    };
    let mut done = Vec::new();
    let result = execute(&api, &req, plan, &mut done).await;
    let applied = match result {
        Ok(applied) => applied,
        Err(e) => {
            rollback(&api, done).await;
            if made_stack {
                let _ = stacks::delete_stack(&state, stack.id).await;
            }
            return Err(e);
        }
    };
    let mut event = stack.latest();
    event.kind = "update".into();
    event.sources = source_names.clone();
    event.resources = installed(&applied);
    stacks::append(&state, &mut stack, event).await?;
    let missing = missing_secrets(&api, &req, &template, true).await?;
    let body = answer_body(&req, &source_names, Some(&stack), &applied, &template, &missing);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A template with faults: 422 with every fault and its place, nothing made.
fn invalid(req: &Request, sources: &[String], faults: &[templates::Fault]) -> Response {
    let (diff, summary) = answer::empty(&req.org);
    let message = faults.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n\t");
    let body = json!({
        "code": Code::Unprocessable.as_str(),
        "message": message,
        "sources": sources,
        "stackID": req.stack_id.map(|i| i.to_string()).unwrap_or_default(),
        "diff": diff,
        "summary": summary,
        "errors": faults.iter().map(templates::Fault::to_json).collect::<Vec<_>>(),
    });
    let mut resp = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(Code::Unprocessable.as_str()) {
        resp.headers_mut().insert("X-Platform-Error-Code", v);
    }
    resp
}

/// The template without what the request's actions skip.
fn skip(mut t: Template, actions: &[sources::Action]) -> Template {
    t.resources.retain(|r| {
        !actions.iter().any(|a| match a {
            sources::Action::SkipKind(g) => *g == r.group(),
            sources::Action::SkipResource(g, name) => *g == r.group() && *name == r.meta_name,
        })
    });
    let labels: HashSet<String> =
        t.resources.iter().filter(|r| r.kind == Kind::Label).map(|r| r.meta_name.clone()).collect();
    for r in &mut t.resources {
        r.labels.retain(|l| labels.contains(l));
    }
    t
}

/// What an apply will do.
pub(crate) struct Plan<'a> {
    outcomes: Vec<Outcome<'a>>,
    mappings: Vec<Mapping>,
    removals: Vec<Removal>,
    /// Label mappings the stack made that the template no longer has: `(group, resource, label)`.
    stale: Vec<(Group, String, String)>,
}

async fn plan<'a>(
    state: &AppState,
    api: &Api,
    req: &Request,
    stack: Option<&Stack>,
    t: &'a Template,
) -> ApiResult<Plan<'a>> {
    let org = &req.org;
    let mine: Vec<Installed> = stack.map(|s| s.latest().resources).unwrap_or_default();
    // Without a stack, what earlier applies to the org installed.
    let earlier: Vec<Installed> = match stack {
        Some(_) => Vec::new(),
        None => {
            let org_id = org.parse().map_err(|_| ApiError::invalid("invalid orgID"))?;
            stacks::of_org(state, org_id).await?.into_iter().rev().flat_map(|s| s.latest().resources).collect()
        }
    };
    let mut outcomes = Vec::new();
    for r in &t.resources {
        let group = r.group();
        let recorded = mine.iter().chain(&earlier).filter(|i| i.group == group && i.meta_name == r.meta_name);
        let mut found = None;
        for i in recorded {
            if let Some(v) = resources::find(api, group, &i.id).await? {
                found = Some(v);
                break;
            }
        }
        if found.is_none() {
            found = resources::find_by_name(api, group, org, &r.name).await?;
            if group == Group::Bucket && found.as_ref().is_some_and(resources::is_system_bucket) {
                found = None;
            }
            if let Some(v) = &found
                && group == Group::Dashboard
                && let Some(id) = v["id"].as_str()
            {
                found = resources::find(api, group, id).await?;
            }
        }
        let id = found.as_ref().and_then(|v| v["id"].as_str()).map(str::to_owned);
        outcomes.push(Outcome { r, id, old: found, now: None, endpoint: None });
    }
    for i in 0..outcomes.len() {
        if let templates::Spec::Rule { endpoint, .. } = &outcomes[i].r.spec {
            let e = outcomes.iter().find(|o| o.r.group() == Group::NotificationEndpoint && &o.r.meta_name == endpoint);
            let Some(e) = e else {
                return Err(ApiError::new(
                    Code::Unprocessable,
                    format!(
                        "failed to find notification endpoint {endpoint:?} dependency for notification rule {:?}",
                        outcomes[i].r.meta_name
                    ),
                ));
            };
            let kind = e.r.api_body(org)["type"].as_str().unwrap_or_default().to_owned();
            outcomes[i].endpoint = e.id.clone().map(|id| (id, kind.clone())).or(Some((String::new(), kind)));
        }
    }
    let label_ids: HashMap<&str, (Option<String>, &str)> = outcomes
        .iter()
        .filter(|o| o.r.kind == Kind::Label)
        .map(|o| (o.r.meta_name.as_str(), (o.id.clone(), o.r.name.as_str())))
        .collect();
    let mut mappings = Vec::new();
    for o in &outcomes {
        if o.r.labels.is_empty() {
            continue;
        }
        let on: Vec<(String, String)> = match &o.id {
            Some(id) if o.old.is_some() => resources::labels_of(api, o.r.group(), id).await?,
            _ => Vec::new(),
        };
        for l in &o.r.labels {
            let (label_id, label_name) = label_ids.get(l.as_str()).cloned().unwrap_or((None, l));
            let exists = on.iter().any(|(_, n)| n == label_name);
            mappings.push(Mapping {
                status: if exists { "exists" } else { "new" },
                group: o.r.group(),
                resource_id: o.id.clone(),
                resource_name: o.r.name.clone(),
                resource_meta: o.r.meta_name.clone(),
                label_id,
                label_name: label_name.to_owned(),
                label_meta: l.clone(),
            });
        }
    }
    let kept: HashSet<(Group, &str)> = t.resources.iter().map(|r| (r.group(), r.meta_name.as_str())).collect();
    let removals: Vec<Removal> = mine
        .iter()
        .filter(|i| !kept.contains(&(i.group, i.meta_name.as_str())))
        .map(|i| Removal { group: i.group, id: i.id.clone(), meta_name: i.meta_name.clone() })
        .collect();
    let mut stale = Vec::new();
    for i in &mine {
        let Some(r) = t.resources.iter().find(|r| r.group() == i.group && r.meta_name == i.meta_name) else {
            continue;
        };
        for (kind, label) in &i.associations {
            if kind == "Label"
                && !r.labels.contains(label)
                && let Some(l) = mine.iter().find(|m| m.group == Group::Label && &m.meta_name == label)
            {
                stale.push((i.group, i.id.clone(), l.id.clone()));
            }
        }
    }
    Ok(Plan { outcomes, mappings, removals, stale })
}

/// What an apply did, so a failure can undo it.
pub(crate) enum Done {
    Made(Group, String),
    Changed(Group, String, Value),
    Labelled(Group, String, String),
}

/// The order 2.7 applies kinds in: labels first, rules after their endpoints.
fn stage(g: Group) -> u8 {
    match g {
        Group::Label => 0,
        Group::NotificationRule => 2,
        _ => 1,
    }
}

async fn execute<'a>(api: &Api, req: &Request, mut plan: Plan<'a>, done: &mut Vec<Done>) -> ApiResult<Plan<'a>> {
    let org = req.org.clone();
    if !req.secrets.is_empty() {
        api.call("PATCH", &format!("/api/v2/orgs/{org}/secrets"), Some(&Value::Object(req.secrets.clone()))).await?;
    }
    for level in 0..3 {
        for i in 0..plan.outcomes.len() {
            if stage(plan.outcomes[i].r.group()) != level {
                continue;
            }
            if plan.outcomes[i].r.group() == Group::NotificationRule {
                let endpoint = match &plan.outcomes[i].r.spec {
                    templates::Spec::Rule { endpoint, .. } => endpoint.clone(),
                    _ => String::new(),
                };
                let e = plan
                    .outcomes
                    .iter()
                    .find(|o| o.r.group() == Group::NotificationEndpoint && o.r.meta_name == endpoint)
                    .and_then(|o| o.id.clone().zip(o.now.as_ref().and_then(|n| n["type"].as_str()).map(str::to_owned)));
                plan.outcomes[i].endpoint = e;
            }
            let o = &mut plan.outcomes[i];
            let endpoint = o.endpoint.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
            let now = match (&o.id, &o.old) {
                (Some(_), Some(old)) if resources::unchanged(o.r, old, &org, endpoint) => old.clone(),
                (Some(id), Some(old)) => {
                    let v =
                        resources::update(api, o.r, id, &org, endpoint).await.map_err(|e| failed(o.r, "update", e))?;
                    done.push(Done::Changed(o.r.group(), id.clone(), old.clone()));
                    v
                }
                _ => {
                    let v = resources::create(api, o.r, &org, endpoint).await.map_err(|e| failed(o.r, "create", e))?;
                    let Some(id) = v["id"].as_str().filter(|i| !i.is_empty()).map(str::to_owned) else {
                        return Err(failed(o.r, "create", ApiError::internal("the API answered without an ID")));
                    };
                    done.push(Done::Made(o.r.group(), id.clone()));
                    o.id = Some(id);
                    v
                }
            };
            o.now = Some(now);
        }
    }
    let ids: HashMap<(Group, String), String> =
        plan.outcomes.iter().filter_map(|o| Some(((o.r.group(), o.r.meta_name.clone()), o.id.clone()?))).collect();
    for m in &mut plan.mappings {
        m.resource_id = ids.get(&(m.group, m.resource_meta.clone())).cloned();
        m.label_id = ids.get(&(Group::Label, m.label_meta.clone())).cloned();
        if m.status != "new" {
            continue;
        }
        if let (Some(r), Some(l)) = (&m.resource_id, &m.label_id) {
            resources::add_label(api, m.group, r, l).await.map_err(|e| {
                ApiError::new(
                    keep_4xx(e.code),
                    format!("failed to add label {:?} to {:?}: {}", m.label_meta, m.resource_meta, e.message),
                )
            })?;
            done.push(Done::Labelled(m.group, r.clone(), l.clone()));
        }
    }
    for (group, resource, label) in &plan.stale {
        let _ = resources::remove_label(api, *group, resource, label).await;
    }
    // Rules before the endpoints they send to; labels after what carries them.
    plan.removals.sort_by_key(|rm| match rm.group {
        Group::NotificationRule => 0,
        Group::Label => 2,
        _ => 1,
    });
    for rm in &plan.removals {
        resources::delete(api, rm.group, &rm.id).await.map_err(|e| {
            ApiError::new(
                keep_4xx(e.code),
                format!("failed to remove {} {:?}: {}", rm.group.as_str(), rm.meta_name, e.message),
            )
        })?;
    }
    Ok(plan)
}

/// A failing resource's error, as 2.7 words it; an invalid resource stays a 4xx.
fn failed(r: &Resource, step: &str, e: ApiError) -> ApiError {
    ApiError::new(
        keep_4xx(e.code),
        format!(
            "resource_type={:?} err=\"failed to apply resource\"\n\tmetadata_name={:?} err_msg=\"failed to {step} {}[{:?}]: {}\"",
            r.group().api_path(),
            r.meta_name,
            r.kind.as_str(),
            r.meta_name,
            e.message
        ),
    )
}

fn keep_4xx(code: Code) -> Code {
    match code {
        Code::Invalid
        | Code::Unprocessable
        | Code::Conflict
        | Code::Unauthorized
        | Code::Forbidden
        | Code::NotFound => code,
        _ => Code::Internal,
    }
}

/// Undoes what a failed apply did, last first.
async fn rollback(api: &Api, done: Vec<Done>) {
    for d in done.into_iter().rev() {
        let result = match &d {
            Done::Made(g, id) => resources::delete(api, *g, id).await,
            Done::Changed(g, id, old) => resources::restore(api, *g, id, old).await,
            Done::Labelled(g, r, l) => resources::remove_label(api, *g, r, l).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e.message, "rolling back a template apply");
        }
    }
}

/// The resources a stack records after an apply.
fn installed(plan: &Plan<'_>) -> Vec<Installed> {
    plan.outcomes
        .iter()
        .filter_map(|o| {
            let mut associations: Vec<(String, String)> =
                o.r.labels.iter().map(|l| ("Label".to_owned(), l.clone())).collect();
            if let templates::Spec::Rule { endpoint, .. } = &o.r.spec {
                associations.push(("NotificationEndpoint".into(), endpoint.clone()));
            }
            Some(Installed { group: o.r.group(), id: o.id.clone()?, meta_name: o.r.meta_name.clone(), associations })
        })
        .collect()
}

/// Secret keys the template names that the org does not hold.
async fn missing_secrets(api: &Api, req: &Request, t: &Template, applied: bool) -> ApiResult<Vec<String>> {
    if t.secrets.is_empty() {
        return Ok(Vec::new());
    }
    let held = api.get(&format!("/api/v2/orgs/{}/secrets", req.org)).await?;
    let keys: HashSet<&str> =
        held["secrets"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    Ok(t.secrets
        .iter()
        .filter(|s| !(keys.contains(s.as_str()) || (applied && req.secrets.contains_key(s.as_str()))))
        .cloned()
        .collect())
}

fn answer_body(
    req: &Request,
    sources: &[String],
    stack: Option<&Stack>,
    plan: &Plan<'_>,
    t: &Template,
    missing_secrets: &[String],
) -> Value {
    let stack_id = stack.map(|s| s.id.to_string()).or(req.stack_id.map(|i| i.to_string())).unwrap_or_default();
    json!({
        "sources": sources,
        "stackID": stack_id,
        "diff": answer::diff(&plan.outcomes, &plan.mappings, &plan.removals, &req.org),
        "summary": answer::summary(&plan.outcomes, &plan.mappings, &t.missing_envs, missing_secrets, &req.org),
    })
}
