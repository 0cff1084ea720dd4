//! Templates and stacks: `influx apply` and `influx export` over the API.
//! Manifests are read and written by the `templates` crate; this area
//! applies them through the server's own API as the caller (so each
//! resource is checked and authorized as if the caller made it), records
//! what each apply installed as a stack, and exports stored resources.

mod answer;
mod apply;
mod client;
mod export;
mod remote;
mod resources;
mod sources;
mod stacks;

use axum::routing::{MethodRouter, get, post};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The type a field of a request body must have, when it is given.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Bool,
    Object,
    Strings,
    Objects,
}

impl Ty {
    fn holds(self, v: &Value) -> bool {
        match self {
            Ty::Str => v.is_string(),
            Ty::Bool => v.is_boolean(),
            Ty::Object => v.is_object(),
            Ty::Strings => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Ty::Objects => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::Bool => "a boolean",
            Ty::Object => "an object",
            Ty::Strings => "an array of strings",
            Ty::Objects => "an array of objects",
        }
    }
}

/// Fails with 400 unless each given field of `v` has its type.
pub(crate) fn typed(v: &Value, fields: &[(&str, Ty)]) -> ApiResult<()> {
    for (k, t) in fields {
        if !(v[*k].is_null() || t.holds(&v[*k])) {
            return Err(ApiError::invalid(format!("failed to decode request body: {k} must be {}", t.name())));
        }
    }
    Ok(())
}

/// A JSON body that must be an object, its fields of their types.
pub(crate) fn object_body(bytes: &[u8], fields: &[(&str, Ty)]) -> ApiResult<Value> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::invalid(format!("failed to decode request body: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::invalid("failed to decode request body: expected a JSON object"));
    }
    typed(&v, fields)?;
    Ok(v)
}

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        ("/api/v2/stacks".into(), get(stacks::list).post(stacks::create)),
        ("/api/v2/stacks/{id}".into(), get(stacks::get).patch(stacks::patch).delete(stacks::delete)),
        ("/api/v2/stacks/{id}/uninstall".into(), post(stacks::uninstall)),
        ("/api/v2/templates/apply".into(), post(apply::apply)),
        ("/api/v2/templates/export".into(), post(export::export)),
    ]
}
