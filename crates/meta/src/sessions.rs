//! Sign-in sessions: a random key in a cookie stands for a user for a while.

use rusqlite::{OptionalExtension, params};

use crate::authorizations::{generate_token, token_digest};
use crate::{Id, Result, Store};

fn now_secs() -> i64 {
    time::now_ns().div_euclid(time::SECOND)
}

impl Store {
    /// Opens a session for `user` lasting `ttl_secs`; returns its key (shown once, stored hashed).
    pub fn create_session(&self, user: Id, ttl_secs: i64) -> Result<String> {
        let key = generate_token();
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [now_secs()])?;
            tx.execute(
                "INSERT INTO sessions (key_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![&token_digest(&key)[..], user, now_secs() + ttl_secs],
            )?;
            Ok(())
        })?;
        Ok(key)
    }

    /// The user of a live session, renewing it for another `ttl_secs`.
    pub fn find_session(&self, key: &str, ttl_secs: i64) -> Result<Option<Id>> {
        let digest = token_digest(key);
        let conn = self.conn();
        let user: Option<Id> = crate::db::one(
            &conn,
            "SELECT user_id FROM sessions WHERE key_hash = ?1 AND expires_at >= ?2",
            params![&digest[..], now_secs()],
            |r| r.get(0),
        )
        .optional()?;
        if user.is_some() {
            conn.execute(
                "UPDATE sessions SET expires_at = ?2 WHERE key_hash = ?1",
                params![&digest[..], now_secs() + ttl_secs],
            )?;
        }
        Ok(user)
    }

    /// Ends a session; true if there was one.
    pub fn expire_session(&self, key: &str) -> Result<bool> {
        let n = self.conn().execute("DELETE FROM sessions WHERE key_hash = ?1", [&token_digest(key)[..]])?;
        Ok(n > 0)
    }
}
