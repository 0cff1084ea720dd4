//! Labels: named, coloured tags that resources of an org can carry.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::on_unique;
use crate::{Error, FindOptions, Id, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub id: Id,
    pub org_id: Id,
    pub name: String,
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct LabelFilter {
    pub org_id: Option<Id>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LabelUpdate {
    pub name: Option<String>,
    /// Merged into the label's properties; an empty value removes the key.
    pub properties: Option<BTreeMap<String, String>>,
}

const COLUMNS: &str = "l.id, l.org_id, l.name, l.properties";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Label> {
    let props: String = r.get(3)?;
    Ok(Label {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        properties: serde_json::from_str(&props).unwrap_or_default(),
    })
}

fn find_by_id(conn: &Connection, id: Id) -> Result<Label> {
    crate::db::one(conn, &format!("SELECT {COLUMNS} FROM labels l WHERE l.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("label not found"))
}

fn conflict(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("label with name {name} already exists")
}

fn props_json(props: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(props).map_err(|e| Error::Internal(e.to_string()))
}

impl Store {
    pub fn create_label(&self, org_id: Id, name: &str, properties: BTreeMap<String, String>) -> Result<Label> {
        if name.trim().is_empty() {
            return Err(Error::Invalid("label name is empty".into()));
        }
        self.write(|tx| {
            crate::orgs::find_by_id(tx, org_id)?;
            let label = Label { id: Id::generate(), org_id, name: name.to_owned(), properties };
            tx.execute(
                "INSERT INTO labels (id, org_id, name, properties) VALUES (?1, ?2, ?3, ?4)",
                params![label.id, label.org_id, label.name, props_json(&label.properties)?],
            )
            .map_err(|e| on_unique(e, conflict(name)))?;
            Ok(label)
        })
    }

    pub fn find_label_by_id(&self, id: Id) -> Result<Label> {
        find_by_id(&self.conn(), id)
    }

    pub fn list_labels(&self, filter: &LabelFilter, opts: &FindOptions) -> Result<Vec<Label>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM labels l
             WHERE (?1 IS NULL OR l.org_id = ?1) AND (?2 IS NULL OR l.name = ?2) ORDER BY l.id"
        ))?;
        let rows =
            stmt.query_map(params![filter.org_id, filter.name], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(opts.apply(rows, |l| l.id))
    }

    pub fn update_label(&self, id: Id, update: &LabelUpdate) -> Result<Label> {
        self.write(|tx| {
            let mut label = find_by_id(tx, id)?;
            if let Some(name) = &update.name {
                if name.trim().is_empty() {
                    return Err(Error::Invalid("label name is empty".into()));
                }
                label.name = name.clone();
            }
            for (k, v) in update.properties.iter().flatten() {
                if v.is_empty() {
                    label.properties.remove(k);
                } else {
                    label.properties.insert(k.clone(), v.clone());
                }
            }
            tx.execute(
                "UPDATE labels SET name = ?2, properties = ?3 WHERE id = ?1",
                params![label.id, label.name, props_json(&label.properties)?],
            )
            .map_err(|e| on_unique(e, conflict(&label.name)))?;
            Ok(label)
        })
    }

    pub fn delete_label(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            find_by_id(tx, id)?;
            tx.execute("DELETE FROM labels WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// Attaches a label to a resource (`resource_type` as the API names it, e.g. `buckets`).
    pub fn add_label_mapping(&self, label_id: Id, resource_type: &str, resource_id: Id) -> Result<Label> {
        self.write(|tx| {
            let label = find_by_id(tx, label_id)?;
            tx.execute(
                "INSERT INTO label_mappings (label_id, resource_type, resource_id) VALUES (?1, ?2, ?3)",
                params![label_id, resource_type, resource_id],
            )
            .map_err(|e| on_unique(e, || "label already mapped to resource".into()))?;
            Ok(label)
        })
    }

    pub fn remove_label_mapping(&self, label_id: Id, resource_type: &str, resource_id: Id) -> Result<()> {
        let n = self.conn().execute(
            "DELETE FROM label_mappings WHERE label_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
            params![label_id, resource_type, resource_id],
        )?;
        if n == 0 {
            return Err(Error::not_found("label mapping not found"));
        }
        Ok(())
    }

    /// The labels attached to a resource, in label-ID order.
    pub fn labels_of(&self, resource_type: &str, resource_id: Id) -> Result<Vec<Label>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM labels l JOIN label_mappings m ON m.label_id = l.id
             WHERE m.resource_type = ?1 AND m.resource_id = ?2 ORDER BY l.id"
        ))?;
        let rows =
            stmt.query_map(params![resource_type, resource_id], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
