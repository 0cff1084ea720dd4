//! InfluxDB line protocol: a zero-copy parser and a writer.
//!
//! [`parse`] walks a request body and yields one [`Line`] per point, borrowing
//! every name and value from the body: nothing is copied unless a token holds
//! an escape sequence, and then only when [`Token::unescaped`] is asked for it.
//! A line's [`Line::series_key`] is the measurement and tag set exactly as
//! written, so a caller can recognise a series it has seen before by those
//! bytes alone, without looking at the tags again.
//!
//! A caller that keeps a whole body parsed (to check it all before using any
//! of it, then to use it) keeps it as [`Points`]: offsets into the body, the
//! tags and fields of all lines in one array each, smaller than the body.
//!
//! The accepted syntax is that of `reference/line-protocol/line-protocol.md`,
//! held to the line-protocol corpus (`tests/corpus.rs`), which lists where we
//! follow InfluxDB 2.7 instead. Errors name the line, the column and the fault.
//!
//! Not here: what a point means to storage (types per shard, retention).

mod error;
mod line;
mod parser;
mod point;
mod points;
mod precision;
mod writer;

pub use error::{ErrorKind, ParseError};
pub use line::{Escapes, FieldValue, KeyEscapes, Line, MeasurementEscapes, StringEscapes, Token};
pub use parser::{Lines, parse};
pub use point::{Fields, PointRef, Tags};
pub use points::{Iter, Points};
pub use precision::Precision;
pub use writer::{write_line, write_line_to};

/// A string field value to hand to the writer: plain, unescaped text.
pub fn string_value(s: &str) -> FieldValue<'_> {
    FieldValue::String(Token::new(s))
}
