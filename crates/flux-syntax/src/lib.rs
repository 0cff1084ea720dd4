//! Flux's syntax: source text to an abstract syntax tree, and nothing else.
//!
//! [`parse`] turns source text into an [`ast::Package`] whose JSON form (serde)
//! is the shape `POST /api/v2/query/ast` returns in InfluxDB: node types named
//! as in Flux, each with its `location` (line and column, 1-based, and the
//! source text it spans). A syntax error carries its line and column and reads
//! as Flux writes it (`error @1:5: ...`).
//!
//! Not here: what a program means. Names, types and values are the runtime's
//! (`flux-runtime`); this crate depends on nothing of Flux, so tools that only
//! read scripts (the task scheduler reading `option task`) need no more.

pub mod ast;
pub mod format;
pub mod json;
mod lexer;
mod parser;

pub use lexer::Position;
pub use parser::{ParseError, parse, parse_file};
