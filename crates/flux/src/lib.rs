//! Flux, the language of InfluxDB 2.x: syntax first.
//!
//! [`parse`] turns source text into an [`ast::Package`] whose JSON form (serde)
//! is the shape `POST /api/v2/query/ast` returns in InfluxDB: node types named
//! as in Flux, each with its `location` (line and column, 1-based, and the
//! source text it spans). Syntax errors carry line and column.
//!
//! Not yet here: semantic checks, the runtime and the standard library (later
//! slices of the Flux issue).

pub mod ast;
mod lexer;
mod parser;

pub use lexer::Position;
pub use parser::{ParseError, parse, parse_file};
