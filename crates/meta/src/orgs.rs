//! Organizations: the tenant every bucket, token and label belongs to.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::buckets::{self, NewBucket};
use crate::error::on_unique;
use crate::members::{self, Role};
use crate::{Error, FindOptions, Id, Result, Store, now_rfc3339};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub id: Option<Id>,
    pub name: Option<String>,
    /// Only orgs this user belongs to, as member or owner.
    pub user_id: Option<Id>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
}

const COLUMNS: &str = "id, name, description, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Org> {
    Ok(Org { id: r.get(0)?, name: r.get(1)?, description: r.get(2)?, created_at: r.get(3)?, updated_at: r.get(4)? })
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("org name is empty".into()));
    }
    Ok(())
}

fn conflict(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("organization with name {name} already exists")
}

/// Creates an org with its system buckets, and makes `owner` its owner.
pub(crate) fn create(conn: &Connection, name: &str, description: &str, owner: Option<Id>) -> Result<Org> {
    check_name(name)?;
    let now = now_rfc3339();
    let org = Org {
        id: Id::generate(),
        name: name.to_owned(),
        description: description.to_owned(),
        created_at: now.clone(),
        updated_at: now,
    };
    conn.execute(
        "INSERT INTO orgs (id, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![org.id, org.name, org.description, org.created_at, org.updated_at],
    )
    .map_err(|e| on_unique(e, conflict(name)))?;
    for (name, retention) in buckets::SYSTEM_BUCKETS {
        buckets::create(conn, &NewBucket::system(org.id, name, *retention))?;
    }
    if let Some(user) = owner {
        members::add(conn, members::ResourceKind::Org, org.id, user, Role::Owner)?;
    }
    Ok(org)
}

pub(crate) fn find_by_id(conn: &Connection, id: Id) -> Result<Org> {
    crate::db::one(conn, &format!("SELECT {COLUMNS} FROM orgs WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("organization not found"))
}

impl Store {
    /// Creates an org, its `_monitoring` and `_tasks` buckets, and the owner's membership.
    pub fn create_org(&self, name: &str, description: &str, owner: Option<Id>) -> Result<Org> {
        self.write(|tx| create(tx, name, description, owner))
    }

    pub fn find_org_by_id(&self, id: Id) -> Result<Org> {
        find_by_id(&self.conn(), id)
    }

    pub fn find_org_by_name(&self, name: &str) -> Result<Org> {
        crate::db::one(&self.conn(), &format!("SELECT {COLUMNS} FROM orgs WHERE name = ?1"), [name], from_row)
            .optional()?
            .ok_or_else(|| Error::not_found(format!("organization name \"{name}\" not found")))
    }

    /// Orgs in ID order, filtered and paged.
    pub fn list_orgs(&self, filter: &OrgFilter, opts: &FindOptions) -> Result<Vec<Org>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM orgs
             WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR name = ?2)
               AND (?3 IS NULL OR id IN (SELECT resource_id FROM members
                                         WHERE resource_type = 'orgs' AND user_id = ?3))
             ORDER BY id"
        ))?;
        let rows = stmt
            .query_map(params![filter.id, filter.name, filter.user_id], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(opts.apply(rows, |o| o.id))
    }

    pub fn update_org(&self, id: Id, update: &OrgUpdate) -> Result<Org> {
        self.write(|tx| {
            let mut org = find_by_id(tx, id)?;
            if let Some(name) = &update.name {
                check_name(name)?;
                org.name = name.clone();
            }
            if let Some(description) = &update.description {
                org.description = description.clone();
            }
            org.updated_at = now_rfc3339();
            tx.execute(
                "UPDATE orgs SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
                params![org.id, org.name, org.description, org.updated_at],
            )
            .map_err(|e| on_unique(e, conflict(&org.name)))?;
            Ok(org)
        })
    }

    /// Deletes an org and everything it owns: buckets, tokens, labels, memberships.
    pub fn delete_org(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            find_by_id(tx, id)?;
            tx.execute(
                "DELETE FROM members WHERE resource_type = 'buckets'
                 AND resource_id IN (SELECT id FROM buckets WHERE org_id = ?1)",
                [id],
            )?;
            tx.execute(
                "DELETE FROM label_mappings WHERE resource_type = 'buckets'
                 AND resource_id IN (SELECT id FROM buckets WHERE org_id = ?1)",
                [id],
            )?;
            members::remove_all(tx, members::ResourceKind::Org, id)?;
            tx.execute("DELETE FROM label_mappings WHERE resource_type = 'orgs' AND resource_id = ?1", [id])?;
            tx.execute("DELETE FROM orgs WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}
