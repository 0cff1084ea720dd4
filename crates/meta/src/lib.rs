//! The oxiflux metadata store: every resource that is not time-series data.
//!
//! Organizations, users, buckets, authorizations (tokens), labels, resource
//! membership and sessions live in one SQLite file, opened in WAL mode with
//! foreign keys on and schema changes applied as numbered migrations. Each
//! resource has its own module of typed functions; callers never write SQL.
//!
//! Promises: every mutating call is one SQLite transaction, so a `kill -9` at
//! any instant leaves either the whole change or none of it. Secrets never
//! leave in clear: tokens are kept as SHA-256 digests, passwords as bcrypt
//! hashes, and an org's secrets sealed with a key that is not in the file.
//!
//! Not here: HTTP, permission checks (the caller decides who may call what;
//! this crate only supplies the [`auth`] vocabulary to decide it with).

pub mod auth;
pub mod authorizations;
pub mod buckets;
mod db;
pub mod dbrps;
pub mod documents;
mod error;
mod id;
pub mod labels;
pub mod legacy;
pub mod members;
pub mod onboarding;
pub mod orgs;
mod page;
pub mod replications;
pub mod secrets;
pub mod sessions;
pub mod shards;
pub mod sources;
pub mod tasks;
pub mod users;

pub use db::Store;
pub use error::{Error, Result};
pub use id::Id;
pub use page::{FindOptions, Page};

/// A timestamp as InfluxDB prints it: RFC 3339, UTC, with the fraction it needs.
pub fn now_rfc3339() -> String {
    time::rfc3339::format(time::now_ns(), time::rfc3339::Fraction::Si)
}
