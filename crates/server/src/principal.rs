//! Who is asking: the principal a request acts as (its user, token and
//! permissions) and the checks every handler makes with it before it acts.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::{ApiError, ApiResult};
use meta::Id;
use meta::auth::{Action, Permission, Resource};

/// Who is asking, and what they may do.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) user_id: Option<Id>,
    /// The org a token belongs to.
    pub(crate) org_id: Option<Id>,
    pub(crate) permissions: Vec<Permission>,
    /// False for an inactive token: every check then fails with "token is inactive".
    pub(crate) active: bool,
}

impl Principal {
    pub(crate) fn can(&self, action: Action, resource: &Resource) -> bool {
        let want = Permission::new(action, resource.clone());
        self.active && self.permissions.iter().any(|p| p.covers(&want))
    }

    /// Fails with InfluxDB's 401 unless the principal holds `action` on `resource`.
    pub(crate) fn require(&self, action: Action, resource: Resource) -> ApiResult<()> {
        if !self.active {
            return Err(ApiError::unauthorized("token is inactive"));
        }
        if self.can(action, &resource) {
            return Ok(());
        }
        Err(ApiError::unauthorized(format!("{} is unauthorized", Permission::new(action, resource))))
    }

    /// Fails with InfluxDB's 403 unless the principal holds every permission
    /// it wants to hand out.
    pub(crate) fn require_all_held(&self, perms: &[Permission]) -> ApiResult<()> {
        for p in perms {
            if !(self.active && self.permissions.iter().any(|g| g.covers(p))) {
                return Err(ApiError::forbidden(format!("permission {p} is not allowed")));
            }
        }
        Ok(())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| ApiError::unauthorized("unauthorized access"))
    }
}

/// A request made inside the server on behalf of a query's caller: the
/// authentication middleware takes this principal as it is. Only the server
/// can put it on a request; nothing a client sends can.
#[derive(Debug, Clone)]
pub(crate) struct ActingAs(pub(crate) Principal);
