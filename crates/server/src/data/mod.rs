//! Data in and out: writing (v2 and v1 `/write`), deleting, querying in Flux
//! (`/api/v2/query` and its AST, analysis and suggestions) and InfluxQL (v1
//! `/query`), the v1 database/retention-policy mappings, and the data
//! sources other servers are read through.

pub(crate) mod dbrps;
pub(crate) mod delete;
pub(crate) mod flux_source;
pub(crate) mod influxql;
pub(crate) mod query;
pub(crate) mod sources;
pub(crate) mod v1;
pub(crate) mod write;

use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};

use crate::state::AppState;

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    vec![
        ("/api/v2/dbrps".into(), get(dbrps::list).post(dbrps::create)),
        ("/api/v2/dbrps/{id}".into(), get(dbrps::get).patch(dbrps::patch).delete(dbrps::delete)),
        ("/api/v2/delete".into(), post(delete::delete)),
        ("/api/v2/query".into(), post(query::query)),
        ("/api/v2/query/analyze".into(), post(query::analyze)),
        ("/api/v2/query/ast".into(), post(query::ast)),
        ("/api/v2/query/suggestions".into(), get(query::suggestions)),
        ("/api/v2/query/suggestions/{name}".into(), get(query::suggestion)),
        ("/api/v2/sources".into(), get(sources::list).post(sources::create)),
        ("/api/v2/sources/{id}".into(), get(sources::get).patch(sources::patch).delete(sources::delete)),
        ("/api/v2/sources/{id}/buckets".into(), get(sources::buckets)),
        ("/api/v2/sources/{id}/health".into(), get(sources::health)),
        // Write bodies are held to --http-max-request-size after decompression instead.
        ("/api/v2/write".into(), post(write::write_v2).layer(DefaultBodyLimit::disable())),
        ("/query".into(), get(influxql::query).post(influxql::query)),
        ("/write".into(), post(write::write_v1).layer(DefaultBodyLimit::disable())),
    ]
}
