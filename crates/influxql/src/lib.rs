//! InfluxQL, the query language of InfluxDB 1.x that 2.x answers on `/query`:
//! text to statements, statements to series, series to v1 JSON or CSV.
//!
//! It answers as InfluxDB does, error texts included (the tests hold them
//! against 1.6.7's word for word); it reads data only through [`Context`]
//! (DBRP mappings and storage's read API), and knows nothing of HTTP: an
//! [`Error`]'s kind is for the server to map to a status.
//!
//! Each module imports only those listed after it:
//! - [`exec`] runs a query's statements: `SELECT` in `select`, the schema
//!   statements in `show`, `DELETE` and `DROP MEASUREMENT` in `delete`,
//!   `EXPLAIN` in `explain`;
//! - `function`: the math functions and transformations that `select` calls;
//! - the vocabulary they share: `context` ([`Context`], [`Options`]),
//!   `condition` (a `WHERE`'s time bounds and tag predicate), `value` (the
//!   values computed with), [`result`] (v1 JSON and CSV), [`Error`];
//! - [`parser`] and [`lexer`], which make the [`ast`]. The lexer turns text
//!   into tokens as InfluxDB's scanner does (positions, escapes, durations,
//!   comments, keywords case-insensitively), so that parse errors read as
//!   InfluxDB writes them: `found X, expected Y at line 1, char 8`.

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
