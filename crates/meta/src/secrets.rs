//! An org's secrets: named values that Flux reads with `secrets.get()`.
//!
//! Values are sealed with AES-256-GCM under a key kept in a file of its own
//! (beside the metadata file, readable by its owner only), so the metadata
//! file alone gives none of them away. Each value is bound to its org and
//! name: a sealed value moved to another row does not open.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use rand::RngCore;
use rusqlite::params;

use crate::{Error, Id, Result, Store};

/// The key secrets are sealed with.
pub struct SecretKey(LessSafeKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// The key in the file at `path`, made (32 random bytes, mode 0600) when there is none.
    pub fn open_or_create(path: &Path) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                rand::rng().fill_bytes(&mut key);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut f = options.open(path).map_err(|e| Error::Internal(format!("secret key file: {e}")))?;
                f.write_all(&key)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| Error::Internal(format!("secret key file: {e}")))?;
                key
            }
            Err(e) => return Err(Error::Internal(format!("secret key file: {e}"))),
        };
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| Error::Internal("secret key file: not a 32-byte key".into()))?;
        Ok(Self(LessSafeKey::new(unbound)))
    }

    /// A key from its 32 bytes (a backup carries its server's key so).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| Error::Invalid("the secret key is not a 32-byte key".into()))?;
        Ok(Self(LessSafeKey::new(unbound)))
    }

    fn aad(org: Id, name: &str) -> Vec<u8> {
        format!("{org}/{name}").into_bytes()
    }

    pub(crate) fn seal(&self, org: Id, name: &str, value: &str) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut sealed = value.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(Self::aad(org, name)), &mut sealed)
            .map_err(|_| Error::Internal("could not seal a secret".into()))?;
        Ok((nonce, sealed))
    }

    pub(crate) fn open(&self, org: Id, name: &str, nonce: &[u8], sealed: &[u8]) -> Result<String> {
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| Error::Internal("a secret's nonce is corrupt".into()))?;
        let mut buf = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(Self::aad(org, name)), &mut buf)
            .map_err(|_| Error::Internal("a secret does not open with this server's key".into()))?;
        String::from_utf8(plain.to_vec()).map_err(|_| Error::Internal("a secret is not text".into()))
    }
}

/// The name a sealed value is bound to, from its row's key.
type NameOf = fn(&rusqlite::types::Value) -> Option<String>;

/// Every sealed column: table, key column, the nonce and sealed columns,
/// and the name each value is bound to (every such table has `org_id`).
const SEALED: &[(&str, &str, &str, &str, NameOf)] = &[
    ("secrets", "key", "nonce", "sealed", |k| text(k)),
    ("remotes", "id", "token_nonce", "token_sealed", |k| id(k).map(|i| format!("remote-token/{i}"))),
    ("sources", "id", "secrets_nonce", "secrets_sealed", |k| id(k).map(|i| format!("source/{i}"))),
];

