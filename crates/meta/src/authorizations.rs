//! Authorizations: API tokens and the permissions they carry.
//!
//! A token is 64 random bytes in padded base64url, as InfluxDB makes them. Only
//! its SHA-256 digest is stored (InfluxDB 2.9's default, "token hashing"), so the
//! token itself is shown exactly once: in the answer to its creation.

use base64::Engine;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::Permission;
use crate::error::on_unique;
use crate::{Error, FindOptions, Id, Result, Store, now_rfc3339};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStatus {
    Active,
    Inactive,
}

impl AuthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthStatus::Active => "active",
            AuthStatus::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AuthStatus::Active),
            "inactive" => Some(AuthStatus::Inactive),
            _ => None,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    pub id: Id,
    /// The token in clear: present only on the value returned by creation.
    pub token: Option<String>,
    pub status: AuthStatus,
    pub description: String,
    pub org_id: Id,
    pub user_id: Option<Id>,
    pub permissions: Vec<Permission>,
    pub created_at: String,
    pub updated_at: String,
}

// Hand-written so that a token can never reach a log through `{:?}`.
impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("id", &self.id)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("status", &self.status)
            .field("org_id", &self.org_id)
            .field("user_id", &self.user_id)
            .field("permissions", &self.permissions)
            .finish_non_exhaustive()
    }
}

/// An authorization to create.
#[derive(Clone)]
pub struct NewAuthorization {
    pub org_id: Id,
    pub user_id: Option<Id>,
    pub description: String,
    pub status: AuthStatus,
    pub permissions: Vec<Permission>,
    /// Use this token instead of generating one (onboarding accepts one).
    pub token: Option<String>,
}

