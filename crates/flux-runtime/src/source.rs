//! What a query reads from and writes to outside the engine: the embedder's
//! [`Source`] (buckets the caller may read, storage, `to()`, secrets, v1
//! databases, HTTP calls), and the plain types it answers with.

use crate::error::EvalError;
use crate::outbound::{HttpRequest, HttpResponse};

/// Where `from` reads: bucket lookup (with the caller's permission check) and storage.
pub trait Source {
    /// The ID of the bucket named `name`, if the query may read it.
    fn bucket(&self, name: &str) -> Result<u64, EvalError>;
    /// The bucket with this ID (hex), if the query may read it.
    fn bucket_id(&self, id: &str) -> Result<u64, EvalError>;
    fn storage(&self) -> &dyn storage::ReadApi;
    /// The buckets the query may read, as `buckets()` lists them.
    fn buckets(&self) -> Result<Vec<BucketInfo>, EvalError>;
    /// Writes line protocol (nanosecond times) to a bucket the query may write to (`to()`).
    fn write(&self, target: &WriteTarget, lines: &[u8]) -> Result<(), EvalError>;
    /// The value of the query's org's secret `key` (`secrets.get()`).
    fn secret(&self, key: &str) -> Result<String, EvalError> {
        Err(EvalError::invalid(format!("cannot read secret {key:?}: no secrets here")))
    }
    /// The query's org's v1 database/retention-policy mappings the query may read (`v1.databases()`).
    fn databases(&self) -> Result<Vec<DatabaseInfo>, EvalError> {
        Err(EvalError::invalid("no v1 databases here"))
    }
    /// When the task running this query last succeeded (`tasks.lastSuccess()`); `None` outside tasks or before any success.
    fn task_last_success(&self) -> Option<i64> {
        None
    }
    /// Sends a request out of the server (`http.post`, `requests.do`,
    /// `influxdb.api` with a host, `from` with a host).
    fn http(&self, req: &HttpRequest) -> Result<HttpResponse, EvalError> {
        Err(EvalError::invalid(format!("cannot send a request to {}: no HTTP client here", req.url)))
    }
    /// Sends a request to this server's own API with the query's authorization
    /// (`influxdb.api` without a host).
    fn api(&self, req: &HttpRequest) -> Result<HttpResponse, EvalError> {
        Err(EvalError::invalid(format!("cannot call {}: no API here", req.url)))
    }
}

/// A bucket as `buckets()` lists it.
#[derive(Debug, Clone)]
pub struct BucketInfo {
    pub name: String,
    pub id: String,
    pub org_id: String,
    pub retention_ns: i64,
}

/// A v1 database and retention policy and the bucket it maps to, as `v1.databases()` lists it.
#[derive(Debug, Clone)]
pub struct DatabaseInfo {
    pub org_id: String,
    pub database: String,
    pub retention_policy: String,
    pub retention_ns: i64,
    pub default: bool,
    pub bucket_id: String,
}

/// Where `to()` writes: a bucket by name or ID, in an org by name or ID (the query's by default).
#[derive(Debug, Clone, Default)]
pub struct WriteTarget {
    pub bucket: Option<String>,
    pub bucket_id: Option<String>,
    pub org: Option<String>,
    pub org_id: Option<String>,
}
