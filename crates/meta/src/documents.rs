//! Resources that are stored documents: dashboards (with their cells),
//! views, variables, Telegraf configurations, scraper targets, checks,
//! notification endpoints, notification rules and template stacks. Each is a
//! JSON body kept with its kind, org, name and times; the API layer knows
//! each kind's shape and rules. Deleting a document deletes its children
//! (a dashboard's views), its label mappings and its members.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;

use crate::{Error, Id, Result, Store};

/// The kinds of stored documents, with the resource-type names InfluxDB uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dashboard,
    View,
    Variable,
    Telegraf,
    Scraper,
    Check,
    NotificationEndpoint,
    NotificationRule,
    /// A template stack: what an apply installed, with its history.
    Stack,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dashboard => "dashboards",
            Kind::View => "views",
            Kind::Variable => "variables",
            Kind::Telegraf => "telegrafs",
            Kind::Scraper => "scrapers",
            Kind::Check => "checks",
            Kind::NotificationEndpoint => "notificationEndpoints",
            Kind::NotificationRule => "notificationRules",
            Kind::Stack => "stacks",
        }
    }

    fn not_found(self) -> Error {
        Error::not_found(match self {
            Kind::Dashboard => "dashboard not found",
            Kind::View => "view not found",
            Kind::Variable => "variable not found",
            Kind::Telegraf => "telegraf configuration not found",
            Kind::Scraper => "scraper target not found",
            Kind::Check => "check not found",
            Kind::NotificationEndpoint => "notification endpoint not found",
            Kind::NotificationRule => "notification rule not found",
            Kind::Stack => "stack not found",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: Id,
    pub org_id: Id,
    /// The document this one belongs to (a view's dashboard).
    pub parent_id: Option<Id>,
    pub name: String,
    pub body: Value,
    pub owner_id: Option<Id>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org_id, parent_id, name, body, owner_id, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Document> {
    let body: String = r.get(4)?;
    Ok(Document {
        id: r.get(0)?,
        org_id: r.get(1)?,
        parent_id: r.get(2)?,
        name: r.get(3)?,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
        owner_id: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

fn find(conn: &Connection, kind: Kind, id: Id) -> Result<Document> {
    crate::db::one(
        conn,
        &format!("SELECT {COLUMNS} FROM documents WHERE kind = ?1 AND id = ?2"),
        params![kind.as_str(), id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| kind.not_found())
}

fn delete_one(conn: &Connection, kind: Kind, id: Id) -> Result<()> {
    conn.execute(
        "DELETE FROM label_mappings WHERE resource_type = ?1 AND resource_id = ?2",
        params![kind.as_str(), id],
    )?;
    conn.execute("DELETE FROM members WHERE resource_type = ?1 AND resource_id = ?2", params![kind.as_str(), id])?;
    conn.execute("DELETE FROM documents WHERE kind = ?1 AND id = ?2", params![kind.as_str(), id])?;
    Ok(())
}

/// A new document's fields.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub kind: Kind,
    pub org_id: Id,
    pub parent_id: Option<Id>,
    pub name: String,
    pub body: Value,
    pub owner_id: Option<Id>,
    /// Names are unique among an org's documents of the kind.
    pub unique_name: bool,
    pub now: i64,
}

impl Store {
    pub fn create_document(&self, new: &NewDocument) -> Result<Document> {
        self.write(|tx| {
            crate::orgs::find_by_id(tx, new.org_id)?;
            if new.unique_name {
                taken(tx, new.kind, new.org_id, &new.name, None)?;
            }
            let id = Id::generate();
            tx.execute(
                &format!("INSERT INTO documents (kind, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"),
                params![
                    new.kind.as_str(),
                    id,
                    new.org_id,
                    new.parent_id,
                    new.name,
                    new.body.to_string(),
                    new.owner_id,
                    new.now
                ],
            )?;
            let members_kind = match new.kind {
                Kind::Dashboard => Some(crate::members::ResourceKind::Dashboard),
                Kind::Telegraf => Some(crate::members::ResourceKind::Telegraf),
                Kind::Scraper => Some(crate::members::ResourceKind::Scraper),
                Kind::View
                | Kind::Variable
                | Kind::Check
                | Kind::NotificationEndpoint
                | Kind::NotificationRule
                | Kind::Stack => None,
            };
            if let (Some(owner), Some(k)) = (new.owner_id, members_kind) {
                crate::members::add(tx, k, id, owner, crate::members::Role::Owner)?;
            }
            find(tx, new.kind, id)
        })
    }

    pub fn find_document(&self, kind: Kind, id: Id) -> Result<Document> {
        find(&self.conn(), kind, id)
    }

    /// Documents of a kind, in ID order, optionally of one org or parent.
    pub fn list_documents(&self, kind: Kind, org_id: Option<Id>, parent_id: Option<Id>) -> Result<Vec<Document>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM documents WHERE kind = ?1 AND (?2 IS NULL OR org_id = ?2)
               AND (?3 IS NULL OR parent_id = ?3) ORDER BY id"
        ))?;
        let rows = stmt
            .query_map(params![kind.as_str(), org_id, parent_id], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Replaces a document's name and body (checking a unique name anew).
    pub fn update_document(
        &self,
        kind: Kind,
        id: Id,
        name: &str,
        body: &Value,
        unique_name: bool,
        now: i64,
    ) -> Result<Document> {
        self.write(|tx| {
            let doc = find(tx, kind, id)?;
            if unique_name && name != doc.name {
                taken(tx, kind, doc.org_id, name, Some(id))?;
            }
            tx.execute(
                "UPDATE documents SET name = ?3, body = ?4, updated_at = ?5 WHERE kind = ?1 AND id = ?2",
                params![kind.as_str(), id, name, body.to_string(), now],
            )?;
            find(tx, kind, id)
        })
    }

    /// Deletes a document with its children, label mappings and members.
    pub fn delete_document(&self, kind: Kind, id: Id) -> Result<()> {
        self.write(|tx| {
            find(tx, kind, id)?;
            let children: Vec<(String, Id)> = {
                let mut stmt = tx.prepare("SELECT kind, id FROM documents WHERE parent_id = ?1")?;
                stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
            };
            for (k, child) in children {
                if k == Kind::View.as_str() {
                    delete_one(tx, Kind::View, child)?;
                }
            }
            delete_one(tx, kind, id)
        })
    }
}

fn taken(conn: &Connection, kind: Kind, org: Id, name: &str, except: Option<Id>) -> Result<()> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE kind = ?1 AND org_id = ?2 AND name = ?3 AND (?4 IS NULL OR id != ?4))",
        params![kind.as_str(), org, name, except],
        |r| r.get(0),
    )?;
    if exists {
        return Err(Error::Conflict(match kind {
            Kind::Variable => format!("variable with name {name} already exists"),
            Kind::Dashboard => format!("dashboard with name {name} already exists"),
            Kind::Telegraf => format!("telegraf configuration with name {name} already exists"),
            Kind::Scraper => format!("scraper target with name {name} already exists"),
            Kind::View => format!("view with name {name} already exists"),
            Kind::Check => "check name is not unique".to_owned(),
            Kind::NotificationEndpoint => "notification endpoint name is not unique".to_owned(),
            Kind::NotificationRule => "notification rule name is not unique".to_owned(),
            Kind::Stack => format!("stack with name {name} already exists"),
        }));
    }
    Ok(())
}
