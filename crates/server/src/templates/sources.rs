//! An apply request read: its org, stack, options, and the templates it
//! gives inline (`template`, `templates`) or by URL (`remotes`, and the
//! stack's `templateURLs`), each decoded by its content type or its name.

use axum::http::HeaderMap;
use serde_json::{Map, Value};
use templates::{Encoding, Group};

use super::remote;
use crate::error::{ApiError, ApiResult, Code};
use meta::Id;

/// What an action skips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    SkipKind(Group),
    SkipResource(Group, String),
}

/// A template given in the request.
#[derive(Debug, Clone)]
pub(crate) struct Inline {
    pub(crate) content_type: String,
    pub(crate) sources: Vec<String>,
    pub(crate) contents: Value,
}

#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) org: String,
    pub(crate) stack_id: Option<Id>,
    pub(crate) dry_run: bool,
    pub(crate) inline: Vec<Inline>,
    pub(crate) remotes: Vec<(String, String)>,
    pub(crate) env_refs: templates::Envs,
    pub(crate) secrets: Map<String, Value>,
    pub(crate) actions: Vec<Action>,
}

fn inline(v: &Value) -> Option<Inline> {
    let contents = v.get("contents").filter(|c| !c.is_null())?.clone();
    Some(Inline {
        content_type: v["contentType"].as_str().unwrap_or_default().to_owned(),
        sources: v["sources"]
            .as_array()
            .map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        contents,
    })
}

impl Request {
    pub(crate) fn decode(headers: &HeaderMap, body: &[u8]) -> ApiResult<Request> {
        let ct = headers.get("content-type").and_then(|h| h.to_str().ok()).unwrap_or_default();
        let b: Value = if ct.contains("yaml") || ct.contains("yml") {
            let docs = templates::decode(body, Encoding::Yaml).map_err(|e| ApiError::invalid(e.0))?;
            docs.into_iter().next().unwrap_or(Value::Null)
        } else {
            serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("unable to unmarshal json: {e}")))?
        };
        if !b.is_object() {
            return Err(ApiError::invalid("unable to unmarshal json: the body must be an object"));
        }
        typed(&b)?;
        let raw = b["orgID"].as_str().unwrap_or_default();
        if raw.parse::<Id>().is_err() {
            return Err(ApiError::invalid(format!("invalid organization ID provided: {raw:?}")));
        }
        let stack_id = match &b["stackID"] {
            Value::Null => None,
            v => {
                let s = v.as_str().unwrap_or_default();
                Some(s.parse::<Id>().map_err(|_| ApiError::invalid(format!("invalid stack ID provided: {s:?}")))?)
            }
        };
        let mut inline_templates: Vec<Inline> =
            b["templates"].as_array().map(|ts| ts.iter().filter_map(inline).collect()).unwrap_or_default();
        inline_templates.extend(inline(&b["template"]));
        let mut remotes = Vec::new();
        for r in b["remotes"].as_array().cloned().unwrap_or_default() {
            let url = r["url"].as_str().unwrap_or_default().to_owned();
            remotes.push((url, r["contentType"].as_str().unwrap_or_default().to_owned()));
        }
        let mut actions = Vec::new();
        for (i, a) in b["actions"].as_array().cloned().unwrap_or_default().iter().enumerate() {
            let name = a["action"].as_str().unwrap_or_default();
            let kind = a["properties"]["kind"].as_str().unwrap_or_default();
            let group = match Group::parse(kind) {
                Some(g) => g,
                None if kind.is_empty() => {
                    return Err(ApiError::invalid(format!("invalid kind for actions[{i}] {name:?}: invalid kind")));
                }
                None => {
                    return Err(ApiError::invalid(format!(
                        "invalid kind for actions[{i}] {name:?}: unsupported kind provided"
                    )));
                }
            };
            actions.push(match name {
                "skipKind" => Action::SkipKind(group),
                "skipResource" => {
                    let r = a["properties"]["resourceTemplateName"].as_str().unwrap_or_default().to_owned();
                    Action::SkipResource(group, r)
                }
                other => {
                    return Err(ApiError::invalid(format!(
                        "invalid action type {other:?} provided for actions[{i}] ; Must be one of [skipKind, skipResource]"
                    )));
                }
            });
        }
        Ok(Request {
            org: raw.to_owned(),
            stack_id,
            dry_run: b["dryRun"].as_bool().unwrap_or(false),
            inline: inline_templates,
            remotes,
            env_refs: b["envRefs"].as_object().cloned().unwrap_or_default(),
            secrets: b["secrets"].as_object().cloned().unwrap_or_default(),
            actions,
        })
    }
}

