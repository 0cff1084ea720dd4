//! Tenancy: organizations (with their secrets), users, buckets, labels, and
//! who belongs to what (members and owners), with the JSON shapes InfluxDB
//! gives them. Labels and members are also the sub-resources every other
//! area's resources have (see [`labels::routes_on`], [`members::routes_on`]).

pub(crate) mod buckets;
pub(crate) mod labels;
pub(crate) mod members;
pub(crate) mod orgs;
pub(crate) mod resource;
pub(crate) mod secrets;
pub(crate) mod users;
pub(crate) mod views;

use axum::routing::{MethodRouter, delete, get, post};

use crate::state::AppState;

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    let mut out: Vec<(String, MethodRouter<AppState>)> = vec![
        ("/api/v2/buckets".into(), get(buckets::list).post(buckets::create)),
        ("/api/v2/buckets/{id}".into(), get(buckets::get).patch(buckets::patch).delete(buckets::delete)),
    ];
    out.extend(labels::routes_on::<buckets::Buckets>("/api/v2/buckets/{id}"));
    out.extend(members::routes_on::<buckets::Buckets>("/api/v2/buckets/{id}"));
    out.extend([
        ("/api/v2/labels".into(), get(labels::list).post(labels::create)),
        ("/api/v2/labels/{id}".into(), get(labels::get).patch(labels::patch).delete(labels::delete)),
        ("/api/v2/orgs".into(), get(orgs::list).post(orgs::create)),
        ("/api/v2/orgs/{id}".into(), get(orgs::get).patch(orgs::patch).delete(orgs::delete)),
    ]);
    out.extend(members::routes_on::<orgs::Orgs>("/api/v2/orgs/{id}"));
    out.extend([
        ("/api/v2/orgs/{id}/secrets".into(), get(secrets::list).patch(secrets::patch)),
        ("/api/v2/orgs/{id}/secrets/{name}".into(), delete(secrets::delete_one)),
        ("/api/v2/orgs/{id}/secrets/delete".into(), post(secrets::delete_many)),
        ("/api/v2/users".into(), get(users::list).post(users::create)),
        ("/api/v2/users/{id}".into(), get(users::get).patch(users::patch).delete(users::delete)),
    ]);
    out
}
