//! What can go wrong running InfluxQL, by what a caller can do about it.
//!
//! Every variant keeps InfluxDB's own words as its message: clients read
//! them, and the end-to-end tests compare them word for word with 1.6.7's.
//! A statement's error is written inside its result (`"error": "..."`);
//! where a whole request fails, the server picks its status by the variant,
//! never by the wording. Parse errors are [`crate::ParseError`]s.

use serde::{Serialize, Serializer};

/// An InfluxQL error, by kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The statement or its input is wrong: no database named, a function
    /// given arguments it does not take, a bad time or regular expression.
    #[error("{0}")]
    Invalid(String),
    /// A statement that InfluxDB 2.x parses but does not run (`SHOW USERS`,
    /// `SELECT INTO`, ...): the message is its name.
    #[error("not implemented: {0}")]
    NotImplemented(String),
    /// What the statement names does not exist: a database without a
    /// default retention policy, a retention policy.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not read or write what the statement names.
    #[error("{0}")]
    Unauthorized(String),
    /// The statement would go past a limit of the server's.
    #[error("{0}")]
    ResourcesExhausted(String),
    /// Storage or metadata failed, or one of our own invariants broke.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }
}

/// A storage error is the query's fault only where storage says so.
impl From<storage::Error> for Error {
    fn from(e: storage::Error) -> Self {
        match e {
            storage::Error::Invalid(message) => Self::Invalid(message),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// A regular expression of the query that does not compile.
impl From<regex::Error> for Error {
    fn from(e: regex::Error) -> Self {
        Self::Invalid(e.to_string())
    }
}

/// As v1 JSON writes a statement's error: its message.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
