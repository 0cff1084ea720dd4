//! The HTTP surface in one table ([`operations::OPERATIONS`]: every
//! operation of `reference/openapi/oss.yml`, served or waiting for its
//! issue), each path handled by the area that owns it (`<area>::routes()`),
//! behind the authentication middleware.

pub mod operations;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::http::Request;
use axum::routing::MethodRouter;
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, Code};
use crate::state::AppState;
use operations::{OPERATIONS, Served};

/// Every area's routes, by path.
fn areas() -> Vec<(String, MethodRouter<AppState>)> {
    let mut all = crate::system::routes();
    all.extend(crate::access::routes());
    all.extend(crate::tenancy::routes());
    all.extend(crate::data::routes());
    all.extend(crate::dashboards::routes());
    all.extend(crate::telegraf::routes());
    all.extend(crate::tasks::routes());
    all.extend(crate::replication::routes());
    all.extend(crate::alerts::routes());
    all.extend(crate::templates::routes());
    all.extend(crate::backup::routes());
    all
}

/// The paths the table serves, each once, in its order.
fn served_paths() -> Vec<&'static str> {
    let mut paths: Vec<&'static str> = Vec::new();
    for op in OPERATIONS.iter().filter(|op| op.served == Served::Yes) {
        if !paths.contains(&op.path) {
            paths.push(op.path);
        }
    }
    paths
}

/// The router: the served paths of [`OPERATIONS`] with their areas'
/// handlers, the JSON answers for unknown paths and methods,
/// authentication, request spans.
pub fn router(state: AppState) -> Router {
    let mut by_path: HashMap<String, MethodRouter<AppState>> = areas().into_iter().collect();
    let mut api = Router::new();
    for path in served_paths() {
        if let Some(methods) = by_path.remove(path) {
            api = api.route(path, methods);
        }
    }
    // An area's path missing from the table is still served (a test says so first).
    for (path, methods) in by_path {
        api = api.route(&path, methods);
    }
    let api = api
        .fallback(|| async { ApiError::not_found("path not found") })
        .method_not_allowed_fallback(|| async { ApiError::new(Code::MethodNotAllowed, "method not allowed") });
    let outbound = Arc::clone(&state.outbound);
    let app = api
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::access::auth::authenticate))
        // Every answer, errors too, says what it is, as 2.7's handler does (clients read these).
        .layer(axum::middleware::map_response(crate::system::build_headers))
        .layer(
            // Spans carry the path only: query strings can hold credentials (`token=`, `p=`).
            TraceLayer::new_for_http().make_span_with(
                |req: &Request<_>| tracing::debug_span!("request", method = %req.method(), path = %req.uri().path()),
            ),
        )
        .with_state(state);
    // `influxdb.api()` calls back into these routes. (The router holds the
    // state that holds it: both live as long as the server.)
    let _ = outbound.own_api.set(app.clone());
    app
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path as the spec writes it, parameter names aside (oss.yml's
    /// `/legacy/...` paths are served under `/private`).
    fn shape(path: &str) -> String {
        let path = path.strip_prefix("/private").unwrap_or(path);
        let mut out = String::new();
        let mut in_param = false;
        for c in path.chars() {
            match c {
                '{' => {
                    in_param = true;
                    out.push_str("{}");
                }
                '}' => in_param = false,
                c if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    }

    /// oss.yml's operations in order: (method, path shape, operationId).
    fn spec_operations() -> Vec<(String, String, String)> {
        let spec =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/openapi/oss.yml"))
                .expect("the reference pack beside the repository");
        let mut out = Vec::new();
        let (mut path, mut method) = (None::<String>, None::<String>);
        for line in spec.lines() {
            if !line.starts_with(' ') && !line.is_empty() {
                path = None;
            }
            if line.starts_with("  /") && line.ends_with(':') {
                path = Some(shape(line.trim().trim_end_matches(':')));
            } else if let Some(m) = line.strip_prefix("    ").filter(|m| !m.starts_with(' ')) {
                let m = m.trim_end_matches(':');
                method = ["get", "post", "put", "patch", "delete", "head"].contains(&m).then(|| m.to_uppercase());
            } else if let (Some(p), Some(m), Some(id)) = (&path, &method, line.strip_prefix("      operationId: ")) {
                out.push((m.clone(), p.clone(), id.trim().to_owned()));
            }
        }
        out
    }

    #[test]
    fn the_table_is_every_operation_of_oss_yml_in_its_order() {
        let spec = spec_operations();
        assert_eq!(spec.len(), 234, "oss.yml's operations");
        let table: Vec<(String, String, String)> =
            OPERATIONS.iter().map(|op| (op.method.to_owned(), shape(op.path), op.id.to_owned())).collect();
        assert_eq!(table[..spec.len()], spec[..], "the table and oss.yml differ");
        let beside: Vec<&str> = OPERATIONS[spec.len()..].iter().map(|op| op.path).collect();
        assert_eq!(beside, ["/api/v2/"], "only the trailing-slash alias of /api/v2 is beside the spec");
        for op in OPERATIONS {
            let twins = OPERATIONS.iter().filter(|o| o.method == op.method && o.path == op.path).count();
            assert_eq!(twins, 1, "{} {} is in the table twice", op.method, op.path);
        }
    }

    #[test]
    fn the_areas_serve_the_tables_paths_and_no_others() {
        let mut listed = served_paths();
        listed.sort_unstable();
        let served: Vec<String> = areas().into_iter().map(|(p, _)| p).collect();
        let mut all: Vec<&str> = served.iter().map(String::as_str).collect();
        all.sort_unstable();
        assert_eq!(listed, all, "the table's served paths and the areas' routes differ");
        for op in OPERATIONS.iter().filter(|op| op.served != Served::Yes) {
            assert!(
                !all.contains(&op.path) || OPERATIONS.iter().any(|o| o.path == op.path && o.served == Served::Yes),
                "{} is routed but the table says it waits",
                op.path
            );
        }
    }
}
