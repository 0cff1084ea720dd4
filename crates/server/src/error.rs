//! The InfluxDB wire error, made here and nowhere else: `{"code","message"}`
//! with the status InfluxDB maps each code to, and `X-Platform-Error-Code`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// InfluxDB's error codes (`kit/platform/errors`), each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Internal,
    NotImplemented,
    NotFound,
    Conflict,
    Invalid,
    Unprocessable,
    EmptyValue,
    Unavailable,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    MethodNotAllowed,
    TooLarge,
    UnsupportedMediaType,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Internal => "internal error",
            Code::NotImplemented => "not implemented",
            Code::NotFound => "not found",
            Code::Conflict => "conflict",
            Code::Invalid => "invalid",
            Code::Unprocessable => "unprocessable entity",
            Code::EmptyValue => "empty value",
            Code::Unavailable => "unavailable",
            Code::Forbidden => "forbidden",
            Code::TooManyRequests => "too many requests",
            Code::Unauthorized => "unauthorized",
            Code::MethodNotAllowed => "method not allowed",
            Code::TooLarge => "request too large",
            Code::UnsupportedMediaType => "unsupported media type",
        }
    }

    /// InfluxDB's status map: note a conflict is 422, not 409.
    pub fn status(self) -> StatusCode {
        match self {
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Conflict | Code::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Code::Invalid | Code::EmptyValue => StatusCode::BAD_REQUEST,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }
}

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::Invalid, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Code::Unauthorized, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::Internal, message)
    }
    /// The error as the step that failed words it, keeping the cause's code:
    /// `failed to find task: task not found`, as 2.7's wrapped errors read.
    pub fn context(self, step: &str) -> Self {
        Self { code: self.code, message: format!("{step}: {}", self.message) }
    }
}

/// Adds [`ApiError::context`] to a result.
pub trait Context<T> {
    fn context(self, step: &str) -> ApiResult<T>;
}

impl<T> Context<T> for ApiResult<T> {
    fn context(self, step: &str) -> ApiResult<T> {
        self.map_err(|e| e.context(step))
    }
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.code == Code::Internal {
            tracing::error!(message = %self.message, "internal error");
        }
        let body = Body { code: self.code.as_str(), message: &self.message };
        let mut resp = (self.code.status(), axum::Json(body)).into_response();
        resp.headers_mut().insert("X-Platform-Error-Code", HeaderValue::from_static(self.code.as_str()));
        resp
    }
}

/// A Flux runtime error with the code InfluxDB 2.7 answers its kind with
/// (`query/control`'s `handleFluxError`: NotFound, Invalid; ResourceExhausted
/// and Canceled as invalid "until influxdb error codes are updated";
/// PermissionDenied and Unauthenticated; anything else internal).
impl From<flux::EvalError> for ApiError {
    fn from(e: flux::EvalError) -> Self {
        use flux::EvalError as E;
        match e {
            E::Invalid(m) | E::ResourcesExhausted(m) => Self::invalid(m),
            // A query's buckets are looked up as its execution state is made, and 2.7 says so.
            E::NotFound(m) => Self::not_found(format!("failed to initialize execute state: {m}")),
            E::Unauthorized(m) => Self::unauthorized(m),
            E::Forbidden(m) => Self::forbidden(m),
            E::Remote(m) | E::Internal(m) => Self::internal(m),
        }
    }
}

/// A write the one write path did not store, as `/api/v2/write` answers it.
impl From<crate::ingest::IngestError> for ApiError {
    fn from(e: crate::ingest::IngestError) -> Self {
        use crate::ingest::IngestError as E;
        match e {
            E::Invalid(e) => Self::invalid(e.to_string()),
            e @ E::QueueFull(_) => Self::new(Code::Unavailable, e.to_string()),
            E::Storage(e) => Self::internal(format!("unexpected error writing points to database: {e}")),
        }
    }
}

/// The 2.x code, and so the status, of an InfluxQL error that fails a whole
/// `/query` request (a statement's own error is answered inside its result).
impl From<&influxql::Error> for Code {
    fn from(e: &influxql::Error) -> Self {
        use influxql::Error as E;
        match e {
            E::Invalid(_) => Code::Invalid,
            E::NotImplemented(_) => Code::NotImplemented,
            E::NotFound(_) => Code::NotFound,
            E::Unauthorized(_) => Code::Unauthorized,
            E::ResourcesExhausted(_) => Code::TooManyRequests,
            E::Internal(_) => Code::Internal,
        }
    }
}

impl From<meta::Error> for ApiError {
    fn from(e: meta::Error) -> Self {
        use meta::Error as E;
        match e {
            E::NotFound(m) => Self::new(Code::NotFound, m),
            E::Conflict(m) => Self::new(Code::Conflict, m),
            E::Invalid(m) => Self::new(Code::Invalid, m),
            E::Unprocessable(m) => Self::new(Code::Unprocessable, m),
            E::Unauthorized => Self::unauthorized("unauthorized access"),
            e @ (E::Sqlite(_) | E::Internal(_)) => Self::internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flux_error_kind_gets_the_status_influxdb_gives_it() {
        use flux::EvalError as E;
        let cases = [
            (E::invalid("bad"), StatusCode::BAD_REQUEST, "invalid", "bad"),
            (
                E::not_found("could not find bucket \"b\""),
                StatusCode::NOT_FOUND,
                "not found",
                "failed to initialize execute state: could not find bucket \"b\"",
            ),
            (
                E::unauthorized("read:orgs/1/secrets is unauthorized"),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "read:orgs/1/secrets is unauthorized",
            ),
            (
                E::resources_exhausted("memory allocation limit reached"),
                StatusCode::BAD_REQUEST,
                "invalid",
                "memory allocation limit reached",
            ),
            (E::remote("cannot connect"), StatusCode::INTERNAL_SERVER_ERROR, "internal error", "cannot connect"),
            (
                E::internal("reading storage: io"),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
                "reading storage: io",
            ),
        ];
        for (e, status, code, message) in cases {
            let api = ApiError::from(e.clone());
            assert_eq!((api.code.status(), api.code.as_str(), api.message.as_str()), (status, code, message), "{e:?}");
        }
    }
}
