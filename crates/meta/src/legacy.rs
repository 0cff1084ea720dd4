//! v1 (legacy) authorizations: what 1.x clients sign in with. Each has a
//! username (InfluxDB calls it the authorization's `token`), an optional
//! bcrypt password set separately, and v2 permissions scoped to an org.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::auth::Permission;
use crate::authorizations::{AuthStatus, Authorization, AuthorizationUpdate};
use crate::error::on_unique;
use crate::{Error, Id, Result, Store, now_rfc3339};

/// A v1 authorization to create.
#[derive(Debug, Clone)]
pub struct NewLegacyAuthorization {
    pub org_id: Id,
    pub user_id: Option<Id>,
    /// The v1 username.
    pub token: String,
    pub description: String,
    pub status: AuthStatus,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Default)]
pub struct LegacyFilter {
    pub id: Option<Id>,
    pub user_id: Option<Id>,
    pub org_id: Option<Id>,
    pub token: Option<String>,
}

const COLUMNS: &str = "id, status, description, org_id, user_id, permissions, created_at, updated_at, username";

/// The columns authorizations share, then the username (the v1 token).
fn from_row(r: &Row<'_>) -> rusqlite::Result<Authorization> {
    let mut a = crate::authorizations::from_row(r)?;
    a.token = Some(r.get(8)?);
    Ok(a)
}