impl std::fmt::Debug for NewAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAuthorization")
            .field("org_id", &self.org_id)
            .field("user_id", &self.user_id)
            .field("permissions", &self.permissions)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuthorizationFilter {
    pub id: Option<Id>,
    pub user_id: Option<Id>,
    pub org_id: Option<Id>,
    /// Only the authorization holding this token.
    pub token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuthorizationUpdate {
    pub status: Option<AuthStatus>,
    pub description: Option<String>,
}

/// A new random token: 64 bytes of the OS's randomness, padded base64url.
pub fn generate_token() -> String {
    let bytes: [u8; 64] = rand::random();
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// The SHA-256 digest tokens are stored and looked up by.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

const COLUMNS: &str = "id, status, description, org_id, user_id, permissions, created_at, updated_at";

/// An authorization from the first eight columns of a row (as `COLUMNS`); its token is not read.
pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Authorization> {
    let status: String = r.get(1)?;
    let perms: String = r.get(5)?;
    Ok(Authorization {
        id: r.get(0)?,
        token: None,
        status: AuthStatus::parse(&status).unwrap_or(AuthStatus::Inactive),
        description: r.get(2)?,
        org_id: r.get(3)?,
        user_id: r.get(4)?,
        permissions: serde_json::from_str(&perms)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e)))?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

fn find_by_id(conn: &Connection, id: Id) -> Result<Authorization> {
    crate::db::one(conn, &format!("SELECT {COLUMNS} FROM authorizations WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("authorization not found"))
}

pub(crate) fn create(conn: &Connection, new: &NewAuthorization) -> Result<Authorization> {
    if new.permissions.is_empty() {
        return Err(Error::Invalid("authorization must have at least one permission".into()));
    }
    for p in &new.permissions {
        if p.resource.org_id.is_some_and(|o| o != new.org_id) {
            return Err(Error::Invalid(format!("permission {p} is not for org id {}", new.org_id)));
        }
    }
    let token = match &new.token {
        Some(t) if t.is_empty() => return Err(Error::Invalid("token must not be empty".into())),
        Some(t) => t.clone(),
        None => generate_token(),
    };
    let now = now_rfc3339();
    let auth = Authorization {
        id: Id::generate(),
        token: Some(token),
        status: new.status,
        description: new.description.clone(),
        org_id: new.org_id,
        user_id: new.user_id,
        permissions: new.permissions.clone(),
        created_at: now.clone(),
        updated_at: now,
    };
    let perms = serde_json::to_string(&auth.permissions).map_err(|e| Error::Internal(e.to_string()))?;
    let digest = token_digest(auth.token.as_deref().unwrap_or_default());
    conn.execute(
        &format!("INSERT INTO authorizations (token_hash, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            &digest[..],
            auth.id,
            auth.status.as_str(),
            auth.description,
            auth.org_id,
            auth.user_id,
            perms,
            auth.created_at,
            auth.updated_at
        ],
    )
    .map_err(|e| on_unique(e, || "token already exists".into()))?;
    Ok(auth)
}

impl Store {
    /// Creates an authorization; the returned value carries the token in clear, once.
    pub fn create_authorization(&self, new: &NewAuthorization) -> Result<Authorization> {
        self.write(|tx| {
            crate::orgs::find_by_id(tx, new.org_id)?;
            if let Some(user) = new.user_id {
                crate::users::find_by_id(tx, user)?;
            }
            create(tx, new)
        })
    }

    pub fn find_authorization_by_id(&self, id: Id) -> Result<Authorization> {
        find_by_id(&self.conn(), id)
    }

    /// The authorization holding `token`, found by its digest and confirmed in
    /// constant time.
    pub fn find_authorization_by_token(&self, token: &str) -> Result<Authorization> {
        let digest = token_digest(token);
        let found: Option<(Vec<u8>, Authorization)> = crate::db::one(
            &self.conn(),
            &format!("SELECT token_hash, {COLUMNS} FROM authorizations WHERE token_hash = ?1"),
            [&digest[..]],
            |r| {
                let hash: Vec<u8> = r.get(0)?;
                let status: String = r.get(2)?;
                let perms: String = r.get(6)?;
                Ok((
                    hash,
                    Authorization {
                        id: r.get(1)?,
                        token: None,
                        status: AuthStatus::parse(&status).unwrap_or(AuthStatus::Inactive),
                        description: r.get(3)?,
                        org_id: r.get(4)?,
                        user_id: r.get(5)?,
                        permissions: serde_json::from_str(&perms).unwrap_or_default(),
                        created_at: r.get(7)?,
                        updated_at: r.get(8)?,
                    },
                ))
            },
        )
        .optional()?;
        match found {
            Some((hash, auth)) if bool::from(hash.as_slice().ct_eq(&digest[..])) => Ok(auth),
            _ => Err(Error::not_found("authorization not found")),
        }
    }

    pub fn list_authorizations(&self, filter: &AuthorizationFilter, opts: &FindOptions) -> Result<Vec<Authorization>> {
        let digest = filter.token.as_deref().map(token_digest);
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM authorizations
             WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR user_id = ?2)
               AND (?3 IS NULL OR org_id = ?3) AND (?4 IS NULL OR token_hash = ?4)
             ORDER BY id"
        ))?;
        let rows = stmt
            .query_map(params![filter.id, filter.user_id, filter.org_id, digest.as_ref().map(|d| &d[..])], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(opts.apply(rows, |a| a.id))
    }

    pub fn update_authorization(&self, id: Id, update: &AuthorizationUpdate) -> Result<Authorization> {
        self.write(|tx| {
            let mut auth = find_by_id(tx, id)?;
            if let Some(s) = update.status {
                auth.status = s;
            }
            if let Some(d) = &update.description {
                auth.description = d.clone();
            }
            auth.updated_at = now_rfc3339();
            tx.execute(
                "UPDATE authorizations SET status = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
                params![auth.id, auth.status.as_str(), auth.description, auth.updated_at],
            )?;
            Ok(auth)
        })
    }

    pub fn delete_authorization(&self, id: Id) -> Result<()> {
        let n = self.conn().execute("DELETE FROM authorizations WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(Error::not_found("authorization not found"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::operator_permissions;

    #[test]
    fn tokens_are_stored_hashed_and_found_by_value() {
        let store = Store::open_in_memory().unwrap();
        let org = store.create_org("acme", "", None).unwrap();
        let new = NewAuthorization {
            org_id: org.id,
            user_id: None,
            description: "t".into(),
            status: AuthStatus::Active,
            permissions: operator_permissions(),
            token: None,
        };
        let created = store.create_authorization(&new).unwrap();
        let token = created.token.clone().unwrap();
        assert_eq!(token.len(), 88, "64 bytes in padded base64");
        let found = store.find_authorization_by_token(&token).unwrap();
        assert_eq!(found.id, created.id);
        assert_eq!(found.token, None, "the token is never read back");
        assert!(store.find_authorization_by_token("nope").is_err());
        let stored: usize = store
            .conn()
            .query_row(
                "SELECT count(*) FROM authorizations WHERE instr(CAST(token_hash AS TEXT), ?1) > 0",
                [&token],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 0);
    }
}
