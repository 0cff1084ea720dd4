//! What a Flux query reads and writes through: the buckets its caller may
//! see, storage, `to()` through the one write path, the org's secrets and
//! DBRP mappings, and calls out of the server.

use std::sync::Arc;

use crate::ingest::IngestError;
use crate::principal::Principal;
use crate::state::AppState;
use meta::auth::{Action, Resource, ResourceType};

/// Buckets by name in the query's org, each checked for read permission; and storage.
pub(crate) struct Source {
    meta: Arc<meta::Store>,
    storage: Arc<storage::Storage>,
    org: meta::Id,
    principal: Principal,
    secret_key: Option<Arc<meta::secrets::SecretKey>>,
    outbound: Arc<crate::outbound::Outbound>,
    runtime: tokio::runtime::Handle,
    /// When the task running the query last succeeded (task runs only).
    pub(crate) task_last_success: Option<i64>,
    /// Where `to()` writes: the one write path.
    ingest: crate::ingest::Ingest,
}

impl Source {
    /// What a query of `principal` in `org` reads and writes. Call on the runtime.
    pub(crate) fn new(state: &AppState, org: meta::Id, principal: Principal) -> Self {
        Source {
            meta: Arc::clone(&state.meta),
            storage: Arc::clone(&state.storage),
            org,
            principal,
            secret_key: state.secret_key.clone(),
            outbound: Arc::clone(&state.outbound),
            runtime: tokio::runtime::Handle::current(),
            task_last_success: None,
            ingest: state.ingest(),
        }
    }
}

