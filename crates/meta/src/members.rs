//! Who belongs to what: users as members or owners of orgs and buckets.

use rusqlite::{Connection, params};

use crate::users::{self, User};
use crate::{Error, Id, Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }
}

/// The kinds of resource that have members and owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Org,
    Bucket,
    Task,
    Dashboard,
    Telegraf,
    Scraper,
}

impl ResourceKind {
    fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Org => "orgs",
            ResourceKind::Bucket => "buckets",
            ResourceKind::Task => "tasks",
            ResourceKind::Dashboard => "dashboards",
            ResourceKind::Telegraf => "telegrafs",
            ResourceKind::Scraper => "scrapers",
        }
    }
}

pub(crate) fn add(conn: &Connection, kind: ResourceKind, resource: Id, user: Id, role: Role) -> Result<()> {
    // Adding someone again with another role changes the role, as InfluxDB's
    // owner/member lists are disjoint.
    conn.execute(
        "INSERT INTO members (resource_type, resource_id, user_id, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (resource_type, resource_id, user_id) DO UPDATE SET role = excluded.role",
        params![kind.as_str(), resource, user, role.as_str()],
    )?;
    Ok(())
}

pub(crate) fn remove_all(conn: &Connection, kind: ResourceKind, resource: Id) -> Result<()> {
    conn.execute(
        "DELETE FROM members WHERE resource_type = ?1 AND resource_id = ?2",
        params![kind.as_str(), resource],
    )?;
    Ok(())
}

/// An org membership of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub org_id: Id,
    pub role: Role,
}

impl Store {
    pub fn add_member(&self, kind: ResourceKind, resource: Id, user: Id, role: Role) -> Result<()> {
        self.write(|tx| {
            users::find_by_id(tx, user)?;
            add(tx, kind, resource, user, role)
        })
    }

    /// Removes `user` in `role` from the resource.
    pub fn remove_member(&self, kind: ResourceKind, resource: Id, user: Id, role: Role) -> Result<()> {
        let n = self.conn().execute(
            "DELETE FROM members WHERE resource_type = ?1 AND resource_id = ?2 AND user_id = ?3 AND role = ?4",
            params![kind.as_str(), resource, user, role.as_str()],
        )?;
        if n == 0 {
            return Err(Error::not_found("user to resource mapping not found"));
        }
        Ok(())
    }

    /// The users holding `role` on the resource, in user-ID order.
    pub fn list_members(&self, kind: ResourceKind, resource: Id, role: Role) -> Result<Vec<User>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {} FROM users u JOIN members m ON m.user_id = u.id
             WHERE m.resource_type = ?1 AND m.resource_id = ?2 AND m.role = ?3 ORDER BY u.id",
            users::COLUMNS_U
        ))?;
        let rows = stmt
            .query_map(params![kind.as_str(), resource, role.as_str()], users::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every org the user belongs to, with the role held there.
    pub fn org_memberships(&self, user: Id) -> Result<Vec<Membership>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT resource_id, role FROM members WHERE resource_type = 'orgs' AND user_id = ?1")?;
        let rows = stmt
            .query_map([user], |r| {
                let role: String = r.get(1)?;
                Ok(Membership { org_id: r.get(0)?, role: if role == "owner" { Role::Owner } else { Role::Member } })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Every resource (but orgs) where `user` is a member or owner: its type name, ID and the role.
    pub fn resource_memberships(&self, user: Id) -> Result<Vec<(String, Id, Role)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT resource_type, resource_id, role FROM members WHERE resource_type != 'orgs' AND user_id = ?1",
        )?;
        let rows = stmt
            .query_map([user], |r| {
                let role: String = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, if role == "owner" { Role::Owner } else { Role::Member }))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The resources of a type where `user` has `role`.
    pub fn user_resources(&self, user: Id, resource_type: &str, role: Role) -> Result<Vec<Id>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT resource_id FROM members WHERE resource_type = ?1 AND user_id = ?2 AND role = ?3")?;
        let rows = stmt
            .query_map(rusqlite::params![resource_type, user, role.as_str()], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