/// Each field of an apply body is of its type (2.7 decodes it into a struct).
fn typed(b: &Value) -> ApiResult<()> {
    use super::Ty::{Bool, Object, Objects, Str, Strings};
    super::typed(
        b,
        &[
            ("dryRun", Bool),
            ("orgID", Str),
            ("stackID", Str),
            ("template", Object),
            ("templates", Objects),
            ("remotes", Objects),
            ("actions", Objects),
            ("envRefs", Object),
            ("secrets", Object),
        ],
    )?;
    let templates = b["templates"].as_array().into_iter().flatten().chain(std::iter::once(&b["template"]));
    for t in templates.filter(|t| !t.is_null()) {
        super::typed(t, &[("contentType", Str), ("sources", Strings)])?;
    }
    for r in b["remotes"].as_array().into_iter().flatten() {
        super::typed(r, &[("url", Str), ("contentType", Str)])?;
    }
    for a in b["actions"].as_array().into_iter().flatten() {
        super::typed(a, &[("action", Str), ("properties", Object)])?;
    }
    if b["secrets"].as_object().is_some_and(|m| !m.values().all(Value::is_string)) {
        return Err(ApiError::invalid("failed to decode request body: secrets must be an object of strings"));
    }
    Ok(())
}

fn unprocessable(message: String) -> ApiError {
    ApiError::new(Code::Unprocessable, message)
}

/// Every object of the request's templates (remotes first, then the inline
/// ones, then the stack's URLs), and the names of their sources.
pub(crate) async fn gather(req: &Request, stack_urls: &[String]) -> ApiResult<(Vec<Value>, Vec<String>)> {
    let mut objects = Vec::new();
    let mut names = Vec::new();
    for (url, ct) in &req.remotes {
        from_url(url, ct, &mut objects, &mut names).await?;
    }
    for (i, t) in req.inline.iter().enumerate() {
        let source = t.sources.join("; ");
        let issue = |e: String| unprocessable(format!("template[{i}] from source(s) {source:?} had an issue: {e}"));
        let named = Encoding::named(&t.content_type, t.sources.first().map(String::as_str).unwrap_or_default());
        let got = match &t.contents {
            Value::String(text) => {
                let enc = named.unwrap_or_else(|| Encoding::sniff(text.as_bytes()));
                templates::decode(text.as_bytes(), enc).map_err(|e| issue(e.0))?
            }
            Value::Array(items) => {
                let mut out = Vec::new();
                for (j, item) in items.iter().enumerate() {
                    match item {
                        Value::Object(_) => out.push(item.clone()),
                        Value::Null => {}
                        _ => return Err(issue(format!("unable to unmarshal json: element {j} is not an object"))),
                    }
                }
                out
            }
            Value::Object(_) => vec![t.contents.clone()],
            _ => return Err(issue("unable to unmarshal json: contents must be a template".into())),
        };
        if !got.is_empty() {
            names.push(if source.is_empty() { "byte stream".to_owned() } else { source });
        }
        objects.extend(got);
    }
    for url in stack_urls {
        from_url(url, "", &mut objects, &mut names).await?;
    }
    Ok((objects, names))
}

/// The objects of the template at `url`, added to those gathered.
async fn from_url(url: &str, content_type: &str, objects: &mut Vec<Value>, names: &mut Vec<String>) -> ApiResult<()> {
    let issue = |e: String| unprocessable(format!("template from url[{url}] had an issue: {e}"));
    let (bytes, enc) = remote::fetch(url, content_type).await.map_err(issue)?;
    let got = templates::decode(&bytes, enc).map_err(|e| issue(e.0))?;
    if !got.is_empty() {
        names.push(url.to_owned());
    }
    objects.extend(got);
    Ok(())
}
