//! `/api/v2/variables`: dashboard variables — a Flux query's results, a
//! constant list or a map — with their labels.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use time::now_ns;

use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap, parse_id};
use crate::principal::Principal;
use crate::state::AppState;
use meta::Id;
use meta::auth::{Action, Resource, ResourceType};
use meta::documents::{Document, Kind, NewDocument};

/// Names a variable cannot take: Flux's keywords, and the variables the UI defines itself.
const RESERVED: &[&str] = &[
    "and",
    "import",
    "not",
    "return",
    "option",
    "test",
    "empty",
    "in",
    "or",
    "package",
    "builtin",
    "timeRangeStart",
    "timeRangeStop",
    "windowPeriod",
];

/// A document's `createdAt`/`updatedAt`, as InfluxDB shows them.
pub(crate) fn rfc3339(ns: i64) -> String {
    time::rfc3339::format(ns, time::rfc3339::Fraction::Si)
}

fn resource(d: &Document) -> Resource {
    Resource::one_in_org(ResourceType::Variables, d.id, d.org_id)
}

fn view(d: &Document, labels: &[meta::labels::Label]) -> Value {
    let id = d.id;
    json!({
        "id": id.to_string(),
        "orgID": d.org_id.to_string(),
        "name": d.name,
        "description": d.body["description"].as_str().unwrap_or(""),
        // None selected is an empty list (oss.yml's `selected` is an array; 2.7 writes null).
        "selected": if d.body["selected"].is_array() { d.body["selected"].clone() } else { json!([]) },
        "arguments": d.body["arguments"],
        "createdAt": rfc3339(d.created_at),
        "updatedAt": rfc3339(d.updated_at),
        "labels": labels.iter().map(crate::tenancy::views::label).collect::<Vec<_>>(),
        "links": {
            "self": format!("/api/v2/variables/{id}"),
            "labels": format!("/api/v2/variables/{id}/labels"),
            "org": format!("/api/v2/orgs/{}", d.org_id),
        },
    })
}

