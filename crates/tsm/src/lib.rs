//! What InfluxDB 1.x and 2.x keep on disk, read without InfluxDB: TSM files
//! (their index and blocks, every value type), the tombstones beside them,
//! WAL segments, the 1.x `meta.db`, and a whole shard read as the server
//! that wrote it would answer (files, tombstones and log merged, the later
//! write winning). `oxiflux upgrade` and `oxiflux import-backup` read through
//! it; nothing here writes.
//!
//! The formats are InfluxDB's (`tsdb/engine/tsm1`, `services/meta`); the
//! code is our own.

pub mod codec;
pub mod file;
pub mod key;
pub mod meta;
pub mod shard;
pub mod tombstone;
pub mod wal;

pub use codec::Kind;
pub use file::TsmFile;
pub use shard::Shard;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// The bytes are not what the format says they must be.
    #[error("corrupt: {0}")]
    Corrupt(String),
}

impl Error {
    pub(crate) fn corrupt(why: impl Into<String>) -> Self {
        Error::Corrupt(why.into())
    }

    pub(crate) fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        Error::Io { path: path.display().to_string(), error }
    }

    /// The same error, saying which file it was found in.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        match self {
            Error::Corrupt(why) => Error::Corrupt(format!("{}: {why}", path.display())),
            other => other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A key's values with their times.
pub type Timed = Vec<(i64, Value)>;

/// One value of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(String),
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::Float(_) => Kind::Float,
            Value::Integer(_) => Kind::Integer,
            Value::Unsigned(_) => Kind::Unsigned,
            Value::Boolean(_) => Kind::Boolean,
            Value::String(_) => Kind::String,
        }
    }
}

/// A block's values, all of one type.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    Boolean(Vec<bool>),
    String(Vec<String>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Float(v) => v.len(),
            Values::Integer(v) => v.len(),
            Values::Unsigned(v) => v.len(),
            Values::Boolean(v) => v.len(),
            Values::String(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values one by one.
    pub fn into_values(self) -> Vec<Value> {
        match self {
            Values::Float(v) => v.into_iter().map(Value::Float).collect(),
            Values::Integer(v) => v.into_iter().map(Value::Integer).collect(),
            Values::Unsigned(v) => v.into_iter().map(Value::Unsigned).collect(),
            Values::Boolean(v) => v.into_iter().map(Value::Boolean).collect(),
            Values::String(v) => v.into_iter().map(Value::String).collect(),
        }
    }
}
