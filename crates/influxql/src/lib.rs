//! InfluxQL, the query language of InfluxDB 1.x that 2.x answers on `/query`.
//!
//! [`lexer`] turns text into tokens as InfluxDB's scanner does (positions,
//! escapes, durations, comments, keywords case-insensitively), so that errors
//! read as InfluxDB writes them: `found X, expected Y at line 1, char 8`.

pub mod ast;
mod condition;
mod context;
mod delete;
mod error;
pub mod exec;
mod explain;
mod function;
pub mod lexer;
pub mod parser;
pub mod result;
mod select;
mod show;
mod value;

pub use context::{Context, Options, RetentionPolicy};
pub use error::{Error, Result};
pub use exec::execute;
pub use lexer::{Keyword, Pos, Scanner, Token};
pub use parser::{Param, ParseError, parse_expr, parse_query, parse_query_with};
pub use result::{Series, StatementResult, convert_epoch, response_chunks, response_csv, response_json};
