//! InfluxQL, the query language of InfluxDB 1.x that 2.x answers on `/query`.
//!
//! [`lexer`] turns text into tokens as InfluxDB's scanner does (positions,
//! escapes, durations, comments, keywords case-insensitively), so that errors
//! read as InfluxDB writes them: `found X, expected Y at line 1, char 8`.

pub mod lexer;

pub use lexer::{Keyword, Pos, Scanner, Token};