/// InfluxDB's rules for a variable's name and arguments.
fn validate(name: &str, arguments: &Value) -> Result<(), String> {
    if name.is_empty() {
        return Err("missing variable name".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err("variable name must start with a letter".into());
    }
    if let Some(r) = RESERVED.iter().find(|r| **r == name) {
        return Err(format!("{r:?} is a protected variable name"));
    }
    let values = &arguments["values"];
    match arguments["type"].as_str() {
        Some("constant") => match values.as_array() {
            Some(vs) if vs.iter().all(Value::is_string) => Ok(()),
            Some(vs) => Err(format!(
                "expected variable constant value to be string but received {}",
                vs.iter().find(|v| !v.is_string()).map_or("null", json_type)
            )),
            None => Err(format!("error parsing {values} as VariableConstantArguments")),
        },
        Some("map") => match values.as_object() {
            Some(m) if m.values().all(Value::is_string) => Ok(()),
            Some(m) => Err(format!(
                "expected variable map value to be string but received {}",
                m.values().find(|v| !v.is_string()).map_or("null", json_type)
            )),
            None => Err(format!("error parsing {values} as VariableMapArguments")),
        },
        Some("query") => {
            let Some(obj) = values.as_object() else {
                return Err(format!("error parsing {values} as VariableQueryArguments"));
            };
            for key in ["query", "language"] {
                match obj.get(key) {
                    None => return Err(format!("{key:?} key not present in VariableQueryArguments")),
                    Some(Value::String(_)) => {}
                    Some(v) => return Err(format!("expected {key:?} to be string but received {}", json_type(v))),
                }
            }
            Ok(())
        }
        _ => Err("invalid arguments type".into()),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

async fn authorized(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Document> {
    let id = parse_id(id)?;
    let d = state.meta(move |m| m.find_document(Kind::Variable, id)).await?;
    p.require(action, resource(&d))?;
    Ok(d)
}

async fn with_labels(state: &AppState, d: &Document) -> ApiResult<Value> {
    let id = d.id;
    let labels = state.meta(move |m| m.labels_of("variables", id)).await?;
    Ok(view(d, &labels))
}

pub(crate) async fn list(State(state): State<AppState>, p: Principal, q: QueryMap) -> ApiResult<Json<Value>> {
    let org = crate::tenancy::orgs::from_query(&state, &q).await?.map(|o| o.id);
    let all = state.meta(move |m| m.list_documents(Kind::Variable, org, None)).await?;
    let mut out = Vec::new();
    for d in all.iter().filter(|d| p.can(Action::Read, &resource(d))) {
        out.push(with_labels(&state, d).await?);
    }
    let query: Vec<String> = ["org", "orgID"].iter().filter_map(|k| q.get(k).map(|v| format!("{k}={v}"))).collect();
    let self_link = if query.is_empty() {
        "/api/v2/variables".to_owned()
    } else {
        format!("/api/v2/variables?{}", query.join("&"))
    };
    Ok(Json(json!({ "links": { "self": self_link }, "variables": out })))
}

#[derive(Deserialize)]
pub(crate) struct VariableBody {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    selected: Option<Vec<String>>,
    arguments: Option<Value>,
}

fn body_of(description: &str, selected: Option<&Vec<String>>, arguments: &Value) -> Value {
    json!({ "description": description, "selected": selected, "arguments": arguments })
}

pub(crate) async fn create(
    State(state): State<AppState>,
    p: Principal,
    JsonBody(b): JsonBody<VariableBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let org: Id =
        b.org_id.as_deref().and_then(|s| s.parse().ok()).ok_or_else(|| ApiError::invalid("bad organization id"))?;
    let name = b.name.unwrap_or_default();
    let arguments = b.arguments.unwrap_or(Value::Null);
    validate(&name, &arguments).map_err(ApiError::invalid)?;
    state.meta(move |m| m.find_org_by_id(org)).await?;
    p.require(Action::Write, Resource::in_org(ResourceType::Variables, org))?;
    let new = NewDocument {
        kind: Kind::Variable,
        org_id: org,
        parent_id: None,
        body: body_of(b.description.as_deref().unwrap_or(""), b.selected.as_ref(), &arguments),
        name,
        owner_id: None,
        unique_name: true,
        now: now_ns(),
    };
    let d = state.meta(move |m| m.create_document(&new)).await?;
    Ok((StatusCode::CREATED, Json(view(&d, &[]))))
}

pub(crate) async fn get(State(state): State<AppState>, p: Principal, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Read).await?;
    Ok(Json(with_labels(&state, &d).await?))
}

/// PATCH changes the fields given; PUT replaces the variable.
async fn change(state: AppState, p: Principal, id: String, b: VariableBody, replace: bool) -> ApiResult<Json<Value>> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    if !replace && b.name.is_none() && b.description.is_none() && b.selected.is_none() && b.arguments.is_none() {
        return Err(ApiError::invalid("no fields supplied in update"));
    }
    let name = match (&b.name, replace) {
        (Some(n), _) => n.clone(),
        (None, true) => String::new(),
        (None, false) => d.name.clone(),
    };
    let arguments =
        b.arguments.clone().unwrap_or_else(|| if replace { Value::Null } else { d.body["arguments"].clone() });
    validate(&name, &arguments).map_err(ApiError::invalid)?;
    let description = b.description.clone().unwrap_or_else(|| {
        if replace { String::new() } else { d.body["description"].as_str().unwrap_or("").to_owned() }
    });
    let selected: Option<Vec<String>> = match (b.selected, replace) {
        (Some(s), _) => Some(s),
        (None, true) => None,
        (None, false) => serde_json::from_value(d.body["selected"].clone()).ok(),
    };
    let body = body_of(&description, selected.as_ref(), &arguments);
    let did = d.id;
    let updated = state.meta(move |m| m.update_document(Kind::Variable, did, &name, &body, true, now_ns())).await?;
    Ok(Json(with_labels(&state, &updated).await?))
}

pub(crate) async fn patch(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<VariableBody>,
) -> ApiResult<Json<Value>> {
    change(state, p, id, b, false).await
}

pub(crate) async fn put(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<VariableBody>,
) -> ApiResult<Json<Value>> {
    change(state, p, id, b, true).await
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let d = authorized(&state, &p, &id, Action::Write).await?;
    state.meta(move |m| m.delete_document(Kind::Variable, d.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Variables have labels.
#[derive(Debug)]
pub(crate) struct Variables;

impl crate::tenancy::resource::Resource for Variables {
    const PATH: &'static str = "/api/v2/variables";
    async fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> ApiResult<Id> {
        Ok(authorized(state, p, id, action).await?.id)
    }
}

impl crate::tenancy::labels::HasLabels for Variables {
    const TYPE: &'static str = "variables";
}
