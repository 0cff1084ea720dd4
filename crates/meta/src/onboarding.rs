//! Onboarding: the one-time setup of the first user, org, bucket and operator token.

use crate::auth::operator_permissions;
use crate::authorizations::{self, AuthStatus, Authorization, NewAuthorization};
use crate::buckets::{self, Bucket, NewBucket};
use crate::orgs::{self, Org};
use crate::users::{self, User, UserStatus};
use crate::{Error, Result, Store};

/// What onboarding asks for.
#[derive(Clone)]
pub struct Setup {
    pub username: String,
    pub password: Option<String>,
    pub org: String,
    pub bucket: String,
    pub retention_seconds: i64,
    pub token: Option<String>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("username", &self.username)
            .field("org", &self.org)
            .field("bucket", &self.bucket)
            .field("retention_seconds", &self.retention_seconds)
            .finish_non_exhaustive()
    }
}

/// What onboarding made.
#[derive(Debug, Clone)]
pub struct SetupResult {
    pub user: User,
    pub org: Org,
    pub bucket: Bucket,
    pub auth: Authorization,
}

impl Store {
    /// Whether setup may still run: true until the first user exists.
    pub fn onboarding_allowed(&self) -> Result<bool> {
        let n: i64 = self.conn().query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        Ok(n == 0)
    }

    /// Runs setup in one transaction: all of it happens, or none.
    pub fn setup(&self, s: &Setup) -> Result<SetupResult> {
        let hash = s.password.as_deref().map(users::hash_password).transpose()?;
        self.write(|tx| {
            let n: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
            if n > 0 {
                return Err(Error::Conflict("onboarding has already been completed".into()));
            }
            let user = users::create(tx, &s.username, UserStatus::Active)?;
            if let Some(hash) = &hash {
                users::set_password_hash(tx, user.id, hash)?;
            }
            let org = orgs::create(tx, &s.org, "", Some(user.id))?;
            let bucket = buckets::create(tx, &NewBucket::user(org.id, &s.bucket, s.retention_seconds))?;
            let auth = authorizations::create(
                tx,
                &NewAuthorization {
                    org_id: org.id,
                    user_id: Some(user.id),
                    description: format!("{}'s Token", user.name),
                    status: AuthStatus::Active,
                    permissions: operator_permissions(),
                    token: s.token.clone(),
                },
            )?;
            Ok(SetupResult { user, org, bucket, auth })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> Setup {
        Setup {
            username: "admin".into(),
            password: Some("password123".into()),
            org: "acme".into(),
            bucket: "metrics".into(),
            retention_seconds: 0,
            token: Some("my-token".into()),
        }
    }

    #[test]
    fn setup_runs_once() {
        let store = Store::open_in_memory().unwrap();
        assert!(store.onboarding_allowed().unwrap());
        let res = store.setup(&setup()).unwrap();
        assert_eq!(res.auth.token.as_deref(), Some("my-token"));
        assert!(!store.onboarding_allowed().unwrap());
        let err = store.setup(&setup()).unwrap_err();
        assert!(matches!(err, Error::Conflict(m) if m == "onboarding has already been completed"));
    }

    #[test]
    fn failed_setup_leaves_nothing_behind() {
        let store = Store::open_in_memory().unwrap();
        let mut s = setup();
        s.bucket = "_bad".into();
        assert!(store.setup(&s).is_err());
        assert!(store.onboarding_allowed().unwrap());
        assert!(store.find_org_by_name("acme").is_err());
    }
}
