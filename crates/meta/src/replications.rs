//! Remote connections (another server's URL, org and token) and the
//! replications that send a local bucket's writes to a bucket there.
//!
//! A remote's API token is sealed with the same key as an org's secrets
//! (bound to the org and the remote's ID) and only opened to send.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::secrets::SecretKey;
use crate::{Error, Id, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub id: Id,
    pub org_id: Id,
    pub name: String,
    pub description: String,
    pub remote_url: String,
    pub remote_org_id: String,
    pub allow_insecure_tls: bool,
}

/// A new remote; its token in clear, sealed on the way in.
#[derive(Clone)]
pub struct NewRemote {
    pub org_id: Id,
    pub name: String,
    pub description: String,
    pub remote_url: String,
    pub remote_token: String,
    pub remote_org_id: String,
    pub allow_insecure_tls: bool,
}

impl std::fmt::Debug for NewRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRemote")
            .field("name", &self.name)
            .field("remote_url", &self.remote_url)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Default)]
pub struct RemoteUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub remote_url: Option<String>,
    pub remote_token: Option<String>,
    pub remote_org_id: Option<String>,
    pub allow_insecure_tls: Option<bool>,
}

impl std::fmt::Debug for RemoteUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteUpdate").field("name", &self.name).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replication {
    pub id: Id,
    pub org_id: Id,
    pub name: String,
    pub description: String,
    pub remote_id: Id,
    pub local_bucket_id: Id,
    pub remote_bucket_id: Option<String>,
    pub remote_bucket_name: Option<String>,
    pub max_queue_size_bytes: i64,
    pub max_age_seconds: i64,
    pub drop_non_retryable_data: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ReplicationUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub remote_id: Option<Id>,
    pub remote_bucket_id: Option<String>,
    pub remote_bucket_name: Option<String>,
    pub max_queue_size_bytes: Option<i64>,
    pub max_age_seconds: Option<i64>,
    pub drop_non_retryable_data: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ReplicationFilter {
    pub org_id: Option<Id>,
    pub name: Option<String>,
    pub remote_id: Option<Id>,
    pub local_bucket_id: Option<Id>,
}

const REMOTE_COLUMNS: &str = "id, org_id, name, description, remote_url, remote_org_id, allow_insecure_tls";

fn remote_from_row(r: &Row<'_>) -> rusqlite::Result<Remote> {
    Ok(Remote {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        remote_url: r.get(4)?,
        remote_org_id: r.get(5)?,
        allow_insecure_tls: r.get(6)?,
    })
}

const REPLICATION_COLUMNS: &str = "id, org_id, name, description, remote_id, local_bucket_id, remote_bucket_id, \
     remote_bucket_name, max_queue_size_bytes, max_age_seconds, drop_non_retryable_data";

fn replication_from_row(r: &Row<'_>) -> rusqlite::Result<Replication> {
    Ok(Replication {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        remote_id: r.get(4)?,
        local_bucket_id: r.get(5)?,
        remote_bucket_id: r.get(6)?,
        remote_bucket_name: r.get(7)?,
        max_queue_size_bytes: r.get(8)?,
        max_age_seconds: r.get(9)?,
        drop_non_retryable_data: r.get(10)?,
    })
}

fn token_name(id: Id) -> String {
    format!("remote-token/{id}")
}

fn find_remote(conn: &Connection, id: Id) -> Result<Remote> {
    crate::db::one(conn, &format!("SELECT {REMOTE_COLUMNS} FROM remotes WHERE id = ?1"), [id], remote_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("remote connection not found"))
}

fn find_replication(conn: &Connection, id: Id) -> Result<Replication> {
    crate::db::one(
        conn,
        &format!("SELECT {REPLICATION_COLUMNS} FROM replications WHERE id = ?1"),
        [id],
        replication_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("replication not found"))
}

