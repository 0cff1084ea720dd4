//! DBRP mappings: which bucket a v1 `db`/`rp` pair means.
//!
//! Besides the mappings made through the API ("physical"), every bucket has a
//! virtual one: database = its name and retention policy `autogen`, or, for a
//! bucket named `db/rp`, that pair. A virtual mapping has the bucket's ID.
//! Per org and database one mapping is the default (used when no `rp` is given):
//! the first one made, unless another is made default.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::buckets::BucketFilter;
use crate::error::on_unique;
use crate::{Error, FindOptions, Id, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dbrp {
    pub id: Id,
    pub org_id: Id,
    pub bucket_id: Id,
    pub database: String,
    pub retention_policy: String,
    pub default: bool,
    pub virtual_: bool,
}

#[derive(Debug, Clone, Default)]
pub struct DbrpFilter {
    pub org_id: Option<Id>,
    pub id: Option<Id>,
    pub bucket_id: Option<Id>,
    pub default: Option<bool>,
    pub database: Option<String>,
    pub retention_policy: Option<String>,
}

impl DbrpFilter {
    fn accepts(&self, m: &Dbrp) -> bool {
        self.org_id.is_none_or(|o| o == m.org_id)
            && self.id.is_none_or(|i| i == m.id)
            && self.bucket_id.is_none_or(|b| b == m.bucket_id)
            && self.default.is_none_or(|d| d == m.default)
            && self.database.as_ref().is_none_or(|d| *d == m.database)
            && self.retention_policy.as_ref().is_none_or(|r| *r == m.retention_policy)
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

const COLUMNS: &str = "id, org_id, bucket_id, database, rp, is_default";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Dbrp> {
    Ok(Dbrp {
        id: r.get(0)?,
        org_id: r.get(1)?,
        bucket_id: r.get(2)?,
        database: r.get(3)?,
        retention_policy: r.get(4)?,
        default: r.get(5)?,
        virtual_: false,
    })
}

fn physical(conn: &Connection, org: Option<Id>) -> Result<Vec<Dbrp>> {
    let mut stmt =
        conn.prepare(&format!("SELECT {COLUMNS} FROM dbrps WHERE (?1 IS NULL OR org_id = ?1) ORDER BY id"))?;
    let rows = stmt.query_map([org], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The virtual mapping of a bucket: `name` → (name, autogen), `db/rp` → (db, rp).
pub fn virtual_for(bucket: &crate::buckets::Bucket) -> Dbrp {
    let (db, rp) = match bucket.name.split_once('/') {
        Some((db, rp)) => (db.to_owned(), rp.to_owned()),
        None => (bucket.name.clone(), "autogen".to_owned()),
    };
    Dbrp {
        id: bucket.id,
        org_id: bucket.org_id,
        bucket_id: bucket.id,
        default: !bucket.name.contains('/'),
        database: db,
        retention_policy: rp,
        virtual_: true,
    }
}

/// A new mapping.
#[derive(Debug, Clone)]
pub struct NewDbrp {
    pub org_id: Id,
    pub bucket_id: Id,
    pub database: String,
    pub retention_policy: String,
    pub default: bool,
}

impl Store {
    pub fn create_dbrp(&self, new: &NewDbrp) -> Result<Dbrp> {
        if !valid_name(&new.database) {
            return Err(Error::Invalid(
                "database must contain at least one character and only be letters, numbers, '_', '-', and '.'".into(),
            ));
        }
        if !valid_name(&new.retention_policy) {
            return Err(Error::Invalid(
                "retentionPolicy must contain at least one character and only be letters, numbers, '_', '-', and '.'"
                    .into(),
            ));
        }
        self.write(|tx| {
            let bucket = crate::buckets::find_by_id(tx, new.bucket_id)?;
            if bucket.org_id != new.org_id {
                return Err(Error::not_found("bucket not found"));
            }
            let has_default: bool = crate::db::one(
                tx,
                "SELECT EXISTS(SELECT 1 FROM dbrps WHERE org_id = ?1 AND database = ?2 AND is_default)",
                params![new.org_id, new.database],
                |r| r.get(0),
            )?;
            let default = new.default || !has_default;
            if default {
                tx.execute(
                    "UPDATE dbrps SET is_default = 0 WHERE org_id = ?1 AND database = ?2",
                    params![new.org_id, new.database],
                )?;
            }
            let m = Dbrp {
                id: Id::generate(),
                org_id: new.org_id,
                bucket_id: new.bucket_id,
                database: new.database.clone(),
                retention_policy: new.retention_policy.clone(),
                default,
                virtual_: false,
            };
            tx.execute(
                &format!("INSERT INTO dbrps ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![m.id, m.org_id, m.bucket_id, m.database, m.retention_policy, m.default],
            )
            .map_err(|e| on_unique(e, || "another DBRP mapping with same orgID, db, and rp exists".into()))?;
            Ok(m)
        })
    }

    /// Physical and virtual mappings matching the filter, as InfluxDB lists them:
    /// physical first; a bucket's virtual mapping is left out when a physical one
    /// has the same db and rp, and is not default when a physical one is.
    pub fn list_dbrps(&self, filter: &DbrpFilter) -> Result<Vec<Dbrp>> {
        let mut out = physical(&self.conn(), filter.org_id)?;
        let buckets = self.list_buckets(
            &BucketFilter { id: filter.bucket_id, org_id: filter.org_id, name: None },
            &FindOptions::all(),
        )?;
        let mut virtuals = Vec::new();
        'outer: for b in &buckets {
            let mut v = virtual_for(b);
            for m in out.iter().filter(|m| m.org_id == v.org_id && m.database == v.database) {
                if m.retention_policy == v.retention_policy {
                    continue 'outer;
                }
                if m.default {
                    v.default = false;
                }
            }
            virtuals.push(v);
        }
        out.extend(virtuals);
        out.retain(|m| filter.accepts(m));
        Ok(out)
    }

    /// A mapping by ID (a bucket ID finds its virtual mapping).
    pub fn find_dbrp(&self, org_id: Id, id: Id) -> Result<Dbrp> {
        self.list_dbrps(&DbrpFilter { org_id: Some(org_id), id: Some(id), ..Default::default() })?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found("unable to find DBRP"))
    }

    /// The bucket a v1 request means: `rp` given, that mapping; else the default one.
    pub fn resolve_dbrp(&self, org_id: Id, database: &str, rp: Option<&str>) -> Result<Option<Dbrp>> {
        let filter = DbrpFilter {
            org_id: Some(org_id),
            database: Some(database.to_owned()),
            retention_policy: rp.map(str::to_owned),
            default: if rp.is_none() { Some(true) } else { None },
            ..Default::default()
        };
        Ok(self.list_dbrps(&filter)?.into_iter().next())
    }

    /// Changes a physical mapping's rp or default flag.
    pub fn update_dbrp(&self, org_id: Id, id: Id, rp: Option<String>, default: Option<bool>) -> Result<Dbrp> {
        if let Some(rp) = &rp
            && !valid_name(rp)
        {
            return Err(Error::Invalid(
                "retentionPolicy must contain at least one character and only be letters, numbers, '_', '-', and '.'"
                    .into(),
            ));
        }
        self.write(|tx| {
            let mut m = crate::db::one(
                tx,
                &format!("SELECT {COLUMNS} FROM dbrps WHERE id = ?1 AND org_id = ?2"),
                params![id, org_id],
                from_row,
            )
            .optional()?
            .ok_or_else(|| Error::not_found("unable to find DBRP"))?;
            if let Some(rp) = rp {
                m.retention_policy = rp;
            }
            if default == Some(true) && !m.default {
                tx.execute(
                    "UPDATE dbrps SET is_default = 0 WHERE org_id = ?1 AND database = ?2",
                    params![org_id, m.database],
                )?;
                m.default = true;
            }
            tx.execute(
                "UPDATE dbrps SET rp = ?2, is_default = ?3 WHERE id = ?1",
                params![m.id, m.retention_policy, m.default],
            )
            .map_err(|e| on_unique(e, || "another DBRP mapping with same orgID, db, and rp exists".into()))?;
            Ok(m)
        })
    }

    /// Deletes a physical mapping; if it was the default, the oldest other one of
    /// its database becomes the default.
    pub fn delete_dbrp(&self, org_id: Id, id: Id) -> Result<()> {
        self.write(|tx| {
            let m = crate::db::one(tx, &format!("SELECT {COLUMNS} FROM dbrps WHERE id = ?1 AND org_id = ?2"), params![id, org_id], from_row)
                .optional()?
                .ok_or_else(|| Error::not_found("unable to find DBRP"))?;
            tx.execute("DELETE FROM dbrps WHERE id = ?1", [id])?;
            if m.default {
                tx.execute(
                    "UPDATE dbrps SET is_default = 1 WHERE id = (SELECT id FROM dbrps WHERE org_id = ?1 AND database = ?2 ORDER BY id LIMIT 1)",
                    params![org_id, m.database],
                )?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buckets::NewBucket;

    #[test]
    fn physical_and_virtual_mappings_and_defaults() {
        let store = Store::open_in_memory().unwrap();
        let org = store.create_org("o", "", None).unwrap();
        let b1 = store.create_bucket(&NewBucket::user(org.id, "telegraf", 0)).unwrap();
        let b2 = store.create_bucket(&NewBucket::user(org.id, "db/rp1", 0)).unwrap();
        // Virtual: telegraf → (telegraf, autogen) default; db/rp1 → (db, rp1), not default.
        let v = store.resolve_dbrp(org.id, "telegraf", None).unwrap().unwrap();
        assert!(v.virtual_ && v.bucket_id == b1.id);
        assert_eq!(store.resolve_dbrp(org.id, "db", Some("rp1")).unwrap().unwrap().bucket_id, b2.id);
        assert!(store.resolve_dbrp(org.id, "db", None).unwrap().is_none());

        let new = |db: &str, rp: &str, bucket: Id, default: bool| NewDbrp {
            org_id: org.id,
            bucket_id: bucket,
            database: db.into(),
            retention_policy: rp.into(),
            default,
        };
        let m1 = store.create_dbrp(&new("db", "a", b1.id, false)).unwrap();
        assert!(m1.default, "the first mapping of a database is its default");
        let m2 = store.create_dbrp(&new("db", "b", b2.id, true)).unwrap();
        assert!(m2.default);
        assert!(!store.find_dbrp(org.id, m1.id).unwrap().default);
        assert_eq!(store.resolve_dbrp(org.id, "db", None).unwrap().unwrap().id, m2.id);
        assert!(matches!(store.create_dbrp(&new("db", "a", b1.id, false)), Err(Error::Conflict(_))));
        store.delete_dbrp(org.id, m2.id).unwrap();
        assert_eq!(store.resolve_dbrp(org.id, "db", None).unwrap().unwrap().id, m1.id);
        // A physical mapping hides the virtual one with the same db and rp.
        store.create_dbrp(&new("telegraf", "autogen", b2.id, false)).unwrap();
        let all = store.list_dbrps(&DbrpFilter { database: Some("telegraf".into()), ..Default::default() }).unwrap();
        assert_eq!(all.len(), 1);
        assert!(!all[0].virtual_);
        assert!(matches!(store.create_dbrp(&new("bad db", "x", b1.id, false)), Err(Error::Invalid(_))));
    }
}
