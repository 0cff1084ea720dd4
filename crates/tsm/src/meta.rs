//! The 1.x `meta/meta.db`: one protobuf `Data` message (InfluxDB's
//! `services/meta/internal/meta.proto`) with the databases, their retention
//! policies and shard groups, the continuous queries and the users. Only the
//! fields an upgrade needs are declared; the rest are skipped.

use std::path::Path;

use prost::Message;

use crate::{Error, Result};

#[derive(Clone, PartialEq, Message)]
pub struct Data {
    #[prost(message, repeated, tag = "5")]
    pub databases: Vec<Database>,
    #[prost(message, repeated, tag = "6")]
    pub users: Vec<User>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Database {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(string, required, tag = "2")]
    pub default_retention_policy: String,
    #[prost(message, repeated, tag = "3")]
    pub retention_policies: Vec<RetentionPolicy>,
    #[prost(message, repeated, tag = "4")]
    pub continuous_queries: Vec<ContinuousQuery>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RetentionPolicy {
    #[prost(string, required, tag = "1")]
    pub name: String,
    /// Nanoseconds; 0 keeps data forever.
    #[prost(int64, required, tag = "2")]
    pub duration: i64,
    #[prost(int64, required, tag = "3")]
    pub shard_group_duration: i64,
    #[prost(uint32, required, tag = "4")]
    pub replica_n: u32,
    #[prost(message, repeated, tag = "5")]
    pub shard_groups: Vec<ShardGroup>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ShardGroup {
    #[prost(uint64, required, tag = "1")]
    pub id: u64,
    #[prost(int64, required, tag = "2")]
    pub start_time: i64,
    #[prost(int64, required, tag = "3")]
    pub end_time: i64,
    /// Nanoseconds since the epoch; 0 when the group is not deleted.
    #[prost(int64, required, tag = "4")]
    pub deleted_at: i64,
    #[prost(message, repeated, tag = "5")]
    pub shards: Vec<Shard>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Shard {
    #[prost(uint64, required, tag = "1")]
    pub id: u64,
}

#[derive(Clone, PartialEq, Message)]
pub struct ContinuousQuery {
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(string, required, tag = "2")]
    pub query: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct User {
    #[prost(string, required, tag = "1")]
    pub name: String,
    /// bcrypt, as 1.x hashes passwords.
    #[prost(string, required, tag = "2")]
    pub hash: String,
    #[prost(bool, required, tag = "3")]
    pub admin: bool,
    #[prost(message, repeated, tag = "4")]
    pub privileges: Vec<UserPrivilege>,
}

#[derive(Clone, PartialEq, Message)]
pub struct UserPrivilege {
    #[prost(string, required, tag = "1")]
    pub database: String,
    /// InfluxQL's privilege: see [`Privilege`].
    #[prost(int32, required, tag = "2")]
    pub privilege: i32,
}

/// What a 1.x user may do on a database (InfluxQL's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    None,
    Read,
    Write,
    All,
}

impl UserPrivilege {
    pub fn privilege(&self) -> Privilege {
        match self.privilege {
            1 => Privilege::Read,
            2 => Privilege::Write,
            3 => Privilege::All,
            _ => Privilege::None,
        }
    }
}

impl Data {
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::decode(bytes.as_slice()).map_err(|e| Error::corrupt(format!("{}: {e}", path.display())))
    }
}
