//! Resource kinds whose sub-resources (`/labels`, `/members`, `/owners`)
//! are served by shared handlers, generic over the kind.

use std::future::Future;

use meta::Id;
use meta::auth::Action;

use crate::error::ApiResult;
use crate::principal::Principal;
use crate::state::AppState;

/// A kind of resource the shared sub-resource handlers can act on.
pub(crate) trait Resource: Send + Sync + 'static {
    /// The path prefix of one resource (`/api/v2/dashboards`).
    const PATH: &'static str;
    /// Loads the resource named by `id` (404 if missing) and checks `action` on it; its ID.
    fn target(state: &AppState, p: &Principal, id: &str, action: Action) -> impl Future<Output = ApiResult<Id>> + Send;
}
