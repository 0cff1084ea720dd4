//! The error of running a program, by what a caller can do about it.
//!
//! Every variant keeps the message text InfluxDB (or Flux) gives, so that
//! clients matching texts keep working; the variant says which kind of failure
//! it is, and the server turns kinds into statuses in one place (a message's
//! wording never decides).

/// A runtime error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The program or its data is wrong: a bad argument, a type that does not
    /// fit, a failed assertion, a value that does not convert.
    #[error("{0}")]
    Invalid(String),
    /// Something the program names does not exist (a bucket).
    #[error("{0}")]
    NotFound(String),
    /// The query's authorization does not allow it (a secret: 2.7's
    /// authorizer answers 401 `... is unauthorized`).
    #[error("{0}")]
    Unauthorized(String),
    /// The query may not do what it asks (`to()` a bucket it may not write:
    /// 2.7 answers 403 `user not authorized to write`).
    #[error("{0}")]
    Forbidden(String),
    /// The query went past one of its limits: memory, time, the queue.
    #[error("{0}")]
    ResourcesExhausted(String),
    /// A server the program called failed, refused, or could not be reached.
    #[error("{0}")]
    Remote(String),
    /// oxiflux itself failed (storage, an invariant): not the program's fault.
    #[error("{0}")]
    Internal(String),
}

pub type EvalResult<T> = Result<T, EvalError>;

impl EvalError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn resources_exhausted(message: impl Into<String>) -> Self {
        Self::ResourcesExhausted(message.into())
    }

    pub fn remote(message: impl Into<String>) -> Self {
        Self::Remote(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// The message, as InfluxDB words it.
    pub fn message(&self) -> &str {
        match self {
            Self::Invalid(m)
            | Self::NotFound(m)
            | Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::ResourcesExhausted(m)
            | Self::Remote(m)
            | Self::Internal(m) => m,
        }
    }

    /// The same kind of error with its message rewritten (a prefix naming
    /// where it happened, say).
    pub fn map_message(self, f: impl FnOnce(&str) -> String) -> Self {
        let message = f(self.message());
        match self {
            Self::Invalid(_) => Self::Invalid(message),
            Self::NotFound(_) => Self::NotFound(message),
            Self::Unauthorized(_) => Self::Unauthorized(message),
            Self::Forbidden(_) => Self::Forbidden(message),
            Self::ResourcesExhausted(_) => Self::ResourcesExhausted(message),
            Self::Remote(_) => Self::Remote(message),
            Self::Internal(_) => Self::Internal(message),
        }
    }

    /// The same error as `<prefix>: <message>`.
    pub fn context(self, prefix: impl std::fmt::Display) -> Self {
        self.map_message(|m| format!("{prefix}: {m}"))
    }
}

/// An invalid-input error, as the `Err` of a result.
pub(crate) fn err<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError::invalid(message))
}