fn text(v: &rusqlite::types::Value) -> Option<String> {
    match v {
        rusqlite::types::Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn id(v: &rusqlite::types::Value) -> Option<Id> {
    match v {
        rusqlite::types::Value::Integer(i) => format!("{:016x}", *i as u64).parse().ok(),
        _ => None,
    }
}

impl Store {
    /// Seals every sealed value (org secrets, remotes' tokens, sources'
    /// secrets) under `to` instead of `from`, all or none: what a restore
    /// does with a backup taken on a server with another key.
    pub fn reseal(&self, from: &SecretKey, to: &SecretKey) -> Result<usize> {
        self.write(|tx| {
            let mut n = 0;
            for (table, key_col, nonce_col, sealed_col, name_of) in SEALED {
                let rows: Vec<(rusqlite::types::Value, Id, Vec<u8>, Vec<u8>)> = {
                    let mut stmt =
                        tx.prepare(&format!("SELECT {key_col}, org_id, {nonce_col}, {sealed_col} FROM {table}"))?;
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                        .collect::<rusqlite::Result<_>>()?
                };
                for (key, org, nonce, sealed) in rows {
                    let name = name_of(&key).ok_or_else(|| Error::Internal(format!("a row of {table} has no key")))?;
                    let plain = from.open(org, &name, &nonce, &sealed).map_err(|_| {
                        Error::Invalid(format!("a value of {table} does not open with the backup's key"))
                    })?;
                    let (nonce, sealed) = to.seal(org, &name, &plain)?;
                    tx.execute(
                        &format!(
                            "UPDATE {table} SET {nonce_col} = ?1, {sealed_col} = ?2 WHERE {key_col} = ?3 AND org_id = ?4"
                        ),
                        params![nonce.as_slice(), sealed, key, org],
                    )?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    /// The names of an org's secrets, sorted.
    pub fn secret_keys(&self, org: Id) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT key FROM secrets WHERE org_id = ?1 ORDER BY key")?;
        let keys = stmt.query_map([org], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(keys)
    }

    /// Adds or replaces secrets of an org, all or none.
    pub fn put_secrets(&self, org: Id, key: &SecretKey, values: &BTreeMap<String, String>) -> Result<()> {
        let sealed = values
            .iter()
            .map(|(name, value)| key.seal(org, name, value).map(|(n, s)| (name, n, s)))
            .collect::<Result<Vec<_>>>()?;
        self.write(|tx| {
            crate::db::one(tx, "SELECT id FROM orgs WHERE id = ?1", [org], |r| r.get::<_, Id>(0))
                .map_err(|_| Error::not_found("organization not found"))?;
            for (name, nonce, value) in &sealed {
                tx.execute(
                    "INSERT INTO secrets (org_id, key, nonce, sealed) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (org_id, key) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed",
                    params![org, name, nonce.as_slice(), value],
                )?;
            }
            Ok(())
        })
    }

    /// Deletes secrets of an org by name (names it does not have are ignored).
    pub fn delete_secrets(&self, org: Id, names: &[String]) -> Result<()> {
        self.write(|tx| {
            for name in names {
                tx.execute("DELETE FROM secrets WHERE org_id = ?1 AND key = ?2", params![org, name])?;
            }
            Ok(())
        })
    }

    /// A secret's value, if the org has one of that name.
    pub fn secret(&self, org: Id, key: &SecretKey, name: &str) -> Result<Option<String>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT nonce, sealed FROM secrets WHERE org_id = ?1 AND key = ?2")?;
            let mut rows = stmt.query(params![org, name])?;
            match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?)),
                None => None,
            }
        };
        row.map(|(nonce, sealed)| key.open(org, name, &nonce, &sealed)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_listed_read_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("meta.sqlite")).unwrap();
        let key = SecretKey::open_or_create(&dir.path().join("secrets.key")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secrets.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let org = store.create_org("acme", "", None).unwrap().id;
        let values: BTreeMap<String, String> =
            [("b".to_owned(), "two".to_owned()), ("a".to_owned(), "one".to_owned())].into_iter().collect();
        store.put_secrets(org, &key, &values).unwrap();
        assert_eq!(store.secret_keys(org).unwrap(), ["a", "b"]);
        assert_eq!(store.secret(org, &key, "b").unwrap().as_deref(), Some("two"));
        // The file holds no value in clear.
        drop(store);
        let raw = std::fs::read(dir.path().join("meta.sqlite")).unwrap();
        assert!(!raw.windows(3).any(|w| w == b"two"), "a value in clear in the metadata file");
        let store = Store::open(&dir.path().join("meta.sqlite")).unwrap();
        // The same key file opens them again; another key does not.
        let again = SecretKey::open_or_create(&dir.path().join("secrets.key")).unwrap();
        assert_eq!(store.secret(org, &again, "a").unwrap().as_deref(), Some("one"));
        let other = SecretKey::open_or_create(&dir.path().join("other.key")).unwrap();
        assert!(store.secret(org, &other, "a").is_err());
        store.delete_secrets(org, &["a".to_owned(), "zzz".to_owned()]).unwrap();
        assert_eq!(store.secret_keys(org).unwrap(), ["b"]);
        assert_eq!(store.secret(org, &key, "a").unwrap(), None);
        assert!(store.put_secrets(Id::generate(), &key, &values).is_err());
    }
}
