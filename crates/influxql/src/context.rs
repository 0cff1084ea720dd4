//! What statements run against: the caller's databases and retention
//! policies (DBRP mappings), storage, and the request's defaults.

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
pub trait Context {
    /// The databases the caller may read, for `SHOW DATABASES`.
    fn databases(&self) -> Result<Vec<String>, String>;
    /// A database's retention policies; an error names what is missing.
    fn retention_policies(&self, database: &str) -> Result<Vec<RetentionPolicy>, String>;
    /// The bucket `database`/`retention_policy` maps to (empty = the default policy).
    fn bucket(&self, database: &str, retention_policy: &str) -> Result<u64, String>;
    fn storage(&self) -> &dyn storage::ReadApi;
    /// Deletes the points of the database's default retention policy in
    /// `[start, stop]` that `predicate` matches (the caller needs write permission).
    fn delete(&self, database: &str, start: i64, stop: i64, predicate: &storage::DeletePredicate)
    -> Result<(), String>;
    /// `now()`, nanoseconds since the epoch.
    fn now(&self) -> i64;
}

/// The request's defaults: `db` and `rp`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub database: String,
    pub retention_policy: String,
}
