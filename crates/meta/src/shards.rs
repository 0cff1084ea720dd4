//! Shard IDs. InfluxDB 2.x's backup protocol names the data it moves by
//! shard; here a shard is one bucket's shard group (every measurement of one
//! time window), and its ID a small number given the first time a backup or
//! a restore names it, the same ever after.

use rusqlite::{OptionalExtension, params};

use crate::{Id, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: u64,
    pub bucket_id: Id,
    /// The window's start and length, in nanoseconds.
    pub start: i64,
    pub duration: i64,
}

impl Store {
    /// The shard of `bucket` whose window starts at `start`, numbered now if
    /// it has no number yet.
    pub fn shard(&self, bucket: Id, start: i64, duration: i64) -> Result<Shard> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO shards (bucket_id, start_ns, duration_ns) VALUES (?1, ?2, ?3)
                 ON CONFLICT (bucket_id, start_ns) DO NOTHING",
                params![bucket, start, duration],
            )?;
            let (id, duration) = tx.query_row(
                "SELECT id, duration_ns FROM shards WHERE bucket_id = ?1 AND start_ns = ?2",
                params![bucket, start],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )?;
            Ok(Shard { id: id as u64, bucket_id: bucket, start, duration })
        })
    }

    /// The shard numbered `id`, if any (and its bucket still exists).
    pub fn find_shard(&self, id: u64) -> Result<Option<Shard>> {
        let Ok(key) = i64::try_from(id) else { return Ok(None) };
        let conn = self.conn();
        let found = conn
            .query_row("SELECT bucket_id, start_ns, duration_ns FROM shards WHERE id = ?1", [key], |r| {
                Ok(Shard { id, bucket_id: r.get(0)?, start: r.get(1)?, duration: r.get(2)? })
            })
            .optional()?;
        Ok(found)
    }
}
