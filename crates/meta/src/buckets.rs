//! Buckets: named stores of time series inside an org, each with a retention period.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::on_unique;
use crate::{Error, FindOptions, Id, Result, Store, now_rfc3339};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// The buckets every org is born with: name and retention in seconds.
pub const SYSTEM_BUCKETS: &[(&str, i64)] = &[("_monitoring", 7 * DAY), ("_tasks", 3 * DAY)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketKind {
    User,
    System,
}

impl BucketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BucketKind::User => "user",
            BucketKind::System => "system",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub id: Id,
    pub org_id: Id,
    pub kind: BucketKind,
    pub name: String,
    pub description: String,
    /// The v1 retention-policy name, if one was given.
    pub rp: String,
    /// Seconds data is kept; 0 keeps it forever.
    pub retention_seconds: i64,
    pub shard_group_seconds: i64,
    pub schema_type: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A bucket to create.
#[derive(Debug, Clone)]
pub struct NewBucket {
    pub org_id: Id,
    pub name: String,
    pub description: String,
    pub rp: String,
    pub retention_seconds: i64,
    /// `None` derives it from the retention period, as InfluxDB does.
    pub shard_group_seconds: Option<i64>,
    pub schema_type: String,
    pub kind: BucketKind,
}

impl NewBucket {
    pub fn user(org_id: Id, name: &str, retention_seconds: i64) -> Self {
        Self {
            org_id,
            name: name.to_owned(),
            description: String::new(),
            rp: String::new(),
            retention_seconds,
            shard_group_seconds: None,
            schema_type: "implicit".into(),
            kind: BucketKind::User,
        }
    }

    pub(crate) fn system(org_id: Id, name: &str, retention_seconds: i64) -> Self {
        let description = match name {
            "_monitoring" => "System bucket for monitoring logs",
            _ => "System bucket for task logs",
        };
        Self {
            description: description.into(),
            kind: BucketKind::System,
            ..Self::user(org_id, name, retention_seconds)
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BucketFilter {
    pub id: Option<Id>,
    pub org_id: Option<Id>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct BucketUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub retention_seconds: Option<i64>,
    pub shard_group_seconds: Option<i64>,
}

/// The shard-group duration InfluxDB picks for a retention period: one hour
/// below two days, one day below six months, else seven days (also for infinite).
pub fn default_shard_group_seconds(retention_seconds: i64) -> i64 {
    match retention_seconds {
        0 => 7 * DAY,
        r if r < 2 * DAY => HOUR,
        r if r < 180 * DAY => DAY,
        _ => 7 * DAY,
    }
}

const COLUMNS: &str = "id, org_id, kind, name, description, rp, retention_seconds, \
                       shard_group_seconds, schema_type, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Bucket> {
    let kind: String = r.get(2)?;
    Ok(Bucket {
        id: r.get(0)?,
        org_id: r.get(1)?,
        kind: if kind == "system" { BucketKind::System } else { BucketKind::User },
        name: r.get(3)?,
        description: r.get(4)?,
        rp: r.get(5)?,
        retention_seconds: r.get(6)?,
        shard_group_seconds: r.get(7)?,
        schema_type: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

fn check_user_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::Invalid("bucket name is required".into()));
    }
    if name.starts_with('_') {
        return Err(Error::Invalid(format!("bucket name {name} is invalid. Buckets may not start with underscore")));
    }
    if name.contains('"') || name.contains('\'') {
        return Err(Error::Invalid(format!(
            "bucket name {name} is invalid. Bucket names may not include quotation marks"
        )));
    }
    Ok(())
}

fn check_retention(retention: i64, shard_group: i64) -> Result<()> {
    if retention < 0 {
        return Err(Error::Unprocessable("expiration seconds cannot be negative".into()));
    }
    if shard_group < 0 {
        return Err(Error::Unprocessable("shard-group duration seconds cannot be negative".into()));
    }
    if retention != 0 && retention < HOUR {
        return Err(Error::Unprocessable("expiration seconds must be greater than or equal to one hour".into()));
    }
    if retention != 0 && shard_group > retention {
        return Err(Error::Unprocessable(
            "shard-group duration must also be less than or equal to retention duration".into(),
        ));
    }
    Ok(())
}

fn conflict(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("bucket with name {name} already exists")
}

pub(crate) fn create(conn: &Connection, new: &NewBucket) -> Result<Bucket> {
    if new.kind == BucketKind::User {
        check_user_name(&new.name)?;
    }
    let shard_group = match new.shard_group_seconds {
        Some(s) if s != 0 => s,
        _ => default_shard_group_seconds(new.retention_seconds),
    };
    check_retention(new.retention_seconds, shard_group)?;
    let now = now_rfc3339();
    let bucket = Bucket {
        id: Id::generate(),
        org_id: new.org_id,
        kind: new.kind,
        name: new.name.clone(),
        description: new.description.clone(),
        rp: new.rp.clone(),
        retention_seconds: new.retention_seconds,
        shard_group_seconds: shard_group,
        schema_type: new.schema_type.clone(),
        created_at: now.clone(),
        updated_at: now,
    };
    conn.execute(
        &format!("INSERT INTO buckets ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
        params![
            bucket.id,
            bucket.org_id,
            bucket.kind.as_str(),
            bucket.name,
            bucket.description,
            bucket.rp,
            bucket.retention_seconds,
            bucket.shard_group_seconds,
            bucket.schema_type,
            bucket.created_at,
            bucket.updated_at
        ],
    )
    .map_err(|e| on_unique(e, conflict(&new.name)))?;
    Ok(bucket)
}

pub(crate) fn find_by_id(conn: &Connection, id: Id) -> Result<Bucket> {
    crate::db::one(conn, &format!("SELECT {COLUMNS} FROM buckets WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("bucket not found"))
}

impl Store {
    pub fn create_bucket(&self, new: &NewBucket) -> Result<Bucket> {
        self.write(|tx| {
            // The org's row is read here, not through `orgs`: an org creates its
            // system buckets, so the arrow runs from orgs to buckets only.
            tx.query_row("SELECT 1 FROM orgs WHERE id = ?1", [new.org_id], |_| Ok(()))
                .optional()?
                .ok_or_else(|| Error::not_found("organization not found"))?;
            create(tx, new)
        })
    }

    pub fn find_bucket_by_id(&self, id: Id) -> Result<Bucket> {
        find_by_id(&self.conn(), id)
    }

    pub fn find_bucket_by_name(&self, org_id: Id, name: &str) -> Result<Bucket> {
        crate::db::one(
            &self.conn(),
            &format!("SELECT {COLUMNS} FROM buckets WHERE org_id = ?1 AND name = ?2"),
            params![org_id, name],
            from_row,
        )
        .optional()?
        .ok_or_else(|| Error::not_found(format!("bucket \"{name}\" not found")))
    }

    /// Buckets filtered and paged: by name within an org (as InfluxDB lists an
    /// org's buckets), else by ID.
    pub fn list_buckets(&self, filter: &BucketFilter, opts: &FindOptions) -> Result<Vec<Bucket>> {
        let conn = self.conn();
        let order = if filter.org_id.is_some() { "name" } else { "id" };
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM buckets
             WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR org_id = ?2) AND (?3 IS NULL OR name = ?3)
             ORDER BY {order}"
        ))?;
        let rows = stmt
            .query_map(params![filter.id, filter.org_id, filter.name], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(opts.apply(rows, |b| b.id))
    }

    pub fn update_bucket(&self, id: Id, update: &BucketUpdate) -> Result<Bucket> {
        self.write(|tx| {
            let mut b = find_by_id(tx, id)?;
            if let Some(name) = &update.name {
                if b.kind == BucketKind::System && *name != b.name {
                    return Err(Error::Invalid("system buckets cannot be renamed".into()));
                }
                check_user_name(name).or_else(|e| if b.kind == BucketKind::System { Ok(()) } else { Err(e) })?;
                b.name = name.clone();
            }
            if let Some(d) = &update.description {
                b.description = d.clone();
            }
            if let Some(r) = update.retention_seconds {
                b.retention_seconds = r;
                if update.shard_group_seconds.is_none_or(|s| s == 0) {
                    b.shard_group_seconds = default_shard_group_seconds(r);
                }
            }
            if let Some(s) = update.shard_group_seconds.filter(|s| *s != 0) {
                b.shard_group_seconds = s;
            }
            check_retention(b.retention_seconds, b.shard_group_seconds)?;
            b.updated_at = now_rfc3339();
            tx.execute(
                "UPDATE buckets SET name = ?2, description = ?3, retention_seconds = ?4,
                 shard_group_seconds = ?5, updated_at = ?6 WHERE id = ?1",
                params![b.id, b.name, b.description, b.retention_seconds, b.shard_group_seconds, b.updated_at],
            )
            .map_err(|e| on_unique(e, conflict(&b.name)))?;
            Ok(b)
        })
    }

    pub fn delete_bucket(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            let b = find_by_id(tx, id)?;
            if b.kind == BucketKind::System {
                return Err(Error::Invalid("system buckets cannot be deleted".into()));
            }
            crate::members::remove_all(tx, crate::members::ResourceKind::Bucket, id)?;
            tx.execute("DELETE FROM label_mappings WHERE resource_type = 'buckets' AND resource_id = ?1", [id])?;
            tx.execute("DELETE FROM buckets WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_group_duration_follows_influxdb() {
        assert_eq!(default_shard_group_seconds(0), 7 * DAY);
        assert_eq!(default_shard_group_seconds(HOUR), HOUR);
        assert_eq!(default_shard_group_seconds(2 * DAY), DAY);
        assert_eq!(default_shard_group_seconds(30 * DAY), DAY);
        assert_eq!(default_shard_group_seconds(365 * DAY), 7 * DAY);
    }

    #[test]
    fn every_org_gets_its_system_buckets() {
        let store = Store::open_in_memory().unwrap();
        let org = store.create_org("acme", "", None).unwrap();
        let filter = BucketFilter { org_id: Some(org.id), ..Default::default() };
        let names: Vec<_> = store
            .list_buckets(&filter, &FindOptions::all())
            .unwrap()
            .into_iter()
            .map(|b| (b.name, b.retention_seconds, b.kind))
            .collect();
        assert_eq!(
            names,
            vec![
                ("_monitoring".to_string(), 7 * DAY, BucketKind::System),
                ("_tasks".to_string(), 3 * DAY, BucketKind::System)
            ]
        );
    }

    #[test]
    fn bucket_names_are_unique_per_org_and_system_buckets_are_kept() {
        let store = Store::open_in_memory().unwrap();
        let org = store.create_org("acme", "", None).unwrap();
        store.create_bucket(&NewBucket::user(org.id, "b", 0)).unwrap();
        let err = store.create_bucket(&NewBucket::user(org.id, "b", 0)).unwrap_err();
        assert!(matches!(err, Error::Conflict(m) if m == "bucket with name b already exists"));
        let sys = store.find_bucket_by_name(org.id, "_tasks").unwrap();
        assert!(matches!(store.delete_bucket(sys.id), Err(Error::Invalid(_))));
    }
}
