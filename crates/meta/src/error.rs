use thiserror::Error;

/// What can go wrong in the metadata store. Each variant matches one of
/// InfluxDB's error codes, so `server` can map it to the wire without guessing.
#[derive(Debug, Error)]
pub enum Error {
    /// The resource does not exist (InfluxDB `not found`).
    #[error("{0}")]
    NotFound(String),
    /// A unique name or token is taken (InfluxDB `conflict`, sent as 422).
    #[error("{0}")]
    Conflict(String),
    /// The request makes no sense (InfluxDB `invalid`, 400).
    #[error("{0}")]
    Invalid(String),
    /// The request is well formed but cannot be applied (InfluxDB `unprocessable entity`).
    #[error("{0}")]
    Unprocessable(String),
    /// Credentials did not match.
    #[error("unauthorized access")]
    Unauthorized,
    #[error("metadata store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("metadata store: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
}

/// Turns a UNIQUE violation into a conflict with the given message; leaves other errors alone.
pub(crate) fn on_unique(err: rusqlite::Error, msg: impl FnOnce() -> String) -> Error {
    match &err {
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            Error::Conflict(msg())
        }
        _ => Error::Sqlite(err),
    }
}