impl flux::Source for Source {
    fn bucket(&self, name: &str) -> Result<u64, flux::EvalError> {
        let not_found = || flux::EvalError::not_found(format!("could not find bucket {name:?}"));
        let b = self.meta.find_bucket_by_name(self.org, name).map_err(|_| not_found())?;
        // A bucket the caller may not read is one it cannot see, as in InfluxDB.
        if !self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, b.id, b.org_id)) {
            return Err(not_found());
        }
        Ok(b.id.get())
    }

    fn bucket_id(&self, id: &str) -> Result<u64, flux::EvalError> {
        let not_found = || flux::EvalError::not_found(format!("could not find bucket with ID {id:?}"));
        let id: meta::Id = id.parse().map_err(|_| not_found())?;
        let b = self.meta.find_bucket_by_id(id).map_err(|_| not_found())?;
        if b.org_id != self.org
            || !self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, b.id, b.org_id))
        {
            return Err(not_found());
        }
        Ok(b.id.get())
    }

    fn storage(&self) -> &dyn storage::ReadApi {
        self.storage.as_ref()
    }

    /// The org's secret, if the query's token may read the org's secrets.
    fn secret(&self, key: &str) -> Result<String, flux::EvalError> {
        if !self.principal.can(Action::Read, &Resource::in_org(ResourceType::Secrets, self.org)) {
            return Err(flux::EvalError::unauthorized(format!("read:orgs/{}/secrets is unauthorized", self.org)));
        }
        let sealer = self
            .secret_key
            .as_ref()
            .ok_or_else(|| flux::EvalError::internal("secrets are not available on this server"))?;
        match self.meta.secret(self.org, sealer, key) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(flux::EvalError::invalid(format!("secret key {key:?} not found"))),
            Err(e) => Err(flux::EvalError::internal(e.to_string())),
        }
    }

    /// The org's mappings whose buckets the query may read, each with its bucket's retention.
    fn databases(&self) -> Result<Vec<flux::DatabaseInfo>, flux::EvalError> {
        let err = |e: meta::Error| flux::EvalError::internal(e.to_string());
        let filter = meta::dbrps::DbrpFilter { org_id: Some(self.org), ..Default::default() };
        let mut out = Vec::new();
        for d in self.meta.list_dbrps(&filter).map_err(err)? {
            if !self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, d.bucket_id, d.org_id)) {
                continue;
            }
            let retention = self.meta.find_bucket_by_id(d.bucket_id).map(|b| b.retention_seconds).unwrap_or(0);
            out.push(flux::DatabaseInfo {
                org_id: d.org_id.to_string(),
                database: d.database,
                retention_policy: d.retention_policy,
                retention_ns: retention.saturating_mul(1_000_000_000),
                default: d.default,
                bucket_id: d.bucket_id.to_string(),
            });
        }
        Ok(out)
    }

    fn task_last_success(&self) -> Option<i64> {
        self.task_last_success
    }

    fn http(&self, req: &flux::outbound::HttpRequest) -> Result<flux::outbound::HttpResponse, flux::EvalError> {
        self.outbound.send(&self.runtime, req)
    }

    fn api(&self, req: &flux::outbound::HttpRequest) -> Result<flux::outbound::HttpResponse, flux::EvalError> {
        self.outbound.api(&self.runtime, &self.principal, req)
    }

    fn buckets(&self) -> Result<Vec<flux::BucketInfo>, flux::EvalError> {
        let filter = meta::buckets::BucketFilter { org_id: Some(self.org), ..Default::default() };
        let opts = meta::FindOptions { limit: usize::MAX, ..Default::default() };
        let all = self.meta.list_buckets(&filter, &opts).map_err(|e| flux::EvalError::internal(e.to_string()))?;
        Ok(all
            .into_iter()
            .filter(|b| self.principal.can(Action::Read, &Resource::one_in_org(ResourceType::Buckets, b.id, b.org_id)))
            .map(|b| flux::BucketInfo {
                name: b.name,
                id: b.id.to_string(),
                org_id: b.org_id.to_string(),
                retention_ns: b.retention_seconds.saturating_mul(1_000_000_000),
            })
            .collect())
    }

    fn write(&self, target: &flux::WriteTarget, lines: &[u8]) -> Result<(), flux::EvalError> {
        let err = |m: String| flux::EvalError::invalid(m);
        let org = match (&target.org_id, &target.org) {
            (Some(id), _) => {
                let id: meta::Id = id.parse().map_err(|_| err(format!("to: invalid orgID {id:?}")))?;
                self.meta.find_org_by_id(id).map_err(|_| err(format!("to: organization {id} not found")))?.id
            }
            (None, Some(name)) => {
                self.meta.find_org_by_name(name).map_err(|_| err(format!("to: organization {name:?} not found")))?.id
            }
            (None, None) => self.org,
        };
        let bucket = match (&target.bucket_id, &target.bucket) {
            (Some(id), _) => {
                let parsed: meta::Id = id.parse().map_err(|_| err(format!("to: invalid bucketID {id:?}")))?;
                self.meta
                    .find_bucket_by_id(parsed)
                    .ok()
                    .filter(|b| b.org_id == org)
                    .ok_or_else(|| err(format!("to: bucket {id} not found")))?
            }
            (None, Some(name)) => {
                self.meta.find_bucket_by_name(org, name).map_err(|_| err(format!("to: bucket {name:?} not found")))?
            }
            (None, None) => return Err(err("to: no bucket given".into())),
        };
        if !self.principal.can(Action::Write, &Resource::one_in_org(ResourceType::Buckets, bucket.id, bucket.org_id)) {
            // As 2.7's provider answers it: 403.
            return Err(flux::EvalError::forbidden("user not authorized to write"));
        }
        let outcome = self.ingest.write(&bucket, lines, lineproto::Precision::Nanosecond, time::now_ns()).map_err(
            |e| match e {
                IngestError::Invalid(e) => err(format!("to: {e}")),
                e @ IngestError::QueueFull(_) => flux::EvalError::resources_exhausted(format!("to: {e}")),
                IngestError::Storage(e) => flux::EvalError::internal(format!("to: {e}")),
            },
        )?;
        match outcome.partial_write_message() {
            Some(m) => Err(err(format!("to: {m}"))),
            None => Ok(()),
        }
    }
}
