//! Users: people who sign in, own tokens and belong to orgs.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::on_unique;
use crate::{Error, FindOptions, Id, Result, Store};

/// InfluxDB's minimum password length.
pub const MIN_PASSWORD_LEN: usize = 8;
/// bcrypt cost, as InfluxDB uses (Go's `bcrypt.DefaultCost`).
const BCRYPT_COST: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Inactive,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserStatus::Active),
            "inactive" => Some(UserStatus::Inactive),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Id,
    pub name: String,
    pub status: UserStatus,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub id: Option<Id>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub status: Option<UserStatus>,
}

pub(crate) const COLUMNS_U: &str = "u.id, u.name, u.status";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let status: String = r.get(2)?;
    Ok(User { id: r.get(0)?, name: r.get(1)?, status: UserStatus::parse(&status).unwrap_or(UserStatus::Active) })
}

pub(crate) fn find_by_id(conn: &Connection, id: Id) -> Result<User> {
    crate::db::one(conn, &format!("SELECT {COLUMNS_U} FROM users u WHERE u.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("user not found"))
}

fn conflict(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("user with name {name} already exists")
}

pub(crate) fn create(conn: &Connection, name: &str, status: UserStatus) -> Result<User> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("user name is empty".into()));
    }
    let user = User { id: Id::generate(), name: name.to_owned(), status };
    conn.execute(
        "INSERT INTO users (id, name, status) VALUES (?1, ?2, ?3)",
        params![user.id, user.name, user.status.as_str()],
    )
    .map_err(|e| on_unique(e, conflict(name)))?;
    Ok(user)
}

/// Checks InfluxDB's password rule and hashes the password with bcrypt.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::Invalid("passwords must be at least 8 characters long".into()));
    }
    bcrypt::hash(password, BCRYPT_COST).map_err(|e| Error::Internal(format!("hashing password: {e}")))
}

pub(crate) fn set_password_hash(conn: &Connection, id: Id, hash: &str) -> Result<()> {
    let n = conn.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![id, hash])?;
    if n == 0 {
        return Err(Error::not_found("user not found"));
    }
    Ok(())
}

impl Store {
    pub fn create_user(&self, name: &str, status: UserStatus) -> Result<User> {
        self.write(|tx| create(tx, name, status))
    }

    pub fn find_user_by_id(&self, id: Id) -> Result<User> {
        find_by_id(&self.conn(), id)
    }

    pub fn find_user_by_name(&self, name: &str) -> Result<User> {
        crate::db::one(&self.conn(), &format!("SELECT {COLUMNS_U} FROM users u WHERE u.name = ?1"), [name], from_row)
            .optional()?
            .ok_or_else(|| Error::not_found("user not found"))
    }

    pub fn list_users(&self, filter: &UserFilter, opts: &FindOptions) -> Result<Vec<User>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS_U} FROM users u
             WHERE (?1 IS NULL OR u.id = ?1) AND (?2 IS NULL OR u.name = ?2) ORDER BY u.id"
        ))?;
        let rows = stmt.query_map(params![filter.id, filter.name], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(opts.apply(rows, |u| u.id))
    }

    pub fn update_user(&self, id: Id, update: &UserUpdate) -> Result<User> {
        self.write(|tx| {
            let mut user = find_by_id(tx, id)?;
            if let Some(name) = &update.name {
                if name.trim().is_empty() {
                    return Err(Error::Invalid("user name is empty".into()));
                }
                user.name = name.clone();
            }
            if let Some(status) = update.status {
                user.status = status;
            }
            tx.execute(
                "UPDATE users SET name = ?2, status = ?3 WHERE id = ?1",
                params![user.id, user.name, user.status.as_str()],
            )
            .map_err(|e| on_unique(e, conflict(&user.name)))?;
            Ok(user)
        })
    }

    /// Deletes a user with their tokens, sessions and memberships.
    pub fn delete_user(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            find_by_id(tx, id)?;
            tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// Sets a user's password (bcrypt-hashed; at least eight characters).
    pub fn set_password(&self, id: Id, password: &str) -> Result<()> {
        // Hash outside the lock: bcrypt is deliberately slow.
        let hash = hash_password(password)?;
        self.write(|tx| set_password_hash(tx, id, &hash))
    }

    /// Checks a user's name and password; the user on success.
    pub fn verify_password(&self, name: &str, password: &str) -> Result<User> {
        let found: Option<(User, Option<String>)> = crate::db::one(
            &self.conn(),
            &format!("SELECT {COLUMNS_U}, u.password_hash FROM users u WHERE u.name = ?1"),
            [name],
            |r| Ok((from_row(r)?, r.get(3)?)),
        )
        .optional()?;
        match found {
            Some((user, Some(hash))) if bcrypt::verify(password, &hash).unwrap_or(false) => Ok(user),
            _ => Err(Error::Unauthorized),
        }
    }

    /// Checks a user's password by ID.
    pub fn verify_password_by_id(&self, id: Id, password: &str) -> Result<User> {
        let user = self.find_user_by_id(id)?;
        self.verify_password(&user.name, password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_hashed_and_verified() {
        let store = Store::open_in_memory().unwrap();
        let u = store.create_user("ada", UserStatus::Active).unwrap();
        assert!(matches!(store.set_password(u.id, "short"), Err(Error::Invalid(_))));
        store.set_password(u.id, "correct horse").unwrap();
        let stored: String =
            store.conn().query_row("SELECT password_hash FROM users WHERE id = ?1", [u.id], |r| r.get(0)).unwrap();
        assert!(stored.starts_with("$2"), "bcrypt hash, not the password");
        assert_eq!(store.verify_password("ada", "correct horse").unwrap().id, u.id);
        assert!(matches!(store.verify_password("ada", "wrong horse"), Err(Error::Unauthorized)));
        assert!(matches!(store.verify_password("bob", "correct horse"), Err(Error::Unauthorized)));
    }
}
