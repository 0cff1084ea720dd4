//! `/api/v2/orgs`: organizations, with their members and owners.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::paging::{find_options, links};
use crate::principal::Principal;
use crate::state::AppState;
use crate::tenancy::views;
use meta::auth::{Action, Resource, ResourceType};
use meta::orgs::{Org, OrgFilter, OrgUpdate};
use meta::{FindOptions, Id};

pub(crate) fn resource(id: Id) -> Resource {
    Resource::one(ResourceType::Orgs, id)
}

/// The org a request names with `orgID` or `org`, if it names one. As in
/// 2.7 (`queryOrganization`), `org` may hold the org's ID as well as its
/// name: clients configured with an org ID send it there.
pub(crate) async fn from_query(state: &AppState, q: &QueryMap) -> ApiResult<Option<Org>> {
    use crate::state::OrgKey;
    let key = match (q.id("orgID")?, q.get("org")) {
        (Some(id), _) => OrgKey::Id(id),
        (None, Some(org)) => match org.parse::<Id>() {
            // An org whose name merely looks like an ID is still found by its name.
            Ok(id) => match find(state, OrgKey::Id(id)).await {
                Err(e) if e.code == crate::error::Code::NotFound => OrgKey::Name(org.to_owned()),
                found => return found.map(Some),
            },
            Err(_) => OrgKey::Name(org.to_owned()),
        },
        (None, None) => return Ok(None),
    };
    find(state, key).await.map(Some)
}

/// One org by ID or name, through the request cache.
async fn find(state: &AppState, key: crate::state::OrgKey) -> ApiResult<Org> {
    let generation = state.meta.generation();
    if let Some(g) = generation
        && let Some(org) = state.cache.org(g, &key)
    {
        return Ok(org);
    }
    let org = match key.clone() {
        crate::state::OrgKey::Id(id) => state.meta(move |m| m.find_org_by_id(id)).await?,
        crate::state::OrgKey::Name(name) => state.meta(move |m| m.find_org_by_name(&name)).await?,
    };
    if let Some(g) = generation {
        state.cache.keep_org(g, key, org.clone());
    }
    Ok(org)
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let opts = find_options(&q)?;
    let filter = OrgFilter { id: q.id("orgID")?, name: q.get("org").map(str::to_owned), user_id: q.id("userID")? };
    if let Some(name) = filter.name.clone() {
        // Naming an org that does not exist is a 404, as in InfluxDB.
        state.meta(move |m| m.find_org_by_name(&name)).await?;
    }
    let f = filter.clone();
    let all = state.meta(move |m| m.list_orgs(&f, &FindOptions::all())).await?;
    let visible: Vec<Org> = all.into_iter().filter(|o| p.can(Action::Read, &resource(o.id))).collect();
    let page = opts.apply(visible, |o| o.id);
    let l = links(
        "/api/v2/orgs",
        &opts,
        &[
            ("org", filter.name),
            ("orgID", filter.id.map(|i| i.to_string())),
            ("userID", filter.user_id.map(|i| i.to_string())),
        ],
        page.len(),
    );
    Ok(Json(json!({ "links": l, "orgs": page.iter().map(views::org).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
pub(crate) struct PostOrg {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(body): JsonBody<PostOrg>,
) -> ApiResult<(StatusCode, Json<views::OrgView>)> {
    p.require(Action::Write, Resource::all(ResourceType::Orgs))?;
    let owner = p.user_id;
    let org = state.meta(move |m| m.create_org(&body.name, &body.description, owner)).await?;
    Ok((StatusCode::CREATED, Json(views::org(&org))))
}

/// Checks `action` on an org, then loads it. Unlike buckets, InfluxDB decides on
/// the ID alone, so a missing org is 401 to whoever may not see it, else 404.
pub(crate) async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Org> {
    let id = parse_id(id)?;
    p.require(action, resource(id))?;
    state.meta(move |m| m.find_org_by_id(id)).await
}

pub(crate) async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<views::OrgView>> {
    let org = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(views::org(&org)))
}

#[derive(Deserialize)]
pub(crate) struct PatchOrg {
    name: Option<String>,
    description: Option<String>,
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchOrg>,
) -> ApiResult<Json<views::OrgView>> {
    let org = authorized(&state, &p, &id, Action::Write).await?;
    let update = OrgUpdate { name: body.name, description: body.description };
    let org = state.meta(move |m| m.update_org(org.id, &update)).await?;
    Ok(Json(views::org(&org)))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let org = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_org(org.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Orgs have members and owners.
#[derive(Debug)]
pub(crate) struct Orgs;

impl crate::tenancy::resource::Resource for Orgs {
    const PATH: &'static str = "/api/v2/orgs";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::members::HasMembers for Orgs {
    const KIND: meta::members::ResourceKind = meta::members::ResourceKind::Org;
}
