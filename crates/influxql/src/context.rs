//! What statements run against: the caller's databases and retention
//! policies (DBRP mappings), storage, and the request's defaults.

use crate::error::{Error, Result};

/// A retention policy as `SHOW RETENTION POLICIES` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionPolicy {
    pub name: String,
    /// 0 = infinite.
    pub duration_ns: i64,
    pub shard_group_duration_ns: i64,
    pub default: bool,
}

/// What statements run against: the caller's databases (DBRP mappings) and storage.
///
/// Its errors become the statement's error as they are: a missing mapping is
/// [`Error::NotFound`], one the caller may not use [`Error::Unauthorized`],
/// a failure of the metadata store or of storage [`Error::Internal`].
pub trait Context {
    /// The databases the caller may read, for `SHOW DATABASES`.
    fn databases(&self) -> Result<Vec<String>>;
    /// A database's retention policies; an error names what is missing.
    fn retention_policies(&self, database: &str) -> Result<Vec<RetentionPolicy>>;
    /// The bucket `database`/`retention_policy` maps to (empty = the default policy).
    fn bucket(&self, database: &str, retention_policy: &str) -> Result<u64>;
    fn storage(&self) -> &dyn storage::ReadApi;
    /// Deletes the points of the database's default retention policy in
    /// `[start, stop]` that `predicate` matches (the caller needs write permission).
    fn delete(&self, database: &str, start: i64, stop: i64, predicate: &storage::DeletePredicate) -> Result<()>;
    /// `now()`, nanoseconds since the epoch.
    fn now(&self) -> i64;
}

/// The request's defaults: `db` and `rp`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub database: String,
    pub retention_policy: String,
}

impl Options {
    /// The database a statement reads or writes: the one it names (`ON db`),
    /// else the request's `db`. There must be one.
    pub(crate) fn database<'a>(&'a self, named: Option<&'a str>) -> Result<&'a str> {
        match named.unwrap_or(&self.database) {
            "" => Err(Error::invalid("database name required")),
            db => Ok(db),
        }
    }
}
