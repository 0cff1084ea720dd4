//! The error of running a program.

/// A runtime error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub message: String,
}

pub type EvalResult<T> = Result<T, EvalError>;

pub(crate) fn err<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError { message: message.into() })
}
