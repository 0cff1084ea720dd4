//! The HTTP surface in one table: every path oxiflux serves, in the order of
//! `reference/openapi/oss.yml` (a test holds the order against the file), each
//! handled by the area that owns it (`<area>::routes()`), behind the
//! authentication middleware.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::http::Request;
use axum::routing::MethodRouter;
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Every path served, in the order of `oss.yml`; paths the spec lacks last.
const PATHS: &[&str] = &[
    "/api/v2",
    "/api/v2/authorizations",
    "/api/v2/authorizations/{id}",
    "/api/v2/buckets",
    "/api/v2/buckets/{id}",
    "/api/v2/buckets/{id}/labels",
    "/api/v2/buckets/{id}/labels/{label}",
    "/api/v2/buckets/{id}/members",
    "/api/v2/buckets/{id}/members/{user}",
    "/api/v2/buckets/{id}/owners",
    "/api/v2/buckets/{id}/owners/{user}",
    "/api/v2/config",
    "/api/v2/dashboards",
    "/api/v2/dashboards/{id}",
    "/api/v2/dashboards/{id}/cells",
    "/api/v2/dashboards/{id}/cells/{cell}",
    "/api/v2/dashboards/{id}/cells/{cell}/view",
    "/api/v2/dashboards/{id}/labels",
    "/api/v2/dashboards/{id}/labels/{label}",
    "/api/v2/dashboards/{id}/members",
    "/api/v2/dashboards/{id}/members/{user}",
    "/api/v2/dashboards/{id}/owners",
    "/api/v2/dashboards/{id}/owners/{user}",
    "/api/v2/dbrps",
    "/api/v2/dbrps/{id}",
    "/api/v2/delete",
    "/api/v2/flags",
    "/health",
    "/api/v2/labels",
    "/api/v2/labels/{id}",
    "/api/v2/me",
    "/api/v2/me/password",
    "/metrics",
    "/api/v2/orgs",
    "/api/v2/orgs/{id}",
    "/api/v2/orgs/{id}/members",
    "/api/v2/orgs/{id}/members/{user}",
    "/api/v2/orgs/{id}/owners",
    "/api/v2/orgs/{id}/owners/{user}",
    "/api/v2/orgs/{id}/secrets",
    "/api/v2/orgs/{id}/secrets/{name}",
    "/api/v2/orgs/{id}/secrets/delete",
    "/ping",
    "/api/v2/query",
    "/api/v2/query/analyze",
    "/api/v2/query/ast",
    "/api/v2/query/suggestions",
    "/api/v2/query/suggestions/{name}",
    "/ready",
    "/api/v2/remotes",
    "/api/v2/remotes/{id}",
    "/api/v2/replications",
    "/api/v2/replications/{id}",
    "/api/v2/replications/{id}/validate",
    "/api/v2/resources",
    "/api/v2/scrapers",
    "/api/v2/scrapers/{id}",
    "/api/v2/scrapers/{id}/labels",
    "/api/v2/scrapers/{id}/labels/{label}",
    "/api/v2/scrapers/{id}/members",
    "/api/v2/scrapers/{id}/members/{user}",
    "/api/v2/scrapers/{id}/owners",
    "/api/v2/scrapers/{id}/owners/{user}",
    "/api/v2/setup",
    "/api/v2/signin",
    "/api/v2/signout",
    "/api/v2/sources",
    "/api/v2/sources/{id}",
    "/api/v2/sources/{id}/buckets",
    "/api/v2/sources/{id}/health",
    "/api/v2/tasks",
    "/api/v2/tasks/{id}",
    "/api/v2/tasks/{id}/labels",
    "/api/v2/tasks/{id}/labels/{label}",
    "/api/v2/tasks/{id}/logs",
    "/api/v2/tasks/{id}/members",
    "/api/v2/tasks/{id}/members/{user}",
    "/api/v2/tasks/{id}/owners",
    "/api/v2/tasks/{id}/owners/{user}",
    "/api/v2/tasks/{id}/runs",
    "/api/v2/tasks/{id}/runs/{run}",
    "/api/v2/tasks/{id}/runs/{run}/logs",
    "/api/v2/tasks/{id}/runs/{run}/retry",
    "/api/v2/telegraf/plugins",
    "/api/v2/telegrafs",
    "/api/v2/telegrafs/{id}",
    "/api/v2/telegrafs/{id}/labels",
    "/api/v2/telegrafs/{id}/labels/{label}",
    "/api/v2/telegrafs/{id}/members",
    "/api/v2/telegrafs/{id}/members/{user}",
    "/api/v2/telegrafs/{id}/owners",
    "/api/v2/telegrafs/{id}/owners/{user}",
    "/api/v2/users",
    "/api/v2/users/{id}",
    "/api/v2/users/{id}/password",
    "/api/v2/variables",
    "/api/v2/variables/{id}",
    "/api/v2/variables/{id}/labels",
    "/api/v2/variables/{id}/labels/{label}",
    "/api/v2/write",
    "/private/legacy/authorizations",
    "/private/legacy/authorizations/{id}",
    "/private/legacy/authorizations/{id}/password",
    "/query",
    "/write",
    "/api/v2/",
];

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
    all
}

/// The router: the paths of [`PATHS`] with their areas' handlers, the JSON
/// answers for unknown paths and methods, authentication, request spans.
pub fn router(state: AppState) -> Router {
    let mut by_path: HashMap<String, MethodRouter<AppState>> = areas().into_iter().collect();
    let mut api = Router::new();
    for path in PATHS {
        if let Some(methods) = by_path.remove(*path) {
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

    #[test]
    fn every_route_is_listed_once_in_the_order_of_oss_yml() {
        let spec =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/openapi/oss.yml"))
                .expect("the reference pack beside the repository");
        let order: Vec<String> = spec
            .lines()
            .filter(|l| l.starts_with("  /") && l.ends_with(':'))
            .map(|l| shape(l.trim().trim_end_matches(':')))
            .collect();
        let served: Vec<String> = areas().into_iter().map(|(p, _)| p).collect();
        let mut listed: Vec<&str> = PATHS.to_vec();
        listed.sort_unstable();
        let mut all: Vec<&str> = served.iter().map(String::as_str).collect();
        all.sort_unstable();
        assert_eq!(listed, all, "PATHS and the areas' routes differ");
        let positions: Vec<usize> =
            PATHS.iter().map(|p| order.iter().position(|o| *o == shape(p)).unwrap_or(usize::MAX)).collect();
        assert!(positions.windows(2).all(|w| w[0] <= w[1]), "PATHS is not in the order of oss.yml: {positions:?}");
        let unlisted: Vec<&&str> =
            PATHS.iter().zip(&positions).filter(|(_, i)| **i == usize::MAX).map(|(p, _)| p).collect();
        assert_eq!(unlisted, [&"/api/v2/"], "only the trailing-slash alias of /api/v2 is outside the spec");
    }
}