fn find_by_id(conn: &Connection, id: Id) -> Result<Authorization> {
    crate::db::one(conn, &format!("SELECT {COLUMNS} FROM legacy_authorizations WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("authorization not found"))
}

impl Store {
    pub fn create_legacy_authorization(&self, new: &NewLegacyAuthorization) -> Result<Authorization> {
        if new.permissions.is_empty() {
            return Err(Error::Invalid("authorization must include permissions".into()));
        }
        if new.token.is_empty() {
            return Err(Error::Invalid("token required for v1 user authorization type".into()));
        }
        for p in &new.permissions {
            if p.resource.org_id.is_some_and(|o| o != new.org_id) {
                return Err(Error::Invalid(format!("permission {p} is not for org id {}", new.org_id)));
            }
        }
        self.write(|tx| {
            crate::orgs::find_by_id(tx, new.org_id)?;
            if let Some(user) = new.user_id {
                crate::users::find_by_id(tx, user)?;
            }
            let now = now_rfc3339();
            let auth = Authorization {
                id: Id::generate(),
                token: Some(new.token.clone()),
                status: new.status,
                description: new.description.clone(),
                org_id: new.org_id,
                user_id: new.user_id,
                permissions: new.permissions.clone(),
                created_at: now.clone(),
                updated_at: now,
            };
            let perms = serde_json::to_string(&auth.permissions).map_err(|e| Error::Internal(e.to_string()))?;
            tx.execute(
                &format!("INSERT INTO legacy_authorizations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    auth.id,
                    auth.status.as_str(),
                    auth.description,
                    auth.org_id,
                    auth.user_id,
                    perms,
                    auth.created_at,
                    auth.updated_at,
                    new.token
                ],
            )
            .map_err(|e| on_unique(e, || "token already exists".into()))?;
            Ok(auth)
        })
    }

    pub fn find_legacy_authorization(&self, id: Id) -> Result<Authorization> {
        find_by_id(&self.conn(), id)
    }

    pub fn list_legacy_authorizations(&self, filter: &LegacyFilter) -> Result<Vec<Authorization>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM legacy_authorizations
             WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR user_id = ?2) AND (?3 IS NULL OR org_id = ?3)
               AND (?4 IS NULL OR username = ?4)
             ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![filter.id, filter.user_id, filter.org_id, filter.token], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn update_legacy_authorization(&self, id: Id, update: &AuthorizationUpdate) -> Result<Authorization> {
        self.write(|tx| {
            let mut a = find_by_id(tx, id)?;
            if let Some(s) = update.status {
                a.status = s;
            }
            if let Some(d) = &update.description {
                a.description = d.clone();
            }
            a.updated_at = now_rfc3339();
            tx.execute(
                "UPDATE legacy_authorizations SET status = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, a.status.as_str(), a.description, a.updated_at],
            )?;
            Ok(a)
        })
    }

    pub fn delete_legacy_authorization(&self, id: Id) -> Result<()> {
        let n = self.conn().execute("DELETE FROM legacy_authorizations WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(Error::not_found("authorization not found"));
        }
        Ok(())
    }

    /// Sets the password a v1 client signs in with (bcrypt; InfluxDB's length rule).
    pub fn set_legacy_password(&self, id: Id, password: &str) -> Result<()> {
        let hash = crate::users::hash_password(password)?;
        self.store_legacy_hash(id, &hash)
    }

    /// Carries over a password already hashed with bcrypt (a 1.x user's, by
    /// an upgrade), so the same password signs in; anything that is not a
    /// bcrypt hash is refused.
    pub fn set_legacy_password_hash(&self, id: Id, hash: &str) -> Result<()> {
        if bcrypt::verify("", hash).is_err() {
            return Err(Error::Invalid("not a bcrypt password hash".into()));
        }
        self.store_legacy_hash(id, hash)
    }

    fn store_legacy_hash(&self, id: Id, hash: &str) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE legacy_authorizations SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, hash, now_rfc3339()],
        )?;
        if n == 0 {
            return Err(Error::not_found("authorization not found"));
        }
        Ok(())
    }

    /// The v1 authorization of `username` whose password is `password`; `None`
    /// when there is no such username (the caller may then try the password as a token).
    pub fn verify_legacy_password(&self, username: &str, password: &str) -> Result<Option<Authorization>> {
        let found = {
            let conn = self.conn();
            crate::db::one(
                &conn,
                &format!("SELECT {COLUMNS}, password_hash FROM legacy_authorizations WHERE username = ?1"),
                [username],
                |r| Ok((from_row(r)?, r.get::<_, Option<String>>(9)?)),
            )
            .optional()?
        };
        match found {
            None => Ok(None),
            Some((auth, Some(hash))) if bcrypt::verify(password, &hash).unwrap_or(false) => Ok(Some(auth)),
            Some(_) => Err(Error::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Action, Resource, ResourceType};

    #[test]
    fn a_v1_user_signs_in_with_its_password_only() {
        let store = Store::open_in_memory().unwrap();
        let org = store.create_org("acme", "", None).unwrap();
        let read = Permission { action: Action::Read, resource: Resource::in_org(ResourceType::Buckets, org.id) };
        let new = NewLegacyAuthorization {
            org_id: org.id,
            user_id: None,
            token: "grafana".into(),
            description: String::new(),
            status: AuthStatus::Active,
            permissions: vec![read],
        };
        let a = store.create_legacy_authorization(&new).unwrap();
        assert!(store.create_legacy_authorization(&new).is_err(), "usernames are unique");
        assert!(store.verify_legacy_password("grafana", "anything").is_err(), "no password set yet");
        store.set_legacy_password(a.id, "s3cretpassword").unwrap();
        assert_eq!(store.verify_legacy_password("grafana", "s3cretpassword").unwrap().unwrap().id, a.id);
        assert!(store.verify_legacy_password("grafana", "wrong-password").is_err());
        assert!(store.verify_legacy_password("nobody", "x").unwrap().is_none());
        assert!(store.set_legacy_password(a.id, "short").is_err());
        let listed = store.list_legacy_authorizations(&LegacyFilter { org_id: Some(org.id), ..Default::default() });
        assert_eq!(listed.unwrap().len(), 1);
        store.delete_legacy_authorization(a.id).unwrap();
        assert!(store.find_legacy_authorization(a.id).is_err());
    }

    #[test]
    fn a_carried_bcrypt_hash_signs_in_with_its_password() {
        let store = Store::open_in_memory().unwrap();
        let org = store.create_org("acme", "", None).unwrap();
        let read = Permission { action: Action::Read, resource: Resource::in_org(ResourceType::Buckets, org.id) };
        let new = NewLegacyAuthorization {
            org_id: org.id,
            user_id: None,
            token: "reader".into(),
            description: String::new(),
            status: AuthStatus::Active,
            permissions: vec![read],
        };
        let a = store.create_legacy_authorization(&new).unwrap();
        // As 1.x hashes (Go's bcrypt writes $2a$).
        let hash = bcrypt::hash_with_result("old-1x-pass", 4).unwrap().format_for_version(bcrypt::Version::TwoA);
        store.set_legacy_password_hash(a.id, &hash).unwrap();
        assert_eq!(store.verify_legacy_password("reader", "old-1x-pass").unwrap().unwrap().id, a.id);
        assert!(store.verify_legacy_password("reader", "other").is_err());
        assert!(store.set_legacy_password_hash(a.id, "plain text").is_err());
    }
}