impl Store {
    pub fn create_remote(&self, new: &NewRemote, key: &SecretKey) -> Result<Remote> {
        self.write(|tx| {
            crate::orgs::find_by_id(tx, new.org_id)?;
            let id = Id::generate();
            let (nonce, sealed) = key.seal(new.org_id, &token_name(id), &new.remote_token)?;
            tx.execute(
                "INSERT INTO remotes (id, org_id, name, description, remote_url, remote_org_id, allow_insecure_tls,
                                      token_nonce, token_sealed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    new.org_id,
                    new.name,
                    new.description,
                    new.remote_url,
                    new.remote_org_id,
                    new.allow_insecure_tls,
                    &nonce[..],
                    sealed
                ],
            )?;
            find_remote(tx, id)
        })
    }

    pub fn find_remote_by_id(&self, id: Id) -> Result<Remote> {
        find_remote(&self.conn(), id)
    }

    /// A remote's API token, opened.
    pub fn remote_token(&self, id: Id, key: &SecretKey) -> Result<String> {
        let conn = self.conn();
        let (org, nonce, sealed): (Id, Vec<u8>, Vec<u8>) =
            crate::db::one(&conn, "SELECT org_id, token_nonce, token_sealed FROM remotes WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
            .ok_or_else(|| Error::not_found("remote connection not found"))?;
        key.open(org, &token_name(id), &nonce, &sealed)
    }

    pub fn list_remotes(&self, org_id: Id, name: Option<&str>, remote_url: Option<&str>) -> Result<Vec<Remote>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {REMOTE_COLUMNS} FROM remotes
             WHERE org_id = ?1 AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR remote_url = ?3) ORDER BY id"
        ))?;
        let rows =
            stmt.query_map(params![org_id, name, remote_url], remote_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn update_remote(&self, id: Id, upd: &RemoteUpdate, key: &SecretKey) -> Result<Remote> {
        self.write(|tx| {
            let mut r = find_remote(tx, id)?;
            if let Some(v) = &upd.name {
                r.name.clone_from(v);
            }
            if let Some(v) = &upd.description {
                r.description.clone_from(v);
            }
            if let Some(v) = &upd.remote_url {
                r.remote_url.clone_from(v);
            }
            if let Some(v) = &upd.remote_org_id {
                r.remote_org_id.clone_from(v);
            }
            if let Some(v) = upd.allow_insecure_tls {
                r.allow_insecure_tls = v;
            }
            tx.execute(
                "UPDATE remotes SET name = ?2, description = ?3, remote_url = ?4, remote_org_id = ?5,
                    allow_insecure_tls = ?6 WHERE id = ?1",
                params![id, r.name, r.description, r.remote_url, r.remote_org_id, r.allow_insecure_tls],
            )?;
            if let Some(token) = &upd.remote_token {
                let (nonce, sealed) = key.seal(r.org_id, &token_name(id), token)?;
                tx.execute(
                    "UPDATE remotes SET token_nonce = ?2, token_sealed = ?3 WHERE id = ?1",
                    params![id, &nonce[..], sealed],
                )?;
            }
            Ok(r)
        })
    }

    /// Deletes a remote no replication uses.
    pub fn delete_remote(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            find_remote(tx, id)?;
            let used: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM replications WHERE remote_id = ?1)", [id], |r| r.get(0))?;
            if used {
                return Err(Error::Conflict(
                    "remote-connection cannot be deleted as a replication references it".into(),
                ));
            }
            tx.execute("DELETE FROM remotes WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    pub fn create_replication(&self, r: &Replication) -> Result<Replication> {
        self.write(|tx| {
            let remote = find_remote(tx, r.remote_id)?;
            if remote.org_id != r.org_id {
                return Err(Error::Invalid("the remote connection belongs to another organization".into()));
            }
            let bucket = crate::buckets::find_by_id(tx, r.local_bucket_id)
                .map_err(|_| Error::Invalid(format!("local bucket \"{}\" not found", r.local_bucket_id)))?;
            if bucket.org_id != r.org_id {
                return Err(Error::Invalid(format!("local bucket \"{}\" not found", r.local_bucket_id)));
            }
            let id = Id::generate();
            tx.execute(
                &format!("INSERT INTO replications ({REPLICATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                params![
                    id,
                    r.org_id,
                    r.name,
                    r.description,
                    r.remote_id,
                    r.local_bucket_id,
                    r.remote_bucket_id,
                    r.remote_bucket_name,
                    r.max_queue_size_bytes,
                    r.max_age_seconds,
                    r.drop_non_retryable_data
                ],
            )?;
            find_replication(tx, id)
        })
    }

    pub fn find_replication_by_id(&self, id: Id) -> Result<Replication> {
        find_replication(&self.conn(), id)
    }

    pub fn list_replications(&self, f: &ReplicationFilter) -> Result<Vec<Replication>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {REPLICATION_COLUMNS} FROM replications
             WHERE (?1 IS NULL OR org_id = ?1) AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR remote_id = ?3)
               AND (?4 IS NULL OR local_bucket_id = ?4)
             ORDER BY id"
        ))?;
        let rows = stmt
            .query_map(params![f.org_id, f.name, f.remote_id, f.local_bucket_id], replication_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The replication as an update would leave it, without saving it.
    pub fn updated_replication(&self, id: Id, upd: &ReplicationUpdate) -> Result<Replication> {
        let mut r = find_replication(&self.conn(), id)?;
        apply(&mut r, upd);
        Ok(r)
    }

    pub fn update_replication(&self, id: Id, upd: &ReplicationUpdate) -> Result<Replication> {
        self.write(|tx| {
            let mut r = find_replication(tx, id)?;
            apply(&mut r, upd);
            let remote = find_remote(tx, r.remote_id)?;
            if remote.org_id != r.org_id {
                return Err(Error::Invalid("the remote connection belongs to another organization".into()));
            }
            tx.execute(
                "UPDATE replications SET name = ?2, description = ?3, remote_id = ?4, remote_bucket_id = ?5,
                    remote_bucket_name = ?6, max_queue_size_bytes = ?7, max_age_seconds = ?8,
                    drop_non_retryable_data = ?9 WHERE id = ?1",
                params![
                    id,
                    r.name,
                    r.description,
                    r.remote_id,
                    r.remote_bucket_id,
                    r.remote_bucket_name,
                    r.max_queue_size_bytes,
                    r.max_age_seconds,
                    r.drop_non_retryable_data
                ],
            )?;
            Ok(r)
        })
    }

    pub fn delete_replication(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            find_replication(tx, id)?;
            tx.execute("DELETE FROM replications WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}

fn apply(r: &mut Replication, upd: &ReplicationUpdate) {
    if let Some(v) = &upd.name {
        r.name.clone_from(v);
    }
    if let Some(v) = &upd.description {
        r.description.clone_from(v);
    }
    if let Some(v) = upd.remote_id {
        r.remote_id = v;
    }
    // A new remote bucket, by ID or by name, replaces the other way of naming it.
    if let Some(v) = &upd.remote_bucket_id {
        r.remote_bucket_id = Some(v.clone());
        r.remote_bucket_name = None;
    }
    if let Some(v) = &upd.remote_bucket_name {
        r.remote_bucket_name = Some(v.clone());
        r.remote_bucket_id = None;
    }
    if let Some(v) = upd.max_queue_size_bytes {
        r.max_queue_size_bytes = v;
    }
    if let Some(v) = upd.max_age_seconds {
        r.max_age_seconds = v;
    }
    if let Some(v) = upd.drop_non_retryable_data {
        r.drop_non_retryable_data = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_tokens_are_sealed_and_remotes_in_use_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("meta.sqlite")).unwrap();
        let key = SecretKey::open_or_create(&dir.path().join("secrets.key")).unwrap();
        let org = store.create_org("acme", "", None).unwrap();
        let bucket = store.create_bucket(&crate::buckets::NewBucket::user(org.id, "b", 0)).unwrap();
        let new = NewRemote {
            org_id: org.id,
            name: "central".into(),
            description: String::new(),
            remote_url: "http://central:8086".into(),
            remote_token: "very-secret-token".into(),
            remote_org_id: "0000000000000001".into(),
            allow_insecure_tls: false,
        };
        let remote = store.create_remote(&new, &key).unwrap();
        assert_eq!(store.remote_token(remote.id, &key).unwrap(), "very-secret-token");
        let bytes = std::fs::read(dir.path().join("meta.sqlite")).unwrap();
        let wal = std::fs::read(dir.path().join("meta.sqlite-wal")).unwrap_or_default();
        assert!(!bytes.windows(17).chain(wal.windows(17)).any(|w| w == b"very-secret-token"));
        let r = store
            .create_replication(&Replication {
                id: Id::generate(),
                org_id: org.id,
                name: "r".into(),
                description: String::new(),
                remote_id: remote.id,
                local_bucket_id: bucket.id,
                remote_bucket_id: Some("0000000000000002".into()),
                remote_bucket_name: None,
                max_queue_size_bytes: 67_108_860,
                max_age_seconds: 604_800,
                drop_non_retryable_data: false,
            })
            .unwrap();
        assert!(matches!(store.delete_remote(remote.id), Err(Error::Conflict(_))));
        store.delete_replication(r.id).unwrap();
        store.delete_remote(remote.id).unwrap();
    }
}
