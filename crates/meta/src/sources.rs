//! Data sources (`/api/v2/sources`): this server (`self`) and other InfluxDB
//! 1.x (`v1`) and 2.x (`v2`) servers. A source's secrets (`token`,
//! `password`, `sharedSecret`) are sealed with the secrets key and only
//! opened to reach the source; they are never listed.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::secrets::SecretKey;
use crate::{Error, Id, Result, Store};

/// The source every InfluxDB 2.x has: itself, with this ID and org.
pub const DEFAULT_SOURCE_ID: &str = "020f755c3c082000";
pub const DEFAULT_SOURCE_ORG_ID: &str = "50616e67652c206c";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: Id,
    pub org_id: Id,
    pub default: bool,
    pub name: String,
    /// `v1`, `v2` or `self`.
    pub kind: String,
    pub url: String,
    pub insecure_skip_verify: bool,
    pub telegraf: String,
    pub username: String,
    pub meta_url: String,
    pub default_rp: String,
}

/// A source's secrets, in clear (never stored so).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SourceSecrets {
    pub token: String,
    pub password: String,
    pub shared_secret: String,
}

impl std::fmt::Debug for SourceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SourceSecrets(..)")
    }
}

const COLUMNS: &str =
    "id, org_id, is_default, name, kind, url, insecure_skip_verify, telegraf, username, meta_url, default_rp";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Source> {
    Ok(Source {
        id: r.get(0)?,
        org_id: r.get(1)?,
        default: r.get(2)?,
        name: r.get(3)?,
        kind: r.get(4)?,
        url: r.get(5)?,
        insecure_skip_verify: r.get(6)?,
        telegraf: r.get(7)?,
        username: r.get(8)?,
        meta_url: r.get(9)?,
        default_rp: r.get(10)?,
    })
}

/// The built-in source: this server.
pub fn default_source() -> Source {
    Source {
        id: DEFAULT_SOURCE_ID.parse().unwrap_or_else(|_| Id::generate()),
        org_id: DEFAULT_SOURCE_ORG_ID.parse().unwrap_or_else(|_| Id::generate()),
        default: true,
        name: "autogen".into(),
        kind: "self".into(),
        url: String::new(),
        insecure_skip_verify: false,
        telegraf: String::new(),
        username: String::new(),
        meta_url: String::new(),
        default_rp: String::new(),
    }
}

/// The built-in source, the default unless another source was made so.
fn built_in(conn: &Connection) -> Result<Source> {
    let other_default: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM sources WHERE is_default)", [], |r| r.get(0))?;
    Ok(Source { default: !other_default, ..default_source() })
}

fn find(conn: &Connection, id: Id) -> Result<Source> {
    if id == default_source().id {
        return built_in(conn);
    }
    crate::db::one(conn, &format!("SELECT {COLUMNS} FROM sources WHERE id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("source not found"))
}

fn secrets_aad(id: Id) -> String {
    format!("source/{id}")
}

fn seal(key: &SecretKey, org: Id, id: Id, s: &SourceSecrets) -> Result<(Vec<u8>, Vec<u8>)> {
    let text = [s.token.as_str(), s.password.as_str(), s.shared_secret.as_str()].join("\u{0}");
    let (nonce, sealed) = key.seal(org, &secrets_aad(id), &text)?;
    Ok((nonce.to_vec(), sealed))
}

impl Store {
    /// Sources: the built-in one first, then the others in ID order.
    pub fn list_sources(&self) -> Result<Vec<Source>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM sources ORDER BY id"))?;
        let mut all = vec![built_in(&conn)?];
        all.extend(stmt.query_map([], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?);
        Ok(all)
    }

    pub fn find_source_by_id(&self, id: Id) -> Result<Source> {
        find(&self.conn(), id)
    }

    pub fn create_source(&self, s: &Source, secrets: &SourceSecrets, key: &SecretKey) -> Result<Source> {
        self.write(|tx| {
            let id = Id::generate();
            let (nonce, sealed) = seal(key, s.org_id, id, secrets)?;
            if s.default {
                tx.execute("UPDATE sources SET is_default = 0", [])?;
            }
            tx.execute(
                &format!("INSERT INTO sources ({COLUMNS}, secrets_nonce, secrets_sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    id,
                    s.org_id,
                    s.default,
                    s.name,
                    s.kind,
                    s.url,
                    s.insecure_skip_verify,
                    s.telegraf,
                    s.username,
                    s.meta_url,
                    s.default_rp,
                    nonce,
                    sealed
                ],
            )?;
            find(tx, id)
        })
    }

    /// Replaces a source's settings, and its secrets where `secrets` gives new ones.
    pub fn update_source(&self, s: &Source, secrets: Option<&SourceSecrets>, key: &SecretKey) -> Result<Source> {
        self.write(|tx| {
            if s.id == default_source().id {
                return Err(Error::Invalid("the built-in source cannot be changed".into()));
            }
            find(tx, s.id)?;
            if s.default {
                tx.execute("UPDATE sources SET is_default = 0", [])?;
            }
            tx.execute(
                "UPDATE sources SET is_default = ?2, name = ?3, kind = ?4, url = ?5, insecure_skip_verify = ?6,
                    telegraf = ?7, username = ?8, meta_url = ?9, default_rp = ?10 WHERE id = ?1",
                params![
                    s.id,
                    s.default,
                    s.name,
                    s.kind,
                    s.url,
                    s.insecure_skip_verify,
                    s.telegraf,
                    s.username,
                    s.meta_url,
                    s.default_rp
                ],
            )?;
            if let Some(sec) = secrets {
                let org: Id = tx.query_row("SELECT org_id FROM sources WHERE id = ?1", [s.id], |r| r.get(0))?;
                let (nonce, sealed) = seal(key, org, s.id, sec)?;
                tx.execute(
                    "UPDATE sources SET secrets_nonce = ?2, secrets_sealed = ?3 WHERE id = ?1",
                    params![s.id, nonce, sealed],
                )?;
            }
            find(tx, s.id)
        })
    }

    /// A source's secrets, opened (the built-in source has none).
    pub fn source_secrets(&self, id: Id, key: &SecretKey) -> Result<SourceSecrets> {
        if id == default_source().id {
            return Ok(SourceSecrets::default());
        }
        let conn = self.conn();
        let (org, nonce, sealed): (Id, Vec<u8>, Vec<u8>) = crate::db::one(
            &conn,
            "SELECT org_id, secrets_nonce, secrets_sealed FROM sources WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("source not found"))?;
        let text = key.open(org, &secrets_aad(id), &nonce, &sealed)?;
        let mut parts = text.split('\u{0}').map(str::to_owned);
        Ok(SourceSecrets {
            token: parts.next().unwrap_or_default(),
            password: parts.next().unwrap_or_default(),
            shared_secret: parts.next().unwrap_or_default(),
        })
    }

    pub fn delete_source(&self, id: Id) -> Result<()> {
        self.write(|tx| {
            if id == default_source().id {
                return Err(Error::Invalid("the built-in source cannot be deleted".into()));
            }
            find(tx, id)?;
            tx.execute("DELETE FROM sources WHERE id = ?1", [id])?;
            Ok(())
        })
    }
}
