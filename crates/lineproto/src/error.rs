use std::fmt;

/// What was wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("missing measurement")]
    MissingMeasurement,
    #[error("missing fields")]
    MissingFields,
    #[error("missing tag key")]
    MissingTagKey,
    #[error("missing tag value")]
    MissingTagValue,
    #[error("missing field key")]
    MissingFieldKey,
    #[error("missing field value")]
    MissingFieldValue,
    /// A field key without `=` and a value (2.7's words).
    #[error("invalid field format")]
    InvalidFieldFormat,
    #[error("invalid character {0:?} in a measurement, tag key or field key")]
    InvalidCharacter(char),
    #[error("invalid UTF-8")]
    InvalidUtf8,
    #[error("unbalanced quotes")]
    UnbalancedQuotes,
    #[error("invalid field value: {0}")]
    InvalidFieldValue(&'static str),
    #[error("value out of range")]
    OutOfRange,
    #[error("bad timestamp")]
    BadTimestamp,
    #[error("timestamp out of range")]
    TimestampOutOfRange,
    #[error("unexpected text after the timestamp")]
    TrailingText,
    #[error("duplicate tags")]
    DuplicateTags,
    #[error("line longer than 4 GiB")]
    LineTooLong,
}

/// A line that could not be parsed: where, what, and the line itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number within the body.
    pub line: usize,
    /// 1-based byte column within the line.
    pub column: usize,
    pub kind: ErrorKind,
    /// The offending line (cut to 256 bytes).
    pub text: String,
}

impl fmt::Display for ParseError {
    /// As InfluxDB words it, `unable to parse '<line>': <fault>`, with the position.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unable to parse '{}': {} (line {}, column {})", self.text, self.kind, self.line, self.column)
    }
}

impl std::error::Error for ParseError {}
